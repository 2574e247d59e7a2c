"""GitHub payloads → neutral records.

The connector stores each object as GitHub returned it inside a small envelope naming the
repository it was read from (``options.repositories``, so a value stream's ``select`` matches
what the user wrote) and the sub-resources read with it:

- ``pull_request``: ``{"repository", "pull_request", "reviews", "commits"}`` → the pull request
  (its commits as SHAs, the issues its body closes as work items), its reviews, its commits;
- ``commit``: ``{"repository", "branch", "commit"}`` (a commit of the default branch);
- ``work_item``: ``{"repository", "issue", "events"}`` → the issue and one status transition
  per ``closed`` / ``reopened`` event;
- ``pipeline_run``: ``{"repository", "workflow_run"}``;
- ``deployment``: ``{"repository", "deployment", "statuses", "streamwise_compare"}``; the
  last is what GitHub's compare API listed between the previous successful deployment of the
  environment and this one (``COMPARE_KEY``), present on successful deployments only;
- ``release``: ``{"repository", "release"}``.

GitHub has no workflow statuses: an issue is ``open``, ``closed`` (completed) or
``not_planned`` (closed as not planned or as a duplicate). Its labels come along for type
mappings and value stream selection. Keys are ``owner/name#number`` for issues and pull
requests, ``owner/name@sha`` for commits.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from streamwise.connectors.base import (
    CommitRecord,
    DeploymentRecord,
    EntityKind,
    FieldError,
    ParseContext,
    PipelineRunRecord,
    PullRequestRecord,
    Record,
    ReleaseRecord,
    ReviewRecord,
    TransitionRecord,
    WorkItemRecord,
    parse_timestamp,
)
from streamwise.connectors.values import text_or_none

CLOSING_REFERENCE = re.compile(
    r"\b(?:close[sd]?|fix(?:e[sd])?|resolve[sd]?)\s*:?\s+"
    r"(?:(?P<repository>[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+))?#(?P<number>\d+)\b",
    re.IGNORECASE,
)
"""GitHub's closing keywords (``Fixes #12``, ``closes acme/api#7``) in a pull request body."""
NOT_PLANNED_REASONS = frozenset({"not_planned", "duplicate"})
RUNNING_RUN_STATES = frozenset({"queued", "in_progress", "waiting", "pending", "requested"})
RUN_CONCLUSIONS = {
    "success": "success",
    "neutral": "success",
    "failure": "failed",
    "timed_out": "failed",
    "startup_failure": "failed",
    "cancelled": "canceled",
    "skipped": "canceled",
    "stale": "canceled",
    "action_required": "canceled",  # waited for an approval that never came; nothing ran
}
DEPLOYMENT_STATES = {
    "success": "success",
    "failure": "failed",
    "error": "failed",
    "pending": "running",
    "queued": "running",
    "in_progress": "running",
}
FINISHED_DEPLOYMENT_STATES = frozenset({"success", "failed"})
COMPARE_KEY = "streamwise_compare"
"""Where the connector puts the compare between the previous successful deployment of the
environment and this one: ``{"base", "head", "base_deployment", "status", "ahead_by",
"behind_by", "total_commits", "commits": [sha, …]}``; ``{"base": null, "head", "reason"}``
when there is nothing to compare with, and ``"error"`` instead of the result when GitHub
could not answer. Kept in the payload so that parsing it again needs no network."""
REVIEW_STATES = {
    "APPROVED": "approved",
    "CHANGES_REQUESTED": "changes_requested",
    "COMMENTED": "commented",
    "DISMISSED": "dismissed",
}


