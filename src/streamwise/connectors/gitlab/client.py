"""Reading GitLab's REST API v4 (gitlab.com or a self-managed instance) for each project in
``options.projects``.

Lists are paginated by offset; the next page is the ``Link: <…>; rel="next"`` header where
GitLab sends one (offset and keyset pagination both do), else the ``X-Next-Page`` header. Each
entity keeps one JSON cursor with a resume point per project
(``{"group/app": "2025-03-01T12:00:00+00:00"}``); every read starts a little before it
(``overlap_minutes``), and what comes back unchanged is not stored twice.

- issues, merge requests, pipelines, deployments: ``updated_after``, oldest update first; the
  cursor moves after every page, so an interrupted sync resumes after the last stored page. A
  pipeline or deployment that finishes is updated, so its outcome arrives with a later sync.
- commits of the default branch: ``since``, newest first as GitLab lists them; the cursor moves
  when a project's list has been read to its end.
- releases: no filter; all are read every time (there are few).
"""

import json
import re
import time
from collections.abc import Callable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlsplit

from streamwise.connectors.base import EntityKind, RawPayload
from streamwise.connectors.gitlab.records import (
    DEFAULT_STATUS_LABEL_PREFIX,
    DEFAULT_TYPE_LABEL_PREFIX,
    parse_payload,
)
from streamwise.connectors.http import RetryPolicy, ToolClient
from streamwise.connectors.sync_api import Page, SourceSettings
from streamwise.connectors.values import api_moment, api_time, latest_of
from streamwise.errors import SourceError

API_ROOT = "/api/v4"
PAGE_SIZE = 100
DEFAULT_OVERLAP_MINUTES = 5
PROJECT_PATH = re.compile(r"[\w.-]+(?:/[\w.-]+)+")
RATE_LIMIT_WAIT_S = 600.0
"""GitLab.com's limits reset within a minute or so; self-managed ones are configurable."""


def _names(value: Any) -> list[str]:
    """A YAML list, or one string with names separated by commas or spaces."""
    if isinstance(value, str):
        names = re.split(r"[,\s]+", value)
    elif isinstance(value, list | tuple):
        names = [str(name) for name in value]
    elif isinstance(value, int) and not isinstance(value, bool):
        names = [str(value)]
    else:
        names = []
    return [name.strip().strip("/") for name in names if name and name.strip().strip("/")]


def projects_of(settings: SourceSettings) -> list[str]:
    """``options.projects``: paths (``group/subgroup/project``) or numeric project ids."""
    names = _names(settings.options.get("projects"))
    if not names:
        raise SourceError(
            f"source {settings.name!r}: no projects to read; add them as an option, "
            "e.g. -o 'projects=[acme/shop, acme/platform/api]'"
        )
    wrong = [name for name in names if not (name.isdigit() or PROJECT_PATH.fullmatch(name))]
    if wrong:
        raise SourceError(
            f"source {settings.name!r}: {', '.join(map(repr, wrong))} in option projects is "
            "neither a project path (group/project) nor a numeric project id"
        )
    return list(dict.fromkeys(names))


def issue_options(options: Mapping[str, Any]) -> dict[str, str]:
    """The source options an issue is read with, stored with each issue payload."""
    return {
        "status_label_prefix": str(
            options.get("status_label_prefix", DEFAULT_STATUS_LABEL_PREFIX) or ""
        ),
        "type_label_prefix": str(options.get("type_label_prefix", DEFAULT_TYPE_LABEL_PREFIX) or ""),
    }


def deployment_options(options: Mapping[str, Any]) -> dict[str, Any]:
    """The source options a deployment is read with, stored with each deployment payload."""
    found: dict[str, Any] = {
        "production_environments": _names(options.get("production_environments"))
    }
    if options.get("service"):
        found["service"] = str(options["service"])
    return found


def api_url(base_url: str) -> str:
    """The REST API root for the source's URL (``https://gitlab.com`` → ``…/api/v4``)."""
    root = base_url.rstrip("/")
    return root if root.endswith(API_ROOT) else root + API_ROOT


def _credential_hint(settings: SourceSettings) -> str:
    variable = settings.token_env or "the token variable"
    return (
        f"the token in ${variable}: a personal, group or project access token with the "
        "`read_api` scope, from an account that can see each project (Reporter or more)"
    )


