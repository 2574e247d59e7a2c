"""Bulk helpers derive relies on: exact epoch microseconds from the database, tuple inserts,
indexes set aside for a rewrite, the garbage collector paused."""

import gc
from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from sqlalchemy import BigInteger, Column, MetaData, Table, func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from streamwise.derive.timeline import to_micros
from streamwise.model import ItemFact, StageInterval
from streamwise.model.base import UTCDateTime
from streamwise.store import Database
from streamwise.store.bulk import (
    cyclic_gc_paused,
    epoch_micros,
    fetch_plain,
    indexes_set_aside,
    insert_tuples,
)

MOMENTS = [
    datetime(2024, 11, 5, 0, 23, 53, tzinfo=UTC),
    datetime(2024, 11, 5, 0, 23, 53, 1, tzinfo=UTC),
    datetime(2024, 11, 5, 0, 23, 53, 999_999, tzinfo=UTC),  # SQLite's date functions round this
    datetime(2024, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
    datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC),
    datetime(1970, 1, 1, tzinfo=UTC),
    datetime(2100, 2, 28, 12, 0, 0, 123_456, tzinfo=UTC),
]

metadata = MetaData()
moments = Table(
    "bulk_test_moments",
    metadata,
    Column("id", BigInteger, primary_key=True),
    Column("at", UTCDateTime()),
)


@pytest.fixture
def with_moments(database: Database) -> Iterator[Database]:
    metadata.create_all(database.engine)
    with database.transaction() as session:
        session.execute(
            moments.insert(), [{"id": n, "at": at} for n, at in enumerate([*MOMENTS, None])]
        )
    yield database
    metadata.drop_all(database.engine)


def test_epoch_micros_is_exact(with_moments: Database) -> None:
    with with_moments.sessions() as session:
        rows = fetch_plain(
            session, select(moments.c.id, epoch_micros(moments.c.at)).order_by(moments.c.id)
        )
        smallest = fetch_plain(session, select(epoch_micros(func.min(moments.c.at))))
    assert [micros for _id, micros in rows] == [*(to_micros(at) for at in MOMENTS), None]
    # Exactly the epoch seconds datetime.timestamp() gives, once divided.
    assert [micros / 1_000_000 for _id, micros in rows[:-1]] == [at.timestamp() for at in MOMENTS]
    assert smallest == [(to_micros(min(MOMENTS)),)]


def test_epoch_micros_reads_moments_without_or_with_a_short_fraction(
    with_moments: Database,
) -> None:
    """Written by hand, not by our type: SQLite text without the six-digit fraction, and the
    same literals on PostgreSQL (where they must give the same numbers)."""
    zone = "" if with_moments.dialect == "sqlite" else "+00"
    with with_moments.transaction() as session:
        session.execute(
            text("INSERT INTO bulk_test_moments (id, at) VALUES (100, :a), (101, :b)"),
            {"a": f"2024-11-05 00:23:53{zone}", "b": f"2024-11-05 00:23:53.5{zone}"},
        )
    with with_moments.sessions() as session:
        rows = fetch_plain(
            session,
            select(epoch_micros(moments.c.at)).where(moments.c.id >= 100).order_by(moments.c.id),
        )
    whole = to_micros(datetime(2024, 11, 5, 0, 23, 53, tzinfo=UTC))
    assert rows == [(whole,), (whole + 500_000,)]


def test_insert_tuples_follows_the_names_given(with_moments: Database) -> None:
    with with_moments.transaction() as session:
        insert_tuples(session, moments, ("at", "id"), [(MOMENTS[1], 200), (None, 201)])
        insert_tuples(session, moments, ("id",), [])
    with with_moments.sessions() as session:
        rows = session.execute(
            select(moments.c.id, moments.c.at).where(moments.c.id >= 200).order_by(moments.c.id)
        ).all()
    assert [tuple(row) for row in rows] == [(200, MOMENTS[1]), (201, None)]


def _schema(session: Session) -> list[tuple[str, ...]]:
    """Every index of the database, as the database describes it."""
    if session.get_bind().dialect.name == "sqlite":
        query = "SELECT type, name, tbl_name, sql FROM sqlite_master ORDER BY type, name"
    else:
        query = "SELECT tablename, indexname, indexdef FROM pg_indexes ORDER BY indexname"
    return [tuple(row) for row in session.execute(text(query))]


