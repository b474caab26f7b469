"""Who is in the demo squad: twelve sport archetypes, repeated with variations for bigger squads.

Every athlete gets an id ``athNN`` (``ath01`` ...), a sport, a group (``endurance``, ``team``,
``strength``), anthropometrics, a sleep need, individual physiological baselines (RMSSD
25-120 ms, resting HR, jump height), a weekly training template and a mobility profile.

Which episodes an athlete gets is fixed by the athlete's position ``i`` (0-based) in the
squad, ``EPISODE_PATTERNS[i % 6]``; positions 2 and 5 of every six have none, so any squad
of six or more contains an illness, an overreaching block and athletes without episodes.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import partial

import numpy as np

#: Episode kinds per squad position ``i % 6`` (see module docstring).
EPISODE_PATTERNS: tuple[tuple[str, ...], ...] = (
    ("illness", "travel"),
    ("overreaching", "travel"),
    (),
    ("sleep_debt", "illness"),
    ("overreaching", "sleep_debt"),
    (),
)

#: Mobility movements (``mobility_assessments.movement``) and the screen they belong to.
#: Angles: hip_flexion (supine/standing hip flexion, deg), hip_internal_rotation (seated, deg),
#: shoulder_flexion (deg), ankle_dorsiflexion (knee-to-wall lunge, tibia angle from vertical,
#: deg), knee_extension_90_90 (popliteal angle in the hamstring 90/90 test, 180 = straight),
#: hip_extension_thomas (thigh angle below horizontal in the Thomas test; negative = hip
#: flexor tightness), thoracic_rotation (seated, deg each side).
MOVEMENTS: dict[str, str] = {
    "hip_flexion": "standing_hip_flexion",
    "hip_internal_rotation": "hip_internal_rotation",
    "shoulder_flexion": "shoulder_flexion",
    "ankle_dorsiflexion": "knee_to_wall_lunge",
    "knee_extension_90_90": "hamstring_90_90",
    "hip_extension_thomas": "thomas_test",
    "thoracic_rotation": "thoracic_rotation",
}

_BASE_MOBILITY: dict[str, float] = {
    "hip_flexion": 124.0,
    "hip_internal_rotation": 38.0,
    "shoulder_flexion": 171.0,
    "ankle_dorsiflexion": 39.0,
    "knee_extension_90_90": 157.0,
    "hip_extension_thomas": 4.0,
    "thoracic_rotation": 44.0,
}

#: Weekly templates, Monday first: 0 rest, 1 easy, 2 moderate, 3 hard.
WEEK_TEMPLATES: dict[str, tuple[int, ...]] = {
    "endurance": (2, 1, 3, 1, 2, 3, 0),
    "team": (2, 3, 1, 2, 1, 3, 0),
    "strength": (3, 1, 3, 0, 3, 1, 0),
}


@dataclass(frozen=True)
class AthleteProfile:
    """Static description of one demo athlete (store columns plus generator parameters).

    ``mobility`` maps movement -> (left_deg, right_deg) at the first assessment,
    ``mobility_gain_deg_per_30d`` the slow improvement, ``neural`` the movements whose range
    is lower at fast speed (neural limitation).
    """

    athlete_id: str
    name: str
    sex: str
    birth_date: dt.date
    sport: str
    group: str
    goal: str
    height_cm: float
    mass_kg: float
    arm_circumference_cm: float
    thigh_circumference_cm: float
    sleep_need_min: float
    rmssd_base_ms: float
    rhr_base_bpm: float
    cmj_base_cm: float
    session_min: float
    session_types: tuple[str, str, str]
    bedtime_min: float
    episode_kinds: tuple[str, ...]
    morning_readings: bool
    mobility: dict[str, tuple[float, float]] = field(default_factory=dict)
    mobility_gain_deg_per_30d: dict[str, float] = field(default_factory=dict)
    neural: frozenset[str] = frozenset()

    @property
    def week_template(self) -> tuple[int, ...]:
        return WEEK_TEMPLATES[self.group]

    def store_row(self) -> dict:
        """The ``athletes`` table row."""
        return {
            "athlete_id": self.athlete_id,
            "name": self.name,
            "sex": self.sex,
            "birth_date": self.birth_date,
            "sport": self.sport,
            "goal": self.goal,
            "group_name": self.group,
            "height_cm": self.height_cm,
            "mass_kg": self.mass_kg,
            "arm_circumference_cm": self.arm_circumference_cm,
            "thigh_circumference_cm": self.thigh_circumference_cm,
            "sleep_need_min": self.sleep_need_min,
        }


# name, sex, sport, group, goal, height, mass, arm, thigh, sleep need, RMSSD, RHR, CMJ,
# session minutes, session types (easy, moderate, hard), bedtime (min after midnight),
# mobility overrides {movement: (left, right)}, gains, neural movements
_ARCHETYPES: list[tuple] = [
    (
        "Lena Okafor",
        "F",
        "rowing",
        "endurance",
        "2k erg under 7:05",
        178,
        72,
        29,
        58,
        510,
        92,
        46,
        34,
        80,
        ("rowing_ut2", "rowing_ut1", "rowing_intervals"),
        1350,
        {"ankle_dorsiflexion": (33.0, 35.0), "thoracic_rotation": (41.0, 43.0)},
        {"ankle_dorsiflexion": 1.0},
        (),
    ),
    (
        "Mateo Silva",
        "M",
        "football",
        "team",
        "return to full match fitness",
        180,
        76,
        31,
        59,
        480,
        68,
        52,
        44,
        85,
        ("recovery_run", "technical", "match_play"),
        1380,
        {"hip_internal_rotation": (30.0, 37.0), "knee_extension_90_90": (147.0, 149.0)},
        {"knee_extension_90_90": 0.8},
        (),
    ),
    (
        "Jonas Brandt",
        "M",
        "powerlifting",
        "strength",
        "deadlift 300 kg",
        183,
        105,
        42,
        70,
        495,
        45,
        60,
        41,
        90,
        ("accessory", "squat_bench", "deadlift_heavy"),
        1395,
        {
            "hip_flexion": (118.0, 103.0),
            "hip_internal_rotation": (34.0, 28.0),
            "thoracic_rotation": (37.0, 39.0),
        },
        {"hip_flexion": 0.5},
        (),
    ),
    (
        "Aiko Tanaka",
        "F",
        "cycling",
        "endurance",
        "FTP 4.5 W/kg",
        165,
        56,
        25,
        53,
        500,
        110,
        44,
        30,
        110,
        ("endurance_ride", "tempo_ride", "vo2_intervals"),
        1340,
        {"hip_extension_thomas": (-8.0, -6.0), "thoracic_rotation": (38.0, 39.0)},
        {"hip_extension_thomas": 0.7},
        (),
    ),
    (
        "Kwame Mensah",
        "M",
        "sprint",
        "strength",
        "100 m under 10.4 s",
        182,
        80,
        36,
        62,
        500,
        75,
        50,
        58,
        70,
        ("mobility_drills", "acceleration", "max_velocity"),
        1365,
        {"knee_extension_90_90": (150.0, 152.0)},
        {"knee_extension_90_90": 1.2},
        ("knee_extension_90_90",),
    ),
    (
        "Sofia Romano",
        "F",
        "basketball",
        "team",
        "vertical jump +5 cm",
        184,
        74,
        29,
        60,
        480,
        62,
        55,
        40,
        80,
        ("shooting", "team_practice", "game"),
        1410,
        {"ankle_dorsiflexion": (36.0, 29.0)},
        {},
        (),
    ),
    (
        "Emil Lindqvist",
        "M",
        "triathlon",
        "endurance",
        "Ironman under 9:30",
        177,
        70,
        30,
        56,
        510,
        100,
        42,
        36,
        95,
        ("swim_technique", "bike_tempo", "run_intervals"),
        1330,
        {"shoulder_flexion": (168.0, 160.0)},
        {"shoulder_flexion": 0.9},
        (),
    ),
    (
        "Maya Cohen",
        "F",
        "climbing",
        "strength",
        "redpoint 8a",
        163,
        54,
        27,
        52,
        480,
        80,
        53,
        33,
        100,
        ("bouldering_easy", "route_volume", "limit_bouldering"),
        1425,
        {"shoulder_flexion": (176.0, 175.0), "thoracic_rotation": (50.0, 48.0)},
        {},
        (),
    ),
    (
        "Dmitri Volkov",
        "M",
        "weightlifting",
        "strength",
        "clean & jerk 180 kg",
        175,
        89,
        39,
        66,
        495,
        55,
        58,
        52,
        85,
        ("technique", "pulls_squats", "snatch_cj_heavy"),
        1380,
        {"ankle_dorsiflexion": (44.0, 43.0), "shoulder_flexion": (178.0, 171.0)},
        {},
        (),
    ),
    (
        "Ruby Walsh",
        "F",
        "rugby",
        "team",
        "tackle-ready after shoulder rehab",
        172,
        78,
        33,
        63,
        480,
        58,
        57,
        38,
        85,
        ("conditioning", "contact_skills", "match_play"),
        1395,
        {"shoulder_flexion": (161.0, 167.0), "hip_flexion": (121.0, 124.0)},
        {"shoulder_flexion": 1.1},
        ("shoulder_flexion",),
    ),
    (
        "Noah Fischer",
        "M",
        "swimming",
        "endurance",
        "200 m free under 1:50",
        190,
        82,
        34,
        60,
        540,
        120,
        45,
        42,
        100,
        ("aerobic_swim", "threshold_swim", "race_pace"),
        1320,
        {"shoulder_flexion": (180.0, 178.0), "ankle_dorsiflexion": (31.0, 30.0)},
        {"ankle_dorsiflexion": 0.8},
        (),
    ),
    (
        "Chloe Martin",
        "F",
        "middle-distance running",
        "endurance",
        "1500 m under 4:15",
        168,
        55,
        24,
        51,
        500,
        85,
        47,
        35,
        75,
        ("easy_run", "tempo_run", "track_intervals"),
        1355,
        {"hip_extension_thomas": (1.0, -6.0)},
        {},
        (),
    ),
]


def _jitter(rng: np.random.Generator, x: float, sd: float = 0.06) -> float:
    return float(np.round(x * (1 + rng.normal(0, sd)), 1))


def squad_profiles(athletes: int, seed: int, end_date: dt.date) -> list[AthleteProfile]:
    """The demo squad: ``athletes`` profiles, deterministic for a ``seed``.

    The first twelve are the archetypes as designed (only birth dates depend on ``end_date``);
    later ones repeat them with seeded variations of the continuous parameters.
    """
    if athletes < 1:
        raise ValueError(f"athletes must be >= 1, got {athletes}")
    out = []
    for i in range(athletes):
        a = _ARCHETYPES[i % len(_ARCHETYPES)]
        (
            name,
            sex,
            sport,
            group,
            goal,
            height,
            mass,
            arm,
            thigh,
            sleep,
            rmssd,
            rhr,
            cmj,
            minutes,
            types,
            bedtime,
            mob_over,
            gains,
            neural,
        ) = a
        rng = np.random.default_rng([seed, i, 7])
        age_days = int(rng.integers(19 * 365, 34 * 365))
        rep = i // len(_ARCHETYPES)
        if rep:
            j = partial(_jitter, rng)
            height, mass, arm, thigh = j(height, 0.03), j(mass), j(arm), j(thigh)
            sleep = float(np.clip(j(sleep, 0.04), 420, 560))
            rmssd = float(np.clip(j(rmssd, 0.15), 25, 120))
            rhr, cmj, minutes = j(rhr, 0.06), j(cmj, 0.08), j(minutes, 0.1)
            bedtime = float(bedtime + rng.normal(0, 20))
            name = f"{name} {rep + 1}"
        mobility = {m: (v, v) for m, v in _BASE_MOBILITY.items()}
        mobility.update(mob_over)
        out.append(
            AthleteProfile(
                athlete_id=f"ath{i + 1:02d}",
                name=name,
                sex=sex,
                birth_date=end_date - dt.timedelta(days=age_days),
                sport=sport,
                group=group,
                goal=goal,
                height_cm=float(height),
                mass_kg=float(mass),
                arm_circumference_cm=float(arm),
                thigh_circumference_cm=float(thigh),
                sleep_need_min=float(sleep),
                rmssd_base_ms=float(rmssd),
                rhr_base_bpm=float(rhr),
                cmj_base_cm=float(cmj),
                session_min=float(minutes),
                session_types=tuple(types),
                bedtime_min=float(bedtime),
                episode_kinds=EPISODE_PATTERNS[i % len(EPISODE_PATTERNS)],
                morning_readings=i % 2 == 0,
                mobility=mobility,
                mobility_gain_deg_per_30d=dict(gains),
                neural=frozenset(neural),
            )
        )
    return out
