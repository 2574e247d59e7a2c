"""Connected tools: their sync status, and "sync now"."""

from typing import Any

from fastapi import APIRouter, Depends
from fastapi.concurrency import run_in_threadpool
from sqlalchemy.orm import Session

from streamwise.api.routes.deps import database, session
from streamwise.api.routes.problems import ProblemError
from streamwise.connectors.registry import SYNCABLE_KINDS
from streamwise.errors import AuthenticationError, SourceError
from streamwise.normalize.ingest import find_source
from streamwise.store import Database
from streamwise.sync import settings_of, source_statuses, sync_source

router = APIRouter(prefix="/api/sources", tags=["sources"])


@router.get("")
def list_sources(db_session: Session = Depends(session)) -> list[dict[str, Any]]:
    """Every source with its last sync and error per entity, stored payloads and payload
    errors; ``syncable`` says whether "sync now" applies (file sources are imported)."""
    return [
        {
            "name": status.name,
            "kind": status.kind,
            "url": status.url,
            "syncable": status.kind in SYNCABLE_KINDS,
            "entities": [
                {
                    "entity": entity,
                    "last_synced_at": synced.isoformat() if synced else None,
                    "last_error": error,
                }
                for entity, synced, error in status.entities
            ],
            "raw_counts": status.raw_counts,
            "payload_errors": status.payload_errors,
        }
        for status in source_statuses(db_session)
    ]


@router.post("/{name}/sync")
async def sync_now(name: str, full: bool = False, db: Database = Depends(database)) -> Any:
    """Sync one source now, in a worker thread, and answer with what it stored.

    404: no such source; 409: its kind cannot be synced (file sources are imported);
    400: its settings are incomplete (no URL, token variable unset); 401/502: the tool
    refused our credentials or failed.
    """

    def check() -> None:
        with db.sessions() as db_session:
            source = find_source(db_session, name)
            if source.kind not in SYNCABLE_KINDS:
                raise ProblemError(
                    409,
                    f"source {name!r} is of kind {source.kind!r}, which is imported, not "
                    f"synced (syncable kinds: {', '.join(SYNCABLE_KINDS)})",
                )
            try:
                settings_of(source)
            except SourceError as error:
                raise ProblemError(400, str(error)) from None

    await run_in_threadpool(check)
    try:
        report = await run_in_threadpool(sync_source, db, name, full)
    except AuthenticationError:
        raise
    except SourceError as error:
        raise ProblemError(502, str(error)) from None
    return {
        "source": report.source,
        "received": dict(report.received),
        "stored": dict(report.stored),
        "errors": report.errors,
        "items_derived": report.items_derived,
    }
