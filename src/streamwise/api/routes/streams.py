"""Value streams with their stages and status mappings: create, read, update, delete.

The body mirrors a ``value_streams:`` entry of streamwise.yaml and is validated by the same
pydantic models, so what the API accepts, ``config apply`` accepts too (and the next
``config apply`` overwrites API edits: the file stays the source of truth where it is used).
Changing stages, status mappings or the selection does not re-map stored data by itself;
pass ``?renormalize=true`` to re-map and re-derive in the same request, or run
``streamwise renormalize`` later.
"""

import json
from typing import Any, Literal

from fastapi import APIRouter, Depends, Response
from pydantic import Field
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from streamwise.api.routes.deps import database, session
from streamwise.api.routes.problems import ProblemError, invalid
from streamwise.ingest import renormalize
from streamwise.model import Source, Stage, StatusMapping, Team, ValueStream
from streamwise.normalize.config import SelectionConfig, StageConfig, Strict
from streamwise.store import Database

router = APIRouter(prefix="/api/value-streams", tags=["value streams"])

KEY_PATTERN = r"^[a-z0-9][a-z0-9_-]*$"


class ValueStreamChange(Strict):
    """The editable part of a value stream (PUT replaces all of it)."""

    name: str = Field(min_length=1, max_length=200)
    description: str | None = None
    kind: Literal["core", "supporting"] = "core"
    owner: str | None = None
    parent: str | None = None
    select: SelectionConfig = Field(default_factory=SelectionConfig)
    stages: list[StageConfig] = Field(default_factory=list)


class ValueStreamCreate(ValueStreamChange):
    key: str = Field(min_length=1, max_length=100, pattern=KEY_PATTERN)


def _find(db_session: Session, key: str) -> ValueStream:
    stream = db_session.scalars(select(ValueStream).where(ValueStream.key == key)).first()
    if stream is None:
        known = ", ".join(db_session.scalars(select(ValueStream.key).order_by(ValueStream.key)))
        raise ProblemError(404, f"no value stream {key!r} (known: {known or 'none'})")
    return stream


def _check_references(db_session: Session, body: ValueStreamChange, key: str) -> dict[str, int]:
    """What pydantic cannot see: names that must exist and must not repeat. Returns the
    source ids by name for the status mappings."""
    sources = dict(db_session.execute(select(Source.name, Source.id)).all())
    teams = set(db_session.scalars(select(Team.key)))
    if body.parent is not None:
        if body.parent == key:
            raise invalid("body.parent", "a value stream cannot be its own parent")
        if db_session.scalar(select(ValueStream.id).where(ValueStream.key == body.parent)) is None:
            raise invalid("body.parent", f"{body.parent!r} is not a value stream key")
    for j, name in enumerate(body.select.sources):
        if name not in sources:
            raise invalid(f"body.select.sources[{j}]", f"{name!r} is not a source name")
    for j, team in enumerate(body.select.teams):
        if team not in teams:
            raise invalid(f"body.select.teams[{j}]", f"{team!r} is not a team key")
    names: set[str] = set()
    mapped: dict[tuple[str | None, str, str | None, str | None], str] = {}
    for j, stage in enumerate(body.stages):
        if stage.name in names:
            raise invalid(f"body.stages[{j}].name", f"duplicate stage name {stage.name!r}")
        names.add(stage.name)
        for k, status in enumerate(stage.statuses):
            where = f"body.stages[{j}].statuses[{k}]"
            if status.source is not None and status.source not in sources:
                raise invalid(f"{where}.source", f"{status.source!r} is not a source name")
            signature = (status.source, status.status, status.project, status.type)
            if signature in mapped:
                raise invalid(
                    where,
                    f"status {status.status!r} is already mapped to stage {mapped[signature]!r}",
                )
            mapped[signature] = stage.name
    return sources


def _apply(
    db_session: Session, stream: ValueStream, body: ValueStreamChange, sources: dict[str, int]
) -> bool:
    """Write ``body`` onto ``stream``; stages keep their ids by name (so intervals and
    facts keep pointing at them). True when mappings or the selection changed."""
    before = _mapping_signature(db_session, stream)
    parent_id = None
    if body.parent is not None:
        parent_id = db_session.scalar(select(ValueStream.id).where(ValueStream.key == body.parent))
    stream.name = body.name
    stream.description = body.description
    stream.kind = body.kind
    stream.owner = body.owner
    stream.parent_id = parent_id
    stream.selection = body.select.model_dump()
    db_session.flush()
    existing = {
        stage.name: stage
        for stage in db_session.scalars(select(Stage).where(Stage.value_stream_id == stream.id))
    }
    wanted = {stage.name for stage in body.stages}
    for name in [name for name in existing if name not in wanted]:
        db_session.delete(existing.pop(name))
    db_session.flush()
    db_session.execute(delete(StatusMapping).where(StatusMapping.value_stream_id == stream.id))
    for position, config in enumerate(body.stages):
        stage = existing.get(config.name)
        if stage is None:
            stage = Stage(
                value_stream_id=stream.id,
                name=config.name,
                position=position,
                flow_state=config.flow_state,
            )
            db_session.add(stage)
        stage.position = position
        stage.flow_state = config.flow_state
        stage.value_adding = config.value_adding
        db_session.flush()
        for status in config.statuses:
            db_session.add(
                StatusMapping(
                    value_stream_id=stream.id,
                    source_id=sources[status.source] if status.source else None,
                    raw_status=status.status,
                    project=status.project,
                    raw_type=status.type,
                    stage_id=stage.id,
                    flow_state=status.flow_state or config.flow_state,
                )
            )
    db_session.flush()
    return _mapping_signature(db_session, stream) != before


