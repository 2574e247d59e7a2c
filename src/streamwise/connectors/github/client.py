"""Reading GitHub's REST API (github.com, or Enterprise Server at ``https://host/api/v3``) for
each repository in ``options.repositories``.

Every list is paginated by its ``Link`` header. Each entity keeps one JSON cursor with a
resume point per repository (``{"owner/name": "2025-03-01T12:00:00+00:00"}``); every read
starts a little before it (``overlap_minutes``) and what comes back unchanged is not stored
twice.

- pull requests: the list has no ``since``. A repository's first read goes oldest update
  first and moves the cursor after every page (``{"owner/name": {"backfill": …}}`` until it
  is done), so an interrupted backfill resumes where it stopped. Later reads go newest update
  first and stop at the cursor; the cursor moves when that short list is done.
- issues: ``since``, oldest update first; the cursor moves after every page.
- commits, workflow runs, deployments: GitHub lists them newest first only, so the cursor
  moves when a repository's list has been read to the end (an interrupted sync reads it
  again). Runs and deployments that have not finished hold the cursor back (for a week at
  most), so their outcome arrives with a later sync.
- releases: there is no filter; all are read every time (there are few).

A successful deployment also carries what it shipped: GitHub's compare API between the sha of
the previous successful deployment of the same environment and its own, every page of it,
stored in its payload (``streamwise_compare``) so that parsing needs no network. The previous
one is the next older success in the same list (GitHub lists deployments newest first), or,
for the oldest ones of a read, the one the cursor remembers: under ``"deployed"`` the cursor
keeps, per repository and environment, the successes the next read will see again — with their
compare results, so that they are not compared again — and the last one before them. A compare
that fails is stored as such (``"error"``), does not stop the sync, and holds the cursor back
like an unfinished deployment, so that the next sync tries again.
"""

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import Any
from urllib.parse import urlsplit

import httpx

from streamwise.connectors.base import EntityKind, FieldError, RawPayload
from streamwise.connectors.github.records import (
    COMPARE_KEY,
    FINISHED_DEPLOYMENT_STATES,
    deployment_environment,
    deployment_status,
    parse_payload,
    run_status,
)
from streamwise.connectors.http import RetryPolicy, ToolClient
from streamwise.connectors.sync_api import Page, SourceSettings
from streamwise.connectors.values import api_moment, api_time, latest_of
from streamwise.errors import AuthenticationError, SourceError

API_VERSION = "2022-11-28"
PAGE_SIZE = 100
DEFAULT_OVERLAP_MINUTES = 5
UNFINISHED_GRACE = timedelta(days=7)
"""A run or deployment unfinished for longer is taken as abandoned and stops holding the
cursor back."""
STATUS_RETENTION = timedelta(days=90)
"""GitHub deletes deployment statuses after 90 days."""
REPOSITORY_NAME = re.compile(r"[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+")
RATE_LIMIT_WAIT_S = 3600.0
"""GitHub's hourly quota resets at most an hour ahead: wait that long rather than give up."""
COMMIT_SHA = re.compile(r"[0-9a-fA-F]{7,64}")
"""What may go into a compare URL: a deployment's sha is a commit id, never a path."""
DEPLOYED = "deployed"
"""The part of the deployments cursor remembering successful deployments (no repository name
can take it: those contain a ``/``)."""
NO_BASE = "no earlier successful deployment of this environment was seen"


def repositories_of(settings: SourceSettings) -> list[str]:
    """``options.repositories`` as a list of ``owner/name`` (a YAML list, or one string with
    names separated by commas or spaces, as ``-o repositories=a/b,c/d`` gives)."""
    value = settings.options.get("repositories")
    if isinstance(value, str):
        names = re.split(r"[,\s]+", value)
    elif isinstance(value, list):
        names = [str(name) for name in value]
    else:
        names = []
    names = [name.strip().strip("/") for name in names if name and name.strip()]
    if not names:
        raise SourceError(
            f"source {settings.name!r}: no repositories to read; add them as an option, "
            "e.g. -o 'repositories=[acme/shop, acme/api]'"
        )
    wrong = [name for name in names if not REPOSITORY_NAME.fullmatch(name)]
    if wrong:
        raise SourceError(
            f"source {settings.name!r}: {', '.join(map(repr, wrong))} is not a repository "
            "written as owner/name"
        )
    return list(dict.fromkeys(names))


