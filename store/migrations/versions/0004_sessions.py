"""Sessions and tenancy (issue 7): server-side web sessions, tokens that expire, mail kept per school.

Revision ID: 0004_sessions
Revises: 0003_register_provision
Created: 2026 (store/register.py, store/casework.py, store/sessions.py)

- web_session: a signed-in browser, its random id stored only as a SHA-256 digest, bound to the staff
  member and to the token it was signed in with (revoking the token ends the session).
- apitoken.expires_at: every token expires; existing tokens expire 90 days after they were issued.
- receivedmail.school_id: the school a received message belongs to (from its outbox key's case, or its
  recipient's place in the register); existing mail is nobody's, so no school reads it.
The downgrade drops the sessions, the expiry dates and the mail's school.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
import sqlmodel.sql.sqltypes
from alembic import op

revision: str = "0004_sessions"
down_revision: str | None = "0003_register_provision"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TOKEN_DAYS = 90  # store.tokens.TOKEN_DAYS when this revision was written


def upgrade() -> None:
    op.create_table(
        "web_session",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("digest", sqlmodel.sql.sqltypes.AutoString(length=64), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.Column("token_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["staff_id"], ["staff.id"]),
        sa.ForeignKeyConstraint(["token_id"], ["apitoken.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("web_session") as batch:
        batch.create_index(batch.f("ix_web_session_digest"), ["digest"], unique=True)
        batch.create_index(batch.f("ix_web_session_staff_id"), ["staff_id"], unique=False)
        batch.create_index(batch.f("ix_web_session_token_id"), ["token_id"], unique=False)

    with op.batch_alter_table("apitoken") as batch:
        batch.add_column(sa.Column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime(), nullable=True))
    tokens = sa.table(
        "apitoken",
        sa.column("id", sa.Integer()),
        sa.column("created_at", sqlmodel.sql.sqltypes.UTCDateTime()),
        sa.column("expires_at", sqlmodel.sql.sqltypes.UTCDateTime()),
    )
    connection = op.get_bind()
    for token_id, created in connection.execute(sa.select(tokens.c.id, tokens.c.created_at)).all():
        created = created if created.tzinfo else created.replace(tzinfo=dt.UTC)
        expires = created + dt.timedelta(days=TOKEN_DAYS)
        connection.execute(tokens.update().where(tokens.c.id == token_id).values(expires_at=expires))
    with op.batch_alter_table("apitoken") as batch:
        batch.alter_column("expires_at", existing_type=sqlmodel.sql.sqltypes.UTCDateTime(), nullable=False)

    with op.batch_alter_table("receivedmail") as batch:
        batch.add_column(sa.Column("school_id", sa.Integer(), nullable=True))
        batch.create_index(batch.f("ix_receivedmail_school_id"), ["school_id"], unique=False)
        batch.create_foreign_key("fk_receivedmail_school_id_school", "school", ["school_id"], ["id"])


def downgrade() -> None:
    with op.batch_alter_table("receivedmail") as batch:
        batch.drop_constraint("fk_receivedmail_school_id_school", type_="foreignkey")
        batch.drop_index(batch.f("ix_receivedmail_school_id"))
        batch.drop_column("school_id")

    with op.batch_alter_table("apitoken") as batch:
        batch.drop_column("expires_at")

    with op.batch_alter_table("web_session") as batch:
        batch.drop_index(batch.f("ix_web_session_token_id"))
        batch.drop_index(batch.f("ix_web_session_staff_id"))
        batch.drop_index(batch.f("ix_web_session_digest"))
    op.drop_table("web_session")
