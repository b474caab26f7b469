"""wellness device readiness

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-24 00:34:14.665821
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("wellness_daily", schema=None) as batch_op:
        batch_op.add_column(sa.Column("readiness_device_0_100", sa.Float(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("wellness_daily", schema=None) as batch_op:
        batch_op.drop_column("readiness_device_0_100")
