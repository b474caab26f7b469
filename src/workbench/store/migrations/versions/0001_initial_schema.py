"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-24 00:08:11.045588
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "athletes",
        sa.Column("athlete_id", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sport", sa.String(length=100), nullable=False),
        sa.Column("goal", sa.String(length=200), nullable=True),
        sa.Column("group_name", sa.String(length=100), nullable=True),
        sa.Column("height_cm", sa.Float(), nullable=True),
        sa.Column("mass_kg", sa.Float(), nullable=True),
        sa.Column("arm_circumference_cm", sa.Float(), nullable=True),
        sa.Column("thigh_circumference_cm", sa.Float(), nullable=True),
        sa.Column("sleep_need_min", sa.Float(), nullable=True),
        sa.PrimaryKeyConstraint("athlete_id"),
    )
    op.create_table(
        "imports",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("path", sa.Text(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("format", sa.String(length=64), nullable=False),
        sa.Column("imported_at", sa.DateTime(), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "biomarkers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("athlete_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("marker", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.athlete_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("biomarkers", schema=None) as batch_op:
        batch_op.create_index("ix_biomarkers_athlete_date", ["athlete_id", "date"], unique=False)

    op.create_table(
        "episodes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("athlete_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("start_date", sa.Date(), nullable=False),
        sa.Column("end_date", sa.Date(), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.athlete_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "hrv_readings",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("athlete_id", sa.String(length=64), nullable=False),
        sa.Column("start_time", sa.DateTime(), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.Column("context", sa.String(length=16), nullable=False),
        sa.Column("n_beats", sa.Integer(), nullable=False),
        sa.Column("rr_ms", sa.LargeBinary(), nullable=False),
        sa.Column("artifact_pct", sa.Float(), nullable=True),
        sa.Column("quality", sa.String(length=16), nullable=True),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.athlete_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("hrv_readings", schema=None) as batch_op:
        batch_op.create_index("ix_hrv_athlete_date", ["athlete_id", "date"], unique=False)

    op.create_table(
        "mobility_assessments",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("athlete_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("screen", sa.String(length=64), nullable=False),
        sa.Column("movement", sa.String(length=64), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("angle_deg", sa.Float(), nullable=False),
        sa.Column("quality", sa.String(length=16), nullable=False),
        sa.Column("speed", sa.String(length=8), nullable=True),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.athlete_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("mobility_assessments", schema=None) as batch_op:
        batch_op.create_index("ix_mobility_athlete_date", ["athlete_id", "date"], unique=False)

    op.create_table(
        "performance_tests",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("athlete_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("test", sa.String(length=64), nullable=False),
        sa.Column("value", sa.Float(), nullable=False),
        sa.Column("unit", sa.String(length=32), nullable=False),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.athlete_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("performance_tests", schema=None) as batch_op:
        batch_op.create_index("ix_performance_athlete_date", ["athlete_id", "date"], unique=False)

    op.create_table(
        "recordings",
        sa.Column("recording_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("athlete_id", sa.String(length=64), nullable=True),
        sa.Column("title", sa.String(length=200), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("notes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.athlete_id"],
        ),
        sa.PrimaryKeyConstraint("recording_id"),
    )
    op.create_table(
        "training_sessions",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("athlete_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("session_type", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duration_min", sa.Float(), nullable=True),
        sa.Column("srpe", sa.Float(), nullable=True),
        sa.Column("load_au", sa.Float(), nullable=True),
        sa.Column("planned_duration_min", sa.Float(), nullable=True),
        sa.Column("planned_load_au", sa.Float(), nullable=True),
        sa.Column("source", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.athlete_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.create_index("ix_training_athlete_date", ["athlete_id", "date"], unique=False)

    op.create_table(
        "wellness_daily",
        sa.Column("athlete_id", sa.String(length=64), nullable=False),
        sa.Column("date", sa.Date(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("sleep_total_min", sa.Float(), nullable=True),
        sa.Column("sleep_deep_min", sa.Float(), nullable=True),
        sa.Column("sleep_rem_min", sa.Float(), nullable=True),
        sa.Column("sleep_light_min", sa.Float(), nullable=True),
        sa.Column("sleep_awake_min", sa.Float(), nullable=True),
        sa.Column("bedtime", sa.String(length=5), nullable=True),
        sa.Column("resting_hr_bpm", sa.Float(), nullable=True),
        sa.Column("rmssd_ms", sa.Float(), nullable=True),
        sa.Column("daytime_stress", sa.Float(), nullable=True),
        sa.Column("fatigue_1_10", sa.Float(), nullable=True),
        sa.Column("soreness_1_10", sa.Float(), nullable=True),
        sa.Column("mood_1_10", sa.Float(), nullable=True),
        sa.Column("stress_1_10", sa.Float(), nullable=True),
        sa.Column("sleep_quality_1_10", sa.Float(), nullable=True),
        sa.Column("readiness_self_1_10", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.athlete_id"],
        ),
        sa.PrimaryKeyConstraint("athlete_id", "date", "source"),
    )
    op.create_table(
        "bfr_sessions",
        sa.Column("session_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("athlete_id", sa.String(length=64), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("ended_at", sa.DateTime(), nullable=True),
        sa.Column("limb", sa.String(length=8), nullable=False),
        sa.Column("side", sa.String(length=8), nullable=False),
        sa.Column("cuff_id", sa.String(length=64), nullable=False),
        sa.Column("cuff_width_cm", sa.Float(), nullable=True),
        sa.Column("posture", sa.String(length=16), nullable=True),
        sa.Column("aop_readings_mmhg", sa.Text(), nullable=True),
        sa.Column("aop_mmhg", sa.Float(), nullable=True),
        sa.Column("percent_aop", sa.Float(), nullable=True),
        sa.Column("setpoint_mmhg", sa.Float(), nullable=True),
        sa.Column("exercise", sa.String(length=100), nullable=True),
        sa.Column("load_pct_1rm", sa.Float(), nullable=True),
        sa.Column("scheme", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("time_under_pressure_s", sa.Float(), nullable=True),
        sa.Column("max_pressure_mmhg", sa.Float(), nullable=True),
        sa.Column("recording_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["athlete_id"],
            ["athletes.athlete_id"],
        ),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.recording_id"],
        ),
        sa.PrimaryKeyConstraint("session_id"),
    )
    op.create_table(
        "recording_markers",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("t_s", sa.Float(), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.recording_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "recording_streams",
        sa.Column("stream_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("recording_id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("device", sa.String(length=200), nullable=False),
        sa.Column("channel_names", sa.Text(), nullable=False),
        sa.Column("units", sa.Text(), nullable=False),
        sa.Column("sampling_rate_hz", sa.Float(), nullable=True),
        sa.ForeignKeyConstraint(
            ["recording_id"],
            ["recordings.recording_id"],
        ),
        sa.PrimaryKeyConstraint("stream_id"),
        sa.UniqueConstraint("recording_id", "name"),
    )
    op.create_table(
        "bfr_events",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("session_id", sa.Integer(), nullable=False),
        sa.Column("wall_time", sa.DateTime(), nullable=False),
        sa.Column("t_s", sa.Float(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("code", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.String(length=8), nullable=True),
        sa.Column("value", sa.Float(), nullable=True),
        sa.Column("message", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["session_id"],
            ["bfr_sessions.session_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "recording_chunks",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("stream_id", sa.Integer(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("n_samples", sa.Integer(), nullable=False),
        sa.Column("host_t_s", sa.LargeBinary(), nullable=False),
        sa.Column("device_t_s", sa.LargeBinary(), nullable=False),
        sa.Column("values", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stream_id"],
            ["recording_streams.stream_id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("stream_id", "seq"),
    )


def downgrade() -> None:
    op.drop_table("recording_chunks")
    op.drop_table("bfr_events")
    op.drop_table("recording_streams")
    op.drop_table("recording_markers")
    op.drop_table("bfr_sessions")
    op.drop_table("wellness_daily")
    with op.batch_alter_table("training_sessions", schema=None) as batch_op:
        batch_op.drop_index("ix_training_athlete_date")

    op.drop_table("training_sessions")
    op.drop_table("recordings")
    with op.batch_alter_table("performance_tests", schema=None) as batch_op:
        batch_op.drop_index("ix_performance_athlete_date")

    op.drop_table("performance_tests")
    with op.batch_alter_table("mobility_assessments", schema=None) as batch_op:
        batch_op.drop_index("ix_mobility_athlete_date")

    op.drop_table("mobility_assessments")
    with op.batch_alter_table("hrv_readings", schema=None) as batch_op:
        batch_op.drop_index("ix_hrv_athlete_date")

    op.drop_table("hrv_readings")
    op.drop_table("episodes")
    with op.batch_alter_table("biomarkers", schema=None) as batch_op:
        batch_op.drop_index("ix_biomarkers_athlete_date")

    op.drop_table("biomarkers")
    op.drop_table("imports")
    op.drop_table("athletes")
