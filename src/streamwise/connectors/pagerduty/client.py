"""Reading PagerDuty's REST API v2 (``https://api.pagerduty.com``, or
``https://api.eu.pagerduty.com``) for one account.

Entities, in order:

- services: all of them every sync (there are few). They name the services of incidents.
- incidents, each with its log entries. PagerDuty lists incidents by creation time between
  ``since`` and ``until`` (at most six months apart) and serves a list no further than offset
  10,000, so the history is walked in windows of ``window_days``, oldest first. The cursor
  (``{"position": …, "open": [ids]}``) moves with every stored page: a first sync backfills
  from the oldest incident (or ``options.since``) and an interrupted one resumes after the
  last page it stored; later syncs list from ``position`` minus ``overlap_minutes``.

Incidents change after they are created (acknowledged, resolved), and the list cannot be
asked for incidents *changed* since a moment. So the cursor also remembers the incidents
that were still open, and every sync reads those again by id before listing new ones; once
read resolved they drop out. This catches an incident resolved months after it opened, which
re-reading a trailing window would miss, at two requests per open incident per sync.
"""

import hashlib
import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, date, datetime, timedelta
from typing import Any
from urllib.parse import quote

from streamwise.connectors.base import EntityKind, RawPayload
from streamwise.connectors.http import RetryPolicy, ToolClient
from streamwise.connectors.pagerduty.records import (
    INCIDENT_KEY,
    LOG_ENTRIES_KEY,
    RESOLVED,
    SERVICE,
    SERVICE_NAME_KEY,
    parse_payload,
)
from streamwise.connectors.sync_api import Page, SourceSettings
from streamwise.connectors.values import api_moment, api_time, text_or_none
from streamwise.errors import SourceError

ACCEPT = "application/vnd.pagerduty+json;version=2"
PAGE_SIZE = 100
"""PagerDuty's largest page."""
OFFSET_CEILING = 10_000
"""PagerDuty answers no list request whose offset + limit is beyond this."""
DEFAULT_OVERLAP_MINUTES = 10
DEFAULT_WINDOW_DAYS = 30
LONGEST_WINDOW_DAYS = 180
"""``since`` and ``until`` may be at most six months apart."""
REFRESH_BATCH = 25
"""Open incidents re-read per stored page."""
FALLBACK_START = datetime(2009, 1, 1, tzinfo=UTC)
"""Where a backfill starts when the oldest incident cannot be found (PagerDuty began in 2009)."""
URGENCIES = ("high", "low")
RATE_LIMIT_WAIT_S = 120.0
"""PagerDuty's quotas are per minute: a wait it asks for is never long."""


def _external_id(incident: Mapping[str, Any]) -> str:
    """The incident's id; an incident without one still gets a stable key, so it is stored
    (with its parse error) instead of stopping the sync."""
    identifier = text_or_none(incident.get("id"))
    if identifier:
        return identifier
    number = incident.get("incident_number")
    if isinstance(number, int) and not isinstance(number, bool):
        return f"incident-number/{number}"
    canonical = json.dumps(incident, sort_keys=True, default=str)
    return f"unidentified/{hashlib.sha256(canonical.encode()).hexdigest()[:16]}"


# -- options ------------------------------------------------------------------------------------
def _names(settings: SourceSettings, option: str) -> list[str]:
    """A list option: a YAML list, or one string with names separated by commas or spaces
    (as ``-o service_ids=PABC,PDEF`` gives)."""
    value = settings.options.get(option)
    if value is None or value == "":
        return []
    if isinstance(value, str):
        names = re.split(r"[,\s]+", value)
    elif isinstance(value, list):
        names = [str(name) for name in value]
    else:
        raise SourceError(
            f"source {settings.name!r}: option {option} must be a list, e.g. -o '{option}=[a, b]'"
        )
    return list(dict.fromkeys(name.strip() for name in names if name and name.strip()))


def _number(
    settings: SourceSettings, option: str, default: float, low: float, high: float
) -> float:
    value = settings.options.get(option, default)
    try:
        number = float(value)
    except (TypeError, ValueError):
        number = float("nan")
    if not low <= number <= high:
        raise SourceError(
            f"source {settings.name!r}: option {option} is {value!r}; it must be a number "
            f"from {low:g} to {high:g}"
        )
    return number


def _service_names(settings: SourceSettings) -> dict[str, str]:
    value = settings.options.get("service_names")
    if value is None or value == "":
        return {}
    if not isinstance(value, Mapping) or not all(
        isinstance(target, str) and target for target in value.values()
    ):
        raise SourceError(
            f"source {settings.name!r}: option service_names must map PagerDuty service names "
            "or ids to Streamwise service names, e.g. -o 'service_names={Checkout API: shop-api}'"
        )
    return {str(key): str(target) for key, target in value.items()}


