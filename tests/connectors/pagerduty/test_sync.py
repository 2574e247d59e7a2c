"""Syncing PagerDuty over real HTTP from a local stand-in (``fake_pagerduty``) that serves
hand-made services and incidents in PagerDuty's documented shape."""

import json
from collections.abc import Iterator
from datetime import datetime
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
from sqlalchemy import func, select

from streamwise.connectors.http import RetryPolicy
from streamwise.connectors.pagerduty.client import PagerDutyConnector, make_client
from streamwise.connectors.pagerduty.records import SERVICE
from streamwise.connectors.sync_api import SourceSettings
from streamwise.errors import AuthenticationError, SourceError
from streamwise.model import Incident, RawRecord, Source, SyncState
from streamwise.store import Database
from streamwise.sync import source_statuses, sync_source
from tests.connectors.pagerduty.fake_pagerduty import (
    MISSING,
    NOW,
    TOKEN,
    FakePagerDuty,
    Fault,
    Spec,
    at,
    serve,
)

SERVICE_NAMES = {"Checkout API": "shop-api", "PSVC002": "payments"}
"""Checkout API mapped by name, Payments by id; Search keeps its PagerDuty name."""

# Written out by hand from the incidents in fake_pagerduty: title, service, severity, opened,
# first acknowledged, resolved (UTC).
EXPECTED = {
    "PINC001": ("Checkout returns 502", "shop-api", "P1",
                "2025-01-05T10:00", "2025-01-05T10:04", "2025-01-05T11:30"),
    "PINC002": ("Card declines spike", "payments", "low",
                "2025-01-09T08:15", None, "2025-01-09T09:00"),
    "PINC003": ("Search latency", "Search", "P3",
                "2025-01-20T22:00", "2025-01-20T22:10", "2025-01-21T01:00"),
    "PINC004": ("Cart service out of memory", "shop-api", "P2",
                "2025-02-02T03:00", "2025-02-02T03:02", "2025-02-02T03:40"),
    "PINC005": ("Payment provider timeout", "payments", "P2",
                "2025-02-02T03:00", "2025-02-02T03:05", "2025-02-02T04:00"),
    "PINC006": ("Index rebuild slow", "Search", "low",
                "2025-02-14T12:00", "2025-02-14T12:30", None),
    "PINC007": ("Checkout down in EU", "shop-api", "P1",
                "2025-02-27T16:45", "2025-02-27T16:47", "2025-02-27T17:55"),
    "PINC008": ("Refund job failed", "payments", "P4", "2025-03-03T09:00", None, None),
    "PINC009": ("Typo on the search page", "Search", "P5",
                "2025-03-11T11:11", "2025-03-11T11:20", "2025-03-12T10:00"),
    "PINC010": ("Checkout latency", "shop-api", "P1",
                "2025-03-18T07:30", "2025-03-18T07:31", "2025-03-18T08:10"),
    "PINC011": ("Webhook backlog", "payments", "P2",
                "2025-03-25T19:00", "2025-03-25T19:06", "2025-03-25T20:30"),
    "PINC012": ("Slow checkout", "shop-api", "P3", "2025-03-31T23:00", None, None),
}  # fmt: skip
Row = tuple[str, str | None, str | None, str, str | None, str | None]


@pytest.fixture
def pagerduty() -> Iterator[FakePagerDuty]:
    with serve(FakePagerDuty()) as fake:
        yield fake


def add_source(database: Database, url: str, **options: Any) -> None:
    with database.transaction() as session:
        session.add(
            Source(
                name="pagerduty",
                kind="pagerduty",
                base_url=url,
                token_env="PAGERDUTY_TOKEN",
                options={"service_names": SERVICE_NAMES, **options},
            )
        )


@pytest.fixture
def database_with_source(
    database: Database, pagerduty: FakePagerDuty, monkeypatch: Any
) -> Database:
    monkeypatch.setenv("PAGERDUTY_TOKEN", TOKEN)
    add_source(database, pagerduty.url)
    return database


