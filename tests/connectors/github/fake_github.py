"""A GitHub REST API stand-in on 127.0.0.1 that answers with the recorded payloads of
``../shared/fixtures/apache-devlake/github`` (repository ``panjf2000/ants``; Apache DevLake's
end-to-end test data, Apache License 2.0; see that folder's LICENSE and NOTICE), filtered,
sorted and paginated by ``Link`` header the way GitHub does, with faults the tests switch on.

What was not recorded is made up here in GitHub's documented shape, and says so: the
repository itself (its default branch), the default branch's history (the commits of the
merged pull requests stand in for it, in order of commit time), comparisons between two of its
commits (``/compare/{base}...{head}``, answered from that history, which has no other
branches), deployments with their statuses, and releases.
"""

import csv
import json
import math
import re
from collections import defaultdict
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlencode, urlparse

from tests.connectors.local_server import JsonHandler, running

FIXTURES = Path(__file__).resolve().parents[4] / "shared" / "fixtures" / "apache-devlake" / "github"
TOKEN = "ghp_s3cret"
REPOSITORY = "panjf2000/ants"
API = f"https://api.github.com/repos/{REPOSITORY}"


def _rows(name: str) -> list[dict[str, str]]:
    """The rows of one recorded table, of DevLake's first connection only: the file repeats a
    few objects under a second connection, sometimes with other content."""
    csv.field_size_limit(1 << 30)
    with (FIXTURES / name).open(encoding="utf-8") as handle:
        rows = list(csv.DictReader(handle))
    return [row for row in rows if re.search(r'"ConnectionId":\s*1\b', row["params"])]


def _unique(objects: list[dict[str, Any]], key: str) -> list[dict[str, Any]]:
    seen: set[Any] = set()
    found = []
    for item in objects:
        if item[key] not in seen:
            seen.add(item[key])
            found.append(item)
    return found


def recorded_pull_requests() -> list[dict[str, Any]]:
    return _unique(
        [json.loads(row["data"]) for row in _rows("_raw_github_api_pull_requests.csv")], "number"
    )


def _by_pull_request(name: str, key: str) -> dict[int, list[dict[str, Any]]]:
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for row in _rows(name):
        number = json.loads(row["input"])["Number"]
        item = json.loads(row["data"])
        if all(other[key] != item[key] for other in found[number]):
            found[number].append(item)
    return dict(found)


def recorded_reviews() -> dict[int, list[dict[str, Any]]]:
    """Pull request number → its reviews, oldest first as GitHub lists them."""
    return _by_pull_request("_raw_github_api_pull_request_reviews.csv", "id")


def recorded_pull_request_commits() -> dict[int, list[dict[str, Any]]]:
    return _by_pull_request("_raw_github_api_pull_request_commits.csv", "sha")


def recorded_events() -> dict[int, list[dict[str, Any]]]:
    """Issue number → its events, oldest first (recorded from the repository-wide list)."""
    events = _unique([json.loads(row["data"]) for row in _rows("_raw_github_api_events.csv")], "id")
    found: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for event in sorted(events, key=lambda event: (event["created_at"], event["id"])):
        found[event["issue"]["number"]].append(event)
    return dict(found)


def recorded_issues() -> list[dict[str, Any]]:
    """The recorded issues list (issues and pull requests mixed), and the newer issues the
    recorded events carry with them, so that issues with events are served too."""
    issues = [json.loads(row["data"]) for row in _rows("_raw_github_api_issues.csv")]
    for events in recorded_events().values():
        issues.append(events[0]["issue"])
    return _unique(issues, "number")


def recorded_runs() -> list[dict[str, Any]]:
    return _unique([json.loads(row["data"]) for row in _rows("_raw_github_api_runs.csv")], "id")


def committed(commit: dict[str, Any]) -> str:
    return str(commit["commit"]["committer"]["date"])


