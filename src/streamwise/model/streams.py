"""The organisation as configured: value streams, their stages, mappings, teams and people."""

from typing import Any

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from streamwise.model.base import Base


class Organisation(Base):
    """The one organisation this database describes: its name, time zone and linking rules."""

    __tablename__ = "organisation"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    timezone: Mapped[str] = mapped_column(String(100), default="UTC")
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)


class ValueStream(Base):
    """A flow of value to a customer. ``selection`` holds the rules that decide which work
    items, repositories and services belong to it (see docs/configuration.md)."""

    __tablename__ = "value_streams"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(20), default="core")  # core | supporting
    owner: Mapped[str | None] = mapped_column(String(200))
    parent_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(default=0)
    selection: Mapped[dict[str, Any]] = mapped_column(default=dict)

    stages: Mapped[list["Stage"]] = relationship(
        back_populates="value_stream", order_by="Stage.position", cascade="all, delete-orphan"
    )


class Stage(Base):
    """A step of a value stream, in order. ``flow_state`` is the state its statuses default to."""

    __tablename__ = "stages"
    __table_args__ = (UniqueConstraint("value_stream_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    value_stream_id: Mapped[int] = mapped_column(
        ForeignKey("value_streams.id", ondelete="CASCADE"), index=True
    )
    position: Mapped[int]
    name: Mapped[str] = mapped_column(String(200))
    flow_state: Mapped[str] = mapped_column(String(20))
    value_adding: Mapped[bool] = mapped_column(default=False)

    value_stream: Mapped[ValueStream] = relationship(back_populates="stages")


class StatusMapping(Base):
    """A tool status → stage and flow state, optionally only for one project or raw type.

    The most specific matching row wins: project and type, then project, then type, then none.
    """

    __tablename__ = "status_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    value_stream_id: Mapped[int] = mapped_column(
        ForeignKey("value_streams.id", ondelete="CASCADE"), index=True
    )
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    raw_status: Mapped[str] = mapped_column(String(200))
    project: Mapped[str | None] = mapped_column(String(200))
    raw_type: Mapped[str | None] = mapped_column(String(200))
    stage_id: Mapped[int | None] = mapped_column(ForeignKey("stages.id", ondelete="CASCADE"))
    flow_state: Mapped[str] = mapped_column(String(20))


class TypeMapping(Base):
    """A tool's issue type or label → flow item type (feature, defect, risk, debt or ignore)."""

    __tablename__ = "type_mappings"

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    raw_type: Mapped[str | None] = mapped_column(String(200))
    label: Mapped[str | None] = mapped_column(String(200))
    flow_item_type: Mapped[str] = mapped_column(String(20))
    position: Mapped[int] = mapped_column(default=0)


class Team(Base):
    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(primary_key=True)
    key: Mapped[str] = mapped_column(String(100), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    value_stream_id: Mapped[int | None] = mapped_column(
        ForeignKey("value_streams.id", ondelete="SET NULL")
    )


class Person(Base):
    """One human, however many tool accounts they have."""

    __tablename__ = "people"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(300), unique=True)
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))

    identities: Mapped[list["PersonIdentity"]] = relationship(
        back_populates="person", cascade="all, delete-orphan"
    )


class PersonIdentity(Base):
    """An account in one tool (``system`` is a source name or kind, e.g. ``github``)."""

    __tablename__ = "person_identities"
    __table_args__ = (UniqueConstraint("system", "username"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id", ondelete="CASCADE"))
    system: Mapped[str] = mapped_column(String(100))
    username: Mapped[str] = mapped_column(String(300))

    person: Mapped[Person] = relationship(back_populates="identities")
