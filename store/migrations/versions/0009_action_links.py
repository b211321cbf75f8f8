"""Action links (issue 13): the links parents and agencies answer from, and the files they send.

Revision ID: 0009_action_links
Revises: 0008_agency_school
Created: 2026 (store/links.py ActionLink, store/case_files.py CaseFile)

- action_link: one emailed link (an opaque id; the token is that id signed with SEND_LINK_KEY): its case,
  recipient (parent:<id> / agency:<id>), purpose, the step it answers, the email that carried it, when
  it expires, was used or revoked, and how many attempts on it were refused.
- case_file: a file sent with a case (its bytes under var/uploads): name, sniffed type, size, digest,
  who sent it and through which link.
No rows are filled. The downgrade drops both tables (the files under var/uploads stay).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0009_action_links"
down_revision: str | None = "0008_agency_school"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "action_link",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("recipient", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("addressed", sa.JSON(), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("step", sqlmodel.sql.sqltypes.AutoString(length=120), nullable=False),
        sa.Column("source", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("used_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("revoked_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("refused", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("source", "recipient", "purpose"),
    )
    with op.batch_alter_table("action_link", schema=None) as batch_op:
        batch_op.create_index("ix_action_link_case", ["case_id", "created_at"], unique=False)
    op.create_table(
        "case_file",
        sa.Column("id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("case_id", sqlmodel.sql.sqltypes.AutoString(length=36), nullable=False),
        sa.Column("link_id", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=True),
        sa.Column("name", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("content_type", sqlmodel.sql.sqltypes.AutoString(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("sent_by", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("purpose", sqlmodel.sql.sqltypes.AutoString(length=40), nullable=False),
        sa.Column("stored_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"]),
        sa.ForeignKeyConstraint(["link_id"], ["action_link.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_case_file_case_id"), ["case_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("case_file", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_case_file_case_id"))
    op.drop_table("case_file")
    with op.batch_alter_table("action_link", schema=None) as batch_op:
        batch_op.drop_index("ix_action_link_case")
    op.drop_table("action_link")
