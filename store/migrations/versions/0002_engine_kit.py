"""The engine kit (issue 6): the workflow's own view of a case, event times, and deadlines done late.

Revision ID: 0002_engine_kit
Revises: 0001_initial
Created: 2026 (store/casework.py as changed after commit 68531dd)

- case.view: the workflow's view of the case, apart from the facts the SENDCo gave; {} for existing cases.
- case.recorded_at, deadline.recorded_at, approval.recorded_at: the event time of the last write, so an
  older write never overwrites a newer state; empty for existing rows.
- deadline.status: a VARCHAR(20) checked by the model (domain.deadline_states), with the new status
  met_late. On PostgreSQL the native enum type deadlinestatus is converted and dropped.
The downgrade records a deadline met late as met (the old statuses have no met_late).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002_engine_kit"
down_revision: str | None = "0001_initial"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_DEADLINE_STATUS = sa.Enum("pending", "met", "missed", "escalated", "cancelled", name="deadlinestatus")
DEADLINE_STATUS = sa.String(length=20)


def _postgresql() -> bool:
    return op.get_bind().dialect.name == "postgresql"


def upgrade() -> None:
    with op.batch_alter_table("case") as batch:
        # The default fills the existing rows; the model gives every new row its own.
        batch.add_column(sa.Column("view", sa.JSON(), nullable=False, server_default="{}"))
        batch.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
    with op.batch_alter_table("case") as batch:
        batch.alter_column("view", existing_type=sa.JSON(), existing_nullable=False, server_default=None)

    with op.batch_alter_table("deadline") as batch:
        batch.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))
        batch.alter_column(
            "status",
            existing_type=OLD_DEADLINE_STATUS,
            type_=DEADLINE_STATUS,
            existing_nullable=False,
            postgresql_using="status::text",
        )
    if _postgresql():
        OLD_DEADLINE_STATUS.drop(op.get_bind(), checkfirst=False)

    with op.batch_alter_table("approval") as batch:
        batch.add_column(sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("approval") as batch:
        batch.drop_column("recorded_at")

    op.execute("UPDATE deadline SET status = 'met' WHERE status = 'met_late'")
    if _postgresql():
        OLD_DEADLINE_STATUS.create(op.get_bind(), checkfirst=False)
    with op.batch_alter_table("deadline") as batch:
        batch.drop_column("recorded_at")
        batch.alter_column(
            "status",
            existing_type=DEADLINE_STATUS,
            type_=OLD_DEADLINE_STATUS,
            existing_nullable=False,
            postgresql_using="status::deadlinestatus",
        )

    with op.batch_alter_table("case") as batch:
        batch.drop_column("recorded_at")
        batch.drop_column("view")
