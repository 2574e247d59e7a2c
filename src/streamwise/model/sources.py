"""Where data comes from, how far each sync got, and every payload exactly as it arrived."""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from streamwise.model.base import Base, utcnow


class Source(Base):
    """A connected tool or file feed. Credentials are only ever a reference (``token_env``)."""

    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(50))
    base_url: Mapped[str | None] = mapped_column(String(500))
    token_env: Mapped[str | None] = mapped_column(String(200))
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class SyncState(Base):
    """The cursor a source's sync reached for one entity kind, so the next sync is incremental."""

    __tablename__ = "sync_states"
    __table_args__ = (UniqueConstraint("source_id", "entity_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    entity_kind: Mapped[str] = mapped_column(String(50))
    cursor: Mapped[str | None] = mapped_column(Text)
    last_synced_at: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(Text)


class RawRecord(Base):
    """A payload as fetched. Append-only: a changed payload is a new row, an unchanged one is
    not stored again, so history of what a tool said is kept and renormalisation needs no tool.
    """

    __tablename__ = "raw_records"
    __table_args__ = (Index("ix_raw_records_key", "source_id", "entity_kind", "external_id", "id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    entity_kind: Mapped[str] = mapped_column(String(50))
    external_id: Mapped[str] = mapped_column(String(300))
    payload: Mapped[dict[str, Any]]
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime] = mapped_column(default=utcnow)
    error: Mapped[str | None] = mapped_column(Text)
