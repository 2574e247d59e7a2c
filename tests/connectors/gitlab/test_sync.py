"""Syncing GitLab over real HTTP from a local stand-in (fake_gitlab.py) whose data is made up
by hand in GitLab's documented shape; every expected value below is counted from that data."""

import json
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from streamwise.connectors.gitlab.client import GitLabConnector, make_client, projects_of
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
from streamwise.store import Database, open_database
from streamwise.sync import source_statuses, sync_source
from tests.conftest import ON_POSTGRES, pg_database, pg_url
from tests.connectors.gitlab.fake_gitlab import (
    API,
    BOB,
    SHOP,
    TOKEN,
    FakeGitLab,
    Fault,
    _label_event,
    _note,
    serve,
    sha,
)
from tests.helpers import apply_org

ORG = """
organisation: {name: Acme, timezone: UTC}
type_mappings:
  - {label: bug, flow_item_type: defect}
  - {type: feature, flow_item_type: feature}
  - {type: Issue, flow_item_type: feature}
  - {type: Incident, flow_item_type: defect}
value_streams:
  - key: shop
    name: Shop
    select:
      projects: [acme/platform/shop, acme/api]
      repositories: [acme/platform/shop, acme/api]
      services: [acme/platform/shop]
    stages:
      - {name: Backlog, flow_state: new, statuses: [opened, todo]}
      - {name: Doing, flow_state: active, statuses: [doing]}
      - {name: Review, flow_state: active, statuses: [{status: review, flow_state: waiting}]}
      - {name: Done, flow_state: done, statuses: [closed]}
"""
OPTIONS = {"projects": f"{SHOP}, 7", "production_environments": "live-eu"}
MODELS = {
    "items": WorkItem,
    "transitions": Transition,
    "pull_requests": PullRequest,
    "reviews": Review,
    "pr_commits": PullRequestCommit,
    "commits": Commit,
    "runs": PipelineRun,
    "deployments": Deployment,
    "changes": DeploymentChange,
    "releases": Release,
    "raw": RawRecord,
}
EXPECTED = {
    "items": 6,  # shop #1 to #5, api #1
    "transitions": 8,  # #1: 4 (three label swaps, the closing), #2: closed and reopened,
    #                    #3: its closed_at, #4: one scoped label
    "pull_requests": 3,
    "reviews": 4,  # !1: bob's approval and two comments (alice's own does not count), !2: 1
    "pr_commits": 4,  # !1: c1 c2, !2: c3, !3: c4
    "commits": 9,  # shop main c0 c1 c2 m1 c5 c6, c3 and c4 of merge requests, api a1
    "runs": 5,
    "deployments": 6,
    "changes": 11,  # d10: 1, d11: 1, d12: 3, d13: 4, d15: 1, d14: 1
    "releases": 2,
    "raw": 29,  # 6 issues, 3 merge requests, 7 default-branch commits, 5, 6, 2
}


@pytest.fixture
def gitlab() -> Iterator[FakeGitLab]:
    with serve(FakeGitLab()) as fake:
        yield fake


def add_source(database: Database, url: str, **options: Any) -> None:
    with database.transaction() as session:
        session.add(
            Source(
                name="gitlab",
                kind="gitlab",
                base_url=url,
                token_env="GITLAB_TOKEN",
                options={**OPTIONS, **options},
            )
        )


def prepare(database: Database, url: str, **options: Any) -> Database:
    apply_org(database, ORG)
    add_source(database, url, **options)
    return database


@pytest.fixture
def synced_db(database: Database, gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch) -> Database:
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    return prepare(database, gitlab.url)


@pytest.fixture
def reference_database(
    template_database: str, tmp_path: Path, gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Database]:
    """A second database, synced from the same data without interruption."""
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    if ON_POSTGRES:
        with pg_database("sw_reference", template=template_database) as name:
            database = open_database(pg_url(name))
            yield prepare(database, gitlab.url)
            database.dispose()
    else:
        path = tmp_path / "reference.db"
        shutil.copyfile(template_database, path)
        database = open_database(f"sqlite:///{path}")
        yield prepare(database, gitlab.url)
        database.dispose()


