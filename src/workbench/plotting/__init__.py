"""Pure algorithms behind the plots (no widgets, no I/O): decimation of sampled traces."""

from workbench.plotting.decimate import bin_decimate, minmax_decimate

__all__ = ["bin_decimate", "minmax_decimate"]
