"""What every connector produces: raw payloads, and the neutral records parsed from them.

A connector stores each payload as a raw record first (``RawPayload``). Normalisation later
asks the connector's parser to turn a stored payload into one of the neutral records below,
then maps it into the common data model with the organisation's mappings. The records know
nothing of mappings, stages or databases.
"""

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time
from typing import Any, Protocol
from zoneinfo import ZoneInfo


class EntityKind:
    """Names of the kinds of raw record, in the order they must be normalised."""

    WORK_ITEM = "work_item"
    TRANSITION = "transition"
    COMMIT = "commit"
    PULL_REQUEST = "pull_request"
    REVIEW = "review"
    PIPELINE_RUN = "pipeline_run"
    DEPLOYMENT = "deployment"
    INCIDENT = "incident"
    RELEASE = "release"
    SPRINT = "sprint"
    ORDER = (
        WORK_ITEM,
        TRANSITION,
        COMMIT,
        PULL_REQUEST,
        REVIEW,
        PIPELINE_RUN,
        DEPLOYMENT,
        INCIDENT,
        RELEASE,
        SPRINT,
    )


class FieldError(ValueError):
    """A payload field that cannot be read; ``field`` names it for the error message."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class ParseContext:
    """What parsing needs beyond the payload: the zone for timestamps without an offset."""

    timezone: ZoneInfo = field(default_factory=lambda: ZoneInfo("UTC"))


def parse_timestamp(value: Any, column: str, context: ParseContext) -> datetime:
    """ISO 8601 date or date-time; without an offset it is read in the organisation's zone."""
    if isinstance(value, datetime):
        parsed = value
    elif isinstance(value, str):
        text = value.strip()
        try:
            if len(text) == 10:
                parsed = datetime.combine(date.fromisoformat(text), time())
            else:
                parsed = datetime.fromisoformat(text)
        except ValueError:
            raise FieldError(
                column, f"{value!r} is not an ISO 8601 timestamp (e.g. 2025-03-01T14:30:00Z)"
            ) from None
    else:
        raise FieldError(column, f"{value!r} is not an ISO 8601 timestamp")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=context.timezone)
    return parsed


@dataclass(frozen=True)
class RawPayload:
    """One payload as a tool gave it, ready to be stored as a raw record."""

    entity_kind: str
    external_id: str
    payload: dict[str, Any]


@dataclass(slots=True)
class WorkItemRecord:
    key: str
    created_at: datetime
    title: str = ""
    type: str | None = None
    status: str | None = None
    project: str | None = None
    updated_at: datetime | None = None
    parent: str | None = None
    team: str | None = None
    assignee: str | None = None
    labels: list[str] = field(default_factory=list)
    url: str | None = None

    @property
    def external_id(self) -> str:
        return self.key


@dataclass(slots=True)
class TransitionRecord:
    item: str
    at: datetime
    event: str = "status"
    from_status: str | None = None
    to_status: str | None = None
    actor: str | None = None
    id: str | None = None

    @property
    def external_id(self) -> str:
        if self.id:
            return self.id
        return f"{self.item}|{self.at.isoformat()}|{self.event}|{self.to_status or ''}"


@dataclass(slots=True)
class CommitRecord:
    repository: str
    sha: str
    authored_at: datetime
    committed_at: datetime
    author: str | None = None
    message: str = ""
    branch: str | None = None
    work_items: list[str] = field(default_factory=list)

    @property
    def external_id(self) -> str:
        return f"{self.repository}@{self.sha}"


@dataclass(slots=True)
class PullRequestRecord:
    repository: str
    number: int
    created_at: datetime
    title: str = ""
    body: str | None = None
    author: str | None = None
    state: str = "open"
    first_review_at: datetime | None = None
    approved_at: datetime | None = None
    merged_at: datetime | None = None
    closed_at: datetime | None = None
    merge_commit_sha: str | None = None
    base_branch: str | None = None
    head_branch: str | None = None
    url: str | None = None
    commits: list[str] = field(default_factory=list)
    work_items: list[str] = field(default_factory=list)

    @property
    def external_id(self) -> str:
        return f"{self.repository}#{self.number}"