def connector(gitlab: FakeGitLab, sleeps: list[float], attempts: int = 4) -> GitLabConnector:
    """The connector with a client that records its waits instead of sleeping."""
    settings = SourceSettings("gitlab", "gitlab", gitlab.url, TOKEN, "GITLAB_TOKEN", OPTIONS)
    client = make_client(
        settings, retry=RetryPolicy(attempts=attempts, backoff_s=0.01), sleep=sleeps.append
    )
    return GitLabConnector(settings, client)


def counts(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in MODELS.items()
        }


def one(session: Any, model: Any, external_id: str) -> Any:
    return session.scalars(select(model).where(model.external_id == external_id)).one()


def listed(gitlab: FakeGitLab, suffix: str, start: int = 0) -> list[str]:
    return [path for path in gitlab.requests[start:] if path.split("?")[0].endswith(suffix)]


def snapshot(database: Database) -> dict[str, Any]:
    """Every model row as its tool-side identity and values (no database ids)."""
    found: dict[str, Any] = {}
    with database.sessions() as session:
        for name, model in MODELS.items():
            if name == "raw" or not hasattr(model, "external_id"):
                continue
            columns = [
                c for c in model.__table__.columns if c.name != "id" and not c.name.endswith("_id")
            ]
            found[name] = sorted(
                tuple(str(value) for value in row)
                for row in session.execute(select(*columns)).all()
            )
        found["changes"] = sorted(
            session.execute(
                select(
                    Deployment.external_id,
                    DeploymentChange.commit_sha,
                    DeploymentChange.method,
                    DeploymentChange.commit_id.is_not(None),
                ).join(Deployment, Deployment.id == DeploymentChange.deployment_id)
            ).all()
        )
        found["pr_commits"] = sorted(
            session.execute(
                select(PullRequest.external_id, PullRequestCommit.commit_sha).join(
                    PullRequest, PullRequest.id == PullRequestCommit.pull_request_id
                )
            ).all()
        )
    return found


# -- a first sync reads everything, a second stores nothing --------------------------------------
def test_first_sync_backfills_every_entity_and_a_second_stores_nothing(
    synced_db: Database, gitlab: FakeGitLab
) -> None:
    report = sync_source(synced_db, "gitlab")
    assert report.errors == []
    assert counts(synced_db) == EXPECTED
    assert report.received["issues"] == 6 and report.received["merge_requests"] == 3

    shop_path = "/api/v4/projects/acme%2Fplatform%2Fshop"
    assert len(listed(gitlab, f"{shop_path}/issues")) == 3  # five issues, two to a page
    assert len(listed(gitlab, "/api/v4/projects/7/issues")) == 1  # the numeric id, as given
    merge_requests = listed(gitlab, f"{shop_path}/merge_requests")
    assert len(merge_requests) == 2 and "cursor=" in merge_requests[1]  # Link rel="next"
    pipelines = listed(gitlab, f"{shop_path}/pipelines")
    assert [("&page=" in path) for path in pipelines] == [False, True, True]  # X-Next-Page
    assert all(headers.get("PRIVATE-TOKEN") == TOKEN for headers in gitlab.headers)

    with synced_db.sessions() as session:
        cursors = {s.entity_kind: s.cursor for s in session.scalars(select(SyncState))}
    assert json.loads(cursors["issues"] or "") == {
        SHOP: "2025-03-09T10:00:00+00:00",
        "7": "2025-03-02T00:00:00+00:00",
    }
    assert json.loads(cursors["merge_requests"] or "") == {SHOP: "2025-03-06T10:00:00+00:00"}
    assert json.loads(cursors["commits"] or "") == {
        SHOP: "2025-03-08T10:00:00+00:00",
        "7": "2025-02-27T09:00:00+00:00",
    }
    assert json.loads(cursors["deployments"] or "") == {SHOP: "2025-03-08T12:00:00+00:00"}

    before = len(gitlab.requests)
    again = sync_source(synced_db, "gitlab")
    assert sum(again.stored.values()) == 0
    assert counts(synced_db) == EXPECTED
    issues = listed(gitlab, f"{shop_path}/issues", before)
    assert len(issues) == 1 and "updated_after=2025-03-09T09%3A55%3A00Z" in issues[0]
    assert all(
        "updated_after=" in p
        for p in listed(gitlab, f"{shop_path}/deployments", before)
        if "status=success" not in p
    )
    assert all("since=" in path for path in listed(gitlab, "/repository/commits", before))


