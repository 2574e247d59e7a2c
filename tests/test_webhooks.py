"""CDEvents pushed to the web app: authenticated, stored raw once, mapped and derived at once.
Through the real ASGI app (httpx), on SQLite and PostgreSQL."""

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from streamwise.api.app import create_app
from streamwise.config import Settings
from streamwise.model import (
    Deployment,
    Incident,
    ItemFact,
    PipelineRun,
    RawRecord,
    Transition,
    WorkItem,
)
from streamwise.store import Database
from tests.helpers import apply_org

SECRET = "hook-secret"
ORG = """
organisation: {name: Events, timezone: UTC}
sources:
  - {name: events, kind: cdevents, token_env: CDEVENTS_SECRET}
type_mappings:
  - {type: Story, flow_item_type: feature}
value_streams:
  - key: pay
    name: Payments
    select: {projects: [PAY], services: [pay-api]}
    stages:
      - {name: Backlog, flow_state: new, statuses: [To Do]}
      - {name: Build, flow_state: active, statuses: [In Progress]}
      - {name: Done, flow_state: done, statuses: [Done]}
"""
URL = "/webhooks/cdevents/events"


def cdevent(
    event_id: str,
    kind: str,
    subject_id: str,
    at: str,
    content: dict[str, Any] | None = None,
    custom: dict[str, Any] | None = None,
    spec: str = "0.4.1",
) -> dict[str, Any]:
    body: dict[str, Any] = {
        "context": {
            "version": spec,
            "id": event_id,
            "source": "/tests",
            "type": f"dev.cdevents.{kind}",
            "timestamp": at,
        },
        "subject": {"id": subject_id, "source": "/tests", "content": content or {}},
    }
    if custom is not None:
        body["customData"] = custom
    return body


def binary(client: TestClient, event: dict[str, Any], secret: str = SECRET) -> Any:
    headers = {
        "ce-specversion": "1.0",
        "ce-id": event["context"]["id"],
        "ce-source": "/tests",
        "ce-type": event["context"]["type"],
        "content-type": "application/json",
        "authorization": f"Bearer {secret}",
    }
    return client.post(URL, content=json.dumps(event), headers=headers)


def structured(client: TestClient, event: dict[str, Any]) -> Any:
    envelope = {
        "specversion": "1.0",
        "id": event["context"]["id"],
        "source": "/tests",
        "type": event["context"]["type"],
        "datacontenttype": "application/json",
        "data": event,
    }
    headers = {
        "content-type": "application/cloudevents+json",
        "authorization": f"Bearer {SECRET}",
    }
    return client.post(URL, content=json.dumps(envelope), headers=headers)


