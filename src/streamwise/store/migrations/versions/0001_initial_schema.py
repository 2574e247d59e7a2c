"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

import streamwise.model.base

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "organisation",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("timezone", sa.String(length=100), nullable=False),
        sa.Column(
            "settings",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_organisation")),
    )
    op.create_table(
        "sources",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("kind", sa.String(length=50), nullable=False),
        sa.Column("base_url", sa.String(length=500), nullable=True),
        sa.Column("token_env", sa.String(length=200), nullable=True),
        sa.Column(
            "options",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("created_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sources")),
        sa.UniqueConstraint("name", name=op.f("uq_sources_name")),
    )
    op.create_table(
        "value_streams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("owner", sa.String(length=200), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column(
            "selection",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["value_streams.id"],
            name=op.f("fk_value_streams_parent_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_value_streams")),
        sa.UniqueConstraint("key", name=op.f("uq_value_streams_key")),
    )
    op.create_table(
        "raw_records",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("entity_kind", sa.String(length=50), nullable=False),
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column(
            "payload",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("fetched_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_raw_records_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_raw_records")),
    )
    with op.batch_alter_table("raw_records", schema=None) as batch_op:
        batch_op.create_index(
            "ix_raw_records_key", ["source_id", "entity_kind", "external_id", "id"], unique=False
        )

    op.create_table(
        "stages",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value_stream_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("flow_state", sa.String(length=20), nullable=False),
        sa.Column("value_adding", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_stages_value_stream_id_value_streams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stages")),
        sa.UniqueConstraint("value_stream_id", "name", name=op.f("uq_stages_value_stream_id_name")),
    )
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_stages_value_stream_id"), ["value_stream_id"], unique=False
        )

    op.create_table(
        "sync_states",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("entity_kind", sa.String(length=50), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column(
            "last_synced_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_sync_states_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sync_states")),
        sa.UniqueConstraint(
            "source_id", "entity_kind", name=op.f("uq_sync_states_source_id_entity_kind")
        ),
    )
    op.create_table(
        "teams",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=100), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_teams_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_teams")),
        sa.UniqueConstraint("key", name=op.f("uq_teams_key")),
    )
    op.create_table(
        "type_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("raw_type", sa.String(length=200), nullable=True),
        sa.Column("label", sa.String(length=200), nullable=True),
        sa.Column("flow_item_type", sa.String(length=20), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_type_mappings_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_type_mappings")),
    )
    op.create_table(
        "deployments",
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("service", sa.String(length=300), nullable=False),
        sa.Column("environment", sa.String(length=100), nullable=False),
        sa.Column("is_production", sa.Boolean(), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("sha", sa.String(length=64), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("started_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("is_rollback", sa.Boolean(), nullable=False),
        sa.Column("rollback_of_external_id", sa.String(length=300), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_records.id"],
            name=op.f("fk_deployments_raw_record_id_raw_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_deployments_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_deployments_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployments")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_deployments_source_id_external_id")
        ),
    )
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.create_index(
            "ix_deployments_service_finished", ["service", "finished_at"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_deployments_value_stream_id"), ["value_stream_id"], unique=False
        )

    op.create_table(
        "people",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("email", sa.String(length=300), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_people_team_id_teams"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_people")),
        sa.UniqueConstraint("email", name=op.f("uq_people_email")),
    )
    op.create_table(
        "pipeline_runs",
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("repository", sa.String(length=300), nullable=True),
        sa.Column("sha", sa.String(length=64), nullable=True),
        sa.Column("branch", sa.String(length=300), nullable=True),
        sa.Column("status", sa.String(length=30), nullable=False),
        sa.Column("started_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("finished_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_records.id"],
            name=op.f("fk_pipeline_runs_raw_record_id_raw_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_pipeline_runs_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_pipeline_runs_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pipeline_runs")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_pipeline_runs_source_id_external_id")
        ),
    )
    with op.batch_alter_table("pipeline_runs", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_pipeline_runs_sha"), ["sha"], unique=False)

    op.create_table(
        "releases",
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("name", sa.String(length=300), nullable=False),
        sa.Column("version", sa.String(length=200), nullable=True),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("planned_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("released_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_records.id"],
            name=op.f("fk_releases_raw_record_id_raw_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_releases_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_releases_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_releases")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_releases_source_id_external_id")
        ),
    )
    op.create_table(
        "status_mappings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("value_stream_id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=True),
        sa.Column("raw_status", sa.String(length=200), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=True),
        sa.Column("raw_type", sa.String(length=200), nullable=True),
        sa.Column("stage_id", sa.Integer(), nullable=True),
        sa.Column("flow_state", sa.String(length=20), nullable=False),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_status_mappings_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["stages.id"],
            name=op.f("fk_status_mappings_stage_id_stages"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_status_mappings_value_stream_id_value_streams"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_status_mappings")),
    )
    with op.batch_alter_table("status_mappings", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_status_mappings_value_stream_id"), ["value_stream_id"], unique=False
        )

    op.create_table(
        "commits",
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("repository", sa.String(length=300), nullable=False),
        sa.Column("sha", sa.String(length=64), nullable=False),
        sa.Column("author", sa.String(length=300), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("authored_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("committed_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("branch", sa.String(length=300), nullable=True),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["people.id"],
            name=op.f("fk_commits_author_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_records.id"],
            name=op.f("fk_commits_raw_record_id_raw_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_commits_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_commits_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commits")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_commits_source_id_external_id")
        ),
    )
    with op.batch_alter_table("commits", schema=None) as batch_op:
        batch_op.create_index("ix_commits_sha", ["sha"], unique=False)

    op.create_table(
        "incidents",
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("service", sa.String(length=300), nullable=True),
        sa.Column("severity", sa.String(length=50), nullable=True),
        sa.Column("opened_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "acknowledged_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("resolved_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("caused_by_external_id", sa.String(length=300), nullable=True),
        sa.Column("caused_by_deployment_id", sa.Integer(), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["caused_by_deployment_id"],
            ["deployments.id"],
            name=op.f("fk_incidents_caused_by_deployment_id_deployments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_records.id"],
            name=op.f("fk_incidents_raw_record_id_raw_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_incidents_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_incidents_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_incidents")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_incidents_source_id_external_id")
        ),
    )
    op.create_table(
        "person_identities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("system", sa.String(length=100), nullable=False),
        sa.Column("username", sa.String(length=300), nullable=False),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["people.id"],
            name=op.f("fk_person_identities_person_id_people"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person_identities")),
        sa.UniqueConstraint(
            "system", "username", name=op.f("uq_person_identities_system_username")
        ),
    )
    op.create_table(
        "pull_requests",
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("repository", sa.String(length=300), nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("body", sa.Text(), nullable=True),
        sa.Column("author", sa.String(length=300), nullable=True),
        sa.Column("author_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=20), nullable=False),
        sa.Column("created_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "first_review_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("approved_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("merged_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("closed_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("merge_commit_sha", sa.String(length=64), nullable=True),
        sa.Column("base_branch", sa.String(length=300), nullable=True),
        sa.Column("head_branch", sa.String(length=300), nullable=True),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"],
            ["people.id"],
            name=op.f("fk_pull_requests_author_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_records.id"],
            name=op.f("fk_pull_requests_raw_record_id_raw_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_pull_requests_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_pull_requests_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pull_requests")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_pull_requests_source_id_external_id")
        ),
    )
    with op.batch_alter_table("pull_requests", schema=None) as batch_op:
        batch_op.create_index(
            "ix_pull_requests_repo_number", ["repository", "number"], unique=False
        )

    op.create_table(
        "work_items",
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("key", sa.String(length=200), nullable=False),
        sa.Column("title", sa.Text(), nullable=False),
        sa.Column("project", sa.String(length=200), nullable=True),
        sa.Column("raw_type", sa.String(length=200), nullable=True),
        sa.Column("flow_item_type", sa.String(length=20), nullable=True),
        sa.Column("raw_status", sa.String(length=200), nullable=True),
        sa.Column("stage_id", sa.Integer(), nullable=True),
        sa.Column("flow_state", sa.String(length=20), nullable=True),
        sa.Column("created_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("updated_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "work_started_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True
        ),
        sa.Column("done_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("first_seen_mid_flow", sa.Boolean(), nullable=False),
        sa.Column("parent_key", sa.String(length=200), nullable=True),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("team_id", sa.Integer(), nullable=True),
        sa.Column("value_stream_id", sa.Integer(), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column(
            "labels",
            sa.JSON().with_variant(postgresql.JSONB(astext_type=sa.Text()), "postgresql"),
            nullable=False,
        ),
        sa.Column("url", sa.String(length=1000), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["assignee_id"],
            ["people.id"],
            name=op.f("fk_work_items_assignee_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["parent_id"],
            ["work_items.id"],
            name=op.f("fk_work_items_parent_id_work_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_records.id"],
            name=op.f("fk_work_items_raw_record_id_raw_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_work_items_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["stage_id"],
            ["stages.id"],
            name=op.f("fk_work_items_stage_id_stages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["team_id"], ["teams.id"], name=op.f("fk_work_items_team_id_teams"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["value_stream_id"],
            ["value_streams.id"],
            name=op.f("fk_work_items_value_stream_id_value_streams"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_work_items")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_work_items_source_id_external_id")
        ),
    )
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_work_items_flow_item_type"), ["flow_item_type"], unique=False
        )
        batch_op.create_index("ix_work_items_key", ["key", "source_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_work_items_value_stream_id"), ["value_stream_id"], unique=False
        )

    op.create_table(
        "commit_work_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("commit_id", sa.Integer(), nullable=False),
        sa.Column("work_item_key", sa.String(length=200), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["commit_id"],
            ["commits.id"],
            name=op.f("fk_commit_work_items_commit_id_commits"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_commit_work_items_work_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_commit_work_items")),
        sa.UniqueConstraint(
            "commit_id", "work_item_key", name=op.f("uq_commit_work_items_commit_id_work_item_key")
        ),
    )
    with op.batch_alter_table("commit_work_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_commit_work_items_work_item_id"), ["work_item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_commit_work_items_work_item_key"), ["work_item_key"], unique=False
        )

    op.create_table(
        "deployment_changes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("deployment_id", sa.Integer(), nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column("commit_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["commit_id"],
            ["commits.id"],
            name=op.f("fk_deployment_changes_commit_id_commits"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["deployment_id"],
            ["deployments.id"],
            name=op.f("fk_deployment_changes_deployment_id_deployments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_deployment_changes")),
        sa.UniqueConstraint(
            "deployment_id",
            "commit_sha",
            name=op.f("uq_deployment_changes_deployment_id_commit_sha"),
        ),
    )
    with op.batch_alter_table("deployment_changes", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_deployment_changes_commit_sha"), ["commit_sha"], unique=False
        )

    op.create_table(
        "pull_request_commits",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pull_request_id", sa.Integer(), nullable=False),
        sa.Column("commit_sha", sa.String(length=64), nullable=False),
        sa.Column("commit_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["commit_id"],
            ["commits.id"],
            name=op.f("fk_pull_request_commits_commit_id_commits"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["pull_request_id"],
            ["pull_requests.id"],
            name=op.f("fk_pull_request_commits_pull_request_id_pull_requests"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pull_request_commits")),
        sa.UniqueConstraint(
            "pull_request_id",
            "commit_sha",
            name=op.f("uq_pull_request_commits_pull_request_id_commit_sha"),
        ),
    )
    with op.batch_alter_table("pull_request_commits", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pull_request_commits_commit_sha"), ["commit_sha"], unique=False
        )

    op.create_table(
        "pull_request_work_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("pull_request_id", sa.Integer(), nullable=False),
        sa.Column("work_item_key", sa.String(length=200), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.Column("method", sa.String(length=50), nullable=False),
        sa.ForeignKeyConstraint(
            ["pull_request_id"],
            ["pull_requests.id"],
            name=op.f("fk_pull_request_work_items_pull_request_id_pull_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_pull_request_work_items_work_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pull_request_work_items")),
        sa.UniqueConstraint(
            "pull_request_id",
            "work_item_key",
            name=op.f("uq_pull_request_work_items_pull_request_id_work_item_key"),
        ),
    )
    with op.batch_alter_table("pull_request_work_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_pull_request_work_items_work_item_id"), ["work_item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_pull_request_work_items_work_item_key"), ["work_item_key"], unique=False
        )

    op.create_table(
        "release_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("release_id", sa.Integer(), nullable=False),
        sa.Column("work_item_key", sa.String(length=200), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["release_id"],
            ["releases.id"],
            name=op.f("fk_release_items_release_id_releases"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_release_items_work_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_items")),
        sa.UniqueConstraint(
            "release_id", "work_item_key", name=op.f("uq_release_items_release_id_work_item_key")
        ),
    )
    with op.batch_alter_table("release_items", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_release_items_work_item_id"), ["work_item_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_release_items_work_item_key"), ["work_item_key"], unique=False
        )

    op.create_table(
        "reviews",
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("pull_request_id", sa.Integer(), nullable=False),
        sa.Column("reviewer", sa.String(length=300), nullable=True),
        sa.Column("reviewer_id", sa.Integer(), nullable=True),
        sa.Column("state", sa.String(length=30), nullable=False),
        sa.Column("submitted_at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["pull_request_id"],
            ["pull_requests.id"],
            name=op.f("fk_reviews_pull_request_id_pull_requests"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_records.id"],
            name=op.f("fk_reviews_raw_record_id_raw_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["reviewer_id"],
            ["people.id"],
            name=op.f("fk_reviews_reviewer_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_reviews_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reviews")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_reviews_source_id_external_id")
        ),
    )
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_reviews_pull_request_id"), ["pull_request_id"], unique=False
        )

    op.create_table(
        "transitions",
        sa.Column("external_id", sa.String(length=300), nullable=False),
        sa.Column("work_item_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", streamwise.model.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("from_status", sa.String(length=200), nullable=True),
        sa.Column("to_status", sa.String(length=200), nullable=True),
        sa.Column("from_stage_id", sa.Integer(), nullable=True),
        sa.Column("to_stage_id", sa.Integer(), nullable=True),
        sa.Column("from_flow_state", sa.String(length=20), nullable=True),
        sa.Column("to_flow_state", sa.String(length=20), nullable=True),
        sa.Column("actor", sa.String(length=300), nullable=True),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("raw_record_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["people.id"],
            name=op.f("fk_transitions_actor_id_people"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["from_stage_id"],
            ["stages.id"],
            name=op.f("fk_transitions_from_stage_id_stages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["raw_record_id"],
            ["raw_records.id"],
            name=op.f("fk_transitions_raw_record_id_raw_records"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["source_id"],
            ["sources.id"],
            name=op.f("fk_transitions_source_id_sources"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["to_stage_id"],
            ["stages.id"],
            name=op.f("fk_transitions_to_stage_id_stages"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["work_item_id"],
            ["work_items.id"],
            name=op.f("fk_transitions_work_item_id_work_items"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_transitions")),
        sa.UniqueConstraint(
            "source_id", "external_id", name=op.f("uq_transitions_source_id_external_id")
        ),
    )
    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.create_index("ix_transitions_item_at", ["work_item_id", "at"], unique=False)


def downgrade() -> None:

    with op.batch_alter_table("transitions", schema=None) as batch_op:
        batch_op.drop_index("ix_transitions_item_at")

    op.drop_table("transitions")
    with op.batch_alter_table("reviews", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_reviews_pull_request_id"))

    op.drop_table("reviews")
    with op.batch_alter_table("release_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_items_work_item_key"))
        batch_op.drop_index(batch_op.f("ix_release_items_work_item_id"))

    op.drop_table("release_items")
    with op.batch_alter_table("pull_request_work_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pull_request_work_items_work_item_key"))
        batch_op.drop_index(batch_op.f("ix_pull_request_work_items_work_item_id"))

    op.drop_table("pull_request_work_items")
    with op.batch_alter_table("pull_request_commits", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pull_request_commits_commit_sha"))

    op.drop_table("pull_request_commits")
    with op.batch_alter_table("deployment_changes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployment_changes_commit_sha"))

    op.drop_table("deployment_changes")
    with op.batch_alter_table("commit_work_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_commit_work_items_work_item_key"))
        batch_op.drop_index(batch_op.f("ix_commit_work_items_work_item_id"))

    op.drop_table("commit_work_items")
    with op.batch_alter_table("work_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_work_items_value_stream_id"))
        batch_op.drop_index("ix_work_items_key")
        batch_op.drop_index(batch_op.f("ix_work_items_flow_item_type"))

    op.drop_table("work_items")
    with op.batch_alter_table("pull_requests", schema=None) as batch_op:
        batch_op.drop_index("ix_pull_requests_repo_number")

    op.drop_table("pull_requests")
    op.drop_table("person_identities")
    op.drop_table("incidents")
    with op.batch_alter_table("commits", schema=None) as batch_op:
        batch_op.drop_index("ix_commits_sha")

    op.drop_table("commits")
    with op.batch_alter_table("status_mappings", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_status_mappings_value_stream_id"))

    op.drop_table("status_mappings")
    op.drop_table("releases")
    with op.batch_alter_table("pipeline_runs", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_pipeline_runs_sha"))

    op.drop_table("pipeline_runs")
    op.drop_table("people")
    with op.batch_alter_table("deployments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_deployments_value_stream_id"))
        batch_op.drop_index("ix_deployments_service_finished")

    op.drop_table("deployments")
    op.drop_table("type_mappings")
    op.drop_table("teams")
    op.drop_table("sync_states")
    with op.batch_alter_table("stages", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_stages_value_stream_id"))

    op.drop_table("stages")
    with op.batch_alter_table("raw_records", schema=None) as batch_op:
        batch_op.drop_index("ix_raw_records_key")

    op.drop_table("raw_records")
    op.drop_table("value_streams")
    op.drop_table("sources")
    op.drop_table("organisation")
