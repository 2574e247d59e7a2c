"""Releases and the work items planned into them."""

from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from streamwise.model.base import Base, SourceKeyed


class Release(SourceKeyed, Base):
    __tablename__ = "releases"
    __table_args__ = (UniqueConstraint("source_id", "external_id"),)

    external_id: Mapped[str] = mapped_column(String(300))
    name: Mapped[str] = mapped_column(String(300))
    version: Mapped[str | None] = mapped_column(String(200))
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL")
    )
    planned_at: Mapped[datetime | None]
    released_at: Mapped[datetime | None]


class ReleaseItem(Base):
    """A work item in a release's scope, by key so it may be imported before the item."""

    __tablename__ = "release_items"
    __table_args__ = (UniqueConstraint("release_id", "work_item_key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    release_id: Mapped[int] = mapped_column(ForeignKey("releases.id", ondelete="CASCADE"))
    work_item_key: Mapped[str] = mapped_column(String(200), index=True)
    work_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("work_items.id", ondelete="CASCADE"), index=True
    )
