"""``workbench import`` for RR recordings: FIT files with RR data and RR text/CSV files.

Each file becomes one ``hrv_readings`` row holding the raw RR intervals (as recorded), the
share of beats the Lipponen–Tarvainen correction would change and a quality flag.
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pandas as pd

from workbench.errors import DataFormatError
from workbench.ingest import ImportContext, Importer, register
from workbench.io.rr import is_fit_file, read_rr_recording
from workbench.signals.hrv import rr_clean

_TEXT_SUFFIXES = {".txt", ".csv", ".rr", ".hrv", ".tsv"}
_RR_HEADER = re.compile(r"(^|[^a-z])(rr|ibi|rr[-_ ]?interval)", re.IGNORECASE)
_NUMBER = re.compile(r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$")
_MORNING_MAX_S = 15 * 60
#: One hrv_readings row holds at most this many beats (about 3 weeks of continuous RR);
#: the artefact correction of a longer series takes minutes and the row would be huge.
MAX_BEATS = 2_000_000


def require_athlete(ctx: ImportContext, path: Path) -> str:
    """The athlete of the import, or a DataFormatError asking for ``--athlete``."""
    if not ctx.athlete_id:
        raise DataFormatError(
            "this file does not name its athlete: pass --athlete ATHLETE_ID", path=path
        )
    return ctx.athlete_id


def _sniff_fit(path: Path, head: bytes) -> bool:
    return is_fit_file(head)


def _sniff_text(path: Path, head: bytes) -> bool:
    if path.suffix.lower() not in _TEXT_SUFFIXES:
        return False
    try:
        text = head.decode("utf-8-sig")
    except UnicodeDecodeError:
        return False
    if text.startswith(("# OpenSignals", "# Simple Text Format")):
        return False  # raw samples of a biosignal, never RR intervals
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    if not lines:
        return False
    first = [t for t in re.split(r"[;,\t ]+", lines[0]) if t]
    if first and all(_NUMBER.match(t) for t in first) and len(first) <= 2:
        return True  # "rr" or "time rr" lines
    names = [t.strip() for t in re.split(r"[;,\t]", lines[0])]
    return 1 <= len(names) <= 3 and any(_RR_HEADER.search(n) for n in names)


def _context(start: dt.datetime | None, duration_s: float, fmt: str) -> str:
    if fmt.startswith("fit"):
        return "exercise"
    if start is not None and duration_s <= _MORNING_MAX_S and 3 <= start.hour < 12:
        return "morning"
    return "other"


def _parse(path: Path, ctx: ImportContext) -> dict[str, pd.DataFrame]:
    athlete = require_athlete(ctx, path)
    rec = read_rr_recording(path, unit=ctx.rr_unit, max_beats=MAX_BEATS)
    if rec.rr_ms.size > MAX_BEATS:
        raise DataFormatError(
            f"{rec.rr_ms.size:,} beats: more than {MAX_BEATS:,} (about 3 weeks) in one reading; "
            "split the file into days",
            path=path,
        )
    start = rec.start_time
    note = ""
    if start is None:
        start = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.timezone.utc).replace(
            tzinfo=None
        )
        note = " (start from file time)"
    clean = rr_clean(rec.rr_ms)
    source = ctx.source_label or f"{rec.source_format}:{path.name}" + (
        f" [{rec.device}]" if rec.device else ""
    )
    row = {
        "athlete_id": athlete,
        "start_time": start,
        "date": start.date(),
        "source": (source + note)[:200],
        "context": _context(rec.start_time, float(rec.rr_ms.sum()) / 1000.0, rec.source_format),
        "n_beats": int(rec.rr_ms.size),
        "rr_ms": rec.rr_ms,
        "artifact_pct": float(clean.artifact_pct),
        "quality": "unreliable" if rec.flags else clean.quality,
    }
    notes = [
        f"{rec.rr_ms.size} beats, {rec.rr_ms.sum() / 60000:.1f} min, format {rec.source_format}",
        *rec.notes,
        f"artefacts {clean.artifact_pct:.1f} % (Lipponen-Tarvainen), quality {row['quality']}",
        *rec.flags,
    ]
    return {"hrv_readings": pd.DataFrame([row]), "notes": notes}


register(
    Importer(
        name="fit_rr",
        description="FIT file with RR intervals ('hrv' messages or 'hr' beat times)",
        sniff=_sniff_fit,
        parse=_parse,
    )
)
register(
    Importer(
        name="rr_text",
        description="RR text/CSV: one RR per line (ms or s), Polar 'timestamp;RR', 'time rr'",
        sniff=_sniff_text,
        parse=_parse,
        priority=-10,
    )
)
