"""Syncing Jira over real HTTP from a local stand-in that serves recorded Jira Cloud payloads
(Apache DevLake's e2e data, Apache License 2.0: ../shared/fixtures/apache-devlake/jira)."""

import copy
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from streamwise.connectors.http import RetryPolicy, ToolClient
from streamwise.connectors.jira.client import JiraConnector
from streamwise.connectors.sync_api import SourceSettings
from streamwise.errors import AuthenticationError, SourceError
from streamwise.model import ItemFact, RawRecord, Source, Transition, WorkItem
from streamwise.store import Database
from streamwise.sync import source_statuses, sync_source
from tests.connectors.fake_jira import TOKEN, FakeJira, recorded_issues, serve
from tests.helpers import apply_org

ORG = """
organisation: {name: Recorded, timezone: Asia/Shanghai}
type_mappings:
  - {type: 故事, flow_item_type: feature}
  - {type: 任务, flow_item_type: feature}
  - {type: 缺陷, flow_item_type: defect}
value_streams:
  - key: ee
    name: EE
    select: {projects: [EE]}
    stages:
      - {name: Backlog, flow_state: new, statuses: [Inbox, Open, To Do, Ready for Dev]}
      - {name: Build, flow_state: active, statuses: [In Progress, In Development]}
      - {name: Done, flow_state: done, statuses: [Resolved, Closed, 已完成, Done]}
"""


def status_changes(issues: list[dict[str, Any]]) -> int:
    """Counted from the recorded payloads directly: every changelog item on `status`."""
    return sum(
        1
        for issue in issues
        for history in issue["changelog"]["histories"]
        for item in history["items"]
        if item["field"] == "status"
    )


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with serve(FakeJira()) as fake:
        yield fake


@pytest.fixture
def database_with_source(database: Database, jira: FakeJira, monkeypatch: Any) -> Database:
    apply_org(database, ORG)
    monkeypatch.setenv("JIRA_TOKEN", TOKEN)
    with database.transaction() as session:
        session.add(
            Source(
                name="jira",
                kind="jira",
                base_url=jira.url,
                token_env="JIRA_TOKEN",
                options={"deployment": "cloud"},
            )
        )
    return database


def connector(jira: FakeJira, sleeps: list[float], token: str = TOKEN) -> JiraConnector:
    """The connector with a client that records its waits instead of sleeping."""
    settings = SourceSettings(
        "jira", "jira", jira.url, token, "JIRA_TOKEN", {"deployment": "cloud"}
    )
    client = ToolClient(
        "jira",
        jira.url,
        headers={"Authorization": f"Bearer {token}"},
        credential_hint="the personal access token in $JIRA_TOKEN",
        retry=RetryPolicy(attempts=4, backoff_s=0.01),
        sleep=sleeps.append,
    )
    return JiraConnector(settings, client)


def issue_searches(paths: list[str]) -> list[str]:
    """Searches for issues with their changelogs (not the key-only searches of fix versions)."""
    return [path for path in paths if "search/jql" in path and "expand=changelog" in path]


