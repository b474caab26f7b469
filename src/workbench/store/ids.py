"""Athlete ids: one strict pattern, checked where athletes are created.

An athlete id becomes a file name (``<out>/<week>/<athlete_id>.html``), a URL path segment
and a CSS class, so it may only hold ASCII letters, digits, ``_`` and ``-`` (1-64
characters, starting with a letter or digit): no ``/``, ``..``, ``:`` or spaces.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from workbench.errors import DataFormatError

#: The only athlete ids the store accepts.
ATHLETE_ID_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_-]{0,63}")


def is_valid_athlete_id(athlete_id: object) -> bool:
    """Whether ``athlete_id`` is a string matching :data:`ATHLETE_ID_PATTERN`."""
    return isinstance(athlete_id, str) and ATHLETE_ID_PATTERN.fullmatch(athlete_id) is not None


def validate_athlete_id(athlete_id: object, *, line: int | None = None) -> str:
    """Return ``athlete_id`` or raise :class:`DataFormatError` naming the rule."""
    if not is_valid_athlete_id(athlete_id):
        raise DataFormatError(
            f"invalid athlete id {athlete_id!r}: use 1-64 ASCII letters, digits, '_' or '-', "
            "starting with a letter or digit (e.g. 'ath01', 'jane-doe')",
            line=line,
            field="athlete_id",
        )
    return str(athlete_id)


def validate_athlete_ids(athlete_ids: Iterable[object]) -> None:
    """:func:`validate_athlete_id` on every id (the error names the 1-based record)."""
    for i, a in enumerate(athlete_ids):
        validate_athlete_id(a, line=i + 1)
