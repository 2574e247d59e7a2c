"""CI runs, deployments with the commits they shipped, and production incidents."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from streamwise.model.base import Base, SourceKeyed


class PipelineRun(SourceKeyed, Base):
    __tablename__ = "pipeline_runs"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    external_id: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    repository: Mapped[str | None] = mapped_column(String(300))
    sha: Mapped[str | None] = mapped_column(String(64), index=True)
    branch: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(30))  # success | failed | canceled | running
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    url: Mapped[str | None] = mapped_column(String(1000))
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL")
    )


class Deployment(SourceKeyed, Base):
    """A deployment of a service to an environment. ``is_production`` decides whether DORA
    counts it; ``rollback_of_external_id`` marks a rollback of an earlier deployment."""

    __tablename__ = "deployments"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_deployments_service_finished", "service", "finished_at"),
    )

    external_id: Mapped[str] = mapped_column(String(300))
    service: Mapped[str] = mapped_column(String(300))
    environment: Mapped[str] = mapped_column(String(100))
    is_production: Mapped[bool] = mapped_column(default=False)
    version: Mapped[str | None] = mapped_column(String(200))
    sha: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(30))  # success | failed | rolled_back | running
    started_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]
    is_rollback: Mapped[bool] = mapped_column(default=False)
    rollback_of_external_id: Mapped[str | None] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(1000))
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL"), index=True
    )


class DeploymentChange(Base):
    """A commit a deployment shipped, by sha; ``commit_id`` is set once the commit is known."""

    __tablename__ = "deployment_changes"
    __table_args__ = (UniqueConstraint("deployment_id", "commit_sha"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    deployment_id: Mapped[int] = mapped_column(ForeignKey("deployments.id", ondelete="CASCADE"))
    commit_sha: Mapped[str] = mapped_column(String(64), index=True)
    commit_id: Mapped[int | None] = mapped_column(ForeignKey("commits.id", ondelete="SET NULL"))
    method: Mapped[str] = mapped_column(String(50), default="explicit")


class Incident(SourceKeyed, Base):
    """A production incident. ``caused_by_external_id`` names the deployment the tool blamed;
    ``caused_by_deployment_id`` is resolved from it (searched in every source) or, when the tool
    names none, by the organisation's linking rule; ``caused_by_method`` says which
    (``explicit`` or ``latest_production_deployment``) so a trace can explain the link."""

    __tablename__ = "incidents"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    external_id: Mapped[str] = mapped_column(String(300))
    title: Mapped[str] = mapped_column(Text, default="")
    service: Mapped[str | None] = mapped_column(String(300))
    severity: Mapped[str | None] = mapped_column(String(50))
    opened_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    resolved_at: Mapped[datetime | None]
    caused_by_external_id: Mapped[str | None] = mapped_column(String(300))
    caused_by_deployment_id: Mapped[int | None] = mapped_column(
        ForeignKey("deployments.id", ondelete="SET NULL")
    )
    caused_by_method: Mapped[str | None] = mapped_column(String(50))
    url: Mapped[str | None] = mapped_column(String(1000))
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL")
    )
    description: Mapped[str | None] = mapped_column(Text)
