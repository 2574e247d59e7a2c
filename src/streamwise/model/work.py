"""Work items and every change of their status or blocked flag."""

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from streamwise.model.base import Base, SourceKeyed


class WorkItem(SourceKeyed, Base):
    """An issue, story, bug … normalised. ``work_started_at`` and ``done_at`` are derived from
    the transitions at normalisation; ``first_seen_mid_flow`` marks items whose history starts
    after work had begun (they count from first sight)."""

    __tablename__ = "work_items"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_work_items_key", "key", "source_id"),
    )

    external_id: Mapped[str] = mapped_column(String(300))
    key: Mapped[str] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text, default="")
    project: Mapped[str | None] = mapped_column(String(200))
    raw_type: Mapped[str | None] = mapped_column(String(200))
    flow_item_type: Mapped[str | None] = mapped_column(String(20), index=True)
    raw_status: Mapped[str | None] = mapped_column(String(200))
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    flow_state: Mapped[str | None] = mapped_column(String(20))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    work_started_at: Mapped[datetime | None]
    done_at: Mapped[datetime | None]
    first_seen_mid_flow: Mapped[bool] = mapped_column(default=False)
    parent_key: Mapped[str | None] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("work_items.id", ondelete="SET NULL"))
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL"), index=True
    )
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
    labels: Mapped[list[str]] = mapped_column(default=list)
    url: Mapped[str | None] = mapped_column(String(1000))


class TransitionKind:
    """What a transition records: a status change, or the blocked/flagged flag going on or off."""

    STATUS = "status"
    BLOCKED = "blocked"
    UNBLOCKED = "unblocked"
    ALL = (STATUS, BLOCKED, UNBLOCKED)


class Transition(SourceKeyed, Base):
    """One change in a work item's life, mapped to stages and flow states at normalisation."""

    __tablename__ = "transitions"
    __table_args__ = (
        UniqueConstraint("source_id", "external_id"),
        Index("ix_transitions_item_at", "work_item_id", "at"),
    )

    external_id: Mapped[str] = mapped_column(String(300))
    work_item_id: Mapped[int] = mapped_column(ForeignKey("work_items.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(20), default=TransitionKind.STATUS)
    at: Mapped[datetime]
    from_status: Mapped[str | None] = mapped_column(String(200))
    to_status: Mapped[str | None] = mapped_column(String(200))
    from_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    to_stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="SET NULL"))
    from_flow_state: Mapped[str | None] = mapped_column(String(20))
    to_flow_state: Mapped[str | None] = mapped_column(String(20))
    actor: Mapped[str | None] = mapped_column(String(300))
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("people.id", ondelete="SET NULL"))
