"""ISO weeks: parse ``"2026-W47"``, find the last complete week of data in a store."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

import pandas as pd

from workbench.errors import DataFormatError
from workbench.store import Store

_WEEK = re.compile(r"^(\d{4})-W(\d{2})$")


@dataclass(frozen=True)
class IsoWeek:
    """One ISO week (Monday to Sunday).

    Attributes
    ----------
    year, week:
        ISO year and week number (1-53).
    """

    year: int
    week: int

    @classmethod
    def parse(cls, text: str) -> IsoWeek:
        """Parse ``"YYYY-Www"`` (e.g. ``"2026-W47"``); :class:`DataFormatError` otherwise."""
        m = _WEEK.match(str(text).strip())
        if not m:
            raise DataFormatError(
                f"not an ISO week: {text!r}; write it like 2026-W47", field="iso_week"
            )
        year, week = int(m.group(1)), int(m.group(2))
        try:
            dt.date.fromisocalendar(year, week, 1)
        except ValueError as exc:
            raise DataFormatError(f"{text!r}: {exc}", field="iso_week") from None
        return cls(year, week)

    @classmethod
    def of(cls, day: dt.date) -> IsoWeek:
        """The ISO week containing ``day``."""
        iso = pd.Timestamp(day).date().isocalendar()
        return cls(iso[0], iso[1])

    @property
    def label(self) -> str:
        """``"YYYY-Www"``."""
        return f"{self.year}-W{self.week:02d}"

    @property
    def start(self) -> dt.date:
        """Monday."""
        return dt.date.fromisocalendar(self.year, self.week, 1)

    @property
    def end(self) -> dt.date:
        """Sunday."""
        return dt.date.fromisocalendar(self.year, self.week, 7)

    def shift(self, weeks: int) -> IsoWeek:
        """The week ``weeks`` later (negative: earlier)."""
        return IsoWeek.of(self.start + dt.timedelta(weeks=weeks))

    def days(self) -> list[dt.date]:
        """The seven dates, Monday first."""
        return [self.start + dt.timedelta(days=i) for i in range(7)]

    def __str__(self) -> str:
        return self.label


def last_data_date(store: Store) -> dt.date | None:
    """The last day with wellness, HRV or completed-training data (``None`` if empty)."""
    days = []
    for table, eq in (
        ("wellness_daily", {}),
        ("hrv_readings", {}),
        ("training_sessions", {"status": "done"}),
    ):
        df = store.read(table, columns=["date"], **eq)
        if not df.empty:
            days.append(pd.Timestamp(df["date"].max()).date())
    return max(days) if days else None


def last_complete_week(store: Store) -> IsoWeek:
    """The last ISO week whose Sunday has data (the week before when the last week is partial).

    Raises
    ------
    DataFormatError
        When the store holds no wellness, HRV or training data.
    """
    last = last_data_date(store)
    if last is None:
        raise DataFormatError(f"{store.url} holds no wellness, HRV or training data", field="date")
    week = IsoWeek.of(last)
    return week if last == week.end else week.shift(-1)


def resolve_week(store: Store, iso_week: str | None) -> IsoWeek:
    """``iso_week`` parsed, or the last complete week of the store when ``None``."""
    return last_complete_week(store) if iso_week in (None, "") else IsoWeek.parse(iso_week)
