"""Reference numbers for the mobility screens, each with its source.

Nothing in this module is typed from memory: every value carries a citation, and where no
source could be found the value is either absent or marked ``cited=False`` with the reason.

Sources (short keys used below)
-------------------------------
``soucie2011``
    Soucie JM, Wang C, Forsyth A, et al. Range of motion measurements: reference values and
    a database for comparison studies. *Haemophilia* 2011;17:500–507.
    doi:10.1111/j.1365-2516.2010.02399.x. Passive universal goniometry, 674 healthy people
    aged 2–69; table of means with 95 % CI by sex and age group, published by the CDC
    ("Joint Range of Motion Study", archive.cdc.gov/www_cdc_gov/ncbddd/jointrom/).
    Only the cells we could read from the CDC table or a quotation of it are entered.
``cleary2024``
    Cleary CJ, Rogers K, Dombrowski N, et al. High agreement between 3D motion capture and
    2D video analysis systems and raters for knee flexion range of motion during a single
    leg drop landing task. *JOSPT Open* 2024. doi:10.2519/josptopen.2024.0051.
    2D video knee flexion: SEM 3.44° (between raters) and 3.52° (2D vs 3D).
``damsted2015``
    Damsted C, Nielsen RO, Larsen LH. Reliability of video-based quantification of the knee-
    and hip angle at foot strike during running. *Int J Sports Phys Ther* 2015;10(2):147–154.
    2D video (Kinovea), between-day 95 % prediction interval spans 9–11° (hip) and 9–14°
    (knee); SEM = span / (2 × 1.96 × √2) ≤ 2.0° (hip), ≤ 2.5° (knee).
``jmir2020``
    Accuracy of a 2D pose-estimation mobility app (Lindera-v2) against the Panoptic Studio
    3D reference. *JMIR mHealth uHealth* 2020;8(12):e19608. Right hip: mean difference
    −0.05°, SD 6.06°.
``hannink2023``
    Computer vision estimates of clinical tests from a phone/webcam vs a clinician
    (axial spondyloarthritis and healthy, n = 62). *Clin Rehabil* 2023 (PMC10291378):
    shoulder flexion 2 ± 14° (left), 3 ± 15° (right), mean ± SD of the differences.
``schurr2017``
    Schurr SA, Marshall AN, Resch JE, Saliba SA. Two-dimensional video analysis is
    comparable to 3D motion capture in lower extremity movement assessment. *Int J Sports
    Phys Ther* 2017;12(2):163–172. Sagittal 2D–3D mean differences trunk 1.68°, hip 2.60°,
    knee 0.74°, ankle 3.12°; frontal-plane knee r = 0.31 (poor).
``wblt2025``
    Smartphone app (The Angle Meter) for ankle dorsiflexion in the weight-bearing lunge,
    2D video (Kinovea) as the reference; inter-rater SEM 1.65°, MDC95 4.57°.
    doi:10.1177/10538127251395837.
``aaos``
    Greene WB, Heckman JD (eds). *The Clinical Measurement of Joint Motion.* American
    Academy of Orthopaedic Surgeons, 1994 (average adult ranges: shoulder flexion 180°,
    hip flexion 120°, knee flexion 135°, knee hyperextension up to 10°, hip extension 30°,
    hip internal rotation 45°, hip external rotation 45°).
``kouyoumdjian2012``
    Kouyoumdjian P, Coulomb R, Sanchez T, Asencio G. Clinical evaluation of hip joint
    rotation range of motion in adults. *Orthop Traumatol Surg Res* 2012;98:17–23. Seated
    hip rotation (photographic method, 120 adults): IR 37.9°.
``viewangle2025``
    Influence of the camera viewing angle on OpenPose validity in motion analysis.
    *Sensors* 2025;25(3):799. doi:10.3390/s25030799. Joint-angle error grows as the camera
    leaves the perpendicular view (basis for refusing non-perpendicular views).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Sem:
    """Standard error of measurement of one camera-measured angle, degrees."""

    sem_deg: float
    source: str
    cited: bool
    note: str = ""


#: SEM of each movement for single-camera 2D video measurement (used for MDC and as the base
#: term of every reading's uncertainty). Where 2D-video studies disagree the larger is used.
SEM_DEG: dict[str, Sem] = {
    "hip_flexion": Sem(6.1, "jmir2020", True, "2D pose estimation vs 3D reference, SD 6.06°"),
    "knee_flexion": Sem(3.5, "cleary2024", True, "2D video SEM 3.44–3.52°"),
    "knee_extension_90_90": Sem(3.5, "cleary2024", True, "same knee angle, SEM 3.44–3.52°"),
    "ankle_dorsiflexion": Sem(
        3.1, "schurr2017", True, "2D vs 3D ankle difference 3.12° (larger than wblt2025 1.65°)"
    ),
    "shoulder_flexion": Sem(
        10.0, "hannink2023", True, "SD of camera–clinician differences 14–15° / √2"
    ),
    "trunk_lean": Sem(1.7, "schurr2017", True, "2D vs 3D trunk difference 1.68°"),
    "hip_extension": Sem(
        6.1, "jmir2020", True, "hip angle from 2D pose estimation, SD 6.06° (same landmarks)"
    ),
    "knee_valgus": Sem(
        5.0, "", False, "no SEM found for 2D FPPA; schurr2017 reports frontal knee r = 0.31 only"
    ),
    "hip_internal_rotation": Sem(5.0, "", False, "no 2D-video SEM found for seated hip IR"),
    "hip_external_rotation": Sem(5.0, "", False, "no 2D-video SEM found for seated hip ER"),
    "thoracic_rotation": Sem(
        8.0, "", False, "no SEM found; depth-based (world landmarks), wider than planar angles"
    ),
}
#: Movement names of the assessments table that use another angle's SEM.
MOVEMENT_ANGLE = {"hip_extension_thomas": "hip_extension"}


def sem_deg(movement: str) -> float:
    """SEM of a movement (degrees); uncited values are used but flagged in :data:`SEM_DEG`."""
    key = MOVEMENT_ANGLE.get(movement, movement)
    return SEM_DEG[key].sem_deg if key in SEM_DEG else 6.0


def mdc95_deg(movement: str) -> float:
    """Minimal detectable change at 95 %: ``1.96 × √2 × SEM``, degrees."""
    return 1.96 * math.sqrt(2.0) * sem_deg(movement)


@dataclass(frozen=True)
class AnatomicalRange:
    """Plausible limits of an angle as this workbench measures it, degrees.

    Values outside are never shown as measurements. The limits sit above the published
    average ranges (``aaos``, ``soucie2011`` upper CIs) with a margin for measurement error;
    they are plausibility limits, not norms.
    """

    low_deg: float
    high_deg: float
    basis: str


ANATOMICAL_RANGES: dict[str, AnatomicalRange] = {
    "hip_flexion": AnatomicalRange(0.0, 150.0, "aaos 120°, soucie2011 2–8 y F 142.4° upper CI"),
    "hip_extension": AnatomicalRange(
        -40.0, 35.0, "Thomas test thigh-to-table; aaos hip extension 30°"
    ),
    "knee_flexion": AnatomicalRange(-10.0, 160.0, "aaos 135° and ≤ 10° hyperextension"),
    "knee_extension_90_90": AnatomicalRange(
        60.0, 190.0, "180 − knee flexion; ≤ 10° hyperextension (aaos)"
    ),
    "ankle_dorsiflexion": AnatomicalRange(
        0.0, 60.0, "weight-bearing tibia inclination; wblt2025 reference range"
    ),
    "shoulder_flexion": AnatomicalRange(0.0, 185.0, "aaos 180° + 5° measurement margin"),
    "trunk_lean": AnatomicalRange(-45.0, 100.0, "posture: back-lean to trunk horizontal"),
    "knee_valgus": AnatomicalRange(-20.0, 35.0, "frontal plane projection angle"),
    "hip_internal_rotation": AnatomicalRange(0.0, 60.0, "aaos 45°, kouyoumdjian2012 37.9°"),
    "hip_external_rotation": AnatomicalRange(0.0, 60.0, "aaos 45°"),
    "thoracic_rotation": AnatomicalRange(0.0, 80.0, "seated trunk rotation"),
}


# -- norms ------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Norm:
    """One cited normative mean (passive goniometry), degrees."""

    movement: str
    sex: str
    age_low: int
    age_high: int
    mean_deg: float
    ci95: tuple[float, float] | None
    source: str


#: Soucie 2011 / CDC cells we could verify. Any group not listed has no cited value here.
SOUCIE_2011: tuple[Norm, ...] = (
    Norm("hip_flexion", "female", 2, 8, 140.8, (139.2, 142.4), "soucie2011 (CDC table)"),
    Norm("hip_flexion", "male", 2, 8, 131.1, (129.4, 132.8), "soucie2011 (CDC table)"),
    Norm("hip_extension", "female", 2, 8, 26.2, (23.9, 28.5), "soucie2011 (CDC table)"),
    Norm("hip_extension", "male", 2, 8, 28.3, (27.2, 29.4), "soucie2011 (CDC table)"),
    Norm("hip_extension", "female", 45, 69, 16.7, None, "soucie2011 (CDC table)"),
    Norm("hip_extension", "male", 45, 69, 13.5, None, "soucie2011 (CDC table)"),
    Norm("knee_flexion", "female", 2, 8, 152.6, (151.2, 154.0), "soucie2011 (CDC table)"),
    Norm("knee_flexion", "male", 2, 8, 147.8, (146.6, 149.0), "soucie2011 (CDC table)"),
    Norm("knee_flexion", "female", 20, 44, 141.9, None, "soucie2011 (quoted)"),
    Norm("knee_flexion", "male", 20, 44, 137.7, None, "soucie2011 (quoted)"),
    Norm("ankle_dorsiflexion", "female", 2, 8, 24.8, (22.5, 27.1), "soucie2011 (CDC table)"),
    Norm("ankle_dorsiflexion", "male", 2, 8, 22.8, (21.3, 24.3), "soucie2011 (CDC table)"),
    Norm("ankle_dorsiflexion", "female", 20, 44, 13.8, None, "soucie2011 (quoted)"),
    Norm("ankle_dorsiflexion", "male", 20, 44, 12.7, None, "soucie2011 (quoted)"),
    Norm("ankle_dorsiflexion", "female", 45, 69, 11.6, None, "soucie2011 (quoted)"),
    Norm("ankle_dorsiflexion", "male", 45, 69, 11.9, None, "soucie2011 (quoted)"),
    Norm("shoulder_flexion", "female", 2, 8, 178.6, None, "soucie2011 (quoted)"),
    Norm("shoulder_flexion", "male", 2, 8, 177.8, None, "soucie2011 (quoted)"),
    Norm("shoulder_flexion", "female", 20, 44, 172.0, None, "soucie2011 (quoted)"),
    Norm("shoulder_flexion", "male", 20, 44, 168.8, None, "soucie2011 (quoted)"),
)
#: Not entered because no source could be read: hip flexion 9–69 y, knee flexion 9–19 and
#: 45–69 y, shoulder flexion 9–19 and 45–69 y, ankle dorsiflexion 9–19 y (the values typed
#: earlier from memory were removed; several disagreed with the cited cells).
NORM_GAPS = (
    "hip_flexion 9-19, 20-44, 45-69",
    "knee_flexion 9-19, 45-69",
    "shoulder_flexion 9-19, 45-69",
    "ankle_dorsiflexion 9-19",
    "hip_extension 9-19, 20-44",
)


def norm_for(movement: str, *, age_years: float, sex: str) -> Norm | None:
    """The cited Soucie 2011 cell for this movement, age and sex, else ``None``.

    ``hip_extension_thomas`` uses the hip extension norm. Ankle dorsiflexion norms are
    non-weight-bearing goniometry and are *not* comparable to the knee-to-wall lunge: no norm
    is returned for it.
    """
    key = MOVEMENT_ANGLE.get(movement, movement)
    if key == "ankle_dorsiflexion":
        return None
    for n in SOUCIE_2011:
        if n.movement == key and n.sex == sex and n.age_low <= age_years < n.age_high + 1:
            return n
    return None


#: Movements whose camera value is used for a mobility age (cited groups ≥ 2 per sex).
MOBILITY_AGE_MOVEMENTS = ("shoulder_flexion",)


def mobility_age_years(movement: str, value_deg: float, *, sex: str) -> float | None:
    """Age whose cited norm matches ``value_deg``, interpolated between cited group midpoints.

    ``None`` outside the span of the cited groups (no extrapolation beyond the data).
    """
    cells = sorted(
        (n for n in SOUCIE_2011 if n.movement == movement and n.sex == sex),
        key=lambda n: n.age_low,
    )
    if len(cells) < 2 or not np.isfinite(value_deg):
        return None
    mids = np.array([(n.age_low + n.age_high) / 2 for n in cells])
    means = np.array([n.mean_deg for n in cells])
    if not (means.min() <= value_deg <= means.max()):
        return None
    order = np.argsort(means)
    return float(np.interp(value_deg, means[order], mids[order]))
