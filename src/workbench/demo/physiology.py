"""The latent daily model of one demo athlete: load plan, recovery state and every daily marker.

Model (per athlete, vectorised over days; day ``d`` is the morning of that date, it sees the
training of days ``d-1, d-2, ...``):

* **Plan.** A weekly template (rest/easy/moderate/hard) scaled by 3:1 mesocycles (week factors
  0.9, 1.0, 1.1, 0.65). Session load = sRPE (CR-10) x minutes (Foster), in AU. One squad-wide
  **spike week** (days 42-48 when ``days >= 70``): every day a session, minutes x 1.5 and
  sRPE + 1, giving a rolling 7/28-day ACWR >= 1.5. It is not an episode.
* **Load response.** ``x_d = sum_j L_{d-j} exp(-(j-1)/1.2 d)`` of the load normalised by the
  athlete's typical session load; its excess over the median gives a saturating fatigue term
  ``f = 0.25 (1 - exp(-e / 1.2))`` (a hard day: about 0.12 lnRMSSD next morning, gone within
  24-72 h; the spike week: about 0.2).
* **Recovery state.** ``deficit = f + sum(episode effects) + eta`` (eta: AR(1), SD ~0.05,
  shared by HRV, resting HR and jump); ``recovery_true = clip(80 - 150 deficit, 0, 100)``.
* **Markers.** lnRMSSD = ln(baseline) + 0.12 fitness - deficit + N(0, 0.06); RHR = baseline
  + 5 (f + eta) + episode effect + N(0, 1.3) bpm; CMJ height = baseline (1 + 0.05 fitness)
  (1 - 0.30 deficit) + N(0, 0.5) cm (not measured on illness days, ~6 % missing); sleep,
  wellness 1-10 items and daytime stress follow the fatigue term weakly and the episodes
  strongly; self-rated readiness = 6.3 - 3 deficit + 0.25 (mood - 7) + N(0, 1.2), rounded.
  That noise is an assumption, not a finding: Saw et al. 2016 (BJSM 50:281) found subjective
  measures more sensitive to training load than objective ones.

Episode effect sizes at full intensity and effect scale 1 (``EFFECTS``; intensity profiles
in ``_profile``):

============  ========  =====  ======  =====  ====  =====  =======  ===========================
kind          lnRMSSD   RHR    sleep   awake  mood  fat.   sleep q  other
============  ========  =====  ======  =====  ====  =====  =======  ===========================
illness       -0.40     +11    -60     +40    -2.5  +3     -2.5     CRP x10, cortisol +35 %,
                                                                    sessions skipped, no CMJ
overreaching  -0.20     +4     -45     +20    -2.5  +2.5   -1.5     after a 10-14 d block at
                                                                    load x1.7; CK x3, cortisol
                                                                    +25 %, CMJ about -6 %
sleep_debt    -0.10     +2     -90     0      -1    +1.5   -2       bedtime +75 min
travel        -0.12     +3     -60     +40    -0.5  +1.5   -2.5     bedtime shifted 3-7 h,
                                                                    first day skipped
============  ========  =====  ======  =====  ====  =====  =======  ===========================

**Effect sizes come from the literature, not from the detector** (issue 14.4). Every
illness and overreaching episode has an *effect scale* ``s`` (0 = no physiological change,
1 = the upper literature anchor below); all its physiological effects (HRV, RHR, sleep,
questionnaire items, self-rating, biomarkers) are multiplied by ``s``. The demo draws
``s ~ U(DEMO_EFFECT_SCALE)`` per episode from its own random stream (``[seed, index, 11]``,
so other draws are unchanged); ``simulate_athlete(effect_scale=...)`` fixes it (the
detection bench sweeps it). The anchors (full numbers in docs/readiness-validation.md):

* Illness, resting HR: +1 to +2 bpm population mean at symptom onset in wearables (Natarajan
  et al. 2022, Front Physiol 13:898251, peak +1.8 % F / +3.4 % M) up to +11 bpm supine in a
  6-day URTI of an elite marathoner (Hottenrott et al. 2021, Front Sports Act Living
  3:612782). Upper anchor +11 bpm; the literature range is s = 0.1-1.
* Illness, lnRMSSD: in the same case the *supine* RMSSD did not change significantly while the
  standing one fell 20.8 -> 4.2 ms (ln drop 1.6). Range 0 to -0.40 ln units; the upper
  anchor 0.40 is our judgement between those two, not a measured supine value.
* Illness time course: 5-10 days (the case: 6 days), fast onset (>= 85 % on day 1).
* Overreaching (functional, after a 10-14 d overload block), lnRMSSD: standardised change of
  the weekly ln rMSSD mean from baseline to overload 0.43-0.49 (Plews et al. 2014, IJSPP,
  trained triathletes); with a between-athlete SD of ln rMSSD of about 0.4 that is about
  0.2 ln units. Direction is not consistent across studies (some report a rise in FOR).
  Upper anchor -0.20.
* Overreaching, resting HR: short-term overload raised resting HR by SMD 0.55 (Bosquet et
  al. 2008, BJSM 42:709, meta-analysis), about +4 bpm for a between-athlete SD of ~7 bpm;
  long-term overload left it unchanged. Upper anchor +4 bpm.
* Overreaching time course: recovery within 2 weeks (functional overreaching, Meeusen et al.
  2013 ECSS/ACSM consensus); episodes last 10-14 days with a 3-day taper and a tail.

Sleep, questionnaire, self-rating and biomarker effects of the episodes are plausible
values, not taken from a cited source. Episodes start on day index >= 61 and never overlap
(>= 6 days apart); ones that do not fit into a short simulation are left out.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

import numpy as np
import pandas as pd
from scipy.signal import lfilter

from workbench.demo.squad import AthleteProfile

MESO_FACTORS = np.array([0.9, 1.0, 1.1, 0.65])
MINUTE_FACTORS = np.array([0.0, 0.75, 1.0, 1.2])
SRPE = np.array([0.0, 3.0, 5.0, 7.5])
SPIKE_START = 42
SPIKE_MIN_DAYS = 70
EPISODE_EARLIEST = 61
EPISODE_GAP = 6
OR_BLOCK_LOAD = 1.7
#: Range of the per-episode effect scale the demo draws (illness and overreaching).
DEMO_EFFECT_SCALE = (0.1, 1.0)
#: Episode kinds whose effects are scaled by the effect scale.
SCALED_KINDS = ("illness", "overreaching")

#: Full-intensity effects per episode kind (see module docstring).
EFFECTS: dict[str, dict[str, float]] = {
    "illness": dict(
        hrv=0.40,
        rhr=11,
        sleep=-60,
        awake=40,
        deep=-15,
        rem=-10,
        bedtime=0,
        sleep_q=-2.5,
        mood=-2.5,
        fatigue=3,
        soreness=1.5,
        stress=1.5,
        day_stress=15,
        ready=-3,
    ),
    "overreaching": dict(
        hrv=0.20,
        rhr=4,
        sleep=-45,
        awake=20,
        deep=-10,
        rem=-5,
        bedtime=0,
        sleep_q=-1.5,
        mood=-2.5,
        fatigue=2.5,
        soreness=2,
        stress=1.5,
        day_stress=10,
        ready=-2,
    ),
    "sleep_debt": dict(
        hrv=0.10,
        rhr=2,
        sleep=-90,
        awake=0,
        deep=-15,
        rem=-30,
        bedtime=75,
        sleep_q=-2,
        mood=-1,
        fatigue=1.5,
        soreness=0,
        stress=1,
        day_stress=8,
        ready=-1,
    ),
    "travel": dict(
        hrv=0.12,
        rhr=3,
        sleep=-60,
        awake=40,
        deep=-10,
        rem=-15,
        bedtime=0,
        sleep_q=-2.5,
        mood=-0.5,
        fatigue=1.5,
        soreness=0.5,
        stress=1,
        day_stress=15,
        ready=-1,
    ),
}


@dataclass(frozen=True)
class Episode:
    """One injected episode: day indices ``start``..``end`` inclusive (0 = first day)."""

    kind: str
    start: int
    end: int
    block_start: int | None = None  # overreaching: first day of the high-load block
    detail: str = ""
    scale: float = 1.0  # effect scale (see module docstring)


@dataclass
class AthleteDays:
    """Everything daily about one athlete (DataFrames in store columns, plus the latent frame)."""

    profile: AthleteProfile
    episodes: list[Episode]
    sessions: pd.DataFrame
    wellness: pd.DataFrame
    biomarkers: pd.DataFrame
    performance: pd.DataFrame
    latent: pd.DataFrame
    nights: pd.DataFrame  # date, start_time, mean_rr_ms, rmssd_ms, wake_min (for RR synthesis)


def spike_days(days: int) -> tuple[int, int] | None:
    """Day indices (first, last) of the squad's spike week, or None for short simulations."""
    return (SPIKE_START, SPIKE_START + 6) if days >= SPIKE_MIN_DAYS else None


