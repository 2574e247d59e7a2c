"""Reading Jira: Cloud (``/rest/api/3/search/jql`` with ``nextPageToken``) and Data Center
(``/rest/api/2/search`` with ``startAt``/``maxResults``).

Issues come in order of their last update, so the cursor — the latest ``updated`` stored —
is also where an interrupted sync resumes. JQL reads times in the Jira user's own time zone,
so each sync asks again from a day before the cursor (``overlap_minutes``); what comes back
unchanged is not stored twice.

Projects, fix versions and sprints are few, so they are listed whole on every sync; only the
issues of closed sprints — which no longer change — are not asked for again (the sprint
cursor remembers them). Membership (the issue keys of a fix version or a sprint) is read at
sync time and stored inside the version's or sprint's payload, so parsing needs no network.
"""

import hashlib
import json
import logging
import re
from collections.abc import Iterable, Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import httpx

from streamwise.connectors.base import EntityKind, RawPayload
from streamwise.connectors.http import ToolClient
from streamwise.connectors.jira.records import (
    BOARD_KEY,
    ISSUE_KEYS_KEY,
    PROJECT_KEY_KEY,
    parse_payload,
)
from streamwise.connectors.sync_api import Page, SourceSettings
from streamwise.errors import SourceError

PAGE_SIZE = 100
DEFAULT_OVERLAP_MINUTES = 24 * 60
AGILE = "rest/agile/1.0"
"""Jira Software's REST API: the same on Cloud and Data Center, absent without Jira Software."""

log = logging.getLogger(__name__)


def is_cloud(settings: SourceSettings) -> bool:
    deployment = settings.options.get("deployment")
    if deployment in ("cloud", "datacenter"):
        return bool(deployment == "cloud")
    return (urlparse(settings.base_url).hostname or "").endswith(".atlassian.net")


