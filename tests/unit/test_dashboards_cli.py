"""``workbench dashboard``: loopback by default, token required elsewhere, preheated kernels;
the squad table and drill-down without a browser."""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import pytest

from workbench.cli import main
from workbench.dashboards.cli import voila_command
from workbench.demo import generate_demo
from workbench.store import open_store


def ns(**kw) -> argparse.Namespace:
    base = dict(
        port=8866, ip="127.0.0.1", token=None, pool_size=1, no_preheat=False, dry_run=True, db=None
    )
    base.update(kw)
    return argparse.Namespace(**base)


def test_loopback_default_with_preheated_kernels():
    cmd = voila_command(ns())
    assert "--Voila.ip=127.0.0.1" in cmd
    assert "--preheat_kernel=True" in cmd and "--pool_size=1" in cmd
    assert cmd[-1].endswith("notebooks/dashboards")
    assert not any(c.startswith("--token") for c in cmd)


def test_other_address_needs_a_token():
    from workbench.dashboards.cli import voila_environment

    with pytest.raises(ValueError, match="token"):
        voila_command(ns(ip="0.0.0.0"), environ={})
    cmd = voila_command(ns(ip="0.0.0.0", token="s3cret"), environ={})
    assert "--Voila.ip=0.0.0.0" in cmd and "--Voila.auto_token=True" in cmd
    assert not any("s3cret" in c for c in cmd)  # argv is world-readable (ps)
    assert voila_environment(ns(ip="0.0.0.0", token="s3cret"), environ={})["JUPYTER_TOKEN"] == (
        "s3cret"
    )


def test_token_from_environment_or_file_never_in_argv(tmp_path):
    """Issue 15 item 8: the token can come from the environment or a file, not only argv."""
    from workbench.dashboards.cli import voila_environment

    env = {"WORKBENCH_DASHBOARD_TOKEN": "from-env-9f2", "PATH": "/usr/bin"}
    cmd = voila_command(ns(ip="0.0.0.0"), environ=env)
    assert "--Voila.auto_token=True" in cmd and not any("from-env-9f2" in c for c in cmd)
    child = voila_environment(ns(ip="0.0.0.0"), environ=env)
    assert child["JUPYTER_TOKEN"] == "from-env-9f2" and "WORKBENCH_DASHBOARD_TOKEN" not in child
    secret = tmp_path / "token"
    secret.write_text("from-file-77a\n")
    args = ns(ip="0.0.0.0", token_file=str(secret))
    cmd = voila_command(args, environ={})
    assert not any("from-file-77a" in c for c in cmd)
    assert voila_environment(args, environ={})["JUPYTER_TOKEN"] == "from-file-77a"
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ValueError, match="empty"):
        voila_command(ns(ip="0.0.0.0", token_file=str(tmp_path / "empty")), environ={})
    # without a token, a JUPYTER_TOKEN inherited from the shell does not leak into Voila
    assert "JUPYTER_TOKEN" not in voila_environment(ns(), environ={"JUPYTER_TOKEN": "x"})


def test_cli_token_file_and_env(tmp_path, capsys, monkeypatch):
    secret = tmp_path / "token"
    secret.write_text("file-secret-31")
    assert main(["dashboard", "--dry-run", "--ip", "0.0.0.0", "--token-file", str(secret)]) == 0
    out = capsys.readouterr()
    assert "--Voila.ip=0.0.0.0" in out.out and "file-secret-31" not in out.out + out.err
    monkeypatch.setenv("WORKBENCH_DASHBOARD_TOKEN", "env-secret-58")
    assert main(["dashboard", "--dry-run", "--ip", "0.0.0.0"]) == 0
    assert "env-secret-58" not in capsys.readouterr().out


def _ppid(proc_dir: Path) -> int | None:
    try:
        return int((proc_dir / "stat").read_text().rsplit(")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError):
        return None


def test_served_dashboard_takes_the_token_from_the_environment(tmp_path):
    """A real Voila started by `workbench dashboard`: the token is not in its command line,
    a request without it is refused and one with it is served."""
    import http.client
    import os
    import socket
    import subprocess
    import sys
    import time

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = dict(os.environ, WORKBENCH_DASHBOARD_TOKEN="live-token-4c1")
    args = ["dashboard", "--port", str(port), "--no-preheat", "--ip", "127.0.0.1"]
    proc = subprocess.Popen(
        [sys.executable, "-m", "workbench", *args],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )

    def get(path: str) -> tuple[int, str]:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", path)
            resp = conn.getresponse()
            return resp.status, resp.getheader("Location") or ""
        finally:
            conn.close()

    try:
        deadline = time.monotonic() + 120  # Voila starts in 2-20 s on a busy 2-core machine
        status = None
        while time.monotonic() < deadline:
            try:
                status, _ = get("/voila/tree?token=live-token-4c1")
                break
            except OSError:
                time.sleep(0.3)
        assert status == 200
        pids = [proc.pid] + [
            int(p.name)
            for p in Path("/proc").iterdir()
            if p.name.isdigit() and _ppid(p) == proc.pid
        ]
        cmdlines = [(Path("/proc") / str(pid) / "cmdline").read_bytes() for pid in pids]
        assert any(b"voila" in c for c in cmdlines)  # the server itself, a child process
        assert not any(b"live-token-4c1" in c for c in cmdlines)
        status, location = get("/voila/tree")
        assert status in (401, 403) or (status == 302 and "login" in location)
        status, location = get("/voila/tree?token=wrong")
        assert status in (401, 403) or (status == 302 and "login" in location)
    finally:
        proc.terminate()
        proc.wait(timeout=20)


def test_cli_refuses_and_dry_runs(capsys):
    assert main(["dashboard", "--ip", "192.168.1.5"]) == 2
    assert "refusing" in capsys.readouterr().err
    assert main(["dashboard", "--dry-run", "--port", "8899", "--token", "abc"]) == 0
    out = capsys.readouterr().out
    assert "--port=8899" in out and "abc" not in out  # the token is not echoed


def test_squad_dashboard_table_filter_and_drill_down(sqlite_url):
    from workbench.dashboards.squad import SquadDashboard

    with open_store(sqlite_url) as store:
        generate_demo(
            store, athletes=3, days=75, seed=3, end_date=dt.date(2026, 11, 22), recordings=False
        )
    d = SquadDashboard(sqlite_url)
    assert d.day == dt.date(2026, 11, 22)
    assert list(d.table["athlete_id"]) == ["ath01", "ath02", "ath03"]
    assert d.table["score"].between(0, 100).all()
    grid = d.rows.children[0]
    assert len(grid.children) == 2 * 4  # header + 3 athletes: a button and a row each
    d.group.value = "team"
    assert len(d.rows.children[0].children) == 2 * 2
    d.show_athlete("ath02")
    assert d.selected == "ath02"
    texts = " ".join(getattr(c, "value", "") for c in d.detail.children)
    assert "(ath02)" in texts and "Plan for next week" in texts
    plan = d.athlete_plan("ath02")
    assert plan.days["date"].iloc[0] == dt.date(2026, 11, 23)
    d.close_athlete()
    assert d.detail.children == () and d.selected is None
    with pytest.raises(Exception, match="unknown athlete"):
        d.show_athlete("nobody")
