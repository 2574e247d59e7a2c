"""Syncing GitHub over real HTTP from a local stand-in that serves recorded GitHub REST payloads
of panjf2000/ants (Apache DevLake's e2e data, Apache License 2.0:
../shared/fixtures/apache-devlake/github); deployments and releases, which were not recorded,
are made up in GitHub's shape by the stand-in."""

import json
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import func, select

from streamwise.connectors.github.client import GitHubConnector, make_client
from streamwise.connectors.http import RetryPolicy
from streamwise.connectors.sync_api import SourceSettings
from streamwise.errors import AuthenticationError, SourceError
from streamwise.model import (
    Commit,
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
    SyncState,
    Transition,
    WorkItem,
)
from streamwise.store import Database
from streamwise.sync import source_statuses, sync_source
from tests.connectors.github.fake_github import (
    REPOSITORY,
    SHIPPED,
    TOKEN,
    FakeGitHub,
    Fault,
    recorded_issues,
    recorded_pull_request_commits,
    recorded_pull_requests,
    recorded_reviews,
    serve,
)
from tests.helpers import apply_org

ORG = """
organisation: {name: Recorded, timezone: Asia/Shanghai}
type_mappings:
  - {label: bug, flow_item_type: defect}
  - {type: Issue, flow_item_type: feature}
value_streams:
  - key: ants
    name: ants
    select:
      projects: [panjf2000/ants]
      repositories: [panjf2000/ants]
      services: [panjf2000/ants]
    stages:
      - {name: Open, flow_state: active, statuses: [open]}
      - {name: Closed, flow_state: done, statuses: [closed]}
      - {name: Not planned, flow_state: canceled, statuses: [not_planned]}
"""
MODELS = {
    "pull_requests": PullRequest,
    "reviews": Review,
    "pr_commits": PullRequestCommit,
    "commits": Commit,
    "items": WorkItem,
    "transitions": Transition,
    "runs": PipelineRun,
    "deployments": Deployment,
    "releases": Release,
    "raw": RawRecord,
}


def expected_counts() -> dict[str, int]:
    """Counted from the recorded payloads directly, not through the connector."""
    pulls = recorded_pull_requests()
    commits = recorded_pull_request_commits()
    issues = [issue for issue in recorded_issues() if "pull_request" not in issue]
    fake = FakeGitHub()
    transitions = 0
    for issue in issues:
        events = fake.events.get(issue["number"], [])
        changes = [event for event in events if event["event"] in ("closed", "reopened")]
        closed_by_event = any(event["event"] == "closed" for event in changes)
        transitions += len(changes) + (issue["state"] == "closed" and not closed_by_event)
    return {
        "pull_requests": len(pulls),
        "reviews": sum(len(reviews) for reviews in recorded_reviews().values()),
        "pr_commits": sum(len(commits.get(pull["number"], [])) for pull in pulls),
        "commits": len({commit["sha"] for found in commits.values() for commit in found}),
        "items": len(issues),
        "transitions": transitions,
        "runs": len(fake.runs),
        "deployments": 7,  # 905 is older than GitHub keeps statuses and has none left
        "releases": 2,  # the draft is not released
    }


@pytest.fixture
def github() -> Iterator[FakeGitHub]:
    with serve(FakeGitHub()) as fake:
        yield fake


def add_source(database: Database, url: str, **options: Any) -> None:
    with database.transaction() as session:
        session.add(
            Source(
                name="github",
                kind="github",
                base_url=url,
                token_env="GITHUB_TOKEN",
                options={"repositories": [REPOSITORY], **options},
            )
        )


@pytest.fixture
def database_with_source(database: Database, github: FakeGitHub, monkeypatch: Any) -> Database:
    apply_org(database, ORG)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    add_source(database, github.url)
    return database


def connector(github: FakeGitHub, sleeps: list[float]) -> GitHubConnector:
    """The connector with a client that records its waits instead of sleeping."""
    settings = SourceSettings(
        "github", "github", github.url, TOKEN, "GITHUB_TOKEN", {"repositories": [REPOSITORY]}
    )
    client = make_client(
        settings, retry=RetryPolicy(attempts=4, backoff_s=0.01), sleep=sleeps.append
    )
    return GitHubConnector(settings, client)


def counts(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in MODELS.items()
        }


def listed(github: FakeGitHub, path: str, start: int = 0) -> list[str]:
    """Requests for the list at ``path`` (not its sub-resources), from request ``start`` on."""
    return [
        request
        for request in github.requests[start:]
        if request.split("?")[0].endswith(f"/repos/{REPOSITORY}/{path}")
    ]


