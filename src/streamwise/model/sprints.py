"""Sprints (time boxes of a Scrum board) and the work items planned into them."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from streamwise.model.base import Base, SourceKeyed


class SprintState:
    """Where a sprint is in its life; a closed sprint no longer changes."""

    FUTURE = "future"
    ACTIVE = "active"
    CLOSED = "closed"
    ALL = (FUTURE, ACTIVE, CLOSED)


class Sprint(SourceKeyed, Base):
    """A sprint as the tool planned and ran it: ``end_at`` is the planned end, ``completed_at``
    when it was actually closed (they differ when a sprint is closed early or late)."""

    __tablename__ = "sprints"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    external_id: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    state: Mapped[str] = mapped_column(String(20))
    board_key: Mapped[str | None] = mapped_column(String(200))
    board: Mapped[str | None] = mapped_column(String(300))
    goal: Mapped[str | None] = mapped_column(Text)
    start_at: Mapped[datetime | None]
    end_at: Mapped[datetime | None]
    completed_at: Mapped[datetime | None]
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL")
    )


class SprintItem(Base):
    """A work item in a sprint, by key so it may be synced before the item."""

    __tablename__ = "sprint_items"
    __table_args__ = (UniqueConstraint("sprint_id", "work_item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    sprint_id: Mapped[int] = mapped_column(ForeignKey("sprints.id", ondelete="CASCADE"))
    work_item_key: Mapped[str] = mapped_column(String(200), index=True)
    work_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), index=True
    )
