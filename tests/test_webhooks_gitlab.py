"""GitLab webhook deliveries through the real ASGI app: checked against X-Gitlab-Token, merged
into what the source holds, stored once, mapped and derived at once. The deliveries are written
by hand in the shape GitLab's webhook documentation gives (timestamps in its webhook spelling,
``2025-04-01 09:00:00 UTC``)."""

import json
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from streamwise.api.app import create_app
from streamwise.config import Settings
from streamwise.connectors.base import ParseContext, TransitionRecord
from streamwise.connectors.gitlab.records import parse_issue
from streamwise.model import (
    Deployment,
    DeploymentChange,
    PipelineRun,
    PullRequest,
    PullRequestCommit,
    PullRequestWorkItem,
    RawRecord,
    Release,
    Review,
    Source,
    Transition,
    WorkItem,
)
from streamwise.store import Database
from tests.connectors.gitlab.test_sync import ORG
from tests.helpers import apply_org

SECRET = "gl-hook-secret"
SHOP = "acme/platform/shop"
URL = "/webhooks/gitlab/gl"
PROJECT = {
    "id": 42,
    "name": "shop",
    "path_with_namespace": SHOP,
    "web_url": f"https://gitlab.example.com/{SHOP}",
}
ALICE = {"id": 11, "name": "Alice", "username": "alice", "email": "alice@example.com"}
BOB = {"id": 12, "name": "Bob", "username": "bob", "email": "bob@example.com"}
SHA = "9f" * 20


@pytest.fixture
def client(database: Database, monkeypatch: pytest.MonkeyPatch) -> TestClient:
    monkeypatch.setenv("GL_HOOK", SECRET)
    apply_org(database, ORG)
    with database.transaction() as session:
        options = {
            "projects": [SHOP],
            "webhook_secret_env": "GL_HOOK",
            "production_environments": ["live-eu"],
        }
        session.add(
            Source(
                name="gl",
                kind="gitlab",
                base_url="https://gitlab.example.com",
                token_env="GITLAB_TOKEN",
                options=options,
            )
        )
    return TestClient(create_app(Settings(database_url=database.url), database))


def post(
    client: TestClient, event: str, delivery: Any, token: str | None = SECRET, raw: bytes = b""
) -> Any:
    headers = {"x-gitlab-event": event, "content-type": "application/json"}
    if token is not None:
        headers["x-gitlab-token"] = token
    return client.post(URL, content=raw or json.dumps(delivery).encode(), headers=headers)


def count(database: Database, model: Any) -> int:
    with database.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(model)) or 0)


def label(title: str) -> dict[str, Any]:
    return {"id": sum(map(ord, title)), "title": title, "color": "#428BCA", "type": "ProjectLabel"}


def issue_hook(action: str, at: str, labels: list[str], **attributes: Any) -> dict[str, Any]:
    fields = {
        "id": 42009,
        "iid": 9,
        "title": "Webhook issue",
        "description": "",
        "state": "opened",
        "created_at": "2025-04-01 09:00:00 UTC",
        "updated_at": at,
        "closed_at": None,
        "author_id": 11,
        "type": "Issue",
        "action": action,
        "url": f"https://gitlab.example.com/{SHOP}/-/issues/9",
        "labels": [label(name) for name in labels],
    }
    fields.update(attributes)
    return {
        "object_kind": "issue",
        "event_type": "issue",
        "user": BOB if action != "open" else ALICE,
        "project": PROJECT,
        "object_attributes": fields,
        "labels": [label(name) for name in labels],
        "assignees": [{"id": 12, "name": "Bob", "username": "bob"}],
        "changes": {},
    }