def connector(
    pagerduty: FakePagerDuty,
    sleeps: list[float] | None = None,
    now: str = NOW,
    attempts: int = 4,
    **options: Any,
) -> PagerDutyConnector:
    """The connector at a fixed moment, with a client that records its waits."""
    settings = SourceSettings(
        "pagerduty",
        "pagerduty",
        pagerduty.url,
        TOKEN,
        "PAGERDUTY_TOKEN",
        {"service_names": SERVICE_NAMES, **options},
    )
    waits = sleeps if sleeps is not None else []
    client = make_client(
        settings, retry=RetryPolicy(attempts=attempts, backoff_s=0.01), sleep=waits.append
    )
    return PagerDutyConnector(settings, client, now=lambda: at(now))


def sync(database: Database, pagerduty: FakePagerDuty, **kwargs: Any) -> Any:
    return sync_source(database, "pagerduty", connector=connector(pagerduty, **kwargs))


def rows(database: Database) -> dict[str, Row]:
    with database.sessions() as session:
        found = session.scalars(select(Incident)).all()
        for incident in found:
            assert incident.opened_at.utcoffset() is not None
        return {
            incident.external_id: (
                incident.title,
                incident.service,
                incident.severity,
                _utc(incident.opened_at) or "",
                _utc(incident.acknowledged_at),
                _utc(incident.resolved_at),
            )
            for incident in found
        }


def _utc(moment: datetime | None) -> str | None:
    if moment is None:
        return None
    text = moment.isoformat()
    assert text.endswith("+00:00"), text
    return text[:16]


def raw_count(database: Database, kind: str) -> int:
    with database.sessions() as session:
        return int(
            session.scalar(
                select(func.count()).select_from(RawRecord).where(RawRecord.entity_kind == kind)
            )
            or 0
        )


def incident_cursor(database: Database) -> dict[str, Any]:
    with database.sessions() as session:
        state = session.scalars(select(SyncState).where(SyncState.entity_kind == "incidents")).one()
        loaded: dict[str, Any] = json.loads(state.cursor or "")
        return loaded


def listed(pagerduty: FakePagerDuty, start: int = 0) -> list[str]:
    """Requests for the incident list (not single incidents or their log entries)."""
    return [path for path in pagerduty.requests[start:] if path.startswith("/incidents?")]


def test_first_sync_backfills_every_window_and_a_second_stores_nothing(
    database_with_source: Database, pagerduty: FakePagerDuty
) -> None:
    database = database_with_source
    report = sync(database, pagerduty)
    assert report.errors == []
    assert report.stored == {"services": 3, "incidents": 12}
    assert raw_count(database, SERVICE) == 3 and raw_count(database, "incident") == 12
    assert rows(database) == EXPECTED

    # The oldest incident (5 January 10:00) starts the backfill; 30-day windows up to now:
    # [01-05, 02-04) holds 5 incidents (two pages of 3), [02-04, 03-06) 3 (one page),
    # [03-06, 04-01) 4 (two pages): 5 list requests and the one finding the oldest.
    lists = listed(pagerduty)
    assert len(lists) == 6
    assert "date_range=all" in lists[0] and "limit=1" in lists[0]
    windows = sorted({(_param(path, "since"), _param(path, "until")) for path in lists[1:]})
    assert windows == [
        ("2025-01-05T10:00:00Z", "2025-02-04T10:00:00Z"),
        ("2025-02-04T10:00:00Z", "2025-03-06T10:00:00Z"),
        ("2025-03-06T10:00:00Z", "2025-04-01T00:00:00Z"),
    ]
    assert all("sort_by=created_at%3Aasc" in path for path in lists)
    assert sorted(_param(path, "offset") for path in lists[1:]) == ["0", "0", "0", "3", "3"]
    # PINC001 has six log entries: two pages of three.
    assert (
        sum(path.startswith("/incidents/PINC001/log_entries") for path in pagerduty.requests) == 2
    )
    assert all(
        headers.get("Authorization") == f"Token token={TOKEN}"
        and headers.get("Accept") == "application/vnd.pagerduty+json;version=2"
        for headers in pagerduty.headers
    )
    assert incident_cursor(database) == {
        "position": "2025-04-01T00:00:00+00:00",
        "open": ["PINC006", "PINC008", "PINC012"],
    }

    before = len(pagerduty.requests)
    again = sync(database, pagerduty, now="2025-04-01T06:00:00Z")
    assert sum(again.stored.values()) == 0 and again.received["incidents"] == 3
    assert raw_count(database, "incident") == 12 and rows(database) == EXPECTED
    # The open incidents are read again by id; the list starts at the cursor less 10 minutes.
    singles = [p for p in pagerduty.requests[before:] if p.startswith("/incidents/PINC")]
    assert sorted(p.split("?")[0] for p in singles if "log_entries" not in p) == [
        "/incidents/PINC006",
        "/incidents/PINC008",
        "/incidents/PINC012",
    ]
    (window,) = listed(pagerduty, before)
    assert _param(window, "since") == "2025-03-31T23:50:00Z"
    assert _param(window, "until") == "2025-04-01T06:00:00Z"


