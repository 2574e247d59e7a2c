"""A count of what the database holds, per source and per value stream (for CLI and API)."""

from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from streamwise.model import (
    Commit,
    Deployment,
    Incident,
    Organisation,
    PipelineRun,
    PullRequest,
    RawRecord,
    Release,
    Review,
    Source,
    Stage,
    Team,
    Transition,
    ValueStream,
    WorkItem,
)

COUNTED = {
    "work_items": WorkItem,
    "transitions": Transition,
    "commits": Commit,
    "pull_requests": PullRequest,
    "reviews": Review,
    "pipeline_runs": PipelineRun,
    "deployments": Deployment,
    "incidents": Incident,
    "releases": Release,
}


def organisation_summary(session: Session) -> dict[str, Any]:
    """Counts of everything loaded, so a person can see at a glance that data arrived."""
    organisation = session.scalars(select(Organisation)).first()
    totals = {
        name: session.scalar(select(func.count()).select_from(model)) or 0
        for name, model in COUNTED.items()
    }
    totals["raw_records"] = session.scalar(select(func.count()).select_from(RawRecord)) or 0
    items_by_stream = dict(
        session.execute(
            select(WorkItem.value_stream_id, func.count()).group_by(WorkItem.value_stream_id)
        ).all()
    )
    done_by_stream = dict(
        session.execute(
            select(WorkItem.value_stream_id, func.count())
            .where(WorkItem.done_at.is_not(None))
            .group_by(WorkItem.value_stream_id)
        ).all()
    )
    deployments_by_stream = dict(
        session.execute(
            select(Deployment.value_stream_id, func.count())
            .where(Deployment.is_production.is_(True))
            .group_by(Deployment.value_stream_id)
        ).all()
    )
    streams = []
    for stream in session.scalars(select(ValueStream).order_by(ValueStream.position)):
        stages = session.scalars(
            select(Stage).where(Stage.value_stream_id == stream.id).order_by(Stage.position)
        )
        streams.append(
            {
                "key": stream.key,
                "name": stream.name,
                "kind": stream.kind,
                "owner": stream.owner,
                "stages": [
                    {"name": s.name, "flow_state": s.flow_state, "value_adding": s.value_adding}
                    for s in stages
                ],
                "work_items": items_by_stream.get(stream.id, 0),
                "work_items_done": done_by_stream.get(stream.id, 0),
                "production_deployments": deployments_by_stream.get(stream.id, 0),
            }
        )
    raw_by_source = dict(
        session.execute(
            select(RawRecord.source_id, func.count()).group_by(RawRecord.source_id)
        ).all()
    )
    sources = [
        {"name": s.name, "kind": s.kind, "raw_records": raw_by_source.get(s.id, 0)}
        for s in session.scalars(select(Source).order_by(Source.name))
    ]
    return {
        "organisation": {
            "name": organisation.name if organisation else None,
            "timezone": organisation.timezone if organisation else None,
        },
        "totals": totals,
        "unassigned_work_items": items_by_stream.get(None, 0),
        "value_streams": streams,
        "teams": session.scalar(select(func.count()).select_from(Team)) or 0,
        "sources": sources,
    }