def test_a_work_item_and_its_transitions(synced_db: Database) -> None:
    sync_source(synced_db, "gitlab")
    with synced_db.sessions() as session:
        item = one(session, WorkItem, f"{SHOP}#1")
        assert (item.title, item.raw_type, item.flow_item_type) == (
            "Checkout button",
            "feature",  # from the type:: label
            "feature",
        )
        assert (item.raw_status, item.flow_state, item.project) == ("closed", "done", SHOP)
        assert item.labels == ["type::feature", "workflow::review"]
        assert item.url == f"https://gitlab.example.com/{SHOP}/-/issues/1"
        assert item.value_stream_id is not None
        moves = session.scalars(
            select(Transition).where(Transition.work_item_id == item.id).order_by(Transition.at)
        ).all()
        assert [(t.from_status, t.to_status, t.actor, t.at.isoformat()) for t in moves] == [
            ("opened", "todo", "alice", "2025-03-01T09:00:00+00:00"),
            ("todo", "doing", "bob", "2025-03-02T10:00:00+00:00"),
            ("doing", "review", "bob", "2025-03-03T15:00:00+00:00"),
            ("review", "closed", "bob", "2025-03-04T12:00:00+00:00"),
        ]
        assert item.work_started_at.isoformat() == "2025-03-02T10:00:00+00:00"
        assert item.done_at.isoformat() == "2025-03-04T12:00:00+00:00"

        reopened = one(session, WorkItem, f"{SHOP}#2")
        assert (reopened.raw_status, reopened.flow_item_type) == ("opened", "defect")
        assert [
            (t.from_status, t.to_status)
            for t in session.scalars(
                select(Transition)
                .where(Transition.work_item_id == reopened.id)
                .order_by(Transition.at)
            )
        ] == [("opened", "closed"), ("closed", "opened")]
        old = one(session, WorkItem, f"{SHOP}#3")  # no events: closed_at stands in
        (closing,) = session.scalars(select(Transition).where(Transition.work_item_id == old.id))
        assert (closing.to_status, closing.at.isoformat()) == (
            "closed",
            "2025-03-07T08:00:00+00:00",
        )
        incident = one(session, WorkItem, f"{SHOP}#4")
        assert (incident.raw_type, incident.raw_status, incident.flow_state) == (
            "Incident",
            "doing",
            "active",
        )
        assert one(session, WorkItem, f"{API}#1").project == API


def test_merge_requests_with_their_reviews_approvals_and_commits(synced_db: Database) -> None:
    sync_source(synced_db, "gitlab")
    with synced_db.sessions() as session:
        merged = one(session, PullRequest, f"{SHOP}#1")
        assert (merged.state, merged.author, merged.merge_commit_sha) == (
            "merged",
            "alice",
            sha("m1"),
        )
        assert (merged.head_branch, merged.base_branch) == ("feature/1-checkout", "main")
        assert merged.merged_at.isoformat() == "2025-03-03T16:00:00+00:00"
        # alice's own note at 12:00 does not count; bob's comment at 13:30 is the first review.
        assert merged.first_review_at.isoformat() == "2025-03-02T13:30:00+00:00"
        assert merged.approved_at.isoformat() == "2025-03-03T14:00:00+00:00"
        reviews = session.scalars(
            select(Review).where(Review.pull_request_id == merged.id).order_by(Review.submitted_at)
        ).all()
        assert [(r.reviewer, r.state) for r in reviews] == [
            ("bob", "commented"),
            ("carol", "commented"),
            ("bob", "approved"),
        ]
        shas = session.scalars(
            select(PullRequestCommit.commit_sha).where(
                PullRequestCommit.pull_request_id == merged.id
            )
        ).all()
        assert sorted(shas) == sorted([sha("c1"), sha("c2")])
        (link,) = session.scalars(
            select(PullRequestWorkItem).where(PullRequestWorkItem.pull_request_id == merged.id)
        ).all()
        assert (link.work_item_key, link.method) == (f"{SHOP}#1", "explicit")
        assert link.work_item_id is not None

        # Approved on a GitLab that gives no approved_at: the approval's system note times it.
        opened = one(session, PullRequest, f"{SHOP}#2")
        assert (opened.state, opened.merged_at, opened.merge_commit_sha) == ("open", None, None)
        assert opened.approved_at.isoformat() == "2025-03-06T10:00:00+00:00"
        assert opened.first_review_at == opened.approved_at
        keys = session.scalars(
            select(PullRequestWorkItem.work_item_key).where(
                PullRequestWorkItem.pull_request_id == opened.id
            )
        ).all()
        assert keys == [f"{SHOP}#2"]  # "mentions #5" does not close it
        closed = one(session, PullRequest, f"{SHOP}#3")
        assert (closed.state, closed.first_review_at) == ("closed", None)