@dataclass(slots=True)
class ReviewRecord:
    repository: str
    pull_request: int
    state: str
    submitted_at: datetime
    reviewer: str | None = None
    id: str | None = None

    @property
    def pull_request_external_id(self) -> str:
        return f"{self.repository}#{self.pull_request}"

    @property
    def external_id(self) -> str:
        if self.id:
            return self.id
        return (
            f"{self.pull_request_external_id}/{self.reviewer or ''}/{self.submitted_at.isoformat()}"
        )


@dataclass(slots=True)
class PipelineRunRecord:
    id: str
    name: str
    status: str
    started_at: datetime
    repository: str | None = None
    sha: str | None = None
    branch: str | None = None
    finished_at: datetime | None = None
    url: str | None = None

    @property
    def external_id(self) -> str:
        return self.id


@dataclass(slots=True)
class DeploymentRecord:
    id: str
    service: str
    environment: str
    status: str
    started_at: datetime
    production: bool | None = None
    version: str | None = None
    sha: str | None = None
    finished_at: datetime | None = None
    commits: list[str] = field(default_factory=list)
    commits_method: str = "explicit"
    """How ``commits`` was found, kept on each link for the trace: ``explicit`` (the tool
    lists them), ``compare_api`` (the tool's compare between the previous and this deployed
    sha) or ``git_range`` (the same range read from a local git repository)."""
    rollback_of: str | None = None
    url: str | None = None

    @property
    def external_id(self) -> str:
        return self.id


@dataclass(slots=True)
class IncidentRecord:
    id: str
    opened_at: datetime
    title: str = ""
    service: str | None = None
    severity: str | None = None
    acknowledged_at: datetime | None = None
    resolved_at: datetime | None = None
    caused_by: str | None = None
    url: str | None = None

    @property
    def external_id(self) -> str:
        return self.id


@dataclass(slots=True)
class ReleaseRecord:
    id: str
    name: str
    version: str | None = None
    value_stream: str | None = None
    planned_at: datetime | None = None
    released_at: datetime | None = None
    work_items: list[str] = field(default_factory=list)
    project: str | None = None
    """The tool's project the release belongs to (a Jira fix version's project): picks the
    value stream, like a work item's project, when ``value_stream`` is not given."""

    @property
    def external_id(self) -> str:
        return self.id


@dataclass(slots=True)
class SprintRecord:
    id: str
    name: str
    state: str
    """``future``, ``active`` or ``closed``."""
    board_key: str | None = None
    board: str | None = None
    project: str | None = None
    """The project of the sprint's board: picks the value stream as for work items."""
    goal: str | None = None
    start_at: datetime | None = None
    end_at: datetime | None = None
    completed_at: datetime | None = None
    work_items: list[str] = field(default_factory=list)

    @property
    def external_id(self) -> str:
        return self.id


Record = (
    WorkItemRecord
    | TransitionRecord
    | CommitRecord
    | PullRequestRecord
    | ReviewRecord
    | PipelineRunRecord
    | DeploymentRecord
    | IncidentRecord
    | ReleaseRecord
    | SprintRecord
)

PayloadParser = Callable[[str, Mapping[str, Any], ParseContext], Record | list[Record]]
"""(entity kind, stored payload, context) → neutral record(s); raises FieldError. A payload
may carry several records: a Jira issue fetched with its changelog gives the work item and
every transition."""


class Connector(Protocol):
    """The shape every tool connector has (the sync side arrives with the connectors issue)."""

    kind: str

    def parse(
        self, entity_kind: str, payload: Mapping[str, Any], context: ParseContext
    ) -> Record | list[Record]:
        """Turn a stored raw payload into a neutral record."""
        ...
