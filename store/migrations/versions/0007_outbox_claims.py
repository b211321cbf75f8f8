"""Outbox claims (issue 7): one row per recipient's copy, claimed before it is sent, delivered after 250.

Revision ID: 0007_outbox_claims
Revises: 0006_funding_awards
Created: 2026 (store/casework.py OutboxCopy)

- outboxcopy: a recipient's copy of an outbox message, its Message-ID, the attempt that claimed it and
  when it was delivered. A message's copies are deleted with it.
No rows are filled: the email activity makes a message's copies when it next sends it, and a copy whose
address is already in the message's `delivered` list is made delivered (never sent again).
The downgrade drops the table (`delivered` still lists who has their copy).
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0007_outbox_claims"
down_revision: str | None = "0006_funding_awards"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "outboxcopy",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("address", sqlmodel.sql.sqltypes.AutoString(length=320), nullable=False),
        sa.Column("message_id", sqlmodel.sql.sqltypes.AutoString(length=200), nullable=False),
        sa.Column("claimed_attempt", sa.Integer(), nullable=False),
        sa.Column("claims", sa.Integer(), nullable=False),
        sa.Column("claimed_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.Column("delivered_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["outbox_id"], ["outboxmessage.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("outbox_id", "address"),
    )
    with op.batch_alter_table("outboxcopy", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_outboxcopy_outbox_id"), ["outbox_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("outboxcopy", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_outboxcopy_outbox_id"))

    op.drop_table("outboxcopy")