def _lengths(kind: str, rng: np.random.Generator) -> tuple[int, int]:
    """(pre-block length, episode length) in days."""
    if kind == "illness":
        return 0, int(rng.integers(5, 11))
    if kind == "overreaching":
        return int(rng.integers(10, 15)), int(rng.integers(10, 15))
    if kind == "sleep_debt":
        return 0, 7
    if kind == "travel":
        return 0, int(rng.integers(2, 5))
    raise ValueError(f"unknown episode kind {kind!r}")


def place_episodes(kinds: tuple[str, ...], days: int, rng: np.random.Generator) -> list[Episode]:
    """Place episodes in order after day ``EPISODE_EARLIEST`` with random slack between them."""
    lengths = [_lengths(k, rng) for k in kinds]
    last = days - 4  # leave a short tail inside the simulation
    while lengths:
        need = sum(b + n for b, n in lengths) + EPISODE_GAP * (len(lengths) - 1)
        slack = last - EPISODE_EARLIEST - need
        if slack >= 0:
            break
        lengths.pop()
        kinds = kinds[: len(lengths)]
    if not lengths:
        return []
    cuts = np.sort(rng.integers(0, slack + 1, size=len(lengths)))
    extra = np.diff(np.concatenate([[0], cuts]))
    out, cursor = [], EPISODE_EARLIEST
    for kind, (block, n), gap in zip(kinds, lengths, extra, strict=True):
        cursor += int(gap)
        block_start = cursor if block else None
        start = cursor + block
        detail = ""
        if kind == "travel":
            shift_h = int(rng.integers(3, 8)) * (1 if rng.random() < 0.5 else -1)
            detail = f"{abs(shift_h)} time zones {'east' if shift_h > 0 else 'west'}"
        elif kind == "illness":
            detail = "upper respiratory tract infection"
        out.append(Episode(kind, start, start + n - 1, block_start, detail))
        cursor = start + n + EPISODE_GAP
    return out


