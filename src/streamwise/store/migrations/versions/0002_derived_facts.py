"""derived facts

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "deployment_facts",
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=300), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("is_production", sa.Boolean(), nullable=False),
        sa.Column("succeeded", sa.Boolean(), nullable=False),
        sa.Column("finished_at", sa.Double(), nullable=False),
        sa.Column("failed", sa.Boolean(), nullable=False),
        sa.Column("failure_reason", sa.String(length=50), nullable=True),
        sa.Column("recovered_at", sa.Double(), nullable=True),
        sa.Column("recovery_s", sa.Double(), nullable=True),
        sa.Column("is_rework", sa.Boolean(), nullable=False),
        sa.Column("change_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_deployment_facts_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_deployment_facts_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("deployment_id", name=op.f("pk_deployment_facts")),
    )
    with op.batch_alter_table("deployment_facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deployment_facts_stream_finished", ["value_stream_id", "finished_at"], unique=False
        )

    op.create_table(
        "change_facts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("service", sa.String(length=300), nullable=False),
        sa.Column("commit_id", sa.Integer(), nullable=True),
        sa.Column("pull_request_id", sa.Integer(), nullable=True),
        sa.Column("committed_at", sa.Double(), nullable=False),
        sa.Column("deployed_at", sa.Double(), nullable=False),
        sa.Column("lead_time_s", sa.Double(), nullable=False),
        sa.Column("coding_s", sa.Double(), nullable=True),
        sa.Column("pickup_s", sa.Double(), nullable=True),
        sa.Column("review_s", sa.Double(), nullable=True),
        sa.Column("deploy_s", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["commit_id"],
            ["commits.id"],
            name=op.f("fk_change_facts_commit_id_commits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_change_facts_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["pull_request_id"],
            ["pull_requests.id"],
            name=op.f("fk_change_facts_pull_request_id_pull_requests"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_change_facts_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_facts")),
    )
    with op.batch_alter_table("change_facts", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_change_facts_deployment_id"), ["deployment_id"], unique=False
        )
        batch_op.create_index(
            "ix_change_facts_stream_deployed", ["value_stream_id", "deployed_at"], unique=False
        )

    op.create_table(
        "item_facts",
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("flow_item_type", sa.String(length=20), nullable=True),
        sa.Column("stage_id", sa.Integer(), nullable=True),
        sa.Column("flow_state", sa.String(length=20), nullable=True),
        sa.Column("created_at", sa.Double(), nullable=False),
        sa.Column("work_started_at", sa.Double(), nullable=True),
        sa.Column("done_at", sa.Double(), nullable=True),
        sa.Column("canceled_at", sa.Double(), nullable=True),
        sa.Column("flow_time_s", sa.Double(), nullable=True),
        sa.Column("active_time_s", sa.Double(), nullable=False),
        sa.Column("waiting_time_s", sa.Double(), nullable=False),
        sa.Column("send_backs", sa.Integer(), nullable=False),
        sa.Column("first_seen_mid_flow", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["stages.id"],
            name=op.f("fk_item_facts_stage_id_stages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_item_facts_team_id_teams"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_item_facts_value_stream_id_value_streams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_item_facts_work_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("work_item_id", name=op.f("pk_item_facts")),
    )
    with op.batch_alter_table("item_facts", schema=None) as batch_op:
        batch_op.create_index(
            "ix_item_facts_stream_done", ["value_stream_id", "done_at"], unique=False
        )
        batch_op.create_index(
            "ix_item_facts_stream_started", ["value_stream_id", "work_started_at"], unique=False
        )

    op.create_table(
        "item_stage_times",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("stage_id", sa.Integer(), nullable=True),
        sa.Column("active_s", sa.Double(), nullable=False),
        sa.Column("waiting_s", sa.Double(), nullable=False),
        sa.Column("entries", sa.Integer(), nullable=False),
        sa.Column("sent_back_into", sa.Integer(), nullable=False),
        sa.Column("done_at", sa.Double(), nullable=True),
        sa.Column("flow_item_type", sa.String(length=20), nullable=True),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["stages.id"],
            name=op.f("fk_item_stage_times_stage_id_stages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_item_stage_times_value_stream_id_value_streams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_item_stage_times_work_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_item_stage_times")),
    )
    with op.batch_alter_table("item_stage_times", schema=None) as batch_op:
        batch_op.create_index(
            "ix_item_stage_times_stream_stage", ["value_stream_id", "stage_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_item_stage_times_work_item_id"), ["work_item_id"], unique=False
        )

    op.create_table(
        "stage_intervals",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("stage_id", sa.Integer(), nullable=True),
        sa.Column("flow_state", sa.String(length=20), nullable=True),
        sa.Column("blocked", sa.Boolean(), nullable=False),
        sa.Column("entered_at", sa.Double(), nullable=False),
        sa.Column("left_at", sa.Double(), nullable=True),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["stages.id"],
            name=op.f("fk_stage_intervals_stage_id_stages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_stage_intervals_value_stream_id_value_streams"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_stage_intervals_work_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stage_intervals")),
    )
    with op.batch_alter_table("stage_intervals", schema=None) as batch_op:
        batch_op.create_index("ix_stage_intervals_item", ["work_item_id"], unique=False)
        batch_op.create_index(
            "ix_stage_intervals_stream_stage", ["value_stream_id", "stage_id"], unique=False
        )

    with op.batch_alter_table("pull_request_commits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pull_request_commits_commit_id"), ["commit_id"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("pull_request_commits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pull_request_commits_commit_id"))

    with op.batch_alter_table("stage_intervals", schema=None) as batch_op:
        batch_op.drop_index("ix_stage_intervals_stream_stage")
        batch_op.drop_index("ix_stage_intervals_item")

    op.drop_table("stage_intervals")
    with op.batch_alter_table("item_stage_times", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_item_stage_times_work_item_id"))
        batch_op.drop_index("ix_item_stage_times_stream_stage")

    op.drop_table("item_stage_times")
    with op.batch_alter_table("item_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_item_facts_stream_started")
        batch_op.drop_index("ix_item_facts_stream_done")

    op.drop_table("item_facts")
    with op.batch_alter_table("change_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_change_facts_stream_deployed")
        batch_op.drop_index(batch_op.f("ix_change_facts_deployment_id"))

    op.drop_table("change_facts")
    with op.batch_alter_table("deployment_facts", schema=None) as batch_op:
        batch_op.drop_index("ix_deployment_facts_stream_finished")

    op.drop_table("deployment_facts")
