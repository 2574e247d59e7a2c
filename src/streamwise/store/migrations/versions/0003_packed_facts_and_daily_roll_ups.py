"""packed facts and daily roll-ups

Derived facts gain packed copies of their per-item and per-deployment rows, and per-stream
per-day roll-ups for the portfolio with the day numbers that key them (model/packed.py,
derive/rollups.py); the stream indexes nothing reads any more are dropped. Facts are derived
data: the upgrade empties the fact tables, and `streamwise db upgrade` then derives them again.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in (
        "stage_intervals",
        "item_stage_times",
        "change_facts",
        "deployment_facts",
        "item_facts",
    ):
        op.execute(sa.text(f"DELETE FROM {table}"))
    op.create_table(
        "stream_day_deployments",
        sa.Column("value_stream_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("deployments", sa.LargeBinary(), nullable=False),
        sa.Column("lead_times", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_stream_day_deployments_value_stream_id_value_streams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("value_stream_id", "day", name=op.f("pk_stream_day_deployments")),
    )
    op.create_table(
        "stream_day_items",
        sa.Column("value_stream_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("done_items", sa.LargeBinary(), nullable=False),
        sa.Column("done_stage_waiting", sa.LargeBinary(), nullable=False),
        sa.Column("started_items", sa.LargeBinary(), nullable=False),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_stream_day_items_value_stream_id_value_streams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("value_stream_id", "day", name=op.f("pk_stream_day_items")),
    )
    with op.batch_alter_table("change_facts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_change_facts_stream_deployed"))

    with op.batch_alter_table("deployment_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("packed_changes", sa.LargeBinary(), nullable=True))

    with op.batch_alter_table("item_facts", schema=None) as batch_op:
        batch_op.add_column(sa.Column("done_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("started_day", sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column("packed_intervals", sa.LargeBinary(), nullable=True))
        batch_op.add_column(sa.Column("packed_stage_times", sa.LargeBinary(), nullable=True))
        batch_op.drop_index(batch_op.f("ix_item_facts_stream_done"))
        batch_op.drop_index(batch_op.f("ix_item_facts_stream_started"))
        batch_op.create_index(
            "ix_item_facts_stream_done_day", ["value_stream_id", "done_day"], unique=False
        )
        batch_op.create_index(
            "ix_item_facts_stream_started_day", ["value_stream_id", "started_day"], unique=False
        )

    with op.batch_alter_table("item_stage_times", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_stage_times_stream_stage"))

    with op.batch_alter_table("stage_intervals", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stage_intervals_stream_stage"))


def downgrade() -> None:
    with op.batch_alter_table("stage_intervals", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stage_intervals_stream_stage"),
            ["value_stream_id", "stage_id"],
            unique=False,
        )

    with op.batch_alter_table("item_stage_times", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_item_stage_times_stream_stage"),
            ["value_stream_id", "stage_id"],
            unique=False,
        )

    with op.batch_alter_table("item_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_item_facts_stream_started_day")
        batch_op.drop_index("ix_item_facts_stream_done_day")
        batch_op.create_index(
            batch_op.f("ix_item_facts_stream_started"),
            ["value_stream_id", "work_started_at"],
            unique=False,
        )
        batch_op.create_index(
            batch_op.f("ix_item_facts_stream_done"), ["value_stream_id", "done_at"], unique=False
        )
        batch_op.drop_column("packed_stage_times")
        batch_op.drop_column("packed_intervals")
        batch_op.drop_column("started_day")
        batch_op.drop_column("done_day")

    with op.batch_alter_table("deployment_facts", schema=None) as batch_op:
        batch_op.drop_column("packed_changes")

    with op.batch_alter_table("change_facts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_facts_stream_deployed"),
            ["value_stream_id", "deployed_at"],
            unique=False,
        )

    op.drop_table("stream_day_items")
    op.drop_table("stream_day_deployments")
