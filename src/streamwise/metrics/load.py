"""The one place metrics read the store: facts for a selection and a time window.

Everything else in ``metrics/`` is pure. Columns come back as plain numbers (fact tables keep
epoch seconds) and are turned into NumPy arrays column by column, with SQL doing the
filtering, so loading a two-year stream stays well under a second.
"""

from dataclasses import dataclass
from operator import itemgetter
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, and_, func, or_, select
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
    DeploymentFact,
    ItemFact,
    Stage,
    StreamDayDeployments,
    StreamDayItems,
    Team,
    ValueStream,
)
from streamwise.model.packed import (
    CHANGE,
    DONE_ITEM,
    DONE_STAGE_WAITING,
    INTERVAL,
    LEAD_TIME,
    PRODUCTION_DEPLOYMENT,
    SECONDS_PER_DAY,
    STAGE_TIME,
    STARTED_ITEM,
    state_names,
    unpack,
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


def _columns(rows: list[tuple[Any, ...]], target: type[Columns]) -> Any:
    """Rows (their first columns in the order of ``target``'s fields) → column arrays."""
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


def _field(records: Any, name: str, dtype: Any) -> Any:
    """One field of a packed record array as its own contiguous array."""
    return np.ascontiguousarray(records[name], dtype=dtype)


def _unpacked_intervals(items: ItemFacts, blobs: list[bytes | None]) -> StageIntervals:
    records, owner = unpack(blobs, INTERVAL)
    return StageIntervals(
        item_id=items.item_id[owner],
        value_stream_id=items.value_stream_id[owner],
        stage_id=_field(records, "stage_id", np.int64),
        flow_state=state_names(records["flow_state"]),
        blocked=_field(records, "blocked", np.bool_),
        entered_at=_field(records, "entered_at", np.float64),
        left_at=_field(records, "left_at", np.float64),
    )


def _unpacked_stage_times(items: ItemFacts, blobs: list[bytes | None]) -> StageTimes:
    records, owner = unpack(blobs, STAGE_TIME)
    return StageTimes(
        item_id=items.item_id[owner],
        value_stream_id=items.value_stream_id[owner],
        stage_id=_field(records, "stage_id", np.int64),
        active_s=_field(records, "active_s", np.float64),
        waiting_s=_field(records, "waiting_s", np.float64),
        entries=_field(records, "entries", np.int64),
        sent_back_into=_field(records, "sent_back_into", np.int64),
    )


def _unpacked_changes(deployments: DeploymentFacts, blobs: list[bytes | None]) -> ChangeFacts:
    records, owner = unpack(blobs, CHANGE)
    return ChangeFacts(
        deployment_id=deployments.deployment_id[owner],
        value_stream_id=deployments.value_stream_id[owner],
        service=deployments.service[owner],
        commit_id=_field(records, "commit_id", np.int64),
        pull_request_id=_field(records, "pull_request_id", np.int64),
        committed_at=_field(records, "committed_at", np.float64),
        deployed_at=deployments.finished_at[owner],
        lead_time_s=_field(records, "lead_time_s", np.float64),
        coding_s=_field(records, "coding_s", np.float64),
        pickup_s=_field(records, "pickup_s", np.float64),
        review_s=_field(records, "review_s", np.float64),
        deploy_s=_field(records, "deploy_s", np.float64),
    )


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
        item.packed_intervals,
        item.packed_stage_times,
    )
    if item_filter is not None:
        item_query = item_query.where(item_filter)
    # Sorting here is cheaper than making the database sort rows that carry blobs.
    rows = sorted(fetch_plain(session, item_query), key=itemgetter(0))
    items: ItemFacts = _columns(rows, ItemFacts)
    # Intervals and stage times come packed on the item rows (model/packed.py): the selected
    # items' rows, and of the intervals those that overlap the window.
    intervals = _unpacked_intervals(items, [row[15] for row in rows])
    with np.errstate(invalid="ignore"):
        overlapping = np.ones(len(intervals), dtype=np.bool_)
        if until is not None:
            overlapping &= intervals.entered_at < until
        if since is not None:
            overlapping &= np.isnan(intervals.left_at) | (intervals.left_at >= since)
    if not overlapping.all():
        intervals = intervals.select(overlapping)
    stage_times = _unpacked_stage_times(items, [row[16] for row in rows])

    deployments, changes = _delivery(session, filters, stream_id, since, until)
    stages = _stages(session, stream_id)
    return FactSet(items, intervals, stage_times, deployments, changes, stages)


def _delivery(
    session: Session,
    filters: Filters,
    stream_id: int | None,
    since: float | None,
    until: float | None,
) -> tuple[DeploymentFacts, ChangeFacts]:
    """Deployments finished in the window, and the changes they shipped (packed on them)."""
    deployment = table_of(DeploymentFact).c
    conditions: list[ColumnElement[bool]] = []
    if stream_id is not None:
        conditions.append(deployment.value_stream_id == stream_id)
    if filters.service:
        conditions.append(deployment.service == filters.service)
    if filters.environment:
        conditions.append(deployment.environment == filters.environment)
    if since is not None:
        conditions.append(deployment.finished_at >= since)
    if until is not None:
        conditions.append(deployment.finished_at < until)
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
        deployment.packed_changes,
    ).where(*conditions)
    rows = sorted(fetch_plain(session, deployment_query), key=itemgetter(0))
    deployments: DeploymentFacts = _columns(rows, DeploymentFacts)
    return deployments, _unpacked_changes(deployments, [row[12] for row in rows])


