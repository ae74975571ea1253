"""reception month

Each dossier carries the local month it was returned in and whether it is late for its receiving
officer (named responsible), so that the rating job counts a month's reception dossiers from
one range of an index, read alone and in officer order, instead of scanning every dossier's
entry of the (officer, returned_at, due_at) index of 0008, which this replaces. The app keeps
both columns on every flush that touches a dossier (models._sync_month_facts); this migration
fills them for the dossiers already stored.

Revision ID: 0010
Revises: 0009
"""

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None

LOCAL_TZ = ZoneInfo("Asia/Ho_Chi_Minh")  # the app's timeutil.LOCAL_TZ, as of this revision
BATCH = 5000

DOSSIERS = sa.table(
    "dossiers",
    sa.column("id", sa.Integer()),
    sa.column("returned_at", sa.DateTime()),
    sa.column("due_at", sa.DateTime()),
)
# The same rule as models._sync_month_facts: late for the receiving officer only when named.
UPDATE_DOSSIERS = sa.text(
    "UPDATE dossiers SET returned_month = :month, reception_late = CASE WHEN :late AND "
    "  EXISTS (SELECT 1 FROM dossier_late_responsible named WHERE named.dossier_id = :dossier"
    "          AND named.officer_id = dossiers.reception_officer_id)"
    " THEN TRUE ELSE FALSE END WHERE id = :dossier"
).bindparams(
    sa.bindparam("month", type_=sa.Date()),
    sa.bindparam("late", type_=sa.Boolean()),
)


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite holds naive UTC; PostgreSQL returns an aware time.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def upgrade() -> None:
    # Plain ALTERs, never a batch: Alembic's batch mode rebuilds a SQLite table for a column
    # with an expression default (sa.false()), and dropping the old dossiers table would
    # cascade to every resolver link and responsibility row (ON DELETE CASCADE). A constant
    # default is a plain ADD COLUMN on SQLite; '0' is false on both databases.
    op.add_column("dossiers", sa.Column("returned_month", sa.Date(), nullable=True))
    op.add_column(
        "dossiers", sa.Column("reception_late", sa.Boolean(), nullable=False, server_default="0")
    )
    connection = op.get_bind()
    returned = (
        sa.select(DOSSIERS.c.id, DOSSIERS.c.returned_at, DOSSIERS.c.due_at)
        .where(DOSSIERS.c.returned_at.is_not(None))
        .order_by(DOSSIERS.c.id)
    )
    last = 0
    while True:
        rows = connection.execute(returned.where(DOSSIERS.c.id > last).limit(BATCH)).all()
        if not rows:
            break
        params = []
        for dossier_id, returned_at, due_at in rows:
            local = _utc(returned_at).astimezone(LOCAL_TZ)
            params.append(
                {
                    "dossier": dossier_id,
                    "month": dt.date(local.year, local.month, 1),
                    "late": _utc(returned_at) > _utc(due_at),
                }
            )
        connection.execute(UPDATE_DOSSIERS, params)
        last = rows[-1][0]
    op.drop_index("ix_dossiers_reception_returned", table_name="dossiers")
    op.create_index(
        "ix_dossiers_reception_month",
        "dossiers",
        ["returned_month", "reception_officer_id", "reception_late"],
        unique=False,
    )


def downgrade() -> None:
    op.drop_index("ix_dossiers_reception_month", table_name="dossiers")
    op.create_index(
        "ix_dossiers_reception_returned",
        "dossiers",
        ["reception_officer_id", "returned_at", "due_at"],
        unique=False,
    )
    # DROP COLUMN (SQLite 3.35+): again no rebuild of the table.
    op.drop_column("dossiers", "reception_late")
    op.drop_column("dossiers", "returned_month")
