"""Reading a CloudEvents 1.0 HTTP request that carries a CDEvent, and keeping a subject's
events together.

Binary mode: ``ce-*`` headers carry the attributes and the body is the CDEvent. Structured
mode: ``Content-Type: application/cloudevents+json`` and the body is the CloudEvent with the
CDEvent in ``data``. A CDEvent's type is ``dev.cdevents.<subject>.<predicate>.<version>``;
we accept any version of the subjects and predicates we know (the fields we read have kept
their names from spec 0.3 to 0.5).

Several events describe one thing (a pipeline run is queued, started, finished; an incident
is detected, then resolved), so what is stored raw per subject is the list of its events,
each exactly as received; a redelivered event (same id) changes nothing.
"""

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

TYPE = re.compile(r"^dev\.cdevents\.([a-z]+)\.([a-z]+)\.(\d+\.\d+\.\d+(?:-[\w.]+)?)$")

MAPPED: dict[str, tuple[str, ...]] = {
    "ticket": ("created", "updated", "closed"),
    "pipelinerun": ("queued", "started", "finished"),
    "service": ("deployed", "upgraded", "rolledback", "removed", "published"),
    "incident": ("detected", "reported", "resolved"),
}
"""Subjects and predicates that become model rows; other valid CDEvents are kept raw only."""


class EventError(ValueError):
    """The request is not a CDEvent we can read; the message says what is wrong."""


@dataclass(frozen=True)
class CDEvent:
    id: str
    subject: str  # ticket, pipelinerun, service, incident, …
    predicate: str
    version: str
    subject_id: str
    body: dict[str, Any]  # the CDEvent as received

    @property
    def mapped(self) -> bool:
        return self.predicate in MAPPED.get(self.subject, ())


def _json(body: bytes, what: str) -> Any:
    try:
        return json.loads(body)
    except (UnicodeDecodeError, ValueError) as error:
        raise EventError(f"the {what} is not JSON: {error}") from None


def read_request(headers: Mapping[str, str], body: bytes) -> CDEvent:
    """A CloudEvents HTTP request (either mode) → the CDEvent it carries."""
    content_type = headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type == "application/cloudevents+json":
        envelope = _json(body, "structured CloudEvent")
        if not isinstance(envelope, dict):
            raise EventError("a structured CloudEvent must be a JSON object")
        if envelope.get("specversion") != "1.0":
            raise EventError(f"specversion {envelope.get('specversion')!r}: only 1.0 is read")
        event, ce_type = envelope.get("data"), envelope.get("type")
    elif "ce-specversion" in headers:
        if headers["ce-specversion"] != "1.0":
            raise EventError(f"ce-specversion {headers['ce-specversion']!r}: only 1.0 is read")
        event, ce_type = _json(body, "body"), headers.get("ce-type")
    else:
        raise EventError(
            "not a CloudEvent: send ce-* headers (binary mode) or Content-Type "
            "application/cloudevents+json (structured mode)"
        )
    return parse_cdevent(event, ce_type)


def parse_cdevent(event: Any, ce_type: str | None = None) -> CDEvent:
    if not isinstance(event, dict):
        raise EventError("the CDEvent must be a JSON object with context and subject")
    context, subject = event.get("context"), event.get("subject")
    if not isinstance(context, dict) or not isinstance(subject, dict):
        raise EventError("the CDEvent needs a 'context' object and a 'subject' object")
    for name in ("id", "type", "timestamp"):
        if not isinstance(context.get(name), str) or not context[name]:
            raise EventError(f"context.{name} is missing")
    match = TYPE.match(context["type"])
    if match is None:
        raise EventError(
            f"context.type {context['type']!r} is not dev.cdevents.<subject>.<predicate>.<version>"
        )
    if ce_type is not None and ce_type != context["type"]:
        raise EventError(f"the CloudEvent type {ce_type!r} differs from context.type")
    if not isinstance(subject.get("id"), str) or not subject["id"]:
        raise EventError("subject.id is missing")
    try:
        moment(event)
    except ValueError:
        raise EventError(
            f"context.timestamp {context['timestamp']!r} is not an RFC 3339 time"
        ) from None
    return CDEvent(
        id=context["id"],
        subject=match.group(1),
        predicate=match.group(2),
        version=match.group(3),
        subject_id=subject["id"],
        body=event,
    )


def moment(event: Mapping[str, Any]) -> datetime:
    """An event's context timestamp as an aware datetime (UTC when it carries no offset)."""
    parsed = datetime.fromisoformat(str(event["context"]["timestamp"]))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def timeline_key(event: CDEvent) -> str:
    """The raw record an event belongs to: its subject, or itself for one-event subjects."""
    if event.subject == "service":
        return f"service/{event.id}"  # every deployment is its own event
    return f"{event.subject}/{event.subject_id}"


def merged(stored: Mapping[str, Any] | None, event: CDEvent) -> dict[str, Any]:
    """The subject's stored event list with ``event`` added (once), in time order."""
    events = list((stored or {}).get("events", []))
    if all(known.get("context", {}).get("id") != event.id for known in events):
        events.append(event.body)
    events.sort(key=lambda known: (moment(known), known["context"]["id"]))
    return {"subject": event.subject, "events": events}
