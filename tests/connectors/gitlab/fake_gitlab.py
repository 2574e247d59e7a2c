"""A GitLab REST API v4 stand-in on 127.0.0.1, with faults the tests switch on.

No recorded GitLab payloads exist for these tests: every object here is made up by hand in the
shape GitLab's API documentation gives (issues, resource state and label events, merge
requests with approvals, notes and commits, repository commits and compare, pipelines,
deployments, environments, releases), and kept small so the expected values can be counted by
hand. Lists are filtered (``updated_after``, ``since``, ``environment``, ``status``), sorted and
paginated two to a page: by ``X-Next-Page`` headers, and for merge requests by a keyset-style
``Link: rel="next"`` header only (as GitLab answers for lists paginated by keyset).

Two projects: ``acme/platform/shop`` (id 42, in a subgroup, read by path) and ``acme/api``
(id 7, read by its numeric id).
"""

import base64
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any
from urllib.parse import parse_qs, unquote, urlencode, urlparse

from tests.connectors.local_server import JsonHandler, running

TOKEN = "glpat-s3cret"
SHOP = "acme/platform/shop"
API = "acme/api"
WEB = "https://gitlab.example.com"


def sha(name: str) -> str:
    """A 40-character sha standing for commit ``name`` (``c1`` → ``c1c1…``)."""
    return (name * 40)[:40]


def _user(username: str, identifier: int) -> dict[str, Any]:
    return {
        "id": identifier,
        "username": username,
        "name": username.capitalize(),
        "state": "active",
        "avatar_url": None,
        "web_url": f"{WEB}/{username}",
    }


ALICE, BOB, CAROL = _user("alice", 11), _user("bob", 12), _user("carol", 13)


def _issue(
    project: str, project_id: int, iid: int, title: str, created: str, updated: str, **extra: Any
) -> dict[str, Any]:
    issue: dict[str, Any] = {
        "id": project_id * 1000 + iid,
        "iid": iid,
        "project_id": project_id,
        "title": title,
        "description": None,
        "state": "opened",
        "created_at": created,
        "updated_at": updated,
        "closed_at": None,
        "closed_by": None,
        "labels": [],
        "milestone": None,
        "assignees": [],
        "assignee": None,
        "author": ALICE,
        "type": "ISSUE",
        "issue_type": "issue",
        "user_notes_count": 0,
        "confidential": False,
        "web_url": f"{WEB}/{project}/-/issues/{iid}",
    }
    issue.update(extra)
    return issue


def _state_event(identifier: int, user: dict[str, Any], at: str, state: str) -> dict[str, Any]:
    return {
        "id": identifier,
        "user": user,
        "created_at": at,
        "resource_type": "Issue",
        "resource_id": 0,
        "state": state,
    }


def _label_event(
    identifier: int, user: dict[str, Any], at: str, name: str | None, action: str
) -> dict[str, Any]:
    label = None
    if name is not None:
        label = {"id": sum(map(ord, name)), "name": name, "color": "#428BCA", "description": None}
    return {
        "id": identifier,
        "user": user,
        "created_at": at,
        "resource_type": "Issue",
        "resource_id": 0,
        "label": label,
        "action": action,
    }


def _commit(name: str, title: str, authored: str, committed: str, author: str) -> dict[str, Any]:
    return {
        "id": sha(name),
        "short_id": sha(name)[:8],
        "created_at": committed,
        "parent_ids": [],
        "title": title,
        "message": f"{title}\n",
        "author_name": author,
        "author_email": f"{author.lower()}@example.com",
        "authored_date": authored,
        "committer_name": author,
        "committer_email": f"{author.lower()}@example.com",
        "committed_date": committed,
        "web_url": f"{WEB}/{SHOP}/-/commit/{sha(name)}",
    }


def _merge_request(iid: int, title: str, author: dict[str, Any], **extra: Any) -> dict[str, Any]:
    merge_request: dict[str, Any] = {
        "id": 4200 + iid,
        "iid": iid,
        "project_id": 42,
        "title": title,
        "description": None,
        "state": "opened",
        "created_at": None,
        "updated_at": None,
        "merged_at": None,
        "merged_by": None,
        "merge_user": None,
        "closed_at": None,
        "closed_by": None,
        "target_branch": "main",
        "source_branch": f"feature/{iid}",
        "author": author,
        "draft": False,
        "sha": None,
        "merge_commit_sha": None,
        "squash_commit_sha": None,
        "web_url": f"{WEB}/{SHOP}/-/merge_requests/{iid}",
    }
    merge_request.update(extra)
    return merge_request