def default_branch_commits(
    pulls: list[dict[str, Any]], commits: dict[int, list[dict[str, Any]]]
) -> list[dict[str, Any]]:
    """Stand-in for the default branch's history: the commits of the merged pull requests."""
    merged = [
        commit for pull in pulls if pull["merged_at"] for commit in commits.get(pull["number"], [])
    ]
    return _unique(merged, "sha")


def _user(login: str) -> dict[str, Any]:
    return {"login": login, "id": 7, "type": "User", "site_admin": False}


def _deployment(
    identifier: int, sha: str, environment: str, created: str, production: bool
) -> dict[str, Any]:
    return {
        "url": f"{API}/deployments/{identifier}",
        "id": identifier,
        "node_id": f"DE_{identifier}",
        "sha": sha,
        "ref": "master",
        "task": "deploy",
        "payload": {},
        "original_environment": environment,
        "environment": environment,
        "description": None,
        "creator": _user("panjf2000"),
        "created_at": created,
        "updated_at": created,
        "statuses_url": f"{API}/deployments/{identifier}/statuses",
        "repository_url": API,
        "transient_environment": False,
        "production_environment": production,
    }


def _status(deployment: int, identifier: int, state: str, created: str) -> dict[str, Any]:
    return {
        "url": f"{API}/deployments/{deployment}/statuses/{identifier}",
        "id": identifier,
        "node_id": f"DES_{identifier}",
        "state": state,
        "creator": None,
        "description": "",
        "environment": "",
        "target_url": "",
        "created_at": created,
        "updated_at": created,
        "deployment_url": f"{API}/deployments/{deployment}",
        "repository_url": API,
        "environment_url": "",
        "log_url": f"https://ci.example.com/deployments/{deployment}/{identifier}",
    }


SHIPPED = "0e17530397bcec737dd9a77fc9589a6866ec4f6e"
"""The last commit of pull request 210 (merged 2022-02-14T13:51:40Z), the newest of the
default branch."""
FIRST_PRODUCTION = "1a658c033be78d2dea8db57c166ee4ba3ad951f7"
"""Committed 2021-07-21, eight commits before ``SHIPPED`` on the default branch."""
FIRST_STAGING = "efe0bad6c0ab13b54d00909864e34a1060e41d6e"
"""Committed 2021-10-13, three commits before ``SHIPPED``."""
FAILED_PRODUCTION = "c4dbfa49d85976eae2937b57db7a17e8c4e5e6ce"
"""Committed 2022-01-08, two commits before ``SHIPPED``."""


def example_deployments() -> tuple[list[dict[str, Any]], dict[int, list[dict[str, Any]]]]:
    """Made up (nothing recorded): deployments, newest first, and their statuses, newest first.

    Production succeeds with ``FIRST_PRODUCTION`` (898), fails with ``FAILED_PRODUCTION``
    (900), succeeds with ``SHIPPED`` (902) and fails with it (904); staging succeeds with
    ``FIRST_STAGING`` (899) and ``SHIPPED`` (901), then fails (903)."""
    deployments = [
        _deployment(905, SHIPPED, "production", "2022-02-16T09:00:00Z", True),
        _deployment(904, SHIPPED, "production", "2022-02-15T09:00:00Z", True),
        _deployment(903, SHIPPED, "staging", "2022-02-14T15:00:00Z", False),
        _deployment(902, SHIPPED, "production", "2022-02-14T14:00:00Z", False),
        _deployment(901, SHIPPED, "staging", "2022-02-14T13:55:00Z", False),
        _deployment(900, FAILED_PRODUCTION, "production", "2022-01-09T10:00:00Z", True),
        _deployment(899, FIRST_STAGING, "staging", "2021-10-14T08:00:00Z", False),
        _deployment(898, FIRST_PRODUCTION, "production", "2021-07-22T10:00:00Z", True),
    ]
    statuses = {
        905: [],  # older than GitHub keeps statuses: nothing left to tell its outcome
        904: [_status(904, 9043, "error", "2022-02-15T09:04:00Z")],
        903: [
            _status(903, 9032, "failure", "2022-02-14T15:06:00Z"),
            _status(903, 9031, "in_progress", "2022-02-14T15:01:00Z"),
        ],
        902: [
            _status(902, 9024, "inactive", "2022-02-15T09:04:00Z"),
            _status(902, 9023, "success", "2022-02-14T14:07:30Z"),
            _status(902, 9022, "in_progress", "2022-02-14T14:01:00Z"),
            _status(902, 9021, "queued", "2022-02-14T14:00:01Z"),
        ],
        901: [_status(901, 9011, "success", "2022-02-14T13:58:00Z")],
        900: [_status(900, 9001, "failure", "2022-01-09T10:03:00Z")],
        899: [
            _status(899, 8992, "inactive", "2022-02-14T13:58:00Z"),
            _status(899, 8991, "success", "2021-10-14T08:02:00Z"),
        ],
        898: [
            _status(898, 8982, "inactive", "2022-02-14T14:07:30Z"),
            _status(898, 8981, "success", "2021-07-22T10:04:00Z"),
        ],
    }
    return deployments, statuses


