"""Projects, fix versions (as releases) and sprints over real HTTP from the local Jira stand-in.

Expected values are counted by hand from the recorded issues (tests/connectors/fake_jira.py
says what is recorded and what is made up): the 30 EE issues carry fix versions v2.7.0 (17
issues: EE-1…6, 8, 9, 10, 15, 16, 25, 28, 29, 32, 34, 37), v2.6.0 (EE-14) and v2.5.4 (EE-19,
EE-23); their sprint field puts EE-17 in sprint 17, EE-19 and EE-20 in none and the other 27
in sprint 7; K5-2 and K5-3 are in the active sprint 175.
"""

import logging
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import func, select

from streamwise.connectors.http import RetryPolicy, ToolClient
from streamwise.connectors.jira.client import JiraConnector
from streamwise.connectors.sync_api import SourceSettings
from streamwise.model import (
    RawRecord,
    Release,
    ReleaseItem,
    Source,
    Sprint,
    SprintItem,
    SyncState,
    ValueStream,
    WorkItem,
)
from streamwise.store import Database
from streamwise.sync import source_statuses, sync_source
from tests.connectors.fake_jira import TOKEN, FakeJira, serve
from tests.connectors.jira.test_sync import ORG
from tests.helpers import apply_org

V270 = ["EE-1", "EE-2", "EE-3", "EE-4", "EE-5", "EE-6", "EE-8", "EE-9", "EE-10"]
V270 += ["EE-15", "EE-16", "EE-25", "EE-28", "EE-29", "EE-32", "EE-34", "EE-37"]
EE_KEYS = [f"EE-{n}" for n in (*range(1, 7), *range(8, 11), *range(14, 18), 19, 20)]
EE_KEYS += [f"EE-{n}" for n in range(23, 38)]
SPRINT_7 = sorted(set(EE_KEYS) - {"EE-17", "EE-19", "EE-20"}, key=lambda k: int(k[3:]))


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with serve(FakeJira()) as fake:
        yield fake


def add_source(database: Database, jira: FakeJira, monkeypatch: Any, **options: Any) -> None:
    apply_org(database, ORG)
    monkeypatch.setenv("JIRA_TOKEN", TOKEN)
    with database.transaction() as session:
        session.add(
            Source(
                name="jira",
                kind="jira",
                base_url=jira.url,
                token_env="JIRA_TOKEN",
                options={"deployment": "cloud", **options},
            )
        )


@pytest.fixture
def synced_source(database: Database, jira: FakeJira, monkeypatch: Any) -> Database:
    add_source(database, jira, monkeypatch)
    return database


def connector(jira: FakeJira, deployment: str = "cloud") -> JiraConnector:
    """A connector we keep hold of, to read its notes after the sync."""
    settings = SourceSettings(
        "jira", "jira", jira.url, TOKEN, "JIRA_TOKEN", {"deployment": deployment}
    )
    client = ToolClient(
        "jira",
        jira.url,
        headers={"Authorization": f"Bearer {TOKEN}"},
        retry=RetryPolicy(attempts=2, backoff_s=0.01),
        sleep=lambda _: None,
    )
    return JiraConnector(settings, client)


def releases(database: Database) -> dict[str, dict[str, Any]]:
    with database.sessions() as session:
        streams = dict(session.execute(select(ValueStream.id, ValueStream.key)).all())
        found = {}
        for release in session.scalars(select(Release)):
            items = session.execute(
                select(ReleaseItem.work_item_key, WorkItem.key)
                .outerjoin(WorkItem, WorkItem.id == ReleaseItem.work_item_id)
                .where(ReleaseItem.release_id == release.id)
            ).all()
            found[release.external_id] = {
                "name": release.name,
                "version": release.version,
                "planned_at": release.planned_at,
                "released_at": release.released_at,
                "stream": streams.get(release.value_stream_id),
                "items": sorted(key for key, _ in items),
                "linked": all(key == linked for key, linked in items),
            }
    return found