def test_issue_events_become_a_work_item_with_its_transitions(
    client: TestClient, database: Database
) -> None:
    opened = issue_hook("open", "2025-04-01 09:00:00 UTC", ["workflow::todo"])
    response = post(client, "Issue Hook", opened)
    assert response.status_code == 202
    assert response.json() == {
        "event": "Issue Hook",
        "stored": True,
        "mapped": True,
        "items_derived": 1,
    }
    moved = issue_hook("update", "2025-04-02 10:00:00 UTC", ["workflow::doing"])
    moved["changes"] = {
        "updated_at": {"previous": "2025-04-01 09:00:00 UTC", "current": "2025-04-02 10:00:00 UTC"},
        "labels": {"previous": [label("workflow::todo")], "current": [label("workflow::doing")]},
    }
    assert post(client, "Issue Hook", moved).json()["stored"] is True
    closed = issue_hook(
        "close",
        "2025-04-03 11:00:00 UTC",
        ["workflow::doing"],
        state="closed",
        closed_at="2025-04-03 11:00:00 UTC",
    )
    assert post(client, "Issue Hook", closed).json()["stored"] is True

    with database.sessions() as session:
        item = session.scalars(select(WorkItem)).one()
        assert (item.key, item.title, item.raw_status, item.flow_state) == (
            f"{SHOP}#9",
            "Webhook issue",
            "closed",
            "done",
        )
        assert item.labels == ["workflow::doing"]
        moves = session.scalars(select(Transition).order_by(Transition.at)).all()
        assert [(t.from_status, t.to_status, t.actor, t.at.isoformat()) for t in moves] == [
            ("opened", "todo", "alice", "2025-04-01T09:00:00+00:00"),
            ("todo", "doing", "bob", "2025-04-02T10:00:00+00:00"),
            ("doing", "closed", "bob", "2025-04-03T11:00:00+00:00"),
        ]
        assert item.work_started_at.isoformat() == "2025-04-02T10:00:00+00:00"
        assert item.done_at.isoformat() == "2025-04-03T11:00:00+00:00"


def test_a_redelivered_event_is_stored_once(client: TestClient, database: Database) -> None:
    closed = issue_hook(
        "close", "2025-04-03 11:00:00 UTC", [], state="closed", closed_at="2025-04-03 11:00:00 UTC"
    )
    assert post(client, "Issue Hook", closed).json()["stored"] is True
    again = post(client, "Issue Hook", closed)
    assert again.status_code == 202 and again.json()["stored"] is False
    assert count(database, RawRecord) == 1 and count(database, Transition) == 1


def test_a_webhook_transition_and_the_sync_s_event_are_one_transition() -> None:
    """A delivery is timed to the second, GitLab's events to the millisecond: the transitions
    both give for one closing carry one id, so a sync after a webhook does not add another."""
    context = ParseContext(timezone=ZoneInfo("UTC"))
    issue = {"iid": 9, "state": "closed", "created_at": "2025-04-01T09:00:00.000Z"}
    from_sync = {
        "project": SHOP,
        "issue": issue,
        "state_events": [{"id": 777, "state": "closed", "created_at": "2025-04-03T11:00:00.456Z"}],
    }
    from_hook = {
        "project": SHOP,
        "issue": issue,
        "state_events": [
            {
                "id": "hook:closed@2025-04-03T11:00:00Z",
                "state": "closed",
                "created_at": "2025-04-03T11:00:00+00:00",
            }
        ],
    }
    ids = [
        [r.external_id for r in parse_issue(p, context) if isinstance(r, TransitionRecord)]
        for p in (from_sync, from_hook)
    ]
    assert ids[0] == ids[1] == [f"{SHOP}#9/status/closed@2025-04-03T11:00:00Z"]


def merge_request_hook(action: str, at: str, user: dict[str, Any], **attributes: Any) -> Any:
    fields = {
        "id": 4207,
        "iid": 7,
        "title": "Webhook MR",
        "description": "Closes #9",
        "state": "opened",
        "created_at": "2025-04-01 12:00:00 UTC",
        "updated_at": at,
        "source_branch": "feature/9",
        "target_branch": "main",
        "author_id": 11,
        "merge_commit_sha": None,
        "action": action,
        "url": f"https://gitlab.example.com/{SHOP}/-/merge_requests/7",
        "last_commit": {
            "id": SHA,
            "title": "Do it",
            "message": "Do it\n",
            "timestamp": "2025-04-01T11:50:00+00:00",
            "author": {"name": "Alice", "email": "alice@example.com"},
        },
    }
    fields.update(attributes)
    return {
        "object_kind": "merge_request",
        "event_type": "merge_request",
        "user": user,
        "project": PROJECT,
        "object_attributes": fields,
        "labels": [],
        "changes": {},
    }


