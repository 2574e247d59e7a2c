"""GitLab payloads → neutral records.

The connector (and the GitLab webhook) store each object as GitLab returned it, inside a small
envelope naming the project it belongs to (its ``path_with_namespace``) and what was read with
it, so that parsing never needs the network or the source's options:

- ``work_item``: ``{"project", "issue", "state_events", "label_events", "streamwise_options"}``
  → the issue and its status transitions;
- ``pull_request``: ``{"project", "merge_request", "approvals", "notes", "commits"}`` → the
  merge request, its approvals and review comments, its commits;
- ``commit``: ``{"project", "branch", "commit"}`` (a commit of the default branch);
- ``pipeline_run``: ``{"project", "pipeline"}``;
- ``deployment``: ``{"project", "deployment", "environment", "streamwise_compare",
  "streamwise_options"}`` — ``environment`` is the environment as the environments API lists
  it (for its tier), ``streamwise_compare`` the commits GitLab's compare API listed between the
  previous successful deployment of that environment and this one;
- ``release``: ``{"project", "release"}``.

``streamwise_options`` carries the source options that decide how a payload reads (the label
prefixes, the production environments, the service name), recorded when it was stored.

An issue's status is ``closed`` when GitLab closed it; while open it is its scoped status label
without the prefix (``workflow::In review`` → ``In review``), or ``opened`` without one.
Keys are ``group/project#iid`` for issues and merge requests, ``group/project@sha`` for commits.
"""

import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
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

DEFAULT_STATUS_LABEL_PREFIX = "workflow::"
DEFAULT_TYPE_LABEL_PREFIX = "type::"
OPENED = "opened"
CLOSED = "closed"
PIPELINE_STATUSES = {
    "success": "success",
    "failed": "failed",
    "canceled": "canceled",
    "canceling": "canceled",
    "skipped": "canceled",
    "created": "running",
    "waiting_for_resource": "running",
    "preparing": "running",
    "waiting_for_callback": "running",
    "pending": "running",
    "running": "running",
    "manual": "running",  # waits for someone to start a job: not finished
    "scheduled": "running",
}
DEPLOYMENT_STATUSES = {
    "success": "success",
    "failed": "failed",
    "canceled": "canceled",
    "skipped": "canceled",
    "created": "running",
    "running": "running",
    "blocked": "running",  # waits for an approval
}
FINISHED_STATUSES = frozenset({"success", "failed", "canceled"})
MERGE_REQUEST_STATES = {"opened": "open", "locked": "open", "closed": "closed", "merged": "merged"}
APPROVAL_NOTE = "approved this merge request"
"""The system note GitLab writes when someone approves; older GitLab versions give the time of
an approval nowhere else."""
CLOSING_REFERENCE = re.compile(
    r"\b(?:clos(?:e|es|ed|ing)|fix(?:|es|ed|ing)|resolv(?:e|es|ed|ing)|implement(?:|s|ed|ing))"
    r"\s*:?\s+(?:issues?\s+)?"
    r"(?:(?P<url>https?://\S+?/(?P<url_project>[\w.-]+(?:/[\w.-]+)+)/-/issues/(?P<url_iid>\d+))"
    r"|(?P<project>[\w.-]+(?:/[\w.-]+)+)?#(?P<iid>\d+))\b",
    re.IGNORECASE,
)
"""GitLab's default closing pattern (``Closes #12``, ``fixes group/app#7``, an issue URL)."""
GITLAB_TIME = re.compile(
    r"(?P<date>\d{4}-\d{2}-\d{2})[T ](?P<time>\d{2}:\d{2}:\d{2}(?:\.\d+)?)\s*"
    r"(?P<zone>UTC|Z|[+-]\d{2}:?\d{2})?"
)


# -- small readers: GitLab sends null for anything that is not there ------------------------------
def _object(container: Mapping[str, Any], key: str, where: str = "") -> Mapping[str, Any]:
    value = container.get(key)
    if not isinstance(value, Mapping):
        raise FieldError(f"{where}{key}", f"{where}{key} is missing or not an object")
    return value