def test_pipelines_deployments_with_compare_and_releases(synced_db: Database) -> None:
    sync_source(synced_db, "gitlab")
    with synced_db.sessions() as session:
        runs = {r.external_id.rsplit("/", 1)[1]: r for r in session.scalars(select(PipelineRun))}
        assert {k: r.status for k, r in runs.items()} == {
            "101": "success",
            "102": "failed",
            "103": "success",
            "104": "canceled",
            "105": "running",
        }
        assert (runs["101"].name, runs["103"].name) == ("pipeline", "Release")
        assert runs["101"].finished_at.isoformat() == "2025-03-02T10:45:00+00:00"
        assert runs["105"].finished_at is None and runs["102"].sha == sha("m1")

        deployments = {
            d.external_id.rsplit("/", 1)[1]: d for d in session.scalars(select(Deployment))
        }
        assert {k: (d.environment, d.status, d.is_production) for k, d in deployments.items()} == {
            "10": ("production", "success", True),
            "11": ("staging", "success", False),
            "12": ("production", "failed", True),
            "13": ("production", "success", True),
            "14": ("production", "running", True),
            "15": ("live-eu", "success", True),  # tier "other", but listed in the options
        }
        assert deployments["13"].service == SHOP
        assert deployments["13"].finished_at.isoformat() == "2025-03-07T10:10:00+00:00"

        def changes(number: str) -> list[tuple[str, str]]:
            rows = session.scalars(
                select(DeploymentChange)
                .where(DeploymentChange.deployment_id == deployments[number].id)
                .order_by(DeploymentChange.id)
            ).all()
            assert all(row.commit_id is not None for row in rows)
            return [(row.commit_sha, row.method) for row in rows]

        # d13 follows d10 (c0), the last successful production deployment: c0..c5.
        assert changes("13") == [(sha(c), "compare_api") for c in ("c1", "c2", "m1", "c5")]
        assert changes("12") == [(sha(c), "compare_api") for c in ("c1", "c2", "m1")]
        assert changes("14") == [(sha("c6"), "compare_api")]  # after d13, not the failed d12
        assert changes("10") == [(sha("c0"), "explicit")]  # the first: nothing to compare with
        assert changes("15") == [(sha("c5"), "explicit")]
        raw = session.scalars(
            select(RawRecord).where(RawRecord.external_id == f"{SHOP}/deployments/13")
        ).one()
        compare = raw.payload["streamwise_compare"]
        assert (compare["from"], compare["to"], compare["previous_deployment"]) == (
            sha("c0"),
            sha("c5"),
            10,
        )
        assert "diffs" not in compare

        releases = {r.version: r for r in session.scalars(select(Release))}
        assert releases["v1.0"].name == "v1.0"  # GitLab sent no name
        assert releases["v1.0"].value_stream_id is not None  # by its project
        assert releases["v1.0"].released_at.isoformat() == "2025-03-04T09:00:00+00:00"
        assert releases["v1.1"].released_at is None  # upcoming: planned, not released
        assert releases["v1.1"].planned_at.isoformat() == "2099-01-01T00:00:00+00:00"