def test_merge_request_events_keep_the_approval_they_announce(
    client: TestClient, database: Database
) -> None:
    assert (
        post(
            client,
            "Merge Request Hook",
            merge_request_hook("open", "2025-04-01 12:00:00 UTC", ALICE),
        ).status_code
        == 202
    )
    approved = merge_request_hook("approved", "2025-04-01 15:00:00 UTC", BOB)
    before = datetime.now(UTC)
    assert post(client, "Merge Request Hook", approved).json()["stored"] is True
    after = datetime.now(UTC)
    assert post(client, "Merge Request Hook", approved).json()["stored"] is False  # redelivered
    merged = merge_request_hook(
        "merge", "2025-04-02 09:00:00 UTC", BOB, state="merged", merge_commit_sha="ab" * 20
    )
    assert post(client, "Merge Request Hook", merged).json()["stored"] is True

    with database.sessions() as session:
        pull = session.scalars(select(PullRequest)).one()
        assert (pull.number, pull.author, pull.state) == (7, "alice", "merged")
        assert pull.merged_at.isoformat() == "2025-04-02T09:00:00+00:00"
        assert pull.merge_commit_sha == "ab" * 20 and pull.head_branch == "feature/9"
        review = session.scalars(select(Review)).one()  # the approval was kept by the merge
        assert (review.reviewer, review.state) == ("bob", "approved")
        assert before <= review.submitted_at <= after  # when GitLab announced it
        assert pull.approved_at == review.submitted_at == pull.first_review_at
        assert session.scalars(select(PullRequestCommit.commit_sha)).all() == [SHA]
        assert session.scalars(select(PullRequestWorkItem.work_item_key)).all() == [f"{SHOP}#9"]
    assert count(database, RawRecord) == 3


def test_pipeline_deployment_and_release_events(client: TestClient, database: Database) -> None:
    pipeline = {
        "object_kind": "pipeline",
        "object_attributes": {
            "id": 301,
            "iid": 201,
            "name": None,
            "ref": "main",
            "tag": False,
            "sha": SHA,
            "source": "push",
            "status": "running",
            "created_at": "2025-04-02 09:01:00 UTC",
            "finished_at": None,
            "duration": None,
            "url": f"https://gitlab.example.com/{SHOP}/-/pipelines/301",
        },
        "project": PROJECT,
    }
    assert post(client, "Pipeline Hook", pipeline).json()["stored"] is True
    pipeline["object_attributes"].update(status="success", finished_at="2025-04-02 09:07:30 UTC")
    assert post(client, "Pipeline Hook", pipeline).json()["stored"] is True

    def deployment(identifier: int, status: str, at: str, environment: str, tier: str) -> Any:
        return {
            "object_kind": "deployment",
            "status": status,
            "status_changed_at": at,
            "deployment_id": identifier,
            "deployable_id": 900 + identifier,
            "deployable_url": f"https://gitlab.example.com/{SHOP}/-/jobs/{900 + identifier}",
            "environment": environment,
            "environment_tier": tier,
            "environment_slug": environment,
            "environment_external_url": None,
            "project": PROJECT,
            "short_sha": SHA[:8],
            "user": ALICE,
            "commit_url": f"https://gitlab.example.com/{SHOP}/-/commit/{SHA}",
            "commit_title": "Do it",
        }

    for delivery in (
        deployment(77, "running", "2025-04-02 11:50:00 +0200", "production", "production"),
        deployment(77, "success", "2025-04-02 12:00:00 +0200", "production", "production"),
        deployment(78, "success", "2025-04-02 12:30:00 +0200", "live-eu", "other"),
        deployment(79, "failed", "2025-04-02 12:40:00 +0200", "pre-prod", "staging"),
    ):
        assert post(client, "Deployment Hook", delivery).json()["stored"] is True
    release = {
        "object_kind": "release",
        "id": 5,
        "action": "create",
        "tag": "v2.0",
        "name": "Webhook release",
        "description": "",
        "project": PROJECT,
        "created_at": "2025-04-03 12:00:00 UTC",
        "released_at": "2025-04-03 12:00:00 UTC",
        "url": f"https://gitlab.example.com/{SHOP}/-/releases/v2.0",
        "commit": {"id": SHA},
    }
    assert post(client, "Release Hook", release).json()["stored"] is True
    deleted = post(client, "Release Hook", {**release, "tag": "v1.9", "action": "delete"})
    assert deleted.status_code == 202 and deleted.json()["mapped"] is False

    with database.sessions() as session:
        run = session.scalars(select(PipelineRun)).one()
        assert (run.name, run.status, run.sha, run.branch) == ("pipeline", "success", SHA, "main")
        assert run.started_at.isoformat() == "2025-04-02T09:01:00+00:00"
        assert run.finished_at.isoformat() == "2025-04-02T09:07:30+00:00"
        found = {d.external_id.rsplit("/", 1)[1]: d for d in session.scalars(select(Deployment))}
        assert {k: (d.status, d.is_production) for k, d in found.items()} == {
            "77": ("success", True),  # tier production
            "78": ("success", True),  # listed in production_environments
            "79": ("failed", False),  # neither: the organisation's name rule says no
        }
        production = found["77"]
        assert production.started_at.isoformat() == "2025-04-02T09:50:00+00:00"
        assert production.finished_at.isoformat() == "2025-04-02T10:00:00+00:00"
        assert (production.sha, production.service) == (SHA, SHOP)
        change = session.scalars(
            select(DeploymentChange).where(DeploymentChange.deployment_id == production.id)
        ).one()
        assert (change.commit_sha, change.method) == (SHA, "explicit")  # a sync adds the compare
        shipped = session.scalars(select(Release)).one()
        assert (shipped.version, shipped.name) == ("v2.0", "Webhook release")
        assert shipped.released_at.isoformat() == "2025-04-03T12:00:00+00:00"


