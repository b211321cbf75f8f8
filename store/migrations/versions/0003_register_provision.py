"""The SEND register and provision map (issue 9): pupils' UPNs, interventions and the pupils placed in them.

Revision ID: 0003_register_provision
Revises: 0002_engine_kit
Created: 2026 (store/register.py and store/provision.py)

- pupil.upn: the unique pupil number, matched within the school by the CSV import from the MIS
  (unique per school: uq_pupil_school_upn); empty for existing pupils.
- intervention: the school's provision map (group or individual, staff, sessions a week, weeks, cost a week).
- placed_intervention: the pupils in each, by the case and cycle whose support plan placed them.
The downgrade drops both tables (and the placements in them) and the UPNs.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0003_register_provision"
down_revision: str | None = "0002_engine_kit"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("pupil") as batch:
        batch.add_column(sa.Column("upn", sqlmodel.sql.sqltypes.AutoString(length=13), nullable=True))
        batch.create_unique_constraint("uq_pupil_school_upn", ["school_id", "upn"])

    op.create_table(
        "intervention",
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column(
            "delivery",
            sa.Enum("group", "individual", name="delivery", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("sessions_per_week", sa.Float(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("cost_per_week", sa.Float(), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("intervention") as batch:
        batch.create_index(batch.f("ix_intervention_school_id"), ["school_id"], unique=False)

    op.create_table(
        "placed_intervention",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("intervention_id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("cycle", sa.Integer(), nullable=False),
        sa.Column("sessions_per_week", sa.Float(), nullable=False),
        sa.Column("weeks", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("cost_per_week", sa.Float(), nullable=True),
        sa.Column("placed_on", sa.Date(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["intervention_id"], ["intervention.id"]),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "cycle", "intervention_id"),
    )
    with op.batch_alter_table("placed_intervention") as batch:
        batch.create_index(batch.f("ix_placed_intervention_case_id"), ["case_id"], unique=False)
        batch.create_index(
            batch.f("ix_placed_intervention_intervention_id"), ["intervention_id"], unique=False
        )
        batch.create_index(batch.f("ix_placed_intervention_pupil_id"), ["pupil_id"], unique=False)
        batch.create_index("ix_placed_intervention_school_placed", ["school_id", "placed_on"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("placed_intervention") as batch:
        batch.drop_index("ix_placed_intervention_school_placed")
        batch.drop_index(batch.f("ix_placed_intervention_pupil_id"))
        batch.drop_index(batch.f("ix_placed_intervention_intervention_id"))
        batch.drop_index(batch.f("ix_placed_intervention_case_id"))
    op.drop_table("placed_intervention")

    with op.batch_alter_table("intervention") as batch:
        batch.drop_index(batch.f("ix_intervention_school_id"))
    op.drop_table("intervention")

    with op.batch_alter_table("pupil") as batch:
        batch.drop_constraint("uq_pupil_school_upn", type_="unique")
        batch.drop_column("upn")
