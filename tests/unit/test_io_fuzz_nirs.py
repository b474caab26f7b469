"""Regressions from fuzzing the NIRS / EMG readers (issue 14) and unreadable real files
(issue 16 item 8): dead channels, decimals, non-finite values, one-line errors."""

from __future__ import annotations

import json
import struct
from pathlib import Path

import numpy as np
import pytest

from fit_builder import fit_file
from workbench.errors import DataFormatError
from workbench.io import read_nirs
from workbench.io.emg import read_emg_file, sniff_emg
from workbench.signals.smo2 import smo2_clean, smo2_kinetics

DATA = Path(__file__).parents[1] / "data" / "nirs"
MOXY = DATA / "mnirs__moxy_intervals.csv"


def _moxy_with(tmp_path: Path, edit, name: str = "moxy.csv") -> Path:  # noqa: ANN001
    lines = MOXY.read_text().splitlines()
    hdr = next(i for i, ln in enumerate(lines) if ln.startswith("mm-dd"))
    out = []
    for i, ln in enumerate(lines):
        if i > hdr and ln.strip():
            ln = edit(i - hdr, ln.split(","))
        out.append(ln)
    path = tmp_path / name
    path.write_text("\n".join(out) + "\n")
    return path


def _zero_live(k: int, parts: list[str]) -> str:
    parts[2] = "0"
    return ",".join(parts)


def test_all_zero_smo2_live_uses_smo2_averaged_and_kinetics_run(tmp_path):
    """Issue 16 item 8: an all-zero 'SmO2 Live' no longer breaks smo2_kinetics."""
    path = _moxy_with(tmp_path, _zero_live)
    df = read_nirs(path)
    ref = read_nirs(MOXY)
    assert df.attrs["dead_channels"] == {"SmO2 Live": "all zero"}
    assert "SmO2 Averaged" in df.attrs["substitutions"]["smo2_pct"]
    assert (df["smo2_pct"] > 0).mean() > 0.99 and not df["smo2_pct"].equals(ref["smo2_pct"] * 0)
    clean, _ = smo2_clean(df, sampling_rate_hz=df.attrs["sampling_rate_hz"])
    k = smo2_kinetics(clean, sampling_rate_hz=df.attrs["sampling_rate_hz"])
    assert len(k) == 4 and (k["desat_depth_pct"] > 20).all()


def test_a_dead_channel_without_alternative_is_flagged(tmp_path):
    def const(k: int, parts: list[str]) -> str:
        parts[2] = parts[3] = "63"
        return ",".join(parts)

    df = read_nirs(_moxy_with(tmp_path, const))
    assert df.attrs["dead_channels"]["smo2_pct"] == "constant at 63"
    assert df.attrs["substitutions"] == {}


def test_real_files_have_no_dead_channels():
    for name in ("mnirs__moxy_intervals.csv", "mnirs__train.red_intervals.csv"):
        assert read_nirs(DATA / name).attrs["dead_channels"] == {}, name


def test_vo2master_dot_decimals_are_not_thousands(tmp_path):
    path = tmp_path / "vo2m_dots.csv"
    path.write_text(
        "Time[s],Time[hh:mm:ss],HR[bpm],SmO2[%],THb[THb]\n"
        "1,00:00:01,130,57.53,12.4\n2,00:00:02,131,57.10,12.5\n3,00:00:03,131,56.85,12.4\n"
    )
    df = read_nirs(path)
    np.testing.assert_allclose(df["smo2_pct"], [57.53, 57.10, 56.85])
    np.testing.assert_allclose(df["thb_g_dl"], [12.4, 12.5, 12.4])


@pytest.mark.parametrize("value", ["-5", "105", "inf", "-inf"])
def test_impossible_smo2_is_refused(tmp_path, value):
    def bad(k: int, parts: list[str]) -> str:
        if k == 10:
            parts[2] = value
        return ",".join(parts)

    with pytest.raises(DataFormatError, match="outside 0-100|not a finite number") as err:
        read_nirs(_moxy_with(tmp_path, bad))
    assert err.value.field == "smo2_pct"


def test_vo2master_inf_and_nan(tmp_path):
    head = "Time[s],Time[hh:mm:ss],HR[bpm],SmO2[%]\n"
    path = tmp_path / "inf.csv"
    path.write_text(head + "1,00:00:01,130,57.5\n2,00:00:02,131,inf\n3,00:00:03,131,56.8\n")
    with pytest.raises(DataFormatError, match="not a finite number"):
        read_nirs(path)
    nan = tmp_path / "nan.csv"
    nan.write_text(head + "".join(f"{i},00:00:0{i},130,NaN\n" for i in range(1, 9)))
    assert read_nirs(nan).attrs["dead_channels"]["smo2_pct"].startswith("no data")


def test_absurd_time_column_is_refused(tmp_path):
    path = tmp_path / "fs.csv"
    path.write_text(
        "Time[s],Time[hh:mm:ss],HR[bpm],SmO2[%]\n1,00:00:01,130,57.5\n1.000000000001,0,1,57\n"
    )
    with pytest.raises(DataFormatError, match="sampling rate"):
        read_nirs(path)


