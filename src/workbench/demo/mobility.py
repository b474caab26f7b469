"""Monthly mobility assessments of the demo squad (table ``mobility_assessments``).

Every ~30 days (first one on day 3-12) each athlete is screened on the seven movements of
:data:`workbench.demo.squad.MOVEMENTS`, left and right, at slow speed; ``hip_flexion`` and the
athlete's neurally limited movements are also measured fast. Angle = designed value at the
first assessment + slow improvement (``mobility_gain_deg_per_30d``) + N(0, 2 deg) camera noise;
a neural limitation shows as 8-12 deg less range at fast speed, a structural one (e.g. the
deadlifter's right hip flexion, 103 vs 118 deg) as the same range at both speeds.
"""

from __future__ import annotations

import datetime as dt

import numpy as np
import pandas as pd

from workbench.demo.squad import MOVEMENTS, AthleteProfile


def mobility_rows(
    profile: AthleteProfile, *, days: int, start_date: dt.date, seed: int, index: int
) -> pd.DataFrame:
    """Assessments of one athlete: ``mobility_assessments`` columns (source ``demo``)."""
    rng = np.random.default_rng([seed, index, 3])
    sessions = np.arange(int(rng.integers(3, 13)), days, 30)
    rows = []
    for day in sessions:
        date = start_date + dt.timedelta(days=int(day))
        for movement, screen in MOVEMENTS.items():
            left, right = profile.mobility[movement]
            gain = profile.mobility_gain_deg_per_30d.get(movement, 0.0) * day / 30.0
            speeds = ["slow"]
            if movement == "hip_flexion" or movement in profile.neural:
                speeds.append("fast")
            for side, base in (("left", left), ("right", right)):
                for speed in speeds:
                    angle = base + gain + rng.normal(0, 2.0)
                    if speed == "fast" and movement in profile.neural:
                        angle -= rng.uniform(8, 12)
                    rows.append(
                        {
                            "athlete_id": profile.athlete_id,
                            "date": date,
                            "screen": screen,
                            "movement": movement,
                            "side": side,
                            "angle_deg": round(float(angle), 1),
                            "quality": "good" if rng.random() < 0.85 else "fair",
                            "speed": speed,
                            "source": "demo",
                        }
                    )
    return pd.DataFrame(rows)