def _since(settings: SourceSettings) -> datetime | None:
    value = settings.options.get("since")
    if value is None or value == "":
        return None
    if isinstance(value, datetime):
        moment: datetime | None = value
    elif isinstance(value, date):  # YAML reads 2020-01-01 as a date
        moment = datetime(value.year, value.month, value.day)
    else:
        text = str(value).strip()
        moment = api_moment(text + "T00:00:00" if len(text) == 10 else text)
    if moment is None:
        raise SourceError(
            f"source {settings.name!r}: option since is {value!r}, not a date such as 2020-01-01"
        )
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def make_client(
    settings: SourceSettings,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ToolClient:
    """A ToolClient speaking PagerDuty's REST API v2 with the source's API key."""
    headers = {"Accept": ACCEPT}
    if settings.token:
        headers["Authorization"] = f"Token token={settings.token}"
    variable = settings.token_env or "the token variable"
    return ToolClient(
        settings.name,
        settings.base_url,
        headers=headers,
        credential_hint=(
            f"the REST API key in ${variable} (a read-only key is enough; PagerDuty → "
            "Integrations → API Access Keys)"
        ),
        retry=retry or RetryPolicy(longest_wait_s=RATE_LIMIT_WAIT_S),
        sleep=sleep,
    )


class IncidentCursor:
    """Where incident listing resumes (``position`` minus the overlap) and which incidents
    were open when last read, as kept in the sync state."""

    def __init__(self, text: str | None) -> None:
        self.position: datetime | None = None
        self.open_ids: set[str] = set()
        loaded: Any = None
        if text:
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = None
        if isinstance(loaded, dict):
            self.position = api_moment(loaded.get("position"))
            found = loaded.get("open")
            if isinstance(found, list):
                self.open_ids = {item for item in found if isinstance(item, str) and item}

    def advance(self, moment: datetime | None) -> None:
        """Move the position forward (never back: an overlap re-read is older)."""
        if moment is not None and (self.position is None or moment > self.position):
            self.position = moment

    def saw(self, identifier: str | None, incident: Mapping[str, Any] | None) -> None:
        """Remember an incident while it is open; forget it once resolved (or unwanted)."""
        if identifier is None:
            return
        if incident is None or str(incident.get("status") or "").lower() == RESOLVED:
            self.open_ids.discard(identifier)
        else:
            self.open_ids.add(identifier)

    def dump(self) -> str:
        position = self.position.astimezone(UTC).isoformat() if self.position else None
        return json.dumps({"position": position, "open": sorted(self.open_ids)}, sort_keys=True)


IncidentFilter = Callable[[Mapping[str, Any]], bool]


class PagerDutyConnector:
    """Syncs the services and incidents of one PagerDuty account, page by page."""

    kind = "pagerduty"
    entities = ("services", "incidents")
    parser = staticmethod(parse_payload)
    offset_ceiling = OFFSET_CEILING

    def __init__(
        self,
        settings: SourceSettings,
        client: ToolClient | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.service_ids = _names(settings, "service_ids")
        self.service_names = _service_names(settings)
        self.urgencies = _names(settings, "urgencies")
        wrong = [urgency for urgency in self.urgencies if urgency not in URGENCIES]
        if wrong:
            raise SourceError(
                f"source {settings.name!r}: option urgencies names {', '.join(map(repr, wrong))}; "
                "PagerDuty's urgencies are high and low"
            )
        severity = settings.options.get("min_severity")
        self.min_severity = str(severity) if severity not in (None, "") else None
        self.overlap = timedelta(
            minutes=_number(settings, "overlap_minutes", DEFAULT_OVERLAP_MINUTES, 0, 7 * 24 * 60)
        )
        self.window = timedelta(
            days=_number(settings, "window_days", DEFAULT_WINDOW_DAYS, 1, LONGEST_WINDOW_DAYS)
        )
        self.since = _since(settings)
        self.client = client or make_client(settings)
        self._now = now or (lambda: datetime.now(UTC))
        self._services_by_id: dict[str, Mapping[str, Any]] | None = None

    def close(self) -> None:
        self.client.close()

    def fetch(self, entity: str, cursor: str | None) -> Iterator[Page]:
        if entity == "services":
            yield from self._services()
        elif entity == "incidents":
            yield from self._incidents(IncidentCursor(cursor))
        else:
            raise ValueError(entity)

    # -- HTTP -----------------------------------------------------------------------------------
    def _list_page(
        self, path: str, key: str, params: Mapping[str, Any]
    ) -> tuple[list[dict[str, Any]], bool]:
        """One page of a list: its objects, and whether PagerDuty has more (``more``)."""
        body = self.client.get_json(path, params)
        items = body.get(key) if isinstance(body, Mapping) else None
        if not isinstance(items, list):
            raise SourceError(
                f"source {self.settings.name!r}: {path} did not answer an object with a list of "
                f"{key}; is the source's URL the API root (https://api.pagerduty.com)?"
            )
        return [item for item in items if isinstance(item, dict)], body.get("more") is True

    def _pages(
        self, path: str, key: str, params: Mapping[str, Any]
    ) -> Iterator[list[dict[str, Any]]]:
        """Every page of a list, by ``offset`` and ``limit`` until ``more`` is false."""
        offset = 0
        while True:
            limit = min(PAGE_SIZE, self.offset_ceiling - offset)
            if limit <= 0:
                raise SourceError(
                    f"source {self.settings.name!r}: {path} holds more than PagerDuty lists "
                    f"({self.offset_ceiling} objects); the rest cannot be read"
                )
            items, more = self._list_page(path, key, {**params, "limit": limit, "offset": offset})
            yield items
            offset += len(items)
            if not more or not items:
                return

    # -- services -------------------------------------------------------------------------------
    def _services(self) -> Iterator[Page]:
        found: dict[str, Mapping[str, Any]] = {}
        for services in self._pages("services", "services", {"time_zone": "UTC"}):
            payloads = []
            for service in services:
                identifier = text_or_none(service.get("id"))
                if identifier is None:
                    continue  # nothing can refer to it
                found[identifier] = service
                if not self.service_ids or identifier in self.service_ids:
                    payloads.append(RawPayload(SERVICE, identifier, {"service": service}))
            yield Page("services", payloads, None)
        self._know_services(found)

    def _know_services(self, found: Mapping[str, Mapping[str, Any]]) -> None:
        missing = [identifier for identifier in self.service_ids if identifier not in found]
        if missing:
            raise SourceError(
                f"source {self.settings.name!r}: option service_ids names "
                f"{', '.join(missing)}, which is not among the {len(found)} services the API "
                "key can read"
            )
        self._services_by_id = dict(found)

    def _load_services(self) -> dict[str, Mapping[str, Any]]:
        if self._services_by_id is None:
            found = {
                identifier: service
                for services in self._pages("services", "services", {"time_zone": "UTC"})
                for service in services
                if (identifier := text_or_none(service.get("id")))
            }
            self._know_services(found)
        assert self._services_by_id is not None
        return self._services_by_id

    def service_name(self, incident: Mapping[str, Any]) -> str | None:
        """The Streamwise service of an incident: ``service_names`` by PagerDuty service id
        or name, else the PagerDuty service's name."""
        reference = incident.get("service")
        if not isinstance(reference, Mapping):
            return None
        identifier = text_or_none(reference.get("id"))
        service = self._load_services().get(identifier or "")
        name = (text_or_none(service.get("name")) if service else None) or text_or_none(
            reference.get("summary")
        )
        for key in (identifier, name):
            if key and key in self.service_names:
                return self.service_names[key]
        return name or identifier

    # -- incidents ------------------------------------------------------------------------------
    def _filters(self) -> dict[str, Any]:
        filters: dict[str, Any] = {"time_zone": "UTC"}
        if self.service_ids:
            filters["service_ids[]"] = self.service_ids
        if self.urgencies:
            filters["urgencies[]"] = self.urgencies
        return filters

    def _severity_filter(self) -> IncidentFilter | None:
        """With ``min_severity``: keep incidents whose priority is that one or more severe
        (PagerDuty lists an account's priorities most severe first)."""
        if self.min_severity is None:
            return None
        names = [
            name
            for priorities in self._pages("priorities", "priorities", {})
            for priority in priorities
            if (name := text_or_none(priority.get("name")) or text_or_none(priority.get("summary")))
        ]
        folded = [name.casefold() for name in names]
        if self.min_severity.casefold() not in folded:
            raise SourceError(
                f"source {self.settings.name!r}: option min_severity is "
                f"{self.min_severity!r}, which is not one of the account's priorities "
                f"({', '.join(names) or 'none: the account does not use priorities'})"
            )
        wanted = set(folded[: folded.index(self.min_severity.casefold()) + 1])

        def keep(incident: Mapping[str, Any]) -> bool:
            priority = incident.get("priority")
            if not isinstance(priority, Mapping):
                return False
            name = text_or_none(priority.get("name")) or text_or_none(priority.get("summary")) or ""
            return name.casefold() in wanted

        return keep

    def _incident_payload(self, incident: dict[str, Any]) -> RawPayload:
        """The incident with its log entries and its Streamwise service, ready to store."""
        identifier = text_or_none(incident.get("id"))
        entries: list[dict[str, Any]] = []
        if identifier is not None:
            path = f"incidents/{quote(identifier, safe='')}/log_entries"
            for page in self._pages(path, "log_entries", {"time_zone": "UTC"}):
                entries.extend(page)
        return RawPayload(
            EntityKind.INCIDENT,
            _external_id(incident),
            {
                INCIDENT_KEY: incident,
                LOG_ENTRIES_KEY: entries,
                SERVICE_NAME_KEY: self.service_name(incident),
            },
        )

    def _incident_by_id(self, identifier: str) -> dict[str, Any] | None:
        """The incident as it is now; None when PagerDuty no longer has it (deleting a
        service deletes its incidents)."""
        path = f"incidents/{quote(identifier, safe='')}"
        try:
            body = self.client.get_json(path, {"time_zone": "UTC"})
        except SourceError as error:
            if " answered 404 " in str(error):
                return None
            raise
        incident = body.get("incident") if isinstance(body, Mapping) else None
        if not isinstance(incident, dict):
            raise SourceError(f"source {self.settings.name!r}: {path} did not answer an incident")
        return incident

    def _incidents(self, cursor: IncidentCursor) -> Iterator[Page]:
        self._load_services()
        keep = self._severity_filter()
        until = self._now()
        handled: set[str] = set()
        yield from self._refresh_open(cursor, keep, handled)
        start = self._start(cursor)
        window_since = start if start is not None else until
        while window_since < until:
            window_until = min(window_since + self.window, until)
            yield from self._window(window_since, window_until, cursor, keep, handled)
            window_since = window_until
        cursor.advance(until)
        yield Page("incidents", [], cursor.dump())

    def _refresh_open(
        self, cursor: IncidentCursor, keep: IncidentFilter | None, handled: set[str]
    ) -> Iterator[Page]:
        """Read again the incidents that were open at the last sync."""
        remembered = sorted(cursor.open_ids)
        for first in range(0, len(remembered), REFRESH_BATCH):
            payloads = []
            for identifier in remembered[first : first + REFRESH_BATCH]:
                handled.add(identifier)
                incident = self._incident_by_id(identifier)
                if incident is not None and (keep is None or keep(incident)):
                    payloads.append(self._incident_payload(incident))
                    cursor.saw(identifier, incident)
                else:
                    cursor.saw(identifier, None)
            yield Page("incidents", payloads, cursor.dump())

    def _start(self, cursor: IncidentCursor) -> datetime | None:
        """Where listing starts: the cursor less the overlap, ``options.since``, or the
        oldest incident (None: there is none)."""
        if cursor.position is not None:
            return cursor.position - self.overlap
        if self.since is not None:
            return self.since
        params = {**self._filters(), "date_range": "all", "sort_by": "created_at:asc", "limit": 1}
        oldest, _ = self._list_page("incidents", "incidents", params)
        if not oldest:
            return None
        return api_moment(oldest[0].get("created_at")) or FALLBACK_START

    def _window(
        self,
        window_since: datetime,
        window_until: datetime,
        cursor: IncidentCursor,
        keep: IncidentFilter | None,
        handled: set[str],
    ) -> Iterator[Page]:
        """The incidents created in one window, oldest first, a stored page at a time. At
        PagerDuty's offset ceiling the rest of the window is listed again from just before
        the newest creation time seen (the incidents already read are skipped)."""
        since, offset = window_since, 0
        newest: datetime | None = None
        while True:
            limit = min(PAGE_SIZE, self.offset_ceiling - offset)
            if limit <= 0:
                # A second before the newest seen: whether PagerDuty's ``since`` includes
                # its moment or not, incidents sharing it are not lost.
                again = newest - timedelta(seconds=1) if newest is not None else since
                if again <= since:
                    raise SourceError(
                        f"source {self.settings.name!r}: more than {self.offset_ceiling} "
                        f"incidents were created around {api_time(since)}; PagerDuty "
                        "cannot list them all"
                    )
                since, offset = again, 0
                continue
            params = {
                **self._filters(),
                "since": api_time(since),
                "until": api_time(window_until),
                "sort_by": "created_at:asc",
                "limit": limit,
                "offset": offset,
            }
            incidents, more = self._list_page("incidents", "incidents", params)
            payloads = []
            for incident in incidents:
                created = api_moment(incident.get("created_at"))
                if created is not None and (newest is None or created > newest):
                    newest = created
                identifier = text_or_none(incident.get("id"))
                if identifier is not None:
                    if identifier in handled:
                        continue
                    handled.add(identifier)
                if keep is not None and not keep(incident):
                    cursor.saw(identifier, None)
                    continue
                payloads.append(self._incident_payload(incident))
                cursor.saw(identifier, incident)
            cursor.advance(newest)
            yield Page("incidents", payloads, cursor.dump())
            offset += len(incidents)
            if not more or not incidents:
                break
        cursor.advance(window_until)
        yield Page("incidents", [], cursor.dump())
