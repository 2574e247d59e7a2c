"""Jira payloads → neutral records.

An issue is stored as Jira returned it with ``expand=changelog`` (its changelog completed from
the changelog endpoint when it had more histories than fit in one response). One issue gives
the work item and one transition per status change or flag change in its histories.

A fix version and a sprint are stored as Jira listed them plus what the sync read around them,
under keys Jira never uses (``streamwise_…``): the keys of their issues, the version's project
and the sprint's board. A fix version becomes a release, a sprint a sprint; statuses and
projects are kept as reference data only.
"""

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from streamwise.connectors.base import (
    EntityKind,
    FieldError,
    ParseContext,
    Record,
    ReleaseRecord,
    SprintRecord,
    TransitionRecord,
    WorkItemRecord,
    parse_timestamp,
)

ISSUE_KEYS_KEY = "streamwise_issue_keys"
"""Added to a stored fix version or sprint: the keys of its issues when it was synced."""
PROJECT_KEY_KEY = "streamwise_project_key"
"""Added to a stored fix version: the key of its project."""
BOARD_KEY = "streamwise_board"
"""Added to a stored sprint: its board as Jira lists boards (id, name, type, location)."""
SPRINT_STATES = ("future", "active", "closed")

FLAG_FIELDS = {"flagged", "impediment"}
"""Changelog fields that mark an issue blocked (Jira's "Flagged" field holds "Impediment")."""


def _name(value: Any, *keys: str) -> str | None:
    """The first present key of a nested object (``{"name": …}``), or None."""
    if not isinstance(value, Mapping):
        return None
    for key in keys:
        found = value.get(key)
        if found not in (None, ""):
            return str(found)
    return None


def _browse_url(issue: Mapping[str, Any]) -> str | None:
    self_url = issue.get("self")
    if not isinstance(self_url, str) or "/rest/" not in self_url:
        return None
    return f"{self_url.split('/rest/', 1)[0]}/browse/{issue.get('key')}"


def parse_issue(issue: Mapping[str, Any], context: ParseContext) -> list[Record]:
    key = issue.get("key")
    if not isinstance(key, str) or not key:
        raise FieldError("key", "the issue has no key")
    fields = issue.get("fields")
    if not isinstance(fields, Mapping):
        raise FieldError("fields", f"issue {key} has no fields object")
    if not fields.get("created"):
        raise FieldError("fields.created", f"issue {key} has no creation time")
    labels = fields.get("labels") or []
    item = WorkItemRecord(
        key=key,
        created_at=parse_timestamp(fields["created"], "fields.created", context),
        title=str(fields.get("summary") or ""),
        type=_name(fields.get("issuetype"), "name"),
        status=_name(fields.get("status"), "name"),
        project=_name(fields.get("project"), "key"),
        updated_at=(
            parse_timestamp(fields["updated"], "fields.updated", context)
            if fields.get("updated")
            else None
        ),
        parent=_name(fields.get("parent"), "key"),
        assignee=_name(fields.get("assignee"), "displayName", "name", "accountId"),
        labels=[str(label) for label in labels if isinstance(label, str)],
        url=_browse_url(issue),
    )
    records: list[Record] = [item]
    changelog = issue.get("changelog") or {}
    histories = changelog.get("histories") if isinstance(changelog, Mapping) else None
    for history in histories or []:
        records.extend(_transitions(key, history, context))
    return records


def _transitions(
    key: str, history: Mapping[str, Any], context: ParseContext
) -> list[TransitionRecord]:
    if not history.get("created"):
        raise FieldError("changelog.histories.created", f"a history of {key} has no time")
    at = parse_timestamp(history["created"], "changelog.histories.created", context)
    actor = _name(history.get("author"), "displayName", "name", "accountId")
    found: list[TransitionRecord] = []
    for index, change in enumerate(history.get("items") or []):
        field_name = str(change.get("field") or "").lower()
        record_id = f"{key}/{history.get('id')}/{index}"
        if field_name == "status":
            found.append(
                TransitionRecord(
                    item=key,
                    at=at,
                    event="status",
                    from_status=change.get("fromString"),
                    to_status=change.get("toString"),
                    actor=actor,
                    id=record_id,
                )
            )
        elif field_name in FLAG_FIELDS:
            flagged = bool(change.get("toString"))
            found.append(
                TransitionRecord(
                    item=key,
                    at=at,
                    event="blocked" if flagged else "unblocked",
                    actor=actor,
                    id=record_id,
                )
            )
    return found