def sprints(database: Database) -> dict[str, dict[str, Any]]:
    with database.sessions() as session:
        streams = dict(session.execute(select(ValueStream.id, ValueStream.key)).all())
        found = {}
        for sprint in session.scalars(select(Sprint)):
            items = session.execute(
                select(SprintItem.work_item_key, WorkItem.key)
                .outerjoin(WorkItem, WorkItem.id == SprintItem.work_item_id)
                .where(SprintItem.sprint_id == sprint.id)
            ).all()
            found[sprint.external_id] = {
                "name": sprint.name,
                "state": sprint.state,
                "board": (sprint.board_key, sprint.board),
                "goal": sprint.goal,
                "dates": (sprint.start_at, sprint.end_at, sprint.completed_at),
                "stream": streams.get(sprint.value_stream_id),
                "items": sorted(key for key, _ in items),
                "linked": all(key == linked for key, linked in items),
            }
    return found


def raw_counts(database: Database) -> dict[str, int]:
    with database.sessions() as session:
        return {
            kind: int(count)
            for kind, count in session.execute(
                select(RawRecord.entity_kind, func.count()).group_by(RawRecord.entity_kind)
            )
        }


def issue_requests_of_sprints(paths: list[str]) -> list[str]:
    return [path.split("/sprint/")[1].split("/")[0] for path in paths if "/issue?" in path]


def test_projects_versions_and_sprints_arrive_with_their_work_items(
    synced_source: Database, jira: FakeJira
) -> None:
    database = synced_source
    report = sync_source(database, "jira")
    assert report.errors == []
    assert (report.received["projects"], report.received["versions"]) == (13, 4)
    assert report.received["sprints"] == 32  # 30 recorded on board 8, two on board 92

    # paginated: 13 projects at 7 a page; 30 sprints of board 8 at 7 a page; the 27 issues of
    # sprint 7 at 10 a page; the 17 keys of v2.7.0 at 10 a page
    paths = jira.requests
    assert sum("/project/search?" in path for path in paths) == 2
    assert sum("/board/8/sprint?" in path for path in paths) == 5
    assert sum("/sprint/7/issue?" in path for path in paths) == 3
    assert sum("fixVersion+%3D+10026" in path for path in paths) == 2
    assert not any("/board/3/sprint" in path for path in paths)  # a kanban board has none

    found = releases(database)
    assert set(found) == {"10009", "10014", "10026", "10100"}
    assert found["10026"] == {
        "name": "v2.7.0",
        "version": "v2.7.0",
        "planned_at": None,
        # released 2020-07-10: the start of that day in Asia/Shanghai (UTC+8)
        "released_at": utc("2020-07-09T16:00:00"),
        "stream": "ee",
        "items": sorted(V270),
        "linked": True,
    }
    assert (found["10009"]["items"], found["10014"]["items"]) == (["EE-14"], ["EE-19", "EE-23"])
    assert found["10014"]["released_at"] == utc("2020-06-10T16:00:00")
    assert found["10100"]["planned_at"] == utc("2020-09-29T16:00:00")  # planned, unreleased
    assert (found["10100"]["released_at"], found["10100"]["items"]) == (None, [])
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(ReleaseItem)) == 17 + 1 + 2

    found = sprints(database)
    assert len(found) == 32
    assert sum(s["state"] == "closed" for s in found.values()) == 30
    assert found["7"] == {
        "name": "EE Sprint 7",
        "state": "closed",
        "board": ("8", "EE board"),
        "goal": None,  # recorded as ""
        "dates": (
            utc("2020-06-12T00:38:51.882"),
            utc("2020-06-26T00:38:00"),
            utc("2020-06-22T05:59:58.980"),
        ),
        "stream": "ee",
        "items": sorted(SPRINT_7),
        "linked": True,
    }
    assert len(SPRINT_7) == 27
    assert found["17"]["items"] == ["EE-17"]
    assert found["15"]["board"] == ("8", "EE board")  # created on board 13, which is not read
    assert found["175"] == {
        "name": "K5 Sprint 1",
        "state": "active",
        "board": ("92", "K5 board"),
        "goal": None,
        "dates": (utc("2022-07-15T22:35:25.617"), utc("2022-07-29T22:35:00"), None),
        "stream": None,  # the organisation selects only EE
        "items": ["K5-2", "K5-3"],
        "linked": True,
    }
    assert found["176"]["state"] == "future" and found["176"]["dates"] == (None, None, None)
    assert (found["176"]["goal"], found["176"]["items"]) == ("Ship the importer", [])
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(SprintItem)) == 27 + 1 + 2

    with database.sessions() as session:
        (status,) = source_statuses(session)
    assert status.raw_counts["project"] == 13
    assert status.raw_counts["release"] == 4
    assert status.raw_counts["sprint"] == 32


