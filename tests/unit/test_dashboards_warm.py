"""Issue 13 item 6: `workbench dashboard` reports ready only when the preheated kernels have
run the dashboard notebooks (the first coach visit gets a warm kernel)."""

from __future__ import annotations

import threading
import time

from workbench.dashboards.warm import mark_ready, wait_until_warm


def test_mark_ready_only_in_a_preheated_kernel(tmp_path, monkeypatch):
    monkeypatch.setenv("WORKBENCH_DASHBOARD_READY_DIR", str(tmp_path))
    monkeypatch.delenv("VOILA_PREHEAT", raising=False)
    mark_ready("squad_overview")
    assert not (tmp_path / "squad_overview.ready").exists()  # a visit's own kernel
    monkeypatch.setenv("VOILA_PREHEAT", "True")
    mark_ready("squad_overview")
    assert (tmp_path / "squad_overview.ready").exists()


def test_wait_until_warm_waits_for_every_notebook(tmp_path):
    def later():
        time.sleep(0.3)
        (tmp_path / "sessions.ready").touch()
        time.sleep(0.3)
        (tmp_path / "squad_overview.ready").touch()

    threading.Thread(target=later).start()
    t0 = time.monotonic()
    cold = wait_until_warm(tmp_path, ["squad_overview", "sessions"], timeout_s=30, poll_s=0.02)
    assert cold == [] and time.monotonic() - t0 >= 0.55
    assert wait_until_warm(tmp_path, ["other"], timeout_s=0.1) == ["other"]
    assert wait_until_warm(tmp_path, ["other"], timeout_s=30, alive=lambda: False) == ["other"]


def test_dashboard_notebooks_mark_themselves_warm():
    """Every dashboard notebook Voilà preheats ends by marking itself ready; otherwise
    `workbench dashboard` would wait for its timeout."""
    import argparse

    import nbformat

    from workbench.dashboards.cli import dashboards_dir, preheated_notebooks

    args = argparse.Namespace(no_preheat=False, pool_size=1)
    names = preheated_notebooks(args)
    assert "squad_overview" in names
    for name in names:
        nb = nbformat.read(f"{dashboards_dir()}/{name}.ipynb", as_version=4)
        last = [c for c in nb.cells if c.cell_type == "code"][-1].source
        assert f'mark_ready("{name}")' in last
    assert preheated_notebooks(argparse.Namespace(no_preheat=True, pool_size=1)) == []
