"""Work items: search and filter with stable pagination, and one item's trace.

Pages are ordered by id and the cursor is the last id seen (opaque to clients), so items
added or changed between two requests never make a page repeat or skip an item.
"""

import base64
import binascii
from datetime import UTC, datetime
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from streamwise.api.routes.deps import session
from streamwise.api.routes.problems import ProblemError, invalid
from streamwise.model import (
    Commit,
    CommitWorkItem,
    Deployment,
    DeploymentChange,
    Incident,
    PipelineRun,
    PullRequest,
    PullRequestCommit,
    PullRequestWorkItem,
    Review,
    Source,
    Stage,
    StageInterval,
    Team,
    ValueStream,
    WorkItem,
)

router = APIRouter(prefix="/api/work-items", tags=["work items"])

FlowStateName = Literal["new", "waiting", "active", "done", "canceled"]
FlowItemTypeName = Literal["feature", "defect", "risk", "debt", "ignore"]


def encode_cursor(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        prefix, _, number = text.partition(":")
        if prefix != "after":
            raise ValueError(text)
        return int(number)
    except (ValueError, binascii.Error, UnicodeDecodeError):
        raise invalid("query.cursor", "not a cursor from a previous page") from None


def _moment(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _epoch(value: float | None) -> str | None:
    return datetime.fromtimestamp(value, UTC).isoformat() if value is not None else None


def _key_of(db_session: Session, model: Any, key: str, field: str) -> int:
    found = db_session.scalar(select(model.id).where(model.key == key))
    if found is None:
        known = ", ".join(db_session.scalars(select(model.key).order_by(model.key))) or "none"
        raise invalid(field, f"{key!r} is unknown (known: {known})")
    return int(found)


def item_json(item: WorkItem, names: dict[str, dict[int, str]]) -> dict[str, Any]:
    """One work item; ``names`` resolves ids of sources, stages, streams and teams."""
    return {
        "id": item.id,
        "key": item.key,
        "title": item.title,
        "source": names["sources"].get(item.source_id),
        "project": item.project,
        "type": item.raw_type,
        "flow_item_type": item.flow_item_type,
        "status": item.raw_status,
        "stage": names["stages"].get(item.stage_id) if item.stage_id else None,
        "flow_state": item.flow_state,
        "value_stream": names["streams"].get(item.value_stream_id)
        if item.value_stream_id
        else None,
        "team": names["teams"].get(item.team_id) if item.team_id else None,
        "labels": list(item.labels),
        "parent": item.parent_key,
        "created_at": _moment(item.created_at),
        "work_started_at": _moment(item.work_started_at),
        "done_at": _moment(item.done_at),
        "first_seen_mid_flow": item.first_seen_mid_flow,
        "url": item.url,
    }


def _names(db_session: Session) -> dict[str, dict[int, str]]:
    def pairs(*columns: Any) -> dict[int, str]:
        return {int(i): str(n) for i, n in db_session.execute(select(*columns))}

    return {
        "sources": pairs(Source.id, Source.name),
        "stages": pairs(Stage.id, Stage.name),
        "streams": pairs(ValueStream.id, ValueStream.key),
        "teams": pairs(Team.id, Team.key),
    }


@router.get("")
def list_items(
    value_stream: str | None = None,
    team: str | None = None,
    type: FlowItemTypeName | None = None,
    state: FlowStateName | None = None,
    q: str | None = Query(None, description="text in the key or title (case-insensitive)"),
    limit: int = Query(50, ge=1, le=500),
    cursor: str | None = None,
    db_session: Session = Depends(session),
) -> dict[str, Any]:
    """Work items matching every given filter, by id; ``next_cursor`` fetches the next page
    and ``total`` counts every match."""
    conditions: list[ColumnElement[bool]] = []
    if value_stream is not None:
        stream_id = _key_of(db_session, ValueStream, value_stream, "query.value_stream")
        conditions.append(WorkItem.value_stream_id == stream_id)
    if team is not None:
        conditions.append(WorkItem.team_id == _key_of(db_session, Team, team, "query.team"))
    if type is not None:
        conditions.append(WorkItem.flow_item_type == type)
    if state is not None:
        conditions.append(WorkItem.flow_state == state)
    if q:
        pattern = "%" + q.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        pattern += "%"
        conditions.append(
            or_(
                func.lower(WorkItem.key).like(pattern, escape="\\"),
                func.lower(WorkItem.title).like(pattern, escape="\\"),
            )
        )
    total = db_session.scalar(select(func.count()).select_from(WorkItem).where(*conditions))
    page_query = select(WorkItem).where(*conditions)
    if cursor is not None:
        page_query = page_query.where(WorkItem.id > decode_cursor(cursor))
    rows = db_session.scalars(page_query.order_by(WorkItem.id).limit(limit + 1)).all()
    page = rows[:limit]
    names = _names(db_session)
    return {
        "items": [item_json(item, names) for item in page],
        "total": int(total or 0),
        "limit": limit,
        "next_cursor": encode_cursor(page[-1].id) if len(rows) > limit else None,
    }


def _find_item(db_session: Session, key: str, source: str | None) -> WorkItem:
    query = select(WorkItem).where(WorkItem.key == key)
    if source is not None:
        query = query.join(Source, Source.id == WorkItem.source_id).where(Source.name == source)
    found = db_session.scalars(query.order_by(WorkItem.id)).all()
    if not found:
        where = f" in source {source!r}" if source else ""
        raise ProblemError(404, f"no work item {key!r}{where}")
    if len(found) > 1:
        raise ProblemError(
            409, f"work item key {key!r} exists in several sources: pass ?source= to choose"
        )
    return found[0]


def _activity(interval: StageInterval) -> str:
    """Active or waiting as the metrics count it: blocked time is waiting whatever the status."""
    if interval.blocked or interval.flow_state == "waiting":
        return "waiting"
    return "active" if interval.flow_state == "active" else str(interval.flow_state)


@router.get("/{key}/trace")
def trace(
    key: str, source: str | None = None, db_session: Session = Depends(session)
) -> dict[str, Any]:
    """One item's journey: stage intervals, then the code, builds, deployments and incidents
    linked to it, each link with the ``method`` that made it."""
    item = _find_item(db_session, key, source)
    names = _names(db_session)
    intervals = db_session.scalars(
        select(StageInterval)
        .where(StageInterval.work_item_id == item.id)
        .order_by(StageInterval.entered_at, StageInterval.id)
    ).all()

    # Commits: linked directly, or contained in a linked pull request.
    commit_methods: dict[int, list[dict[str, Any]]] = {}
    for commit_id, method in db_session.execute(
        select(CommitWorkItem.commit_id, CommitWorkItem.method).where(
            CommitWorkItem.work_item_id == item.id
        )
    ):
        commit_methods.setdefault(commit_id, []).append({"method": method})
    pr_links = db_session.execute(
        select(PullRequest, PullRequestWorkItem.method)
        .join(PullRequestWorkItem, PullRequestWorkItem.pull_request_id == PullRequest.id)
        .where(PullRequestWorkItem.work_item_id == item.id)
        .order_by(PullRequest.created_at, PullRequest.id)
    ).all()
    pull_requests = []
    for pr, method in pr_links:
        reviews = db_session.scalars(
            select(Review).where(Review.pull_request_id == pr.id).order_by(Review.submitted_at)
        ).all()
        for pr_commit_id in db_session.scalars(
            select(PullRequestCommit.commit_id).where(
                PullRequestCommit.pull_request_id == pr.id,
                PullRequestCommit.commit_id.is_not(None),
            )
        ):
            if pr_commit_id is None:
                continue
            commit_methods.setdefault(pr_commit_id, []).append(
                {"method": "pull_request", "pull_request": pr.number}
            )
        pull_requests.append(
            {
                "repository": pr.repository,
                "number": pr.number,
                "title": pr.title,
                "author": pr.author,
                "state": pr.state,
                "created_at": _moment(pr.created_at),
                "merged_at": _moment(pr.merged_at),
                "url": pr.url,
                "method": method,
                "reviews": [
                    {
                        "reviewer": r.reviewer,
                        "state": r.state,
                        "submitted_at": _moment(r.submitted_at),
                    }
                    for r in reviews
                ],
            }
        )
    commits = db_session.scalars(
        select(Commit).where(Commit.id.in_(commit_methods)).order_by(Commit.committed_at)
    ).all()
    shas = [c.sha for c in commits]
    runs = db_session.scalars(
        select(PipelineRun).where(PipelineRun.sha.in_(shas)).order_by(PipelineRun.started_at)
    ).all()
    shipped = db_session.execute(
        select(Deployment, DeploymentChange.commit_sha, DeploymentChange.method)
        .join(DeploymentChange, DeploymentChange.deployment_id == Deployment.id)
        .where(DeploymentChange.commit_id.in_(commit_methods))
        .order_by(Deployment.started_at, Deployment.id)
    ).all()
    deployments: dict[int, dict[str, Any]] = {}
    for deployment, sha, method in shipped:
        entry = deployments.setdefault(
            deployment.id,
            {
                "id": deployment.external_id,
                "service": deployment.service,
                "environment": deployment.environment,
                "is_production": deployment.is_production,
                "status": deployment.status,
                "started_at": _moment(deployment.started_at),
                "finished_at": _moment(deployment.finished_at),
                "url": deployment.url,
                "commits": [],
            },
        )
        entry["commits"].append({"sha": sha, "method": method})
    incidents = db_session.scalars(
        select(Incident)
        .where(Incident.caused_by_deployment_id.in_(deployments))
        .order_by(Incident.opened_at)
    ).all()
    external = {deployment_id: d["id"] for deployment_id, d in deployments.items()}
    return {
        "item": item_json(item, names),
        "intervals": [
            {
                "stage": names["stages"].get(i.stage_id) if i.stage_id else None,
                "flow_state": i.flow_state,
                "blocked": i.blocked,
                "activity": _activity(i),
                "entered_at": _epoch(i.entered_at),
                "left_at": _epoch(i.left_at),
                "duration_s": None if i.left_at is None else i.left_at - i.entered_at,
            }
            for i in intervals
        ],
        "commits": [
            {
                "repository": c.repository,
                "sha": c.sha,
                "author": c.author,
                "committed_at": _moment(c.committed_at),
                "message": c.message,
                "links": commit_methods[c.id],
            }
            for c in commits
        ],
        "pull_requests": pull_requests,
        "pipeline_runs": [
            {
                "id": r.external_id,
                "name": r.name,
                "repository": r.repository,
                "sha": r.sha,
                "status": r.status,
                "started_at": _moment(r.started_at),
                "finished_at": _moment(r.finished_at),
                "url": r.url,
                "method": "sha",
            }
            for r in runs
        ],
        "deployments": list(deployments.values()),
        "incidents": [
            {
                "id": i.external_id,
                "title": i.title,
                "service": i.service,
                "severity": i.severity,
                "opened_at": _moment(i.opened_at),
                "resolved_at": _moment(i.resolved_at),
                "deployment": external.get(i.caused_by_deployment_id or -1),
                "method": i.caused_by_method,
            }
            for i in incidents
        ],
    }