def _param(path: str, name: str) -> str:
    return parse_qs(urlparse(path).query)[name][0]


def test_incident_rows_carry_log_entry_times_mapped_services_and_severity(
    database_with_source: Database, pagerduty: FakePagerDuty
) -> None:
    sync(database_with_source, pagerduty)
    with database_with_source.sessions() as session:
        first = session.scalars(select(Incident).where(Incident.external_id == "PINC001")).one()
        # Acknowledged at 10:04, timed out, acknowledged again at 10:20: the first one counts.
        assert first.acknowledged_at.isoformat() == "2025-01-05T10:04:00+00:00"
        assert first.resolved_at.isoformat() == "2025-01-05T11:30:00+00:00"
        assert first.url == "https://acme.pagerduty.com/incidents/PINC001"
        assert first.caused_by_external_id is None
        services = dict(
            session.execute(select(Incident.service, func.count()).group_by(Incident.service)).all()
        )
    assert services == {"shop-api": 5, "payments": 4, "Search": 3}


def test_an_incident_resolved_after_a_sync_gets_its_resolved_at_with_the_next(
    database_with_source: Database, pagerduty: FakePagerDuty
) -> None:
    database = database_with_source
    sync(database, pagerduty)
    # PINC006 opened in February, long before any overlap window, and is resolved now.
    pagerduty.spec("PINC006").resolved = "2025-04-02T08:00:00Z"
    pagerduty.incidents.append(
        Spec("PINC013", 13, "2025-04-02T09:00:00Z", "PSVC002", "high", "P1", "Payments down",
             ("2025-04-02T09:01:00Z",), "2025-04-02T09:45:00Z")
    )  # fmt: skip
    report = sync(database, pagerduty, now="2025-04-03T00:00:00Z")
    assert report.stored["incidents"] == 2
    found = rows(database)
    assert found["PINC006"] == (
        "Index rebuild slow", "Search", "low",
        "2025-02-14T12:00", "2025-02-14T12:30", "2025-04-02T08:00",
    )  # fmt: skip
    assert found["PINC013"] == (
        "Payments down", "payments", "P1",
        "2025-04-02T09:00", "2025-04-02T09:01", "2025-04-02T09:45",
    )  # fmt: skip
    assert {key: value for key, value in found.items() if key not in ("PINC006", "PINC013")} == {
        key: value for key, value in EXPECTED.items() if key != "PINC006"
    }
    assert incident_cursor(database) == {
        "position": "2025-04-03T00:00:00+00:00",
        "open": ["PINC008", "PINC012"],
    }


def test_rate_limits_are_waited_out_as_pagerduty_asks(
    database_with_source: Database, pagerduty: FakePagerDuty
) -> None:
    pagerduty.faults = [
        Fault(r"^/incidents\?.*offset=3", 429, {"Retry-After": "7"}),
        Fault(
            r"^/incidents/PINC004/log_entries",
            429,
            {"ratelimit-limit": "960", "ratelimit-remaining": "0", "ratelimit-reset": "12"},
        ),
    ]
    sleeps: list[float] = []
    report = sync(database_with_source, pagerduty, sleeps=sleeps)
    assert [fault.times for fault in pagerduty.faults] == [0, 0]
    assert sleeps == [7.0, 12.0]
    assert report.stored["incidents"] == 12 and rows(database_with_source) == EXPECTED


