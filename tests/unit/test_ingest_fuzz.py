"""Regressions from fuzzing ``workbench import`` (issue 14): one-line errors, re-import,
overlapping daily exports, --list-formats, impossible recordings, EMG not taken for RR."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from workbench import ingest
from workbench.cli import main
from workbench.errors import DataFormatError
from workbench.ingest import (
    AlreadyImportedError,
    ImportContext,
    ImportedRecording,
    ImportedStream,
    Importer,
    import_file,
)
from workbench.store import open_store

DATA = Path(__file__).resolve().parents[1] / "data"
WHOOP = DATA / "daily" / "whoop_physiological_cycles.csv"


@pytest.fixture
def db(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'fuzz.db'}"
    monkeypatch.setenv("WORKBENCH_DB_URL", url)
    s = open_store(url)
    s.write(
        "athletes",
        [{"athlete_id": "a1", "name": "A", "sex": "F", "birth_date": dt.date(2000, 1, 1),
          "sport": "rowing"}],
    )  # fmt: skip
    yield s
    s.close()


CTX = ImportContext(athlete_id="a1")


def test_same_file_twice_is_refused_and_nothing_duplicates(db, tmp_path, capsys):
    rr = tmp_path / "2024-03-02 07-01-30.txt"
    rr.write_text("\n".join(str(900 + (i % 7) * 5) for i in range(200)))
    assert import_file(db, rr, CTX) == {"hrv_readings": 1}
    with pytest.raises(AlreadyImportedError, match="already imported"):
        import_file(db, rr, CTX)
    copy = tmp_path / "copy.txt"  # same bytes under another name: same sha256
    copy.write_bytes(rr.read_bytes())
    with pytest.raises(AlreadyImportedError):
        import_file(db, copy, CTX)
    assert len(db.hrv_readings("a1")) == 1 and len(db.read("imports")) == 1
    assert main(["import", "--athlete", "a1", str(rr)]) == 0  # CLI: idempotent, says so
    assert "skipped" in capsys.readouterr().out


def _whoop_rows(lines: list[int], edit=None) -> str:  # noqa: ANN001
    text = WHOOP.read_text().splitlines()
    rows = [text[i] for i in lines]
    if edit:
        rows = [edit(r) for r in rows]
    return "\n".join([text[0], *rows]) + "\n"


def test_overlapping_daily_exports(db, tmp_path):
    a = tmp_path / "export_a.csv"
    a.write_text(_whoop_rows([1]))
    b = tmp_path / "export_b.csv"  # overlaps a on its first day, same values
    b.write_text(_whoop_rows([1, 2]))
    assert import_file(db, a, CTX) == {"wellness_daily": 1}
    res = import_file(db, b, CTX)
    assert res == {"wellness_daily": 1} and any("already stored" in n for n in res.notes)
    c = tmp_path / "export_c.csv"  # overlaps with a changed value: one line, nothing written
    c.write_text(_whoop_rows([2], edit=lambda r: r.replace(",55,44,", ",55,47,")))
    with pytest.raises(DataFormatError) as err:
        import_file(db, c, CTX)
    msg = str(err.value)
    assert "\n" not in msg and "INSERT" not in msg and "rmssd_ms" in msg
    assert "2026-09-06" in msg and len(db.wellness("a1")) == 2


def test_cli_overlap_prints_one_line_not_sql(db, tmp_path, capsys):
    a = tmp_path / "a.csv"
    a.write_text(_whoop_rows([1, 2]))
    c = tmp_path / "c.csv"
    c.write_text(_whoop_rows([1], edit=lambda r: r.replace(",52,58,", ",52,59,")))
    assert main(["import", "--athlete", "a1", str(a)]) == 0
    capsys.readouterr()
    assert main(["import", "--athlete", "a1", str(c)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and "INSERT" not in err and "Traceback" not in err


def test_list_formats_needs_no_file(capsys):
    assert main(["import", "--list-formats"]) == 0
    out = capsys.readouterr().out
    for name in ("wearable_daily", "nirs", "emg", "rr_text", "fit_rr", "biomarkers_csv"):
        assert name in out


def _bad_files(tmp: Path) -> dict[str, Path]:
    out = {}
    bio = tmp / "bio.csv"
    bio.write_text("date,marker,value,unit\n2024-03-01,ck,300,U/L\n-2024-01-01,ck,310,U/L\n")
    out["negative biomarker date"] = bio
    lines = (DATA / "nirs" / "mnirs__train.red_intervals.csv").read_text().splitlines()
    hdr = next(i for i, ln in enumerate(lines) if ln.startswith("Timestamp"))
    extra = list(lines)
    extra[hdr + 3] += ",9,9"
    out["Train.Red extra field"] = tmp / "tr_extra.csv"
    out["Train.Red extra field"].write_text("\n".join(extra) + "\n")
    cols = [c.strip().lower() for c in lines[hdr].split(",")]
    j = cols.index("lap/event")
    lap = list(lines)
    parts = lap[hdr + 4].split(",")
    parts[j] = "-inf"
    lap[hdr + 4] = ",".join(parts)
    out["lap of -inf"] = tmp / "tr_lap.csv"
    out["lap of -inf"].write_text("\n".join(lap) + "\n")
    cr = tmp / "cr.txt"
    cr.write_bytes(b"812\r790\rabc\r805\r")
    out["CR-only line endings"] = cr
    rr = tmp / "mixed.txt"
    rr.write_text("\n".join(["812", "790", "0.805"] * 30))
    out["RR in mixed units"] = rr
    return out


@pytest.mark.parametrize(
    "case",
    [
        "negative biomarker date",
        "Train.Red extra field",
        "lap of -inf",
        "CR-only line endings",
        "RR in mixed units",
    ],
)
def test_bad_files_give_one_line_errors(db, tmp_path, capsys, case):
    path = _bad_files(tmp_path)[case]
    assert main(["import", "--athlete", "a1", str(path)]) == 1
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and err.startswith("error:") and str(path) in err
    assert db.counts()["biomarkers"] == 0 and db.read("imports").empty


def test_unexpected_reader_exception_is_one_line(db, tmp_path):
    def boom(path, ctx):  # noqa: ANN001, ANN202
        raise OverflowError("signed integer is greater than maximum")

    imp = ingest.register(Importer("boom-test", "t", lambda p, h: h.startswith(b"BOOM"), boom, 99))
    try:
        f = tmp_path / "x.boom"
        f.write_text("BOOM\n")
        with pytest.raises(DataFormatError, match="OverflowError") as err:
            import_file(db, f, CTX)
        assert "\n" not in str(err.value)
    finally:
        ingest._REGISTRY.pop(imp.name)


def _probe(values: np.ndarray, fs: float, kind: str = "smo2"):  # noqa: ANN202
    def parse(path, ctx):  # noqa: ANN001, ANN202
        t = np.arange(len(values)) / 2.0
        stream = ImportedStream("s", kind, "probe", ["smo2_pct"], ["%"], fs, t, values)
        return {"recordings": [ImportedRecording("p", dt.datetime(2024, 1, 1), [stream])]}

    return parse


@pytest.mark.parametrize(
    ("values", "fs", "match"),
    [
        (np.array([60.0, np.inf, 58.0]), 2.0, "infinite"),
        (np.array([60.0, -3.0, 58.0]), 2.0, "outside 0-100"),
        (np.array([60.0, 59.0, 58.0]), 1e308, "sampling rate"),
        (np.array([60.0, 59.0, 58.0]), float("nan"), "sampling rate"),
    ],
)
def test_impossible_recordings_are_refused(db, tmp_path, values, fs, match):
    imp = ingest.register(Importer("probe-fuzz", "t", lambda p, h: h.startswith(b"PRB"),
                                   _probe(values, fs), 99))  # fmt: skip
    try:
        f = tmp_path / "x.prb"
        f.write_text("PRB\n")
        with pytest.raises(DataFormatError, match=match):
            import_file(db, f, CTX)
        assert db.counts()["recordings"] == 0
    finally:
        ingest._REGISTRY.pop(imp.name)


def test_opensignals_a1_is_imported_as_emg_not_heartbeats(db, tmp_path):
    rng = np.random.default_rng(0)
    f = tmp_path / "opensignals_A1.txt"
    hdr = {"sampling rate": 1000, "column": ["nSeq", "A1"], "label": ["A1"], "resolution": [4, 10]}
    f.write_text(
        "# OpenSignals Text File Format\n# " + json.dumps({"00:07:80:3B:46:61": hdr})
        + "\n# EndOfHeader\n"
        + "".join(f"{i % 16}\t{int(512 + 30 * rng.standard_normal())}\n" for i in range(5000))
    )  # fmt: skip
    res = import_file(db, f, CTX)
    assert res == {"recordings": 1} and res.format == "emg"
    assert db.hrv_readings("a1").empty
    assert any("does not name the sensor" in n for n in res.notes)


def test_import_summary_names_units_and_dead_channels(db, tmp_path):
    lines = (DATA / "nirs" / "mnirs__moxy_intervals.csv").read_text().splitlines()
    hdr = next(i for i, ln in enumerate(lines) if ln.startswith("mm-dd"))
    out = []
    for i, ln in enumerate(lines):
        if i > hdr and ln.strip():
            p = ln.split(",")
            p[2] = "0"
            ln = ",".join(p)
        out.append(ln)
    f = tmp_path / "moxy_dead_live.csv"
    f.write_text("\n".join(out) + "\n")
    res = import_file(db, f, CTX)
    text = "\n".join(res.notes)
    assert "smo2_pct [%]" in text and "SmO2 Averaged" in text and "dead SmO2 channel" in text
    oura = import_file(db, DATA / "daily" / "hrv4training_android_ydm_layout.csv", CTX)
    assert any("year-day-month" in n for n in oura.notes)


def test_chunked_biomarker_import_is_one_transaction(db, tmp_path, monkeypatch):
    import workbench.io.daily as daily

    monkeypatch.setattr(daily, "LONG_CHUNK_ROWS", 50)
    rows = [f"2024-01-{1 + i % 28:02d},ck,{200 + i},U/L" for i in range(400)]
    f = tmp_path / "bio.csv"
    f.write_text("date,marker,value,unit\n" + "\n".join(rows) + "\n")
    g = tmp_path / "bio_bad.csv"
    rows[350] = "2024-01-05,ck,,U/L"
    g.write_text("date,marker,value,unit\n" + "\n".join(rows) + "\n")
    with pytest.raises(DataFormatError, match="value is missing") as err:
        import_file(db, g, CTX)
    assert err.value.line == 352 and db.counts()["biomarkers"] == 0  # earlier chunks rolled back
    assert import_file(db, f, CTX) == {"biomarkers": 400}


def test_rr_import_memory_is_flat_in_a_subprocess(tmp_path):
    """Peak RSS of reading a 20 MB RR text stays far below the file's Python-object cost."""
    f = tmp_path / "rr.txt"
    rng = np.random.default_rng(2)
    np.savetxt(f, np.round(800 + 40 * rng.standard_normal(4_000_000)), fmt="%.0f")
    code = (
        "import resource, sys\n"
        "from workbench.io import read_rr\n"
        "base = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        f"rr = read_rr({str(f)!r})\n"
        "peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss\n"
        "print(rr.size, (peak - base) / 1024)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    n, grow_mb = out.stdout.split()
    assert int(n) == 4_000_000
    assert float(grow_mb) < 250  # 32 MB of float64 + one parser chunk; lines as objects: > 1 GB
