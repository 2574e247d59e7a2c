"""``streamwise.yaml``: the organisation as code, validated with pydantic.

Errors name the file, the key path and what was expected, because people edit this file by
hand and need to find the line to fix.
"""

import re
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from streamwise.errors import ConfigError

FlowStateName = Literal["new", "waiting", "active", "done", "canceled"]
FlowItemTypeName = Literal["feature", "defect", "risk", "debt", "ignore"]
SourceKind = Literal["file", "jira", "github", "gitlab", "git", "pagerduty", "cdevents"]
DEFAULT_KEY_PATTERN = r"\b[A-Z][A-Z0-9]{1,9}-\d+\b"
DEFAULT_PRODUCTION_ENVIRONMENTS = ["production", "prod", "live"]
IncidentDeploymentRule = Literal["latest_production_before", "explicit_only"]
DEFAULT_INCIDENT_WINDOW_HOURS = 168.0


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class OrganisationConfig(Strict):
    name: str = "My organisation"
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"{value!r} is not a known IANA time zone (e.g. UTC, Europe/Berlin)"
            ) from None
        return value


class LinkingConfig(Strict):
    """How work item keys are found in commit messages, branch names and PR titles."""

    work_item_key_pattern: str = DEFAULT_KEY_PATTERN
    production_environments: list[str] = Field(
        default_factory=lambda: list(DEFAULT_PRODUCTION_ENVIRONMENTS)
    )
    incident_deployment_rule: IncidentDeploymentRule = "latest_production_before"
    """How an incident without an explicit cause is tied to a deployment: to the latest
    production deployment of its service finished before it opened, or not at all."""
    incident_deployment_within_hours: float | None = Field(
        default=DEFAULT_INCIDENT_WINDOW_HOURS, gt=0
    )
    """Only deployments finished this long before the incident are candidates (None: any)."""

    @field_validator("work_item_key_pattern")
    @classmethod
    def _compiles(cls, value: str) -> str:
        try:
            re.compile(value)
        except re.error as error:
            raise ValueError(f"{value!r} is not a valid regular expression: {error}") from None
        return value