def test_a_server_error_mid_sync_then_the_next_sync_completes_the_same_rows(
    database_with_source: Database, pagerduty: FakePagerDuty
) -> None:
    database = database_with_source
    # The second window's list keeps failing: two attempts, then the sync gives up.
    pagerduty.faults = [Fault(r"^/incidents\?.*since=2025-02-04T10", 500, times=2)]
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="still failing after 2 attempts"):
        sync(database, pagerduty, sleeps=sleeps, attempts=2)
    assert len(sleeps) == 1 and 0 < sleeps[0] < 5  # backoff between the two attempts
    assert sorted(rows(database)) == ["PINC001", "PINC002", "PINC003", "PINC004", "PINC005"]
    assert incident_cursor(database)["position"] == "2025-02-04T10:00:00+00:00"
    with database.sessions() as session:
        (status,) = source_statuses(session)
    assert [entity for entity, _, error in status.entities if error and "500" in error] == [
        "incidents"
    ]

    before = len(pagerduty.requests)
    sync(database, pagerduty)
    assert rows(database) == EXPECTED
    assert raw_count(database, "incident") == 12  # nothing stored twice
    # Resumed after the stored pages (less the overlap), not from the oldest incident.
    first = listed(pagerduty, before)[0]
    assert _param(first, "since") == "2025-02-04T09:50:00Z"
    with database.sessions() as session:
        (status,) = source_statuses(session)
    assert all(error is None for _, _, error in status.entities)


def test_an_expired_token_stops_the_source_with_a_clear_message(
    database_with_source: Database, pagerduty: FakePagerDuty
) -> None:
    pagerduty.token = "rotated"
    with pytest.raises(AuthenticationError) as raised:
        sync_source(database_with_source, "pagerduty")  # built through the registry
    message = str(raised.value)
    assert "'pagerduty'" in message and pagerduty.url in message and "401" in message
    assert "$PAGERDUTY_TOKEN" in message and "read-only" in message
    with database_with_source.sessions() as session:
        (status,) = source_statuses(session)
    assert [entity for entity, _, error in status.entities if error and "401" in error] == [
        "services"
    ]
    assert raw_count(database_with_source, SERVICE) == 0
    assert raw_count(database_with_source, "incident") == 0


def test_malformed_payloads_stay_raw_with_their_error_and_the_rest_syncs(
    database_with_source: Database, pagerduty: FakePagerDuty
) -> None:
    pagerduty.spec("PINC003").patch = {"created_at": None}
    pagerduty.spec("PINC005").patch = {"id": MISSING}
    pagerduty.spec("PINC009").log_patch = {"acknowledge_log_entry": {"created_at": "yesterday"}}
    pagerduty.spec("PINC002").patch = {"title": None, "service": None, "urgency": None}
    report = sync(database_with_source, pagerduty)
    assert sorted(report.errors) == [
        "incident PINC003: incident.created_at: incident.created_at is missing",
        "incident PINC009: log_entries.created_at: 'yesterday' is not an ISO 8601 timestamp "
        "(e.g. 2025-03-01T14:30:00Z)",
        "incident incident-number/5: incident.id: incident.id is None, not an id",
    ]
    found = rows(database_with_source)
    assert sorted(found) == sorted(set(EXPECTED) - {"PINC003", "PINC005", "PINC009"})
    # A null title falls back to PagerDuty's summary; no service, no urgency, no priority.
    assert found["PINC002"] == (
        "[#2] Card declines spike",
        None,
        None,
        "2025-01-09T08:15",
        None,
        "2025-01-09T09:00",
    )
    assert found["PINC010"] == EXPECTED["PINC010"]
    with database_with_source.sessions() as session:
        (status,) = source_statuses(session)
        assert status.payload_errors == 3
        assert status.raw_counts == {"incident": 12, "service": 3}
        kept = session.scalars(select(RawRecord).where(RawRecord.external_id == "PINC009")).one()
        assert kept.error is not None and "log_entries.created_at" in kept.error
        assert kept.payload["incident"]["title"] == "Typo on the search page"
        assert [entry["type"] for entry in kept.payload["log_entries"]] == [
            "resolve_log_entry",
            "acknowledge_log_entry",
            "notify_log_entry",
            "trigger_log_entry",
        ]


