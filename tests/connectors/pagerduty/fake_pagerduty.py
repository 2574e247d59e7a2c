"""A PagerDuty REST API v2 stand-in on 127.0.0.1, with faults the tests switch on.

Nothing here was recorded. The services, priorities, incidents and log entries are made up
by hand, in the shape PagerDuty documents for ``/services``, ``/priorities``, ``/incidents``,
``/incidents/{id}`` and ``/incidents/{id}/log_entries`` (each object carries the fields the
connector could read, not every field PagerDuty sends). The behaviour follows the
documentation too: classic ``offset`` / ``limit`` / ``more`` pagination, with a small page
size here so that lists take several pages and no list served beyond ``offset + limit =
10,000``; incidents filtered by creation time (``since`` inclusive, ``until`` exclusive, at
most six months apart, the last 30 days when neither is given, everything with
``date_range=all``), by ``service_ids[]`` and ``urgencies[]``, sorted by ``sort_by``; log
entries newest first; ``Authorization: Token token=…`` or 401.
"""

import re
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.connectors.local_server import JsonHandler, running

TOKEN = "u+pd_s3cret"
API = "https://api.pagerduty.com"
WEB = "https://acme.pagerduty.com"
NOW = "2025-04-01T00:00:00Z"
"""The moment the tests sync at, unless they say otherwise."""
MISSING = object()
"""A patch value that removes the field."""

SERVICES = {"PSVC001": "Checkout API", "PSVC002": "Payments", "PSVC003": "Search"}
PRIORITIES = ["P1", "P2", "P3", "P4", "P5"]
"""Most severe first, as PagerDuty lists them."""
USER = {
    "id": "PUSR001",
    "type": "user_reference",
    "summary": "Ada Lovelace",
    "self": f"{API}/users/PUSR001",
    "html_url": f"{WEB}/users/PUSR001",
}


