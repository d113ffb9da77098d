"""audit trail, erased people, one planned digest per person

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ONE_DIGEST = sa.text("kind = 'digest' AND done_at IS NULL")


def upgrade() -> None:
    op.create_table(
        "audit",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("actor", sa.String(length=200), nullable=False),
        sa.Column("action", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=200), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit")),
    )
    op.create_index(op.f("ix_audit_at"), "audit", ["at"], unique=False)
    op.create_index(op.f("ix_audit_action"), "audit", ["action"], unique=False)
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("erased_at", sa.DateTime(), nullable=True))
    # Two workers could each plan a digest; keep the oldest planned one before the index.
    op.execute(
        "UPDATE scheduled_actions SET done_at = created_at, outcome = 'duplicate' "
        "WHERE kind = 'digest' AND done_at IS NULL AND id NOT IN ("
        " SELECT min(id) FROM scheduled_actions WHERE kind = 'digest' AND done_at IS NULL"
        " GROUP BY person_id)"
    )
    op.create_index(
        "uq_scheduled_actions_one_digest",
        "scheduled_actions",
        ["person_id"],
        unique=True,
        sqlite_where=_ONE_DIGEST,
        postgresql_where=_ONE_DIGEST,
    )


def downgrade() -> None:
    op.drop_index("uq_scheduled_actions_one_digest", table_name="scheduled_actions")
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("erased_at")
    op.drop_index(op.f("ix_audit_action"), table_name="audit")
    op.drop_index(op.f("ix_audit_at"), table_name="audit")
    op.drop_table("audit")