def make_client(
    settings: SourceSettings,
    *,
    retry: RetryPolicy | None = None,
    sleep: Callable[[float], None] = time.sleep,
) -> ToolClient:
    """A ToolClient on the source's API root, sending the token as GitLab expects: in
    ``PRIVATE-TOKEN`` (access tokens), or as a bearer token (``-o auth=bearer``, OAuth)."""
    headers: dict[str, str] = {}
    if settings.token:
        if str(settings.options.get("auth", "")).lower() == "bearer":
            headers["Authorization"] = f"Bearer {settings.token}"
        else:
            headers["PRIVATE-TOKEN"] = settings.token
    return ToolClient(
        settings.name,
        api_url(settings.base_url),
        headers=headers,
        credential_hint=_credential_hint(settings),
        url_hint="the GitLab instance (https://gitlab.com, or https://<host>)",
        retry=retry or RetryPolicy(longest_wait_s=RATE_LIMIT_WAIT_S),
        sleep=sleep,
    )


class ProjectCursors:
    """One entity's resume points, one per project (as written in the options)."""

    def __init__(self, text: str | None) -> None:
        self.values: dict[str, str] = {}
        if text:
            try:
                loaded = json.loads(text)
            except ValueError:
                loaded = None
            if isinstance(loaded, dict):
                self.values = {str(k): str(v) for k, v in loaded.items() if isinstance(v, str)}

    def moment(self, project: str) -> datetime | None:
        return api_moment(self.values.get(project))

    def set(self, project: str, moment: datetime | None) -> None:
        if moment is not None:
            self.values[project] = moment.astimezone(UTC).isoformat()

    def dump(self) -> str:
        return json.dumps(self.values, sort_keys=True)


