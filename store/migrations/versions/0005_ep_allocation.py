"""The school's annual EP allocation and the referrals drawing on it (issue 10, EP-ALLOCATION).

Revision ID: 0005_ep_allocation
Revises: 0004_sessions
Created: 2026 (store/ep_allocation.py)

- ep_allocation: one agreement per school and school year (hours or sessions).
- ep_allocation_use: each referral's draw on it (reserved, used or released; one per case).
Both tables are new, so no existing row needs filling; the downgrade drops them.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0005_ep_allocation"
down_revision: str | None = "0004_sessions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "ep_allocation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("unit", sqlmodel.sql.sqltypes.AutoString(length=10), nullable=False),
        sa.Column("allocated", sa.Float(), nullable=False),
        sa.Column("updated_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("school_id", "school_year"),
    )
    op.create_table(
        "ep_allocation_use",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("school_year", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("reserved", sa.Float(), nullable=False),
        sa.Column("used", sa.Float(), nullable=True),
        sa.Column(
            "status",
            sa.Enum("reserved", "used", "released", name="usestatus", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("overrun", sa.Boolean(), nullable=False),
        sa.Column("at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"],
            ["case.id"],
        ),
        sa.ForeignKeyConstraint(
            ["school_id"],
            ["school.id"],
        ),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id"),
    )
    with op.batch_alter_table("ep_allocation_use") as batch_op:
        batch_op.create_index(batch_op.f("ix_ep_allocation_use_school_id"), ["school_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("ep_allocation_use") as batch_op:
        batch_op.drop_index(batch_op.f("ix_ep_allocation_use_school_id"))

    op.drop_table("ep_allocation_use")
    op.drop_table("ep_allocation")
