"""The one place metrics read the store: facts for a selection and a time window.

Everything else in ``metrics/`` is pure. Columns come back as plain numbers (fact tables keep
epoch seconds) and are turned into NumPy arrays column by column, with SQL doing the
filtering, so loading a two-year stream stays well under a second.
"""

from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session

from streamwise.errors import NotFoundError
from streamwise.metrics.facts import (
    ChangeFacts,
    Columns,
    DeploymentFacts,
    FactSet,
    ItemFacts,
    StageInfo,
    StageIntervals,
    StageTimes,
)
from streamwise.metrics.period import Period
from streamwise.metrics.portfolio import PortfolioFacts
from streamwise.model import (
    ChangeFact,
    DeploymentFact,
    ItemFact,
    ItemStageTime,
    Stage,
    StageInterval,
    Team,
    ValueStream,
)
from streamwise.store.bulk import fetch_plain, table_of


@dataclass(frozen=True)
class Filters:
    """What to look at. Unset filters select everything."""

    value_stream: str | None = None
    team: str | None = None
    flow_item_type: str | None = None
    service: str | None = None
    environment: str | None = None


def _id_of(session: Session, model: Any, key: str, what: str) -> int:
    found = session.scalar(select(model.id).where(model.key == key))
    if found is None:
        known = ", ".join(session.scalars(select(model.key).order_by(model.key))) or "none"
        raise NotFoundError(f"no {what} {key!r} (known: {known})")
    return int(found)


def _columns(session: Session, query: Select[Any], target: type[Columns]) -> Any:
    """Run ``query`` (its columns in the order of ``target``'s fields) into column arrays."""
    rows = fetch_plain(session, query)
    names = list(target.KINDS)
    if not rows:
        return target.empty()
    values: dict[str, Any] = {}
    for index, name in enumerate(names):
        column = [row[index] for row in rows]
        kind = target.KINDS[name]
        if kind in ("float", "time"):
            values[name] = np.array(column, dtype=np.float64)  # None becomes NaN
        elif kind == "int":
            values[name] = np.array([-1 if v is None else v for v in column], dtype=np.int64)
        elif kind == "bool":
            values[name] = np.array(column, dtype=np.bool_)
        else:
            array = np.empty(len(column), dtype=object)
            array[:] = column
            values[name] = array
    return target(**values)


def _numeric(rows: list[tuple[Any, ...]]) -> Any:
    """All-numeric rows → one 2-D float array (None → NaN): far faster than column by column."""
    if not rows:
        return np.empty((0, 8), dtype=np.float64)
    return np.array(rows, dtype=np.float64)


def _coalesce(column: Any) -> Any:
    return func.coalesce(column, -1)


