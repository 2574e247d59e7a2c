"""Load ``streamwise.yaml`` into the database: the explicit, idempotent ``config apply`` step.

Objects are matched by their stable names (source name, stream key, stage name, team key,
person e-mail or name), so ids survive a re-apply and domain rows keep pointing at them.
Mappings are replaced as a whole: after a change, ``streamwise renormalize`` re-maps the data.
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from typing import Any, TypeVar

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from streamwise.model import (
    Organisation,
    Person,
    PersonIdentity,
    Source,
    Stage,
    StatusMapping,
    Team,
    TypeMapping,
    ValueStream,
)
from streamwise.normalize.config import OrgConfig


@dataclass
class ApplyReport:
    created: dict[str, int] = field(default_factory=dict)
    updated: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    mappings_changed: bool = False

    def count(self, bucket: dict[str, int], what: str) -> None:
        bucket[what] = bucket.get(what, 0) + 1

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.removed or self.mappings_changed)


def _assign(obj: Any, values: dict[str, Any]) -> bool:
    changed = False
    for name, value in values.items():
        if getattr(obj, name) != value:
            setattr(obj, name, value)
            changed = True
    return changed


Row = TypeVar("Row")


def _put(
    session: Session,
    existing: dict[str, Row],
    key: str,
    values: dict[str, Any],
    create: Callable[[], Row],
    report: ApplyReport,
    what: str,
) -> Row:
    """Update the object named ``key`` with ``values``, or create it; count what happened."""
    found = existing.get(key)
    if found is None:
        created = create()
        session.add(created)
        existing[key] = created
        report.count(report.created, what)
        return created
    if _assign(found, values):
        report.count(report.updated, what)
    return found


def _remove_unwanted(
    session: Session, existing: dict[str, Row], wanted: set[str], report: ApplyReport, what: str
) -> None:
    for key in [key for key in existing if key not in wanted]:
        session.delete(existing.pop(key))
        report.count(report.removed, what)


def _mapping_signature(session: Session) -> list[tuple[Any, ...]]:
    status = session.execute(
        select(
            StatusMapping.value_stream_id,
            StatusMapping.source_id,
            StatusMapping.raw_status,
            StatusMapping.project,
            StatusMapping.raw_type,
            StatusMapping.stage_id,
            StatusMapping.flow_state,
        ).order_by(StatusMapping.id)
    ).all()
    types = session.execute(
        select(
            TypeMapping.source_id,
            TypeMapping.raw_type,
            TypeMapping.label,
            TypeMapping.flow_item_type,
            TypeMapping.position,
        ).order_by(TypeMapping.id)
    ).all()
    streams = session.execute(
        select(ValueStream.key, ValueStream.selection).order_by(ValueStream.key)
    ).all()
    linking = session.execute(select(Organisation.settings)).all()
    return [tuple(row) for row in (*status, *types, *streams, *linking)]


def apply_config(session: Session, config: OrgConfig) -> ApplyReport:
    """Make the database's organisation objects equal to ``config``."""
    report = ApplyReport()
    before = _mapping_signature(session)

    org_values: dict[str, Any] = {
        "name": config.organisation.name,
        "timezone": config.organisation.timezone,
        "settings": config.linking.model_dump(),
    }
    organisations = {"": org} if (org := session.scalars(select(Organisation)).first()) else {}
    _put(
        session,
        organisations,
        "",
        org_values,
        partial(Organisation, **org_values),
        report,
        "organisation",
    )

    # Sources are never removed by apply: they own raw data.
    sources = {source.name: source for source in session.scalars(select(Source))}
    for source_config in config.sources:
        source_values: dict[str, Any] = {
            "kind": source_config.kind,
            "base_url": source_config.url,
            "token_env": source_config.token_env,
            "options": source_config.options,
        }
        _put(
            session,
            sources,
            source_config.name,
            source_values,
            partial(Source, name=source_config.name, **source_values),
            report,
            "sources",
        )
    session.flush()

    streams = {stream.key: stream for stream in session.scalars(select(ValueStream))}
    _remove_unwanted(
        session, streams, {s.key for s in config.value_streams}, report, "value_streams"
    )
    for position, stream_config in enumerate(config.value_streams):
        stream_values: dict[str, Any] = {
            "name": stream_config.name,
            "description": stream_config.description,
            "kind": stream_config.kind,
            "owner": stream_config.owner,
            "position": position,
            "selection": stream_config.select.model_dump(),
        }
        _put(
            session,
            streams,
            stream_config.key,
            stream_values,
            partial(ValueStream, key=stream_config.key, **stream_values),
            report,
            "value_streams",
        )
    session.flush()
    for stream_config in config.value_streams:
        parent = streams[stream_config.parent].id if stream_config.parent else None
        if _assign(streams[stream_config.key], {"parent_id": parent}):
            report.count(report.updated, "value_streams")

    session.execute(delete(StatusMapping))
    for stream_config in config.value_streams:
        stream = streams[stream_config.key]
        stages = {
            stage.name: stage
            for stage in session.scalars(select(Stage).where(Stage.value_stream_id == stream.id))
        }
        _remove_unwanted(session, stages, {s.name for s in stream_config.stages}, report, "stages")
        session.flush()
        for position, stage_config in enumerate(stream_config.stages):
            stage_values: dict[str, Any] = {
                "position": position,
                "flow_state": stage_config.flow_state,
                "value_adding": stage_config.value_adding,
            }
            _put(
                session,
                stages,
                stage_config.name,
                stage_values,
                partial(Stage, value_stream_id=stream.id, name=stage_config.name, **stage_values),
                report,
                "stages",
            )
        session.flush()
        for stage_config in stream_config.stages:
            stage = stages[stage_config.name]
            for status in stage_config.statuses:
                session.add(
                    StatusMapping(
                        value_stream_id=stream.id,
                        source_id=sources[status.source].id if status.source else None,
                        raw_status=status.status,
                        project=status.project,
                        raw_type=status.type,
                        stage_id=stage.id,
                        flow_state=status.flow_state or stage_config.flow_state,
                    )
                )

    session.execute(delete(TypeMapping))
    for position, type_config in enumerate(config.type_mappings):
        session.add(
            TypeMapping(
                source_id=sources[type_config.source].id if type_config.source else None,
                raw_type=type_config.type,
                label=type_config.label,
                flow_item_type=type_config.flow_item_type,
                position=position,
            )
        )

    teams = {team.key: team for team in session.scalars(select(Team))}
    _remove_unwanted(session, teams, {t.key for t in config.teams}, report, "teams")
    for team_config in config.teams:
        team_values: dict[str, Any] = {
            "name": team_config.name,
            "value_stream_id": streams[team_config.value_stream].id
            if team_config.value_stream
            else None,
        }
        _put(
            session,
            teams,
            team_config.key,
            team_values,
            partial(Team, key=team_config.key, **team_values),
            report,
            "teams",
        )
    session.flush()

    people = {person.email or person.name: person for person in session.scalars(select(Person))}
    _remove_unwanted(session, people, {p.email or p.name for p in config.people}, report, "people")
    for person_config in config.people:
        person_values: dict[str, Any] = {
            "name": person_config.name,
            "email": person_config.email,
            "team_id": teams[person_config.team].id if person_config.team else None,
        }
        person = _put(
            session,
            people,
            person_config.email or person_config.name,
            person_values,
            partial(Person, **person_values),
            report,
            "people",
        )
        current = {(i.system, i.username) for i in person.identities}
        wanted = set(person_config.identities.items())
        if current != wanted:
            person.identities = [
                PersonIdentity(system=system, username=username)
                for system, username in sorted(wanted)
            ]
            if current:
                report.count(report.updated, "people")
    session.flush()
    report.mappings_changed = _mapping_signature(session) != before
    return report
