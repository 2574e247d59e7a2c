"""The organisation's mappings, loaded once per normalisation run and applied per record."""

import re
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from streamwise.model import (
    Organisation,
    PersonIdentity,
    Source,
    StatusMapping,
    Team,
    TypeMapping,
    ValueStream,
)
from streamwise.normalize.config import (
    DEFAULT_INCIDENT_WINDOW_HOURS,
    DEFAULT_KEY_PATTERN,
    DEFAULT_PRODUCTION_ENVIRONMENTS,
)

MappedStatus = tuple[int | None, str | None]  # (stage id, flow state)


@dataclass
class StreamRule:
    """A value stream's selection rules as sets, for quick matching."""

    id: int
    sources: frozenset[str]
    projects: frozenset[str]
    teams: frozenset[str]
    labels: frozenset[str]
    repositories: frozenset[str]
    services: frozenset[str]

    def selects_work(
        self, source: str, project: str | None, team: str | None, labels: list[str]
    ) -> bool:
        if not (self.projects or self.teams or self.labels):
            return False
        return (
            (not self.sources or source in self.sources)
            and (not self.projects or project in self.projects)
            and (not self.teams or team in self.teams)
            and (not self.labels or not self.labels.isdisjoint(labels))
        )

    def selects(self, source: str, values: frozenset[str], value: str | None) -> bool:
        return bool(values) and value in values and (not self.sources or source in self.sources)


@dataclass(frozen=True)
class IncidentRule:
    """Linking ``linking.incident_deployment_*``: whether incidents with no explicit cause are
    tied to the latest production deployment of their service before them, and how far back."""

    infer: bool = True
    within_hours: float | None = DEFAULT_INCIDENT_WINDOW_HOURS

    @classmethod
    def from_settings(cls, settings: dict[str, Any]) -> "IncidentRule":
        return cls(
            infer=settings.get("incident_deployment_rule", "latest_production_before")
            == "latest_production_before",
            within_hours=settings.get(
                "incident_deployment_within_hours", DEFAULT_INCIDENT_WINDOW_HOURS
            ),
        )