def load_facts(
    session: Session, filters: Filters, since: float | None = None, until: float | None = None
) -> FactSet:
    """Facts of the items, stages and deployments selected by ``filters`` that matter for the
    window [since, until) (epoch seconds; None = open)."""
    item = table_of(ItemFact).c
    item_conditions: list[ColumnElement[bool]] = []
    stream_id = None
    if filters.value_stream:
        stream_id = _id_of(session, ValueStream, filters.value_stream, "value stream")
        item_conditions.append(item.value_stream_id == stream_id)
    if filters.team:
        item_conditions.append(item.team_id == _id_of(session, Team, filters.team, "team"))
    if filters.flow_item_type:
        item_conditions.append(item.flow_item_type == filters.flow_item_type)
    if until is not None:
        item_conditions.append(item.created_at < until)
    if since is not None:
        item_conditions.append(or_(item.done_at.is_(None), item.done_at >= since))
        item_conditions.append(or_(item.canceled_at.is_(None), item.canceled_at >= since))
    item_filter = and_(*item_conditions) if item_conditions else None

    item_query = select(
        item.work_item_id,
        _coalesce(item.value_stream_id),
        _coalesce(item.team_id),
        item.flow_item_type,
        _coalesce(item.stage_id),
        item.flow_state,
        item.created_at,
        item.work_started_at,
        item.done_at,
        item.canceled_at,
        item.flow_time_s,
        item.active_time_s,
        item.waiting_time_s,
        item.send_backs,
        item.first_seen_mid_flow,
    )
    if item_filter is not None:
        item_query = item_query.where(item_filter)
    items: ItemFacts = _columns(session, item_query.order_by(item.work_item_id), ItemFacts)

    # Intervals and stage times carry the stream: filter on it directly when that is all we
    # filter by; other filters go through the selected items.
    interval = table_of(StageInterval).c
    stage_time = table_of(ItemStageTime).c
    only_stream = not (filters.team or filters.flow_item_type)
    interval_scope: ColumnElement[bool] | None = None
    stage_time_scope: ColumnElement[bool] | None = None
    if only_stream and stream_id is not None:
        interval_scope = interval.value_stream_id == stream_id
        stage_time_scope = stage_time.value_stream_id == stream_id
    elif not only_stream:
        selected_items = select(item.work_item_id).where(*item_conditions)
        interval_scope = interval.work_item_id.in_(selected_items)
        stage_time_scope = stage_time.work_item_id.in_(selected_items)
    interval_query = select(
        interval.work_item_id,
        _coalesce(interval.value_stream_id),
        _coalesce(interval.stage_id),
        interval.flow_state,
        interval.blocked,
        interval.entered_at,
        interval.left_at,
    )
    if interval_scope is not None:
        interval_query = interval_query.where(interval_scope)
    if until is not None:
        interval_query = interval_query.where(interval.entered_at < until)
    if since is not None:
        interval_query = interval_query.where(
            or_(interval.left_at.is_(None), interval.left_at >= since)
        )
    intervals: StageIntervals = _columns(session, interval_query, StageIntervals)

    stage_time_query = select(
        stage_time.work_item_id,
        _coalesce(stage_time.value_stream_id),
        _coalesce(stage_time.stage_id),
        stage_time.active_s,
        stage_time.waiting_s,
        stage_time.entries,
        stage_time.sent_back_into,
    )
    if stage_time_scope is not None:
        stage_time_query = stage_time_query.where(stage_time_scope)
    stage_times: StageTimes = _columns(session, stage_time_query, StageTimes)

    deployments, changes = _delivery(session, filters, stream_id, since, until)
    stages = _stages(session, stream_id)
    return FactSet(items, intervals, stage_times, deployments, changes, stages)


def _delivery_conditions(
    table: Any,
    moment: Any,
    stream_id: int | None,
    service: str | None,
    since: float | None,
    until: float | None,
) -> list[ColumnElement[bool]]:
    """The selection and window shared by deployment and change facts."""
    conditions: list[ColumnElement[bool]] = []
    if stream_id is not None:
        conditions.append(table.value_stream_id == stream_id)
    if service:
        conditions.append(table.service == service)
    if since is not None:
        conditions.append(moment >= since)
    if until is not None:
        conditions.append(moment < until)
    return conditions


def _delivery(
    session: Session,
    filters: Filters,
    stream_id: int | None,
    since: float | None,
    until: float | None,
) -> tuple[DeploymentFacts, ChangeFacts]:
    deployment = table_of(DeploymentFact).c
    conditions = _delivery_conditions(
        deployment, deployment.finished_at, stream_id, filters.service, since, until
    )
    if filters.environment:
        conditions.append(deployment.environment == filters.environment)
    deployment_query = select(
        deployment.deployment_id,
        _coalesce(deployment.value_stream_id),
        deployment.service,
        deployment.environment,
        deployment.is_production,
        deployment.succeeded,
        deployment.finished_at,
        deployment.failed,
        deployment.recovered_at,
        deployment.recovery_s,
        deployment.is_rework,
        deployment.change_count,
    ).where(*conditions)
    deployments: DeploymentFacts = _columns(session, deployment_query, DeploymentFacts)

    change = table_of(ChangeFact).c
    change_conditions = _delivery_conditions(
        change, change.deployed_at, stream_id, filters.service, since, until
    )
    change_query = select(
        change.deployment_id,
        _coalesce(change.value_stream_id),
        change.service,
        _coalesce(change.commit_id),
        _coalesce(change.pull_request_id),
        change.committed_at,
        change.deployed_at,
        change.lead_time_s,
        change.coding_s,
        change.pickup_s,
        change.review_s,
        change.deploy_s,
    ).where(*change_conditions)
    changes: ChangeFacts = _columns(session, change_query, ChangeFacts)
    return deployments, changes


def _stages(session: Session, stream_id: int | None) -> tuple[StageInfo, ...]:
    query = select(Stage).order_by(Stage.value_stream_id, Stage.position)
    if stream_id is not None:
        query = query.where(Stage.value_stream_id == stream_id)
    return tuple(
        StageInfo(s.id, s.value_stream_id, s.position, s.name, s.flow_state, s.value_adding)
        for s in session.scalars(query)
    )