def test_huge_moxy_day_number_is_a_noise_row_not_a_traceback(tmp_path):
    def huge(k: int, parts: list[str]) -> str:
        if k == 5:
            parts[0] = "01-99999999999999999999"
        return ",".join(parts)

    df = read_nirs(_moxy_with(tmp_path, huge))
    assert len(df.attrs["dropped_rows"]) == 1 and len(df) == 930


def test_moxy_lap_of_minus_inf_is_a_noise_row(tmp_path):
    def lap(k: int, parts: list[str]) -> str:
        if k == 7:
            parts[5] = "-inf"
        return ",".join(parts)

    df = read_nirs(_moxy_with(tmp_path, lap))
    assert len(df.attrs["dropped_rows"]) == 1 and df["lap"].min() >= 0


def _trainred_with(tmp_path: Path, edit) -> Path:  # noqa: ANN001
    lines = (DATA / "mnirs__train.red_intervals.csv").read_text().splitlines()
    hdr = next(i for i, ln in enumerate(lines) if ln.startswith("Timestamp"))
    lines[hdr + 5] = edit(lines[hdr + 5])
    path = tmp_path / "tr.csv"
    path.write_text("\n".join(lines) + "\n")
    return path


def test_trainred_extra_field_is_one_line_with_its_line(tmp_path):
    path = _trainred_with(tmp_path, lambda ln: ln + ",1,2,3")
    with pytest.raises(DataFormatError, match="Train.Red CSV") as err:
        read_nirs(path)
    assert err.value.line is not None and "\n" not in str(err.value)


def test_trainred_lap_of_minus_inf(tmp_path):
    lines = (DATA / "mnirs__train.red_intervals.csv").read_text().splitlines()
    hdr = next(i for i, ln in enumerate(lines) if ln.startswith("Timestamp"))
    cols = lines[hdr].split(",")
    j = [c.strip().lower() for c in cols].index("lap/event")

    def edit(ln: str) -> str:
        parts = ln.split(",")
        parts[j] = "-inf"
        return ",".join(parts)

    with pytest.raises(DataFormatError, match="not a lap number") as err:
        read_nirs(_trainred_with(tmp_path, edit))
    assert err.value.line == hdr + 6


def test_cr_only_line_endings_moxy(tmp_path):
    path = tmp_path / "cr.csv"
    path.write_bytes(MOXY.read_bytes().replace(b"\r\n", b"\n").replace(b"\n", b"\r"))
    assert len(read_nirs(path)) == 931


# ----------------------------------------------------------------- FIT (built here)
def _dev_field_desc(dev: int, num: int, name: bytes, units: bytes, local: int) -> bytes:
    body = bytes([0x40 | local, 0, 0]) + struct.pack("<HB", 206, 5)
    body += bytes([0, 1, 0x02, 1, 1, 0x02, 2, 1, 0x02, 3, 16, 0x07, 8, 4, 0x07])
    body += bytes([local, dev, num, 0x84]) + name.ljust(16, b"\x00") + units.ljust(4, b"\x00")
    return body


def _two_sensor_currhemoperc(values: list[tuple[int, int]]) -> bytes:
    """Indoor-cycling FIT with two Connect IQ SmO2 sensors, each writing ``currHemoPerc``
    (uint16, "%", native field 57) under its own developer data index: the layout the Moxy /
    Train.Red Connect IQ apps declare (``createField("currHemoPerc", ..., DATA_TYPE_UINT16,
    {:nativeNum=>57, :mesgType=>MESG_TYPE_RECORD, :units=>"%"})``)."""
    body = bytes([0x40, 0, 0]) + struct.pack("<HB", 0, 1) + bytes([0, 1, 0x00])
    body += bytes([0x00, 4])
    for dev in (0, 1):  # developer_data_id: developer_data_index
        body += bytes([0x41, 0, 0]) + struct.pack("<HB", 207, 1) + bytes([3, 1, 0x02])
        body += bytes([0x01, dev])
        body += _dev_field_desc(dev, 0, b"currHemoPerc", b"%", 2)
    # record: timestamp + 2 developer fields (uint16 each)
    body += bytes([0x63, 0, 0]) + struct.pack("<HB", 20, 1) + bytes([253, 4, 0x86])
    body += bytes([2, 0, 2, 0, 0, 2, 1])
    t0 = 1_000_000_000
    for k, (a, b) in enumerate(values):
        body += bytes([0x03]) + struct.pack("<IHH", t0 + k, a, b)
    return fit_file(body)


def test_fit_two_sensor_currhemoperc_developer_fields(tmp_path):
    path = tmp_path / "indoor_2x_smo2.fit"
    path.write_bytes(_two_sensor_currhemoperc([(62, 65), (61, 66), (60, 64)]))
    df = read_nirs(path)
    np.testing.assert_allclose(df["smo2_pct"], [62, 61, 60])
    np.testing.assert_allclose(df["smo2_pct_2"], [65, 66, 64])
    from workbench.ingest import detect

    assert detect(path).name == "nirs"  # not taken for an RR FIT


