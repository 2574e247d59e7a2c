"""Declarative base, the UTC timestamp type and the columns every domain row shares."""

from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, ClassVar

from sqlalchemy import JSON, DateTime, ForeignKey, Integer, MetaData
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, declared_attr, mapped_column
from sqlalchemy.types import TypeDecorator

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

JSONType = JSON().with_variant(JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp that is always timezone-aware UTC in Python, whatever the database keeps.

    SQLite has no time zone type; storing naive UTC and re-attaching UTC on read keeps both
    databases returning the same values.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError(f"naive datetime {value!r} given; Streamwise stores aware UTC")
        value = value.astimezone(UTC)
        if dialect.name == "sqlite":
            return value.replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class FlowState(StrEnum):
    """Flow Framework states a tool status maps to."""

    NEW = "new"
    WAITING = "waiting"
    ACTIVE = "active"
    DONE = "done"
    CANCELED = "canceled"


class FlowItemType(StrEnum):
    """Flow Framework item types; ``ignore`` keeps supporting artifacts out of flow metrics."""

    FEATURE = "feature"
    DEFECT = "defect"
    RISK = "risk"
    DEBT = "debt"
    IGNORE = "ignore"


FLOW_ITEM_TYPES: tuple[str, ...] = tuple(
    kind.value for kind in FlowItemType if kind is not FlowItemType.IGNORE
)
"""The types flow metrics count: everything but ``ignore``."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSONType,
        list[str]: JSONType,
    }


def utcnow() -> datetime:
    return datetime.now(UTC)


class SourceKeyed:
    """Columns of every row that came from a tool: where from, its id there, and its raw record.

    ``(source_id, external_id)`` is unique per table, so every import, sync and replay upserts
    instead of duplicating.
    """

    id: Mapped[int] = mapped_column(Integer, primary_key=True)

    @declared_attr
    def source_id(cls) -> Mapped[int]:  # noqa: N805 - SQLAlchemy passes the class
        # No index of its own: each table's unique (source_id, external_id) starts with it.
        return mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))

    external_id: Mapped[str]

    @declared_attr
    def raw_record_id(cls) -> Mapped[int | None]:  # noqa: N805
        return mapped_column(ForeignKey("raw_records.id", ondelete="SET NULL"))