def one(session: Any, model: Any, external_id: str) -> Any:
    return session.scalars(select(model).where(model.external_id == external_id)).one()


def test_first_sync_backfills_everything_and_a_second_changes_nothing(
    database_with_source: Database, github: FakeGitHub
) -> None:
    database = database_with_source
    report = sync_source(database, "github")
    expected = expected_counts()
    found = counts(database)
    assert {name: found[name] for name in expected} == expected
    assert expected["pull_requests"] == 49 and expected["reviews"] == 30
    assert report.received["pull_requests"] == 49
    assert report.errors == []
    assert len(listed(github, "pulls")) == 7  # 49 pull requests, seven to a page
    assert len(listed(github, "actions/runs")) == 5
    assert all(
        headers.get("Accept") == "application/vnd.github+json"
        and headers.get("X-GitHub-Api-Version") == "2022-11-28"
        and headers.get("Authorization") == f"Bearer {TOKEN}"
        for headers in github.headers
    )

    merged = sum(1 for pull in recorded_pull_requests() if pull["merged_at"])
    with database.sessions() as session:
        states = dict(
            session.execute(
                select(PullRequest.state, func.count()).group_by(PullRequest.state)
            ).all()
        )
        assert states["merged"] == merged == 26
        pull = one(session, PullRequest, f"{REPOSITORY}#41")
        assert pull.title == "support nonblocking submit and max blocking limit setting"
        assert pull.author == "choleraehyq"
        assert pull.merged_at.isoformat() == "2019-08-20T10:55:19+00:00"
        assert (pull.head_branch, pull.base_branch) == ("nonblocking", "master")
        assert pull.url == f"https://github.com/{REPOSITORY}/pull/41"
        assert pull.value_stream_id is not None
        links = session.scalars(
            select(PullRequestCommit).where(PullRequestCommit.pull_request_id == pull.id)
        ).all()
        assert [link.commit_sha for link in links] == ["58466b12b03a603d9f0331bbcc64a7557b27865d"]
        assert links[0].commit_id is not None
        # The author's own review comment at 09:05:02 does not count; panjf2000's does.
        assert pull.first_review_at.isoformat() == "2019-08-20T09:19:55+00:00"
        assert pull.approved_at is None
        reviews = session.scalars(select(Review).where(Review.pull_request_id == pull.id)).all()
        assert len(reviews) == 12 and {r.state for r in reviews} == {"commented"}

        fixes = one(session, PullRequest, f"{REPOSITORY}#23")  # "Fix #22" in its body
        (closes,) = session.scalars(
            select(PullRequestWorkItem).where(PullRequestWorkItem.pull_request_id == fixes.id)
        ).all()
        assert closes.work_item_key == f"{REPOSITORY}#22" and closes.work_item_id is not None

        bug = one(session, WorkItem, f"{REPOSITORY}#6")
        assert (bug.raw_type, bug.flow_item_type, bug.labels) == ("Issue", "defect", ["bug"])
        assert (bug.raw_status, bug.flow_state, bug.project) == ("closed", "done", REPOSITORY)
        assert bug.value_stream_id is not None
        declined = one(session, WorkItem, f"{REPOSITORY}#226")
        assert (declined.raw_status, declined.flow_state) == ("not_planned", "canceled")
        (change,) = session.scalars(
            select(Transition).where(Transition.work_item_id == declined.id)
        ).all()
        assert (change.from_status, change.to_status, change.actor) == (
            "open",
            "not_planned",
            "fufuok",
        )
        assert change.at.isoformat() == "2022-05-22T10:46:11+00:00"
        # Issue 12 has no recorded events: its closed_at stands in for the closing.
        early = one(session, WorkItem, f"{REPOSITORY}#12")
        (closing,) = session.scalars(
            select(Transition).where(Transition.work_item_id == early.id)
        ).all()
        assert closing.at.isoformat() == "2018-09-28T06:05:58+00:00"
        assert early.done_at is not None and early.done_at.isoformat().startswith("2018-09-28")

        runs = {
            run.external_id.rsplit("/", 1)[1]: run for run in session.scalars(select(PipelineRun))
        }
        assert (runs["2589885635"].name, runs["2589885635"].status) == ("CodeQL", "failed")
        assert runs["2566218975"].status == "running" and runs["2566218975"].finished_at is None
        assert runs["2559400725"].status == "canceled"  # recorded as CANCELLED
        assert runs["2983238245"].finished_at.isoformat() == "2022-09-03T05:16:16+00:00"

        deployments = {
            d.external_id.rsplit("/", 1)[1]: d for d in session.scalars(select(Deployment))
        }
        assert sorted(deployments) == ["898", "899", "900", "901", "902", "903", "904"]
        production = deployments["902"]
        assert (production.status, production.environment, production.is_production) == (
            "success",
            "production",
            True,
        )
        assert production.finished_at.isoformat() == "2022-02-14T14:07:30+00:00"
        assert production.sha == SHIPPED and production.service == REPOSITORY
        assert [d.status for d in (deployments["903"], deployments["904"])] == ["failed"] * 2
        assert deployments["903"].is_production is False
        # What it shipped since 898 (test_deployment_changes.py has the details).
        shipped = session.scalars(
            select(DeploymentChange).where(DeploymentChange.deployment_id == production.id)
        ).all()
        assert len(shipped) == 8 and SHIPPED in {change.commit_sha for change in shipped}
        assert all(change.commit_id is not None for change in shipped)

        releases = {r.version: r for r in session.scalars(select(Release))}
        assert sorted(releases) == ["v2.4.7", "v2.4.8"]
        assert releases["v2.4.8"].name == "v2.4.8"  # GitHub sent no name
        assert releases["v2.4.8"].released_at.isoformat() == "2022-02-14T15:30:00+00:00"

        cursors = {state.entity_kind: state.cursor for state in session.scalars(select(SyncState))}
    assert json.loads(cursors["pull_requests"] or "") == {REPOSITORY: "2022-04-14T17:31:43+00:00"}
    assert json.loads(cursors["issues"] or "") == {REPOSITORY: "2022-06-09T01:42:11+00:00"}

    before = len(github.requests)
    again = sync_source(database, "github")
    assert sum(again.stored.values()) == 0
    assert counts(database) == found
    pulls = listed(github, "pulls", before)
    assert len(pulls) == 1 and "direction=desc" in pulls[0]  # newest first, stopped at once
    assert all("since=" in path for path in listed(github, "issues", before))
    assert all("since=" in path for path in listed(github, "commits", before))
    assert all("created=%3E%3D" in path for path in listed(github, "actions/runs", before))


