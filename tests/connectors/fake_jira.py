"""A Jira stand-in on 127.0.0.1 that answers with the recorded payloads of
``../shared/fixtures/apache-devlake/jira`` (Apache DevLake's end-to-end test data, Apache
License 2.0; see that folder's LICENSE and NOTICE), paginated the way Jira paginates, with
faults the tests switch on. It answers as Jira Cloud (``/rest/api/3``) and as Data Center
(``/rest/api/2``), and as Jira Software (``/rest/agile/1.0``) unless told not to.

What was recorded: statuses, projects, issues (with their fix versions and the sprint field
``customfield_10020``) and the sprints of board 8. What was not, and is made up here in Jira's
documented shape: the boards (``made_up_boards``), the version lists of projects (built from
the fix versions the recorded issues carry, plus one unreleased version), the sprint list of
board 92 (its active sprint as recorded in the K5 issues, plus one future sprint) and which
issues a sprint or version holds (read from the recorded issues' fields).
"""

import csv
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

from tests.connectors.local_server import JsonHandler, running

FIXTURES = Path(__file__).resolve().parents[3] / "shared" / "fixtures" / "apache-devlake" / "jira"
TOKEN = "s3cret"


def _recorded(name: str) -> list[dict[str, Any]]:
    csv.field_size_limit(1 << 30)
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        return [json.loads(row["data"]) for row in csv.DictReader(handle)]


def recorded_issues() -> list[dict[str, Any]]:
    return _recorded("_raw_jira_api_issues.csv")


def recorded_statuses() -> list[dict[str, Any]]:
    return _recorded("_raw_jira_api_status.csv")


SPRINT_FIELD = "customfield_10020"
"""The recorded site's sprint field (its id differs between Jira sites)."""


def recorded_projects() -> list[dict[str, Any]]:
    """The recorded project list, plus K5, whose issues were recorded but which the project
    list (taken earlier) lacks: its object as the K5 issues carry it."""
    projects = _recorded("_raw_jira_api_projects.csv")
    k5 = next(i for i in recorded_issues() if i["key"].startswith("K5-"))["fields"]["project"]
    return [*projects, dict(k5)]


def recorded_sprints_of_board_8() -> list[dict[str, Any]]:
    return _recorded("_raw_jira_api_sprints.csv")


def made_up_boards() -> list[dict[str, Any]]:
    """Boards in the shape of ``GET /rest/agile/1.0/board`` (not recorded; made up)."""

    def board(board_id: int, name: str, kind: str, project_id: int, key: str) -> dict[str, Any]:
        return {
            "id": board_id,
            "self": f"https://jira.example/rest/agile/1.0/board/{board_id}",
            "name": name,
            "type": kind,
            "location": {"projectId": project_id, "projectKey": key, "projectTypeKey": "software"},
        }

    return [
        board(8, "EE board", "scrum", 10003, "EE"),
        board(92, "K5 board", "scrum", 10050, "K5"),
        board(3, "CC support", "kanban", 10007, "CC"),
    ]


def made_up_sprints_of_board_92() -> list[dict[str, Any]]:
    """K5 Sprint 1 as the recorded K5 issues carry it (``fields.sprint``), and a future sprint
    that is made up."""
    active = next(i for i in recorded_issues() if i["key"] == "K5-2")["fields"]["sprint"]
    future = {
        "id": 176,
        "self": "https://jira.example/rest/agile/1.0/sprint/176",
        "state": "future",
        "name": "K5 Sprint 2",
        "originBoardId": 92,
        "goal": "Ship the importer",
    }
    return [dict(active), future]


UNRELEASED_VERSION = {
    "id": "10100",
    "self": "https://jira.example/rest/api/2/version/10100",
    "name": "v3.0.0",
    "archived": False,
    "released": False,
    "releaseDate": "2020-09-30",
    "projectId": 10003,
}
"""Made up: a version of EE planned but not released, with no issues."""