def test_a_wrong_or_missing_token_is_refused_and_stores_nothing(
    client: TestClient, database: Database
) -> None:
    opened = issue_hook("open", "2025-04-01 09:00:00 UTC", [])
    wrong = post(client, "Issue Hook", opened, token="guess")
    assert wrong.status_code == 401 and "X-Gitlab-Token" in wrong.json()["detail"]
    assert post(client, "Issue Hook", opened, token=None).status_code == 401
    assert count(database, RawRecord) == 0


def test_malformed_deliveries_get_400_naming_the_problem_and_store_nothing(
    client: TestClient, database: Database
) -> None:
    not_json = post(client, "Issue Hook", None, raw=b"{oops")
    assert not_json.status_code == 400 and "not JSON" in not_json.json()["detail"]
    listed = post(client, "Issue Hook", [1, 2])
    assert listed.status_code == 400 and "JSON object" in listed.json()["detail"]
    no_attributes = post(client, "Issue Hook", {"object_kind": "issue", "project": PROJECT})
    assert no_attributes.status_code == 400
    assert no_attributes.json()["detail"] == "the Issue Hook delivery has no object_attributes"
    no_project = issue_hook("open", "2025-04-01 09:00:00 UTC", [])
    del no_project["project"]
    refused = post(client, "Issue Hook", no_project)
    assert "has no project.path_with_namespace" in refused.json()["detail"]
    bad_time = issue_hook("open", "2025-04-01 09:00:00 UTC", [], created_at="last Tuesday")
    unreadable = post(client, "Issue Hook", bad_time)
    assert unreadable.status_code == 400
    assert "issue.created_at" in unreadable.json()["detail"]
    no_deployment = post(
        client,
        "Deployment Hook",
        {"object_kind": "deployment", "project": PROJECT, "status": "success"},
    )
    assert no_deployment.json()["detail"] == "the Deployment Hook delivery has no deployment_id"
    assert count(database, RawRecord) == 0

    push = post(client, "Push Hook", {"object_kind": "push", "project": PROJECT})
    assert push.status_code == 202 and push.json()["mapped"] is False
    assert count(database, RawRecord) == 0