class JiraConnector:
    kind = "jira"
    entities = ("statuses", "projects", "issues", "versions", "sprints")
    parser = staticmethod(parse_payload)

    def __init__(self, settings: SourceSettings, client: ToolClient | None = None) -> None:
        self.settings = settings
        self.cloud = is_cloud(settings)
        self.api = "rest/api/3" if self.cloud else "rest/api/2"
        self.client = client or ToolClient(
            settings.name,
            settings.base_url,
            **_authentication(settings),
            credential_hint=_credential_hint(settings),
        )
        self.notes: list[str] = []
        """What a sync skipped and why (e.g. no Jira Software), also logged as warnings."""
        self._projects: list[dict[str, Any]] | None = None

    def close(self) -> None:
        self.client.close()

    def fetch(self, entity: str, cursor: str | None) -> Iterator[Page]:
        if entity == "statuses":
            yield self._statuses()
        elif entity == "projects":
            yield from self._project_pages()
        elif entity == "issues":
            yield from self._issues(cursor)
        elif entity == "versions":
            yield from self._versions()
        elif entity == "sprints":
            yield from self._sprints(cursor)
        else:
            raise ValueError(entity)

    def _note(self, message: str) -> None:
        self.notes.append(message)
        log.warning("source %r: %s", self.settings.name, message)

    def _json_unless_missing(
        self, path: str, params: Mapping[str, Any], missing: tuple[int, ...]
    ) -> Any | None:
        """One GET whose ``missing`` statuses mean "this Jira has no such thing" (None).

        Anything but success or those statuses is asked again through the retrying client,
        so rate limits, outages and refused credentials are handled as everywhere else.
        """
        try:
            response: httpx.Response | None = self.client.http.get(path, params=params)
        except httpx.TransportError:
            response = None
        if response is not None:
            if response.status_code in missing:
                return None
            if response.status_code == 200:
                try:
                    return response.json()
                except ValueError:
                    pass  # the retrying client names the URL in its error
        return self.client.get_json(path, params)

    # -- statuses: reference data for proposing status mappings ---------------------------
    def _statuses(self) -> Page:
        statuses = self.client.get_json(f"{self.api}/status")
        if not isinstance(statuses, list):
            raise SourceError(f"source {self.settings.name!r}: /status did not return a list")
        payloads = [
            RawPayload("status", str(status.get("id") or status.get("name")), status)
            for status in statuses
            if isinstance(status, dict)
        ]
        return Page("statuses", payloads, None)

    # -- projects: reference data, and whose fix versions and boards are read ---------------
    def _chosen_projects(self) -> set[str]:
        """Project keys of the ``projects`` option (a list, or keys separated by commas)."""
        chosen = self.settings.options.get("projects") or []
        if isinstance(chosen, str):
            chosen = chosen.split(",")
        return {str(key).strip() for key in chosen if str(key).strip()}

    def _project_lists(self) -> Iterator[list[dict[str, Any]]]:
        """Projects as Jira lists them: Cloud pages them, Data Center sends all at once."""
        if not self.cloud:
            projects = self.client.get_json(f"{self.api}/project")
            if not isinstance(projects, list):
                raise SourceError(f"source {self.settings.name!r}: /project did not return a list")
            yield [project for project in projects if isinstance(project, dict)]
            return
        start = 0
        while True:
            body = self.client.get_json(
                f"{self.api}/project/search", {"startAt": start, "maxResults": PAGE_SIZE}
            )
            values = _values_of(body, self.settings.name, "project/search")
            yield values
            start += len(values)
            if not values or body.get("isLast", start >= int(body.get("total") or 0)):
                return

    def _project_pages(self) -> Iterator[Page]:
        chosen = self._chosen_projects()
        self._projects = []
        for projects in self._project_lists():
            kept = [p for p in projects if not chosen or str(p.get("key")) in chosen]
            self._projects.extend(kept)
            payloads = [RawPayload("project", str(p.get("id") or p.get("key")), p) for p in kept]
            yield Page("projects", payloads, None)
        unseen = chosen - {str(p.get("key")) for p in self._projects}
        if unseen:
            self._note(
                f"the projects option names {', '.join(sorted(unseen))}, which Jira does not "
                "list for this account; check the keys"
            )

    def _project_keys(self) -> list[str]:
        if self._projects is None:  # fetched alone, without the projects entity first
            for _ in self._project_pages():
                pass
        assert self._projects is not None
        return [str(p["key"]) for p in self._projects if p.get("key")]

    # -- fix versions: releases, with the keys of the issues they fix ----------------------
    def _versions(self) -> Iterator[Page]:
        for project in self._project_keys():
            versions = self.client.get_json(f"{self.api}/project/{project}/versions")
            if not isinstance(versions, list):
                raise SourceError(
                    f"source {self.settings.name!r}: /project/{project}/versions did not "
                    "return a list"
                )
            payloads = []
            for version in versions:
                if not isinstance(version, dict):
                    continue
                version_id = version.get("id")
                keys = (  # Jira's version ids are numbers; anything else is kept, unsearched
                    self._keys_of_search(f"fixVersion = {version_id}")
                    if str(version_id).isdigit()
                    else []
                )
                payload = {**version, PROJECT_KEY_KEY: project, ISSUE_KEYS_KEY: keys}
                payloads.append(
                    RawPayload(EntityKind.RELEASE, _identity(version_id, payload), payload)
                )
            yield Page("versions", payloads, None)

    def _keys_of_search(self, jql: str) -> list[str]:
        keys: list[str] = []
        for issues in self._issue_pages(f"{jql} ORDER BY key ASC", fields="key", expand=None):
            keys.extend(str(issue["key"]) for issue in issues if issue.get("key"))
        return _in_key_order(keys)

    # -- sprints: boards of Jira Software, their sprints and the issues in each -------------
    def _boards(self) -> list[dict[str, Any]] | None:
        """Every board (of the chosen projects), or None when Jira has no Jira Software."""
        # Only projects Jira listed: an unknown key would be refused like a missing API.
        chosen: list[str | None] = [*self._project_keys()] if self._chosen_projects() else [None]
        boards: dict[str, dict[str, Any]] = {}
        for project in chosen:
            params: dict[str, Any] = {"maxResults": PAGE_SIZE}
            if project:
                params["projectKeyOrId"] = project
            start = 0
            while True:
                params["startAt"] = start
                if start == 0:
                    body = self._json_unless_missing(f"{AGILE}/board", params, missing=(404,))
                    if body is None:
                        return None
                else:
                    body = self.client.get_json(f"{AGILE}/board", params)
                values = _values_of(body, self.settings.name, "agile board list")
                for board in values:
                    boards.setdefault(str(board.get("id")), board)
                start += len(values)
                if not values or body.get("isLast", start >= int(body.get("total") or 0)):
                    break
        return list(boards.values())

    def _board_sprints(self, board: Mapping[str, Any]) -> Iterator[list[dict[str, Any]]]:
        path = f"{AGILE}/board/{board.get('id')}/sprint"
        start = 0
        while True:
            params = {"startAt": start, "maxResults": PAGE_SIZE}
            if start == 0:
                body = self._json_unless_missing(path, params, missing=(400, 404))
                if body is None:
                    self._note(
                        f"board {board.get('id')} ({board.get('name')!r}) has no sprints to "
                        "read (Jira refused the sprint list); its sprints are skipped"
                    )
                    return
            else:
                body = self.client.get_json(path, params)
            values = _values_of(body, self.settings.name, f"sprints of board {board.get('id')}")
            yield values
            start += len(values)
            if not values or body.get("isLast", start >= int(body.get("total") or 0)):
                return

    def _sprint_issue_keys(self, sprint_id: str) -> list[str]:
        keys: list[str] = []
        start = 0
        while True:
            body = self.client.get_json(
                f"{AGILE}/sprint/{sprint_id}/issue",
                {"fields": "key", "startAt": start, "maxResults": PAGE_SIZE},
            )
            issues = _issues_of(body, self.settings.name)
            keys.extend(str(issue["key"]) for issue in issues if issue.get("key"))
            start += len(issues)
            if not issues or start >= int(body.get("total") or 0):
                return _in_key_order(keys)

    def _sprints(self, cursor: str | None) -> Iterator[Page]:
        """Sprints page by page of each board's list. The cursor maps each sprint stored
        closed to a fingerprint of how it was listed: while it is listed the same, its
        issues are not read again."""
        closed: dict[str, str] = dict(json.loads(cursor).get("closed", {})) if cursor else {}
        boards = self._boards()
        if boards is None:
            self._note(
                "Jira Software's API (/rest/agile/1.0) is not available (404): no boards, so "
                "sprints are skipped; issues, projects and versions are synced"
            )
            return
        by_id = {str(board.get("id")): board for board in boards}
        seen: set[str] = set()
        for board in boards:
            if board.get("type") == "kanban":
                continue  # kanban boards have no sprints
            for listed in self._board_sprints(board):
                payloads = []
                for sprint in listed:
                    if sprint.get("id") in (None, ""):
                        payload = {**sprint, BOARD_KEY: board}
                        payloads.append(
                            RawPayload(EntityKind.SPRINT, _identity(None, payload), payload)
                        )
                        continue
                    sprint_id = str(sprint["id"])
                    if sprint_id in seen:
                        continue  # listed by another board too
                    seen.add(sprint_id)
                    fingerprint = _fingerprint(sprint)
                    if closed.get(sprint_id) == fingerprint:
                        continue
                    home = by_id.get(str(sprint.get("originBoardId")), board)
                    payload = {
                        **sprint,
                        BOARD_KEY: home,
                        ISSUE_KEYS_KEY: self._sprint_issue_keys(sprint_id),
                    }
                    payloads.append(RawPayload(EntityKind.SPRINT, sprint_id, payload))
                    if sprint.get("state") == "closed":
                        closed[sprint_id] = fingerprint
                    else:
                        closed.pop(sprint_id, None)
                yield Page("sprints", payloads, json.dumps({"closed": closed}, sort_keys=True))

    # -- issues ----------------------------------------------------------------------------
    def _jql(self, cursor: str | None) -> str:
        base = str(self.settings.options.get("jql") or "").strip()
        conditions = [f"({base})"] if base else []
        if cursor:
            since = datetime.fromisoformat(json.loads(cursor)["updated"])
            overlap = int(self.settings.options.get("overlap_minutes", DEFAULT_OVERLAP_MINUTES))
            since = since.astimezone(UTC) - timedelta(minutes=overlap)
            conditions.append(f"updated >= '{since:%Y/%m/%d %H:%M}'")
        where = " AND ".join(conditions)
        return f"{where} ORDER BY updated ASC" if where else "ORDER BY updated ASC"

    def _issue_pages(
        self, jql: str, fields: str = "*all", expand: str | None = "changelog"
    ) -> Iterator[list[dict[str, Any]]]:
        params: dict[str, Any] = {"jql": jql, "maxResults": PAGE_SIZE, "fields": fields}
        if expand:
            params["expand"] = expand
        if self.cloud:
            token: str | None = None
            while True:
                body = self.client.get_json(
                    f"{self.api}/search/jql",
                    {**params, "nextPageToken": token} if token else params,
                )
                yield _issues_of(body, self.settings.name)
                token = body.get("nextPageToken")
                if body.get("isLast", token is None) or not token:
                    return
        else:
            start = 0
            while True:
                body = self.client.get_json(f"{self.api}/search", {**params, "startAt": start})
                issues = _issues_of(body, self.settings.name)
                yield issues
                start += len(issues)
                if not issues or start >= int(body.get("total", 0)):
                    return

    def _complete_changelog(self, issue: dict[str, Any]) -> dict[str, Any]:
        """Cloud returns at most 100 histories with the issue; fetch the rest."""
        changelog = issue.get("changelog")
        if not self.cloud or not isinstance(changelog, dict):
            return issue
        histories = list(changelog.get("histories") or [])
        total = int(changelog.get("total") or len(histories))
        if len(histories) >= total:
            return issue
        seen = {history.get("id") for history in histories}
        start = 0
        while True:
            body = self.client.get_json(
                f"{self.api}/issue/{issue.get('id') or issue.get('key')}/changelog",
                {"startAt": start, "maxResults": PAGE_SIZE},
            )
            values = body.get("values") or []
            histories.extend(v for v in values if v.get("id") not in seen)
            start += len(values)
            if not values or body.get("isLast", start >= int(body.get("total") or 0)):
                break
        histories.sort(key=lambda history: str(history.get("created") or ""))
        return {**issue, "changelog": {**changelog, "histories": histories, "maxResults": total}}

    def _issues(self, cursor: str | None) -> Iterator[Page]:
        latest = _moment(json.loads(cursor)["updated"]) if cursor else None
        for issues in self._issue_pages(self._jql(cursor)):
            payloads = []
            for issue in issues:
                issue = self._complete_changelog(issue)
                key = issue.get("key") or issue.get("id")
                payloads.append(RawPayload(EntityKind.WORK_ITEM, str(key), issue))
                updated = (issue.get("fields") or {}).get("updated")
                moment = _moment(updated) if isinstance(updated, str) else None
                if moment is not None and (latest is None or moment > latest):
                    latest = moment
            cursor = json.dumps({"updated": latest.isoformat()}) if latest else None
            yield Page("issues", payloads, cursor)


