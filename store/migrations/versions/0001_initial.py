"""The schema as `SQLModel.metadata.create_all` made it before migrations: the register and the case tables.

Revision ID: 0001_initial
Revises:
Created: 2026 (written out by hand from store/casework.py and store/register.py at commit 68531dd)

Written out in full, never from the models: later revisions change the models, this one never changes.
Enums are native types on PostgreSQL (dropped again by the downgrade) and VARCHARs on SQLite.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001_initial"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

AGENCY_KIND = sa.Enum("la_sen", "ep_service", "health", "social_care", "other", name="agencykind")
SEN_PROVISION = sa.Enum("E", "K", "N", name="senprovision")
ROLE = sa.Enum("sendco", "headteacher", "staff", name="role")
CASE_STATUS = sa.Enum("open", "closed", name="casestatus")
DEADLINE_STATUS = sa.Enum("pending", "met", "missed", "escalated", "cancelled", name="deadlinestatus")
OUTBOX_STATUS = sa.Enum("pending", "sent", "failed", name="outboxstatus")
APPROVAL_STATUS = sa.Enum("pending", "approved", "rejected", "withdrawn", name="approvalstatus")
ENUMS = [AGENCY_KIND, SEN_PROVISION, ROLE, CASE_STATUS, DEADLINE_STATUS, OUTBOX_STATUS, APPROVAL_STATUS]


def timestamp(name: str, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def text(name: str, length: int | None = None, *, nullable: bool = False) -> sa.Column:
    return sa.Column(name, sa.String(length=length), nullable=nullable)


def upgrade() -> None:
    # --- the register ---------------------------------------------------------
    op.create_table(
        "agency",
        sa.Column("kind", AGENCY_KIND, nullable=False),
        text("name", 200),
        text("local_authority", 100, nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        text("email", 320),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "parent",
        text("name", 200),
        text("relationship", 50),
        sa.Column("id", sa.Integer(), nullable=False),
        text("email", 320),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "receivedmail",
        sa.Column("id", sa.Integer(), nullable=False),
        timestamp("received_at"),
        text("mail_from", 320),
        sa.Column("recipients", sa.JSON(), nullable=True),
        text("subject", 500),
        text("message_id", 300, nullable=True),
        text("raw"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_receivedmail_received_at"), "receivedmail", ["received_at"], unique=False)
    op.create_table(
        "school",
        text("name", 200),
        text("urn", 20, nullable=True),
        text("local_authority", 100),
        sa.Column("terms", sa.JSON(), nullable=True),
        sa.Column("inset_days", sa.JSON(), nullable=True),
        sa.Column("sendco_working_days", sa.JSON(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "pupil",
        text("legal_name", 200),
        sa.Column("date_of_birth", sa.Date(), nullable=False),
        sa.Column("year_group", sa.Integer(), nullable=False),
        sa.Column("sen_provision", SEN_PROVISION, nullable=False),
        sa.Column("needs", sa.JSON(), nullable=True),
        text("local_authority", 100, nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_pupil_school_id"), "pupil", ["school_id"], unique=False)
    op.create_table(
        "staff",
        text("name", 200),
        sa.Column("role", ROLE, nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        text("email", 320),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("email"),
    )
    op.create_index(op.f("ix_staff_school_id"), "staff", ["school_id"], unique=False)
    op.create_table(
        "apitoken",
        sa.Column("id", sa.Integer(), nullable=False),
        text("digest", 64),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        timestamp("created_at"),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(op.f("ix_apitoken_digest"), "apitoken", ["digest"], unique=True)
    op.create_index(op.f("ix_apitoken_staff_id"), "apitoken", ["staff_id"], unique=False)
    op.create_table(
        "pupilparent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["parent_id"], ["parent.id"]),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("pupil_id", "parent_id"),
    )
    op.create_index(op.f("ix_pupilparent_parent_id"), "pupilparent", ["parent_id"], unique=False)
    op.create_index(op.f("ix_pupilparent_pupil_id"), "pupilparent", ["pupil_id"], unique=False)

    # --- cases and what the workflows write about them -----------------------------
    op.create_table(
        "case",
        text("id", 36),
        text("process", 40),
        text("workflow_id", 80),
        sa.Column("pupil_id", sa.Integer(), nullable=False),
        sa.Column("school_id", sa.Integer(), nullable=False),
        sa.Column("status", CASE_STATUS, nullable=False),
        text("step", 60),
        text("next_action", 500),
        sa.Column("flags", sa.JSON(), nullable=True),
        sa.Column("facts", sa.JSON(), nullable=True),
        sa.Column("started_by", sa.Integer(), nullable=False),
        timestamp("started_at"),
        timestamp("updated_at"),
        timestamp("closed_at", nullable=True),
        sa.ForeignKeyConstraint(["pupil_id"], ["pupil.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.ForeignKeyConstraint(["started_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("workflow_id"),
    )
    op.create_index(op.f("ix_case_process"), "case", ["process"], unique=False)
    op.create_index(op.f("ix_case_pupil_id"), "case", ["pupil_id"], unique=False)
    op.create_index(op.f("ix_case_school_id"), "case", ["school_id"], unique=False)
    op.create_index("ix_case_school_started", "case", ["school_id", "started_at", "id"], unique=False)
    op.create_index(op.f("ix_case_status"), "case", ["status"], unique=False)
    op.create_table(
        "approval",
        sa.Column("id", sa.Integer(), nullable=False),
        text("case_id", 36),
        text("key", 120),
        text("step", 60),
        text("summary", 1000),
        sa.Column("status", APPROVAL_STATUS, nullable=False),
        timestamp("requested_at"),
        sa.Column("decided_by", sa.Integer(), nullable=True),
        timestamp("decided_at", nullable=True),
        text("comment", 2000, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["decided_by"], ["staff.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "key"),
    )
    op.create_index(op.f("ix_approval_case_id"), "approval", ["case_id"], unique=False)
    op.create_index(op.f("ix_approval_status"), "approval", ["status"], unique=False)
    op.create_table(
        "chronologyentry",
        sa.Column("id", sa.Integer(), nullable=False),
        text("case_id", 36),
        timestamp("at"),
        text("actor", 80),
        text("action", 80),
        text("detail", 4000),
        text("key", 80, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "key"),
    )
    op.create_index(op.f("ix_chronologyentry_case_id"), "chronologyentry", ["case_id"], unique=False)
    op.create_table(
        "deadline",
        sa.Column("id", sa.Integer(), nullable=False),
        text("case_id", 36),
        sa.Column("school_id", sa.Integer(), nullable=False),
        text("key", 120),
        text("step", 60),
        text("rule_id", 40),
        text("owner", 40),
        sa.Column("due", sa.Date(), nullable=False),
        sa.Column("status", DEADLINE_STATUS, nullable=False),
        timestamp("met_at", nullable=True),
        timestamp("missed_at", nullable=True),
        timestamp("escalated_at", nullable=True),
        timestamp("completed_at", nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["school_id"], ["school.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("case_id", "key"),
    )
    op.create_index(op.f("ix_deadline_case_id"), "deadline", ["case_id"], unique=False)
    op.create_index(op.f("ix_deadline_due"), "deadline", ["due"], unique=False)
    op.create_index(op.f("ix_deadline_rule_id"), "deadline", ["rule_id"], unique=False)
    op.create_index("ix_deadline_school_due", "deadline", ["school_id", "due", "id"], unique=False)
    op.create_index(op.f("ix_deadline_status"), "deadline", ["status"], unique=False)
    op.create_table(
        "outboxmessage",
        sa.Column("id", sa.Integer(), nullable=False),
        text("key", 200),
        text("case_id", 36, nullable=True),
        text("template", 80),
        sa.Column("recipients", sa.JSON(), nullable=True),
        sa.Column("delivered", sa.JSON(), nullable=True),
        text("subject", 300),
        sa.Column("status", OUTBOX_STATUS, nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        timestamp("created_at"),
        timestamp("sent_at", nullable=True),
        text("error", 2000, nullable=True),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("key"),
    )
    op.create_index(op.f("ix_outboxmessage_case_id"), "outboxmessage", ["case_id"], unique=False)
    op.create_index(op.f("ix_outboxmessage_status"), "outboxmessage", ["status"], unique=False)


def downgrade() -> None:
    # Children before parents; dropping a table drops its indexes.
    for table in [
        "outboxmessage",
        "deadline",
        "chronologyentry",
        "approval",
        "case",
        "pupilparent",
        "apitoken",
        "staff",
        "pupil",
        "school",
        "receivedmail",
        "parent",
        "agency",
    ]:
        op.drop_table(table)
    bind = op.get_bind()
    if bind.dialect.name == "postgresql":
        for enum in ENUMS:
            enum.drop(bind, checkfirst=True)
