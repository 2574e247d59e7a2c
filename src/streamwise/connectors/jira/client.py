"""Reading Jira: Cloud (``/rest/api/3/search/jql`` with ``nextPageToken``) and Data Center
(``/rest/api/2/search`` with ``startAt``/``maxResults``).

Issues come in order of their last update, so the cursor — the latest ``updated`` stored —
is also where an interrupted sync resumes. JQL reads times in the Jira user's own time zone,
so each sync asks again from a day before the cursor (``overlap_minutes``); what comes back
unchanged is not stored twice.
"""

import json
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlparse

import httpx

from streamwise.connectors.base import EntityKind, RawPayload
from streamwise.connectors.http import ToolClient
from streamwise.connectors.jira.records import parse_payload
from streamwise.connectors.sync_api import Page, SourceSettings
from streamwise.errors import SourceError

PAGE_SIZE = 100
DEFAULT_OVERLAP_MINUTES = 24 * 60


def is_cloud(settings: SourceSettings) -> bool:
    deployment = settings.options.get("deployment")
    if deployment in ("cloud", "datacenter"):
        return bool(deployment == "cloud")
    return (urlparse(settings.base_url).hostname or "").endswith(".atlassian.net")


class JiraConnector:
    kind = "jira"
    entities = ("statuses", "issues")
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

    def close(self) -> None:
        self.client.close()

    def fetch(self, entity: str, cursor: str | None) -> Iterator[Page]:
        if entity == "statuses":
            yield self._statuses()
        elif entity == "issues":
            yield from self._issues(cursor)
        else:
            raise ValueError(entity)

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

    def _issue_pages(self, jql: str) -> Iterator[list[dict[str, Any]]]:
        params: dict[str, Any] = {
            "jql": jql,
            "maxResults": PAGE_SIZE,
            "expand": "changelog",
            "fields": "*all",
        }
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
