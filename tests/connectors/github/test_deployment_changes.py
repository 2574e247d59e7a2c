"""What a GitHub deployment shipped: the commits GitHub's compare API lists between the previous
successful deployment of its environment and this one, read over real HTTP from the local
stand-in (its default branch is the recorded commits of panjf2000/ants in commit order; the
deployments are made up, see ``fake_github.example_deployments``)."""

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import select

from streamwise.connectors.base import DeploymentRecord, EntityKind, ParseContext
from streamwise.connectors.github.client import NO_BASE
from streamwise.connectors.github.records import parse_payload, shipped_commits
from streamwise.model import Deployment, DeploymentChange, RawRecord, Release, SyncState
from streamwise.store import Database
from streamwise.sync import sync_source
from tests.connectors.github.fake_github import (
    FAILED_PRODUCTION,
    FIRST_PRODUCTION,
    FIRST_STAGING,
    REPOSITORY,
    SHIPPED,
    TOKEN,
    FakeGitHub,
    Fault,
    _deployment,
    _status,
    serve,
)
from tests.connectors.github.test_sync import ORG, add_source, connector
from tests.helpers import apply_org

# The default branch after FIRST_PRODUCTION (1a658c03), oldest first, read off the recorded
# commits by hand: what production's second success (902, SHIPPED) shipped.
SINCE_FIRST_PRODUCTION = [
    "82365ad22461715d37cd0c043ac1bc7256f4152e",  # 2021-09-11 style: fixed some typos
    "2201960d862462743cc1c9da0ca0911d905f25d3",  # 2021-09-13 style: add space
    "71fd3a37d0df59cf1e73fa1272ecd92bab11a7c1",  # 2021-09-18 Update the link
    "41f6b572b25da6363d7d7c45b77705fd8bee7466",  # 2021-09-26 Update the link
    "efe0bad6c0ab13b54d00909864e34a1060e41d6e",  # 2021-10-13 = FIRST_STAGING
    "c4dbfa49d85976eae2937b57db7a17e8c4e5e6ce",  # 2022-01-08 = FAILED_PRODUCTION
    "1b95a084ac08cd34e247b5d3d0063778cfc14748",  # 2022-01-08 Fix a failed test on Windows
    "0e17530397bcec737dd9a77fc9589a6866ec4f6e",  # 2022-02-14 = SHIPPED
]
SINCE_FIRST_STAGING = SINCE_FIRST_PRODUCTION[5:]
NEW = "ab" * 20
"""A made-up commit on top of the recorded history."""


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serve(FakeGitHub()) as fake:
        yield fake


@pytest.fixture
def database_with_source(database: Database, github: FakeGitHub, monkeypatch: Any) -> Database:
    apply_org(database, ORG)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    add_source(database, github.url)
    return database


def compares(github: FakeGitHub, start: int = 0) -> list[str]:
    return [path for path in github.requests[start:] if "/compare/" in path]


def changes(database: Database) -> dict[str, set[tuple[str, str]]]:
    """Deployment id (the last part of its key) → its (commit sha, method) links."""
    with database.sessions() as session:
        found: dict[str, set[tuple[str, str]]] = {
            external_id.rsplit("/", 1)[1]: set()
            for external_id in session.scalars(select(Deployment.external_id))
        }
        rows = session.execute(
            select(
                Deployment.external_id, DeploymentChange.commit_sha, DeploymentChange.method
            ).join(DeploymentChange, DeploymentChange.deployment_id == Deployment.id)
        ).all()
    for external_id, sha, method in rows:
        found[external_id.rsplit("/", 1)[1]].add((sha, method))
    return found


def compared(database: Database, identifier: int) -> Any:
    """The compare stored in the newest raw payload of a deployment."""
    with database.sessions() as session:
        payloads = session.scalars(
            select(RawRecord.payload)
            .where(RawRecord.external_id == f"{REPOSITORY}/deployments/{identifier}")
            .order_by(RawRecord.id)
        ).all()
    return payloads[-1].get("streamwise_compare")


