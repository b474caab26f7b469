"""NIRS readers on real exports (mnirs fixtures) and documented-layout synthetic files."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from fit_builder import fit_file
from workbench.errors import DataFormatError
from workbench.io import read_nirs

DATA = Path(__file__).parents[1] / "data" / "nirs"


def test_moxy_onboard_csv_real_file():
    df = read_nirs(DATA / "mnirs__moxy_intervals.csv")
    assert df.attrs["format"] == "moxy_csv"
    assert list(df.columns) == ["t_s", "smo2_pct", "thb_g_dl", "lap"]
    assert len(df) == 931
    assert df.attrs["sampling_rate_hz"] == pytest.approx(0.5)
    assert df["t_s"].iloc[0] == 0 and df["t_s"].iloc[-1] == pytest.approx(1860.0)
    assert df["smo2_pct"].iloc[:3].tolist() == [56, 55, 53]
    assert df["thb_g_dl"].iloc[0] == pytest.approx(13.01)


def test_moxy_short_header_variant_midnight_and_noise_rows():
    df = read_nirs(DATA / "moxy_variant_midnight_synthetic.csv")
    assert list(df.columns) == ["t_s", "smo2_pct", "thb_g_dl"]
    np.testing.assert_allclose(df["t_s"], np.arange(12) * 2.0)  # 23:59:50 -> 0:0:12 next day
    assert df["smo2_pct"].tolist() == list(range(50, 62))
    assert df.attrs["dropped_rows"] == [7, 8, 9]  # empty line, repeated header, garbage


def test_perfpro_xlsx_two_sensors_with_laps():
    df = read_nirs(DATA / "mnirs__moxy_ramp.xlsx")
    assert df.attrs["format"] == "perfpro_xlsx"
    assert {"t_s", "smo2_pct", "smo2_pct_2", "lap"} <= set(df.columns)
    assert df["t_s"].iloc[1] == pytest.approx(0.56)
    assert set(df["lap"].unique()) == {1, 2, 3}
    assert df[["smo2_pct", "smo2_pct_2"]].iloc[0].tolist() == [54, 68]
    assert df["smo2_pct"].isna().any()  # the file's deliberate gaps are kept as NaN


def test_trainred_csv_two_sensors():
    df = read_nirs(DATA / "mnirs__train.red_intervals.csv")
    assert df.attrs["format"] == "trainred_csv"
    assert df.attrs["sensors"] == ["Train.Red FYER 0673", "Train.Red FYER 0702"]
    for col in ("smo2_pct", "smo2_pct_2", "o2hb_um", "hhb_um_2", "lap"):
        assert col in df
    assert df["smo2_pct"].iloc[0] == pytest.approx(67.15)  # "SmO2 unfiltered"
    assert df["smo2_pct_2"].iloc[0] == pytest.approx(72.05)
    assert df.attrs["t0_s"] == pytest.approx(2084.15)
    assert sorted(df["lap"].unique()) == [1, 2, 3, 4, 5]


def test_vo2master_decimal_commas_three_sensors():
    df = read_nirs(DATA / "vo2master_3sensors_synthetic.csv")
    assert df.attrs["format"] == "vo2master_csv"
    assert [c for c in df.columns if c.startswith("smo2")] == [
        "smo2_pct",
        "smo2_pct_2",
        "smo2_pct_3",
    ]
    assert df["smo2_pct"].iloc[0] == 0.0 and df["smo2_pct"].iloc[1] == pytest.approx(57.53)
    assert df["thb_g_dl_2"].iloc[0] == pytest.approx(13.0)
    assert df["t_s"].iloc[-1] == pytest.approx(119.0)


def test_oxysoft_xlsx_portamon():
    df = read_nirs(DATA / "mnirs__portamon-oxcap.xlsx")
    assert df.attrs["format"] == "oxysoft_xlsx"
    assert df.attrs["sampling_rate_hz"] == 10.0
    assert {"t_s", "thb_um", "hhb_um", "o2hb_um", "event"} <= set(df.columns)
    assert "smo2_pct" not in df  # this export has no TSI trace: not invented
    assert len(df) == 7944
    assert df["t_s"].iloc[10] == pytest.approx(1.0)
    assert df["o2hb_um"].iloc[0] == pytest.approx(82.851982)
    events = df.loc[df["event"] != "", "event"].tolist()
    assert events[0] == "R1 Resting" and "A2 Occlusion" in events


# ----------------------------------------------------------------- FIT (built here)
def _fit_with_dev_smo2(values: list[float], name: bytes = b"SmO2") -> bytes:
    """A FIT activity whose records carry SmO2 as a developer field (as Moxy's CIQ app)."""
    body = b""
    # file_id (global 0): type=4 (activity)
    body += bytes([0x40, 0, 0]) + struct.pack("<HB", 0, 1) + bytes([0, 1, 0x00])
    body += bytes([0x00, 4])
    # developer_data_id (207): developer_data_index (3)
    body += bytes([0x41, 0, 0]) + struct.pack("<HB", 207, 1) + bytes([3, 1, 0x02])
    body += bytes([0x01, 0])
    # field_description (206): dev index, field number, base type, name, units
    body += bytes([0x42, 0, 0]) + struct.pack("<HB", 206, 5)
    body += bytes([0, 1, 0x02, 1, 1, 0x02, 2, 1, 0x02, 3, 8, 0x07, 8, 4, 0x07])
    body += bytes([0x02, 0, 0, 0x88]) + name.ljust(8, b"\x00") + b"%\x00\x00\x00"
    # record (20): timestamp, heart_rate + developer field 0 (float32)
    body += bytes([0x63, 0, 0]) + struct.pack("<HB", 20, 2) + bytes([253, 4, 0x86, 3, 1, 0x02])
    body += bytes([1, 0, 4, 0])
    t0 = 1_000_000_000
    for k, v in enumerate(values):
        body += bytes([0x03]) + struct.pack("<IBf", t0 + k, 120 + k, v)
    return fit_file(body)


def test_fit_developer_smo2_field(tmp_path):
    path = tmp_path / "moxy_ciq.fit"
    path.write_bytes(_fit_with_dev_smo2([61.5, 60.0, 58.25]))
    df = read_nirs(path)
    assert df.attrs["format"] == "fit"
    np.testing.assert_allclose(df["t_s"], [0, 1, 2])
    np.testing.assert_allclose(df["smo2_pct"], [61.5, 60.0, 58.25])
    assert df["hr_bpm"].tolist() == [120, 121, 122]


def test_fit_without_smo2_names_the_field(tmp_path):
    path = tmp_path / "power.fit"
    path.write_bytes(_fit_with_dev_smo2([250.0, 251.0], name=b"Power"))
    with pytest.raises(DataFormatError, match="no SmO2 field") as err:
        read_nirs(path)
    assert err.value.path == str(path) and err.value.field == "record"


def test_corrupt_fit_crc(tmp_path):
    data = bytearray(_fit_with_dev_smo2([61.5, 60.0]))
    data[-5] ^= 0xFF
    path = tmp_path / "bad.fit"
    path.write_bytes(bytes(data))
    with pytest.raises(DataFormatError, match="FIT"):
        read_nirs(path)


# ----------------------------------------------------------------- bad input
def test_unknown_file_is_rejected_with_path(tmp_path):
    p = tmp_path / "x.csv"
    p.write_text("a,b\n1,2\n")
    with pytest.raises(DataFormatError, match="not a recognised NIRS file") as err:
        read_nirs(p)
    assert err.value.path == str(p)


def test_vo2master_bad_number_names_line(tmp_path):
    text = (DATA / "vo2master_3sensors_synthetic.csv").read_text().splitlines()
    text[5] = text[5].replace('"', "", 2).replace(",", ";", 1)
    p = tmp_path / "vo2.csv"
    p.write_text("\n".join(text) + "\n")
    with pytest.raises(DataFormatError) as err:
        read_nirs(p)
    assert err.value.line == 6


def test_moxy_without_data_rows(tmp_path):
    p = tmp_path / "m.csv"
    p.write_text("mm-dd,hh:mm:ss,SmO2 Live,SmO2 Averaged,THb\nfoo\n")
    with pytest.raises(DataFormatError, match="no parsable data rows") as err:
        read_nirs(p)
    assert err.value.line == 2
