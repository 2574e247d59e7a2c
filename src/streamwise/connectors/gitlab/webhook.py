"""GitLab webhook deliveries → raw payloads in the shapes the GitLab sync stores.

A delivery carries an object as it is now and the change that triggered it, never its history.
Each delivery is therefore merged into what the source already holds for that object (by a
sync or earlier deliveries): an issue keeps its state and label events and gains the ones this
delivery shows; a merge request keeps its notes and commits and gains an approval; a
deployment keeps the commits a sync found for it. One parser (``records.py``) reads both.

Events made up from a delivery are named by their content (action and second), so a
redelivered event changes nothing, and the transitions they give carry the same ids as the
ones a later sync reads from GitLab's events.
"""

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import Any

from streamwise.connectors.base import EntityKind, RawPayload
from streamwise.connectors.gitlab.client import deployment_options, issue_options
from streamwise.connectors.gitlab.records import gitlab_time_text, label_names

StoredPayload = Callable[[str, str], dict[str, Any] | None]
"""(entity kind, external id) → the payload the source holds for it now, or None."""
COMMIT_IN_URL = re.compile(r"/commit/(?P<sha>[0-9a-f]{40})/?$")
FINISHED = frozenset({"success", "failed", "canceled", "skipped"})
ISSUE_EVENTS = ("Issue Hook", "Confidential Issue Hook")
READ_EVENTS = (
    *ISSUE_EVENTS,
    "Merge Request Hook",
    "Pipeline Hook",
    "Deployment Hook",
    "Release Hook",
)

ISSUE_FIELDS = (
    "id",
    "iid",
    "title",
    "description",
    "state",
    "created_at",
    "updated_at",
    "closed_at",
    "confidential",
    "type",
)
MERGE_REQUEST_FIELDS = (
    "id",
    "iid",
    "title",
    "description",
    "state",
    "created_at",
    "updated_at",
    "merged_at",
    "closed_at",
    "source_branch",
    "target_branch",
    "merge_commit_sha",
    "draft",
)
PIPELINE_FIELDS = (
    "id",
    "iid",
    "name",
    "ref",
    "sha",
    "status",
    "source",
    "created_at",
    "finished_at",
)
"""Fields of a delivery's ``object_attributes`` that have the same name and meaning in the API."""


class HookError(ValueError):
    """A delivery that cannot be read; the message names what is missing."""


def _iso(value: Any) -> Any:
    return gitlab_time_text(value)