def by_compare(shas: list[str]) -> set[tuple[str, str]]:
    return {(sha, "compare_api") for sha in shas}


def deployments_cursor(database: Database) -> Any:
    with database.sessions() as session:
        state = session.scalars(
            select(SyncState).where(SyncState.entity_kind == "deployments")
        ).one()
        return json.loads(state.cursor or "")


def new_commit(committed: str) -> dict[str, Any]:
    """A commit in the shape GitHub lists them, made up to extend the default branch."""
    person = {"name": "Andy Pan", "email": "panjf2000@gmail.com", "date": committed}
    return {
        "sha": NEW,
        "commit": {"author": person, "committer": person, "message": "Made up: after 0e17530"},
        "author": {"login": "panjf2000"},
        "committer": {"login": "panjf2000"},
        "parents": [{"sha": SHIPPED}],
    }


def deploy(
    github: FakeGitHub, identifier: int, sha: str, environment: str, created: datetime
) -> None:
    """A successful deployment, newest of the list."""
    at = created.strftime("%Y-%m-%dT%H:%M:%SZ")
    done = (created + timedelta(minutes=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    github.deployments.insert(0, _deployment(identifier, sha, environment, at, True))
    github.statuses[identifier] = [_status(identifier, identifier * 10 + 1, "success", done)]


def test_a_deployment_links_the_commits_since_the_last_success_of_its_environment(
    database_with_source: Database, github: FakeGitHub
) -> None:
    database = database_with_source
    report = sync_source(database, "github")
    assert report.errors == []
    assert changes(database) == {
        "898": set(),  # production's first: nothing to compare with
        "899": set(),  # staging's first
        "900": {(FAILED_PRODUCTION, "explicit")},  # failed: only its own sha, as before
        "901": by_compare(SINCE_FIRST_STAGING),
        "902": by_compare(SINCE_FIRST_PRODUCTION),  # 900 failed: 898 is the base
        "903": {(SHIPPED, "explicit")},
        "904": {(SHIPPED, "explicit")},
    }
    assert compared(database, 898) == {"base": None, "head": FIRST_PRODUCTION, "reason": NO_BASE}
    assert compared(database, 902) == {
        "base": FIRST_PRODUCTION,
        "head": SHIPPED,
        "base_deployment": 898,
        "status": "ahead",
        "ahead_by": 8,
        "behind_by": 0,
        "total_commits": 8,
        "commits": SINCE_FIRST_PRODUCTION,  # oldest first, as GitHub lists them
    }
    assert compared(database, 900) is None
    # Eight commits at the stand-in's seven to a page: 902 takes two requests, 901 one.
    assert sorted(compares(github)) == sorted(
        [
            f"/repos/{REPOSITORY}/compare/{FIRST_STAGING}...{SHIPPED}?per_page=100",
            f"/repos/{REPOSITORY}/compare/{FIRST_PRODUCTION}...{SHIPPED}?per_page=100",
            f"/repos/{REPOSITORY}/compare/{FIRST_PRODUCTION}...{SHIPPED}?per_page=100&page=2",
        ]
    )
    # The next read starts at 904's creation less five minutes: it reads nothing of either
    # environment's last success again, and only needs it as a base.
    assert deployments_cursor(database) == {
        REPOSITORY: "2022-02-15T09:00:00+00:00",
        "deployed": {
            REPOSITORY: {
                "production": [
                    {"id": 902, "created_at": "2022-02-14T14:00:00+00:00", "sha": SHIPPED}
                ],
                "staging": [{"id": 901, "created_at": "2022-02-14T13:55:00+00:00", "sha": SHIPPED}],
            }
        },
    }

    before = len(github.requests)
    again = sync_source(database, "github")
    assert compares(github, before) == []
    assert again.received["deployments"] == 1  # 904 (905 is read too, but has no outcome)
    assert sum(again.stored.values()) == 0


def test_a_later_sync_compares_with_the_success_the_cursor_remembers(
    database_with_source: Database, github: FakeGitHub
) -> None:
    database = database_with_source
    sync_source(database, "github")
    github.commits.append(new_commit("2022-02-16T08:00:00Z"))
    deploy(github, 906, NEW, "production", datetime(2022, 2, 17, 9, 0, tzinfo=UTC))
    deploy(github, 907, SHIPPED, "staging", datetime(2022, 2, 17, 9, 2, tzinfo=UTC))

    before = len(github.requests)
    report = sync_source(database, "github")
    # 902 was not read again: its sha came from the cursor. 907 redeploys 901's sha, which
    # needs no request.
    assert compares(github, before) == [
        f"/repos/{REPOSITORY}/compare/{SHIPPED}...{NEW}?per_page=100"
    ]
    assert report.stored["deployments"] == 2
    found = changes(database)
    assert found["906"] == {(NEW, "compare_api")}
    assert found["907"] == set()
    assert compared(database, 906)["base_deployment"] == 902
    assert compared(database, 907) == {
        "base": SHIPPED,
        "head": SHIPPED,
        "base_deployment": 901,
        "status": "identical",
        "ahead_by": 0,
        "behind_by": 0,
        "total_commits": 0,
        "commits": [],
    }
    assert found["902"] == by_compare(SINCE_FIRST_PRODUCTION)  # untouched

    # Both are read again through the overlap window; their compares come from the cursor.
    before = len(github.requests)
    third = sync_source(database, "github")
    assert third.received["deployments"] == 2
    assert compares(github, before) == []
    assert sum(third.stored.values()) == 0
    remembered = deployments_cursor(database)["deployed"][REPOSITORY]
    assert [entry["id"] for entry in remembered["production"]] == [902, 906]
    assert "compare" not in remembered["production"][0]
    assert remembered["production"][1]["compare"]["commits"] == [NEW]


def test_a_compare_github_cannot_answer_keeps_the_deployment_and_the_sync_going(
    database_with_source: Database, github: FakeGitHub
) -> None:
    database = database_with_source
    gone = "de" * 20  # production's first deployed sha was force-pushed away: GitHub says 404
    first = next(d for d in github.deployments if d["id"] == 898)
    first["sha"] = gone
    github.faults = [Fault(f"/compare/{FIRST_STAGING}...{SHIPPED}", 502) for _ in range(4)]
    sleeps: list[float] = []
    report = sync_source(database, "github", connector=connector(github, sleeps))
    assert report.errors == []
    assert github.faults == [] and len(sleeps) == 3  # four attempts, then given up
    found = changes(database)
    assert len(found) == 7
    assert found["902"] == set() and found["901"] == set()
    gone_compare = compared(database, 902)
    assert (gone_compare["base"], gone_compare["base_deployment"]) == (gone, 898)
    assert "404" in gone_compare["error"] and "commits" not in gone_compare
    assert "after 4 attempts" in compared(database, 901)["error"]
    with database.sessions() as session:
        statuses = {d.external_id.rsplit("/", 1)[1]: d.status for d in session.scalars(
            select(Deployment))}  # fmt: skip
        assert statuses["902"] == statuses["901"] == "success"
        assert len(session.scalars(select(Release)).all()) == 2  # the sync went on after them
    remembered = deployments_cursor(database)["deployed"][REPOSITORY]
    assert remembered["staging"] == [
        {"id": 901, "created_at": "2022-02-14T13:55:00+00:00", "sha": SHIPPED}
    ]

    # GitHub answers again: a full sync fills what it can. 902's base is still unknown.
    before = len(github.requests)
    sync_source(database, "github", full=True)
    found = changes(database)
    assert found["901"] == by_compare(SINCE_FIRST_STAGING)
    assert found["902"] == set() and "404" in compared(database, 902)["error"]
    assert len(compares(github, before)) == 2


def test_a_recent_deployment_whose_compare_failed_is_compared_by_the_next_sync(
    database_with_source: Database, github: FakeGitHub
) -> None:
    database = database_with_source
    now = datetime.now(UTC).replace(microsecond=0)
    github.commits.append(new_commit("2022-02-16T08:00:00Z"))
    deploy(github, 906, NEW, "production", now - timedelta(days=2))
    github.faults = [Fault(f"/compare/{SHIPPED}...{NEW}", 500) for _ in range(4)]
    sync_source(database, "github", connector=connector(github, []))
    assert changes(database)["906"] == set()
    assert "error" in compared(database, 906)

    before = len(github.requests)
    report = sync_source(database, "github", connector=connector(github, []))
    # The failure held the cursor back, so 906 was read and compared again.
    assert compares(github, before) == [
        f"/repos/{REPOSITORY}/compare/{SHIPPED}...{NEW}?per_page=100"
    ]
    assert report.stored["deployments"] == 1
    assert changes(database)["906"] == {(NEW, "compare_api")}


def test_a_cursor_from_before_compares_reads_the_deployments_once_in_full(
    database_with_source: Database, github: FakeGitHub
) -> None:
    database = database_with_source
    sync_source(database, "github")
    with database.transaction() as session:
        state = session.scalars(
            select(SyncState).where(SyncState.entity_kind == "deployments")
        ).one()
        state.cursor = json.dumps({REPOSITORY: "2022-02-15T09:00:00+00:00"})
    before = len(github.requests)
    report = sync_source(database, "github")
    assert report.received["deployments"] == 7  # all of them, not the overlap window only
    assert len(compares(github, before)) == 3
    assert report.stored["deployments"] == 0  # the same compares as stored
    assert set(deployments_cursor(database)["deployed"][REPOSITORY]) == {"production", "staging"}


def test_deployments_to_transient_environments_are_not_compared(
    database_with_source: Database, github: FakeGitHub
) -> None:
    for deployment in github.deployments:
        if deployment["environment"] == "staging":
            deployment["transient_environment"] = True  # a review app, say
    sync_source(database_with_source, "github")
    assert compares(github) == [
        f"/repos/{REPOSITORY}/compare/{FIRST_PRODUCTION}...{SHIPPED}?per_page=100",
        f"/repos/{REPOSITORY}/compare/{FIRST_PRODUCTION}...{SHIPPED}?per_page=100&page=2",
    ]
    found = changes(database_with_source)
    assert found["901"] == {(SHIPPED, "explicit")} and found["899"] == {(FIRST_STAGING, "explicit")}
    assert found["902"] == by_compare(SINCE_FIRST_PRODUCTION)
    assert set(deployments_cursor(database_with_source)["deployed"][REPOSITORY]) == {"production"}


def test_the_parser_reads_the_compare_from_the_payload_alone() -> None:
    deployment = _deployment(1, SHIPPED, "production", "2022-02-14T14:00:00Z", True)
    statuses = [_status(1, 11, "success", "2022-02-14T14:05:00Z")]
    payload: dict[str, Any] = {
        "repository": REPOSITORY,
        "deployment": deployment,
        "statuses": statuses,
    }
    # Stored before compares, or by a webhook: its own sha.
    assert shipped_commits(payload, SHIPPED) == ([SHIPPED], "explicit")
    payload["streamwise_compare"] = {"base": FIRST_STAGING, "head": SHIPPED,
                                     "commits": SINCE_FIRST_STAGING}  # fmt: skip
    record = parse_payload(EntityKind.DEPLOYMENT, payload, ParseContext())
    assert isinstance(record, DeploymentRecord)
    assert (record.commits, record.commits_method) == (SINCE_FIRST_STAGING, "compare_api")
    # A compare of another sha (the deployment was edited) or a failed one: none.
    assert shipped_commits(payload, FIRST_STAGING) == ([], "compare_api")
    payload["streamwise_compare"] = {"base": FIRST_STAGING, "head": SHIPPED, "error": "HTTP 500"}
    assert shipped_commits(payload, SHIPPED) == ([], "compare_api")