def _issue_keys(payload: Mapping[str, Any], what: str) -> list[str]:
    keys = payload.get(ISSUE_KEYS_KEY) or []
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise FieldError(ISSUE_KEYS_KEY, f"{what}: the issue keys are not a list of strings")
    return keys


def parse_version(version: Mapping[str, Any], context: ParseContext) -> ReleaseRecord:
    """A fix version as a release. Jira keeps one date, ``releaseDate``: the day it shipped
    once the version is released, the day it is planned for until then. A date is read as
    the start of that day in the organisation's time zone."""
    version_id = version.get("id")
    if version_id in (None, ""):
        raise FieldError("id", f"a fix version ({version.get('name')!r}) has no id")
    name = version.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FieldError("name", f"fix version {version_id} has no name")
    day = version.get("releaseDate")
    moment = parse_timestamp(day, "releaseDate", context) if day else None
    released = version.get("released") is True
    project = version.get(PROJECT_KEY_KEY)
    return ReleaseRecord(
        id=str(version_id),
        name=name,
        version=name,
        planned_at=None if released else moment,
        released_at=moment if released else None,
        work_items=_issue_keys(version, f"fix version {version_id}"),
        project=str(project) if project else None,
    )


def parse_sprint(sprint: Mapping[str, Any], context: ParseContext) -> SprintRecord:
    """A sprint. A sprint that has started (active or closed) must say when it started;
    a closed one says when it was completed, a future one may have no dates at all."""
    sprint_id = sprint.get("id")
    if sprint_id in (None, ""):
        raise FieldError("id", f"a sprint ({sprint.get('name')!r}) has no id")
    name = sprint.get("name")
    if not isinstance(name, str) or not name.strip():
        raise FieldError("name", f"sprint {sprint_id} has no name")
    state = str(sprint.get("state") or "").lower()
    if state not in SPRINT_STATES:
        raise FieldError(
            "state",
            f"sprint {sprint_id}: {sprint.get('state')!r} is not one of future, active, closed",
        )
    if state != "future" and not sprint.get("startDate"):
        raise FieldError("startDate", f"sprint {sprint_id} is {state} but has no start date")

    def moment(field_name: str) -> datetime | None:
        value = sprint.get(field_name)
        return parse_timestamp(value, field_name, context) if value else None

    board = sprint.get(BOARD_KEY)
    board_id = _name(board, "id") or (
        str(sprint["originBoardId"]) if sprint.get("originBoardId") is not None else None
    )
    location = board.get("location") if isinstance(board, Mapping) else None
    goal = sprint.get("goal")
    return SprintRecord(
        id=str(sprint_id),
        name=name,
        state=state,
        board_key=board_id,
        board=_name(board, "name"),
        project=_name(location, "projectKey"),
        goal=goal if isinstance(goal, str) and goal.strip() else None,
        start_at=moment("startDate"),
        end_at=moment("endDate"),
        completed_at=moment("completeDate"),
        work_items=_issue_keys(sprint, f"sprint {sprint_id}"),
    )


def parse_payload(
    entity_kind: str, payload: Mapping[str, Any], context: ParseContext
) -> Record | list[Record]:
    """The parser normalisation uses for Jira sources."""
    if entity_kind == EntityKind.WORK_ITEM:
        return parse_issue(payload, context)
    if entity_kind == EntityKind.RELEASE:
        return parse_version(payload, context)
    if entity_kind == EntityKind.SPRINT:
        return parse_sprint(payload, context)
    if entity_kind in REFERENCE_KINDS:
        return []  # kept for proposing mappings and counting; nothing to put in the model
    raise KeyError(entity_kind)


REFERENCE_KINDS = ("status", "project")