def test_changes_on_github_arrive_with_the_next_sync(
    database_with_source: Database, github: FakeGitHub
) -> None:
    database = database_with_source
    sync_source(database, "github")
    pull = next(pull for pull in github.pulls if pull["number"] == 211)
    pull.update(
        state="closed",
        merged_at="2022-06-20T10:00:00Z",
        closed_at="2022-06-20T10:00:00Z",
        updated_at="2022-06-20T10:00:00Z",
    )
    github.reviews[211] = [
        {
            "id": 990001,
            "user": {"login": "panjf2000"},
            "state": "APPROVED",
            "submitted_at": "2022-06-20T09:00:00Z",
            "body": "",
        }
    ]
    issue = next(issue for issue in github.issues if issue["number"] == 230)
    issue.update(
        state="closed",
        state_reason="completed",
        closed_at="2022-06-21T08:00:00Z",
        updated_at="2022-06-21T08:00:00Z",
    )
    github.events[230].append(
        {
            "id": 990002,
            "event": "closed",
            "actor": {"login": "panjf2000"},
            "created_at": "2022-06-21T08:00:00Z",
            "state_reason": "completed",
        }
    )
    declined = next(issue for issue in github.issues if issue["number"] == 226)
    declined.update(
        state="open", state_reason="reopened", closed_at=None, updated_at="2022-06-21T09:00:00Z"
    )
    github.events[226].append(
        {
            "id": 990003,
            "event": "reopened",
            "actor": {"login": "fufuok"},
            "created_at": "2022-06-21T09:00:00Z",
            "state_reason": None,
        }
    )
    before = len(github.requests)
    report = sync_source(database, "github")
    assert report.stored["pull_requests"] == 1 and report.stored["issues"] == 2
    assert sum(report.stored.values()) == 3
    sub_requests = [path for path in github.requests[before:] if "/reviews" in path]
    assert len(sub_requests) == 2  # only 211 and 210 (inside the overlap window) were read
    with database.sessions() as session:
        merged = one(session, PullRequest, f"{REPOSITORY}#211")
        assert merged.state == "merged"
        assert merged.approved_at.isoformat() == "2022-06-20T09:00:00+00:00"
        item = one(session, WorkItem, f"{REPOSITORY}#230")
        assert (item.raw_status, item.flow_state) == ("closed", "done")
        last = session.scalars(
            select(Transition).where(Transition.work_item_id == item.id).order_by(Transition.at)
        ).all()[-1]
        assert (last.from_status, last.to_status) == ("open", "closed")
        reopened = one(session, WorkItem, f"{REPOSITORY}#226")
        assert (reopened.raw_status, reopened.flow_state) == ("open", "active")
        changes = session.scalars(
            select(Transition).where(Transition.work_item_id == reopened.id).order_by(Transition.at)
        ).all()
        assert [(t.from_status, t.to_status) for t in changes] == [
            ("open", "not_planned"),
            ("not_planned", "open"),
        ]