# -- small readers: GitHub sends null for anything that is not there -----------------------------
def _object(container: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    value = container.get(key)
    if not isinstance(value, Mapping):
        raise FieldError(f"{where}{key}", f"{where}{key} is missing or not an object")
    return value


def _objects(container: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(key, f"{key} is not a list")
    return [item for item in value if isinstance(item, Mapping)]


def _optional_object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _login(user: Any) -> str | None:
    """A user's login; None for a deleted account (GitHub sends ``null``)."""
    return text_or_none(user.get("login")) if isinstance(user, Mapping) else None


def _number(value: Any, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field_name, f"{field_name} is {value!r}, not a number")
    return value


def _identifier(value: Any, field_name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise FieldError(field_name, f"{field_name} is {value!r}, not an id")
    return str(value)


def _required_time(value: Any, field_name: str, context: ParseContext) -> datetime:
    if value in (None, ""):
        raise FieldError(field_name, f"{field_name} is missing")
    return parse_timestamp(value, field_name, context)


def _time(value: Any, field_name: str, context: ParseContext) -> datetime | None:
    return None if value in (None, "") else parse_timestamp(value, field_name, context)


def _repository(payload: Mapping[str, Any]) -> str:
    repository = payload.get("repository")
    if not isinstance(repository, str) or "/" not in repository:
        raise FieldError("repository", "the payload names no repository (owner/name)")
    return repository


def _branch(ref: Any) -> str | None:
    return text_or_none(ref.get("ref")) if isinstance(ref, Mapping) else None


# -- pull requests ---------------------------------------------------------------------------------
def closing_references(repository: str, body: str | None) -> list[str]:
    """Issues a pull request body closes, as work item keys (``owner/name#12``)."""
    if not body:
        return []
    found = [
        f"{match.group('repository') or repository}#{match.group('number')}"
        for match in CLOSING_REFERENCE.finditer(body)
    ]
    return list(dict.fromkeys(found))


def parse_commit(
    repository: str, commit: Mapping[str, Any], context: ParseContext, where: str = "commit."
) -> CommitRecord:
    """A commit as the commits endpoints list it (``sha``, ``commit.author``, ``author``)."""
    sha = text_or_none(commit.get("sha"))
    if sha is None:
        raise FieldError(f"{where}sha", "a commit has no sha")
    detail = _object(commit, "commit", where)
    author = _optional_object(detail.get("author"))
    committer = _optional_object(detail.get("committer"))
    authored = author.get("date") or committer.get("date")
    committed = committer.get("date") or authored
    field_name = f"{where}commit.author.date"
    return CommitRecord(
        repository=repository,
        sha=sha,
        authored_at=_required_time(authored, field_name, context),
        committed_at=_required_time(committed, f"{where}commit.committer.date", context),
        author=_login(commit.get("author")) or text_or_none(author.get("name")),
        message=str(detail.get("message") or ""),
    )


def _review(
    repository: str, number: int, review: Mapping[str, Any], context: ParseContext
) -> ReviewRecord | None:
    state = str(review.get("state") or "").upper()
    if state == "PENDING" or not review.get("submitted_at"):
        return None  # a draft review only its author sees
    identifier = _identifier(review.get("id"), "reviews.id")
    return ReviewRecord(
        repository=repository,
        pull_request=number,
        state=REVIEW_STATES.get(state, state.lower()),
        submitted_at=parse_timestamp(review["submitted_at"], "reviews.submitted_at", context),
        reviewer=_login(review.get("user")),
        id=f"{repository}#{number}/reviews/{identifier}",
    )


def parse_pull_request(payload: Mapping[str, Any], context: ParseContext) -> list[Record]:
    repository = _repository(payload)
    pull = _object(payload, "pull_request")
    number = _number(pull.get("number"), "pull_request.number")
    merged_at = _time(pull.get("merged_at"), "pull_request.merged_at", context)
    commits = [
        parse_commit(repository, commit, context, "commits.")
        for commit in _objects(payload, "commits")
    ]
    body = text_or_none(pull.get("body"))
    state = str(pull.get("state") or "").lower()
    closed_at = _time(pull.get("closed_at"), "pull_request.closed_at", context)
    record = PullRequestRecord(
        repository=repository,
        number=number,
        created_at=_required_time(pull.get("created_at"), "pull_request.created_at", context),
        title=str(pull.get("title") or ""),
        body=body,
        author=_login(pull.get("user")),
        state=state if state in ("open", "closed") else ("closed" if closed_at else "open"),
        merged_at=merged_at,
        closed_at=closed_at,
        # Before the merge GitHub names a test merge commit here; it means nothing yet.
        merge_commit_sha=text_or_none(pull.get("merge_commit_sha")) if merged_at else None,
        base_branch=_branch(pull.get("base")),
        head_branch=_branch(pull.get("head")),
        url=text_or_none(pull.get("html_url")),
        commits=[commit.sha for commit in commits],
        work_items=closing_references(repository, body),
    )
    reviews = [
        _review(repository, number, review, context) for review in _objects(payload, "reviews")
    ]
    return [record, *(review for review in reviews if review is not None), *commits]


# -- issues ----------------------------------------------------------------------------------------
def issue_status(state: Any, reason: Any) -> str:
    """``open``, ``closed`` or ``not_planned`` (closed as not planned or as a duplicate)."""
    if str(state or "").lower() != "closed":
        return "open"
    return "not_planned" if str(reason or "").lower() in NOT_PLANNED_REASONS else "closed"


def _labels(issue: Mapping[str, Any]) -> list[str]:
    labels = issue.get("labels")
    names: list[str] = []
    for label in labels if isinstance(labels, list) else []:
        name = label.get("name") if isinstance(label, Mapping) else label
        if isinstance(name, str) and name:
            names.append(name)
    return names


def _issue_type(issue: Mapping[str, Any]) -> str:
    """GitHub's issue type (``type.name``) where the organisation uses them, else ``Issue``."""
    kind = issue.get("type")
    if isinstance(kind, Mapping) and text_or_none(kind.get("name")):
        return str(kind["name"])
    return "Issue"


def parse_issue(payload: Mapping[str, Any], context: ParseContext) -> list[Record]:
    repository = _repository(payload)
    issue = _object(payload, "issue")
    if "pull_request" in issue:
        return []  # a pull request seen through the issues list: read as a pull request
    number = _number(issue.get("number"), "issue.number")
    key = f"{repository}#{number}"
    status = issue_status(issue.get("state"), issue.get("state_reason"))
    assignees = issue.get("assignees")
    assignees = assignees if isinstance(assignees, list) else []
    item = WorkItemRecord(
        key=key,
        created_at=_required_time(issue.get("created_at"), "issue.created_at", context),
        title=str(issue.get("title") or ""),
        type=_issue_type(issue),
        status=status,
        project=repository,
        updated_at=_time(issue.get("updated_at"), "issue.updated_at", context),
        assignee=_login(issue.get("assignee")) or next(filter(None, map(_login, assignees)), None),
        labels=_labels(issue),
        url=text_or_none(issue.get("html_url")),
    )
    records: list[Record] = [item]
    records.extend(_status_changes(key, _objects(payload, "events"), context))
    current = records[-1].to_status if isinstance(records[-1], TransitionRecord) else "open"
    closed_at = _time(issue.get("closed_at"), "issue.closed_at", context)
    if status != "open" and current == "open" and closed_at is not None:
        # The events do not show the closing (an older issue, events unreadable): closed_at does.
        records.append(
            TransitionRecord(
                item=key,
                at=closed_at,
                from_status="open",
                to_status=status,
                id=f"{key}/closed_at",
            )
        )
    return records


def _status_changes(
    key: str, events: Sequence[Mapping[str, Any]], context: ParseContext
) -> list[TransitionRecord]:
    """One transition per ``closed`` / ``reopened`` event, in the order they happened."""
    changes = [event for event in events if event.get("event") in ("closed", "reopened")]
    timed = [
        (_required_time(event.get("created_at"), "events.created_at", context), event)
        for event in changes
    ]
    timed.sort(key=lambda pair: (pair[0], str(pair[1].get("id") or "")))
    current = "open"
    found = []
    for at, event in timed:
        if event.get("event") == "closed":
            after = issue_status("closed", event.get("state_reason"))
        else:
            after = "open"
        found.append(
            TransitionRecord(
                item=key,
                at=at,
                from_status=current,
                to_status=after,
                actor=_login(event.get("actor")),
                id=f"{key}/events/{event.get('id')}",
            )
        )
        current = after
    return found


# -- workflow runs ---------------------------------------------------------------------------------
def run_status(run: Mapping[str, Any]) -> str:
    """``success``, ``failed``, ``canceled`` or ``running`` from a run's status and conclusion
    (either may come in capitals, and the conclusion is null or empty until it finishes)."""
    status = str(run.get("status") or "").lower()
    conclusion = str(run.get("conclusion") or "").lower()
    if status in RUNNING_RUN_STATES:
        return "running"
    if conclusion in RUN_CONCLUSIONS:
        return RUN_CONCLUSIONS[conclusion]
    if status in RUN_CONCLUSIONS:  # some tools report the outcome as the status
        return RUN_CONCLUSIONS[status]
    if status == "completed" or conclusion:
        raise FieldError("workflow_run.conclusion", f"unknown conclusion {conclusion!r}")
    raise FieldError("workflow_run.status", f"unknown status {status!r}")


def parse_workflow_run(payload: Mapping[str, Any], context: ParseContext) -> PipelineRunRecord:
    repository = _repository(payload)
    run = _object(payload, "workflow_run")
    identifier = _identifier(run.get("id"), "workflow_run.id")
    status = run_status(run)
    started = run.get("run_started_at") or run.get("created_at")
    return PipelineRunRecord(
        id=f"{repository}/actions/runs/{identifier}",
        name=text_or_none(run.get("name"))
        or text_or_none(run.get("path"))
        or f"workflow {identifier}",
        status=status,
        started_at=_required_time(started, "workflow_run.created_at", context),
        repository=repository,
        sha=text_or_none(run.get("head_sha")),
        branch=text_or_none(run.get("head_branch")),
        # Runs carry no completion time; their last update is when they finished.
        finished_at=(
            None
            if status == "running"
            else _time(run.get("updated_at"), "workflow_run.updated_at", context)
        ),
        url=text_or_none(run.get("html_url")),
    )


# -- deployments -----------------------------------------------------------------------------------
def latest_status(statuses: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The deployment status that tells its outcome: the newest one that is not ``inactive``
    (GitHub marks a deployment inactive once a newer one replaces it)."""
    telling = [
        status for status in statuses if str(status.get("state") or "").lower() != "inactive"
    ]
    if not telling:
        return None
    return max(
        telling,
        key=lambda status: (
            str(status.get("created_at") or ""),
            status.get("id") if isinstance(status.get("id"), int) else 0,
        ),
    )


def deployment_status(statuses: Sequence[Mapping[str, Any]]) -> str:
    """``success``, ``failed``, ``running`` or ``canceled`` (only ever marked inactive)."""
    latest = latest_status(statuses)
    if latest is None:
        return "canceled" if statuses else "running"
    state = str(latest.get("state") or "").lower()
    if state not in DEPLOYMENT_STATES:
        raise FieldError("statuses.state", f"unknown deployment state {state!r}")
    return DEPLOYMENT_STATES[state]


def deployment_environment(deployment: Mapping[str, Any]) -> str | None:
    """The environment a deployment went to (``original_environment`` when GitHub left the
    other empty)."""
    return text_or_none(deployment.get("environment")) or text_or_none(
        deployment.get("original_environment")
    )


def shipped_commits(payload: Mapping[str, Any], sha: str | None) -> tuple[list[str], str]:
    """(commits, how they were found) for a deployment payload.

    With a compare result for this sha, the commits it listed (``compare_api``). With a compare
    entry but no result — the first successful deployment of its environment, or GitHub could
    not answer — none: what it shipped is not known, and its sha alone would pass for the whole
    range. Without a compare entry (a deployment that did not succeed, or stored before the
    connector compared), its own sha, as GitHub lists it (``explicit``).
    """
    compare = payload.get(COMPARE_KEY)
    if not isinstance(compare, Mapping):
        return ([sha] if sha else []), "explicit"
    listed = compare.get("commits")
    if compare.get("head") != sha or not isinstance(listed, list):
        return [], "compare_api"
    return [commit for commit in listed if isinstance(commit, str) and commit], "compare_api"


def parse_deployment(payload: Mapping[str, Any], context: ParseContext) -> DeploymentRecord:
    repository = _repository(payload)
    deployment = _object(payload, "deployment")
    identifier = _identifier(deployment.get("id"), "deployment.id")
    statuses = _objects(payload, "statuses")
    status = deployment_status(statuses)
    latest = latest_status(statuses)
    environment = deployment_environment(deployment)
    if environment is None:
        raise FieldError("deployment.environment", f"deployment {identifier} has no environment")
    sha = text_or_none(deployment.get("sha"))
    commits, commits_method = shipped_commits(payload, sha)
    finished_at = None
    if latest is not None and status in FINISHED_DEPLOYMENT_STATES:
        finished_at = _required_time(latest.get("created_at"), "statuses.created_at", context)
    return DeploymentRecord(
        id=f"{repository}/deployments/{identifier}",
        service=repository,
        environment=environment,
        status=status,
        started_at=_required_time(deployment.get("created_at"), "deployment.created_at", context),
        # GitHub's flag only says yes reliably; otherwise the environment-name rule decides.
        production=True if deployment.get("production_environment") is True else None,
        version=text_or_none(deployment.get("ref")),
        sha=sha,
        finished_at=finished_at,
        commits=commits,
        commits_method=commits_method,
        url=(
            text_or_none(latest.get("log_url")) or text_or_none(latest.get("target_url"))
            if latest is not None
            else None
        ),
    )


# -- releases --------------------------------------------------------------------------------------
def parse_release(payload: Mapping[str, Any], context: ParseContext) -> ReleaseRecord:
    repository = _repository(payload)
    release = _object(payload, "release")
    identifier = _identifier(release.get("id"), "release.id")
    tag = text_or_none(release.get("tag_name"))
    return ReleaseRecord(
        id=f"{repository}/releases/{identifier}",
        name=text_or_none(release.get("name")) or tag or identifier,
        version=tag,
        released_at=_time(release.get("published_at"), "release.published_at", context),
    )


def parse_payload(
    entity_kind: str, payload: Mapping[str, Any], context: ParseContext
) -> Record | list[Record]:
    """The parser normalisation uses for GitHub sources."""
    if entity_kind == EntityKind.PULL_REQUEST:
        return parse_pull_request(payload, context)
    if entity_kind == EntityKind.COMMIT:
        return parse_commit(_repository(payload), _object(payload, "commit"), context)
    if entity_kind == EntityKind.WORK_ITEM:
        return parse_issue(payload, context)
    if entity_kind == EntityKind.PIPELINE_RUN:
        return parse_workflow_run(payload, context)
    if entity_kind == EntityKind.DEPLOYMENT:
        return parse_deployment(payload, context)
    if entity_kind == EntityKind.RELEASE:
        return parse_release(payload, context)
    raise KeyError(entity_kind)
