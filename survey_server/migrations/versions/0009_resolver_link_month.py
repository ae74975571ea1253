"""resolver link month

Each dossier-resolver link carries the local month its dossier was returned in and whether the
dossier is late for that resolver, so that the rating job counts a month's resolver dossiers
from one range of an index, in officer order, instead of joining every dossier of the month to
its links and sorting them. The app keeps both columns on every flush that touches a dossier
(models._sync_resolver_links); this migration fills them for the dossiers already stored.

Revision ID: 0009
Revises: 0008
"""

import datetime as dt
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
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
# The same rule as models._sync_resolver_links: late for the resolvers named responsible, or for
# all of them when the late dossier names nobody.
UPDATE_LINKS = sa.text(
    "UPDATE dossier_resolvers SET returned_month = :month, late = CASE WHEN :late AND ("
    "  EXISTS (SELECT 1 FROM dossier_late_responsible named WHERE named.dossier_id = :dossier"
    "          AND named.officer_id = dossier_resolvers.officer_id)"
    "  OR NOT EXISTS (SELECT 1 FROM dossier_late_responsible anyone"
    "                 WHERE anyone.dossier_id = :dossier)"
    ") THEN TRUE ELSE FALSE END WHERE dossier_id = :dossier"
).bindparams(
    sa.bindparam("month", type_=sa.Date()),
    sa.bindparam("late", type_=sa.Boolean()),
)


def _utc(value: dt.datetime) -> dt.datetime:
    # SQLite holds naive UTC; PostgreSQL returns an aware time.
    return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else value


def upgrade() -> None:
    with op.batch_alter_table("dossier_resolvers", schema=None) as batch_op:
        batch_op.add_column(sa.Column("returned_month", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("late", sa.Boolean(), nullable=False, server_default=sa.false())
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
        connection.execute(UPDATE_LINKS, params)
        last = rows[-1][0]
    with op.batch_alter_table("dossier_resolvers", schema=None) as batch_op:
        batch_op.create_index(
            "ix_dossier_resolvers_month", ["returned_month", "officer_id", "late"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("dossier_resolvers", schema=None) as batch_op:
        batch_op.drop_index("ix_dossier_resolvers_month")
        batch_op.drop_column("late")
        batch_op.drop_column("returned_month")