def _profile(ep: Episode, days: int) -> np.ndarray:
    """Intensity 0..1 of an episode on every day (fast onset, short tail after the end)."""
    n = ep.end - ep.start + 1
    if ep.kind == "illness":
        body = np.ones(n)
        body[-2:] = [0.7, 0.45]  # illness lasts >= 5 days
        tail = [0.25, 0.1]
    elif ep.kind == "overreaching":
        body = np.ones(n)
        body[0] = 0.85
        body[-3:] = [0.8, 0.6, 0.4]
        tail = [0.25, 0.15, 0.1]
    else:
        body = np.ones(n)
        tail = [0.3]
    full = np.concatenate([body, tail])
    out = np.zeros(days)
    stop = min(days, ep.start + len(full))
    out[ep.start : stop] = full[: stop - ep.start]
    return out


def _ar1(rng: np.random.Generator, n: int, phi: float, sd: float) -> np.ndarray:
    innov = rng.normal(0.0, sd * np.sqrt(1 - phi**2), n)
    innov[0] = rng.normal(0.0, sd)
    return lfilter([1.0], [1.0, -phi], innov)


def _clip10(x: np.ndarray) -> np.ndarray:
    return np.clip(np.rint(x), 1, 10)


def simulate_athlete(
    profile: AthleteProfile,
    *,
    days: int,
    start_date: dt.date,
    seed: int,
    index: int,
    effect_scale: float | None = None,
) -> AthleteDays:
    """Simulate ``days`` days of one athlete (deterministic for ``seed`` and ``index``).

    ``effect_scale`` fixes the effect scale of every illness and overreaching episode (0 = no
    physiological change, 1 = upper literature anchor); ``None`` draws one per episode from
    ``DEMO_EFFECT_SCALE``.

    Returns store-ready DataFrames (``training_sessions``, ``wellness_daily``, ``biomarkers``,
    ``performance_tests`` columns) plus ``latent``: athlete_id, date, load_au, fatigue_hrv
    (lnRMSSD units), deficit, recovery_true (0-100), ln_rmssd, rhr_bpm, episode (kind or "").
    """
    rng = np.random.default_rng([seed, index, 1])
    d_idx = np.arange(days)
    dates = pd.date_range(start_date, periods=days, freq="D")
    weekday = dates.day_of_week.to_numpy()
    aid = profile.athlete_id

    episodes = place_episodes(profile.episode_kinds, days, rng)
    scales = np.random.default_rng([seed, index, 11]).uniform(*DEMO_EFFECT_SCALE, len(episodes))
    if effect_scale is not None:
        scales[:] = effect_scale
    episodes = [
        replace(ep, scale=float(np.round(sc, 3))) if ep.kind in SCALED_KINDS else ep
        for ep, sc in zip(episodes, scales, strict=True)
    ]
    # inten: behaviour (sessions skipped, blood draws); phys: physiological effects x scale
    inten = {k: np.zeros(days) for k in EFFECTS}
    phys = {k: np.zeros(days) for k in EFFECTS}
    for ep in episodes:
        inten[ep.kind] = np.maximum(inten[ep.kind], _profile(ep, days))
        phys[ep.kind] = np.maximum(phys[ep.kind], ep.scale * _profile(ep, days))
    or_block = np.zeros(days, bool)
    for ep in episodes:
        if ep.block_start is not None:
            or_block[ep.block_start : ep.start] = True

    # ---- plan ------------------------------------------------------------------------
    template = np.asarray(profile.week_template)
    level = template[weekday].copy()
    meso = MESO_FACTORS[(d_idx // 7) % 4]
    spike = np.zeros(days, bool)
    sp = spike_days(days)
    if sp:
        spike[sp[0] : sp[1] + 1] = True
        level[spike] = np.maximum(level[spike], 2)
    planned = level > 0
    planned_min = (
        np.round(profile.session_min * MINUTE_FACTORS[level] * meso * np.where(spike, 1.5, 1.0) / 5)
        * 5
    )
    planned_srpe = SRPE[level] + spike
    planned_load = planned_min * planned_srpe
    typical = float(np.mean(planned_load[planned & ~spike]))

    # ---- what was done -----------------------------------------------------------------
    has_session = planned | or_block
    dur = np.where(planned, planned_min, np.round(profile.session_min / 5) * 5) * np.exp(
        rng.normal(0, 0.07, days)
    )
    srpe = np.where(planned, planned_srpe, SRPE[2]) + rng.normal(0, 0.6, days)
    dur = np.where(or_block, dur * 1.35, dur)
    srpe = np.where(or_block, srpe + 1.5, srpe) + 1.5 * phys["overreaching"]
    dur = np.where(inten["overreaching"] > 0, dur * 0.9, dur)
    srpe = np.clip(np.round(srpe * 2) / 2, 1, 10)
    dur = np.round(dur)
    travel_first = np.zeros(days, bool)
    for ep in episodes:
        if ep.kind == "travel":
            travel_first[ep.start] = True
    skipped = has_session & (
        (inten["illness"] >= 0.4)
        | travel_first
        | ((rng.random(days) < 0.03) & ~or_block & (inten["overreaching"] == 0))
    )
    done = has_session & ~skipped
    load = np.where(done, dur * srpe, 0.0)

    # ---- latent state ------------------------------------------------------------------
    norm = load / typical
    y = lfilter([1.0], [1.0, -np.exp(-1 / 1.2)], norm)
    x = np.concatenate([[np.median(y)], y[:-1]])  # morning d sees loads up to d-1
    e = x - np.median(x)
    f_load = np.where(e > 0, 0.25 * (1 - np.exp(-e / 1.2)), np.maximum(0.25 / 1.2 * e, -0.06))
    lam = 1 - np.exp(-1 / 42)
    ctl = lfilter([lam], [1.0, -(1 - lam)], norm, zi=[(1 - lam) * np.mean(norm)])[0]
    fitness = ctl / np.mean(ctl) - 1
    eta = _ar1(rng, days, 0.6, 0.05)
    eff = {key: sum(EFFECTS[k][key] * phys[k] for k in EFFECTS) for key in EFFECTS["illness"]}
    deficit = f_load + eff["hrv"] + eta
    recovery_true = np.clip(80 - 150 * deficit, 0, 100)
    ln_rmssd = np.log(profile.rmssd_base_ms) + 0.12 * fitness - deficit + rng.normal(0, 0.06, days)
    rhr = (
        profile.rhr_base_bpm
        - 2 * fitness
        + 5 * (f_load + eta)
        + eff["rhr"]
        + rng.normal(0, 1.3, days)
    )

    # ---- sleep -------------------------------------------------------------------------
    need = profile.sleep_need_min
    total = need - 15 + rng.normal(0, 20, days) + 40 * f_load + eff["sleep"]
    total = np.clip(total, 180, 720)
    awake = np.clip(25 + rng.normal(0, 8, days) + eff["awake"], 3, 240)
    deep = np.clip(
        total * (0.18 + rng.normal(0, 0.015, days)) + 30 * f_load + eff["deep"], 15, None
    )
    rem = np.clip(total * (0.22 + rng.normal(0, 0.02, days)) + eff["rem"], 15, None)
    light = total - deep - rem
    shift = np.zeros(days)
    for ep in episodes:
        if ep.kind == "travel":
            hours = int(ep.detail.split()[0]) * (1 if "east" in ep.detail else -1)
            shift[ep.start : ep.end + 1] = -60 * hours * np.linspace(1, 0.4, ep.end - ep.start + 1)
    bedtime = profile.bedtime_min + rng.normal(0, 20, days) + eff["bedtime"] + shift
    latency = rng.uniform(8, 20, days)
    wake = bedtime + latency + total + awake  # minutes after midnight of the evening before

    # ---- subjective and stress -------------------------------------------------------
    fatigue = _clip10(3.5 + 6 * f_load + eff["fatigue"] + rng.normal(0, 0.9, days))
    soreness = _clip10(3 + 5 * f_load + eff["soreness"] + rng.normal(0, 1.0, days))
    mood_raw = 7 - 2 * f_load + eff["mood"] + rng.normal(0, 0.9, days)
    mood = _clip10(mood_raw)
    life_stress = _ar1(rng, days, 0.8, 0.8)
    stress = _clip10(3.5 + life_stress + eff["stress"] + rng.normal(0, 0.7, days))
    sleep_q = _clip10(
        7 + 0.02 * (total - need) - 0.05 * (awake - 25) + eff["sleep_q"] + rng.normal(0, 0.9, days)
    )
    ready = _clip10(
        6.3 - 3 * deficit + 0.25 * (mood_raw - 7) + eff["ready"] + rng.normal(0, 1.2, days)
    )
    day_stress = np.clip(
        32 + 40 * f_load + 6 * life_stress + eff["day_stress"] + rng.normal(0, 7, days), 0, 100
    )

    protect = np.zeros(days, bool)  # keep data complete around episode starts
    for ep in episodes:
        protect[max(0, ep.start - 7) : ep.start + 5] = True
    no_quest = (rng.random(days) < 0.04) & ~protect
    no_night = (rng.random(days) < 0.02) & ~protect
    no_night[0] = False

    wellness = pd.DataFrame(
        {
            "athlete_id": aid,
            "date": dates.date,
            "source": "demo",
            "sleep_total_min": np.round(total),
            "sleep_deep_min": np.round(deep),
            "sleep_rem_min": np.round(rem),
            "sleep_light_min": np.round(total) - np.round(deep) - np.round(rem),
            "sleep_awake_min": np.round(awake),
            "bedtime": [
                f"{int(m // 60) % 24:02d}:{int(m % 60):02d}" for m in np.round(bedtime) % 1440
            ],
            "resting_hr_bpm": np.round(rhr, 1),
            "rmssd_ms": np.round(np.exp(ln_rmssd), 1),
            "daytime_stress": np.round(day_stress),
            "fatigue_1_10": fatigue,
            "soreness_1_10": soreness,
            "mood_1_10": mood,
            "stress_1_10": stress,
            "sleep_quality_1_10": sleep_q,
            "readiness_self_1_10": ready,
        }
    )
    quest_cols = [
        "fatigue_1_10",
        "soreness_1_10",
        "mood_1_10",
        "stress_1_10",
        "sleep_quality_1_10",
        "readiness_self_1_10",
    ]
    wellness.loc[no_quest, quest_cols] = np.nan
    night_cols = [
        "sleep_total_min",
        "sleep_deep_min",
        "sleep_rem_min",
        "sleep_light_min",
        "sleep_awake_min",
        "bedtime",
        "resting_hr_bpm",
        "rmssd_ms",
    ]
    wellness.loc[no_night, night_cols] = None
    del light

    # ---- nights for the RR synthesis ---------------------------------------------------
    evening = pd.Timestamp(start_date) - pd.Timedelta(days=1) + pd.to_timedelta(d_idx, unit="D")
    seg_start = evening + pd.to_timedelta(np.round(wake - rng.uniform(100, 140, days)), unit="min")
    nights = pd.DataFrame(
        {
            "date": dates.date,
            "start_time": seg_start,
            "wake_time": evening + pd.to_timedelta(np.round(wake), unit="min"),
            "mean_rr_ms": 60000.0 / (rhr - 1.0),
            "rmssd_ms": np.exp(ln_rmssd),
            "rhr_bpm": rhr,
        }
    )[~no_night].reset_index(drop=True)

    # ---- sessions ----------------------------------------------------------------------
    stype = np.array(profile.session_types)[np.clip(level, 1, 3) - 1]
    rows = has_session
    sessions = pd.DataFrame(
        {
            "athlete_id": aid,
            "date": dates.date[rows],
            "session_type": stype[rows],
            "status": np.where(done, "done", "skipped")[rows],
            "duration_min": np.where(done, dur, np.nan)[rows],
            "srpe": np.where(done, srpe, np.nan)[rows],
            "load_au": np.where(done, load, np.nan)[rows],
            "planned_duration_min": np.where(planned, planned_min, np.nan)[rows],
            "planned_load_au": np.where(planned, planned_load, np.nan)[rows],
            "source": "demo",
        }
    )
    # next week's plan (status planned)
    fut = np.arange(days, days + 7)
    f_dates = pd.date_range(start_date + dt.timedelta(days=days), periods=7, freq="D")
    f_level = template[f_dates.day_of_week.to_numpy()]
    f_min = (
        np.round(profile.session_min * MINUTE_FACTORS[f_level] * MESO_FACTORS[(fut // 7) % 4] / 5)
        * 5
    )
    keep = f_level > 0
    future = pd.DataFrame(
        {
            "athlete_id": aid,
            "date": f_dates.date[keep],
            "session_type": np.array(profile.session_types)[np.clip(f_level, 1, 3) - 1][keep],
            "status": "planned",
            "duration_min": np.nan,
            "srpe": np.nan,
            "load_au": np.nan,
            "planned_duration_min": f_min[keep],
            "planned_load_au": (f_min * SRPE[f_level])[keep],
            "source": "demo",
        }
    )
    sessions = pd.concat([sessions, future], ignore_index=True)

    # ---- performance: daily CMJ ----------------------------------------------------------
    cmj = profile.cmj_base_cm * (1 + 0.05 * fitness) * (1 - 0.30 * deficit) + rng.normal(
        0, 0.5, days
    )
    has_cmj = (inten["illness"] < 0.4) & ((rng.random(days) >= 0.06) | protect)
    performance = pd.DataFrame(
        {
            "athlete_id": aid,
            "date": dates.date[has_cmj],
            "test": "cmj_height",
            "value": np.round(cmj[has_cmj], 1),
            "unit": "cm",
            "source": "demo",
        }
    )

    # ---- biomarkers --------------------------------------------------------------------
    draws = []
    day = int(rng.integers(5, 25))
    while day < days:
        draws.append(day)
        day += int(rng.integers(28, 43))
    for ep in episodes:
        if ep.kind == "illness":
            draws.append(min(days - 1, ep.start + 2))
        elif ep.kind == "overreaching":
            draws.append(min(days - 1, ep.start + 4))
    draws = np.array(sorted(set(draws)), dtype=int)
    ill, orv = phys["illness"][draws], phys["overreaching"][draws]
    block = or_block[draws] | (orv > 0)
    recent = np.clip(e[draws], 0, None)
    n = len(draws)
    ck_base = {"strength": 260.0, "team": 220.0, "endurance": 150.0}[profile.group]
    values = {
        ("cortisol", "nmol/L"): 400
        * np.exp(rng.normal(0, 0.12, n))
        * (1 + 0.35 * ill + 0.25 * orv + 0.05 * recent),
        ("creatine_kinase", "U/L"): ck_base
        * np.exp(rng.normal(0, 0.25, n))
        * (1 + 0.6 * recent)
        * (1 + 2.0 * block),
        ("crp", "mg/L"): 0.7 * np.exp(rng.normal(0, 0.3, n)) * (1 + 9 * ill + 1.0 * orv),
        ("lactate_rest", "mmol/L"): 1.0
        * np.exp(rng.normal(0, 0.1, n))
        * (1 + 0.25 * orv + 0.1 * ill),
    }
    biomarkers = pd.concat(
        [
            pd.DataFrame(
                {
                    "athlete_id": aid,
                    "date": dates.date[draws],
                    "marker": marker,
                    "value": np.round(v, 2),
                    "unit": unit,
                    "source": "demo:lab",
                }
            )
            for (marker, unit), v in values.items()
        ],
        ignore_index=True,
    ).sort_values(["date", "marker"], ignore_index=True)

    kind_of_day = np.full(days, "", dtype=object)
    for ep in episodes:
        kind_of_day[ep.start : ep.end + 1] = ep.kind
    latent = pd.DataFrame(
        {
            "athlete_id": aid,
            "date": dates,
            "load_au": load,
            "fatigue_hrv": f_load,
            "deficit": deficit,
            "recovery_true": recovery_true,
            "ln_rmssd": ln_rmssd,
            "rhr_bpm": rhr,
            "episode": kind_of_day,
        }
    )
    return AthleteDays(
        profile, episodes, sessions, wellness, biomarkers, performance, latent, nights
    )


def episode_rows(days: AthleteDays, start_date: dt.date) -> list[dict]:
    """``episodes`` table rows (ground truth) with their effect sizes in ``notes``."""
    out = []
    for ep in days.episodes:
        eff = {k: v * ep.scale for k, v in EFFECTS[ep.kind].items()}
        note = (
            f"injected {ep.kind}"
            + (f" ({ep.detail})" if ep.detail else "")
            + (f"; effect scale {ep.scale:.2f}" if ep.kind in SCALED_KINDS else "")
            + f"; full-intensity effects: lnRMSSD -{eff['hrv']:.2f}, RHR +{eff['rhr']:.1f} bpm, "
            f"sleep {eff['sleep']:+.0f} min, mood {eff['mood']:+.1f}"
        )
        if ep.block_start is not None:
            b0 = start_date + dt.timedelta(days=ep.block_start)
            b1 = start_date + dt.timedelta(days=ep.start - 1)
            note += (
                f"; preceded by a high-load block {b0} to {b1} (done load x{OR_BLOCK_LOAD} vs plan)"
            )
        out.append(
            {
                "athlete_id": days.profile.athlete_id,
                "kind": ep.kind,
                "start_date": start_date + dt.timedelta(days=ep.start),
                "end_date": start_date + dt.timedelta(days=ep.end),
                "notes": note,
            }
        )
    return out