# -- incremental syncs ---------------------------------------------------------------------------
def test_changes_on_gitlab_arrive_with_the_next_sync(
    synced_db: Database, gitlab: FakeGitLab
) -> None:
    sync_source(synced_db, "gitlab")
    docs = gitlab.shop.issues[4]
    docs.update(labels=["workflow::doing"], updated_at="2025-03-10T09:00:00.000Z")
    gitlab.shop.label_events[5] = [
        _label_event(531, BOB, "2025-03-10T09:00:00.000Z", "workflow::doing", "add")
    ]
    refund = gitlab.shop.merge_requests[1]
    refund.update(
        state="merged",
        merged_at="2025-03-10T11:00:00.000Z",
        updated_at="2025-03-10T11:00:00.000Z",
        merge_commit_sha=sha("m2"),
    )
    report = sync_source(synced_db, "gitlab")
    assert (report.stored["issues"], report.stored["merge_requests"]) == (1, 1)
    assert sum(report.stored.values()) == 2
    with synced_db.sessions() as session:
        item = one(session, WorkItem, f"{SHOP}#5")
        assert (item.raw_status, item.flow_state) == ("doing", "active")
        (move,) = session.scalars(select(Transition).where(Transition.work_item_id == item.id))
        assert (move.from_status, move.to_status, move.actor) == ("opened", "doing", "bob")
        assert move.at.isoformat() == "2025-03-10T09:00:00+00:00"
        merged = one(session, PullRequest, f"{SHOP}#2")
        assert (merged.state, merged.merge_commit_sha) == ("merged", sha("m2"))
    assert counts(synced_db)["raw"] == EXPECTED["raw"] + 2


# -- faults --------------------------------------------------------------------------------------
def test_a_429_is_waited_out_as_retry_after_says(synced_db: Database, gitlab: FakeGitLab) -> None:
    gitlab.faults = [
        Fault("/issues", 429, {"Retry-After": "7"}, page=2),
        Fault("/pipelines", 429, {"Retry-After": "3", "RateLimit-Remaining": "0"}, page=3),
    ]
    sleeps: list[float] = []
    report = sync_source(synced_db, "gitlab", connector=connector(gitlab, sleeps))
    assert gitlab.faults == []
    assert sleeps == [7.0, 3.0]
    assert report.errors == [] and counts(synced_db) == EXPECTED


def test_a_500_mid_sync_then_a_second_sync_gives_the_same_rows_as_an_uninterrupted_one(
    synced_db: Database, gitlab: FakeGitLab, reference_database: Database
) -> None:
    sync_source(reference_database, "gitlab")
    expected = snapshot(reference_database)
    start = len(gitlab.requests)
    gitlab.faults = [Fault("/merge_requests", 500, page=2), Fault("/merge_requests", 500, page=2)]
    sleeps: list[float] = []
    with pytest.raises(SourceError, match="still failing after 2 attempts"):
        sync_source(synced_db, "gitlab", connector=connector(gitlab, sleeps, attempts=2))
    assert len(sleeps) == 1  # one backoff between the two attempts
    partial = counts(synced_db)
    assert partial["items"] == 6 and partial["pull_requests"] == 2  # the first page: !3, !1
    assert partial["runs"] == 0
    with synced_db.sessions() as session:
        (status,) = source_statuses(session)
        errors = {entity: error for entity, _, error in status.entities if error}
        assert list(errors) == ["merge_requests"] and "HTTP 500" in errors["merge_requests"]

    before = len(gitlab.requests)
    assert before > start
    sync_source(synced_db, "gitlab")
    resumed = listed(gitlab, "/merge_requests", before)
    assert resumed and "updated_after=2025-03-03T15%3A55%3A00Z" in resumed[0]  # after !1
    assert counts(synced_db) == EXPECTED
    assert snapshot(synced_db) == expected


def test_an_expired_token_stops_the_source_and_stores_nothing(
    synced_db: Database, gitlab: FakeGitLab
) -> None:
    gitlab.token = "rotated"
    with pytest.raises(AuthenticationError) as raised:
        sync_source(synced_db, "gitlab")
    message = str(raised.value)
    assert "'gitlab'" in message and gitlab.url in message and "401" in message
    assert "$GITLAB_TOKEN" in message and "`read_api`" in message
    assert counts(synced_db)["raw"] == 0
    with synced_db.sessions() as session:
        (status,) = source_statuses(session)
    assert [entity for entity, _, error in status.entities if error and "401" in error] == [
        "issues"
    ]