def counts(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        return {
            name: int(session.scalar(select(func.count()).select_from(model)) or 0)
            for name, model in (
                ("raw", RawRecord),
                ("items", WorkItem),
                ("transitions", Transition),
                ("facts", ItemFact),
            )
        }


def test_first_sync_backfills_everything_and_a_second_changes_nothing(
    database_with_source: Database, jira: FakeJira
) -> None:
    database = database_with_source
    issues = recorded_issues()
    report = sync_source(database, "jira")
    assert report.received["issues"] == 33  # four pages of ten
    assert len(issue_searches(jira.requests)) == 4
    found = counts(database)
    assert found["items"] == 33
    assert found["transitions"] == status_changes(issues) == 165
    assert found["facts"] == 33  # derived right away
    # 13 projects, 4 fix versions and 32 sprints (see test_agile.py) besides issues and statuses
    assert found["raw"] == 33 + len(jira.statuses) + 13 + 4 + 32
    with database.sessions() as session:
        ee1 = session.scalars(select(WorkItem).where(WorkItem.external_id == "EE-1")).one()
        assert (ee1.raw_type, ee1.raw_status, ee1.project) == ("故事", "已完成", "EE")
        assert (ee1.flow_item_type, ee1.flow_state) == ("feature", "done")
        # recorded as 2020-06-12T08:13:13.360+0800
        assert ee1.created_at.isoformat() == "2020-06-12T00:13:13.360000+00:00"
        assert ee1.url == "https://merico.atlassian.net/browse/EE-1"
        subtask = session.scalars(select(WorkItem).where(WorkItem.external_id == "EE-25")).one()
        assert subtask.parent_id == ee1.id

    requests_before = len(jira.requests)
    again = sync_source(database, "jira")
    assert sum(again.stored.values()) == 0
    assert counts(database) == found
    incremental = issue_searches(jira.requests[requests_before:])
    assert incremental and all("updated+%3E%3D" in path for path in incremental)


def test_a_change_in_jira_arrives_with_the_next_sync(
    database_with_source: Database, jira: FakeJira
) -> None:
    database = database_with_source
    sync_source(database, "jira")
    issue = next(issue for issue in jira.issues if issue["key"] == "K5-2")
    issue["fields"]["updated"] = "2022-08-01T10:00:00.000+0800"
    issue["fields"]["status"] = {"name": "In Progress", "id": "3"}
    issue["changelog"]["histories"].append(
        {
            "id": "999001",
            "created": "2022-08-01T10:00:00.000+0800",
            "author": {"displayName": "Ada"},
            "items": [{"field": "status", "fromString": "To Do", "toString": "In Progress"}],
        }
    )
    issue["changelog"]["total"] += 1
    report = sync_source(database, "jira")
    assert report.stored["issues"] == 1  # only K5-2 changed; the rest came back identical
    with database.sessions() as session:
        item = session.scalars(select(WorkItem).where(WorkItem.external_id == "K5-2")).one()
        assert item.raw_status == "In Progress"
        last = session.scalars(
            select(Transition).where(Transition.work_item_id == item.id).order_by(Transition.at)
        ).all()[-1]
        assert (last.from_status, last.to_status) == ("To Do", "In Progress")


def test_rate_limits_and_server_errors_are_retried_as_told(
    database_with_source: Database, jira: FakeJira
) -> None:
    jira.faults = [
        ("nextPageToken=10", 429, {"Retry-After": "7"}),
        ("nextPageToken=20", 503, {}),
    ]
    sleeps: list[float] = []
    report = sync_source(database_with_source, "jira", connector=connector(jira, sleeps))
    assert report.received["issues"] == 33
    assert sleeps[0] == 7.0  # Retry-After honoured
    assert len(sleeps) == 2 and 0 < sleeps[1] < 5  # then backoff for the 503
    assert counts(database_with_source)["items"] == 33


def test_a_changelog_longer_than_one_answer_is_read_to_the_end(
    database_with_source: Database, jira: FakeJira
) -> None:
    issue = next(issue for issue in jira.issues if issue["key"] == "EE-1")
    every = copy.deepcopy(issue["changelog"]["histories"])
    jira.full_changelogs[issue["id"]] = every
    issue["changelog"]["histories"] = every[:3]  # Jira sends only the first ones
    sync_source(database_with_source, "jira")
    assert any(f"/issue/{issue['id']}/changelog" in path for path in jira.requests)
    with database_with_source.sessions() as session:
        item = session.scalars(select(WorkItem).where(WorkItem.external_id == "EE-1")).one()
        stored = session.scalar(
            select(func.count()).select_from(Transition).where(Transition.work_item_id == item.id)
        )
    assert stored == status_changes([{"changelog": {"histories": every}}])


def test_an_expired_token_stops_the_source_with_a_clear_message(
    database_with_source: Database, jira: FakeJira
) -> None:
    jira.token = "rotated"
    with pytest.raises(AuthenticationError) as raised:
        sync_source(database_with_source, "jira")
    message = str(raised.value)
    assert "'jira'" in message and jira.url in message and "$JIRA_TOKEN" in message
    with database_with_source.sessions() as session:
        (status,) = source_statuses(session)
    assert any(error and "401" in error for _, _, error in status.entities)
    assert counts(database_with_source)["items"] == 0


def test_a_missing_token_variable_is_named(
    database_with_source: Database, monkeypatch: Any
) -> None:
    monkeypatch.delenv("JIRA_TOKEN")
    with pytest.raises(SourceError, match="JIRA_TOKEN is not set"):
        sync_source(database_with_source, "jira")


def test_a_malformed_issue_is_kept_with_its_error_and_the_rest_goes_on(
    database_with_source: Database, jira: FakeJira
) -> None:
    broken = next(issue for issue in jira.issues if issue["key"] == "EE-2")
    del broken["fields"]["created"]
    jira.issues[0]["fields"]["assignee"] = None  # nulls are fine
    report = sync_source(database_with_source, "jira")
    assert any("EE-2" in error and "fields.created" in error for error in report.errors)
    assert counts(database_with_source)["items"] == 32
    with database_with_source.sessions() as session:
        (status,) = source_statuses(session)
        assert status.payload_errors == 1
        kept = session.scalars(
            select(RawRecord).where(RawRecord.external_id == "EE-2", RawRecord.error.is_not(None))
        ).one()
        assert kept.payload["key"] == "EE-2"
