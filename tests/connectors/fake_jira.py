"""A Jira Cloud stand-in on 127.0.0.1 that answers with the recorded payloads of
``../shared/fixtures/apache-devlake/jira`` (Apache DevLake's end-to-end test data, Apache
License 2.0; see that folder's LICENSE and NOTICE), paginated the way Jira paginates, with
faults the tests switch on."""

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

from tests.connectors.local_server import running

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

    def search(self, query: dict[str, list[str]]) -> dict[str, Any]:
        jql = query.get("jql", [""])[0]
        since = re.search(r"updated >= '(\d{4}/\d\d/\d\d \d\d:\d\d)'", jql)
        chosen = self.issues
        if since:
            moment = datetime.strptime(since.group(1), "%Y/%m/%d %H:%M").replace(tzinfo=UTC)
            chosen = [issue for issue in chosen if updated_at(issue) >= moment]
        chosen = sorted(chosen, key=lambda issue: (updated_at(issue), issue["id"]))
        start = int(query.get("nextPageToken", ["0"])[0])
        size = min(int(query.get("maxResults", ["50"])[0]), self.page_size)
        page = chosen[start : start + size]
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
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: Any) -> None:
            return None

        def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(data)

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
            if url.path == "/rest/api/3/status":
                self._send(200, jira.statuses)
            elif url.path == "/rest/api/3/search/jql":
                if jira.hold is not None and query.get("nextPageToken") == [jira.hold_page]:
                    jira.hold.wait(60)
                self._send(200, jira.search(query))
            elif match := re.fullmatch(r"/rest/api/3/issue/(\w+)/changelog", url.path):
                self._send(200, jira.changelog(match.group(1), query))
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