@dataclass
class MappingContext:
    """Everything normalisation needs to map one source's records, without further queries."""

    source: Source
    timezone: str = "UTC"
    streams: list[StreamRule] = field(default_factory=list)
    statuses: dict[tuple[int, str], list[tuple[str | None, str | None, int | None, str]]] = field(
        default_factory=dict
    )
    types: dict[str, str] = field(default_factory=dict)
    labels: dict[str, str] = field(default_factory=dict)
    teams: dict[str, int] = field(default_factory=dict)
    team_keys: dict[int, str] = field(default_factory=dict)
    identities: dict[str, int] = field(default_factory=dict)
    key_pattern: re.Pattern[str] = field(default_factory=lambda: re.compile(DEFAULT_KEY_PATTERN))
    production_environments: frozenset[str] = frozenset(DEFAULT_PRODUCTION_ENVIRONMENTS)
    stream_keys: dict[str, int] = field(default_factory=dict)
    incident_rule: "IncidentRule" = field(default_factory=lambda: IncidentRule())

    @classmethod
    def load(cls, session: Session, source: Source) -> "MappingContext":
        context = cls(source=source)
        organisation = session.scalars(select(Organisation)).first()
        if organisation is not None:
            context.timezone = organisation.timezone
            settings: dict[str, Any] = organisation.settings or {}
            context.key_pattern = re.compile(
                settings.get("work_item_key_pattern", DEFAULT_KEY_PATTERN)
            )
            environments = settings.get("production_environments", DEFAULT_PRODUCTION_ENVIRONMENTS)
            context.production_environments = frozenset(e.lower() for e in environments)
            context.incident_rule = IncidentRule.from_settings(settings)
        for stream in session.scalars(select(ValueStream).order_by(ValueStream.position)):
            rules = stream.selection or {}
            context.stream_keys[stream.key] = stream.id
            context.streams.append(
                StreamRule(
                    id=stream.id,
                    **{
                        name: frozenset(rules.get(name, []))
                        for name in (
                            "sources",
                            "projects",
                            "teams",
                            "labels",
                            "repositories",
                            "services",
                        )
                    },
                )
            )
        mappings = session.scalars(
            select(StatusMapping).where(
                (StatusMapping.source_id == source.id) | (StatusMapping.source_id.is_(None))
            )
        )
        for mapping in mappings:
            context.statuses.setdefault((mapping.value_stream_id, mapping.raw_status), []).append(
                (mapping.project, mapping.raw_type, mapping.stage_id, mapping.flow_state)
            )
        for candidates in context.statuses.values():
            # Most specific first: project and type, project, type, neither.
            candidates.sort(key=lambda c: (c[0] is None, c[1] is None))
        type_rows = session.scalars(
            select(TypeMapping)
            .where((TypeMapping.source_id == source.id) | (TypeMapping.source_id.is_(None)))
            .order_by(TypeMapping.position)
        )
        for type_mapping in type_rows:
            if type_mapping.raw_type is not None:
                context.types.setdefault(type_mapping.raw_type, type_mapping.flow_item_type)
            if type_mapping.label is not None:
                context.labels.setdefault(type_mapping.label, type_mapping.flow_item_type)
        for team in session.scalars(select(Team)):
            context.teams[team.key] = team.id
            context.teams.setdefault(team.name, team.id)
            context.team_keys[team.id] = team.key
        for identity in session.scalars(
            select(PersonIdentity).where(PersonIdentity.system.in_([source.name, source.kind]))
        ):
            # A source-name identity beats a kind-wide one.
            if identity.system == source.name or identity.username not in context.identities:
                context.identities[identity.username] = identity.person_id
        return context

    def stream_for_work(
        self, project: str | None, team_id: int | None, labels: list[str]
    ) -> int | None:
        team_key = self.team_keys.get(team_id) if team_id is not None else None
        for rule in self.streams:
            if rule.selects_work(self.source.name, project, team_key, labels):
                return rule.id
        return None

    def stream_for_repository(self, repository: str | None) -> int | None:
        for rule in self.streams:
            if rule.selects(self.source.name, rule.repositories, repository):
                return rule.id
        return None

    def stream_for_service(self, service: str | None) -> int | None:
        for rule in self.streams:
            if rule.selects(self.source.name, rule.services, service):
                return rule.id
        return None

    def map_status(
        self,
        stream_id: int | None,
        status: str | None,
        project: str | None,
        raw_type: str | None,
    ) -> MappedStatus:
        """(stage id, flow state) of ``status`` in the item's stream; (None, None) if unmapped."""
        if stream_id is None or status is None:
            return None, None
        for mapped_project, mapped_type, stage_id, flow_state in self.statuses.get(
            (stream_id, status), ()
        ):
            if mapped_project not in (None, project) or mapped_type not in (None, raw_type):
                continue
            return stage_id, flow_state
        return None, None

    def map_type(self, raw_type: str | None, labels: list[str]) -> str | None:
        """Labels win over types (a ``security`` label makes any item a risk)."""
        for label in labels:
            if label in self.labels:
                return self.labels[label]
        if raw_type is not None:
            return self.types.get(raw_type)
        return None

    def team_id(self, team: str | None) -> int | None:
        return self.teams.get(team) if team else None

    def person_id(self, username: str | None) -> int | None:
        return self.identities.get(username) if username else None

    def is_production(self, environment: str) -> bool:
        return environment.lower() in self.production_environments

    def work_item_keys(self, *texts: str | None) -> list[str]:
        found: list[str] = []
        for text in texts:
            if text:
                for key in self.key_pattern.findall(text):
                    if isinstance(key, tuple):  # a pattern with groups: the whole match
                        key = next((part for part in key if part), "")
                    if key and key not in found:
                        found.append(key)
        return found
