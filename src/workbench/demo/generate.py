"""Fill a store with the demo squad: :func:`generate_demo` (and :func:`simulate_squad` for tests).

What is written (``source`` values in brackets):

* ``athletes``: ``ath01``.. with sport, group (endurance/team/strength), sex, birth date, goal,
  height, mass, arm/thigh circumference, sleep need.
* ``training_sessions`` (demo): one row per training day, ``status`` done/skipped with
  duration, sRPE and ``load_au`` = sRPE x minutes, planned duration/load (NULL for unplanned
  extra sessions of an overreaching block); plus next week's plan (status planned) after
  ``end_date``.
* ``wellness_daily`` (demo): sleep stages, bedtime, resting HR, device RMSSD (the night's
  artefact-free value), daytime stress, 1-10 items; ~4 % of questionnaires and ~2 % of nights
  missing (never within a week before or 4 days after an episode start).
* ``hrv_readings``: ``overnight`` (demo:chest-strap-overnight) 40 min from the last slow-wave
  period, 1600-2800 beats, dated the morning the night ends; ``morning``
  (demo:morning-app) 3-min supine readings for every other athlete on ~70 % of mornings.
  RR on the 1/1024-s grid; ``artifact_pct`` = injected share (1-3 %), ``quality`` good
  (< 2 %) or fair.
* ``biomarkers`` (demo:lab): cortisol nmol/L, creatine_kinase U/L, crp mg/L, lactate_rest
  mmol/L every 28-42 days plus a draw on day 3 of an illness and day 5 of overreaching.
* ``performance_tests`` (demo): ``cmj_height`` in cm, daily except illness days (~6 % missing).
* ``mobility_assessments`` (demo): see :mod:`workbench.demo.mobility`.
* ``episodes``: ground truth with effect sizes in ``notes`` (:mod:`workbench.demo.physiology`).
* recordings and BFR sessions: see :mod:`workbench.demo.live`.

The daily tables are written in one transaction; recordings and BFR sessions in one
transaction each afterwards.
"""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from workbench.demo.mobility import mobility_rows
from workbench.demo.physiology import AthleteDays, episode_rows, simulate_athlete, spike_days
from workbench.demo.rr import synthesize_rr
from workbench.demo.squad import squad_profiles
from workbench.errors import DataFormatError, StoreError
from workbench.log import get_logger
from workbench.store import Store

log = get_logger(__name__)

OVERNIGHT_SOURCE = "demo:chest-strap-overnight"
MORNING_SOURCE = "demo:morning-app"
OVERNIGHT_DURATION_S = 40 * 60.0
MORNING_DURATION_S = 180.0


@dataclass(frozen=True)
class DemoSummary:
    """What :func:`generate_demo` wrote.

    ``counts`` maps table name -> rows written; ``spike_week`` is the (first, last) date of the
    squad's load-spike week or None when the simulation is shorter than 70 days.
    """

    athletes: int
    days: int
    seed: int
    start_date: dt.date
    end_date: dt.date
    spike_week: tuple[dt.date, dt.date] | None
    counts: dict[str, int] = field(default_factory=dict)
    elapsed_s: float = 0.0

    def __str__(self) -> str:
        rows = ", ".join(f"{k} {v}" for k, v in self.counts.items() if v)
        return (
            f"demo squad: {self.athletes} athletes x {self.days} days "
            f"({self.start_date} to {self.end_date}, seed {self.seed}) in {self.elapsed_s:.1f} s: {rows}"
        )


def _validate(athletes: int, days: int) -> None:
    if not isinstance(athletes, (int, np.integer)) or athletes < 1:
        raise DataFormatError(
            f"the demo needs a positive number of athletes, got {athletes!r}", field="athletes"
        )
    if not isinstance(days, (int, np.integer)) or days < 14:
        raise DataFormatError(
            f"the demo needs at least 14 days (episodes from day 61, spike week from 70 days), "
            f"got {days!r}",
            field="days",
        )


def simulate_squad(
    *,
    athletes: int = 12,
    days: int = 180,
    seed: int = 42,
    end_date: dt.date | None = None,
    effect_scale: float | None = None,
) -> list[AthleteDays]:
    """Simulate the squad's daily data without touching a store (RR series excluded).

    Each item has the store-ready frames and ``latent`` (the true recovery state per day),
    identical to what :func:`generate_demo` writes for the same arguments.
    ``effect_scale`` fixes the illness/overreaching effect scale (0 = none, 1 = upper
    literature anchor; default: drawn per episode, see :mod:`workbench.demo.physiology`).
    """
    _validate(athletes, days)
    end = end_date or dt.date.today()
    start = end - dt.timedelta(days=days - 1)
    return [
        simulate_athlete(
            p, days=days, start_date=start, seed=seed, index=i, effect_scale=effect_scale
        )
        for i, p in enumerate(squad_profiles(athletes, seed, end))
    ]


