"""annual index scores

Revision ID: 0005
Revises: 0004
"""

import sqlalchemy as sa
from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "index_assessments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("table_id", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_index_assessments_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_assessments")),
        sa.UniqueConstraint(
            "unit_id", "year", "table_id", name=op.f("uq_index_assessments_unit_id_year_table_id")
        ),
    )
    op.create_table(
        "index_leaf_scores",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("assessment_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("self_assessed_cp", sa.Integer(), nullable=True),
        sa.Column("appraised_cp", sa.Integer(), nullable=True),
        sa.Column("not_assessed", sa.Boolean(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assessment_id"],
            ["index_assessments.id"],
            name=op.f("fk_index_leaf_scores_assessment_id_index_assessments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_leaf_scores")),
        sa.UniqueConstraint(
            "assessment_id", "code", name=op.f("uq_index_leaf_scores_assessment_id_code")
        ),
    )
    op.create_table(
        "index_survey_results",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("year", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=32), nullable=False),
        sa.Column("percent_tenths", sa.Integer(), nullable=False),
        sa.Column("respondents", sa.Integer(), nullable=True),
        sa.Column("source", sa.String(length=255), nullable=True),
        sa.Column("imported_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_index_survey_results_unit_id_units")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_index_survey_results")),
        sa.UniqueConstraint(
            "unit_id", "year", "code", name=op.f("uq_index_survey_results_unit_id_year_code")
        ),
    )


def downgrade() -> None:
    op.drop_table("index_survey_results")
    op.drop_table("index_leaf_scores")
    op.drop_table("index_assessments")
