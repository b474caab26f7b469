"""Does the readiness score predict performance? Compared with self-rated readiness."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from workbench.errors import DataFormatError

#: An outcome is "below usual" when it is this many of the athlete's SDs under their mean.
BELOW_USUAL_SD = 0.5
PREDICTORS = {"score": "readiness score", "readiness_self_1_10": "self-rated readiness"}


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


def validate_readiness(
    readiness: pd.DataFrame,
    performance_tests: pd.DataFrame,
    *,
    test: str = "cmj_height",
    lag_days: int = 1,
    below_sd: float = BELOW_USUAL_SD,
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

    Returns
    -------
    pandas.DataFrame
        One row per predictor: ``predictor`` (label), ``column``, ``n_pairs``,
        ``n_below_usual``, ``auc_below_usual`` (probability that a below-usual day had the
        lower predictor; 0.5 = chance), ``pearson_r`` and ``spearman_r`` (predictor vs
        outcome, within-athlete z). Predictors missing from the data give NaN figures.
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
        yz, xz = yz[ok].to_numpy(), xz[ok].to_numpy()
        below = yz < -below_sd
        rows.append(
            {
                "predictor": label,
                "column": col,
                "n_pairs": int(ok.sum()),
                "n_below_usual": int(below.sum()),
                "auc_below_usual": auc(-xz, below),
                "pearson_r": float(stats.pearsonr(xz, yz)[0]),
                "spearman_r": float(stats.spearmanr(xz, yz)[0]),
            }
        )
    cols = ["predictor", "column", "n_pairs", "n_below_usual", "auc_below_usual"]
    cols += ["pearson_r", "spearman_r"]
    return pd.DataFrame(rows).reindex(columns=cols)