class SourceConfig(Strict):
    name: str = Field(min_length=1)
    kind: SourceKind
    url: str | None = None
    token_env: str | None = Field(
        default=None, description="Name of the environment variable holding the token."
    )
    options: dict[str, Any] = Field(default_factory=dict)

    @field_validator("token_env")
    @classmethod
    def _looks_like_variable(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", value):
            raise ValueError(
                "must be the NAME of an environment variable (e.g. JIRA_TOKEN), never the secret"
            )
        return value


class TeamConfig(Strict):
    key: str = Field(min_length=1)
    name: str
    value_stream: str | None = None


class PersonConfig(Strict):
    name: str
    email: str | None = None
    team: str | None = None
    identities: dict[str, str] = Field(
        default_factory=dict, description="system (source name or kind) → username"
    )


class TypeMappingConfig(Strict):
    """Map a raw issue type, or a label, to a flow item type."""

    source: str | None = None
    type: str | None = None
    label: str | None = None
    flow_item_type: FlowItemTypeName


class StatusConfig(Strict):
    status: str
    flow_state: FlowStateName | None = None
    source: str | None = None
    project: str | None = None
    type: str | None = None


class StageConfig(Strict):
    name: str = Field(min_length=1)
    flow_state: FlowStateName
    value_adding: bool = False
    statuses: list[StatusConfig] = Field(default_factory=list)

    @field_validator("statuses", mode="before")
    @classmethod
    def _plain_names(cls, value: Any) -> Any:
        """Allow ``statuses: [Open, "In Progress"]`` as shorthand for ``{status: …}``."""
        if isinstance(value, list):
            return [{"status": item} if isinstance(item, str) else item for item in value]
        return value


class SelectionConfig(Strict):
    """Which work, code and delivery belong to a stream. Within a list any value matches;
    across lists all given lists must match. An empty selection matches nothing."""

    sources: list[str] = Field(default_factory=list)
    projects: list[str] = Field(default_factory=list)
    teams: list[str] = Field(default_factory=list)
    labels: list[str] = Field(default_factory=list)
    repositories: list[str] = Field(default_factory=list)
    services: list[str] = Field(default_factory=list)


class ValueStreamConfig(Strict):
    key: str = Field(min_length=1, pattern=r"^[a-z0-9][a-z0-9_-]*$")
    name: str
    description: str | None = None
    kind: Literal["core", "supporting"] = "core"
    owner: str | None = None
    parent: str | None = None
    select: SelectionConfig = Field(default_factory=SelectionConfig)
    stages: list[StageConfig] = Field(default_factory=list)


class OrgConfig(Strict):
    """The whole of streamwise.yaml."""

    organisation: OrganisationConfig = Field(default_factory=OrganisationConfig)
    linking: LinkingConfig = Field(default_factory=LinkingConfig)
    sources: list[SourceConfig] = Field(default_factory=list)
    teams: list[TeamConfig] = Field(default_factory=list)
    people: list[PersonConfig] = Field(default_factory=list)
    type_mappings: list[TypeMappingConfig] = Field(default_factory=list)
    value_streams: list[ValueStreamConfig] = Field(default_factory=list)


def _path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(top level)"


def _describe(error: dict[str, Any], model_fields: list[str] | None = None) -> str:
    kind = error["type"]
    value = error.get("input")
    if kind in ("literal_error", "enum"):
        expected = str(error.get("ctx", {}).get("expected", ""))
        expected = expected.replace("'", "").replace(" or ", ", ")
        return f"{value!r} is not one of {expected}"
    if kind == "missing":
        return "is required but missing"
    if kind == "extra_forbidden":
        allowed = f"; allowed keys: {', '.join(model_fields)}" if model_fields else ""
        return f"is not a known key{allowed}"
    if kind == "value_error":
        return str(error.get("ctx", {}).get("error", error["msg"]))
    if kind == "string_pattern_mismatch":
        return f"{value!r} must be lower-case letters, digits, '-' or '_'"
    return f"{error['msg'].lower()} (got {value!r})"


def _fields_at(loc: tuple[int | str, ...]) -> list[str] | None:
    """The allowed keys of the object holding the offending key, for 'unknown key' errors."""
    model: Any = OrgConfig
    for part in loc[:-1]:
        if isinstance(part, int):
            continue
        field = getattr(model, "model_fields", {}).get(part)
        if field is None:
            return None
        annotation = field.annotation
        candidates = [annotation, *getattr(annotation, "__args__", ())]
        for candidate in candidates:
            for inner in [candidate, *getattr(candidate, "__args__", ())]:
                if isinstance(inner, type) and issubclass(inner, BaseModel):
                    model = inner
                    break
    return list(getattr(model, "model_fields", {}))


def _check_references(config: OrgConfig) -> list[str]:
    """Cross-references pydantic cannot see: unique names and keys that point somewhere."""
    problems: list[str] = []
    source_names = [s.name for s in config.sources]
    stream_keys = [v.key for v in config.value_streams]
    team_keys = [t.key for t in config.teams]
    for label, names, path in (
        ("source name", source_names, "sources[{i}].name"),
        ("value stream key", stream_keys, "value_streams[{i}].key"),
        ("team key", team_keys, "teams[{i}].key"),
    ):
        seen: set[str] = set()
        for i, name in enumerate(names):
            if name in seen:
                problems.append(f"{path.format(i=i)}: duplicate {label} {name!r}")
            seen.add(name)
    for i, team in enumerate(config.teams):
        if team.value_stream and team.value_stream not in stream_keys:
            problems.append(
                f"teams[{i}].value_stream: {team.value_stream!r} is not a value stream key "
                f"(known: {', '.join(stream_keys) or 'none'})"
            )
    for i, person in enumerate(config.people):
        if person.team and person.team not in team_keys:
            problems.append(f"people[{i}].team: {person.team!r} is not a team key")
    for i, mapping in enumerate(config.type_mappings):
        if (mapping.type is None) == (mapping.label is None):
            problems.append(f"type_mappings[{i}]: give exactly one of 'type' or 'label'")
        if mapping.source and mapping.source not in source_names:
            problems.append(f"type_mappings[{i}].source: {mapping.source!r} is not a source name")
    for i, stream in enumerate(config.value_streams):
        if stream.parent and stream.parent not in stream_keys:
            problems.append(
                f"value_streams[{i}].parent: {stream.parent!r} is not a value stream key"
            )
        if stream.parent == stream.key:
            problems.append(f"value_streams[{i}].parent: a value stream cannot be its own parent")
        for j, source in enumerate(stream.select.sources):
            if source not in source_names:
                problems.append(
                    f"value_streams[{i}].select.sources[{j}]: {source!r} is not a source name"
                )
        for j, team_key in enumerate(stream.select.teams):
            if team_key not in team_keys:
                problems.append(
                    f"value_streams[{i}].select.teams[{j}]: {team_key!r} is not a team key"
                )
        stage_names: set[str] = set()
        mapped: dict[tuple[str | None, str, str | None, str | None], str] = {}
        for j, stage in enumerate(stream.stages):
            if stage.name in stage_names:
                problems.append(
                    f"value_streams[{i}].stages[{j}].name: duplicate stage name {stage.name!r}"
                )
            stage_names.add(stage.name)
            for k, status in enumerate(stage.statuses):
                where = f"value_streams[{i}].stages[{j}].statuses[{k}]"
                if status.source and status.source not in source_names:
                    problems.append(f"{where}.source: {status.source!r} is not a source name")
                key = (status.source, status.status, status.project, status.type)
                if key in mapped:
                    problems.append(
                        f"{where}: status {status.status!r} is already mapped to stage "
                        f"{mapped[key]!r} in this value stream"
                    )
                mapped[key] = stage.name
    return problems


def parse_config(text: str, filename: str = "streamwise.yaml") -> OrgConfig:
    """Parse and validate YAML text; raise ConfigError naming file, key path and expectation."""
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as error:
        mark = getattr(error, "problem_mark", None)
        where = f":{mark.line + 1}:{mark.column + 1}" if mark is not None else ""
        problem = getattr(error, "problem", None) or str(error)
        raise ConfigError(f"{filename}{where}: not valid YAML: {problem}") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(
            f"{filename}: expected a mapping of keys (organisation, sources, value_streams, …) "
            f"at the top level, got {type(data).__name__}"
        )
    try:
        config = OrgConfig.model_validate(data)
    except ValidationError as error:
        lines = []
        for item in error.errors():
            loc = tuple(item["loc"])
            fields = _fields_at(loc) if item["type"] == "extra_forbidden" else None
            lines.append(f"{filename}: {_path(loc)}: {_describe(dict(item), fields)}")
        raise ConfigError("\n".join(lines)) from None
    problems = _check_references(config)
    if problems:
        raise ConfigError("\n".join(f"{filename}: {problem}" for problem in problems))
    return config


def load_config(path: Path) -> OrgConfig:
    """Read and validate the organisation file at ``path``."""
    if not path.exists():
        raise ConfigError(
            f"{path}: no such file. Create one with `streamwise init`, or point --config "
            "(or STREAMWISE_CONFIG) at your streamwise.yaml."
        )
    if path.is_dir():
        raise ConfigError(f"{path}: is a directory; expected a streamwise.yaml file")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read: {error}") from None
    return parse_config(text, str(path))