def _mapping_signature(db_session: Session, stream: ValueStream) -> list[tuple[Any, ...]]:
    """Everything that decides how stored data maps onto this stream."""
    rows = db_session.execute(
        select(
            StatusMapping.source_id,
            StatusMapping.raw_status,
            StatusMapping.project,
            StatusMapping.raw_type,
            Stage.name,
            StatusMapping.flow_state,
        )
        .join(Stage, Stage.id == StatusMapping.stage_id, isouter=True)
        .where(StatusMapping.value_stream_id == stream.id)
        .order_by(StatusMapping.raw_status, StatusMapping.project, StatusMapping.raw_type)
    ).all()
    stages = db_session.execute(
        select(Stage.name, Stage.position, Stage.flow_state)
        .where(Stage.value_stream_id == stream.id)
        .order_by(Stage.position)
    ).all()
    # JSON key order differs by database (PostgreSQL's jsonb sorts keys): compare canonically.
    selection = json.dumps(stream.selection, sort_keys=True)
    return [tuple(row) for row in (*rows, *stages)] + [(selection,)]


def stream_json(db_session: Session, stream: ValueStream) -> dict[str, Any]:
    """A stream in the shape of its streamwise.yaml entry, plus ids."""
    source_names = dict(db_session.execute(select(Source.id, Source.name)).all())
    mappings = db_session.scalars(
        select(StatusMapping)
        .where(StatusMapping.value_stream_id == stream.id)
        .order_by(StatusMapping.id)
    ).all()
    stages = db_session.scalars(
        select(Stage).where(Stage.value_stream_id == stream.id).order_by(Stage.position)
    ).all()
    parent = db_session.get(ValueStream, stream.parent_id) if stream.parent_id else None
    return {
        "id": stream.id,
        "key": stream.key,
        "name": stream.name,
        "description": stream.description,
        "kind": stream.kind,
        "owner": stream.owner,
        "parent": parent.key if parent else None,
        "select": stream.selection,
        "stages": [
            {
                "id": stage.id,
                "name": stage.name,
                "flow_state": stage.flow_state,
                "value_adding": stage.value_adding,
                "statuses": [
                    {
                        "status": m.raw_status,
                        "flow_state": m.flow_state,
                        "source": source_names.get(m.source_id) if m.source_id else None,
                        "project": m.project,
                        "type": m.raw_type,
                    }
                    for m in mappings
                    if m.stage_id == stage.id
                ],
            }
            for stage in stages
        ],
    }


def _remap(db: Database, changed: bool, wanted: bool) -> dict[str, Any]:
    """Run the renormalise path when asked (even with nothing changed now: an earlier
    change may still be pending); otherwise say whether stored data needs it."""
    if wanted:
        with db.transaction() as db_session:
            renormalize(db_session)
        return {"mappings_changed": changed, "renormalized": True}
    if not changed:
        return {"mappings_changed": False, "renormalized": False}
    return {
        "mappings_changed": True,
        "renormalized": False,
        "note": "stored data still uses the old mappings: run `streamwise renormalize` "
        "or repeat the request with ?renormalize=true",
    }


@router.get("")
def list_streams(db_session: Session = Depends(session)) -> list[dict[str, Any]]:
    """Every value stream in configured order, with stages and status mappings."""
    streams = db_session.scalars(
        select(ValueStream).order_by(ValueStream.position, ValueStream.id)
    ).all()
    return [stream_json(db_session, stream) for stream in streams]


@router.get("/{key}")
def get_stream(key: str, db_session: Session = Depends(session)) -> dict[str, Any]:
    """One value stream with its stages and status mappings."""
    return stream_json(db_session, _find(db_session, key))


@router.post("", status_code=201)
def create_stream(
    body: ValueStreamCreate,
    response: Response,
    renormalize: bool = False,
    db: Database = Depends(database),
) -> dict[str, Any]:
    """Create a value stream; 409 when the key is taken."""
    with db.transaction() as db_session:
        if db_session.scalar(select(ValueStream.id).where(ValueStream.key == body.key)):
            raise ProblemError(409, f"a value stream with key {body.key!r} already exists")
        sources = _check_references(db_session, body, body.key)
        position = len(db_session.scalars(select(ValueStream.id)).all())
        stream = ValueStream(key=body.key, name=body.name, position=position, selection={})
        db_session.add(stream)
        db_session.flush()
        changed = _apply(db_session, stream, body, sources) or bool(body.stages)
        result = stream_json(db_session, stream)
    response.headers["Location"] = f"/api/value-streams/{body.key}"
    return {**result, **_remap(db, changed, renormalize)}


@router.put("/{key}")
def update_stream(
    key: str,
    body: ValueStreamChange,
    renormalize: bool = False,
    db: Database = Depends(database),
) -> dict[str, Any]:
    """Replace a stream's name, description, selection and stages (stages are matched by
    name, so unchanged stages keep their ids)."""
    with db.transaction() as db_session:
        stream = _find(db_session, key)
        sources = _check_references(db_session, body, key)
        changed = _apply(db_session, stream, body, sources)
        result = stream_json(db_session, stream)
    return {**result, **_remap(db, changed, renormalize)}


@router.delete("/{key}", status_code=204)
def delete_stream(key: str, db: Database = Depends(database)) -> Response:
    """Delete a stream with its stages and mappings; its work items stay, unassigned."""
    with db.transaction() as db_session:
        stream = _find(db_session, key)
        db_session.execute(delete(StatusMapping).where(StatusMapping.value_stream_id == stream.id))
        db_session.delete(stream)
    return Response(status_code=204)
