"""tt01 desk entries

Revision ID: 0007
Revises: 0006
"""

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # tt01: indicators 5, 6, 8, 9 entered per one-stop desk (centre) and quarter
    op.create_table(
        "tt01_desk_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("centre_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.Integer(), nullable=False),
        sa.Column("indicator_5", sa.Integer(), nullable=True),
        sa.Column("indicator_6", sa.Integer(), nullable=True),
        sa.Column("indicator_8", sa.Integer(), nullable=True),
        sa.Column("indicator_9", sa.Integer(), nullable=True),
        sa.Column("entered_by_id", sa.Integer(), nullable=True),
        sa.Column("entered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["centre_id"], ["centres.id"], name=op.f("fk_tt01_desk_entries_centre_id_centres")
        ),
        sa.ForeignKeyConstraint(
            ["entered_by_id"], ["users.id"], name=op.f("fk_tt01_desk_entries_entered_by_id_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_tt01_desk_entries")),
        sa.UniqueConstraint(
            "centre_id",
            "year",
            "quarter",
            name=op.f("uq_tt01_desk_entries_centre_id_year_quarter"),
        ),
    )


def downgrade() -> None:
    op.drop_table("tt01_desk_entries")