def versions_from_issues(issues: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """Project key → its versions as ``GET /project/{key}/versions`` lists them: the fix
    versions the recorded issues carry, with the ``projectId`` that list adds."""
    versions: dict[str, dict[str, dict[str, Any]]] = {}
    for issue in issues:
        project = issue["fields"]["project"]
        for version in issue["fields"].get("fixVersions") or []:
            listed = {**version, "projectId": int(project["id"])}
            versions.setdefault(project["key"], {}).setdefault(version["id"], listed)
    listed = {key: sorted(found.values(), key=lambda v: v["id"]) for key, found in versions.items()}
    listed.setdefault("EE", []).append(dict(UNRELEASED_VERSION))
    return listed


def updated_at(issue: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(issue["fields"]["updated"])


@dataclass
class FakeJira:
    issues: list[dict[str, Any]] = field(default_factory=recorded_issues)
    statuses: list[dict[str, Any]] = field(default_factory=recorded_statuses)
    page_size: int = 10
    full_changelogs: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
    """Issue id → every history, served by /issue/{id}/changelog (the embedded one is cut)."""
    faults: list[tuple[str, int, dict[str, str]]] = field(default_factory=list)
    """(path fragment, status, headers): the next request matching answers with the fault."""
    token: str = TOKEN
    hold: threading.Event | None = None
    hold_page: str = ""
    """With ``hold`` set, the search for the page with this token waits until released."""
    requests: list[str] = field(default_factory=list)
    url: str = ""
    projects: list[dict[str, Any]] = field(default_factory=recorded_projects)
    versions: dict[str, list[dict[str, Any]]] | None = None
    """Project key → versions; None: built from the issues' fix versions when asked."""
    boards: list[dict[str, Any]] = field(default_factory=made_up_boards)
    sprints: dict[int, list[dict[str, Any]]] = field(
        default_factory=lambda: {
            8: recorded_sprints_of_board_8(),
            92: made_up_sprints_of_board_92(),
        }
    )
    agile: bool = True
    """False: a Jira without Jira Software (every /rest/agile path answers 404)."""
    list_page_size: int = 7
    """Most items on one page of the lists paged by startAt (projects, boards, sprints)."""

    def _chosen(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        jql = query.get("jql", [""])[0]
        since = re.search(r"updated >= '(\d{4}/\d\d/\d\d \d\d:\d\d)'", jql)
        chosen = self.issues
        if since:
            moment = datetime.strptime(since.group(1), "%Y/%m/%d %H:%M").replace(tzinfo=UTC)
            chosen = [issue for issue in chosen if updated_at(issue) >= moment]
        version = re.search(r"fixVersion = (\d+)", jql)
        if version:
            chosen = [
                issue
                for issue in chosen
                if any(
                    v["id"] == version.group(1) for v in issue["fields"].get("fixVersions") or []
                )
            ]
            return sorted(chosen, key=lambda issue: int(issue["id"]))
        return sorted(chosen, key=lambda issue: (updated_at(issue), issue["id"]))

    @staticmethod
    def _shaped(issues: list[dict[str, Any]], query: dict[str, list[str]]) -> list[dict[str, Any]]:
        """Only id and key when asked for ``fields=key``, as Jira answers."""
        if query.get("fields") == ["key"]:
            return [{"id": i["id"], "key": i["key"], "self": i["self"]} for i in issues]
        return issues

    def search_from(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """Data Center's ``/rest/api/2/search``: ``startAt``, ``maxResults``, ``total``."""
        chosen = self._chosen(query)
        start = int(query.get("startAt", ["0"])[0])
        size = min(int(query.get("maxResults", ["50"])[0]), self.page_size)
        page = self._shaped(chosen[start : start + size], query)
        return {"startAt": start, "maxResults": size, "total": len(chosen), "issues": page}

    def listed(self, values: list[dict[str, Any]], query: dict[str, list[str]]) -> dict[str, Any]:
        """One page of a list Jira pages with ``startAt`` and ``isLast``."""
        start = int(query.get("startAt", ["0"])[0])
        size = min(int(query.get("maxResults", ["50"])[0]), self.list_page_size)
        return {
            "maxResults": size,
            "startAt": start,
            "total": len(values),
            "isLast": start + size >= len(values),
            "values": values[start : start + size],
        }

    def project_versions(self, key: str) -> list[dict[str, Any]]:
        versions = self.versions if self.versions is not None else versions_from_issues(self.issues)
        return versions.get(key, [])

    def boards_of(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        project = query.get("projectKeyOrId", [None])[0]
        return [b for b in self.boards if project is None or b["location"]["projectKey"] == project]

    def sprint_issues(self, sprint_id: int, query: dict[str, list[str]]) -> dict[str, Any]:
        """``/rest/agile/1.0/sprint/{id}/issue``: the issues whose sprint field holds it."""
        chosen = [
            issue
            for issue in sorted(self.issues, key=lambda i: int(i["id"]))
            if any(s.get("id") == sprint_id for s in issue["fields"].get(SPRINT_FIELD) or [])
        ]
        start = int(query.get("startAt", ["0"])[0])
        size = min(int(query.get("maxResults", ["50"])[0]), self.page_size)
        return {
            "expand": "schema,names",
            "startAt": start,
            "maxResults": size,
            "total": len(chosen),
            "issues": self._shaped(chosen[start : start + size], query),
        }

    def search(self, query: dict[str, list[str]]) -> dict[str, Any]:
        """Cloud's ``/rest/api/3/search/jql``: ``nextPageToken`` and ``isLast``."""
        chosen = self._chosen(query)
        start = int(query.get("nextPageToken", ["0"])[0])
        size = min(int(query.get("maxResults", ["50"])[0]), self.page_size)
        page = self._shaped(chosen[start : start + size], query)
        last = start + size >= len(chosen)
        body: dict[str, Any] = {"issues": page, "isLast": last}
        if not last:
            body["nextPageToken"] = str(start + size)
        return body

    def changelog(self, issue_id: str, query: dict[str, list[str]]) -> dict[str, Any]:
        histories = self.full_changelogs[issue_id]
        start = int(query.get("startAt", ["0"])[0])
        size = min(int(query.get("maxResults", ["100"])[0]), 5)
        values = histories[start : start + size]
        return {
            "values": values,
            "startAt": start,
            "maxResults": size,
            "total": len(histories),
            "isLast": start + size >= len(histories),
        }


def _handler(jira: FakeJira) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def do_GET(self) -> None:
            jira.requests.append(self.path)
            url = urlparse(self.path)
            query = parse_qs(url.query)
            for index, (fragment, status, headers) in enumerate(jira.faults):
                if fragment in self.path:
                    del jira.faults[index]
                    self._send(status, {"errorMessages": [f"fault {status}"]}, headers)
                    return
            if self.headers.get("Authorization", "") != f"Bearer {jira.token}":
                self._send(401, {"errorMessages": ["Unauthorized"]})
                return
            path = url.path
            if path.startswith("/rest/agile/") and not jira.agile:
                self._send(404, {"errorMessages": ["Not found"]})  # no Jira Software
            elif path in ("/rest/api/3/status", "/rest/api/2/status"):
                self._send(200, jira.statuses)
            elif path == "/rest/api/3/search/jql":
                if jira.hold is not None and query.get("nextPageToken") == [jira.hold_page]:
                    jira.hold.wait(60)
                self._send(200, jira.search(query))
            elif path == "/rest/api/2/search":
                self._send(200, jira.search_from(query))
            elif match := re.fullmatch(r"/rest/api/3/issue/(\w+)/changelog", path):
                self._send(200, jira.changelog(match.group(1), query))
            elif path == "/rest/api/3/project/search":
                self._send(200, jira.listed(jira.projects, query))
            elif path == "/rest/api/2/project":
                self._send(200, jira.projects)
            elif match := re.fullmatch(r"/rest/api/[23]/project/([^/]+)/versions", path):
                self._send(200, jira.project_versions(match.group(1)))
            elif path == "/rest/agile/1.0/board":
                self._send(200, jira.listed(jira.boards_of(query), query))
            elif match := re.fullmatch(r"/rest/agile/1.0/board/(\d+)/sprint", path):
                board = next((b for b in jira.boards if b["id"] == int(match.group(1))), None)
                if board is None or board["type"] == "kanban":
                    self._send(400, {"errorMessages": ["The board does not support sprints"]})
                else:
                    self._send(200, jira.listed(jira.sprints.get(board["id"], []), query))
            elif match := re.fullmatch(r"/rest/agile/1.0/sprint/(\d+)/issue", path):
                self._send(200, jira.sprint_issues(int(match.group(1)), query))
            else:
                self._send(404, {"errorMessages": [f"no route {url.path}"]})

    return Handler


@contextmanager
def serve(jira: FakeJira) -> Iterator[FakeJira]:
    with running(_handler(jira)) as url:
        jira.url = url
        try:
            yield jira
        finally:
            if jira.hold is not None:
                jira.hold.set()  # let a held request finish so the server can stop