def _stages(session: Session, stream_id: int | None) -> tuple[StageInfo, ...]:
    query = select(Stage).order_by(Stage.value_stream_id, Stage.position)
    if stream_id is not None:
        query = query.where(Stage.value_stream_id == stream_id)
    return tuple(
        StageInfo(s.id, s.value_stream_id, s.position, s.name, s.flow_state, s.value_adding)
        for s in session.scalars(query)
    )


def _waiting_by_stage(streams: Any, stage_ids: Any, waiting_s: Any) -> dict[tuple[int, int], float]:
    """Waiting seconds summed per (stream, stage)."""
    if not len(stage_ids):
        return {}
    keys, position = np.unique(streams * _STAGE_KEYS + stage_ids, return_inverse=True)
    sums = np.bincount(position, weights=waiting_s)
    return {
        (int(key // _STAGE_KEYS), int(key % _STAGE_KEYS)): float(total)
        for key, total in zip(keys.tolist(), sums.tolist(), strict=True)
    }


_STAGE_KEYS = 1 << 32  # (stream, stage) pairs as one integer: stream * 2**32 + stage


def _unpack_days(rows: list[tuple[Any, ...]], column: int, dtype: Any) -> tuple[Any, Any]:
    """One packed column of roll-up rows → (records, stream id of each record)."""
    records, owner = unpack([row[column] for row in rows], dtype)
    streams = np.array([row[0] for row in rows], dtype=np.int64)
    return records, streams[owner]


def load_portfolio(session: Session, period: Period) -> PortfolioFacts:
    """What the portfolio needs for ``period`` and the one before it, from the per-stream,
    per-day roll-ups (derive/rollups.py): every record keeps its moment, so the window's
    edges are applied exactly, here, and only the day rows near it are read."""
    previous = period.previous()
    since, until = previous.start_at, period.end_at
    first_day, last_day = int(since // SECONDS_PER_DAY), int(until // SECONDS_PER_DAY)
    days = table_of(StreamDayItems).c
    # Work in progress in the window may have started on any day before it.
    item_rows = fetch_plain(
        session,
        select(
            days.value_stream_id,
            days.day,
            days.done_items,
            days.done_stage_waiting,
            days.started_items,
        ).where(days.day <= last_day),
    )
    in_window = [row for row in item_rows if row[1] >= first_day]
    done, done_stream = _unpack_days(in_window, 2, DONE_ITEM)
    waiting, waiting_stream = _unpack_days(in_window, 3, DONE_STAGE_WAITING)
    started, started_stream = _unpack_days(item_rows, 4, STARTED_ITEM)

    done_at = _field(done, "done_at", np.float64)
    kept = (done_at >= since) & (done_at < until)
    start_at = _field(started, "started_at", np.float64)
    ended_at = _field(started, "ended_at", np.float64)  # NaN: still in progress
    with np.errstate(invalid="ignore"):
        in_progress = (start_at < until) & (np.isnan(ended_at) | (ended_at >= since))
    stage_waiting = {}
    for label, window in (("current", period), ("previous", previous)):
        chosen = (waiting["done_at"] >= window.start_at) & (waiting["done_at"] < window.end_at)
        stage_waiting[label] = _waiting_by_stage(
            waiting_stream[chosen],
            waiting["stage_id"][chosen].astype(np.int64),
            waiting["waiting_s"][chosen],
        )

    delivery = table_of(StreamDayDeployments).c
    deployment_rows = fetch_plain(
        session,
        select(
            delivery.value_stream_id, delivery.day, delivery.deployments, delivery.lead_times
        ).where(delivery.day >= first_day, delivery.day <= last_day),
    )
    deployments, deploy_stream = _unpack_days(deployment_rows, 2, PRODUCTION_DEPLOYMENT)
    finished = _field(deployments, "finished_at", np.float64)
    shipped = (finished >= since) & (finished < until)
    leads, lead_stream = _unpack_days(deployment_rows, 3, LEAD_TIME)
    deployed = _field(leads, "deployed_at", np.float64)
    lead_kept = (deployed >= since) & (deployed < until)

    streams = tuple(
        (int(i), str(k), str(n))
        for i, k, n in session.execute(
            select(ValueStream.id, ValueStream.key, ValueStream.name).order_by(ValueStream.position)
        )
    )
    return PortfolioFacts(
        streams=streams,
        stages=_stages(session, None),
        done_stream=done_stream[kept],
        done_at=done_at[kept],
        flow_time_s=_field(done, "flow_time_s", np.float64)[kept],
        active_s=_field(done, "active_s", np.float64)[kept],
        waiting_s=_field(done, "waiting_s", np.float64)[kept],
        wip_stream=started_stream[in_progress],
        wip_start=start_at[in_progress],
        wip_end=ended_at[in_progress],
        deploy_stream=deploy_stream[shipped],
        deploy_finished=finished[shipped],
        deploy_production=np.ones(int(shipped.sum()), dtype=np.bool_),
        deploy_succeeded=deployments["succeeded"][shipped].astype(np.bool_),
        deploy_failed=deployments["failed"][shipped].astype(np.bool_),
        deploy_recovery_s=_field(deployments, "recovery_s", np.float64)[shipped],
        deploy_rework=deployments["is_rework"][shipped].astype(np.bool_),
        change_stream=lead_stream[lead_kept],
        change_deployed=deployed[lead_kept],
        change_lead_s=_field(leads, "lead_time_s", np.float64)[lead_kept],
        stage_waiting=stage_waiting,
    )