def _optional_object(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else {}


def _objects(container: Mapping[str, Any], key: str) -> list[Mapping[str, Any]]:
    value = container.get(key)
    if value is None:
        return []
    if not isinstance(value, list):
        raise FieldError(key, f"{key} is not a list")
    return [item for item in value if isinstance(item, Mapping)]


def _username(user: Any) -> str | None:
    """A user's username; None when GitLab sends no user."""
    return text_or_none(user.get("username")) if isinstance(user, Mapping) else None


def _number(value: Any, field_name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise FieldError(field_name, f"{field_name} is {value!r}, not a number")
    return value


def _identifier(value: Any, field_name: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int | str) or value == "":
        raise FieldError(field_name, f"{field_name} is {value!r}, not an id")
    return str(value)


def gitlab_time_text(value: Any) -> Any:
    """GitLab's timestamp spellings as ISO 8601: the API's ``2025-03-01T12:00:00.123Z`` stays as
    it is; webhooks' ``2025-03-01 12:00:00 UTC`` and ``2021-04-28 21:50:00 +0200`` are rewritten.
    Anything else is returned unchanged (and fails in ``parse_timestamp`` with the field name)."""
    if not isinstance(value, str):
        return value
    match = GITLAB_TIME.fullmatch(value.strip())
    if match is None:
        return value
    zone = match.group("zone") or ""
    if zone in ("UTC", "Z"):
        zone = "+00:00"
    elif zone and ":" not in zone:
        zone = f"{zone[:3]}:{zone[3:]}"
    return f"{match.group('date')}T{match.group('time')}{zone}"


def _time(value: Any, field_name: str, context: ParseContext) -> datetime | None:
    if value in (None, ""):
        return None
    return parse_timestamp(gitlab_time_text(value), field_name, context)


def _required_time(value: Any, field_name: str, context: ParseContext) -> datetime:
    moment = _time(value, field_name, context)
    if moment is None:
        raise FieldError(field_name, f"{field_name} is missing")
    return moment


def _project(payload: Mapping[str, Any]) -> str:
    project = payload.get("project")
    if not isinstance(project, str) or not project.strip("/"):
        raise FieldError("project", "the payload names no project (group/project)")
    return project


def _options(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    return _optional_object(payload.get("streamwise_options"))


def label_names(value: Any) -> list[str]:
    """Label names from the API's list of names or a webhook's list of label objects."""
    names: list[str] = []
    for label in value if isinstance(value, list) else []:
        name = label.get("title") or label.get("name") if isinstance(label, Mapping) else label
        if isinstance(name, str) and name and name not in names:
            names.append(name)
    return names


def _seconds(moment: datetime) -> str:
    """A moment to the second in UTC: transitions found by a webhook (second precision) and by
    a sync (milliseconds) get the same id, so the two never count one change twice."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


# -- issues ----------------------------------------------------------------------------------------
def _issue_type(issue: Mapping[str, Any], labels: list[str], type_prefix: str) -> str:
    """The type label's value (``type::bug`` → ``bug``), else GitLab's own issue type."""
    for label in labels:
        if type_prefix and label.startswith(type_prefix) and label[len(type_prefix) :]:
            return label[len(type_prefix) :]
    kind = text_or_none(issue.get("issue_type")) or text_or_none(issue.get("type")) or "issue"
    return kind.replace("_", " ").capitalize()


def _status(closed: bool, status_label: str | None, prefix: str) -> str:
    if closed:
        return CLOSED
    if status_label is not None:
        return status_label[len(prefix) :]
    return OPENED


def _status_label(labels: Sequence[str], prefix: str) -> str | None:
    return next(
        (label for label in labels if prefix and label.startswith(prefix) and label != prefix),
        None,
    )


def _status_changes(
    key: str,
    state_events: Sequence[Mapping[str, Any]],
    label_events: Sequence[Mapping[str, Any]],
    prefix: str,
    context: ParseContext,
) -> tuple[list[TransitionRecord], str]:
    """Status transitions from state events (closed / reopened) and the adding and removing of
    scoped status labels, in the order they happened, and the status they end in.

    Events at the same moment are taken together: GitLab swaps one scoped label for another as
    a removal and an addition at once, which is one change of status, not two."""
    timed: list[tuple[datetime, int, Mapping[str, Any]]] = []
    for event in state_events:
        at = _required_time(event.get("created_at"), "state_events.created_at", context)
        timed.append((at, 2, event))
    for event in label_events:
        name = text_or_none(_optional_object(event.get("label")).get("name"))
        if name is None or not prefix or not name.startswith(prefix) or name == prefix:
            continue  # a deleted label (GitLab sends null) or one that is not a status
        at = _required_time(event.get("created_at"), "label_events.created_at", context)
        timed.append((at, 0 if event.get("action") == "remove" else 1, event))
    timed.sort(key=lambda entry: (entry[0], entry[1], str(entry[2].get("id") or "")))
    closed, label, current = False, None, OPENED
    found: list[TransitionRecord] = []
    index = 0
    while index < len(timed):
        at = timed[index][0]
        actor = None
        while index < len(timed) and timed[index][0] == at:
            _, order, event = timed[index]
            if order == 2:
                state = str(event.get("state") or "").lower()
                if state == CLOSED:
                    closed = True
                elif state in ("reopened", OPENED):
                    closed = False
            else:
                name = str(_object(event, "label", "label_events.").get("name"))
                if order == 1:
                    label = name
                elif label == name:
                    label = None
            actor = _username(event.get("user")) or actor
            index += 1
        after = _status(closed, label, prefix)
        if after != current:
            found.append(
                TransitionRecord(
                    item=key,
                    at=at,
                    from_status=current,
                    to_status=after,
                    actor=actor,
                    id=f"{key}/status/{after}@{_seconds(at)}",
                )
            )
            current = after
    return found, current


def parse_issue(payload: Mapping[str, Any], context: ParseContext) -> list[Record]:
    project = _project(payload)
    issue = _object(payload, "issue")
    options = _options(payload)
    status_prefix = str(options.get("status_label_prefix", DEFAULT_STATUS_LABEL_PREFIX) or "")
    type_prefix = str(options.get("type_label_prefix", DEFAULT_TYPE_LABEL_PREFIX) or "")
    iid = _number(issue.get("iid"), "issue.iid")
    key = f"{project}#{iid}"
    labels = label_names(issue.get("labels"))
    closed = str(issue.get("state") or "").lower() == CLOSED
    assignees = [_username(user) for user in _objects(issue, "assignees")]
    item = WorkItemRecord(
        key=key,
        created_at=_required_time(issue.get("created_at"), "issue.created_at", context),
        title=str(issue.get("title") or ""),
        type=_issue_type(issue, labels, type_prefix),
        status=_status(closed, _status_label(labels, status_prefix), status_prefix),
        project=project,
        updated_at=_time(issue.get("updated_at"), "issue.updated_at", context),
        assignee=next(filter(None, assignees), None) or _username(issue.get("assignee")),
        labels=labels,
        url=text_or_none(issue.get("web_url")),
    )
    changes, current = _status_changes(
        key,
        _objects(payload, "state_events"),
        _objects(payload, "label_events"),
        status_prefix,
        context,
    )
    closed_at = _time(issue.get("closed_at"), "issue.closed_at", context)
    if closed and current != CLOSED and closed_at is not None:
        # The events do not show the closing (older GitLab kept no state events): closed_at does.
        changes.append(
            TransitionRecord(
                item=key,
                at=closed_at,
                from_status=current,
                to_status=CLOSED,
                actor=_username(issue.get("closed_by")),
                id=f"{key}/status/{CLOSED}@{_seconds(closed_at)}",
            )
        )
    return [item, *changes]


# -- merge requests --------------------------------------------------------------------------------
def closing_references(project: str, text: str | None) -> list[str]:
    """Issues a merge request description closes, as work item keys (``group/project#12``)."""
    if not text:
        return []
    found = []
    for match in CLOSING_REFERENCE.finditer(text):
        if match.group("url"):
            found.append(f"{match.group('url_project')}#{match.group('url_iid')}")
        else:
            found.append(f"{match.group('project') or project}#{match.group('iid')}")
    return list(dict.fromkeys(found))


def parse_commit(
    project: str, commit: Mapping[str, Any], context: ParseContext, where: str = "commit."
) -> CommitRecord:
    """A commit as GitLab's commit lists give it (``id``, ``authored_date``, ``author_name``)."""
    sha = text_or_none(commit.get("id"))
    if sha is None:
        raise FieldError(f"{where}id", f"{where}id is missing: a commit without its sha")
    authored = commit.get("authored_date") or commit.get("created_at")
    committed = commit.get("committed_date") or authored
    return CommitRecord(
        repository=project,
        sha=sha,
        authored_at=_required_time(authored, f"{where}authored_date", context),
        committed_at=_required_time(committed, f"{where}committed_date", context),
        author=text_or_none(commit.get("author_name")),
        message=str(commit.get("message") or commit.get("title") or ""),
    )


def _approval_times(
    notes: Sequence[Mapping[str, Any]], context: ParseContext
) -> dict[str, datetime]:
    """Each user's latest approval by its system note (username → when)."""
    found: dict[str, datetime] = {}
    for note in notes:
        if note.get("system") is True and str(note.get("body") or "").strip() == APPROVAL_NOTE:
            user = _username(note.get("author"))
            at = _time(note.get("created_at"), "notes.created_at", context)
            if user is not None and at is not None and (user not in found or found[user] < at):
                found[user] = at
    return found


def _reviews(
    project: str,
    iid: int,
    author: str | None,
    payload: Mapping[str, Any],
    context: ParseContext,
) -> list[ReviewRecord]:
    """Approvals (the approvals API, timed by ``approved_at`` or the approval's system note)
    and review comments: notes that are not system notes, by someone other than the author."""
    notes = _objects(payload, "notes")
    noted = _approval_times(notes, context)
    reviews: list[ReviewRecord] = []
    approvals = _optional_object(payload.get("approvals"))
    for approval in _objects(approvals, "approved_by"):
        user = _optional_object(approval.get("user"))
        username = _username(user)
        at = _time(approval.get("approved_at"), "approvals.approved_by.approved_at", context)
        at = at or (noted.get(username) if username else None)
        if at is None:
            continue  # who approved is known, but not when: nothing to time a review by
        reviews.append(
            ReviewRecord(
                repository=project,
                pull_request=iid,
                state="approved",
                submitted_at=at,
                reviewer=username,
                id=f"{project}#{iid}/approvals/{username or user.get('id')}",
            )
        )
    for note in notes:
        if note.get("system") is True:
            continue
        reviewer = _username(note.get("author"))
        if reviewer is not None and reviewer == author:
            continue  # the author answering is not a review
        identifier = _identifier(note.get("id"), "notes.id")
        reviews.append(
            ReviewRecord(
                repository=project,
                pull_request=iid,
                state="commented",
                submitted_at=_required_time(note.get("created_at"), "notes.created_at", context),
                reviewer=reviewer,
                id=f"{project}#{iid}/notes/{identifier}",
            )
        )
    return reviews


def parse_merge_request(payload: Mapping[str, Any], context: ParseContext) -> list[Record]:
    project = _project(payload)
    merge_request = _object(payload, "merge_request")
    iid = _number(merge_request.get("iid"), "merge_request.iid")
    commits = [
        parse_commit(project, commit, context, "commits.")
        for commit in _objects(payload, "commits")
    ]
    state = str(merge_request.get("state") or "").lower()
    if state not in MERGE_REQUEST_STATES:
        raise FieldError("merge_request.state", f"unknown merge request state {state!r}")
    merged_at = _time(merge_request.get("merged_at"), "merge_request.merged_at", context)
    merged = state == "merged" or merged_at is not None
    description = text_or_none(merge_request.get("description"))
    author = _username(merge_request.get("author"))
    record = PullRequestRecord(
        repository=project,
        number=iid,
        created_at=_required_time(
            merge_request.get("created_at"), "merge_request.created_at", context
        ),
        title=str(merge_request.get("title") or ""),
        body=description,
        author=author,
        state=MERGE_REQUEST_STATES[state],
        merged_at=merged_at,
        closed_at=_time(merge_request.get("closed_at"), "merge_request.closed_at", context),
        # A fast-forward merge makes no merge commit: then the head (or squash) commit landed.
        merge_commit_sha=(
            text_or_none(merge_request.get("merge_commit_sha"))
            or text_or_none(merge_request.get("squash_commit_sha"))
            or text_or_none(merge_request.get("sha"))
            if merged
            else None
        ),
        base_branch=text_or_none(merge_request.get("target_branch")),
        head_branch=text_or_none(merge_request.get("source_branch")),
        url=text_or_none(merge_request.get("web_url")),
        commits=[commit.sha for commit in commits],
        work_items=closing_references(project, description),
    )
    return [record, *_reviews(project, iid, author, payload, context), *commits]


# -- pipelines -------------------------------------------------------------------------------------
def pipeline_status(pipeline: Mapping[str, Any]) -> str:
    """``success``, ``failed``, ``canceled`` or ``running`` (anything not finished yet)."""
    status = str(pipeline.get("status") or "").lower()
    if status not in PIPELINE_STATUSES:
        raise FieldError("pipeline.status", f"unknown pipeline status {status!r}")
    return PIPELINE_STATUSES[status]


def parse_pipeline(payload: Mapping[str, Any], context: ParseContext) -> PipelineRunRecord:
    project = _project(payload)
    pipeline = _object(payload, "pipeline")
    identifier = _identifier(pipeline.get("id"), "pipeline.id")
    status = pipeline_status(pipeline)
    started = pipeline.get("started_at") or pipeline.get("created_at")
    finished = None
    if status != "running":
        # The pipelines list has no finish time; a pipeline's last update is its finish.
        finished = _time(
            pipeline.get("finished_at") or pipeline.get("updated_at"),
            "pipeline.finished_at",
            context,
        )
    return PipelineRunRecord(
        id=f"{project}/pipelines/{identifier}",
        name=text_or_none(pipeline.get("name")) or "pipeline",
        status=status,
        started_at=_required_time(started, "pipeline.created_at", context),
        repository=project,
        sha=text_or_none(pipeline.get("sha")),
        branch=text_or_none(pipeline.get("ref")),
        finished_at=finished,
        url=text_or_none(pipeline.get("web_url")),
    )


# -- deployments -----------------------------------------------------------------------------------
def deployment_status(deployment: Mapping[str, Any]) -> str:
    status = str(deployment.get("status") or "").lower()
    if status not in DEPLOYMENT_STATUSES:
        raise FieldError("deployment.status", f"unknown deployment status {status!r}")
    return DEPLOYMENT_STATUSES[status]


def _production(tier: str | None, environment: str, configured: Any) -> bool | None:
    """Production when GitLab's tier says so or the source lists the environment; otherwise
    the organisation's environment-name rule decides (None)."""
    if (tier or "").lower() == "production":
        return True
    names = {str(name).lower() for name in configured} if isinstance(configured, list) else set()
    return True if environment.lower() in names else None


def parse_deployment(payload: Mapping[str, Any], context: ParseContext) -> DeploymentRecord:
    project = _project(payload)
    deployment = _object(payload, "deployment")
    options = _options(payload)
    identifier = _identifier(deployment.get("id"), "deployment.id")
    status = deployment_status(deployment)
    named = _optional_object(deployment.get("environment"))
    listed = _optional_object(payload.get("environment"))
    environment = text_or_none(named.get("name")) or text_or_none(listed.get("name"))
    if environment is None:
        raise FieldError(
            "deployment.environment.name", f"deployment {identifier} names no environment"
        )
    job = _optional_object(deployment.get("deployable"))
    created = _required_time(deployment.get("created_at"), "deployment.created_at", context)
    started = _time(job.get("started_at"), "deployment.deployable.started_at", context)
    finished = None
    if status in FINISHED_STATUSES:
        finished = _time(
            deployment.get("finished_at") or job.get("finished_at") or deployment.get("updated_at"),
            "deployment.finished_at",
            context,
        )
    sha = text_or_none(deployment.get("sha"))
    commits, method = ([sha] if sha else []), "explicit"
    compare = payload.get("streamwise_compare")
    if isinstance(compare, Mapping) and compare.get("to") == sha:
        listed_commits = _objects(compare, "commits")
        commits = [str(commit["id"]) for commit in listed_commits if text_or_none(commit.get("id"))]
        method = "compare_api"
    return DeploymentRecord(
        id=f"{project}/deployments/{identifier}",
        service=text_or_none(options.get("service")) or project,
        environment=environment,
        status=status,
        started_at=started or created,
        production=_production(
            text_or_none(listed.get("tier")) or text_or_none(named.get("tier")),
            environment,
            options.get("production_environments"),
        ),
        version=text_or_none(deployment.get("ref")),
        sha=sha,
        finished_at=finished,
        commits=commits,
        commits_method=method,
        url=text_or_none(job.get("web_url")) or text_or_none(named.get("external_url")),
    )


# -- releases --------------------------------------------------------------------------------------
def parse_release(payload: Mapping[str, Any], context: ParseContext) -> ReleaseRecord:
    project = _project(payload)
    release = _object(payload, "release")
    tag = text_or_none(release.get("tag_name"))
    if tag is None:
        raise FieldError("release.tag_name", "a release without its tag")
    at = _time(release.get("released_at"), "release.released_at", context)
    upcoming = release.get("upcoming_release") is True
    return ReleaseRecord(
        id=f"{project}/releases/{tag}",
        name=text_or_none(release.get("name")) or tag,
        version=tag,
        # An upcoming release is dated in the future: planned then, not released yet.
        planned_at=at if upcoming else None,
        released_at=None if upcoming else at,
        project=project,
    )


def parse_payload(
    entity_kind: str, payload: Mapping[str, Any], context: ParseContext
) -> Record | list[Record]:
    """The parser normalisation uses for GitLab sources."""
    if entity_kind == EntityKind.WORK_ITEM:
        return parse_issue(payload, context)
    if entity_kind == EntityKind.PULL_REQUEST:
        return parse_merge_request(payload, context)
    if entity_kind == EntityKind.COMMIT:
        return parse_commit(_project(payload), _object(payload, "commit"), context)
    if entity_kind == EntityKind.PIPELINE_RUN:
        return parse_pipeline(payload, context)
    if entity_kind == EntityKind.DEPLOYMENT:
        return parse_deployment(payload, context)
    if entity_kind == EntityKind.RELEASE:
        return parse_release(payload, context)
    raise KeyError(entity_kind)
