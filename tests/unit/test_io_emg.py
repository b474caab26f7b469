"""EMG readers: BITalino (both header styles), Myo text, CSV with a time column."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from workbench.errors import DataFormatError
from workbench.io import read_emg
from workbench.io.emg import read_emg_file

DATA = Path(__file__).parents[1] / "data" / "emg"


def test_bitalino_simple_text_real_file():
    x, fs = read_emg(DATA / "biosppy__emg.txt")
    assert fs == 1000.0
    assert x.shape == (100_000, 1)
    assert x[:3, 0].tolist() == [2055.0, 2056.0, 2055.0]
    assert 2040 < np.median(x) < 2070  # raw 12-bit ADC around its mid-scale baseline


def test_opensignals_json_header_keeps_analog_channels(tmp_path):
    hdr = {"00:07:80:00:00:00": {"sensor": ["EMG", "EMG"], "column": ["nSeq", "I1", "I2",
           "O1", "O2", "A1", "A2"], "sampling rate": 1000, "label": ["A1", "A2"],
           "resolution": [4, 1, 1, 1, 1, 10, 10]}}  # fmt: skip
    rows = "\n".join(f"{k % 16}\t0\t0\t0\t0\t{500 + k}\t{600 - k}\t" for k in range(50))
    p = tmp_path / "opensignals.txt"
    p.write_text(f"# OpenSignals Text File Format\n# {json.dumps(hdr)}\n# EndOfHeader\n{rows}\n")
    f = read_emg_file(p)
    assert f.sampling_rate_hz == 1000.0 and f.channel_names == ("A1", "A2")
    assert f.samples.shape == (50, 2)
    assert f.samples[3].tolist() == [503.0, 597.0]


def test_myo_text_real_file():
    f = read_emg_file(DATA / "myo_right_12345-1_7.txt")
    assert f.sampling_rate_hz == 200.0
    assert f.samples.shape == (11935, 8)
    assert f.samples.min() >= -128 and f.samples.max() <= 127
    assert set(np.unique(f.labels)) == {0, 7}
    x, fs = read_emg(DATA / "myo_right_12345-1_7.txt")
    assert x.shape == (11935, 8) and fs == 200.0


def test_csv_with_time_column(tmp_path):
    t = np.arange(200) / 500.0
    p = tmp_path / "emg.csv"
    lines = ["t_s,emg_left,emg_right"] + [f"{a:.6f},{np.sin(a)},{np.cos(a)}" for a in t]
    p.write_text("\n".join(lines) + "\n")
    x, fs = read_emg(p)
    assert x.shape == (200, 2)
    assert fs == pytest.approx(500.0)


def test_csv_irregular_time_names_line(tmp_path):
    p = tmp_path / "emg.csv"
    p.write_text("time,emg\n0.000,1\n0.001,2\n0.002,3\n0.010,4\n0.011,5\n")
    with pytest.raises(DataFormatError, match="irregular sampling") as err:
        read_emg(p)
    assert err.value.line == 5 and err.value.field == "time"


def test_opensignals_bad_value_names_line(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("# Simple Text Format\n# Sampling Rate (Hz):= 1000.00\n# Labels:= EMG\n"
                 "2055.0\n2056.0\nxx\n")  # fmt: skip
    with pytest.raises(DataFormatError, match="not a number") as err:
        read_emg(p)
    assert err.value.line == 6


def test_opensignals_without_rate(tmp_path):
    p = tmp_path / "bad.txt"
    p.write_text("# Simple Text Format\n# Labels:= EMG\n1\n2\n")
    with pytest.raises(DataFormatError, match="no sampling rate"):
        read_emg(p)


def test_myo_out_of_range(tmp_path):
    p = tmp_path / "myo.txt"
    p.write_text("1,2,3,4,5,6,7,8,0\n1,2,3,400,5,6,7,8,0\n")
    with pytest.raises(DataFormatError, match="int8") as err:
        read_emg(p)
    assert err.value.line == 2


def test_unknown_text(tmp_path):
    p = tmp_path / "x.txt"
    p.write_text("hello\n")
    with pytest.raises(DataFormatError, match="not a recognised EMG file"):
        read_emg(p)
