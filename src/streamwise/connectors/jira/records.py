"""Jira payloads → neutral records.

An issue is stored as Jira returned it with ``expand=changelog`` (its changelog completed from
the changelog endpoint when it had more histories than fit in one response). One issue gives
the work item and one transition per status change or flag change in its histories.
"""

from collections.abc import Mapping
from typing import Any

from streamwise.connectors.base import (
    EntityKind,
    FieldError,
    ParseContext,
    Record,
    TransitionRecord,
    WorkItemRecord,
    parse_timestamp,
)

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


def parse_payload(
    entity_kind: str, payload: Mapping[str, Any], context: ParseContext
) -> Record | list[Record]:
    """The parser normalisation uses for Jira sources."""
    if entity_kind == EntityKind.WORK_ITEM:
        return parse_issue(payload, context)
    if entity_kind in REFERENCE_KINDS:
        return []  # kept for proposing mappings; nothing to put in the model
    raise KeyError(entity_kind)


REFERENCE_KINDS = ("status",)
