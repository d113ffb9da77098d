"""outbox: a final failed state and the people each message mentions; inbound ids hashed;
menus kept as a stack of messages with choices; the language people last wrote in

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _hashed(platform: str, message_id: str) -> str:
    # The same as helpdesk.storage.repositories.inbound_key at this revision, copied so that
    # the migration keeps doing what it did when the code changes.
    return hashlib.sha256(f"{platform}\x00{message_id}".encode()).hexdigest()


def upgrade() -> None:
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("failing_since", sa.DateTime(), nullable=True))
        batch_op.add_column(sa.Column("failed_at", sa.DateTime(), nullable=True))
    op.create_table(
        "outbox_mentions",
        sa.Column("outbox_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["outbox_id"],
            ["outbox.id"],
            name=op.f("fk_outbox_mentions_outbox_id_outbox"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("outbox_id", "person_id", name=op.f("pk_outbox_mentions")),
    )
    op.create_index(
        op.f("ix_outbox_mentions_person_id"), "outbox_mentions", ["person_id"], unique=False
    )
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("last_language", sa.String(length=20), nullable=True))
    # Menus were one list of actions; they are a stack of messages now. The choices open
    # at the upgrade are dropped (a number then says so), rather than guessed.
    op.execute("DELETE FROM menus")
    with op.batch_alter_table("menus", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("live", sa.Boolean(), nullable=False, server_default=sa.true())
        )
    # Platform message ids name people (a Telegram private chat's id is the user's id):
    # only their hashes are kept, which is all that recognising a redelivery needs.
    connection = op.get_bind()
    inbound = sa.table(
        "inbound", sa.column("id", sa.Integer), sa.column("platform"), sa.column("message_id")
    )
    rows = connection.execute(sa.select(inbound.c.id, inbound.c.platform, inbound.c.message_id))
    for row_id, platform, message_id in rows.fetchall():
        connection.execute(
            sa.update(inbound)
            .where(inbound.c.id == row_id)
            .values(message_id=_hashed(platform, message_id))
        )


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("last_language")
    op.execute("DELETE FROM menus")
    with op.batch_alter_table("menus", schema=None) as batch_op:
        batch_op.drop_column("live")
    op.drop_index(op.f("ix_outbox_mentions_person_id"), table_name="outbox_mentions")
    op.drop_table("outbox_mentions")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_column("failed_at")
        batch_op.drop_column("failing_since")
