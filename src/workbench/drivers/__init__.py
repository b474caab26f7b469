"""Live sources of samples with two clocks (device and host).

Modules (import what you need; nothing runs at import):

- :mod:`~workbench.drivers.base` – ``StreamInfo``, ``SampleBlock``, the ``Source`` protocol.
- :mod:`~workbench.drivers.parsers` – pure BLE payload parsers (no bleak).
- :mod:`~workbench.drivers.ble` – bleak drivers: ``HeartRateDriver``, ``PolarH10Driver``,
  ``MoxyDriver``, ``MyoDriver``, ``scan``.
- :mod:`~workbench.drivers.hub` – ``DeviceHub`` / ``get_hub``: the one loop thread.
- :mod:`~workbench.drivers.simulators` – pure generators (``simulate_rr``, ``simulate_ecg``,
  ``simulate_smo2``, ``simulate_emg``) and real-time simulator Sources.
- :mod:`~workbench.drivers.replay` – ``ReplaySource`` for stored recordings.
- :mod:`~workbench.drivers.lsl` – ``LslInlet``, ``LslOutlet``, ``LslRepublisher``.
"""