def _moment(text: str) -> datetime | None:
    try:
        return datetime.fromisoformat(text)
    except ValueError:
        return None


def _values_of(body: Any, source: str, what: str) -> list[dict[str, Any]]:
    """The ``values`` of one page of a list Jira pages with ``startAt``/``isLast``."""
    values = body.get("values") if isinstance(body, Mapping) else None
    if not isinstance(values, list):
        raise SourceError(f"source {source!r}: a page of the {what} had no list of values")
    return [value for value in values if isinstance(value, dict)]


def _fingerprint(listed: Mapping[str, Any]) -> str:
    """A short hash of an object as listed, to notice a change without storing it."""
    text = json.dumps(listed, sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def _identity(found: Any, payload: Mapping[str, Any]) -> str:
    """The external id of a payload: its id, or — when Jira sent none — a stable name made
    from its content, so the payload is still stored (with its error) and not lost."""
    if found not in (None, ""):
        return str(found)
    return f"no-id-{_fingerprint(payload)}"


def _in_key_order(keys: Iterable[str]) -> list[str]:
    """Issue keys without repeats, by project and then number (EE-2 before EE-10), so the
    stored payload does not change when Jira lists the same keys in another order."""

    def order(key: str) -> tuple[str, int, str]:
        match = re.fullmatch(r"(.+)-(\d+)", key)
        return (match.group(1), int(match.group(2)), key) if match else (key, -1, key)

    return sorted(set(keys), key=order)


def _issues_of(body: Any, source: str) -> list[dict[str, Any]]:
    issues = body.get("issues") if isinstance(body, Mapping) else None
    if not isinstance(issues, list):
        raise SourceError(f"source {source!r}: a search answer had no list of issues")
    return [issue for issue in issues if isinstance(issue, dict)]


def _authentication(settings: SourceSettings) -> dict[str, Any]:
    """Cloud: e-mail + API token (basic); Data Center: personal access token (bearer)."""
    if not settings.token:
        return {}
    email = settings.options.get("email")
    if email:
        return {"auth": httpx.BasicAuth(str(email), settings.token)}
    return {"headers": {"Authorization": f"Bearer {settings.token}"}}


def _credential_hint(settings: SourceSettings) -> str:
    variable = settings.token_env or "the token variable"
    if settings.options.get("email"):
        return f"the API token in ${variable} and the e-mail {settings.options['email']!r}"
    return f"the personal access token in ${variable}"
