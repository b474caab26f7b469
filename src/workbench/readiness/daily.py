"""Daily readiness of a whole squad: baselines, load, score with contributors, flags, advice."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from workbench.errors import DataFormatError
from workbench.log import get_logger
from workbench.readiness import baselines as bl
from workbench.readiness._grid import to_long, to_wide
from workbench.readiness.advice import (
    band_cap_reason,
    bedtime_lines,
    daily_advice,
    readiness_band,
)
from workbench.readiness.data_quality import data_quality_notes
from workbench.readiness.flags import (
    biomarkers_elevated_wide,
    performance_down_wide,
    warning_markers_wide,
)
from workbench.readiness.inputs import ReadinessInputs
from workbench.readiness.load import (
    ACWR_METHODS,
    LOAD_SPIKE_ACWR,
    daily_load_wide,
    load_metrics_wide,
)

log = get_logger(__name__)

#: Nominal weights of the score's contributors (renormalised over those available).
WEIGHTS: dict[str, float] = {
    "hrv": 0.35,
    "rhr": 0.15,
    "sleep": 0.20,
    "wellness": 0.15,
    "load": 0.10,
    "stress": 0.05,
}
LABELS: dict[str, str] = {
    "hrv": "HRV (lnRMSSD vs normal range)",
    "rhr": "resting HR vs 4-week baseline",
    "sleep": "sleep vs need",
    "wellness": "wellness questionnaire",
    "load": "training load (ACWR)",
    "stress": "daytime stress (yesterday)",
}
BANDS = ((80.0, "go hard"), (60.0, "moderate"))

COLUMNS = [
    "athlete_id",
    "date",
    "score",
    "band",
    "lnrmssd",
    "rmssd_ms",
    "lnrmssd_7d",
    "normal_low",
    "normal_high",
    "cv_7d_pct",
    "hrv_pct_below_baseline",
    "hrv_pct_below_normal",
    "hrv_deficit_pct",
    "hrv_flag",
    "hrv_z",
    "resting_hr_bpm",
    "rhr_z",
    "rhr_flag",
    "sleep_total_min",
    "sleep_deep_min",
    "sleep_rem_min",
    "sleep_need_min",
    "sleep_ratio",
    "sleep_debt_7d_min",
    "daytime_stress",
    "wellness_score",
    "readiness_self_1_10",
    "load_au",
    "acwr",
    "acwr_method",
    "acwr_ewma",
    "acwr_rolling_coupled",
    "acwr_rolling_uncoupled",
    "load_spike_flag",
    "ctl",
    "atl",
    "tsb",
    "overtraining_warning",
    "illness_flag",
    "warning_evidence",
    "contributors",
    "reasons",
    "advice_action",
    "advice",
    "data_quality",
]


def _load_score(acwr: np.ndarray) -> np.ndarray:
    """100 inside 0.8-1.3, 90 below (under-loading is no recovery problem), falling to 0 at 1.7."""
    s = np.where(acwr < 0.8, 90.0, np.where(acwr <= 1.3, 100.0, 100.0 - 250.0 * (acwr - 1.3)))
    return np.clip(np.where(np.isfinite(acwr), s, np.nan), 0.0, 100.0)


def _fmt_sleep(minutes: float) -> str:
    return f"{int(minutes // 60)} h {int(round(minutes % 60)):02d} min"


def compute_readiness(
    inputs: ReadinessInputs,
    *,
    acwr_method: str = "ewma",
    wake_time: str = "07:00",
    with_text: bool = True,
) -> pd.DataFrame:
    """Daily readiness of every athlete-day, vectorised over the squad.

    Morning view of day *d*: HRV, resting HR and sleep of that morning; load metrics
    (``load_au, acwr*, ctl, atl, tsb_same_day``) include the sessions of day *d*, ``tsb`` is
    yesterday's CTL - ATL (GoldenCheetah: the form you start day *d* with), and the score uses
    the previous day's ACWR and daytime stress (what is known in the morning).

    Parameters
    ----------
    inputs:
        From :func:`workbench.readiness.load_inputs` (or built from DataFrames).
    acwr_method:
        ``"ewma"`` (default, λ = 2/(N+1)), ``"rolling_coupled"`` or ``"rolling_uncoupled"``:
        the form reported in ``acwr`` and used by the score.
    wake_time:
        ``"HH:MM"`` wake-up time used for the bedtime advice.
    with_text:
        Build the per-row ``contributors``, ``reasons``, ``advice`` and ``warning_evidence``
        (Python objects); ``False`` leaves them ``None`` for speed.

    Returns
    -------
    pandas.DataFrame
        One row per athlete-day from the athlete's first data day to the last day of data:

        - ``score`` 0-100 (NaN while HRV has < 7 valid mornings), ``band``: ``"go hard"``
          (> 80), ``"moderate"`` (60-80), ``"recovery"`` (< 60) or ``"insufficient data"``,
          decided on the displayed (rounded) score and capped by the flags
          (:func:`workbench.readiness.advice.readiness_band`).
        - HRV: ``lnrmssd`` (ln ms), ``rmssd_ms``, ``lnrmssd_7d`` (>= 3 valid in 7 days),
          ``normal_low/normal_high`` (previous 60 days, mean ∓ 0.5 SD), ``cv_7d_pct``,
          ``hrv_pct_below_baseline`` (%, RMSSD terms, negative when above),
          ``hrv_pct_below_normal`` (% below ``normal_low``), ``hrv_deficit_pct`` (0/10/20/30
          fixed flag), ``hrv_flag`` (SWC: below/within/above normal range or insufficient
          data), ``hrv_z``.
        - ``resting_hr_bpm``, ``rhr_z`` (vs previous 28 days), ``rhr_flag``
          (green/yellow/red/insufficient data).
        - Sleep (minutes): ``sleep_total_min, sleep_deep_min, sleep_rem_min,
          sleep_need_min``, ``sleep_ratio`` (total/need), ``sleep_debt_7d_min``.
        - ``daytime_stress`` (0-100, that day), ``wellness_score`` (0-100),
          ``readiness_self_1_10`` (self-rating, not used by the score).
        - Load: ``load_au`` (AU), ``acwr`` (the chosen form), ``acwr_method`` (its label),
          ``acwr_ewma, acwr_rolling_coupled, acwr_rolling_uncoupled``, ``load_spike_flag``
          (acwr >= 1.5; a load-spike flag, not an injury prediction), ``ctl, atl``,
          ``tsb`` (yesterday's CTL - ATL, GoldenCheetah) and ``tsb_same_day``.
        - ``overtraining_warning`` (bool, sustained >= 5 days), ``illness_flag`` (bool,
          acute "possible illness / incomplete recovery"), ``warning_evidence`` (list[str]).
        - ``contributors``: list of dicts ``name, label, score, weight`` (weights sum to 1
          over the available inputs), ``reasons``: list[str], ``advice_action``
          (train hard/moderate/recovery/insufficient data), ``advice``: list[str].
        - ``data_quality``: list[str], inputs missing or not trusted that day (no morning HRV,
          a reading flagged at import or with too many corrected beats, no resting HR, no
          sleep); empty when every input was there.

        ``df.attrs["athletes_without_data"]`` lists athletes with no data in the range.
    """
    if acwr_method not in ACWR_METHODS:
        raise DataFormatError(
            f"unknown acwr_method {acwr_method!r}; use one of {sorted(ACWR_METHODS)}",
            field="acwr_method",
        )
    ids = inputs.athlete_ids
    hrv, well, sess = inputs.hrv_daily, inputs.wellness, inputs.sessions
    done = sess[sess["status"] == "done"] if not sess.empty else sess
    firsts = [f.groupby("athlete_id")["date"].min() for f in (hrv, well, done) if not f.empty]
    lasts = [f["date"].max() for f in (hrv, well, done) if not f.empty]
    if not firsts:
        raise DataFormatError(
            f"no HRV, wellness or training data for athletes {ids[:10]} in the range",
            field="date",
        )
    first = pd.concat(firsts, axis=1).min(axis=1)
    without = [a for a in ids if a not in first.index]
    if without:
        log.warning("no readiness data for %s", without)
    ids = [a for a in ids if a in first.index]
    first = first.reindex(ids)
    lo, hi = first.min(), max(lasts)
    if inputs.end is not None:
        hi = min(hi, inputs.end)
    dates = pd.date_range(lo, hi, freq="D")
    active = pd.DataFrame(
        dates.to_numpy()[:, None] >= first.to_numpy()[None, :], index=dates, columns=first.index
    )
    if inputs.start is not None:
        active &= (dates >= inputs.start)[:, None]

    def w(frame: pd.DataFrame, col: str) -> pd.DataFrame:
        return to_wide(frame, col, dates, ids)

    ln = w(hrv, "lnrmssd")
    rmssd = w(hrv, "rmssd_ms").where(ln.notna())
    if "rmssd_ms" in well:  # device-reported nightly RMSSD fills days without a reading
        dev = w(well, "rmssd_ms")
        dev_ln = np.log(dev.where(dev > 0))
        no_reading = w(hrv.assign(_x=1.0), "_x").isna()
        ln = ln.where(~no_reading, dev_ln)
        rmssd = rmssd.where(~no_reading, dev)
    base = bl.hrv_baseline_wide(ln)
    hrv_flag, deficit = bl.hrv_flags(base)

    rhr = w(well, "resting_hr_bpm")
    rhr_z = bl.rhr_z_wide(rhr)
    need = inputs.athletes.set_index("athlete_id")["sleep_need_min"].reindex(ids)
    total, deep, rem = (
        w(well, "sleep_total_min"),
        w(well, "sleep_deep_min"),
        w(well, "sleep_rem_min"),
    )
    sleep = bl.sleep_score_wide(total, deep, rem, need)
    items = {
        k: w(well, k)
        for k in ("fatigue_1_10", "soreness_1_10", "mood_1_10", "stress_1_10", "sleep_quality_1_10")
    }
    wellness = bl.wellness_score_wide(items)
    wellness_z = bl.personal_z_wide(wellness)
    stress = w(well, "daytime_stress")

    load = daily_load_wide(sess, dates, first)
    lm = load_metrics_wide(load, first)
    acwr = lm[f"acwr_{acwr_method}"]

    comp = {
        "hrv": _hrv_score(ln, base),
        "rhr": np.clip(85.0 - 20.0 * rhr_z.to_numpy(), 0.0, 100.0),
        "sleep": sleep["sleep_score"].to_numpy(),
        "wellness": wellness.to_numpy(),
        "load": _load_score(acwr.shift(1).to_numpy()),
        "stress": np.clip(100.0 - stress.shift(1).to_numpy(), 0.0, 100.0),
    }
    names = list(WEIGHTS)
    stack = np.stack([comp[k] for k in names])  # (k, dates, athletes)
    avail = np.isfinite(stack)
    wts = np.array([WEIGHTS[k] for k in names])[:, None, None] * avail
    wsum = wts.sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        score = (np.where(avail, stack, 0.0) * wts).sum(axis=0) / wsum
    ready = np.isfinite(base["baseline_mean"].to_numpy()) & (wsum > 0)
    score = np.where(ready, score, np.nan)

    sex = {}
    if "sex" in inputs.athletes:
        sex = dict(zip(inputs.athletes["athlete_id"], inputs.athletes["sex"], strict=True))
    bio = biomarkers_elevated_wide(inputs.biomarkers, dates, ids, sex)
    perf = performance_down_wide(inputs.performance_tests, dates, ids)
    marks = warning_markers_wide(ln, base, rhr_z, sleep, wellness_z, bio, perf, lm["acwr_ewma"])

    def frame(a: np.ndarray) -> pd.DataFrame:
        return pd.DataFrame(a, index=dates, columns=first.index)

    wides = {
        "score": frame(score),
        "band": frame(  # bands on the displayed score, capped by the flags (advice.py)
            readiness_band(
                score,
                hrv_below_normal=hrv_flag == "below normal range",
                illness_flag=marks["illness_flag"].to_numpy(dtype=bool),
                overtraining_warning=marks["overtraining_warning"].to_numpy(dtype=bool),
                load_spike=acwr.shift(1).to_numpy() >= LOAD_SPIKE_ACWR,
                rhr_red=bl.rhr_flag(rhr_z.to_numpy()) == "red",
            )
        ),
        "lnrmssd": ln,
        "rmssd_ms": rmssd,
        "lnrmssd_7d": base["lnrmssd_7d"],
        "normal_low": base["normal_low"],
        "normal_high": base["normal_high"],
        "cv_7d_pct": base["cv_7d_pct"],
        "hrv_pct_below_baseline": base["hrv_pct_below_baseline"],
        "hrv_pct_below_normal": base["hrv_pct_below_normal"],
        "hrv_deficit_pct": frame(deficit),
        "hrv_flag": frame(hrv_flag),
        "hrv_z": base["hrv_z"],
        "hrv_valid_7d": base["hrv_valid_7d"],
        "resting_hr_bpm": rhr,
        "rhr_z": rhr_z,
        "rhr_flag": frame(bl.rhr_flag(rhr_z.to_numpy())),
        "sleep_total_min": total,
        "sleep_deep_min": deep,
        "sleep_rem_min": rem,
        "sleep_need_min": frame(np.broadcast_to(need.to_numpy(), (len(dates), len(ids)))),
        "sleep_ratio": sleep["sleep_ratio"],
        "deep_ratio": sleep["deep_ratio"],
        "rem_ratio": sleep["rem_ratio"],
        "sleep_debt_7d_min": sleep["sleep_debt_7d_min"],
        "daytime_stress": stress,
        "stress_yesterday": stress.shift(1),
        "wellness_score": wellness,
        "readiness_self_1_10": w(well, "readiness_self_1_10"),
        "load_au": load,
        "acwr": acwr,
        "acwr_yesterday": acwr.shift(1),
        "acwr_ewma": lm["acwr_ewma"],
        "acwr_rolling_coupled": lm["acwr_rolling_coupled"],
        "acwr_rolling_uncoupled": lm["acwr_rolling_uncoupled"],
        "ctl": lm["ctl"],
        "atl": lm["atl"],
        "tsb": lm["tsb"],
        "biomarkers_elevated": bio,
    }
    for k in names:
        wides[f"c_{k}"] = frame(stack[names.index(k)])
    for k, v in marks.items():
        wides[k] = v
    out = to_long(wides, active)
    out["acwr_method"] = ACWR_METHODS[acwr_method]
    out["load_spike_flag"] = out["acwr"].to_numpy() >= LOAD_SPIKE_ACWR
    for k in marks:
        out[k] = out[k].astype(bool)
    if with_text:
        _add_text(out, names, wake_time)
    else:
        for k in ("warning_evidence", "contributors", "reasons", "advice_action", "advice"):
            out[k] = None
    out["data_quality"] = data_quality_notes(out, hrv)
    out.attrs["athletes_without_data"] = without
    extra = [c for c in out.columns if c not in COLUMNS]
    return out[COLUMNS + extra]


def _hrv_score(ln: pd.DataFrame, base: dict[str, pd.DataFrame]) -> np.ndarray:
    """85 at the 60-day mean, 25 points per SD of today's and the 7-day lnRMSSD (mean of both)."""
    mu, sd = base["baseline_mean"].to_numpy(), base["baseline_sd"].to_numpy()
    with np.errstate(invalid="ignore", divide="ignore"):
        z_today = (ln.to_numpy() - mu) / sd
        z_week = (base["lnrmssd_7d"].to_numpy() - mu) / sd
    z = np.where(
        np.isfinite(z_today) & np.isfinite(z_week),
        0.5 * (z_today + z_week),
        np.where(np.isfinite(z_today), z_today, z_week),
    )
    return np.clip(85.0 + 25.0 * np.clip(z, -4.0, 0.6), 0.0, 100.0)


def _add_text(out: pd.DataFrame, names: list[str], wake_time: str) -> None:
    """Per-row contributors, reasons, warning evidence and advice (Python objects)."""
    used = [
        "score", "band", "hrv_flag", "rhr_flag", "hrv_valid_7d", "hrv_pct_below_normal", "hrv_deficit_pct",
        "hrv_pct_below_baseline", "lnrmssd", "hrv_z", "rhr_z", "resting_hr_bpm", "sleep_ratio",
        "sleep_total_min", "sleep_need_min", "deep_ratio", "sleep_deep_min", "rem_ratio",
        "sleep_rem_min", "wellness_score", "stress_yesterday", "acwr_yesterday",
        "sleep_debt_7d_min", "overtraining_warning", "illness_flag", "m_hrv_low",
        "m_hrv_trend", "cv_7d_pct", "m_rhr_up", "m_sleep", "m_wellness", "m_biomarker",
        "biomarkers_elevated", "m_performance",
    ]  # fmt: skip
    cols = {c: out[c].tolist() for c in used}
    comps = np.stack([out[f"c_{k}"].to_numpy() for k in names], axis=1)
    avail = np.isfinite(comps)
    wts = np.array([WEIGHTS[k] for k in names])[None, :] * avail
    with np.errstate(invalid="ignore", divide="ignore"):
        wts = wts / wts.sum(axis=1, keepdims=True)
    comps_r = np.round(comps, 1).tolist()
    wts_r = np.round(wts, 3).tolist()
    avail_l = avail.tolist()
    meta = [(j, k, LABELS[k]) for j, k in enumerate(names)]
    bedtimes = bedtime_lines(
        out["sleep_need_min"].to_numpy(), out["sleep_debt_7d_min"].to_numpy(), wake_time
    )
    contributors, reasons, evidence, actions, advice = [], [], [], [], []
    for i, vals in enumerate(zip(*[cols[c] for c in used], strict=True)):
        row = dict(zip(used, vals, strict=True))
        ci, wi, ai = comps_r[i], wts_r[i], avail_l[i]
        contributors.append(
            [
                {"name": k, "label": lab, "score": ci[j], "weight": wi[j]}
                for j, k, lab in meta
                if ai[j]
            ]
        )
        reasons.append(_reasons(row))
        evidence.append(
            _evidence(row) if (row["overtraining_warning"] or row["illness_flag"]) else []
        )
        spike = bool(row["acwr_yesterday"] >= LOAD_SPIKE_ACWR)
        act, lines = daily_advice(
            row["band"],
            illness_flag=row["illness_flag"],
            overtraining_warning=row["overtraining_warning"],
            load_spike=spike,
            cap_reason=band_cap_reason(
                row["score"],
                row["band"],
                hrv_below_normal=row["hrv_flag"] == "below normal range",
                illness_flag=row["illness_flag"],
                overtraining_warning=row["overtraining_warning"],
                load_spike=spike,
                rhr_red=row["rhr_flag"] == "red",
            ),
            sleep_need_min=row["sleep_need_min"],
            sleep_debt_7d_min=row["sleep_debt_7d_min"],
            wake_time=wake_time,
            bedtime_line=bedtimes[i],
        )
        actions.append(act)
        advice.append(lines)
    out["contributors"] = contributors
    out["reasons"] = reasons
    out["warning_evidence"] = evidence
    out["advice_action"] = actions
    out["advice"] = advice


def _finite(x: float) -> bool:
    return x == x and x not in (math.inf, -math.inf)  # NaN != NaN


def _reasons(r: dict) -> list[str]:
    out: list[str] = []
    if r["hrv_flag"] == "insufficient data":
        out.append(
            f"HRV: insufficient data ({int(r['hrv_valid_7d'])} valid mornings in 7 days; "
            "needs >= 3 a week and >= 7 for a baseline)"
        )
    elif r["hrv_flag"] == "below normal range":
        out.append(f"HRV 7-day mean {r['hrv_pct_below_normal']:.0f} % below normal range")
    elif r["hrv_flag"] == "above normal range":
        out.append("HRV 7-day mean above normal range")
    if _finite(r["hrv_deficit_pct"]) and r["hrv_deficit_pct"] >= 10:
        out.append(
            f"HRV 7-day mean {r['hrv_pct_below_baseline']:.0f} % below baseline "
            f"(>= {r['hrv_deficit_pct']:.0f} % flag)"
        )
    if not _finite(r["lnrmssd"]) and r["hrv_flag"] != "insufficient data":
        out.append("no valid HRV reading this morning (missing or > 5 % corrected beats)")
    elif _finite(r["hrv_z"]) and r["hrv_z"] <= -1.0:
        out.append(f"HRV this morning {r['hrv_z']:.1f} SD below baseline")
    if _finite(r["rhr_z"]) and abs(r["rhr_z"]) >= 1.0:
        out.append(
            f"resting HR {r['resting_hr_bpm']:.0f} bpm, z = {r['rhr_z']:+.1f} vs 4-week baseline"
        )
    if _finite(r["sleep_ratio"]) and r["sleep_ratio"] < 0.9:
        out.append(
            f"slept {_fmt_sleep(r['sleep_total_min'])} of {_fmt_sleep(r['sleep_need_min'])} need"
        )
    if _finite(r["deep_ratio"]) and r["deep_ratio"] < 0.75:
        out.append(f"deep sleep short ({r['sleep_deep_min']:.0f} min)")
    if _finite(r["rem_ratio"]) and r["rem_ratio"] < 0.75:
        out.append(f"REM sleep short ({r['sleep_rem_min']:.0f} min)")
    if _finite(r["wellness_score"]) and r["wellness_score"] < 50:
        out.append(f"wellness questionnaire low ({r['wellness_score']:.0f}/100)")
    if _finite(r["stress_yesterday"]) and r["stress_yesterday"] >= 60:
        out.append(f"daytime stress yesterday {r['stress_yesterday']:.0f}/100")
    a = r["acwr_yesterday"]
    if _finite(a) and a >= LOAD_SPIKE_ACWR:
        out.append(f"load-spike flag: ACWR {a:.2f} >= 1.5 (not an injury prediction)")
    elif _finite(a) and a > 1.3:
        out.append(f"ACWR {a:.2f} above the 0.8-1.3 range")
    if not out:
        out.append("all markers within the usual range")
    return out


def _evidence(r: dict) -> list[str]:
    ev: list[str] = []
    if r["m_hrv_low"]:
        ev.append(f"HRV 7-day mean {r['hrv_pct_below_normal']:.0f} % below normal range")
    if r["m_hrv_trend"]:
        ev.append(f"HRV falling or more variable (CV {r['cv_7d_pct']:.1f} %)")
    if _finite(r["hrv_z"]) and r["hrv_z"] <= -1.0:
        ev.append(f"HRV this morning {r['hrv_z']:.1f} SD below baseline")
    if r["m_rhr_up"] or (_finite(r["rhr_z"]) and r["rhr_z"] >= 1.0):
        ev.append(f"resting HR up (z = {r['rhr_z']:+.1f})")
    if r["m_sleep"]:
        ev.append("sleep short or disrupted over the last 3 nights")
    if r["m_wellness"]:
        ev.append("wellness/mood down vs usual over the last 3 days")
    if r["m_biomarker"]:
        ev.append(f"biomarkers: {r['biomarkers_elevated']}")
    if r["m_performance"]:
        ev.append("countermovement jump >= 1 SD below usual this week")
    if r["overtraining_warning"]:
        ev.insert(
            0,
            "Overtraining warning: multi-marker pattern on >= 5 of the last 6 days "
            "(a warning, not a diagnosis)",
        )
    if r["illness_flag"]:
        ev.insert(0, "Possible illness / incomplete recovery (acute markers)")
    return ev