def _hrv_rows(ad: AthleteDays, seed: int, index: int) -> pd.DataFrame:
    """Overnight (and, for app users, morning) RR readings of one athlete."""
    rng = np.random.default_rng([seed, index, 2])
    nights = ad.nights
    n = len(nights)
    batch = synthesize_rr(
        rng,
        nights["mean_rr_ms"].to_numpy(),
        nights["rmssd_ms"].to_numpy(),
        OVERNIGHT_DURATION_S,
        rng.uniform(0.012, 0.028, n),
    )
    frames = [
        pd.DataFrame(
            {
                "athlete_id": ad.profile.athlete_id,
                "start_time": nights["start_time"],
                "date": nights["date"],
                "source": OVERNIGHT_SOURCE,
                "context": "overnight",
                "n_beats": batch.n_beats,
                "rr_ms": batch.series(),
                "artifact_pct": np.round(batch.artifact_pct, 2),
                "quality": np.where(batch.artifact_pct < 2.0, "good", "fair"),
            }
        )
    ]
    if ad.profile.morning_readings:
        take = rng.random(n) < 0.7
        mn = nights[take]
        ln_m = np.log(mn["rmssd_ms"].to_numpy()) - 0.05 + rng.normal(0, 0.08, len(mn))
        mb = synthesize_rr(
            rng,
            60000.0 / (mn["rhr_bpm"].to_numpy() + 5.0),
            np.exp(ln_m),
            MORNING_DURATION_S,
            rng.uniform(0.012, 0.022, len(mn)),
            lf_weight=0.6,
        )
        start = mn["wake_time"] + pd.to_timedelta(rng.integers(3, 15, len(mn)), unit="min")
        frames.append(
            pd.DataFrame(
                {
                    "athlete_id": ad.profile.athlete_id,
                    "start_time": start.to_numpy(),
                    "date": mn["date"].to_numpy(),
                    "source": MORNING_SOURCE,
                    "context": "morning",
                    "n_beats": mb.n_beats,
                    "rr_ms": mb.series(),
                    "artifact_pct": np.round(mb.artifact_pct, 2),
                    "quality": np.where(mb.artifact_pct < 2.0, "good", "fair"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def generate_demo(
    store: Store,
    *,
    athletes: int = 12,
    days: int = 180,
    seed: int = 42,
    end_date: dt.date | None = None,
    recordings: bool = True,
    progress: Callable[[str], None] | None = None,
) -> DemoSummary:
    """Fill ``store`` with a deterministic demo squad (same arguments -> identical rows).

    Parameters
    ----------
    store:
        An open store without athletes ``ath01``.. (a fresh database).
    athletes, days:
        Squad size (>= 1) and length of the history in days (>= 14), ending ``end_date``.
    seed:
        Seed of every random draw.
    end_date:
        Last simulated day (default today).
    recordings:
        Also write the few live-signal recordings and BFR sessions (fixed number,
        independent of squad size; the BFR sessions are runs of the real session runner,
        cached in ``data/cache/demo_bfr``: the first build takes ~5 s CPU per session).
    progress:
        Called with a short message after each athlete and stage.

    Returns
    -------
    DemoSummary
        Rows written per table, date range and the spike week.

    Raises
    ------
    DataFormatError
        For fewer than 1 athlete or 14 days (a ``ValueError`` too).
    StoreError
        When the store already holds one of the demo athletes; nothing is written then.
    """
    t0 = time.perf_counter()
    _validate(athletes, days)
    end = end_date or dt.date.today()
    start = end - dt.timedelta(days=days - 1)
    say = progress or (lambda _msg: None)
    profiles = squad_profiles(athletes, seed, end)
    ids = [p.athlete_id for p in profiles]
    existing = store.read("athletes", athlete_id=ids, columns=["athlete_id"])
    if not existing.empty:
        raise StoreError(
            f"{store.url} already holds demo athletes {sorted(existing['athlete_id'])[:3]}...; "
            "generate the demo into a fresh database (e.g. delete the file or set WORKBENCH_DB_URL)"
        )
    counts: dict[str, int] = {}

    def put(table: str, rows, conn) -> None:  # noqa: ANN001
        counts[table] = counts.get(table, 0) + store.write(table, rows, conn=conn)

    with store.transaction() as conn:
        put("athletes", [p.store_row() for p in profiles], conn)
        for i, p in enumerate(profiles):
            ad = simulate_athlete(p, days=days, start_date=start, seed=seed, index=i)
            put("training_sessions", ad.sessions, conn)
            put("wellness_daily", ad.wellness, conn)
            put("biomarkers", ad.biomarkers, conn)
            put("performance_tests", ad.performance, conn)
            put("episodes", episode_rows(ad, start), conn)
            put(
                "mobility_assessments",
                mobility_rows(p, days=days, start_date=start, seed=seed, index=i),
                conn,
            )
            put("hrv_readings", _hrv_rows(ad, seed, i), conn)
            say(f"athlete {i + 1}/{athletes} ({p.athlete_id}, {p.sport})")
    if recordings:
        from workbench.demo.live import write_live_demo

        live = write_live_demo(store, profiles, end_date=end, seed=seed, progress=say)
        for table, n in live.items():
            counts[table] = counts.get(table, 0) + n
        say("recordings and BFR sessions")
    sp = spike_days(days)
    summary = DemoSummary(
        athletes=athletes,
        days=days,
        seed=seed,
        start_date=start,
        end_date=end,
        spike_week=None
        if sp is None
        else (start + dt.timedelta(days=sp[0]), start + dt.timedelta(days=sp[1])),
        counts=counts,
        elapsed_s=time.perf_counter() - t0,
    )
    log.info("%s", summary)
    return summary