def _note(
    identifier: int, author: dict[str, Any] | None, at: str, body: str, system: bool = False
) -> dict[str, Any]:
    return {
        "id": identifier,
        "type": None,
        "body": body,
        "author": author,
        "created_at": at,
        "updated_at": at,
        "system": system,
        "noteable_type": "MergeRequest",
        "resolvable": False,
    }


def _pipeline(
    identifier: int,
    name: str | None,
    commit: str,
    ref: str,
    status: str,
    created: str,
    updated: str,
) -> dict[str, Any]:
    return {
        "id": identifier,
        "iid": identifier - 100,
        "project_id": 42,
        "name": name,
        "sha": sha(commit),
        "ref": ref,
        "status": status,
        "source": "push",
        "created_at": created,
        "updated_at": updated,
        "web_url": f"{WEB}/{SHOP}/-/pipelines/{identifier}",
    }


ENVIRONMENTS = {
    "production": {"id": 1, "name": "production", "tier": "production"},
    "staging": {"id": 2, "name": "staging", "tier": "staging"},
    "live-eu": {"id": 3, "name": "live-eu", "tier": "other"},
}


def _deployment(
    identifier: int, environment: str, status: str, commit: str, created: str, finished: str | None
) -> dict[str, Any]:
    env = ENVIRONMENTS[environment]
    return {
        "id": identifier,
        "iid": identifier - 9,
        "ref": "main",
        "sha": sha(commit),
        "created_at": created,
        "updated_at": finished or created,
        "finished_at": finished,
        "status": status,
        "user": ALICE,
        "environment": {
            "id": env["id"],
            "name": environment,
            "external_url": f"https://{environment}.example.com",
        },
        "deployable": {
            "id": identifier * 10,
            "status": status,
            "stage": "deploy",
            "name": f"deploy-{environment}",
            "ref": "main",
            "created_at": created,
            "started_at": created,
            "finished_at": finished,
            "web_url": f"{WEB}/{SHOP}/-/jobs/{identifier * 10}",
        },
    }


def _environment(name: str) -> dict[str, Any]:
    env = ENVIRONMENTS[name]
    return {
        **env,
        "slug": name,
        "external_url": f"https://{name}.example.com",
        "state": "available",
        "created_at": "2025-02-01T00:00:00.000Z",
        "updated_at": "2025-02-01T00:00:00.000Z",
    }


def _release(tag: str, name: str | None, released: str, upcoming: bool) -> dict[str, Any]:
    return {
        "tag_name": tag,
        "name": name,
        "description": "",
        "created_at": released,
        "released_at": released,
        "upcoming_release": upcoming,
        "author": ALICE,
        "commit": {"id": sha("c5")},
        "milestones": [],
        "assets": {"count": 0, "sources": [], "links": []},
        "_links": {"self": f"{WEB}/{SHOP}/-/releases/{tag}"},
    }


@dataclass
class FakeProject:
    """One project's data, as GitLab would hold it."""

    info: dict[str, Any]
    issues: list[dict[str, Any]] = field(default_factory=list)
    state_events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    label_events: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    merge_requests: list[dict[str, Any]] = field(default_factory=list)
    approvals: dict[int, dict[str, Any]] = field(default_factory=dict)
    notes: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    mr_commits: dict[int, list[dict[str, Any]]] = field(default_factory=dict)
    history: list[dict[str, Any]] = field(default_factory=list)
    """The default branch, oldest commit first (linear)."""
    pipelines: list[dict[str, Any]] = field(default_factory=list)
    deployments: list[dict[str, Any]] = field(default_factory=list)
    environments: list[dict[str, Any]] = field(default_factory=list)
    releases: list[dict[str, Any]] = field(default_factory=list)


