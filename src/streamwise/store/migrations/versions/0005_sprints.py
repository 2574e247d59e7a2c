"""sprints

Sprints of Scrum boards and the work items planned into them (model/sprints.py), read by the
Jira connector from the Jira Software API.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import streamwise.model.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sprints",
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("board_key", sa.String(length=200), nullable=True),
        sa.Column("board", sa.String(length=300), nullable=True),
        sa.Column("goal", sa.Text(), nullable=True),
        sa.Column("start_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("end_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("completed_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_records.id"],
            name=op.f("fk_sprints_raw_record_id_raw_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_sprints_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_sprints_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sprints")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_sprints_source_id_external_id")
        ),
    )
    op.create_table(
        "sprint_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sprint_id", sa.Integer(), nullable=False),
        sa.Column("work_item_key", sa.String(length=200), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["sprint_id"],
            ["sprints.id"],
            name=op.f("fk_sprint_items_sprint_id_sprints"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_sprint_items_work_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sprint_items")),
        sa.UniqueConstraint(
            "sprint_id", "work_item_key", name=op.f("uq_sprint_items_sprint_id_work_item_key")
        ),
    )
    with op.batch_alter_table("sprint_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_sprint_items_work_item_id"), ["work_item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_sprint_items_work_item_key"), ["work_item_key"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("sprint_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sprint_items_work_item_key"))
        batch_op.drop_index(batch_op.f("ix_sprint_items_work_item_id"))
    op.drop_table("sprint_items")
    op.drop_table("sprints")