def test_a_second_sync_stores_nothing_and_does_not_reread_closed_sprints(
    synced_source: Database, jira: FakeJira
) -> None:
    database = synced_source
    sync_source(database, "jira")
    first = (raw_counts(database), releases(database), sprints(database))
    assert sorted(set(issue_requests_of_sprints(jira.requests)), key=int) == [
        "7", "9", "15", "17", "18", "19", "20", "21", "25", "26", "27", "28", "30", "31", "32",
        "33", "34", "35", "36", "37", "38", "40", "41", "42", "43", "46", "47", "50", "57",
        "60", "175", "176",
    ]  # fmt: skip

    before = len(jira.requests)
    again = sync_source(database, "jira")
    assert sum(again.stored.values()) == 0
    assert (raw_counts(database), releases(database), sprints(database)) == first
    # sprints are listed again, but only the open ones' issues are read
    assert issue_requests_of_sprints(jira.requests[before:]) == ["175", "176"]
    assert sum("/board/8/sprint?" in path for path in jira.requests[before:]) == 5


def test_a_sprint_that_closes_or_changes_after_closing_is_read_once_more(
    synced_source: Database, jira: FakeJira
) -> None:
    database = synced_source
    sync_source(database, "jira")
    active = jira.sprints[92][0]
    active.update(state="closed", completeDate="2022-07-29T09:00:00.000Z")
    jira.sprints[8][1]["name"] = "EE Sprint 8 (renamed)"  # sprint 9, closed long ago

    before = len(jira.requests)
    report = sync_source(database, "jira")
    assert report.stored["sprints"] == 2
    assert issue_requests_of_sprints(jira.requests[before:]) == ["9", "175", "176"]
    found = sprints(database)
    assert found["175"]["state"] == "closed"
    assert found["175"]["dates"][2] == utc("2022-07-29T09:00:00")
    assert found["175"]["items"] == ["K5-2", "K5-3"]
    assert found["9"]["name"] == "EE Sprint 8 (renamed)"

    before = len(jira.requests)
    sync_source(database, "jira")
    assert issue_requests_of_sprints(jira.requests[before:]) == ["176"]


def test_a_jira_without_jira_software_syncs_the_rest_and_says_so(
    synced_source: Database, jira: FakeJira, caplog: pytest.LogCaptureFixture
) -> None:
    jira.agile = False
    syncing = connector(jira)
    with caplog.at_level(logging.WARNING, logger="streamwise.connectors.jira.client"):
        report = sync_source(synced_source, "jira", connector=syncing)
    assert report.received["issues"] == 33
    assert report.received["sprints"] == 0
    assert len(releases(synced_source)) == 4
    assert sprints(synced_source) == {}
    assert len(syncing.notes) == 1 and "Jira Software" in syncing.notes[0]
    assert report.notes == syncing.notes  # the sync report carries it to the CLI
    assert "sprints are skipped" in caplog.text
    with synced_source.sessions() as session:
        errors = session.scalars(select(SyncState.last_error)).all()
    assert errors and all(error is None for error in errors)