def test_filters_restrict_services_urgency_and_severity(
    database_with_source: Database, pagerduty: FakePagerDuty
) -> None:
    report = sync(
        database_with_source,
        pagerduty,
        service_ids="PSVC001",
        urgencies=["high"],
        min_severity="p2",
    )
    # Checkout API, high urgency: PINC001 (P1), 004 (P2), 007 (P1), 010 (P1), 012 (P3).
    assert sorted(rows(database_with_source)) == ["PINC001", "PINC004", "PINC007", "PINC010"]
    assert report.stored["services"] == 1
    assert all(
        "service_ids%5B%5D=PSVC001" in path and "urgencies%5B%5D=high" in path
        for path in listed(pagerduty)
    )
    assert incident_cursor(database_with_source)["open"] == []


def test_a_window_beyond_the_offset_ceiling_is_listed_again_from_its_newest_incident(
    database_with_source: Database, pagerduty: FakePagerDuty
) -> None:
    pagerduty.offset_ceiling = 6  # PagerDuty's 10,000, made small
    made = connector(pagerduty, window_days=180)
    made.offset_ceiling = 6
    report = sync_source(database_with_source, "pagerduty", connector=made)
    assert report.errors == [] and rows(database_with_source) == EXPECTED
    starts = [_param(path, "since") for path in listed(pagerduty)[1:]]
    # One window of 180 days; the fake serves 3 to a page. Offsets 0 and 3 reach the ceiling
    # of 6, so the list starts again a second before the newest incident seen (PINC006,
    # 14 February 12:00), and once more before PINC011 (25 March 19:00).
    assert starts == [
        "2025-01-05T10:00:00Z",
        "2025-01-05T10:00:00Z",
        "2025-02-14T11:59:59Z",
        "2025-02-14T11:59:59Z",
        "2025-03-25T18:59:59Z",
    ]
    assert [_param(path, "offset") for path in listed(pagerduty)[1:]] == ["0", "3", "0", "3", "0"]
    assert raw_count(database_with_source, "incident") == 12


def test_bad_options_are_refused_with_the_option_named(
    database_with_source: Database, pagerduty: FakePagerDuty
) -> None:
    with pytest.raises(SourceError, match="window_days is 365"):
        connector(pagerduty, window_days=365)
    with pytest.raises(SourceError, match="service_names must map"):
        connector(pagerduty, service_names=["Checkout API"])
    with pytest.raises(SourceError, match="urgencies names 'urgent'"):
        connector(pagerduty, urgencies="urgent")
    with pytest.raises(SourceError, match="since is 'last year'"):
        connector(pagerduty, since="last year")
    with pytest.raises(SourceError, match="service_ids names PNOPE"):
        sync(database_with_source, pagerduty, service_ids=["PSVC001", "PNOPE"])
    with pytest.raises(SourceError, match=r"min_severity is 'SEV1'.*P1, P2, P3, P4, P5"):
        sync(database_with_source, pagerduty, min_severity="SEV1")


def test_the_since_option_starts_the_backfill_and_the_registry_builds_the_connector(
    database: Database, pagerduty: FakePagerDuty, monkeypatch: Any
) -> None:
    monkeypatch.setenv("PAGERDUTY_TOKEN", TOKEN)
    add_source(database, pagerduty.url + "/", since="2025-03-01", window_days=90)
    sync_source(database, "pagerduty")  # real clock: one window from 1 March to now or more
    assert sorted(rows(database)) == ["PINC008", "PINC009", "PINC010", "PINC011", "PINC012"]
    first = listed(pagerduty)[0]
    assert "date_range" not in first and _param(first, "since") == "2025-03-01T00:00:00Z"