@dataclass
class Spec:
    """One incident as the tests think of it; the fake renders PagerDuty's objects from it."""

    id: str
    number: int
    created: str
    service: str
    urgency: str
    priority: str | None
    title: str
    acknowledged: tuple[str, ...] = ()
    resolved: str | None = None
    patch: dict[str, Any] = field(default_factory=dict)
    """Fields of the incident object replaced (``MISSING``: removed) when it is served."""
    log_patch: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Log entry type → fields replaced in every entry of that type."""

    @property
    def status(self) -> str:
        if self.resolved:
            return "resolved"
        return "acknowledged" if self.acknowledged else "triggered"


def example_incidents() -> list[Spec]:
    """Twelve incidents between January and March 2025; three are still open on 1 April."""
    return [
        Spec("PINC001", 1, "2025-01-05T10:00:00Z", "PSVC001", "high", "P1",
             "Checkout returns 502", ("2025-01-05T10:04:00Z", "2025-01-05T10:20:00Z"),
             "2025-01-05T11:30:00Z"),
        Spec("PINC002", 2, "2025-01-09T08:15:00Z", "PSVC002", "low", None,
             "Card declines spike", (), "2025-01-09T09:00:00Z"),
        Spec("PINC003", 3, "2025-01-20T22:00:00Z", "PSVC003", "high", "P3",
             "Search latency", ("2025-01-20T22:10:00Z",), "2025-01-21T01:00:00Z"),
        Spec("PINC004", 4, "2025-02-02T03:00:00Z", "PSVC001", "high", "P2",
             "Cart service out of memory", ("2025-02-02T03:02:00Z",), "2025-02-02T03:40:00Z"),
        Spec("PINC005", 5, "2025-02-02T03:00:00Z", "PSVC002", "high", "P2",
             "Payment provider timeout", ("2025-02-02T03:05:00Z",), "2025-02-02T04:00:00Z"),
        Spec("PINC006", 6, "2025-02-14T12:00:00Z", "PSVC003", "low", None,
             "Index rebuild slow", ("2025-02-14T12:30:00Z",)),
        Spec("PINC007", 7, "2025-02-27T16:45:00Z", "PSVC001", "high", "P1",
             "Checkout down in EU", ("2025-02-27T16:47:00Z",), "2025-02-27T17:55:00Z"),
        Spec("PINC008", 8, "2025-03-03T09:00:00Z", "PSVC002", "high", "P4",
             "Refund job failed"),
        Spec("PINC009", 9, "2025-03-11T11:11:00Z", "PSVC003", "low", "P5",
             "Typo on the search page", ("2025-03-11T11:20:00Z",), "2025-03-12T10:00:00Z"),
        Spec("PINC010", 10, "2025-03-18T07:30:00Z", "PSVC001", "high", "P1",
             "Checkout latency", ("2025-03-18T07:31:00Z",), "2025-03-18T08:10:00Z"),
        Spec("PINC011", 11, "2025-03-25T19:00:00Z", "PSVC002", "high", "P2",
             "Webhook backlog", ("2025-03-25T19:06:00Z",), "2025-03-25T20:30:00Z"),
        Spec("PINC012", 12, "2025-03-31T23:00:00Z", "PSVC001", "high", "P3",
             "Slow checkout"),
    ]  # fmt: skip


def at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def stamp(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def _reference(kind: str, identifier: str, summary: str, path: str) -> dict[str, Any]:
    return {
        "id": identifier,
        "type": f"{kind}_reference",
        "summary": summary,
        "self": f"{API}/{path}/{identifier}",
        "html_url": f"{WEB}/{path}/{identifier}",
    }


ESCALATION_POLICY = _reference("escalation_policy", "PESC001", "Shop", "escalation_policies")


def service_object(identifier: str, name: str) -> dict[str, Any]:
    return {
        "id": identifier,
        "type": "service",
        "summary": name,
        "self": f"{API}/services/{identifier}",
        "html_url": f"{WEB}/service-directory/{identifier}",
        "name": name,
        "description": f"{name}, run by the shop team",
        "auto_resolve_timeout": 14400,
        "acknowledgement_timeout": 600,
        "created_at": "2024-06-01T09:00:00Z",
        "status": "active",
        "alert_creation": "create_alerts_and_incidents",
        "escalation_policy": ESCALATION_POLICY,
        "teams": [],
        "integrations": [],
    }  # fmt: skip


def priority_object(name: str) -> dict[str, Any]:
    identifier = f"PPRI00{name[-1]}"
    return {
        "id": identifier,
        "type": "priority",
        "summary": name,
        "self": f"{API}/priorities/{identifier}",
        "html_url": None,
        "name": name,
        "description": f"Priority {name}",
        "color": "a8171c",
    }


def _patched(item: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if value is MISSING:
            item.pop(key, None)
        else:
            item[key] = value
    return item


def incident_object(spec: Spec) -> dict[str, Any]:
    changed = spec.resolved or (spec.acknowledged[-1] if spec.acknowledged else spec.created)
    open_ = spec.status != "resolved"
    incident = {
        "id": spec.id,
        "type": "incident",
        "summary": f"[#{spec.number}] {spec.title}",
        "self": f"{API}/incidents/{spec.id}",
        "html_url": f"{WEB}/incidents/{spec.id}",
        "incident_number": spec.number,
        "title": spec.title,
        "description": spec.title,
        "created_at": spec.created,
        "updated_at": changed,
        "status": spec.status,
        "incident_key": f"shop-{spec.number}",
        "service": _reference("service", spec.service, SERVICES[spec.service], "services"),
        "assignments": [{"at": spec.created, "assignee": USER}] if open_ else [],
        "acknowledgements": (
            [{"at": spec.acknowledged[-1], "acknowledger": USER}]
            if spec.status == "acknowledged"
            else []
        ),
        "last_status_change_at": changed,
        "last_status_change_by": USER if spec.acknowledged or spec.resolved else None,
        "first_trigger_log_entry": _reference(
            "trigger_log_entry", f"R{spec.id}T", "Triggered through the API", "log_entries"
        ),
        "escalation_policy": ESCALATION_POLICY,
        "teams": [],
        "pending_actions": [],
        "urgency": spec.urgency,
        "priority": priority_object(spec.priority) if spec.priority else None,
        "resolve_reason": None,
        "alert_counts": {"all": 1, "triggered": int(open_), "resolved": int(not open_)},
        "is_mergeable": True,
    }  # fmt: skip
    return _patched(incident, dict(spec.patch))


def log_entries(spec: Spec) -> list[dict[str, Any]]:
    """The incident's log entries, newest first: triggered, a notification, each
    acknowledgement (an acknowledgement timing out in between), resolved."""
    happened: list[tuple[str, str, str]] = [
        (spec.created, "trigger_log_entry", "Triggered through the API"),
        (stamp(at(spec.created) + timedelta(seconds=30)), "notify_log_entry", "Notified Ada"),
    ]
    for index, moment in enumerate(spec.acknowledged):
        if index:
            back = stamp(at(moment) - timedelta(minutes=5))
            happened.append((back, "unacknowledge_log_entry", "Unacknowledged due to timeout"))
        happened.append((moment, "acknowledge_log_entry", "Acknowledged by Ada Lovelace"))
    if spec.resolved:
        happened.append((spec.resolved, "resolve_log_entry", "Resolved by Ada Lovelace"))
    entries = []
    for index, (moment, kind, summary) in enumerate(happened):
        identifier = f"R{spec.id}{index}"
        entry = {
            "id": identifier,
            "type": kind,
            "summary": summary,
            "self": f"{API}/log_entries/{identifier}",
            "html_url": None,
            "created_at": moment,
            "agent": USER if kind != "trigger_log_entry" else _reference(
                "generic_events_api_inbound_integration", "PINT001", "Monitoring", "integrations"
            ),
            "channel": {"type": "web_ui" if kind != "trigger_log_entry" else "api"},
            "service": _reference("service", spec.service, SERVICES[spec.service], "services"),
            "incident": _reference("incident", spec.id, f"[#{spec.number}] {spec.title}",
                                   "incidents"),
            "teams": [],
            "contexts": [],
        }  # fmt: skip
        entries.append(_patched(entry, dict(spec.log_patch.get(kind, {}))))
    return list(reversed(entries))


@dataclass
class Fault:
    """The next ``times`` requests whose path and query match ``pattern`` fail."""

    pattern: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    times: int = 1


@dataclass
class FakePagerDuty:
    incidents: list[Spec] = field(default_factory=example_incidents)
    services: dict[str, str] = field(default_factory=lambda: dict(SERVICES))
    priorities: list[str] = field(default_factory=lambda: list(PRIORITIES))
    page_size: int = 3
    offset_ceiling: int = 10_000
    now: str = NOW
    token: str = TOKEN
    faults: list[Fault] = field(default_factory=list)
    requests: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def spec(self, identifier: str) -> Spec:
        return next(spec for spec in self.incidents if spec.id == identifier)

    def list_incidents(self, query: dict[str, list[str]]) -> list[dict[str, Any]] | str:
        """The incidents a list request asks for, or why it is refused."""
        chosen = list(self.incidents)
        if query.get("date_range", [""])[0] != "all":
            until = at(query["until"][0]) if "until" in query else at(self.now)
            since = at(query["since"][0]) if "since" in query else until - timedelta(days=30)
            if until - since > timedelta(days=183):
                return "The date range may be at most 6 months"
            chosen = [spec for spec in chosen if since <= at(spec.created) < until]
        if "service_ids[]" in query:
            chosen = [spec for spec in chosen if spec.service in query["service_ids[]"]]
        if "urgencies[]" in query:
            chosen = [spec for spec in chosen if spec.urgency in query["urgencies[]"]]
        column, _, direction = query.get("sort_by", ["incident_number:asc"])[0].partition(":")
        if column not in ("incident_number", "created_at"):
            return f"Cannot sort by {column}"
        chosen.sort(
            key=lambda spec: (spec.created if column == "created_at" else "", spec.number),
            reverse=direction == "desc",
        )
        return [incident_object(spec) for spec in chosen]

    def paginate(
        self, key: str, items: list[Any], query: dict[str, list[str]]
    ) -> tuple[int, dict[str, Any]]:
        limit = int(query.get("limit", ["25"])[0])
        offset = int(query.get("offset", ["0"])[0])
        if limit < 1 or offset < 0 or offset + limit > self.offset_ceiling:
            return 400, _error(2001, "Invalid Input Provided",
                               f"Offset must be less than {self.offset_ceiling}")  # fmt: skip
        served = min(limit, 100, self.page_size)
        page = items[offset : offset + served]
        more = offset + len(page) < len(items)
        return 200, {key: page, "limit": served, "offset": offset, "total": None, "more": more}


def _error(code: int, message: str, *details: str) -> dict[str, Any]:
    return {"error": {"message": message, "code": code, "errors": list(details)}}


def _handler(fake: FakePagerDuty) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        content_type = "application/json; charset=utf-8"

        def standing_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
            standing = {"ratelimit-limit": "960"}
            if "ratelimit-remaining" not in headers:
                standing.update({"ratelimit-remaining": "955", "ratelimit-reset": "41"})
            return standing

        def _fault(self) -> bool:
            for fault in fake.faults:
                if fault.times > 0 and re.search(fault.pattern, self.path):
                    fault.times -= 1
                    messages = {401: "Unauthorized", 429: "Too Many Requests"}
                    message = messages.get(fault.status, "Internal Server Error")
                    self._send(fault.status, _error(fault.status, message), fault.headers)
                    return True
            return False

        def _list(self, key: str, items: list[Any], query: dict[str, list[str]]) -> None:
            status, body = fake.paginate(key, items, query)
            self._send(status, body)

        def do_GET(self) -> None:
            fake.requests.append(self.path)
            fake.headers.append(dict(self.headers.items()))
            url = urlparse(self.path)
            query = parse_qs(url.query)
            if self._fault():
                return
            if self.headers.get("Authorization", "") != f"Token token={fake.token}":
                self._send(401, _error(2006, "Unauthorized"))
                return
            path = url.path
            if path == "/services":
                services = [service_object(i, name) for i, name in fake.services.items()]
                self._list("services", sorted(services, key=lambda s: s["name"]), query)
            elif path == "/priorities":
                self._list("priorities", [priority_object(p) for p in fake.priorities], query)
            elif path == "/incidents":
                found = fake.list_incidents(query)
                if isinstance(found, str):
                    self._send(400, _error(2001, "Invalid Input Provided", found))
                else:
                    self._list("incidents", found, query)
            elif match := re.fullmatch(r"/incidents/([A-Z0-9]+)(/log_entries)?", path):
                spec = next((s for s in fake.incidents if s.id == match.group(1)), None)
                if spec is None:
                    self._send(404, _error(2100, "Not Found"))
                elif match.group(2):
                    self._list("log_entries", log_entries(spec), query)
                else:
                    self._send(200, {"incident": incident_object(spec)})
            else:
                self._send(404, _error(2100, "Not Found"))

    return Handler


@contextmanager
def serve(fake: FakePagerDuty) -> Iterator[FakePagerDuty]:
    with running(_handler(fake)) as url:
        fake.url = url
        yield fake
