"""Does the readiness score predict performance? Compared with self-rated readiness.

Every figure carries a bootstrap 95 % confidence interval over athletes (athletes resampled
with replacement, their days kept together: days of one athlete are not independent), and
the score's advantage over the self-rating is reported as a paired difference with its own
interval. With a handful of athletes these intervals are wide; that is the honest answer.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from workbench.errors import DataFormatError

#: An outcome is "below usual" when it is this many of the athlete's SDs under their mean.
BELOW_USUAL_SD = 0.5
PREDICTORS = {"score": "readiness score", "readiness_self_1_10": "self-rated readiness"}
#: Bootstrap resamples for the confidence intervals (over athletes).
N_BOOT = 400


def auc(scores: np.ndarray, positive: np.ndarray) -> float:
    """Area under the ROC curve of ``scores`` for ``positive`` (Mann-Whitney, ties = 0.5)."""
    s = np.asarray(scores, dtype=float)
    pos = np.asarray(positive, dtype=bool)
    n1, n0 = int(pos.sum()), int((~pos).sum())
    if n1 == 0 or n0 == 0:
        return float("nan")
    ranks = stats.rankdata(s)
    return float((ranks[pos].sum() - n1 * (n1 + 1) / 2.0) / (n1 * n0))


def _within_z(df: pd.DataFrame, col: str) -> pd.Series:
    g = df.groupby("athlete_id")[col]
    return (df[col] - g.transform("mean")) / g.transform("std")


def _figures(xz: np.ndarray, yz: np.ndarray, below_sd: float) -> tuple[float, float]:
    below = yz < -below_sd
    r = float(np.corrcoef(xz, yz)[0, 1]) if len(xz) > 2 else float("nan")
    return auc(-xz, below), r


def _cluster_bootstrap(
    groups: np.ndarray, stat, n_boot: int, seed: int
) -> tuple[np.ndarray, np.ndarray]:
    """2.5 and 97.5 percentiles of ``stat(index array)`` over athlete-resampled data."""
    rng = np.random.default_rng(seed)
    ids = np.unique(groups)
    rows = {g: np.flatnonzero(groups == g) for g in ids}
    draws = []
    for _ in range(n_boot):
        pick = rng.choice(ids, size=len(ids), replace=True)
        draws.append(stat(np.concatenate([rows[g] for g in pick])))
    arr = np.asarray(draws, dtype=float)
    return np.nanpercentile(arr, 2.5, axis=0), np.nanpercentile(arr, 97.5, axis=0)


def validate_readiness(
    readiness: pd.DataFrame,
    performance_tests: pd.DataFrame,
    *,
    test: str = "cmj_height",
    lag_days: int = 1,
    below_sd: float = BELOW_USUAL_SD,
    n_boot: int = N_BOOT,
    seed: int = 0,
) -> pd.DataFrame:
    """How well the readiness score predicts a performance outcome, vs self-rated readiness.

    Each predictor on day *d* is paired with the ``test`` result on day *d + lag_days*.
    Outcomes and predictors are standardised within athlete (z over the athlete's paired
    days) so that the pooled figures measure day-to-day prediction, not who is the better
    jumper. A day is "below usual" when the outcome z < ``-below_sd``.

    Parameters
    ----------
    readiness:
        Output of :func:`workbench.readiness.compute_readiness` (``score``,
        ``readiness_self_1_10``).
    performance_tests:
        ``athlete_id, date, test, value`` rows (e.g. ``store.performance_tests()``).
    test:
        Which test is the outcome.
    lag_days:
        Days from the predictor to the outcome (1 = next day).
    below_sd:
        Threshold of the "below usual" outcome in within-athlete SD.
    n_boot, seed:
        Bootstrap resamples over athletes for the 95 % intervals, and their seed.

    Returns
    -------
    pandas.DataFrame
        One row per predictor: ``predictor`` (label), ``column``, ``n_pairs``,
        ``n_below_usual``, ``auc_below_usual`` (probability that a below-usual day had the
        lower predictor; 0.5 = chance), ``pearson_r`` and ``spearman_r`` (predictor vs
        outcome, within-athlete z), each with ``*_ci_low, *_ci_high`` (bootstrap 95 %
        interval over athletes). A third row, ``column == "score_minus_self"``, gives the
        paired difference (score - self-rating) on days that have both, with its interval:
        the score beats the self-rating only if ``auc_ci_low > 0``. Predictors missing from
        the data give NaN figures.
    """
    t = performance_tests[performance_tests["test"] == test]
    if t.empty:
        raise DataFormatError(f"no {test!r} results to validate against", field="test")
    out_df = t.groupby(["athlete_id", "date"], as_index=False)["value"].mean()
    pred = readiness[["athlete_id", "date", *[c for c in PREDICTORS if c in readiness]]].copy()
    pred["date"] = pred["date"] + pd.Timedelta(days=lag_days)
    pairs = out_df.merge(pred, on=["athlete_id", "date"], how="inner")
    rows = []
    for col, label in PREDICTORS.items():
        if col not in pairs:
            rows.append({"predictor": label, "column": col, "n_pairs": 0})
            continue
        p = pairs.dropna(subset=[col, "value"]).copy()
        p = p[p.groupby("athlete_id")["value"].transform("size") >= 5]
        if len(p) < 10:
            rows.append({"predictor": label, "column": col, "n_pairs": len(p)})
            continue
        yz = _within_z(p, "value")
        xz = _within_z(p, col)
        ok = np.isfinite(yz) & np.isfinite(xz)
        groups = p.loc[ok, "athlete_id"].to_numpy()
        yz, xz = yz[ok].to_numpy(), xz[ok].to_numpy()
        below = yz < -below_sd
        lo, hi = _cluster_bootstrap(
            groups, lambda i, x=xz, y=yz: _figures(x[i], y[i], below_sd), n_boot, seed
        )
        rows.append(
            {
                "predictor": label,
                "column": col,
                "n_pairs": int(ok.sum()),
                "n_below_usual": int(below.sum()),
                "auc_below_usual": auc(-xz, below),
                "auc_ci_low": lo[0],
                "auc_ci_high": hi[0],
                "pearson_r": float(stats.pearsonr(xz, yz)[0]),
                "pearson_ci_low": lo[1],
                "pearson_ci_high": hi[1],
                "spearman_r": float(stats.spearmanr(xz, yz)[0]),
            }
        )
    rows.append(_paired_difference(pairs, below_sd, n_boot, seed))
    cols = ["predictor", "column", "n_pairs", "n_below_usual", "auc_below_usual"]
    cols += ["auc_ci_low", "auc_ci_high", "pearson_r", "pearson_ci_low", "pearson_ci_high"]
    cols += ["spearman_r"]
    return pd.DataFrame(rows).reindex(columns=cols)


def _paired_difference(pairs: pd.DataFrame, below_sd: float, n_boot: int, seed: int) -> dict:
    """Score minus self-rating (AUC and Pearson r) on the days with both, with 95 % CIs."""
    row = {"predictor": "score - self-rating", "column": "score_minus_self", "n_pairs": 0}
    cols = list(PREDICTORS)
    if not set(cols) <= set(pairs.columns):
        return row
    p = pairs.dropna(subset=[*cols, "value"]).copy()
    p = p[p.groupby("athlete_id")["value"].transform("size") >= 5]
    if len(p) < 10:
        return {**row, "n_pairs": len(p)}
    y = _within_z(p, "value")
    xs = [_within_z(p, c) for c in cols]
    ok = np.isfinite(y) & np.isfinite(xs[0]) & np.isfinite(xs[1])
    y = y[ok].to_numpy()
    a, b = (x[ok].to_numpy() for x in xs)
    groups = p.loc[ok, "athlete_id"].to_numpy()

    def diff(i: np.ndarray) -> tuple[float, float]:
        fa, fb = _figures(a[i], y[i], below_sd), _figures(b[i], y[i], below_sd)
        return fa[0] - fb[0], fa[1] - fb[1]

    est = diff(np.arange(len(y)))
    lo, hi = _cluster_bootstrap(groups, diff, n_boot, seed)
    return {
        **row,
        "n_pairs": int(ok.sum()),
        "n_below_usual": int((y < -below_sd).sum()),
        "auc_below_usual": est[0],
        "auc_ci_low": lo[0],
        "auc_ci_high": hi[0],
        "pearson_r": est[1],
        "pearson_ci_low": lo[1],
        "pearson_ci_high": hi[1],
    }
