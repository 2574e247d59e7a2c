"""PagerDuty payloads → neutral records.

The connector stores what PagerDuty returned inside a small envelope, so that parsing a stored
payload needs nothing but the payload:

- ``service``: ``{"service": {…}}`` — reference data. It becomes no model row (the model has
  no service table); the connector reads it to name the services of incidents.
- ``incident``: ``{"incident": {…}, "log_entries": [{…}, …], "streamwise_service": "name"}``
  → one incident. ``log_entries`` are the incident's log entries as listed by
  ``/incidents/{id}/log_entries``; ``streamwise_service`` is the Streamwise service the
  connector mapped the PagerDuty service to (``options.service_names``), or null.

Times come from the log entries, because the incident object only tells its current state:
opened = the incident's ``created_at`` (when it was triggered), acknowledged = the first
``acknowledge_log_entry`` (a later re-acknowledgement does not move it), resolved = the last
``resolve_log_entry``. Severity is the priority's name where the account uses priorities,
else the urgency (``high`` / ``low``). PagerDuty knows nothing of deployments, so
``caused_by`` stays empty; Streamwise links the incident to a deployment by its own rule.
"""

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from streamwise.connectors.base import (
    EntityKind,
    FieldError,
    IncidentRecord,
    ParseContext,
    Record,
    parse_timestamp,
)
from streamwise.connectors.values import text_or_none

SERVICE = "service"
"""Entity kind of stored PagerDuty services (reference data, no model row)."""
INCIDENT_KEY = "incident"
LOG_ENTRIES_KEY = "log_entries"
SERVICE_NAME_KEY = "streamwise_service"
ACKNOWLEDGE_ENTRY = "acknowledge_log_entry"
RESOLVE_ENTRY = "resolve_log_entry"
RESOLVED = "resolved"


def _entry_type(entry: Mapping[str, Any]) -> str:
    """A log entry's type; references (``…_log_entry_reference``) count as the entry."""
    return str(entry.get("type") or "").removesuffix("_reference")


def _entries(payload: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    value = payload.get(LOG_ENTRIES_KEY)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(LOG_ENTRIES_KEY, f"{LOG_ENTRIES_KEY} is not a list")
    return [entry for entry in value if isinstance(entry, Mapping)]


def _entry_times(
    entries: Sequence[Mapping[str, Any]], kind: str, context: ParseContext
) -> list[datetime]:
    """When each log entry of ``kind`` happened; an entry without a readable time is an
    error, since leaving it out would report a wrong acknowledge or resolve time."""
    found = []
    for entry in entries:
        if _entry_type(entry) != kind:
            continue
        value = entry.get("created_at")
        field_name = f"{LOG_ENTRIES_KEY}.created_at"
        if value in (None, ""):
            raise FieldError(field_name, f"{kind} {entry.get('id')!r} has no created_at")
        found.append(parse_timestamp(value, field_name, context))
    return found


def acknowledged_at(
    incident: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], context: ParseContext
) -> datetime | None:
    """The first acknowledgement: from the log entries, else from the incident's current
    ``acknowledgements`` (an incident stored without its log entries)."""
    times = _entry_times(entries, ACKNOWLEDGE_ENTRY, context)
    if not times:
        current = incident.get("acknowledgements")
        for acknowledgement in current if isinstance(current, list) else []:
            if isinstance(acknowledgement, Mapping) and acknowledgement.get("at"):
                field_name = "incident.acknowledgements.at"
                times.append(parse_timestamp(acknowledgement["at"], field_name, context))
    return min(times) if times else None


def resolved_at(
    incident: Mapping[str, Any], entries: Sequence[Mapping[str, Any]], context: ParseContext
) -> datetime | None:
    """When a resolved incident was resolved (None while it is open): the last resolve log
    entry, else the incident's own ``resolved_at`` or ``last_status_change_at``."""
    if str(incident.get("status") or "").lower() != RESOLVED:
        return None
    times = _entry_times(entries, RESOLVE_ENTRY, context)
    if times:
        return max(times)
    for key in ("resolved_at", "last_status_change_at"):
        if incident.get(key):
            return parse_timestamp(incident[key], f"incident.{key}", context)
    raise FieldError(
        LOG_ENTRIES_KEY,
        "the incident is resolved but neither a resolve_log_entry nor the incident tells when",
    )


def severity_of(incident: Mapping[str, Any]) -> str | None:
    """The priority's name (``P1``) where the account has priorities, else the urgency."""
    priority = incident.get("priority")
    if isinstance(priority, Mapping):
        name = text_or_none(priority.get("name")) or text_or_none(priority.get("summary"))
        if name:
            return name
    return text_or_none(incident.get("urgency"))


def parse_incident(payload: Mapping[str, Any], context: ParseContext) -> IncidentRecord:
    incident = payload.get(INCIDENT_KEY)
    if not isinstance(incident, Mapping):
        raise FieldError(INCIDENT_KEY, "the payload holds no incident object")
    identifier = text_or_none(incident.get("id"))
    if identifier is None:
        raise FieldError("incident.id", f"incident.id is {incident.get('id')!r}, not an id")
    created = incident.get("created_at")
    if created in (None, ""):
        raise FieldError("incident.created_at", "incident.created_at is missing")
    entries = _entries(payload)
    return IncidentRecord(
        id=identifier,
        opened_at=parse_timestamp(created, "incident.created_at", context),
        title=text_or_none(incident.get("title")) or text_or_none(incident.get("summary")) or "",
        service=text_or_none(payload.get(SERVICE_NAME_KEY)),
        severity=severity_of(incident),
        acknowledged_at=acknowledged_at(incident, entries, context),
        resolved_at=resolved_at(incident, entries, context),
        caused_by=None,
        url=text_or_none(incident.get("html_url")),
    )


def parse_payload(
    entity_kind: str, payload: Mapping[str, Any], context: ParseContext
) -> Record | list[Record]:
    """The parser normalisation uses for PagerDuty sources."""
    if entity_kind == EntityKind.INCIDENT:
        return parse_incident(payload, context)
    if entity_kind == SERVICE:
        return []
    raise KeyError(entity_kind)