FLOW_TYPES = ("feature", "defect", "risk", "debt")


def load_portfolio(session: Session, period: Period) -> PortfolioFacts:
    """The narrow columns the portfolio needs, for ``period`` and the one before it, with the
    waiting time per stage summed by the database (the bottleneck needs nothing more)."""
    since, until = period.previous().start_at, period.end_at
    item = table_of(ItemFact).c
    flow_item = item.flow_item_type.in_(FLOW_TYPES)
    done = fetch_plain(
        session,
        select(
            _coalesce(item.value_stream_id),
            item.done_at,
            item.flow_time_s,
            item.active_time_s,
            item.waiting_time_s,
        ).where(flow_item, item.done_at >= since, item.done_at < until),
    )
    ends = func.coalesce(item.done_at, item.canceled_at)
    wip = fetch_plain(
        session,
        select(
            _coalesce(item.value_stream_id),
            item.work_started_at,
            item.done_at,
            item.canceled_at,
        ).where(
            flow_item,
            item.work_started_at.is_not(None),
            item.work_started_at < until,
            or_(ends.is_(None), ends >= since),
        ),
    )
    deployment = table_of(DeploymentFact).c
    deployments = fetch_plain(
        session,
        select(
            _coalesce(deployment.value_stream_id),
            deployment.finished_at,
            deployment.is_production,
            deployment.succeeded,
            deployment.failed,
            deployment.recovery_s,
            deployment.is_rework,
        ).where(
            deployment.is_production.is_(True),
            deployment.finished_at >= since,
            deployment.finished_at < until,
        ),
    )
    change = table_of(ChangeFact).c
    changes = fetch_plain(
        session,
        select(_coalesce(change.value_stream_id), change.deployed_at, change.lead_time_s).where(
            change.deployed_at >= since, change.deployed_at < until
        ),
    )
    stage_time = table_of(ItemStageTime).c
    stage_waiting: dict[str, dict[tuple[int, int], float]] = {}
    for label, window in (("current", period), ("previous", period.previous())):
        rows = fetch_plain(
            session,
            select(stage_time.value_stream_id, stage_time.stage_id, func.sum(stage_time.waiting_s))
            .where(
                stage_time.flow_item_type.in_(FLOW_TYPES),
                stage_time.done_at >= window.start_at,
                stage_time.done_at < window.end_at,
                stage_time.stage_id.is_not(None),
                stage_time.value_stream_id.is_not(None),
            )
            .group_by(stage_time.value_stream_id, stage_time.stage_id),
        )
        stage_waiting[label] = {(int(s), int(g)): float(w or 0) for s, g, w in rows}
    streams = tuple(
        (int(i), str(k), str(n))
        for i, k, n in session.execute(
            select(ValueStream.id, ValueStream.key, ValueStream.name).order_by(ValueStream.position)
        )
    )

    tables = {id(rows): _numeric(rows) for rows in (done, wip, deployments, changes)}

    def column(rows: list[tuple[Any, ...]], index: int, dtype: Any) -> Any:
        return tables[id(rows)][:, index].astype(dtype)

    # Work ends at done or canceled, whichever came first (NaN: still in progress).
    wip_end = np.fmin(column(wip, 2, np.float64), column(wip, 3, np.float64))
    return PortfolioFacts(
        streams=streams,
        stages=_stages(session, None),
        done_stream=column(done, 0, np.int64),
        done_at=column(done, 1, np.float64),
        flow_time_s=column(done, 2, np.float64),
        active_s=column(done, 3, np.float64),
        waiting_s=column(done, 4, np.float64),
        wip_stream=column(wip, 0, np.int64),
        wip_start=column(wip, 1, np.float64),
        wip_end=wip_end,
        deploy_stream=column(deployments, 0, np.int64),
        deploy_finished=column(deployments, 1, np.float64),
        deploy_production=column(deployments, 2, np.bool_),
        deploy_succeeded=column(deployments, 3, np.bool_),
        deploy_failed=column(deployments, 4, np.bool_),
        deploy_recovery_s=column(deployments, 5, np.float64),
        deploy_rework=column(deployments, 6, np.bool_),
        change_stream=column(changes, 0, np.int64),
        change_deployed=column(changes, 1, np.float64),
        change_lead_s=column(changes, 2, np.float64),
        stage_waiting=stage_waiting,
    )
