"""Regressions from fuzzing the RR importers (issue 14) and real-file RR cases (issue 16)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import numpy as np
import pytest

from workbench.errors import DataFormatError
from workbench.io import read_rr
from workbench.io.rr import _BeatClock, read_rr_recording

DATA = Path(__file__).resolve().parents[1] / "data"


def test_every_third_beat_in_seconds_is_refused_as_mixed_units(tmp_path: Path) -> None:
    f = tmp_path / "mixed.txt"
    rr = [812, 790, 0.805] * 40  # every third beat in seconds
    f.write_text("\n".join(f"{v:g}" for v in rr) + "\n")
    with pytest.raises(DataFormatError, match="mixed units") as err:
        read_rr(f)
    assert err.value.line == 3


@pytest.mark.parametrize(
    ("lines", "message", "bad_line"),
    [
        *(
            ([812, 790, v, 805], "not a heartbeat interval", 3)
            for v in ("1e308", "65535000", "25000")
        ),
        *(([812, v, 805], "not a positive number", 2) for v in ("inf", "nan", "-800", "0")),
    ],
)
def test_absurd_or_non_positive_rr_is_refused_with_its_line(
    tmp_path: Path, lines: list, message: str, bad_line: int
) -> None:
    f = tmp_path / "bad.txt"
    f.write_text("".join(f"{v}\n" for v in lines))
    with pytest.raises(DataFormatError, match=message) as err:
        read_rr(f)
    assert err.value.line == bad_line


def test_cr_only_line_endings(tmp_path: Path) -> None:
    f = tmp_path / "cr.txt"
    f.write_bytes(b"RR [ms]\r812\r790\r805\r")
    np.testing.assert_array_equal(read_rr(f), [812.0, 790.0, 805.0])


def test_constant_rr_is_flagged_dead(tmp_path: Path) -> None:
    f = tmp_path / "const.txt"
    f.write_text("1000\n" * 60)
    rec = read_rr_recording(f)
    assert rec.flags and "dead RR channel: constant at 1000" in rec.flags[0]
    alive = tmp_path / "alive.txt"
    alive.write_text("\n".join(str(900 + (i % 7) * 5) for i in range(60)))
    assert read_rr_recording(alive).flags == ()


def test_unit_detection_is_reported(tmp_path: Path) -> None:
    f = tmp_path / "s.txt"
    f.write_text("0.812\n0.790\n0.805\n")
    rec = read_rr_recording(f)
    assert rec.unit == "s" and "detected from values" in rec.notes[0]


def test_opensignals_file_is_not_rr(tmp_path: Path) -> None:
    f = tmp_path / "emg.txt"
    f.write_text(
        '# OpenSignals Text File Format\n# {"00:07:80:3B:46:61": {"sampling rate": 1000, '
        '"column": ["nSeq", "A1"], "label": ["A1"]}}\n# EndOfHeader\n'
        + "".join(f"{i % 16}\t{500 + i % 30}\n" for i in range(200))
    )
    with pytest.raises(DataFormatError, match="not RR intervals"):
        read_rr(f)


def test_big_rr_text_streams_in_bounded_memory(tmp_path: Path) -> None:
    """A 6 MB RR file: chunked C parsing, same values as the line parser."""
    f = tmp_path / "big.txt"
    rng = np.random.default_rng(1)
    rr = np.round(800 + 40 * rng.standard_normal(1_200_000))
    f.write_text("RR-interval [ms]\n" + "\n".join(f"{v:.0f}" for v in rr) + "\n")
    out = read_rr(f)
    np.testing.assert_array_equal(out, rr)


class _Fld:
    def __init__(self, name, raw, value=None):  # noqa: ANN001
        self.name, self.raw_value, self.value = name, raw, value


class _Frame:
    def __init__(self, *fields):  # noqa: ANN002
        self.fields = fields


def _packed(lows: list[int]) -> bytes:
    v = 0
    for i, low in enumerate(lows):
        v |= (low & 0xFFF) << (12 * i)
    return v.to_bytes(12, "little")


def test_beat_clock_restart_per_length_is_not_a_backwards_error() -> None:
    """Forerunner 945 pool swim: each length restarts the beat clock (anchor goes back)."""
    clock = _BeatClock()
    t0 = 1_000_000
    ticks = [t0 + 820 * k for k in range(1, 9)]
    clock.add(_Frame(_Fld("event_timestamp", t0, 976.5)))
    clock.add(_Frame(_Fld("event_timestamp_12", _packed(ticks))))
    t1 = t0 + 100  # new length: the clock restarts before the last accumulated beat
    clock.add(_Frame(_Fld("event_timestamp", t1, 976.6)))
    clock.add(_Frame(_Fld("event_timestamp_12", _packed([t1 + 800 * k for k in range(1, 9)]))))
    rr = clock.intervals_ms()
    assert clock.resets == 1 and rr.size == 16
    np.testing.assert_allclose(rr[:8], 820 * 1000 / 1024)
    np.testing.assert_allclose(rr[8:], 800 * 1000 / 1024)


def test_beat_clock_pause_is_left_out() -> None:
    clock = _BeatClock()
    clock.add(_Frame(_Fld("event_timestamp", 5000, 4.8)))
    clock.add(_Frame(_Fld("event_timestamp_12", _packed([5000 + 800 * k for k in range(1, 9)]))))
    clock.add(_Frame(_Fld("event_timestamp", 5000 + 8 * 800 + 60 * 1024, 70.0)))  # 60 s rest
    assert clock.gaps == 1 and clock.intervals_ms().size == 8


def test_fr935_real_swim_reports_its_pauses() -> None:
    rec = read_rr_recording(DATA / "fit" / "fitdecode__garmin-fr935-cr.fit")
    assert rec.rr_ms.max() < 3000 and rec.flags == ()
    assert isinstance(rec.start_time, dt.datetime)
