"""Append-only storage of raw payloads with content-hash deduplication."""

import hashlib
import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from streamwise.model import RawRecord
from streamwise.model.base import utcnow
from streamwise.store.bulk import chunks, insert_rows


class Payload(Protocol):
    """A payload as a connector hands it over (see ``connectors.base.RawPayload``)."""

    @property
    def entity_kind(self) -> str: ...
    @property
    def external_id(self) -> str: ...
    @property
    def payload(self) -> dict[str, Any]: ...


def content_hash(payload: dict[str, Any]) -> str:
    """A stable hash of a payload: same content, same hash, whatever the key order."""
    return hashlib.sha256(_canonical(payload).encode("utf-8")).hexdigest()


NUL_REPLACEMENT = "\ufffd"


def without_nul(value: Any) -> Any:
    """The payload with NUL characters in its strings replaced by U+FFFD.

    Tools do send them (a Jira description pasted from a binary file); PostgreSQL's JSONB
    cannot hold them. Both databases store the same replaced text, so they stay identical.
    """
    if isinstance(value, str):
        return value.replace("\x00", NUL_REPLACEMENT)
    if isinstance(value, dict):
        return {without_nul(key): without_nul(item) for key, item in value.items()}
    if isinstance(value, list):
        return [without_nul(item) for item in value]
    return value


def _canonical(payload: dict[str, Any]) -> str:
    return json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _storable(payload: dict[str, Any]) -> tuple[dict[str, Any], str]:
    """(the payload as it will be stored, its content hash), serialising it once."""
    canonical = _canonical(payload)
    if "\\u0000" in canonical:  # JSON always escapes NUL this way
        payload = without_nul(payload)
        canonical = _canonical(payload)
    return payload, hashlib.sha256(canonical.encode("utf-8")).hexdigest()


@dataclass
class StoredRaw:
    """What a store call did: how many payloads were new, and which keys changed."""

    received: int = 0
    stored: int = 0
    changed: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    raw_ids: dict[tuple[str, str], int] = field(default_factory=dict)
    """(entity kind, external id) → id of the raw record just stored for it."""


def _latest_ids(source_id: int, kinds: Iterable[str] | None = None) -> Any:
    query = (
        select(func.max(RawRecord.id))
        .where(RawRecord.source_id == source_id)
        .group_by(RawRecord.entity_kind, RawRecord.external_id)
    )
    if kinds is not None:
        query = query.where(RawRecord.entity_kind.in_(list(kinds)))
    return query.scalar_subquery()


def store_payloads(
    session: Session,
    source_id: int,
    payloads: Sequence[Payload],
    fetched_at: datetime | None = None,
) -> StoredRaw:
    """Append each payload unless the latest stored payload for its key is identical.

    Comparing with the *latest* one (not any earlier one) keeps A → B → A as three rows, so the
    newest raw record is always what the tool says now.
    """
    result = StoredRaw(received=len(payloads))
    if not payloads:
        return result
    kinds = {payload.entity_kind for payload in payloads}
    latest: dict[tuple[str, str], str] = {
        (kind, external_id): digest
        for kind, external_id, digest in session.execute(
            select(RawRecord.entity_kind, RawRecord.external_id, RawRecord.content_hash).where(
                RawRecord.id.in_(_latest_ids(source_id, kinds))
            )
        )
    }
    when = fetched_at or utcnow()
    rows: list[dict[str, Any]] = []
    for payload in payloads:
        body, digest = _storable(payload.payload)
        key = (payload.entity_kind, payload.external_id)
        if latest.get(key) == digest:
            continue
        latest[key] = digest
        rows.append(
            {
                "source_id": source_id,
                "entity_kind": payload.entity_kind,
                "external_id": payload.external_id,
                "payload": body,
                "content_hash": digest,
                "fetched_at": when,
                "error": None,
            }
        )
        result.changed[payload.entity_kind].add(payload.external_id)
    # Plain batched inserts, then one query for the new ids: RETURNING on every batch costs
    # more than twice as much on PostgreSQL. Our rows all get ids above the current maximum;
    # matching the hash as well keeps a concurrent writer's rows from being mistaken for ours.
    before = session.scalar(select(func.max(RawRecord.id))) or 0
    insert_rows(session, RawRecord, rows)
    wanted = {(row["entity_kind"], row["external_id"]): row["content_hash"] for row in rows}
    new_rows = session.execute(
        select(
            RawRecord.id, RawRecord.entity_kind, RawRecord.external_id, RawRecord.content_hash
        ).where(RawRecord.source_id == source_id, RawRecord.id > before)
    )
    for raw_id, kind, external_id, digest in new_rows:
        if wanted.get((kind, external_id)) == digest:
            result.raw_ids[(kind, external_id)] = raw_id
    result.stored = len(rows)
    return result


RawRow = tuple[int, str, str, dict[str, Any]]
"""(raw record id, entity kind, external id, payload)"""


def latest_payloads(
    session: Session, source_id: int, keys: dict[str, set[str]] | None = None
) -> list[RawRow]:
    """The newest raw record per key of a source: all keys, or only ``keys`` (kind → ids)."""
    columns = select(
        RawRecord.id, RawRecord.entity_kind, RawRecord.external_id, RawRecord.payload
    ).where(RawRecord.source_id == source_id)
    if keys is None:
        query = columns.where(RawRecord.id.in_(_latest_ids(source_id))).order_by(RawRecord.id)
        return [(row[0], row[1], row[2], row[3]) for row in session.execute(query)]
    newest: dict[tuple[str, str], RawRow] = {}
    for kind, external_ids in keys.items():
        for batch in chunks(sorted(external_ids), 900):
            query = columns.where(
                RawRecord.entity_kind == kind, RawRecord.external_id.in_(list(batch))
            )
            for row in session.execute(query):
                key = (row[1], row[2])
                if key not in newest or newest[key][0] < row[0]:
                    newest[key] = (row[0], row[1], row[2], row[3])
    return sorted(newest.values(), key=lambda row: row[0])