def test_malformed_sprints_and_versions_stay_raw_with_their_errors(
    synced_source: Database, jira: FakeJira
) -> None:
    jira.sprints[92][0]["startDate"] = None  # sprint 175 is active: its start matters
    jira.sprints[92].append({"state": "future", "name": "Lost id", "originBoardId": 92})
    jira.versions = {
        "EE": [
            {"id": "10026", "name": "v2.7.0", "released": True, "releaseDate": "2020-07-10"},
            {"id": "10009", "released": True, "releaseDate": "2020-06-30"},  # no name
            {"id": "10014", "name": "v2.5.4", "released": True, "releaseDate": "someday"},
        ]
    }
    report = sync_source(synced_source, "jira")
    errors = sorted(report.errors)
    assert len(errors) == 4, errors
    assert errors[0] == "release 10009: name: fix version 10009 has no name"
    assert errors[1].startswith("release 10014: releaseDate: 'someday' is not an ISO 8601")
    assert errors[2] == "sprint 175: startDate: sprint 175 is active but has no start date"
    assert errors[3].startswith("sprint no-id-")
    assert errors[3].endswith(": id: a sprint ('Lost id') has no id")

    found = sprints(synced_source)
    assert len(found) == 31 and "175" not in found and "176" in found
    assert set(releases(synced_source)) == {"10026"}
    with synced_source.sessions() as session:
        assert session.scalar(select(func.count()).select_from(WorkItem)) == 33
        kept = session.scalars(select(RawRecord).where(RawRecord.error.is_not(None))).all()
        (status,) = source_statuses(session)
    assert status.payload_errors == 4
    lost = next(record for record in kept if record.external_id.startswith("no-id-"))
    assert lost.payload["name"] == "Lost id" and lost.entity_kind == "sprint"
    assert any(record.external_id == "175" and record.payload["id"] == 175 for record in kept)


def test_data_center_reads_the_same_through_its_own_endpoints(
    database: Database, jira: FakeJira, monkeypatch: Any
) -> None:
    add_source(database, jira, monkeypatch, deployment="datacenter")
    report = sync_source(database, "jira")
    assert report.errors == []
    assert (report.received["projects"], report.received["issues"]) == (13, 33)
    assert not any(path.startswith("/rest/api/3/") for path in jira.requests)
    assert any(path.startswith("/rest/api/2/project?") or path == "/rest/api/2/project"
               for path in jira.requests)  # fmt: skip
    # the 17 keys of v2.7.0 from /rest/api/2/search, paged by startAt
    assert sum("/rest/api/2/search?" in p and "10026" in p for p in jira.requests) == 2
    found = releases(database)
    assert found["10026"]["items"] == sorted(V270) and found["10026"]["linked"]
    assert sprints(database)["7"]["items"] == sorted(SPRINT_7)


def test_the_projects_option_restricts_projects_versions_and_boards(
    database: Database, jira: FakeJira, monkeypatch: Any, caplog: pytest.LogCaptureFixture
) -> None:
    add_source(database, jira, monkeypatch, projects="K5, NOPE")  # keys separated by commas
    with caplog.at_level(logging.WARNING, logger="streamwise.connectors.jira.client"):
        report = sync_source(database, "jira")
    assert "the projects option names NOPE, which Jira does not list" in caplog.text
    assert report.received["projects"] == 1
    assert report.received["versions"] == 0  # K5 has none
    assert set(sprints(database)) == {"175", "176"}
    boards_asked = [path for path in jira.requests if path.startswith("/rest/agile/1.0/board?")]
    # boards only of the projects Jira listed: an unknown key is never sent
    assert {path.split("projectKeyOrId=")[1].split("&")[0] for path in boards_asked} == {"K5"}
    assert not any("/project/EE/versions" in path for path in jira.requests)
