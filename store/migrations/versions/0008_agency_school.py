"""Agencies a school registers are that school's (issue 7): another school can no longer add a team to an LA
that every school of that LA would then write to.

Revision ID: 0008_agency_school
Revises: 0007_outbox_claims
Created: 2026 (store/register.py Agency.school_id)

- agency.school_id: the school that registered the agency, whose cases alone use it; NULL for the LA's
  shared register (the seed, an administrator). Rows already stored stay shared.
The downgrade drops the column (every agency shared again).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008_agency_school"
down_revision: str | None = "0007_outbox_claims"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agency") as batch:
        batch.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_agency_school_id"), ["school_id"], unique=False)
        batch.create_foreign_key("fk_agency_school_id_school", "school", ["school_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("agency") as batch:
        batch.drop_constraint("fk_agency_school_id_school", type_="foreignkey")
        batch.drop_index(batch.f("ix_agency_school_id"))
        batch.drop_column("school_id")