def _second(value: Any) -> str | None:
    """A timestamp to the second in UTC, to compare events read in different precisions."""
    try:
        moment = datetime.fromisoformat(str(_iso(value)))
    except ValueError:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _optional(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _user(value: Any) -> dict[str, Any] | None:
    """The user as the API names users (no e-mail address, which a webhook may carry)."""
    if not isinstance(value, Mapping):
        return None
    return {key: value[key] for key in ("id", "username", "name") if key in value}


def _attributes(event: str, delivery: Mapping[str, Any], key: str) -> Mapping[str, Any]:
    attributes = delivery.get("object_attributes")
    if not isinstance(attributes, Mapping):
        raise HookError(f"the {event} delivery has no object_attributes")
    value = attributes.get(key)
    if isinstance(value, bool) or not isinstance(value, int):
        raise HookError(f"the {event} delivery has no object_attributes.{key}")
    return attributes


def _copy(target: dict[str, Any], source: Mapping[str, Any], names: tuple[str, ...]) -> None:
    for name in names:
        if name in source:
            value = source[name]
            target[name] = _iso(value) if name.endswith("_at") else value


def _issue(
    path: str, delivery: Mapping[str, Any], stored: StoredPayload, options: Mapping[str, Any]
) -> RawPayload:
    event = "Issue Hook"
    attributes = _attributes(event, delivery, "iid")
    key = f"{path}#{attributes['iid']}"
    payload: dict[str, Any] = {"project": path, "state_events": [], "label_events": []}
    payload.update(stored(EntityKind.WORK_ITEM, key) or {})
    issue = dict(payload.get("issue") or {})
    _copy(issue, attributes, ISSUE_FIELDS)
    labels = label_names(delivery.get("labels", attributes.get("labels")))
    issue["labels"] = labels
    if isinstance(delivery.get("assignees"), list):
        issue["assignees"] = [_user(user) for user in delivery["assignees"]]
    issue["web_url"] = attributes.get("url") or issue.get("web_url")
    payload["issue"] = issue
    payload["streamwise_options"] = issue_options(options)

    user = _user(delivery.get("user"))
    action = attributes.get("action")
    at = _iso(attributes.get("updated_at"))
    state_events = list(payload.get("state_events") or [])
    label_events = list(payload.get("label_events") or [])

    def add_state(state: str, moment: Any) -> None:
        second = _second(moment)
        if second is None or any(
            e.get("state") == state and _second(e.get("created_at")) == second for e in state_events
        ):
            return
        state_events.append(
            {
                "id": f"hook:{state}@{second}",
                "user": user,
                "created_at": _iso(moment),
                "state": state,
            }
        )

    def add_label(name: str, label_action: str, moment: Any) -> None:
        second = _second(moment)
        if second is None or any(
            (e.get("label") or {}).get("name") == name
            and e.get("action") == label_action
            and _second(e.get("created_at")) == second
            for e in label_events
        ):
            return
        label_events.append(
            {
                "id": f"hook:{label_action}:{name}@{second}",
                "user": user,
                "created_at": _iso(moment),
                "label": {"name": name},
                "action": label_action,
            }
        )

    if action == "close":
        add_state("closed", attributes.get("closed_at") or at)
    elif action == "reopen":
        add_state("reopened", at)
    elif action == "open":
        for name in labels:  # GitLab records the labels an issue is created with as added
            add_label(name, "add", attributes.get("created_at") or at)
    changes = _optional(delivery.get("changes"))
    changed = changes.get("labels")
    if isinstance(changed, Mapping):
        when = _optional(changes.get("updated_at")).get("current")
        before = label_names(changed.get("previous"))
        after = label_names(changed.get("current"))
        for name in before:
            if name not in after:
                add_label(name, "remove", when or at)
        for name in after:
            if name not in before:
                add_label(name, "add", when or at)
    payload["state_events"], payload["label_events"] = state_events, label_events
    return RawPayload(EntityKind.WORK_ITEM, key, payload)


def _merge_request(
    path: str, delivery: Mapping[str, Any], stored: StoredPayload, received_at: datetime
) -> RawPayload:
    attributes = _attributes("Merge Request Hook", delivery, "iid")
    key = f"{path}!{attributes['iid']}"
    payload: dict[str, Any] = {
        "project": path,
        "approvals": {"approved_by": []},
        "notes": [],
        "commits": [],
    }
    payload.update(stored(EntityKind.PULL_REQUEST, key) or {})
    merge_request = dict(payload.get("merge_request") or {})
    _copy(merge_request, attributes, MERGE_REQUEST_FIELDS)
    merge_request["web_url"] = attributes.get("url") or merge_request.get("web_url")
    action = attributes.get("action")
    at = _iso(attributes.get("updated_at"))
    if action == "merge" and not merge_request.get("merged_at"):
        merge_request["merged_at"] = at
    if action == "close" and not merge_request.get("closed_at"):
        merge_request["closed_at"] = at
    user = _optional(delivery.get("user"))
    opened_by_user = user.get("id") is not None and user.get("id") == attributes.get("author_id")
    if not merge_request.get("author") and opened_by_user:
        merge_request["author"] = _user(user)
    last = attributes.get("last_commit")
    commits = list(payload.get("commits") or [])
    if isinstance(last, Mapping) and isinstance(last.get("id"), str):
        merge_request["sha"] = last["id"]
        if all(commit.get("id") != last["id"] for commit in commits):
            author = _optional(last.get("author"))
            commits.insert(
                0,
                {
                    "id": last["id"],
                    "title": last.get("title"),
                    "message": last.get("message"),
                    "authored_date": _iso(last.get("timestamp")),
                    "committed_date": _iso(last.get("timestamp")),
                    "author_name": author.get("name"),
                },
            )
    payload["merge_request"], payload["commits"] = merge_request, commits

    approvals = dict(payload.get("approvals") or {})
    approved_by = [a for a in approvals.get("approved_by") or [] if isinstance(a, Mapping)]
    username = user.get("username")
    mine = [a for a in approved_by if (a.get("user") or {}).get("username") == username]
    if action in ("approved", "approval") and username and not mine:
        # A delivery does not say when the approval was given; it is sent as it happens.
        approved_by.append({"user": _user(user), "approved_at": received_at.isoformat()})
    elif action in ("unapproved", "unapproval") and username:
        approved_by = [a for a in approved_by if a not in mine]
    approvals["approved_by"] = approved_by
    payload["approvals"] = approvals
    return RawPayload(EntityKind.PULL_REQUEST, key, payload)


def _pipeline(path: str, delivery: Mapping[str, Any], stored: StoredPayload) -> RawPayload:
    attributes = _attributes("Pipeline Hook", delivery, "id")
    key = f"{path}/pipelines/{attributes['id']}"
    payload: dict[str, Any] = {"project": path}
    payload.update(stored(EntityKind.PIPELINE_RUN, key) or {})
    pipeline = dict(payload.get("pipeline") or {})
    _copy(pipeline, attributes, PIPELINE_FIELDS)
    pipeline["web_url"] = attributes.get("url") or pipeline.get("web_url")
    payload["pipeline"] = pipeline
    return RawPayload(EntityKind.PIPELINE_RUN, key, payload)


def _deployment(
    path: str, delivery: Mapping[str, Any], stored: StoredPayload, options: Mapping[str, Any]
) -> RawPayload:
    identifier = delivery.get("deployment_id")
    if isinstance(identifier, bool) or not isinstance(identifier, int):
        raise HookError("the Deployment Hook delivery has no deployment_id")
    environment = delivery.get("environment")
    if not isinstance(environment, str) or not environment:
        raise HookError("the Deployment Hook delivery has no environment")
    key = f"{path}/deployments/{identifier}"
    payload: dict[str, Any] = {"project": path}
    payload.update(stored(EntityKind.DEPLOYMENT, key) or {})
    deployment = dict(payload.get("deployment") or {})
    at = _iso(delivery.get("status_changed_at"))
    status = str(delivery.get("status") or "")
    deployment.update(id=identifier, status=status, updated_at=at)
    deployment.setdefault("created_at", at)
    if status in FINISHED:
        deployment["finished_at"] = at
    found = COMMIT_IN_URL.search(str(delivery.get("commit_url") or ""))
    if found:
        deployment["sha"] = found.group("sha")
    if isinstance(delivery.get("ref"), str):
        deployment["ref"] = delivery["ref"]
    deployment["environment"] = {
        **(deployment.get("environment") or {}),
        "name": environment,
        "external_url": delivery.get("environment_external_url"),
    }
    if delivery.get("deployable_url"):
        job = dict(deployment.get("deployable") or {})
        job.update(id=delivery.get("deployable_id"), web_url=delivery["deployable_url"])
        deployment["deployable"] = job
    payload["deployment"] = deployment
    listed = dict(payload.get("environment") or {})
    listed.update(name=environment, tier=delivery.get("environment_tier") or listed.get("tier"))
    payload["environment"] = listed
    compare = payload.get("streamwise_compare")
    if not (isinstance(compare, Mapping) and compare.get("to") == deployment.get("sha")):
        payload["streamwise_compare"] = None  # a sync reads the compare for the new sha
    payload["streamwise_options"] = deployment_options(options)
    return RawPayload(EntityKind.DEPLOYMENT, key, payload)


def _release(
    path: str, delivery: Mapping[str, Any], stored: StoredPayload, received_at: datetime
) -> list[RawPayload]:
    tag = delivery.get("tag")
    if not isinstance(tag, str) or not tag:
        raise HookError("the Release Hook delivery has no tag")
    if delivery.get("action") == "delete":
        return []
    key = f"{path}/releases/{tag}"
    payload: dict[str, Any] = {"project": path}
    payload.update(stored(EntityKind.RELEASE, key) or {})
    release = dict(payload.get("release") or {})
    release["tag_name"] = tag
    _copy(release, delivery, ("name", "description", "created_at", "released_at"))
    released, now = _second(release.get("released_at")), _second(received_at.isoformat())
    release["upcoming_release"] = released is not None and now is not None and released > now
    if isinstance(delivery.get("url"), str):
        release["_links"] = {**(release.get("_links") or {}), "self": delivery["url"]}
    payload["release"] = release
    return [RawPayload(EntityKind.RELEASE, key, payload)]


def hook_payloads(
    event: str,
    delivery: Mapping[str, Any],
    stored: StoredPayload,
    options: Mapping[str, Any],
    received_at: datetime,
) -> list[RawPayload]:
    """The raw payloads one delivery gives (none for events Streamwise does not read)."""
    if event not in READ_EVENTS:
        return []
    project = delivery.get("project")
    path = project.get("path_with_namespace") if isinstance(project, Mapping) else None
    if not isinstance(path, str) or not path:
        raise HookError(f"the {event} delivery has no project.path_with_namespace")
    if event in ISSUE_EVENTS:
        return [_issue(path, delivery, stored, options)]
    if event == "Merge Request Hook":
        return [_merge_request(path, delivery, stored, received_at)]
    if event == "Pipeline Hook":
        return [_pipeline(path, delivery, stored)]
    if event == "Deployment Hook":
        return [_deployment(path, delivery, stored, options)]
    return _release(path, delivery, stored, received_at)
