"""The import format: columns per kind of file, and parsing one row into a neutral record.

The same parser validates rows before anything is written and re-reads stored raw rows
during renormalisation, so what passed the import always normalises the same way.
See docs/import.md for the format as users read it.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from streamwise.connectors.base import (
    CommitRecord,
    DeploymentRecord,
    EntityKind,
    FieldError,
    IncidentRecord,
    ParseContext,
    PipelineRunRecord,
    PullRequestRecord,
    Record,
    ReleaseRecord,
    ReviewRecord,
    TransitionRecord,
    WorkItemRecord,
    parse_timestamp,
)

ColumnKind = Literal["text", "timestamp", "int", "bool", "list"]


@dataclass(frozen=True)
class Column:
    name: str
    kind: ColumnKind = "text"
    required: bool = False
    choices: tuple[str, ...] | None = None


@dataclass(frozen=True)
class FileKind:
    """One kind of import file: its entity kind, columns, record class and time-order rules."""

    name: str
    entity_kind: str
    record: type[Any]
    columns: tuple[Column, ...]
    ordered: tuple[tuple[str, str], ...] = ()  # (earlier column, later column)

    @property
    def column_names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


TS: ColumnKind = "timestamp"
PR_STATES = ("open", "merged", "closed")
REVIEW_STATES = ("approved", "changes_requested", "commented", "dismissed")
RUN_STATUSES = ("success", "failed", "canceled", "running")
DEPLOY_STATUSES = ("success", "failed", "rolled_back", "canceled", "running")
TRANSITION_EVENTS = ("status", "blocked", "unblocked")

FILE_KINDS: dict[str, FileKind] = {
    kind.name: kind
    for kind in (
        FileKind(
            "work_items",
            EntityKind.WORK_ITEM,
            WorkItemRecord,
            (
                Column("key", required=True),
                Column("title"),
                Column("type"),
                Column("status"),
                Column("project"),
                Column("created_at", TS, required=True),
                Column("updated_at", TS),
                Column("parent"),
                Column("team"),
                Column("assignee"),
                Column("labels", "list"),
                Column("url"),
            ),
            (("created_at", "updated_at"),),
        ),
        FileKind(
            "transitions",
            EntityKind.TRANSITION,
            TransitionRecord,
            (
                Column("item", required=True),
                Column("at", TS, required=True),
                Column("event", choices=TRANSITION_EVENTS),
                Column("from_status"),
                Column("to_status"),
                Column("actor"),
                Column("id"),
            ),
        ),
        FileKind(
            "commits",
            EntityKind.COMMIT,
            CommitRecord,
            (
                Column("repository", required=True),
                Column("sha", required=True),
                Column("author"),
                Column("authored_at", TS, required=True),
                Column("committed_at", TS, required=True),
                Column("message"),
                Column("branch"),
                Column("work_items", "list"),
            ),
            (("authored_at", "committed_at"),),
        ),
        FileKind(
            "pull_requests",
            EntityKind.PULL_REQUEST,
            PullRequestRecord,
            (
                Column("repository", required=True),
                Column("number", "int", required=True),
                Column("title"),
                Column("body"),
                Column("author"),
                Column("state", choices=PR_STATES),
                Column("created_at", TS, required=True),
                Column("first_review_at", TS),
                Column("approved_at", TS),
                Column("merged_at", TS),
                Column("closed_at", TS),
                Column("merge_commit_sha"),
                Column("base_branch"),
                Column("head_branch"),
                Column("url"),
                Column("commits", "list"),
                Column("work_items", "list"),
            ),
            (
                ("created_at", "first_review_at"),
                ("created_at", "approved_at"),
                ("created_at", "merged_at"),
                ("created_at", "closed_at"),
            ),
        ),
        FileKind(
            "reviews",
            EntityKind.REVIEW,
            ReviewRecord,
            (
                Column("repository", required=True),
                Column("pull_request", "int", required=True),
                Column("reviewer"),
                Column("state", required=True, choices=REVIEW_STATES),
                Column("submitted_at", TS, required=True),
                Column("id"),
            ),
        ),
        FileKind(
            "pipeline_runs",
            EntityKind.PIPELINE_RUN,
            PipelineRunRecord,
            (
                Column("id", required=True),
                Column("name", required=True),
                Column("repository"),
                Column("sha"),
                Column("branch"),
                Column("status", required=True, choices=RUN_STATUSES),
                Column("started_at", TS, required=True),
                Column("finished_at", TS),
                Column("url"),
            ),
            (("started_at", "finished_at"),),
        ),
        FileKind(
            "deployments",
            EntityKind.DEPLOYMENT,
            DeploymentRecord,
            (
                Column("id", required=True),
                Column("service", required=True),
                Column("environment", required=True),
                Column("production", "bool"),
                Column("version"),
                Column("sha"),
                Column("status", required=True, choices=DEPLOY_STATUSES),
                Column("started_at", TS, required=True),
                Column("finished_at", TS),
                Column("commits", "list"),
                Column("rollback_of"),
                Column("url"),
            ),
            (("started_at", "finished_at"),),
        ),
        FileKind(
            "incidents",
            EntityKind.INCIDENT,
            IncidentRecord,
            (
                Column("id", required=True),
                Column("title"),
                Column("service"),
                Column("severity"),
                Column("opened_at", TS, required=True),
                Column("acknowledged_at", TS),
                Column("resolved_at", TS),
                Column("caused_by"),
                Column("url"),
            ),
            (("opened_at", "acknowledged_at"), ("opened_at", "resolved_at")),
        ),
        FileKind(
            "releases",
            EntityKind.RELEASE,
            ReleaseRecord,
            (
                Column("id", required=True),
                Column("name", required=True),
                Column("version"),
                Column("value_stream"),
                Column("planned_at", TS),
                Column("released_at", TS),
                Column("work_items", "list"),
            ),
        ),
    )
}

BY_ENTITY_KIND: dict[str, FileKind] = {kind.entity_kind: kind for kind in FILE_KINDS.values()}
TRUE_WORDS = {"true", "yes", "y", "1"}
FALSE_WORDS = {"false", "no", "n", "0"}


def _convert(column: Column, value: Any, context: ParseContext) -> Any:
    if column.kind == "timestamp":
        return parse_timestamp(value, column.name, context)
    if column.kind == "int":
        if isinstance(value, bool):
            raise FieldError(column.name, f"{value!r} is not a whole number")
        if isinstance(value, int):
            return value
        try:
            return int(str(value).strip())
        except ValueError:
            raise FieldError(column.name, f"{value!r} is not a whole number") from None
    if column.kind == "bool":
        if isinstance(value, bool):
            return value
        word = str(value).strip().lower()
        if word in TRUE_WORDS:
            return True
        if word in FALSE_WORDS:
            return False
        raise FieldError(column.name, f"{value!r} is not true or false")
    if column.kind == "list":
        if isinstance(value, list):
            items = [str(item).strip() for item in value]
        elif isinstance(value, str):
            items = [item.strip() for item in value.split(";")]
        else:
            raise FieldError(column.name, f"{value!r} is not a list (use ';' between values)")
        return [item for item in items if item]
    text = value if isinstance(value, str) else str(value)
    if column.choices is not None and text not in column.choices:
        raise FieldError(column.name, f"{text!r} is not one of {', '.join(column.choices)}")
    return text


def parse_row(file_kind: FileKind, row: Mapping[str, Any], context: ParseContext) -> Record:
    """Validate one row (CSV strings or JSON values) and build its neutral record."""
    values: dict[str, Any] = {}
    for column in file_kind.columns:
        value = row.get(column.name)
        if value is None or (isinstance(value, str) and value.strip() == ""):
            if column.required:
                raise FieldError(column.name, "is required but empty")
            continue
        values[column.name] = _convert(column, value, context)
    for earlier, later in file_kind.ordered:
        start, end = values.get(earlier), values.get(later)
        if start is not None and end is not None and end < start:
            raise FieldError(later, f"{end.isoformat()} is before {earlier} {start.isoformat()}")
    record: Record = file_kind.record(**values)
    return record


def parse_payload(entity_kind: str, payload: Mapping[str, Any], context: ParseContext) -> Record:
    """Parse a stored raw payload of the file connector (used by renormalisation)."""
    return parse_row(BY_ENTITY_KIND[entity_kind], payload, context)


def file_kind_for(name: str) -> FileKind | None:
    """The file kind a file name stands for: ``work_items.csv``, ``2024-deployments.json`` …"""
    stem = name.lower().rsplit("/", 1)[-1].split(".", 1)[0].replace("-", "_")
    if stem in FILE_KINDS:
        return FILE_KINDS[stem]
    for kind_name in sorted(FILE_KINDS, key=len, reverse=True):
        if stem.endswith(kind_name):
            return FILE_KINDS[kind_name]
    return None