def test_an_interrupted_backfill_resumes_after_the_last_stored_page(
    database_with_source: Database, github: FakeGitHub
) -> None:
    database = database_with_source
    github.faults = [Fault("/pulls", 401, page=4)]
    with pytest.raises(AuthenticationError):
        sync_source(database, "github")
    assert counts(database)["pull_requests"] == 21  # three pages of seven
    with database.sessions() as session:
        state = session.scalars(
            select(SyncState).where(SyncState.entity_kind == "pull_requests")
        ).one()
        assert "backfill" in json.loads(state.cursor or "")[REPOSITORY]

    before = len(github.requests)
    sync_source(database, "github")
    assert counts(database) == {**counts(database), **expected_counts()}
    assert all("direction=asc" in path for path in listed(github, "pulls", before))
    reviewed = [path for path in github.requests[before:] if path.endswith("/reviews?per_page=100")]
    assert len(reviewed) < 49 - 21 + 3  # the stored pages were not read again (but the overlap)
    with database.sessions() as session:
        state = session.scalars(
            select(SyncState).where(SyncState.entity_kind == "pull_requests")
        ).one()
        assert json.loads(state.cursor or "") == {REPOSITORY: "2022-04-14T17:31:43+00:00"}


def test_rate_limits_and_server_errors_are_waited_out_as_github_asks(
    database_with_source: Database, github: FakeGitHub
) -> None:
    github.faults = [
        Fault("/pulls", 429, {"Retry-After": "7"}, page=2),
        Fault(
            "/issues",
            403,
            {"X-RateLimit-Remaining": "0", "X-RateLimit-Reset": str(int(time.time()) + 120)},
        ),
        Fault("/actions/runs", 500, page=3),
    ]
    sleeps: list[float] = []
    report = sync_source(database_with_source, "github", connector=connector(github, sleeps))
    assert github.faults == []
    assert sleeps[0] == 7.0  # Retry-After
    assert 60 <= sleeps[1] <= 120  # until the quota resets
    assert len(sleeps) == 3 and 0 < sleeps[2] < 5  # backoff after the 500
    assert report.received["pull_requests"] == 49
    found = counts(database_with_source)
    assert {name: found[name] for name in expected_counts()} == expected_counts()


def test_an_expired_token_stops_the_source_with_a_clear_message(
    database_with_source: Database, github: FakeGitHub
) -> None:
    github.token = "rotated"
    with pytest.raises(AuthenticationError) as raised:
        sync_source(database_with_source, "github")
    message = str(raised.value)
    assert "'github'" in message and github.url in message and "401" in message
    assert "$GITHUB_TOKEN" in message and "`repo`" in message and "actions:read" in message
    with database_with_source.sessions() as session:
        (status,) = source_statuses(session)
    assert [entity for entity, _, error in status.entities if error and "401" in error] == [
        "pull_requests"
    ]
    assert counts(database_with_source)["raw"] == 0


def test_no_access_to_actions_stops_the_source_and_keeps_what_was_read(
    database_with_source: Database, github: FakeGitHub
) -> None:
    github.faults = [Fault("/actions/runs", 403)]  # no rate-limit headers: not a rate limit
    with pytest.raises(AuthenticationError, match="actions:read"):
        sync_source(database_with_source, "github")
    found = counts(database_with_source)
    assert found["pull_requests"] == 49 and found["items"] == expected_counts()["items"]
    assert found["runs"] == 0