def make_client(
    settings: SourceSettings,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ToolClient:
    """A ToolClient speaking GitHub's REST API version ``API_VERSION`` with the source's token."""
    headers = {"Accept": "application/vnd.github+json", "X-GitHub-Api-Version": API_VERSION}
    if settings.token:
        headers["Authorization"] = f"Bearer {settings.token}"
    return ToolClient(
        settings.name,
        settings.base_url,
        headers=headers,
        credential_hint=_credential_hint(settings),
        url_hint="the API root (https://api.github.com, or https://<host>/api/v3)",
        retry=retry or RetryPolicy(longest_wait_s=RATE_LIMIT_WAIT_S),
        sleep=sleep,
    )


def _credential_hint(settings: SourceSettings) -> str:
    variable = settings.token_env or "the token variable"
    return (
        f"the token in ${variable}: it needs `repo` scope (private repositories) or public "
        "read access, and `actions:read` for workflow runs"
    )


class RepositoryCursors:
    """One entity's resume points, one per repository, as kept in the sync state."""

    def __init__(self, text: str | None) -> None:
        self.values: dict[str, Any] = {}
        if text:
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = None
            if isinstance(loaded, dict):
                self.values = loaded

    def moment(self, repository: str) -> datetime | None:
        value = self.values.get(repository)
        if isinstance(value, dict):
            value = value.get("backfill")
        return api_moment(value)

    def backfilling(self, repository: str) -> bool:
        """True while the first, oldest-first read of a repository is not finished."""
        return isinstance(self.values.get(repository), dict)

    def section(self, name: str) -> dict[str, Any]:
        """A part of the cursor kept beside the resume points (``DEPLOYED``)."""
        value = self.values.get(name)
        if not isinstance(value, dict):
            value = self.values[name] = {}
        return value

    def set(self, repository: str, moment: datetime | None, backfill: bool = False) -> None:
        if moment is None:
            return
        text = moment.astimezone(UTC).isoformat()
        self.values[repository] = {"backfill": text} if backfill else text

    def dump(self) -> str:
        return json.dumps(self.values, sort_keys=True)


class GitHubConnector:
    """Syncs the repositories of one GitHub source; one entity at a time, page by page."""

    kind = "github"
    entities = (
        "pull_requests",
        "commits",
        "issues",
        "workflow_runs",
        "deployments",
        "releases",
    )
    parser = staticmethod(parse_payload)

    def __init__(
        self,
        settings: SourceSettings,
        client: ToolClient | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.settings = settings
        self.repositories = repositories_of(settings)
        try:
            minutes = float(settings.options.get("overlap_minutes", DEFAULT_OVERLAP_MINUTES))
        except (TypeError, ValueError):
            raise SourceError(
                f"source {settings.name!r}: overlap_minutes must be a number of minutes"
            ) from None
        self.overlap = timedelta(minutes=minutes)
        self.client = client or make_client(settings)
        self._now = now or (lambda: datetime.now(UTC))
        self._origin = urlsplit(str(self.client.http.base_url))[:2]

    def close(self) -> None:
        self.client.close()

    def fetch(self, entity: str, cursor: str | None) -> Iterator[Page]:
        readers: dict[str, Callable[[RepositoryCursors], Iterator[Page]]] = {
            "pull_requests": self._pull_requests,
            "commits": self._commits,
            "issues": self._issues,
            "workflow_runs": self._workflow_runs,
            "deployments": self._deployments,
            "releases": self._releases,
        }
        if entity not in readers:
            raise ValueError(entity)
        yield from readers[entity](RepositoryCursors(cursor))

    # -- HTTP ------------------------------------------------------------------------------
    def _responses(
        self, path: str, params: Mapping[str, Any]
    ) -> Iterator[tuple[httpx.Response, Any]]:
        """Each page's response and JSON body, following ``Link: <…>; rel="next"``."""
        url: str = path
        query: Mapping[str, Any] | None = params
        while True:
            response = self.client.get(url, query)
            yield response, self.client.json_of(response)
            following = response.links.get("next", {}).get("url")
            if not following:
                return
            if urlsplit(following)[:2] != self._origin:
                raise SourceError(
                    f"source {self.settings.name!r}: the next page of {path} is on another "
                    f"host ({following}); not following it with the token"
                )
            url, query = following, None

    def _pages(
        self, path: str, params: Mapping[str, Any], key: str | None = None
    ) -> Iterator[list[dict[str, Any]]]:
        """The objects of a list (or of the list ``key`` of an object), page by page."""
        for response, body in self._responses(path, params):
            items = body.get(key) if key is not None and isinstance(body, Mapping) else body
            if not isinstance(items, list):
                wanted = f"an object with a list of {key}" if key else "a list"
                raise SourceError(
                    f"source {self.settings.name!r}: {response.request.url} did not answer {wanted}"
                )
            yield [item for item in items if isinstance(item, dict)]

    def _all(self, path: str) -> list[dict[str, Any]]:
        return [item for page in self._pages(path, {"per_page": PAGE_SIZE}) for item in page]

    def _since(self, cursors: RepositoryCursors, repository: str) -> datetime | None:
        moment = cursors.moment(repository)
        return None if moment is None else moment - self.overlap

    # -- pull requests, with their reviews and commits ----------------------------------------
    def _pull_request(self, repository: str, pull: dict[str, Any]) -> RawPayload:
        number = pull.get("number")
        reviews: list[dict[str, Any]] = []
        commits: list[dict[str, Any]] = []
        if isinstance(number, int):
            reviews = self._all(f"repos/{repository}/pulls/{number}/reviews")
            commits = self._all(f"repos/{repository}/pulls/{number}/commits")
        return RawPayload(
            EntityKind.PULL_REQUEST,
            f"{repository}#{number if number is not None else pull.get('id')}",
            {
                "repository": repository,
                "pull_request": pull,
                "reviews": reviews,
                "commits": commits,
            },
        )

    def _pull_requests(self, cursors: RepositoryCursors) -> Iterator[Page]:
        for repository in self.repositories:
            since = self._since(cursors, repository)
            if since is None or cursors.backfilling(repository):
                yield from self._pull_request_backfill(repository, since, cursors)
            else:
                yield from self._recent_pull_requests(repository, since, cursors)

    def _pull_request_backfill(
        self, repository: str, since: datetime | None, cursors: RepositoryCursors
    ) -> Iterator[Page]:
        """Oldest update first, the cursor after every page (an interruption resumes here)."""
        params = {"state": "all", "sort": "updated", "direction": "asc", "per_page": PAGE_SIZE}
        latest = cursors.moment(repository)
        for pulls in self._pages(f"repos/{repository}/pulls", params):
            wanted = [
                pull
                for pull in pulls
                if since is None or (api_moment(pull.get("updated_at")) or since) >= since
            ]
            payloads = [self._pull_request(repository, pull) for pull in wanted]
            latest = latest_of(latest, *(api_moment(pull.get("updated_at")) for pull in pulls))
            cursors.set(repository, latest, backfill=True)
            yield Page("pull_requests", payloads, cursors.dump())
        cursors.set(repository, latest)
        yield Page("pull_requests", [], cursors.dump())

    def _recent_pull_requests(
        self, repository: str, since: datetime, cursors: RepositoryCursors
    ) -> Iterator[Page]:
        """Newest update first down to ``since``; the cursor moves once they are all stored."""
        params = {"state": "all", "sort": "updated", "direction": "desc", "per_page": PAGE_SIZE}
        latest = cursors.moment(repository)
        for pulls in self._pages(f"repos/{repository}/pulls", params):
            recent = [
                pull for pull in pulls if (api_moment(pull.get("updated_at")) or since) >= since
            ]
            latest = latest_of(latest, *(api_moment(pull.get("updated_at")) for pull in recent))
            payloads = [self._pull_request(repository, pull) for pull in recent]
            yield Page("pull_requests", payloads, cursors.dump())
            if len(recent) < len(pulls):
                break
        cursors.set(repository, latest)
        yield Page("pull_requests", [], cursors.dump())

    # -- commits on the default branch ---------------------------------------------------------
    def _default_branch(self, repository: str) -> str:
        response = self.client.get(f"repos/{repository}")
        body = self.client.json_of(response)
        branch = body.get("default_branch") if isinstance(body, Mapping) else None
        if not isinstance(branch, str) or not branch:
            raise SourceError(
                f"source {self.settings.name!r}: {response.request.url} names no default branch"
            )
        return branch

    def _commits(self, cursors: RepositoryCursors) -> Iterator[Page]:
        for repository in self.repositories:
            branch = self._default_branch(repository)
            params: dict[str, Any] = {"sha": branch, "per_page": PAGE_SIZE}
            since = self._since(cursors, repository)
            if since is not None:
                params["since"] = api_time(since)
            latest = cursors.moment(repository)
            for commits in self._pages(f"repos/{repository}/commits", params):
                payloads = []
                for commit in commits:
                    payloads.append(
                        RawPayload(
                            EntityKind.COMMIT,
                            f"{repository}@{commit.get('sha')}",
                            {"repository": repository, "branch": branch, "commit": commit},
                        )
                    )
                    detail = commit.get("commit")
                    committer = detail.get("committer") if isinstance(detail, Mapping) else None
                    if isinstance(committer, Mapping):
                        latest = latest_of(latest, api_moment(committer.get("date")))
                yield Page("commits", payloads, cursors.dump())
            cursors.set(repository, latest)
            yield Page("commits", [], cursors.dump())

    # -- issues, with their events -------------------------------------------------------------
    def _issues(self, cursors: RepositoryCursors) -> Iterator[Page]:
        for repository in self.repositories:
            params: dict[str, Any] = {
                "state": "all",
                "sort": "updated",
                "direction": "asc",
                "per_page": PAGE_SIZE,
            }
            since = self._since(cursors, repository)
            if since is not None:
                params["since"] = api_time(since)
            latest = cursors.moment(repository)
            for issues in self._pages(f"repos/{repository}/issues", params):
                payloads = []
                for issue in issues:
                    latest = latest_of(latest, api_moment(issue.get("updated_at")))
                    if "pull_request" in issue:
                        continue  # GitHub lists pull requests among issues; read as such above
                    number = issue.get("number")
                    events = (
                        self._all(f"repos/{repository}/issues/{number}/events")
                        if isinstance(number, int)
                        else []
                    )
                    payloads.append(
                        RawPayload(
                            EntityKind.WORK_ITEM,
                            f"{repository}#{number if number is not None else issue.get('id')}",
                            {"repository": repository, "issue": issue, "events": events},
                        )
                    )
                cursors.set(repository, latest)
                yield Page("issues", payloads, cursors.dump())

    # -- workflow runs ---------------------------------------------------------------------------
    def _workflow_runs(self, cursors: RepositoryCursors) -> Iterator[Page]:
        for repository in self.repositories:
            params: dict[str, Any] = {"per_page": PAGE_SIZE}
            since = self._since(cursors, repository)
            if since is not None:
                params["created"] = f">={since.astimezone(UTC):%Y-%m-%d}"
            resume = _Resume(cursors.moment(repository), self._now() - UNFINISHED_GRACE)
            pages = self._pages(f"repos/{repository}/actions/runs", params, key="workflow_runs")
            for runs in pages:
                payloads = []
                for run in runs:
                    payloads.append(
                        RawPayload(
                            EntityKind.PIPELINE_RUN,
                            f"{repository}/actions/runs/{run.get('id')}",
                            {"repository": repository, "workflow_run": run},
                        )
                    )
                    resume.saw(api_moment(run.get("created_at")), _run_finished(run))
                yield Page("workflow_runs", payloads, cursors.dump())
            cursors.set(repository, resume.point())
            yield Page("workflow_runs", [], cursors.dump())

    # -- deployments, with their statuses and what they shipped ----------------------------------
    def _compare(self, repository: str, base: str, head: str) -> dict[str, Any]:
        """The commits ``head`` has that ``base`` has not, oldest first, from GitHub's compare
        API. ``per_page`` asks for every page (without it GitHub stops at 250 commits); the
        changed files come along on the first page and are left out. A failure comes back as
        ``{"error": …}`` instead of stopping the sync: the deployment is worth storing
        without it."""
        if base == head:  # a redeployment: nothing to ask
            return {"status": "identical", "ahead_by": 0, "behind_by": 0, "total_commits": 0,
                    "commits": []}  # fmt: skip
        path = f"repos/{repository}/compare/{base}...{head}"
        first: Mapping[str, Any] | None = None
        commits: list[str] = []
        try:
            for response, body in self._responses(path, {"per_page": PAGE_SIZE}):
                listed = body.get("commits") if isinstance(body, Mapping) else None
                if not isinstance(listed, list):
                    raise SourceError(
                        f"source {self.settings.name!r}: {response.request.url} did not answer "
                        "a comparison with a list of commits"
                    )
                first = body if first is None else first
                for commit in listed:
                    sha = commit.get("sha") if isinstance(commit, Mapping) else None
                    if isinstance(sha, str) and COMMIT_SHA.fullmatch(sha):
                        commits.append(sha)
        except AuthenticationError:
            raise  # the token cannot read the repository: nothing else will work either
        except SourceError as error:
            return {"error": str(error)}
        summary = first or {}
        result = {key: summary.get(key) for key in ("status", "ahead_by", "behind_by")}
        result["total_commits"] = summary.get("total_commits")
        result["commits"] = list(dict.fromkeys(commits))
        return result

    def _deployments(self, cursors: RepositoryCursors) -> Iterator[Page]:
        now = self._now()
        deployed = cursors.section(DEPLOYED)
        for repository in self.repositories:
            remembered = _remembered(deployed.get(repository))
            # A cursor from before compare links remembers no bases: read the list once more.
            since = None if remembered is None else self._since(cursors, repository)
            resume = _Resume(cursors.moment(repository), now - UNFINISHED_GRACE)
            chain = _Chain(remembered or {}, partial(self._compare, repository))
            path = f"repos/{repository}/deployments"
            for deployments in self._pages(path, {"per_page": PAGE_SIZE}):
                recent = [
                    deployment
                    for deployment in deployments
                    if since is None or (api_moment(deployment.get("created_at")) or since) >= since
                ]
                payloads = []
                for deployment in recent:
                    created = api_moment(deployment.get("created_at"))
                    identifier = deployment.get("id")
                    statuses = (
                        self._all(f"{path}/{identifier}/statuses")
                        if isinstance(identifier, int)
                        else []
                    )
                    finished = _deployment_finished(statuses)
                    if not finished and created is not None and created < now - STATUS_RETENTION:
                        # Its statuses are gone: nothing to say about its outcome, and a full
                        # sync must not overwrite what an earlier sync saw of it.
                        continue
                    payload = RawPayload(
                        EntityKind.DEPLOYMENT,
                        f"{repository}/deployments/{identifier}",
                        {"repository": repository, "deployment": deployment, "statuses": statuses},
                    )
                    payloads.extend(chain.add(deployment, statuses, payload))
                    resume.saw(created, finished)
                yield Page("deployments", payloads, cursors.dump())
                if len(recent) < len(deployments):
                    break
            payloads = chain.finish()
            for created in chain.failed:
                resume.saw(created, False)  # compare again with the next sync
            point = resume.point()
            cursors.set(repository, point)
            deployed[repository] = chain.remember(None if point is None else point - self.overlap)
            yield Page("deployments", payloads, cursors.dump())

    # -- releases ----------------------------------------------------------------------------------
    def _releases(self, cursors: RepositoryCursors) -> Iterator[Page]:
        for repository in self.repositories:
            for releases in self._pages(f"repos/{repository}/releases", {"per_page": PAGE_SIZE}):
                payloads = [
                    RawPayload(
                        EntityKind.RELEASE,
                        f"{repository}/releases/{release.get('id')}",
                        {"repository": repository, "release": release},
                    )
                    for release in releases
                    if not release.get("draft")  # not released yet; only people with push see it
                ]
                yield Page("releases", payloads, None)


def _run_finished(run: Mapping[str, Any]) -> bool:
    try:
        return run_status(run) != "running"
    except FieldError:
        return True  # unreadable: stored with its error, and no reason to read it again


def _deployment_finished(statuses: list[dict[str, Any]]) -> bool:
    try:
        return deployment_status(statuses) in FINISHED_DEPLOYMENT_STATES
    except FieldError:
        return True


@dataclass
class _Success:
    """A successful deployment of a commit: the base of the next one in its environment."""

    id: int
    created: datetime
    sha: str
    compare: dict[str, Any] | None = None
    """What was stored as its compare (kept only when GitHub answered)."""

    @property
    def order(self) -> tuple[datetime, int]:
        return (self.created, self.id)

    def dump(self, with_compare: bool) -> dict[str, Any]:
        found: dict[str, Any] = {"id": self.id, "created_at": self.created.isoformat()}
        found["sha"] = self.sha
        if with_compare and self.compare is not None:
            found["compare"] = self.compare
        return found


def _success(deployment: Mapping[str, Any], statuses: list[dict[str, Any]]) -> _Success | None:
    """The deployment as a base, when it succeeded in shipping a commit to an environment that
    lasts: transient ones (review apps) come and go, and each would keep a place in the
    cursor for good."""
    if deployment.get("transient_environment") is True:
        return None
    identifier, sha = deployment.get("id"), deployment.get("sha")
    created = api_moment(deployment.get("created_at"))
    if not isinstance(identifier, int) or isinstance(identifier, bool) or created is None:
        return None
    if not isinstance(sha, str) or not COMMIT_SHA.fullmatch(sha):
        return None
    try:
        succeeded = deployment_status(statuses) == "success"
    except FieldError:
        return None
    return _Success(identifier, created, sha) if succeeded else None


def _remembered(value: Any) -> dict[str, list[_Success]] | None:
    """The successes a cursor remembers for one repository, per environment (None: the cursor
    predates them)."""
    if not isinstance(value, dict):
        return None
    found: dict[str, list[_Success]] = {}
    for environment, entries in value.items():
        for entry in entries if isinstance(entries, list) else []:
            if not isinstance(entry, dict):
                continue
            identifier, sha = entry.get("id"), entry.get("sha")
            created = api_moment(entry.get("created_at"))
            compare = entry.get("compare")
            if isinstance(identifier, int) and isinstance(sha, str) and created is not None:
                success = _Success(
                    identifier, created, sha, compare if isinstance(compare, dict) else None
                )
                found.setdefault(str(environment), []).append(success)
    return found


class _Chain:
    """Links each successful deployment of a repository to the previous successful one of its
    environment while GitHub lists them newest first: one success per environment waits until
    the next older success shows up — or the list ends, and the cursor's memory of earlier
    syncs gives its base — and is handed back ready to store then."""

    def __init__(
        self,
        remembered: dict[str, list[_Success]],
        compare: Callable[[str, str], dict[str, Any]],
    ) -> None:
        self.remembered = remembered
        self.compare = compare
        self.earlier = {s.id: s for successes in remembered.values() for s in successes}
        self.read: set[int] = set()
        self.seen: dict[str, list[_Success]] = {}
        self.waiting: dict[str, tuple[_Success, RawPayload]] = {}
        self.failed: list[datetime] = []
        """Creation times of the deployments whose compare failed."""

    def add(
        self, deployment: Mapping[str, Any], statuses: list[dict[str, Any]], payload: RawPayload
    ) -> list[RawPayload]:
        """Payloads ready to store: this one unless it waits for its base, and the newer one
        of its environment that waited for it."""
        if isinstance(deployment.get("id"), int):
            self.read.add(deployment["id"])
        success = _success(deployment, statuses)
        environment = deployment_environment(deployment)
        if success is None or environment is None:
            return [payload]
        ready = []
        if environment in self.waiting:
            newer, newer_payload = self.waiting.pop(environment)
            self._link(newer, newer_payload, success)
            ready.append(newer_payload)
        self.waiting[environment] = (success, payload)
        self.seen.setdefault(environment, []).append(success)
        return ready

    def finish(self) -> list[RawPayload]:
        """The oldest success of each environment read, linked to what the cursor remembers."""
        ready = []
        for environment, (success, payload) in self.waiting.items():
            before = [
                earlier
                for earlier in self.remembered.get(environment, [])
                if earlier.id not in self.read and earlier.order < success.order
            ]
            base = max(before, key=lambda earlier: earlier.order) if before else None
            self._link(success, payload, base)
            ready.append(payload)
        self.waiting = {}
        return ready

    def _link(self, success: _Success, payload: RawPayload, base: _Success | None) -> None:
        if base is None:
            result: dict[str, Any] = {"base": None, "head": success.sha, "reason": NO_BASE}
        else:
            result = {"base": base.sha, "head": success.sha, "base_deployment": base.id}
            before = self.earlier.get(success.id)
            known = before.compare if before is not None else None
            if known is not None and (known.get("base"), known.get("head")) == (
                base.sha,
                success.sha,
            ):
                result = {**known, "base_deployment": base.id}  # stored before: not asked again
            else:
                result.update(self.compare(base.sha, success.sha))
        if "error" in result:
            self.failed.append(success.created)
        else:
            success.compare = result
        payload.payload[COMPARE_KEY] = result

    def remember(self, start: datetime | None) -> dict[str, list[dict[str, Any]]]:
        """Per environment, what the next read (from ``start`` on) needs: the successes it
        reads again, with their compare results, and the last success before them."""
        kept: dict[str, list[dict[str, Any]]] = {}
        for environment in sorted({*self.remembered, *self.seen}):
            successes = [s for s in self.remembered.get(environment, []) if s.id not in self.read]
            successes += self.seen.get(environment, [])
            successes.sort(key=lambda success: success.order)
            again = [s for s in successes if start is None or s.created >= start]
            before = [s for s in successes if start is not None and s.created < start]
            entries = [before[-1].dump(with_compare=False)] if before else []
            kept[environment] = entries + [success.dump(with_compare=True) for success in again]
        return kept


class _Resume:
    """Where the next read of a newest-first list starts: the newest item seen, or the oldest
    one still unfinished (unless it was created before ``abandoned_before``)."""

    def __init__(self, previous: datetime | None, abandoned_before: datetime) -> None:
        self.newest = previous
        self.unfinished: datetime | None = None
        self.abandoned_before = abandoned_before

    def saw(self, created: datetime | None, finished: bool) -> None:
        if created is None:
            return
        self.newest = latest_of(self.newest, created)
        if not finished and created >= self.abandoned_before:
            self.unfinished = created if self.unfinished is None else min(self.unfinished, created)

    def point(self) -> datetime | None:
        if self.unfinished is not None and self.newest is not None:
            return min(self.unfinished, self.newest)
        return self.newest