FACTS = (StageInterval, ItemFact)


def _foreign_keys(session: Session) -> list[tuple[str, ...]]:
    if session.get_bind().dialect.name == "sqlite":
        return []
    query = (
        "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint WHERE contype = 'f'"
        " ORDER BY conname"
    )
    return [tuple(row) for row in session.execute(text(query))]


def test_indexes_set_aside_come_back_as_they_were(database: Database) -> None:
    with database.sessions() as session:
        before = _schema(session), _foreign_keys(session)
    with database.transaction() as session:
        # The first statement of the transaction: the DDL must still be part of it, so other
        # connections never see the tables without their indexes.
        with indexes_set_aside(session, FACTS):
            during, during_keys = _schema(session), _foreign_keys(session)
            with database.sessions() as other:
                if database.dialect == "sqlite":
                    assert _schema(other) == before[0]
                else:  # PostgreSQL: readers wait for the rewrite (here: 0.2 s, then give up)
                    other.execute(text("SET lock_timeout = 200"))
                    with pytest.raises(OperationalError, match="lock timeout"):
                        other.execute(text("SELECT count(*) FROM item_facts"))
        assert (_schema(session), _foreign_keys(session)) == before
    with database.sessions() as session:
        assert (_schema(session), _foreign_keys(session)) == before
    names = {row[1] for row in during}
    assert "ix_stage_intervals_item" not in names
    assert "ix_item_facts_stream_done_day" not in names
    if database.dialect == "sqlite":
        assert {"stage_intervals", "item_facts"} <= names  # only indexes go
    else:
        assert {"pk_stage_intervals", "pk_item_facts"} <= names  # primary keys stay
        gone = {name for name, _ in before[1]} - {name for name, _ in during_keys}
        assert gone == {
            "fk_item_facts_work_item_id_work_items",
            "fk_item_facts_value_stream_id_value_streams",
            "fk_item_facts_team_id_teams",
            "fk_item_facts_stage_id_stages",
            "fk_stage_intervals_work_item_id_work_items",
            "fk_stage_intervals_value_stream_id_value_streams",
            "fk_stage_intervals_stage_id_stages",
        }


def test_tables_in_use_are_rewritten_with_everything_in_place(database: Database) -> None:
    """A reader holding a fact table open must not make a full rewrite wait for it (on
    PostgreSQL the set-aside gives up after ``lock_wait_s`` and keeps everything in place)."""
    with database.sessions() as session:
        before = _schema(session), _foreign_keys(session)
    with database.sessions() as reader:
        reader.execute(text("SELECT count(*) FROM item_facts"))  # keeps its transaction open
        with (
            database.transaction() as session,
            indexes_set_aside(session, FACTS, lock_wait_s=0.2),
        ):
            during = _schema(session), _foreign_keys(session)
            session.execute(text("DELETE FROM item_facts"))  # the rewrite goes on
        reader.rollback()
    if database.dialect == "sqlite":  # no table locks there: the indexes went as usual
        assert "ix_item_facts_stream_done_day" not in {row[1] for row in during[0]}
    else:
        assert during == before
    with database.sessions() as session:
        assert (_schema(session), _foreign_keys(session)) == before


def test_indexes_set_aside_are_back_after_a_rollback_or_an_error(database: Database) -> None:
    with database.sessions() as session:
        before = _schema(session)
    with database.sessions() as session:
        with indexes_set_aside(session, FACTS):
            pass
        session.rollback()
    with (
        pytest.raises(RuntimeError),
        database.transaction() as session,
        indexes_set_aside(session, FACTS),
    ):
        raise RuntimeError("derive failed")
    with database.sessions() as session:
        with pytest.raises(RuntimeError), indexes_set_aside(session, FACTS):
            raise RuntimeError("caught by a caller that commits anyway")
        assert _schema(session) == before
        session.commit()
    with database.sessions() as session:
        assert _schema(session) == before


def test_cyclic_gc_paused_restores_the_collector() -> None:
    assert gc.isenabled()
    with cyclic_gc_paused():
        assert not gc.isenabled()
        with cyclic_gc_paused():
            assert not gc.isenabled()
        assert not gc.isenabled()
    assert gc.isenabled()
    with pytest.raises(ValueError), cyclic_gc_paused():
        raise ValueError
    assert gc.isenabled()
    gc.disable()
    try:
        with cyclic_gc_paused():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
