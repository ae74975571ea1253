"""monthly rating results and decisions

Revision ID: 0004
Revises: 0003
"""

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "officer_ratings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("officer_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("staff_group", sa.String(length=16), nullable=False),
        sa.Column("band", sa.String(length=32), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("flags", sa.JSON(), nullable=False),
        sa.Column("reasons", sa.JSON(), nullable=False),
        sa.Column("ruleset_id", sa.String(length=64), nullable=False),
        sa.Column("ruleset_version", sa.Integer(), nullable=False),
        sa.Column("preview", sa.Boolean(), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("computed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["officer_id"], ["officers.id"], name=op.f("fk_officer_ratings_officer_id_officers")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_officer_ratings_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_officer_ratings")),
        sa.UniqueConstraint(
            "officer_id",
            "month",
            "revision",
            name=op.f("uq_officer_ratings_officer_id_month_revision"),
        ),
    )
    with op.batch_alter_table("officer_ratings", schema=None) as batch_op:
        batch_op.create_index("ix_officer_ratings_unit_month", ["unit_id", "month"], unique=False)

    op.create_table(
        "unit_months",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("month", sa.Date(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reopened_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["users.id"], name=op.f("fk_unit_months_approved_by_id_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_unit_months_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_unit_months")),
        sa.UniqueConstraint("unit_id", "month", name=op.f("uq_unit_months_unit_id_month")),
    )


def downgrade() -> None:
    op.drop_table("unit_months")
    with op.batch_alter_table("officer_ratings", schema=None) as batch_op:
        batch_op.drop_index("ix_officer_ratings_unit_month")
    op.drop_table("officer_ratings")
