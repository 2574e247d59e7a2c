"""Syncing a connected tool: fetch pages, store them raw, normalise and derive what changed.

Each page is one transaction — its raw payloads, the model rows and facts they change, and
the cursor to resume from — so a sync killed at any moment leaves whole pages behind, and the
next run starts after the last one stored. Pages fetched again after a restart or through the
overlap window are unchanged and are not stored twice.
"""

import os
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from streamwise.connectors.registry import SYNCABLE_KINDS, make_connector, parser_for
from streamwise.connectors.sync_api import Page, SourceSettings, SyncingConnector
from streamwise.derive.run import derive_changed
from streamwise.errors import SourceError
from streamwise.model import RawRecord, Source, SyncState
from streamwise.model.base import utcnow
from streamwise.normalize.ingest import find_source
from streamwise.normalize.pipeline import Normaliser
from streamwise.progress import NoProgress, Prefixed, ProgressSink
from streamwise.store import Database
from streamwise.store.raw import store_payloads


@dataclass
class SyncReport:
    source: str
    received: Counter[str] = field(default_factory=Counter)
    stored: Counter[str] = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    items_derived: int = 0
    notes: list[str] = field(default_factory=list)
    """What the connector wants the user to know (e.g. a part of the tool it could not read)."""


def settings_of(source: Source) -> SourceSettings:
    """The source as its connector needs it, with the token read from the environment."""
    token = None
    if source.token_env:
        token = os.environ.get(source.token_env)
        if not token:
            raise SourceError(
                f"source {source.name!r}: the environment variable {source.token_env} is not "
                f"set. Export the {source.kind} token in it and run the sync again."
            )
    if not source.base_url:
        raise SourceError(f"source {source.name!r} has no URL; add one with `source add --url`")
    return SourceSettings(
        source.name, source.kind, source.base_url, token, source.token_env, dict(source.options)
    )


def connector_for(settings: SourceSettings) -> SyncingConnector:
    connector = make_connector(settings)
    if connector is None:
        raise SourceError(
            f"source {settings.name!r} is of kind {settings.kind!r}, which cannot be synced "
            f"(syncable kinds: {', '.join(SYNCABLE_KINDS)})"
        )
    return connector


def _state(session: Session, source_id: int, entity: str) -> SyncState:
    state = session.scalars(
        select(SyncState).where(SyncState.source_id == source_id, SyncState.entity_kind == entity)
    ).first()
    if state is None:
        state = SyncState(source_id=source_id, entity_kind=entity)
        session.add(state)
        session.flush()
    return state


def _record_error(database: Database, source_id: int, entity: str, message: str) -> None:
    with database.transaction() as session:
        _state(session, source_id, entity).last_error = message


def sync_source(
    database: Database,
    name: str,
    full: bool = False,
    progress: ProgressSink | None = None,
    connector: SyncingConnector | None = None,
) -> SyncReport:
    """Sync one source: every entity from its stored cursor (``full``: from the beginning)."""
    with database.sessions() as session:
        source = find_source(session, name)
        source_id = source.id
        settings = settings_of(source) if connector is None else None
        cursors = {
            state.entity_kind: state.cursor
            for state in session.scalars(select(SyncState).where(SyncState.source_id == source_id))
        }
    if connector is None:
        assert settings is not None
        connector = connector_for(settings)
    report = SyncReport(name)
    sink = Prefixed(progress or NoProgress(), name)
    try:
        for entity in connector.entities:
            sink.start(entity, None)
            try:
                cursor = None if full else cursors.get(entity)
                for page in connector.fetch(entity, cursor):
                    _store_page(database, source_id, page.entity, page, report)
                    sink.advance(entity, len(page.payloads))
            except SourceError as error:
                _record_error(database, source_id, entity, str(error))
                raise
    finally:
        report.notes.extend(getattr(connector, "notes", []))
        connector.close()
    return report


def _store_page(
    database: Database, source_id: int, entity: str, page: Page, report: SyncReport
) -> None:
    """One page, one transaction: raw payloads, model rows, facts and the cursor."""
    with database.transaction() as session:
        source = session.get(Source, source_id)
        assert source is not None
        stored = store_payloads(session, source_id, page.payloads)
        report.received[entity] += stored.received
        report.stored[entity] += stored.stored
        if stored.stored:
            parser = parser_for(source.kind)
            assert parser is not None
            normalised = Normaliser(session, source, parser).run(dict(stored.changed))
            report.errors.extend(normalised.errors)
            derived = derive_changed(
                session,
                normalised.touched_items,
                normalised.touched_services,
                since=normalised.changed_since,
            )
            report.items_derived += derived.items
        state = _state(session, source_id, entity)
        if page.cursor is not None:
            state.cursor = page.cursor
        state.last_synced_at = utcnow()
        state.last_error = None


@dataclass
class SourceStatus:
    name: str
    kind: str
    url: str | None
    entities: list[tuple[str, datetime | None, str | None]]  # (entity, last sync, last error)
    raw_counts: dict[str, int]
    payload_errors: int


def source_statuses(session: Session) -> list[SourceStatus]:
    """Every source with its last sync per entity, stored payloads and payload errors."""
    statuses = []
    for source in session.scalars(select(Source).order_by(Source.name)):
        states = session.scalars(
            select(SyncState)
            .where(SyncState.source_id == source.id)
            .order_by(SyncState.entity_kind)
        )
        counts = dict(
            session.execute(
                select(RawRecord.entity_kind, func.count(func.distinct(RawRecord.external_id)))
                .where(RawRecord.source_id == source.id)
                .group_by(RawRecord.entity_kind)
            ).all()
        )
        errors = session.scalar(
            select(func.count())
            .select_from(RawRecord)
            .where(RawRecord.source_id == source.id, RawRecord.error.is_not(None))
        )
        statuses.append(
            SourceStatus(
                source.name,
                source.kind,
                source.base_url,
                [(s.entity_kind, s.last_synced_at, s.last_error) for s in states],
                {str(k): int(v) for k, v in counts.items()},
                int(errors or 0),
            )
        )
    return statuses
