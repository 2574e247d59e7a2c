"""Raw records are append-only and never store the same payload twice in a row."""

from sqlalchemy import select

from streamwise.connectors.base import RawPayload
from streamwise.model import RawRecord, Source
from streamwise.store import Database
from streamwise.store.raw import content_hash, latest_payloads, store_payloads


def make_source(database: Database) -> int:
    with database.transaction() as session:
        source = Source(name="files", kind="file")
        session.add(source)
        session.flush()
        return source.id


def test_hash_ignores_key_order() -> None:
    assert content_hash({"a": 1, "b": [1, 2]}) == content_hash({"b": [1, 2], "a": 1})
    assert content_hash({"a": 1}) != content_hash({"a": 2})


def test_identical_payload_is_stored_once(database: Database) -> None:
    source_id = make_source(database)
    payload = RawPayload("work_item", "X-1", {"key": "X-1", "title": "one"})
    with database.transaction() as session:
        first = store_payloads(session, source_id, [payload])
    with database.transaction() as session:
        second = store_payloads(session, source_id, [payload])
    assert (first.stored, second.stored) == (1, 0)
    assert dict(first.changed) == {"work_item": {"X-1"}}
    assert dict(second.changed) == {}


def test_a_b_a_keeps_history_and_latest_is_a(database: Database) -> None:
    source_id = make_source(database)
    a = RawPayload("work_item", "X-1", {"title": "A"})
    b = RawPayload("work_item", "X-1", {"title": "B"})
    for payload in (a, b, a):
        with database.transaction() as session:
            store_payloads(session, source_id, [payload])
    with database.sessions() as session:
        titles = session.scalars(select(RawRecord.payload).order_by(RawRecord.id)).all()
        assert [t["title"] for t in titles] == ["A", "B", "A"]
        latest = latest_payloads(session, source_id)
        assert [(kind, key, payload) for _, kind, key, payload in latest] == [
            ("work_item", "X-1", {"title": "A"})
        ]
        only = latest_payloads(session, source_id, {"work_item": {"X-1"}})
        assert only == latest


def test_nul_characters_are_replaced_the_same_on_every_database(database: Database) -> None:
    """PostgreSQL's JSONB refuses NUL; a tool that sends one must not stop the sync."""
    source_id = make_source(database)
    payload = RawPayload("work_item", "X-1", {"fields": {"summary": "a\x00b", "tags": ["\x00"]}})
    with database.transaction() as session:
        first = store_payloads(session, source_id, [payload])
    with database.transaction() as session:
        again = store_payloads(session, source_id, [payload])
        stored = session.scalars(select(RawRecord.payload)).one()
    assert (first.stored, again.stored) == (1, 0)
    assert stored == {"fields": {"summary": "a\ufffdb", "tags": ["\ufffd"]}}