def _release(identifier: int, tag: str, name: str | None, published: str | None) -> dict[str, Any]:
    return {
        "url": f"{API}/releases/{identifier}",
        "html_url": f"https://github.com/{REPOSITORY}/releases/tag/{tag}",
        "id": identifier,
        "node_id": f"RE_{identifier}",
        "tag_name": tag,
        "target_commitish": "master",
        "name": name,
        "body": None,
        "draft": published is None,
        "prerelease": False,
        "created_at": "2022-02-14T13:51:40Z",
        "published_at": published,
        "author": _user("panjf2000"),
        "assets": [],
    }


def example_releases() -> list[dict[str, Any]]:
    """Made up (nothing recorded): releases, newest first; the first is still a draft."""
    return [
        _release(73, "v2.5.0", "Next", None),
        _release(72, "v2.4.8", None, "2022-02-14T15:30:00Z"),
        _release(71, "v2.4.7", "Ants v2.4.7", "2022-01-31T03:00:00Z"),
    ]


@dataclass
class Fault:
    """The next request for a path ending in ``path`` (and on ``page``, if given) fails."""

    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    page: int | None = None


@dataclass
class FakeGitHub:
    pulls: list[dict[str, Any]] = field(default_factory=recorded_pull_requests)
    reviews: dict[int, list[dict[str, Any]]] = field(default_factory=recorded_reviews)
    pull_commits: dict[int, list[dict[str, Any]]] = field(
        default_factory=recorded_pull_request_commits
    )
    issues: list[dict[str, Any]] = field(default_factory=recorded_issues)
    events: dict[int, list[dict[str, Any]]] = field(default_factory=recorded_events)
    runs: list[dict[str, Any]] = field(default_factory=recorded_runs)
    commits: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    statuses: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    releases: list[dict[str, Any]] = field(default_factory=example_releases)
    repository: str = REPOSITORY
    default_branch: str = "master"
    page_size: int = 7
    prefix: str = ""
    """``/api/v3`` to answer as GitHub Enterprise Server does."""
    faults: list[Fault] = field(default_factory=list)
    token: str = TOKEN
    requests: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    def __post_init__(self) -> None:
        if not self.commits:
            self.commits = default_branch_commits(self.pulls, self.pull_commits)
        if not self.deployments:
            self.deployments, self.statuses = example_deployments()

    # -- GitHub's behaviour ----------------------------------------------------------------------
    def paginate(
        self, path: str, items: list[Any], query: dict[str, list[str]]
    ) -> tuple[list[Any], dict[str, str]]:
        """One page of ``items`` and the ``Link`` header pointing at the others."""
        size = min(int(query.get("per_page", ["30"])[0]), 100, self.page_size)
        page = int(query.get("page", ["1"])[0])
        last = max(1, math.ceil(len(items) / size))

        def link(number: int, rel: str) -> str:
            wanted = {name: values[0] for name, values in query.items()}
            wanted["page"] = str(number)
            return f'<{self.url}{self.prefix}{path}?{urlencode(wanted)}>; rel="{rel}"'

        links = []
        if page < last:
            links += [link(page + 1, "next"), link(last, "last")]
        if page > 1:
            links += [link(1, "first"), link(page - 1, "prev")]
        chosen = items[(page - 1) * size : page * size]
        return chosen, ({"Link": ", ".join(links)} if links else {})

    def list_pulls(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        state = query.get("state", ["open"])[0]
        sort = query.get("sort", ["created"])[0]
        default = "asc" if sort in ("updated", "popularity", "long-running") else "desc"
        descending = query.get("direction", [default])[0] == "desc"
        chosen = [pull for pull in self.pulls if state == "all" or pull["state"] == state]
        column = "updated_at" if sort == "updated" else "created_at"
        return sorted(chosen, key=lambda pull: (pull[column], pull["number"]), reverse=descending)

    def list_issues(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        state = query.get("state", ["open"])[0]
        since = query.get("since", [""])[0]
        descending = query.get("direction", ["desc"])[0] == "desc"
        column = "updated_at" if query.get("sort", ["created"])[0] == "updated" else "created_at"
        chosen = [
            issue
            for issue in self.issues
            if (state == "all" or issue["state"] == state)
            and (not since or _at(issue["updated_at"]) >= _at(since))
        ]
        return sorted(
            chosen, key=lambda issue: (issue[column], issue["number"]), reverse=descending
        )

    def list_commits(self, query: dict[str, list[str]]) -> list[dict[str, Any]] | None:
        if query.get("sha", [self.default_branch])[0] != self.default_branch:
            return None
        since = query.get("since", [""])[0]
        chosen = [c for c in self.commits if not since or _at(committed(c)) >= _at(since)]
        return sorted(chosen, key=committed, reverse=True)

    def history(self) -> list[dict[str, Any]]:
        """The default branch, oldest commit first (equal commit times keep their order)."""
        return sorted(self.commits, key=committed)

    def compare(self, base: str, head: str) -> dict[str, Any] | None:
        """GitHub's comparison of two commits of the default branch (or the branch itself),
        all its commits (None: GitHub's 404 for a commit it does not know)."""
        history = self.history()
        where = {commit["sha"]: index for index, commit in enumerate(history)}
        where[self.default_branch] = len(history) - 1
        if base not in where or head not in where:
            return None
        start, end = where[base], where[head]
        ahead = history[start + 1 : end + 1]
        status = "ahead" if end > start else "identical" if end == start else "behind"
        url = f"{API}/compare/{base}...{head}"
        return {
            "url": url,
            "html_url": f"https://github.com/{REPOSITORY}/compare/{base}...{head}",
            "permalink_url": url,
            "diff_url": f"https://github.com/{REPOSITORY}/compare/{base}...{head}.diff",
            "patch_url": f"https://github.com/{REPOSITORY}/compare/{base}...{head}.patch",
            "base_commit": history[start],
            "merge_base_commit": history[min(start, end)],
            "status": status,
            "ahead_by": len(ahead),
            "behind_by": max(start - end, 0),
            "total_commits": len(ahead),
            "commits": ahead,
            "files": [],
        }

    def list_runs(self, query: dict[str, list[str]]) -> list[dict[str, Any]]:
        created = query.get("created", [""])[0]
        chosen = self.runs
        if created:
            assert created.startswith(">="), created
            chosen = [run for run in chosen if run["created_at"][:10] >= created[2:]]
        return sorted(chosen, key=lambda run: (run["created_at"], run["id"]), reverse=True)


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


def _handler(github: FakeGitHub) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        content_type = "application/json; charset=utf-8"

        def standing_headers(self, headers: Mapping[str, str]) -> dict[str, str]:
            standing = {"X-RateLimit-Limit": "5000"}
            if "X-RateLimit-Remaining" not in headers:
                standing["X-RateLimit-Remaining"] = "4321"
            return standing

        def _list(self, path: str, items: list[Any], query: dict[str, list[str]]) -> None:
            page, headers = github.paginate(path, items, query)
            self._send(200, page, headers)

        def _fault(self, path: str, query: dict[str, list[str]]) -> bool:
            page = int(query.get("page", ["1"])[0])
            for index, fault in enumerate(github.faults):
                if path.endswith(fault.path) and fault.page in (None, page):
                    del github.faults[index]
                    message = {401: "Bad credentials", 403: "API rate limit exceeded"}
                    self._send(
                        fault.status,
                        {"message": message.get(fault.status, f"fault {fault.status}")},
                        fault.headers,
                    )
                    return True
            return False

        def do_GET(self) -> None:
            github.requests.append(self.path)
            github.headers.append(dict(self.headers.items()))
            url = urlparse(self.path)
            query = parse_qs(url.query)
            if self._fault(url.path, query):
                return
            if self.headers.get("Authorization", "") != f"Bearer {github.token}":
                self._send(401, {"message": "Bad credentials"})
                return
            if not url.path.startswith(github.prefix + "/"):
                self._send(404, {"message": "Not Found"})
                return
            path = url.path[len(github.prefix) :]
            base = f"/repos/{github.repository}"
            if path == base:
                self._send(200, {"full_name": github.repository, "private": False,
                                 "default_branch": github.default_branch})  # fmt: skip
            elif path == f"{base}/pulls":
                self._list(path, github.list_pulls(query), query)
            elif match := re.fullmatch(rf"{base}/pulls/(\d+)/(reviews|commits)", path):
                found = github.reviews if match.group(2) == "reviews" else github.pull_commits
                self._list(path, found.get(int(match.group(1)), []), query)
            elif path == f"{base}/commits":
                commits = github.list_commits(query)
                if commits is None:
                    self._send(404, {"message": "No commit found for SHA"})
                else:
                    self._list(path, commits, query)
            elif path == f"{base}/issues":
                self._list(path, github.list_issues(query), query)
            elif match := re.fullmatch(rf"{base}/issues/(\d+)/events", path):
                self._list(path, github.events.get(int(match.group(1)), []), query)
            elif path == f"{base}/actions/runs":
                runs = github.list_runs(query)
                page, headers = github.paginate(path, runs, query)
                self._send(200, {"total_count": len(runs), "workflow_runs": page}, headers)
            elif path == f"{base}/deployments":
                self._list(path, github.deployments, query)
            elif match := re.fullmatch(rf"{base}/deployments/(\d+)/statuses", path):
                self._list(path, github.statuses.get(int(match.group(1)), []), query)
            elif match := re.fullmatch(rf"{base}/compare/([^/]+)\.\.\.([^/]+)", path):
                comparison = github.compare(match.group(1), match.group(2))
                if comparison is None:
                    self._send(404, {"message": "Not Found"})
                elif "per_page" in query or "page" in query:
                    # Paged, the commits come a page at a time and the files with the first.
                    page, headers = github.paginate(path, comparison["commits"], query)
                    files = comparison["files"] if query.get("page", ["1"])[0] == "1" else []
                    self._send(200, {**comparison, "commits": page, "files": files}, headers)
                else:
                    # Unpaged, GitHub lists at most 250 commits: the most recent ones.
                    self._send(200, {**comparison, "commits": comparison["commits"][-250:]})
            elif path == f"{base}/releases":
                self._list(path, github.releases, query)
            else:
                self._send(404, {"message": "Not Found"})

    return Handler


@contextmanager
def serve(github: FakeGitHub) -> Iterator[FakeGitHub]:
    with running(_handler(github)) as url:
        github.url = url
        yield github