class GitLabConnector:
    """Syncs the projects of one GitLab source; one entity at a time, page by page."""

    kind = "gitlab"
    entities = ("issues", "merge_requests", "commits", "pipelines", "deployments", "releases")
    parser = staticmethod(parse_payload)

    def __init__(
        self,
        settings: SourceSettings,
        client: ToolClient | None = None,
    ) -> None:
        self.settings = settings
        self.projects = projects_of(settings)
        options = settings.options
        try:
            minutes = float(options.get("overlap_minutes", DEFAULT_OVERLAP_MINUTES))
        except (TypeError, ValueError):
            raise SourceError(
                f"source {settings.name!r}: overlap_minutes must be a number of minutes, "
                f"not {options.get('overlap_minutes')!r}"
            ) from None
        self.overlap = timedelta(minutes=minutes)
        self.issue_options = issue_options(options)
        self.deployment_options = deployment_options(options)
        self.client = client or make_client(settings)
        self._origin = urlsplit(str(self.client.http.base_url))[:2]
        self._projects: dict[str, Mapping[str, Any]] = {}
        self._environments: dict[str, dict[str, Mapping[str, Any]]] = {}
        self._successes: dict[tuple[str, str], list[tuple[int, str]]] = {}

    def close(self) -> None:
        self.client.close()

    def fetch(self, entity: str, cursor: str | None) -> Iterator[Page]:
        readers: dict[str, Callable[[ProjectCursors], Iterator[Page]]] = {
            "issues": self._issues,
            "merge_requests": self._merge_requests,
            "commits": self._commits,
            "pipelines": self._pipelines,
            "deployments": self._deployments,
            "releases": self._releases,
        }
        if entity not in readers:
            raise ValueError(entity)
        yield from readers[entity](ProjectCursors(cursor))

    # -- HTTP ------------------------------------------------------------------------------
    def _get_object(self, path: str, params: Mapping[str, Any] | None = None) -> dict[str, Any]:
        response = self.client.get(path, params)
        body = self.client.json_of(response)
        if not isinstance(body, dict):
            raise SourceError(
                f"source {self.settings.name!r}: {response.request.url} did not answer an object"
            )
        return body

    def _pages(self, path: str, params: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        """The objects of a list, page by page: ``Link: rel="next"``, else ``X-Next-Page``."""
        url: str = path
        query: dict[str, Any] | None = dict(params)
        while True:
            response = self.client.get(url, query)
            body = self.client.json_of(response)
            if not isinstance(body, list):
                raise SourceError(
                    f"source {self.settings.name!r}: {response.request.url} did not answer a list"
                )
            yield [item for item in body if isinstance(item, dict)]
            following = response.links.get("next", {}).get("url")
            if following:
                if urlsplit(following)[:2] != self._origin:
                    raise SourceError(
                        f"source {self.settings.name!r}: the next page of {path} is on another "
                        f"host ({following}); not following it with the token"
                    )
                url, query = following, None
                continue
            next_page = response.headers.get("x-next-page", "").strip()
            if not next_page:
                return
            url, query = path, {**params, "page": next_page}

    def _all(self, path: str, params: Mapping[str, Any] | None = None) -> list[dict[str, Any]]:
        query = {"per_page": PAGE_SIZE, **(params or {})}
        return [item for page in self._pages(path, query) for item in page]

    def _since(self, cursors: ProjectCursors, project: str) -> datetime | None:
        moment = cursors.moment(project)
        return None if moment is None else moment - self.overlap

    @staticmethod
    def _path(project: str) -> str:
        """``projects/:id`` with the path URL-encoded (``group%2Fapp``) as GitLab wants it."""
        return f"projects/{quote(project, safe='')}"

    def _project(self, project: str) -> Mapping[str, Any]:
        """The project (its full path and default branch), read once per sync."""
        if project not in self._projects:
            found = self._get_object(self._path(project))
            if not isinstance(found.get("path_with_namespace"), str):
                raise SourceError(
                    f"source {self.settings.name!r}: project {project!r} answered without "
                    "path_with_namespace"
                )
            self._projects[project] = found
        return self._projects[project]

    def _updated_pages(
        self, project: str, resource: str, cursors: ProjectCursors, extra: Mapping[str, Any]
    ) -> Iterator[tuple[list[dict[str, Any]], datetime | None]]:
        """A list read oldest update first from the cursor on, each page with the newest
        ``updated_at`` seen so far (the cursor to store with it)."""
        params: dict[str, Any] = {
            **extra,
            "order_by": "updated_at",
            "sort": "asc",
            "per_page": PAGE_SIZE,
        }
        since = self._since(cursors, project)
        if since is not None:
            params["updated_after"] = api_time(since)
        latest = cursors.moment(project)
        for items in self._pages(f"{self._path(project)}/{resource}", params):
            latest = latest_of(latest, *(api_moment(item.get("updated_at")) for item in items))
            yield items, latest

    # -- issues, with their state and label events -----------------------------------------
    def _issues(self, cursors: ProjectCursors) -> Iterator[Page]:
        for project in self.projects:
            path = str(self._project(project)["path_with_namespace"])
            pages = self._updated_pages(project, "issues", cursors, {"scope": "all"})
            for issues, latest in pages:
                payloads = []
                for issue in issues:
                    iid = issue.get("iid")
                    events = f"{self._path(project)}/issues/{iid}"
                    readable = isinstance(iid, int)
                    payloads.append(
                        RawPayload(
                            EntityKind.WORK_ITEM,
                            f"{path}#{iid if iid is not None else issue.get('id')}",
                            {
                                "project": path,
                                "issue": issue,
                                "state_events": (
                                    self._all(f"{events}/resource_state_events") if readable else []
                                ),
                                "label_events": (
                                    self._all(f"{events}/resource_label_events") if readable else []
                                ),
                                "streamwise_options": self.issue_options,
                            },
                        )
                    )
                cursors.set(project, latest)
                yield Page("issues", payloads, cursors.dump())

    # -- merge requests, with approvals, notes and commits ----------------------------------
    def _merge_request(self, project: str, path: str, merge_request: dict[str, Any]) -> RawPayload:
        iid = merge_request.get("iid")
        approvals: dict[str, Any] = {}
        notes: list[dict[str, Any]] = []
        commits: list[dict[str, Any]] = []
        if isinstance(iid, int):
            base = f"{self._path(project)}/merge_requests/{iid}"
            approvals = self._get_object(f"{base}/approvals")
            notes = self._all(f"{base}/notes", {"sort": "asc", "order_by": "created_at"})
            commits = self._all(f"{base}/commits")
        return RawPayload(
            EntityKind.PULL_REQUEST,
            f"{path}!{iid if iid is not None else merge_request.get('id')}",
            {
                "project": path,
                "merge_request": merge_request,
                "approvals": approvals,
                "notes": notes,
                "commits": commits,
            },
        )

    def _merge_requests(self, cursors: ProjectCursors) -> Iterator[Page]:
        for project in self.projects:
            path = str(self._project(project)["path_with_namespace"])
            pages = self._updated_pages(project, "merge_requests", cursors, {"scope": "all"})
            for merge_requests, latest in pages:
                payloads = [self._merge_request(project, path, mr) for mr in merge_requests]
                cursors.set(project, latest)
                yield Page("merge_requests", payloads, cursors.dump())

    # -- commits on the default branch -------------------------------------------------------
    def _commits(self, cursors: ProjectCursors) -> Iterator[Page]:
        for project in self.projects:
            found = self._project(project)
            path = str(found["path_with_namespace"])
            branch = found.get("default_branch")
            if not isinstance(branch, str) or not branch:
                continue  # an empty repository has no default branch and no commits
            params: dict[str, Any] = {"ref_name": branch, "per_page": PAGE_SIZE}
            since = self._since(cursors, project)
            if since is not None:
                params["since"] = api_time(since)
            latest = cursors.moment(project)
            for commits in self._pages(f"{self._path(project)}/repository/commits", params):
                payloads = [
                    RawPayload(
                        EntityKind.COMMIT,
                        f"{path}@{commit.get('id')}",
                        {"project": path, "branch": branch, "commit": commit},
                    )
                    for commit in commits
                ]
                latest = latest_of(latest, *(api_moment(c.get("committed_date")) for c in commits))
                yield Page("commits", payloads, cursors.dump())
            cursors.set(project, latest)
            yield Page("commits", [], cursors.dump())

    # -- pipelines -----------------------------------------------------------------------------
    def _pipelines(self, cursors: ProjectCursors) -> Iterator[Page]:
        for project in self.projects:
            path = str(self._project(project)["path_with_namespace"])
            for pipelines, latest in self._updated_pages(project, "pipelines", cursors, {}):
                payloads = [
                    RawPayload(
                        EntityKind.PIPELINE_RUN,
                        f"{path}/pipelines/{pipeline.get('id')}",
                        {"project": path, "pipeline": pipeline},
                    )
                    for pipeline in pipelines
                ]
                cursors.set(project, latest)
                yield Page("pipelines", payloads, cursors.dump())

    # -- deployments, with what they shipped ---------------------------------------------------
    def _environment(self, project: str, name: str) -> Mapping[str, Any] | None:
        """The environment as the environments API lists it (the deployments list leaves out
        its tier), read once per project and sync."""
        if project not in self._environments:
            listed = self._all(f"{self._path(project)}/environments")
            self._environments[project] = {str(env.get("name")): env for env in listed}
        return self._environments[project].get(name)

    def _previous_success(
        self, project: str, environment: str, deployment_id: int
    ) -> tuple[int, str] | None:
        """The last successful deployment of ``environment`` before ``deployment_id``."""
        key = (project, environment)
        if key not in self._successes:
            params = {
                "environment": environment,
                "status": "success",
                "order_by": "id",
                "sort": "asc",
            }
            found = self._all(f"{self._path(project)}/deployments", params)
            self._successes[key] = sorted(
                (item["id"], item["sha"])
                for item in found
                if isinstance(item.get("id"), int) and isinstance(item.get("sha"), str)
            )
        earlier = [entry for entry in self._successes[key] if entry[0] < deployment_id]
        return earlier[-1] if earlier else None

    def _compare(self, project: str, deployment: Mapping[str, Any]) -> dict[str, Any] | None:
        """The commits GitLab's compare API lists from the previous successful deployment of
        the same environment to this one (diffs left out: they can be large)."""
        sha = deployment.get("sha")
        identifier = deployment.get("id")
        environment = (deployment.get("environment") or {}).get("name")
        if not (isinstance(sha, str) and isinstance(identifier, int)):
            return None
        if not isinstance(environment, str) or not environment:
            return None
        previous = self._previous_success(project, environment, identifier)
        if previous is None:
            return None
        previous_id, previous_sha = previous
        compared = self._get_object(
            f"{self._path(project)}/repository/compare", {"from": previous_sha, "to": sha}
        )
        commits = compared.get("commits")
        return {
            "from": previous_sha,
            "to": sha,
            "previous_deployment": previous_id,
            "commits": commits if isinstance(commits, list) else [],
            "compare_timeout": compared.get("compare_timeout") is True,
        }

    def _deployments(self, cursors: ProjectCursors) -> Iterator[Page]:
        for project in self.projects:
            path = str(self._project(project)["path_with_namespace"])
            for deployments, latest in self._updated_pages(project, "deployments", cursors, {}):
                payloads = []
                for deployment in deployments:
                    name = (deployment.get("environment") or {}).get("name")
                    environment = self._environment(project, name) if name else None
                    payloads.append(
                        RawPayload(
                            EntityKind.DEPLOYMENT,
                            f"{path}/deployments/{deployment.get('id')}",
                            {
                                "project": path,
                                "deployment": deployment,
                                "environment": environment,
                                "streamwise_compare": self._compare(project, deployment),
                                "streamwise_options": self.deployment_options,
                            },
                        )
                    )
                cursors.set(project, latest)
                yield Page("deployments", payloads, cursors.dump())

    # -- releases --------------------------------------------------------------------------
    def _releases(self, cursors: ProjectCursors) -> Iterator[Page]:
        for project in self.projects:
            path = str(self._project(project)["path_with_namespace"])
            params = {"per_page": PAGE_SIZE}
            for releases in self._pages(f"{self._path(project)}/releases", params):
                payloads = [
                    RawPayload(
                        EntityKind.RELEASE,
                        f"{path}/releases/{release.get('tag_name')}",
                        {"project": path, "release": release},
                    )
                    for release in releases
                ]
                yield Page("releases", payloads, None)