def shop() -> FakeProject:
    """``acme/platform/shop``: the data the tests count by hand (see test_sync.py)."""
    project = FakeProject(
        info={
            "id": 42,
            "name": "shop",
            "path_with_namespace": SHOP,
            "default_branch": "main",
            "web_url": f"{WEB}/{SHOP}",
        }
    )
    project.issues = [
        _issue(
            SHOP,
            42,
            1,
            "Checkout button",
            "2025-03-01T09:00:00.000Z",
            "2025-03-04T12:00:00.000Z",
            state="closed",
            closed_at="2025-03-04T12:00:00.000Z",
            closed_by=BOB,
            labels=["type::feature", "workflow::review"],
            assignees=[BOB],
            assignee=BOB,
        ),
        _issue(
            SHOP,
            42,
            2,
            "Refund fails",
            "2025-03-05T08:00:00.000Z",
            "2025-03-06T09:00:00.000Z",
            labels=["bug"],
        ),
        _issue(
            SHOP,
            42,
            3,
            "Old report",
            "2025-02-20T08:00:00.000Z",
            "2025-03-07T08:00:00.000Z",
            state="closed",
            closed_at="2025-03-07T08:00:00.000Z",
        ),
        _issue(
            SHOP,
            42,
            4,
            "Checkout down",
            "2025-03-08T08:30:00.000Z",
            "2025-03-08T09:00:00.000Z",
            type="INCIDENT",
            issue_type="incident",
            labels=["workflow::doing"],
        ),
        _issue(SHOP, 42, 5, "Docs typo", "2025-03-09T10:00:00.000Z", "2025-03-09T10:00:00.000Z"),
    ]
    project.label_events = {
        1: [
            _label_event(501, ALICE, "2025-03-01T09:00:00.000Z", "type::feature", "add"),
            _label_event(502, ALICE, "2025-03-01T09:00:00.000Z", "workflow::todo", "add"),
            _label_event(503, BOB, "2025-03-02T10:00:00.000Z", "workflow::todo", "remove"),
            _label_event(504, BOB, "2025-03-02T10:00:00.000Z", "workflow::doing", "add"),
            _label_event(505, BOB, "2025-03-03T15:00:00.000Z", "workflow::doing", "remove"),
            _label_event(506, BOB, "2025-03-03T15:00:00.000Z", "workflow::review", "add"),
        ],
        2: [_label_event(511, ALICE, "2025-03-05T08:00:00.000Z", "bug", "add")],
        4: [
            _label_event(521, CAROL, "2025-03-08T08:40:00.000Z", None, "add"),  # label deleted
            _label_event(522, CAROL, "2025-03-08T09:00:00.000Z", "workflow::doing", "add"),
        ],
    }
    project.state_events = {
        1: [_state_event(601, BOB, "2025-03-04T12:00:00.000Z", "closed")],
        2: [
            _state_event(611, BOB, "2025-03-05T10:00:00.000Z", "closed"),
            _state_event(612, ALICE, "2025-03-06T09:00:00.000Z", "reopened"),
        ],
    }
    c0 = _commit(
        "c0", "Initial commit", "2025-02-28T09:00:00.000Z", "2025-02-28T09:00:00.000Z", "Alice"
    )
    c1 = _commit(
        "c1", "Add checkout button", "2025-03-02T10:30:00.000Z", "2025-03-02T10:30:00.000Z", "Alice"
    )
    c2 = _commit(
        "c2",
        "Style checkout button",
        "2025-03-02T11:30:00.000Z",
        "2025-03-02T11:30:00.000Z",
        "Alice",
    )
    m1 = _commit(
        "m1",
        "Merge branch 'feature/1' into 'main'",
        "2025-03-03T16:00:00.000Z",
        "2025-03-03T16:00:00.000Z",
        "Bob",
    )
    c3 = _commit("c3", "Fix refunds", "2025-03-05T11:00:00.000Z", "2025-03-05T11:00:00.000Z", "Bob")
    c4 = _commit(
        "c4", "Try an experiment", "2025-03-01T08:00:00.000Z", "2025-03-01T08:00:00.000Z", "Carol"
    )
    c5 = _commit("c5", "Direct fix", "2025-03-07T09:00:00.000Z", "2025-03-07T09:00:00.000Z", "Bob")
    c6 = _commit(
        "c6", "Release prep", "2025-03-08T10:00:00.000Z", "2025-03-08T10:00:00.000Z", "Alice"
    )
    project.history = [c0, c1, c2, m1, c5, c6]
    project.merge_requests = [
        _merge_request(
            1,
            "Checkout button",
            ALICE,
            description="Closes #1",
            source_branch="feature/1-checkout",
            state="merged",
            created_at="2025-03-02T11:00:00.000Z",
            updated_at="2025-03-03T16:00:00.000Z",
            merged_at="2025-03-03T16:00:00.000Z",
            merged_by=BOB,
            sha=sha("c2"),
            merge_commit_sha=sha("m1"),
        ),
        _merge_request(
            2,
            "Refund fix",
            BOB,
            description="Fixes #2 and mentions #5",
            source_branch="fix-refunds",
            created_at="2025-03-05T12:00:00.000Z",
            updated_at="2025-03-06T10:00:00.000Z",
            sha=sha("c3"),
        ),
        _merge_request(
            3,
            "Old experiment",
            CAROL,
            state="closed",
            created_at="2025-03-01T08:00:00.000Z",
            updated_at="2025-03-01T18:00:00.000Z",
            closed_at="2025-03-01T18:00:00.000Z",
            closed_by=CAROL,
            sha=sha("c4"),
        ),
    ]
    project.approvals = {
        1: {
            "id": 4201,
            "iid": 1,
            "approved": True,
            "approved_by": [{"user": BOB, "approved_at": "2025-03-03T14:00:00.000Z"}],
        },
        2: {"id": 4202, "iid": 2, "approved": True, "approved_by": [{"user": ALICE}]},
        3: {"id": 4203, "iid": 3, "approved": False, "approved_by": []},
    }
    project.notes = {
        1: [
            _note(101, ALICE, "2025-03-02T12:00:00.000Z", "Ready for review"),
            _note(102, BOB, "2025-03-02T13:30:00.000Z", "Why a button and not a link?"),
            _note(104, CAROL, "2025-03-03T09:00:00.000Z", "Looks fine on mobile"),
            _note(103, BOB, "2025-03-03T14:00:00.000Z", "approved this merge request", True),
        ],
        2: [_note(201, ALICE, "2025-03-06T10:00:00.000Z", "approved this merge request", True)],
    }
    project.mr_commits = {1: [c2, c1], 2: [c3], 3: [c4]}  # newest first, as GitLab lists them
    project.pipelines = [
        _pipeline(
            101,
            None,
            "c1",
            "feature/1-checkout",
            "success",
            "2025-03-02T10:35:00.000Z",
            "2025-03-02T10:45:00.000Z",
        ),
        _pipeline(
            102,
            None,
            "m1",
            "main",
            "failed",
            "2025-03-03T16:01:00.000Z",
            "2025-03-03T16:09:00.000Z",
        ),
        _pipeline(
            103,
            "Release",
            "m1",
            "main",
            "success",
            "2025-03-03T16:20:00.000Z",
            "2025-03-03T16:30:00.000Z",
        ),
        _pipeline(
            104,
            None,
            "c5",
            "main",
            "canceled",
            "2025-03-07T09:05:00.000Z",
            "2025-03-07T09:06:00.000Z",
        ),
        _pipeline(
            105,
            None,
            "c6",
            "main",
            "running",
            "2025-03-08T10:05:00.000Z",
            "2025-03-08T10:06:00.000Z",
        ),
    ]
    project.deployments = [
        _deployment(
            10,
            "production",
            "success",
            "c0",
            "2025-03-01T07:00:00.000Z",
            "2025-03-01T07:05:00.000Z",
        ),
        _deployment(
            11, "staging", "success", "m1", "2025-03-03T16:31:00.000Z", "2025-03-03T16:35:00.000Z"
        ),
        _deployment(
            12, "production", "failed", "m1", "2025-03-03T17:00:00.000Z", "2025-03-03T17:04:00.000Z"
        ),
        _deployment(
            13,
            "production",
            "success",
            "c5",
            "2025-03-07T10:00:00.000Z",
            "2025-03-07T10:10:00.000Z",
        ),
        _deployment(
            15, "live-eu", "success", "c5", "2025-03-07T11:00:00.000Z", "2025-03-07T11:20:00.000Z"
        ),
        _deployment(14, "production", "running", "c6", "2025-03-08T12:00:00.000Z", None),
    ]
    project.environments = [_environment(name) for name in ENVIRONMENTS]
    project.releases = [
        _release("v1.1", "Spring release", "2099-01-01T00:00:00.000Z", upcoming=True),
        _release("v1.0", None, "2025-03-04T09:00:00.000Z", upcoming=False),
    ]
    return project


