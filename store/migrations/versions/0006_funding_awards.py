"""High needs funding and SENIF applications' money (issue 11): one row per application attempt.

Revision ID: 0006_funding_awards
Revises: 0005_ep_allocation
Created: 2026 (store/funding.py)

- funding_award: written when an application is submitted (pending, the amount asked) and when the LA
  decides (approved or partly approved with the amount and dates, or declined with the reason).
The downgrade drops the table.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0006_funding_awards"
down_revision: str | None = "0005_ep_allocation"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "funding_award",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("kind", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("status", sqlmodel.sql.sqltypes.AutoString(length=20), nullable=False),
        sa.Column("asked", sa.Float(), nullable=False),
        sa.Column("awarded", sa.Float(), nullable=True),
        sa.Column("submitted_on", sa.Date(), nullable=False),
        sa.Column("decided_on", sa.Date(), nullable=True),
        sa.Column("starts_on", sa.Date(), nullable=True),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("reason", sqlmodel.sql.sqltypes.AutoString(length=2000), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "attempt"),
    )
    with op.batch_alter_table("funding_award") as batch:
        batch.create_index(batch.f("ix_funding_award_pupil_id"), ["pupil_id"], unique=False)
        batch.create_index("ix_funding_award_school_submitted", ["school_id", "submitted_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("funding_award") as batch:
        batch.drop_index("ix_funding_award_school_submitted")
        batch.drop_index(batch.f("ix_funding_award_pupil_id"))
    op.drop_table("funding_award")
