"""rating job indexes

The monthly rating job counts each receiving officer's dossiers returned in the month; this
index answers that GROUP BY on its own, in officer order (no table access, no sort), on SQLite
and PostgreSQL alike.

Revision ID: 0008
Revises: 0007
"""

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dossiers_reception_returned",
            ["reception_officer_id", "returned_at", "due_at"],
            unique=False,
        )


def downgrade() -> None:
    with op.batch_alter_table("dossiers", schema=None) as batch_op:
        batch_op.drop_index("ix_dossiers_reception_returned")
