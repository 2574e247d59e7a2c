"""A subject's CDEvents → neutral records.

Tickets carry their workflow status in ``customData`` (CDEvents has no status field); the
schema we read is documented in docs/connectors.md:

    "customData": {"status": "In Progress", "project": "PAY", "type": "Story",
                   "blocked": false}

Deployments may name what they shipped and what they roll back:
``"customData": {"commits": ["<sha>", …], "sha": "<sha>", "rollbackOf": "<event id>"}``;
incidents the deployment that caused them: ``"customData": {"causedBy": "<event id>"}``.
"""

from collections.abc import Mapping
from typing import Any

from streamwise.connectors.base import (
    DeploymentRecord,
    FieldError,
    IncidentRecord,
    ParseContext,
    PipelineRunRecord,
    Record,
    TransitionRecord,
    WorkItemRecord,
)
from streamwise.connectors.cdevents.events import MAPPED, TYPE, moment

RUN_OUTCOMES = {"success": "success", "failure": "failed", "error": "failed", "cancel": "canceled"}


def _predicate(event: Mapping[str, Any]) -> str:
    match = TYPE.match(str(event["context"]["type"]))
    if match is None:
        raise FieldError("context.type", f"{event['context']['type']!r} is not a CDEvents type")
    return match.group(2)


def _content(event: Mapping[str, Any]) -> Mapping[str, Any]:
    content = event.get("subject", {}).get("content")
    return content if isinstance(content, Mapping) else {}


def _custom(event: Mapping[str, Any]) -> Mapping[str, Any]:
    custom = event.get("customData")
    return custom if isinstance(custom, Mapping) else {}


def _reference(value: Any) -> str | None:
    """A CDEvents reference (``{"id": …, "source": …}``) or a plain string → its id."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return str(value) if value not in (None, "") else None


def _ticket(events: list[Mapping[str, Any]]) -> list[Record]:
    first, last = events[0], events[-1]
    key = str(first["subject"]["id"])
    created = next((e for e in events if _predicate(e) == "created"), first)
    content: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for event in events:
        content.update(_content(event))
        custom.update(_custom(event))
    records: list[Record] = []
    status: str | None = None
    blocked = False
    for event in events:
        now = _custom(event).get("status")
        if now is None and _predicate(event) == "closed":
            now = "closed"
        if now is None and _predicate(event) == "created":
            now = "open"
        at = moment(event)
        if now is not None and now != status:
            if status is not None:
                records.append(
                    TransitionRecord(
                        item=key,
                        at=at,
                        from_status=status,
                        to_status=str(now),
                        actor=_reference(_content(event).get("updatedBy")),
                        id=f"{event['context']['id']}/status",
                    )
                )
            status = str(now)
        flag = _custom(event).get("blocked")
        if isinstance(flag, bool) and flag != blocked:
            records.append(
                TransitionRecord(
                    item=key,
                    at=at,
                    event="blocked" if flag else "unblocked",
                    id=f"{event['context']['id']}/flag",
                )
            )
            blocked = flag
    labels = content.get("labels") or []
    assignees = content.get("assignees") or []
    item = WorkItemRecord(
        key=key,
        created_at=moment(created),
        title=str(content.get("summary") or ""),
        type=str(custom.get("type") or content.get("ticketType") or "") or None,
        status=status,
        project=str(custom.get("project") or content.get("group") or "") or None,
        updated_at=moment(last),
        assignee=_reference(assignees[0]) if assignees else None,
        labels=[str(label) for label in labels],
        url=content.get("uri"),
    )
    return [item, *records]


def _pipeline_run(events: list[Mapping[str, Any]]) -> PipelineRunRecord:
    by_predicate = {_predicate(event): event for event in events}
    finished = by_predicate.get("finished")
    started = by_predicate.get("started") or by_predicate.get("queued") or events[0]
    content: dict[str, Any] = {}
    for event in events:
        content.update(_content(event))
    status = "running"
    if finished is not None:
        outcome = str(_content(finished).get("outcome") or "success")
        status = RUN_OUTCOMES.get(outcome, "failed")
    custom = _custom(events[-1])
    return PipelineRunRecord(
        id=str(events[0]["subject"]["id"]),
        name=str(content.get("pipelineName") or events[0]["subject"]["id"]),
        status=status,
        started_at=moment(started),
        repository=custom.get("repository"),
        sha=custom.get("sha"),
        branch=custom.get("branch"),
        finished_at=moment(finished) if finished is not None else None,
        url=content.get("url"),
    )


def _deployment(event: Mapping[str, Any]) -> DeploymentRecord:
    content, custom = _content(event), _custom(event)
    environment = _reference(content.get("environment"))
    if environment is None:
        raise FieldError("subject.content.environment", "a service event names its environment")
    predicate = _predicate(event)
    at = moment(event)
    rollback_of = custom.get("rollbackOf")
    if predicate == "rolledback" and rollback_of is None:
        rollback_of = ""
    commits = custom.get("commits") or []
    return DeploymentRecord(
        id=str(event["context"]["id"]),
        service=str(event["subject"]["id"]),
        environment=environment,
        status="success",
        started_at=at,
        version=content.get("artifactId"),
        sha=custom.get("sha"),
        finished_at=at,
        commits=[str(sha) for sha in commits],
        rollback_of=None if rollback_of is None else str(rollback_of),
    )


def _incident(events: list[Mapping[str, Any]]) -> IncidentRecord:
    opened = next((e for e in events if _predicate(e) in ("detected", "reported")), events[0])
    resolved = next((e for e in reversed(events) if _predicate(e) == "resolved"), None)
    content: dict[str, Any] = {}
    custom: dict[str, Any] = {}
    for event in events:
        content.update(_content(event))
        custom.update(_custom(event))
    return IncidentRecord(
        id=str(events[0]["subject"]["id"]),
        opened_at=moment(opened),
        title=str(content.get("description") or ""),
        service=_reference(content.get("service")),
        severity=custom.get("severity"),
        resolved_at=moment(resolved) if resolved is not None else None,
        caused_by=custom.get("causedBy"),
        url=content.get("ticketURI"),
    )


def parse_payload(
    entity_kind: str, payload: Mapping[str, Any], context: ParseContext
) -> Record | list[Record]:
    """A stored subject timeline (``{"subject", "events"}``) → its records."""
    events = payload.get("events")
    if not isinstance(events, list) or not events:
        raise FieldError("events", "the stored CDEvents timeline has no events")
    subject = payload.get("subject")
    mapped = [event for event in events if _predicate(event) in MAPPED.get(str(subject), ())]
    if not mapped:
        return []
    if subject == "ticket":
        return _ticket(mapped)
    if subject == "pipelinerun":
        return _pipeline_run(mapped)
    if subject == "service":
        return [_deployment(event) for event in mapped if _predicate(event) != "removed"]
    if subject == "incident":
        return _incident(mapped)
    return []