def count(database: Database, model: Any) -> int:
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def client(database: Database, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("CDEVENTS_SECRET", SECRET)
    apply_org(database, ORG)
    return TestClient(create_app(Settings(database_url=database.url), database))


def test_a_ticket_s_life_becomes_a_work_item_with_transitions_and_facts(
    client: TestClient, database: Database
) -> None:
    created = cdevent(
        "e1", "ticket.created.0.1.0", "PAY-7", "2025-05-05T09:00:00Z",
        {"summary": "Refunds", "ticketType": "Story", "uri": "https://t/PAY-7"},
        {"status": "To Do", "project": "PAY"},
    )  # fmt: skip
    started = cdevent(
        "e2", "ticket.updated.0.1.0", "PAY-7", "2025-05-06T10:00:00Z", {}, {"status": "In Progress"}
    )
    closed = cdevent(
        "e3", "ticket.closed.0.1.0", "PAY-7", "2025-05-08T10:00:00Z", {}, {"status": "Done"}
    )
    assert binary(client, created).status_code == 202
    assert structured(client, started).status_code == 202
    response = binary(client, closed)
    assert response.status_code == 202
    assert response.json() == {"event": "e3", "stored": True, "mapped": True, "items_derived": 1}

    with database.sessions() as session:
        item = session.scalars(select(WorkItem)).one()
        assert (item.key, item.title, item.raw_status, item.flow_state) == (
            "PAY-7",
            "Refunds",
            "Done",
            "done",
        )
        moves = [
            (t.from_status, t.to_status)
            for t in session.scalars(select(Transition).order_by(Transition.at))
        ]
        assert moves == [("To Do", "In Progress"), ("In Progress", "Done")]
        fact = session.get(ItemFact, item.id)
        assert fact is not None
        assert fact.flow_time_s == 2 * 86_400  # in progress 05-06 10:00 → done 05-08 10:00
    summary = client.get("/api/summary").json()
    assert summary["value_streams"][0]["work_items_done"] == 1


def test_a_redelivered_event_is_stored_once(client: TestClient, database: Database) -> None:
    event = cdevent(
        "e1", "ticket.created.0.1.0", "PAY-1", "2025-05-05T09:00:00Z", {}, {"project": "PAY"}
    )
    assert binary(client, event).json()["stored"] is True
    again = binary(client, event)
    assert again.status_code == 202 and again.json()["stored"] is False
    assert count(database, RawRecord) == 1


def test_deployments_pipeline_runs_and_incidents_in_two_spec_versions(
    client: TestClient, database: Database
) -> None:
    events = [
        cdevent("d1", "service.deployed.0.1.1", "pay-api", "2025-05-05T12:00:00Z",
                {"environment": {"id": "production"}, "artifactId": "pkg:oci/pay@v1"},
                {"commits": ["a" * 40]}, spec="0.3.0"),
        cdevent("d2", "service.rolledback.0.2.0", "pay-api", "2025-05-05T13:00:00Z",
                {"environment": {"id": "production", "source": "/k8s"}}, {"rollbackOf": "d1"}),
        cdevent("p1", "pipelinerun.started.0.2.0", "run-9", "2025-05-05T11:00:00Z",
                {"pipelineName": "ci", "url": "https://ci/9"}),
        cdevent("p2", "pipelinerun.finished.0.2.0", "run-9", "2025-05-05T11:20:00Z",
                {"pipelineName": "ci", "outcome": "failure"}),
        cdevent("i2", "incident.resolved.0.2.0", "inc-1", "2025-05-05T14:30:00Z", {}),
        cdevent("i1", "incident.detected.0.2.0", "inc-1", "2025-05-05T12:30:00Z",
                {"description": "Refunds fail", "service": {"id": "pay-api"}}, {"causedBy": "d1"}),
    ]  # fmt: skip
    for event in events:
        assert binary(client, event).status_code == 202, event["context"]["id"]
    with database.sessions() as session:
        deployments = {d.external_id: d for d in session.scalars(select(Deployment))}
        assert set(deployments) == {"d1", "d2"}
        assert deployments["d1"].is_production and not deployments["d1"].is_rollback
        assert deployments["d2"].is_rollback and deployments["d2"].rollback_of_external_id == "d1"
        run = session.scalars(select(PipelineRun)).one()
        assert (run.name, run.status) == ("ci", "failed")
        assert (run.finished_at - run.started_at).total_seconds() == 20 * 60
        incident = session.scalars(select(Incident)).one()  # resolved arrived first
        assert incident.title == "Refunds fail"
        assert (incident.resolved_at - incident.opened_at).total_seconds() == 2 * 3600


def test_bad_token_and_malformed_bodies_are_refused_and_store_nothing(
    client: TestClient, database: Database
) -> None:
    event = cdevent("e1", "ticket.created.0.1.0", "PAY-1", "2025-05-05T09:00:00Z")
    assert binary(client, event, secret="wrong").status_code == 401
    auth = {"authorization": f"Bearer {SECRET}"}
    not_json = client.post(URL, content=b"{oops", headers={**auth, "ce-specversion": "1.0"})
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["detail"]
    no_id = cdevent("", "ticket.created.0.1.0", "PAY-1", "2025-05-05T09:00:00Z")
    assert "context.id is missing" in binary(client, no_id).json()["detail"]
    bad_type = cdevent("e9", "ticket", "PAY-1", "2025-05-05T09:00:00Z")
    assert "is not dev.cdevents" in binary(client, bad_type).json()["detail"]
    plain = client.post(URL, content=json.dumps(event), headers=auth)
    assert plain.status_code == 400 and "not a CloudEvent" in plain.json()["detail"]
    assert client.post("/webhooks/cdevents/nope", content=b"{}").status_code == 404
    assert count(database, RawRecord) == 0


def test_a_valid_event_of_a_subject_we_do_not_map_is_kept_raw(
    client: TestClient, database: Database
) -> None:
    event = cdevent("c1", "change.merged.0.2.0", "acme/pay#4", "2025-05-05T09:00:00Z")
    response = binary(client, event)
    assert response.status_code == 202 and response.json()["mapped"] is False
    with database.sessions() as session:
        assert session.scalars(select(RawRecord.entity_kind)).one() == "cdevent"


# -- Jira ------------------------------------------------------------------------------------

JIRA_SECRET = "jira-hook"


@pytest.fixture
def jira_client(database: Database, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    from streamwise.model import Source
    from tests.connectors.jira.test_sync import ORG as JIRA_ORG

    monkeypatch.setenv("JIRA_HOOK", JIRA_SECRET)
    apply_org(database, JIRA_ORG)
    with database.transaction() as session:
        session.add(
            Source(
                name="jira",
                kind="jira",
                base_url="https://x",
                token_env="JIRA_TOKEN",
                options={"webhook_secret_env": "JIRA_HOOK"},
            )
        )
    return TestClient(create_app(Settings(database_url=database.url), database))


def _jira_delivery(change: dict[str, Any] | None, status: str, at_ms: int) -> bytes:
    from tests.connectors.fake_jira import recorded_issues

    issue = next(issue for issue in recorded_issues() if issue["key"] == "K5-3")
    issue.pop("changelog")
    issue["fields"]["status"] = {"name": status}
    delivery: dict[str, Any] = {
        "timestamp": at_ms,
        "webhookEvent": "jira:issue_updated" if change else "jira:issue_created",
        "issue": issue,
        "user": {"displayName": "Ada"},
    }
    if change:
        delivery["changelog"] = change
    return json.dumps(delivery).encode()


def _signed(body: bytes, secret: str = JIRA_SECRET) -> dict[str, str]:
    import hashlib
    import hmac

    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    return {"x-hub-signature": f"sha256={digest}", "content-type": "application/json"}


def test_jira_webhooks_add_changes_to_the_stored_issue(
    jira_client: TestClient, database: Database
) -> None:
    created = _jira_delivery(None, "To Do", 1_700_000_000_000)
    assert (
        jira_client.post(
            "/webhooks/jira/jira", content=created, headers=_signed(created)
        ).status_code
        == 202
    )
    moved = {
        "id": "777",
        "items": [{"field": "status", "fromString": "To Do", "toString": "In Progress"}],
    }
    updated = _jira_delivery(moved, "In Progress", 1_700_003_600_000)
    url = f"/webhooks/jira/jira?secret={JIRA_SECRET}"  # Data Center style
    first = jira_client.post(url, content=updated)
    assert first.status_code == 202 and first.json()["stored"] is True
    assert jira_client.post(url, content=updated).json()["stored"] is False  # redelivered
    with database.sessions() as session:
        item = session.scalars(select(WorkItem).where(WorkItem.key == "K5-3")).one()
        assert item.raw_status == "In Progress"
        (move,) = session.scalars(select(Transition)).all()
        assert (move.from_status, move.to_status) == ("To Do", "In Progress")
        assert move.at.isoformat() == "2023-11-14T23:13:20+00:00"  # 1_700_003_600 s
        latest = session.scalars(select(RawRecord).order_by(RawRecord.id.desc())).first()
        assert latest is not None
        assert [h["id"] for h in latest.payload["changelog"]["histories"]] == ["777"]


def test_jira_webhooks_with_a_bad_signature_or_body_are_refused(
    jira_client: TestClient, database: Database
) -> None:
    body = _jira_delivery(None, "To Do", 1_700_000_000_000)
    forged = jira_client.post("/webhooks/jira/jira", content=body, headers=_signed(body, "guess"))
    assert forged.status_code == 401
    assert jira_client.post("/webhooks/jira/jira?secret=guess", content=body).status_code == 401
    no_issue = b'{"webhookEvent": "jira:issue_updated"}'
    refused = jira_client.post("/webhooks/jira/jira", content=no_issue, headers=_signed(no_issue))
    assert refused.status_code == 400 and "no issue" in refused.json()["detail"]
    assert count(database, RawRecord) == 0


# -- GitHub ----------------------------------------------------------------------------------

GITHUB_SECRET = "gh-hook"


@pytest.fixture
def github_client(database: Database, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    from streamwise.model import Source
    from tests.connectors.github.fake_github import REPOSITORY
    from tests.connectors.github.test_sync import ORG as GITHUB_ORG

    monkeypatch.setenv("GH_HOOK", GITHUB_SECRET)
    apply_org(database, GITHUB_ORG)
    with database.transaction() as session:
        options = {"repositories": [REPOSITORY], "webhook_secret_env": "GH_HOOK"}
        session.add(
            Source(name="gh", kind="github", base_url="https://api.github.com", options=options)
        )
    return TestClient(create_app(Settings(database_url=database.url), database))


def _github(
    client: TestClient, event: str, delivery: dict[str, Any], secret: str = GITHUB_SECRET
) -> Any:
    import hashlib
    import hmac

    body = json.dumps(delivery).encode()
    digest = hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
    headers = {
        "x-github-event": event,
        "x-github-delivery": f"delivery-{event}",
        "x-hub-signature-256": f"sha256={digest}",
        "content-type": "application/json",
    }
    return client.post("/webhooks/github/gh", content=body, headers=headers)


def test_github_deliveries_update_pull_requests_and_keep_their_reviews(
    github_client: TestClient, database: Database
) -> None:
    from streamwise.model import PullRequest, Review
    from tests.connectors.github.fake_github import (
        REPOSITORY,
        recorded_pull_requests,
        recorded_reviews,
    )

    reviews = recorded_reviews()
    pull = next(p for p in recorded_pull_requests() if reviews.get(p["number"]))
    review = reviews[pull["number"]][0]
    repository = {"full_name": REPOSITORY}
    opened = {"action": "opened", "pull_request": pull, "repository": repository}
    assert _github(github_client, "pull_request", opened).status_code == 202
    reviewed = {
        "action": "submitted",
        "pull_request": pull,
        "review": review,
        "repository": repository,
    }
    first = _github(github_client, "pull_request_review", reviewed)
    assert first.status_code == 202 and first.json()["stored"] is True
    assert _github(github_client, "pull_request_review", reviewed).json()["stored"] is False
    edited = {**pull, "title": "Renamed by a webhook"}
    changed = {"action": "edited", "pull_request": edited, "repository": repository}
    assert _github(github_client, "pull_request", changed).json()["stored"] is True
    with database.sessions() as session:
        row = session.scalars(select(PullRequest)).one()
        assert (row.number, row.title) == (pull["number"], "Renamed by a webhook")
        assert session.scalar(select(func.count()).select_from(Review)) == 1  # review kept

    assert (
        _github(github_client, "ping", {"zen": "Keep it simple", "repository": repository}).json()[
            "mapped"
        ]
        is False
    )
    forged = _github(github_client, "pull_request", opened, secret="guess")
    assert forged.status_code == 401
