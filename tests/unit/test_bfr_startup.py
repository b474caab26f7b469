"""Issue 15.5: a killed kernel's recording and BFR session are marked interrupted at start-up."""

from __future__ import annotations

import datetime as dt

from workbench.bfr.audit import AuditLog, mark_stale_bfr_sessions_interrupted
from workbench.cli import main
from workbench.store import open_store


def _athlete(store) -> None:
    store.write(
        "athletes",
        [{"athlete_id": "a1", "name": "A", "sex": "F", "birth_date": dt.date(2000, 1, 1),
          "sport": "rowing"}],
    )  # fmt: skip


def test_lab_start_up_marks_a_killed_kernels_rows_interrupted(sqlite_url, monkeypatch, capsys):
    monkeypatch.setenv("WORKBENCH_DB_URL", sqlite_url)
    store = open_store(sqlite_url)
    _athlete(store)
    rid = store.create_recording("HRV live", athlete_id="a1")  # the kernel died: never finished
    audit = AuditLog.start(store, athlete_id="a1", limb="leg", side="right", cuff_id="c1", t0_s=0.0)
    audit._stop.set()  # the writer thread dies with the kernel; the rows stay "running"
    done = store.create_recording("finished", athlete_id="a1")
    store.finish_recording(done, "complete")
    assert store.bfr_sessions()["status"].tolist() == ["running"]
    store.close()

    assert main(["lab", "--dry-run", "--no-demo"]) == 0
    assert "marked interrupted" in capsys.readouterr().out

    store = open_store(sqlite_url)
    recs = store.recordings().set_index("recording_id")["status"]
    assert recs[rid] == "interrupted"
    assert recs[audit.recording_id] == "interrupted"
    assert recs[done] == "complete"
    assert store.bfr_sessions()["status"].tolist() == ["interrupted"]
    store.close()


def test_mark_stale_bfr_sessions_keeps_the_listed_ones(sqlite_url):
    store = open_store(sqlite_url)
    _athlete(store)
    a = AuditLog.start(store, athlete_id="a1", limb="leg", side="right", cuff_id="c1", t0_s=0.0)
    b = AuditLog.start(store, athlete_id="a1", limb="arm", side="left", cuff_id="c2", t0_s=0.0)
    a._stop.set()
    b._stop.set()
    assert mark_stale_bfr_sessions_interrupted(store, keep=[b.session_id]) == [a.session_id]
    st = store.bfr_sessions().set_index("session_id")["status"]
    assert st[a.session_id] == "interrupted" and st[b.session_id] == "running"
    store.close()