def test_a_token_refused_mid_sync_keeps_the_pages_stored_before(
    synced_db: Database, gitlab: FakeGitLab
) -> None:
    gitlab.faults = [Fault("/pipelines", 401, page=2)]
    with pytest.raises(AuthenticationError, match="401"):
        sync_source(synced_db, "gitlab")
    found = counts(synced_db)
    assert found["runs"] == 2  # the first page; the refused one stored nothing
    assert found["pull_requests"] == 3 and found["deployments"] == 0


def test_malformed_payloads_stay_raw_with_their_error_and_the_rest_syncs(
    synced_db: Database, gitlab: FakeGitLab
) -> None:
    gitlab.shop.issues[2]["created_at"] = None
    gitlab.shop.deployments[4]["environment"] = None  # d15
    gitlab.shop.pipelines[0]["status"] = "exploded"
    # Null fields that are not required are read as absent.
    first = gitlab.shop.merge_requests[0]
    first.update(description=None, author=None, source_branch=None)
    gitlab.shop.notes[1].append(_note(105, None, "2025-03-03T10:00:00.000Z", "from a ghost"))
    gitlab.shop.issues[0].update(assignees=None, labels=None, title=None)
    report = sync_source(synced_db, "gitlab")
    assert sorted(report.errors) == [
        f"deployment {SHOP}/deployments/15: deployment.environment.name: "
        "deployment 15 names no environment",
        f"pipeline_run {SHOP}/pipelines/101: pipeline.status: unknown pipeline status 'exploded'",
        f"work_item {SHOP}#3: issue.created_at: issue.created_at is missing",
    ]
    found = counts(synced_db)
    assert found["raw"] == EXPECTED["raw"]
    assert (found["items"], found["deployments"], found["runs"]) == (5, 5, 4)
    with synced_db.sessions() as session:
        (status,) = source_statuses(session)
        assert status.payload_errors == 3
        kept = session.scalars(select(RawRecord).where(RawRecord.external_id == f"{SHOP}#3")).one()
        assert kept.error is not None and "issue.created_at" in kept.error
        assert kept.payload["issue"]["title"] == "Old report"
        merged = one(session, PullRequest, f"{SHOP}#1")
        assert (merged.author, merged.body, merged.head_branch) == (None, None, None)
        # Without a known author every note counts: alice's, bob's, carol's and the ghost's.
        reviewers = session.scalars(
            select(Review.reviewer).where(Review.pull_request_id == merged.id)
        ).all()
        assert len(reviewers) == 5 and reviewers.count(None) == 1
        item = one(session, WorkItem, f"{SHOP}#1")
        assert (item.title, item.labels, item.assignee_id, item.raw_status) == (
            "",
            [],
            None,
            "closed",
        )


def test_projects_and_options_are_checked_before_any_request(gitlab: FakeGitLab) -> None:
    def settings(**options: Any) -> SourceSettings:
        return SourceSettings("gl", "gitlab", gitlab.url, TOKEN, "GITLAB_TOKEN", options)

    assert projects_of(settings(projects="acme/a, 12 acme/b/c,acme/a")) == [
        "acme/a",
        "12",
        "acme/b/c",
    ]
    assert projects_of(settings(projects=["acme/a", 12])) == ["acme/a", "12"]
    with pytest.raises(SourceError, match="no projects to read"):
        GitLabConnector(settings())
    with pytest.raises(SourceError, match="'acme' in option projects"):
        GitLabConnector(settings(projects="acme"))
    with pytest.raises(SourceError, match="overlap_minutes must be a number"):
        GitLabConnector(settings(projects="acme/a", overlap_minutes="soon"))
    assert gitlab.requests == []


def test_a_self_managed_url_with_api_v4_and_a_bearer_token(
    database: Database, gitlab: FakeGitLab, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GITLAB_TOKEN", TOKEN)
    prepare(database, f"{gitlab.url}/api/v4/", auth="bearer", overlap_minutes=60)
    sync_source(database, "gitlab")
    assert counts(database) == EXPECTED
    assert all(h.get("Authorization") == f"Bearer {TOKEN}" for h in gitlab.headers)
    assert not any("PRIVATE-TOKEN" in h for h in gitlab.headers)
    assert all(path.startswith("/api/v4/projects/") for path in gitlab.requests)