def api() -> FakeProject:
    """``acme/api``: one issue and one commit, nothing else."""
    project = FakeProject(
        info={
            "id": 7,
            "name": "api",
            "path_with_namespace": API,
            "default_branch": "trunk",
            "web_url": f"{WEB}/{API}",
        }
    )
    project.issues = [
        _issue(API, 7, 1, "Rate limits", "2025-03-01T00:00:00.000Z", "2025-03-02T00:00:00.000Z")
    ]
    project.history = [
        _commit(
            "a1", "Start the API", "2025-02-27T09:00:00.000Z", "2025-02-27T09:00:00.000Z", "Carol"
        )
    ]
    return project


@dataclass
class Fault:
    """The next request for a path ending in ``path`` (and on ``page``, if given) fails."""

    path: str
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    page: int | None = None


def _at(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))


@dataclass
class FakeGitLab:
    projects: list[FakeProject] = field(default_factory=lambda: [shop(), api()])
    page_size: int = 2
    faults: list[Fault] = field(default_factory=list)
    token: str = TOKEN
    requests: list[str] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    url: str = ""

    @property
    def shop(self) -> FakeProject:
        return self.projects[0]

    def project(self, reference: str) -> FakeProject | None:
        wanted = unquote(reference)
        for project in self.projects:
            if wanted in (str(project.info["id"]), project.info["path_with_namespace"]):
                return project
        return None

    def paginate(
        self, path: str, items: list[Any], query: dict[str, list[str]], keyset: bool
    ) -> tuple[list[Any], dict[str, str], int]:
        """One page of ``items`` with GitLab's pagination headers, and its number."""
        size = min(int(query.get("per_page", ["20"])[0]), 100, self.page_size)
        if keyset:
            token = query.get("cursor", [""])[0]
            page = int(json.loads(base64.b64decode(token))["page"]) if token else 1
        else:
            page = int(query.get("page", ["1"])[0])
        last = max(1, math.ceil(len(items) / size))
        chosen = items[(page - 1) * size : page * size]
        if keyset:
            headers = {}
            if page < last:
                wanted = {name: values[0] for name, values in query.items()}
                wanted["cursor"] = base64.b64encode(
                    json.dumps({"page": page + 1}).encode()
                ).decode()
                headers["Link"] = f'<{self.url}{path}?{urlencode(wanted)}>; rel="next"'
            return chosen, headers, page
        headers = {
            "X-Page": str(page),
            "X-Per-Page": str(size),
            "X-Next-Page": str(page + 1) if page < last else "",
            "X-Prev-Page": str(page - 1) if page > 1 else "",
            "X-Total": str(len(items)),
            "X-Total-Pages": str(last),
        }
        return chosen, headers, page

    def updated(
        self, items: list[dict[str, Any]], query: dict[str, list[str]]
    ) -> list[dict[str, Any]]:
        """``updated_after`` (inclusive), ordered by ``order_by`` / ``sort``."""
        after = query.get("updated_after", [""])[0]
        chosen = [i for i in items if not after or _at(i["updated_at"]) >= _at(after)]
        for name in ("environment", "status"):
            if name in query:
                wanted = query[name][0]
                chosen = [
                    i
                    for i in chosen
                    if (
                        (i.get("environment") or {}).get("name")
                        if name == "environment"
                        else i[name]
                    )
                    == wanted
                ]
        column = query.get("order_by", ["id"])[0]
        descending = query.get("sort", ["desc"])[0] == "desc"
        return sorted(chosen, key=lambda i: (i[column], i["id"]), reverse=descending)