def test_github_enterprise_server_under_api_v3(
    database: Database, github: FakeGitHub, monkeypatch: Any
) -> None:
    apply_org(database, ORG)
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    github.prefix = "/api/v3"
    add_source(database, f"{github.url}/api/v3/", overlap_minutes=60)
    sync_source(database, "github")
    assert counts(database)["pull_requests"] == 49
    assert all(path.startswith("/api/v3/repos/") for path in github.requests)
    assert sum("page=7" in path for path in github.requests) >= 1  # followed absolute links


def test_missing_and_null_fields(database_with_source: Database, github: FakeGitHub) -> None:
    broken = next(pull for pull in github.pulls if pull["number"] == 9)
    del broken["created_at"]
    ghost = next(pull for pull in github.pulls if pull["number"] == 48)
    ghost.update(user=None, body=None, head=None)
    github.reviews[41][1]["user"] = None
    issue = next(issue for issue in github.issues if issue["number"] == 226)
    issue.update(labels=None, assignee=None, assignees=None, body=None, title=None)
    github.events[226][-1]["actor"] = None
    report = sync_source(database_with_source, "github")
    assert [error for error in report.errors if "pull_request.created_at" in error] == [
        f"pull_request {REPOSITORY}#9: pull_request.created_at: pull_request.created_at is missing"
    ]
    assert len(report.errors) == 1
    expected = expected_counts()
    found = counts(database_with_source)
    assert found["pull_requests"] == expected["pull_requests"] - 1
    assert found["items"] == expected["items"]
    with database_with_source.sessions() as session:
        (status,) = source_statuses(session)
        assert status.payload_errors == 1
        kept = session.scalars(
            select(RawRecord).where(
                RawRecord.external_id == f"{REPOSITORY}#9", RawRecord.error.is_not(None)
            )
        ).one()
        assert kept.payload["pull_request"]["number"] == 9
        pull = one(session, PullRequest, f"{REPOSITORY}#48")
        assert (pull.author, pull.body, pull.head_branch) == (None, None, None)
        assert pull.merged_at is not None
        reviewers = session.scalars(
            select(Review.reviewer).join(PullRequest).where(PullRequest.number == 41)
        ).all()
        assert reviewers.count(None) == 1
        item = one(session, WorkItem, f"{REPOSITORY}#226")
        assert (item.title, item.labels, item.assignee_id) == ("", [], None)
        assert session.scalars(
            select(Transition.actor).where(Transition.work_item_id == item.id)
        ).all() == [None]
        # Recorded commits with a null GitHub author keep the git author's name.
        nameless = next(
            commit
            for found in github.pull_commits.values()
            for commit in found
            if commit["author"] is None
        )
        commit = one(session, Commit, f"{REPOSITORY}@{nameless['sha']}")
        assert commit.author == nameless["commit"]["author"]["name"]


def test_a_run_still_going_is_read_again_until_it_finishes(
    database_with_source: Database, github: FakeGitHub
) -> None:
    now = datetime.now(UTC)

    def stamp(moment: datetime) -> str:
        return moment.strftime("%Y-%m-%dT%H:%M:%SZ")

    still_going, finished = github.runs[0], github.runs[1]
    started = stamp(now - timedelta(days=3))
    still_going.update(
        status="in_progress",
        conclusion=None,
        created_at=started,
        run_started_at=started,
        updated_at=started,
    )
    done = stamp(now - timedelta(hours=1))
    finished.update(created_at=done, run_started_at=done, updated_at=done)
    sync_source(database_with_source, "github")
    external_id = f"{REPOSITORY}/actions/runs/{still_going['id']}"
    with database_with_source.sessions() as session:
        assert one(session, PipelineRun, external_id).status == "running"

    still_going.update(status="completed", conclusion="success", updated_at=stamp(now))
    before = len(github.requests)
    report = sync_source(database_with_source, "github")
    assert report.stored["workflow_runs"] == 1
    (runs,) = listed(github, "actions/runs", before)
    assert f"created=%3E%3D{started[:10]}" in runs  # held back to the run still going
    with database_with_source.sessions() as session:
        run = one(session, PipelineRun, external_id)
        assert run.status == "success" and run.finished_at is not None


def test_a_source_without_repositories_is_refused(
    database: Database, github: FakeGitHub, monkeypatch: Any
) -> None:
    monkeypatch.setenv("GITHUB_TOKEN", TOKEN)
    with database.transaction() as session:
        session.add(
            Source(name="github", kind="github", base_url=github.url, token_env="GITHUB_TOKEN")
        )
    with pytest.raises(SourceError, match="no repositories"):
        sync_source(database, "github")
    assert github.requests == []
