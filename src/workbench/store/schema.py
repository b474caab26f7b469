"""Database schema (SQLAlchemy Core). One table per concept; units in column names.

Binary columns hold arrays encoded by :mod:`workbench.store.codec` (RR intervals as
1/1024-s counts when exact, else float32/float64; sample chunks as float64), so arrays
round-trip bit-exactly on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

from sqlalchemy import (
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
)

metadata = MetaData()

athletes = Table(
    "athletes",
    metadata,
    Column("athlete_id", String(64), primary_key=True),
    Column("name", String(200), nullable=False),
    Column("sex", String(1), nullable=False),  # "F" | "M"
    Column("birth_date", Date, nullable=False),
    Column("sport", String(100), nullable=False),
    Column("goal", String(200)),
    Column("group_name", String(100)),
    Column("height_cm", Float),
    Column("mass_kg", Float),
    Column("arm_circumference_cm", Float),
    Column("thigh_circumference_cm", Float),
    Column("sleep_need_min", Float),
)

wellness_daily = Table(
    "wellness_daily",
    metadata,
    Column("athlete_id", String(64), ForeignKey("athletes.athlete_id"), primary_key=True),
    Column("date", Date, primary_key=True),
    Column("source", String(64), primary_key=True),
    Column("sleep_total_min", Float),
    Column("sleep_deep_min", Float),
    Column("sleep_rem_min", Float),
    Column("sleep_light_min", Float),
    Column("sleep_awake_min", Float),
    Column("bedtime", String(5)),  # "HH:MM" local
    Column("resting_hr_bpm", Float),
    Column("rmssd_ms", Float),  # device-reported nightly RMSSD, when the source gives one
    Column("daytime_stress", Float),  # 0-100 wearable stress score or self-report scaled to 0-100
    Column("fatigue_1_10", Float),
    Column("soreness_1_10", Float),
    Column("mood_1_10", Float),
    Column("stress_1_10", Float),
    Column("sleep_quality_1_10", Float),
    Column("readiness_self_1_10", Float),
    Column(
        "readiness_device_0_100", Float
    ),  # the wearable's own score (WHOOP recovery, Oura readiness)
)

biomarkers = Table(
    "biomarkers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("athlete_id", String(64), ForeignKey("athletes.athlete_id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("marker", String(64), nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("source", String(200), nullable=False),
    Index("ix_biomarkers_athlete_date", "athlete_id", "date"),
)

performance_tests = Table(
    "performance_tests",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("athlete_id", String(64), ForeignKey("athletes.athlete_id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("test", String(64), nullable=False),
    Column("value", Float, nullable=False),
    Column("unit", String(32), nullable=False),
    Column("source", String(200), nullable=False),
    Index("ix_performance_athlete_date", "athlete_id", "date"),
)

hrv_readings = Table(
    "hrv_readings",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("athlete_id", String(64), ForeignKey("athletes.athlete_id"), nullable=False),
    Column("start_time", DateTime(timezone=False), nullable=False),  # UTC, naive
    Column("date", Date, nullable=False),  # the morning the reading belongs to
    Column("source", String(200), nullable=False),
    Column("context", String(16), nullable=False),  # morning | overnight | exercise | other
    Column("n_beats", Integer, nullable=False),
    Column("rr_ms", LargeBinary, nullable=False),  # codec.encode_array
    Column("artifact_pct", Float),
    Column("quality", String(16)),  # good | fair | unreliable
    Index("ix_hrv_athlete_date", "athlete_id", "date"),
)

training_sessions = Table(
    "training_sessions",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("athlete_id", String(64), ForeignKey("athletes.athlete_id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("session_type", String(64), nullable=False),
    Column("status", String(16), nullable=False),  # planned | done | skipped
    Column("duration_min", Float),
    Column("srpe", Float),  # CR-10
    Column("load_au", Float),  # sRPE x minutes (Foster) or external load
    Column("planned_duration_min", Float),
    Column("planned_load_au", Float),
    Column("source", String(200), nullable=False),
    Index("ix_training_athlete_date", "athlete_id", "date"),
)

recordings = Table(
    "recordings",
    metadata,
    Column("recording_id", Integer, primary_key=True, autoincrement=True),
    Column("athlete_id", String(64), ForeignKey("athletes.athlete_id")),
    Column("title", String(200), nullable=False),
    Column("started_at", DateTime(timezone=False), nullable=False),  # UTC, naive
    Column("ended_at", DateTime(timezone=False)),
    Column("status", String(16), nullable=False),  # recording | complete | interrupted
    Column("notes", Text),
)

recording_streams = Table(
    "recording_streams",
    metadata,
    Column("stream_id", Integer, primary_key=True, autoincrement=True),
    Column("recording_id", Integer, ForeignKey("recordings.recording_id"), nullable=False),
    Column("name", String(100), nullable=False),
    Column("kind", String(32), nullable=False),  # hr | rr | ecg | smo2 | emg | pressure | ...
    Column("device", String(200), nullable=False),
    Column("channel_names", Text, nullable=False),  # JSON list
    Column("units", Text, nullable=False),  # JSON list, one per channel
    Column("sampling_rate_hz", Float),  # None for irregular streams (RR)
    UniqueConstraint("recording_id", "name"),
)

recording_chunks = Table(
    "recording_chunks",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("stream_id", Integer, ForeignKey("recording_streams.stream_id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("n_samples", Integer, nullable=False),
    Column("host_t_s", LargeBinary, nullable=False),  # float64 seconds since recording start
    Column("device_t_s", LargeBinary, nullable=False),  # float64 device clock (NaN if none)
    Column("values", LargeBinary, nullable=False),  # float64, n_samples x n_channels, C order
    UniqueConstraint("stream_id", "seq"),
)

recording_markers = Table(
    "recording_markers",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("recording_id", Integer, ForeignKey("recordings.recording_id"), nullable=False),
    Column("t_s", Float, nullable=False),
    Column("label", String(200), nullable=False),
    Column("kind", String(32), nullable=False),  # lap | marker | work_start | work_end | ...
)

mobility_assessments = Table(
    "mobility_assessments",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("athlete_id", String(64), ForeignKey("athletes.athlete_id"), nullable=False),
    Column("date", Date, nullable=False),
    Column("screen", String(64), nullable=False),
    Column("movement", String(64), nullable=False),  # e.g. hip_flexion
    Column("side", String(8), nullable=False),  # left | right | both
    Column("angle_deg", Float, nullable=False),
    Column("quality", String(16), nullable=False),  # good | fair | poor
    Column("speed", String(8)),  # slow | fast (for neural vs structural)
    Column("source", String(64), nullable=False),  # camera | video | manual | demo
    Index("ix_mobility_athlete_date", "athlete_id", "date"),
)

bfr_sessions = Table(
    "bfr_sessions",
    metadata,
    Column("session_id", Integer, primary_key=True, autoincrement=True),
    Column("athlete_id", String(64), ForeignKey("athletes.athlete_id"), nullable=False),
    Column("started_at", DateTime(timezone=False), nullable=False),
    Column("ended_at", DateTime(timezone=False)),
    Column("limb", String(8), nullable=False),  # arm | leg
    Column("side", String(8), nullable=False),  # left | right
    Column("cuff_id", String(64), nullable=False),
    Column("cuff_width_cm", Float),
    Column("posture", String(16)),
    Column("aop_readings_mmhg", Text),  # JSON list of readings
    Column("aop_mmhg", Float),
    Column("percent_aop", Float),
    Column("setpoint_mmhg", Float),
    Column("exercise", String(100)),
    Column("load_pct_1rm", Float),
    Column("scheme", String(64)),  # e.g. 30-15-15-15
    Column("status", String(16), nullable=False),  # running | complete | aborted | interrupted
    Column("time_under_pressure_s", Float),
    Column("max_pressure_mmhg", Float),
    Column("recording_id", Integer, ForeignKey("recordings.recording_id")),  # raw pressure trace
)

bfr_events = Table(
    "bfr_events",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("session_id", Integer, ForeignKey("bfr_sessions.session_id"), nullable=False),
    Column("wall_time", DateTime(timezone=False), nullable=False),
    Column("t_s", Float, nullable=False),  # monotonic seconds since session start
    Column("kind", String(16), nullable=False),  # setpoint | trip | alarm | ack | operator | state
    Column("code", String(64), nullable=False),
    Column("priority", String(8)),  # high | medium | low
    Column("value", Float),
    Column("message", Text),
)

episodes = Table(
    "episodes",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("athlete_id", String(64), ForeignKey("athletes.athlete_id"), nullable=False),
    Column(
        "kind", String(32), nullable=False
    ),  # illness | overreaching | sleep_debt | travel | load_spike
    Column("start_date", Date, nullable=False),
    Column("end_date", Date, nullable=False),
    Column("notes", Text),
)

imports = Table(
    "imports",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("path", Text, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("format", String(64), nullable=False),
    Column("imported_at", DateTime(timezone=False), nullable=False),
    Column("rows", Integer, nullable=False),
)