def _handler(gitlab: FakeGitLab) -> type[BaseHTTPRequestHandler]:
    class Handler(JsonHandler):
        def _fault(self, path: str, page: int) -> bool:
            for index, fault in enumerate(gitlab.faults):
                if path.endswith(fault.path) and fault.page in (None, page):
                    del gitlab.faults[index]
                    messages = {401: "401 Unauthorized", 429: "Retry later"}
                    message = messages.get(fault.status, f"{fault.status} fault")
                    self._send(fault.status, {"message": message}, fault.headers)
                    return True
            return False

        def _list(
            self, path: str, items: list[Any], query: dict[str, list[str]], keyset: bool = False
        ) -> None:
            chosen, headers, page = gitlab.paginate(path, items, query, keyset)
            if not self._fault(path, page):
                self._send(200, chosen, headers)

        def do_GET(self) -> None:
            gitlab.requests.append(self.path)
            gitlab.headers.append(dict(self.headers.items()))
            url = urlparse(self.path)
            query = parse_qs(url.query)
            raw_path = url.path
            token = self.headers.get("PRIVATE-TOKEN") or self.headers.get(
                "Authorization", ""
            ).removeprefix("Bearer ")
            if token != gitlab.token:
                self._send(401, {"message": "401 Unauthorized"})
                return
            prefix = "/api/v4/projects/"
            if not raw_path.startswith(prefix):
                self._send(404, {"message": "404 Not Found"})
                return
            reference, _, rest = raw_path[len(prefix) :].partition("/")
            project = gitlab.project(reference)
            if project is None:
                self._send(404, {"message": "404 Project Not Found"})
                return
            self._route(project, raw_path, rest, query)

        def _route(
            self, project: FakeProject, path: str, rest: str, query: dict[str, list[str]]
        ) -> None:
            parts = rest.split("/") if rest else []
            if not parts:
                if not self._fault(path, 1):
                    self._send(200, project.info)
            elif parts == ["issues"]:
                self._list(path, gitlab.updated(project.issues, query), query)
            elif len(parts) == 3 and parts[0] == "issues":
                found = (
                    project.state_events
                    if parts[2] == "resource_state_events"
                    else (project.label_events)
                )
                self._list(path, found.get(int(parts[1]), []), query)
            elif parts == ["merge_requests"]:
                merge_requests = gitlab.updated(project.merge_requests, query)
                self._list(path, merge_requests, query, keyset=True)
            elif len(parts) == 3 and parts[0] == "merge_requests":
                iid = int(parts[1])
                if parts[2] == "approvals":
                    if not self._fault(path, 1):
                        self._send(200, project.approvals.get(iid, {"approved_by": []}))
                elif parts[2] == "notes":
                    self._list(path, project.notes.get(iid, []), query)
                else:
                    self._list(path, project.mr_commits.get(iid, []), query)
            elif parts == ["repository", "commits"]:
                if query.get("ref_name", [""])[0] != project.info["default_branch"]:
                    self._send(404, {"message": "404 Commit Not Found"})
                    return
                since = query.get("since", [""])[0]
                commits = [
                    c
                    for c in reversed(project.history)
                    if not since or _at(c["committed_date"]) >= _at(since)
                ]
                self._list(path, commits, query)
            elif parts == ["repository", "compare"]:
                self._compare(project, path, query)
            elif parts == ["pipelines"]:
                self._list(path, gitlab.updated(project.pipelines, query), query)
            elif parts == ["deployments"]:
                self._list(path, gitlab.updated(project.deployments, query), query)
            elif parts == ["environments"]:
                self._list(path, project.environments, query)
            elif parts == ["releases"]:
                self._list(path, project.releases, query)
            else:
                self._send(404, {"message": "404 Not Found"})

        def _compare(self, project: FakeProject, path: str, query: dict[str, list[str]]) -> None:
            shas = [commit["id"] for commit in project.history]
            start, end = query.get("from", [""])[0], query.get("to", [""])[0]
            if start not in shas or end not in shas:
                self._send(404, {"message": "404 Ref Not Found"})
                return
            between = project.history[shas.index(start) + 1 : shas.index(end) + 1]
            if self._fault(path, 1):
                return
            self._send(
                200,
                {
                    "commit": between[-1] if between else None,
                    "commits": [
                        {
                            k: c[k]
                            for k in (
                                "id",
                                "short_id",
                                "title",
                                "author_name",
                                "author_email",
                                "created_at",
                            )
                        }
                        for c in between
                    ],
                    "diffs": [
                        {
                            "old_path": "README.md",
                            "new_path": "README.md",
                            "diff": "@@ -1 +1 @@\n-a\n+b\n",
                        }
                    ],
                    "compare_timeout": False,
                    "compare_same_ref": start == end,
                    "web_url": f"{WEB}/{SHOP}/-/compare/{start}...{end}",
                },
            )

    return Handler


@contextmanager
def serve(gitlab: FakeGitLab) -> Iterator[FakeGitLab]:
    with running(_handler(gitlab)) as url:
        gitlab.url = url
        yield gitlab