def test_fit_records_without_timestamps_is_a_format_error(tmp_path):
    body = bytes([0x40, 0, 0]) + struct.pack("<HB", 0, 1) + bytes([0, 1, 0x00])
    body += bytes([0x00, 4])
    body += bytes([0x41, 0, 0]) + struct.pack("<HB", 20, 1) + bytes([3, 1, 0x02])  # heart_rate
    body += b"".join(bytes([0x01, 120 + k]) for k in range(5))
    path = tmp_path / "no_ts.fit"
    path.write_bytes(fit_file(body))
    with pytest.raises(DataFormatError, match="timestamp"):
        read_nirs(path)


# ----------------------------------------------------------------- EMG
def _opensignals(tmp_path: Path, header: dict, rows: list[str], name: str = "os.txt") -> Path:
    path = tmp_path / name
    path.write_text(
        "# OpenSignals Text File Format\n# "
        + json.dumps({"00:07:80:3B:46:61": header})
        + "\n# EndOfHeader\n"
        + "".join(rows)
    )
    return path


def test_opensignals_unlabelled_a1_is_emg_not_heartbeats(tmp_path):
    rng = np.random.default_rng(3)
    rows = [f"{i % 16}\t{int(512 + 40 * rng.standard_normal())}\n" for i in range(5000)]
    hdr = {"sampling rate": 1000, "column": ["nSeq", "A1"], "label": ["A1"], "resolution": [4, 10]}
    path = _opensignals(tmp_path, hdr, rows)
    assert sniff_emg(path) == "opensignals"
    f = read_emg_file(path)
    assert f.samples.shape == (5000, 1) and "does not name the sensor" in f.meta["note"]
    from workbench.ingest import detect

    assert detect(path).name == "emg"


def test_opensignals_ecg_is_not_emg(tmp_path):
    hdr = {"sensor": ["ECG"], "sampling rate": 1000, "column": ["nSeq", "A2"], "label": ["A2"]}
    assert sniff_emg(_opensignals(tmp_path, hdr, ["1\t500\n"] * 20)) is None


@pytest.mark.parametrize("fs", [1e308, 0, -1000, "nan"])
def test_opensignals_absurd_sampling_rate(tmp_path, fs):
    hdr = {"sensor": ["EMG"], "sampling rate": fs, "column": ["nSeq", "A1"], "label": ["A1"]}
    path = _opensignals(tmp_path, hdr, ["1\t500\n", "2\t510\n"])
    with pytest.raises(DataFormatError, match="sampling rate"):
        read_emg_file(path)


def test_emg_dead_channels_flagged(tmp_path):
    rng = np.random.default_rng(4)
    rows = [
        f"{i % 16}\t{int(512 + 40 * rng.standard_normal())}\t0\t1023\t600\n" for i in range(500)
    ]
    hdr = {
        "sensor": ["EMG", "EMG", "EMG", "EMG"],
        "sampling rate": 1000,
        "column": ["nSeq", "A1", "A2", "A3", "A4"],
        "label": ["A1", "A2", "A3", "A4"],
        "resolution": [4, 10, 10, 10, 10],
    }
    f = read_emg_file(_opensignals(tmp_path, hdr, rows))
    assert f.meta["dead_channels"] == {
        "A2": "all zero",
        "A3": "constant at 1023",
        "A4": "constant at 600",
    }


def test_emg_nan_sample_is_refused(tmp_path):
    hdr = {"sensor": ["EMG"], "sampling rate": 1000, "column": ["nSeq", "A1"], "label": ["A1"]}
    path = _opensignals(tmp_path, hdr, ["1\t500\n", "2\tnan\n", "3\t510\n"])
    with pytest.raises(DataFormatError, match="not a finite number"):
        read_emg_file(path)


def test_trainred_dead_unfiltered_uses_filtered_smo2(tmp_path):
    lines = (DATA / "mnirs__train.red_intervals.csv").read_text().splitlines()
    hdr = next(i for i, ln in enumerate(lines) if ln.startswith("Timestamp"))
    j = [c.strip().lower() for c in lines[hdr].split(",")].index("smo2 unfiltered")
    for k in range(hdr + 1, len(lines)):
        parts = lines[k].split(",")
        if len(parts) > j:
            parts[j] = "0"
            lines[k] = ",".join(parts)
    path = tmp_path / "tr_dead.csv"
    path.write_text("\n".join(lines) + "\n")
    df = read_nirs(path)
    assert df.attrs["dead_channels"] == {"SmO2 unfiltered": "all zero"}
    assert "filtered SmO2" in df.attrs["substitutions"]["smo2_pct"]
    assert df["smo2_pct"].between(30, 100).mean() > 0.99
    assert df["smo2_pct_2"].iloc[0] == pytest.approx(72.05)  # the live sensor is untouched
