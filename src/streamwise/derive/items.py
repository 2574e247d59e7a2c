"""Recompute item facts, stage intervals and stage times for a set of work items."""

from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime
from typing import Any, overload

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from streamwise.derive.timeline import Step, derive_timeline
from streamwise.model import ItemFact, ItemStageTime, Stage, StageInterval, Transition, WorkItem
from streamwise.model.packed import pack_intervals, pack_stage_times
from streamwise.progress import NoProgress, ProgressSink
from streamwise.store.bulk import as_utc, chunks, fetch_plain, insert_plain, table_of

BATCH = 2000


@overload
def epoch(moment: datetime) -> float: ...
@overload
def epoch(moment: None) -> None: ...
@overload
def epoch(moment: datetime | None) -> float | None: ...
def epoch(moment: datetime | None) -> float | None:
    """Fact tables keep moments as epoch seconds (see model/facts.py)."""
    return None if moment is None else moment.timestamp()


TASK = "derive items"


def _stage_positions(session: Session) -> dict[int, int]:
    return dict(session.execute(select(Stage.id, Stage.position)).all())


def _derive_batch(
    session: Session, item_ids: list[int], positions: dict[int, int], fresh: bool = False
) -> int:
    """Derive one batch; ``fresh`` means the fact tables were just emptied (skip deletes)."""
    item = table_of(WorkItem).c
    items = [
        (*row[:6], as_utc(row[6]), as_utc(row[7]), as_utc(row[8]), bool(row[9]))
        for row in fetch_plain(
            session,
            select(
                item.id,
                item.value_stream_id,
                item.team_id,
                item.flow_item_type,
                item.stage_id,
                item.flow_state,
                item.created_at,
                item.work_started_at,
                item.done_at,
                item.first_seen_mid_flow,
            ).where(item.id.in_(item_ids)),
        )
    ]
    transition = table_of(Transition).c
    steps: dict[int, list[Step]] = defaultdict(list)
    for row in fetch_plain(
        session,
        select(
            transition.work_item_id,
            transition.at,
            transition.kind,
            transition.from_stage_id,
            transition.to_stage_id,
            transition.from_flow_state,
            transition.to_flow_state,
        )
        .where(transition.work_item_id.in_(item_ids))
        .order_by(transition.work_item_id, transition.at, transition.id),
    ):
        at = as_utc(row[1])
        assert at is not None
        steps[row[0]].append(Step(at, row[2], row[3], row[4], row[5], row[6]))

    if not fresh:
        for model in (StageInterval, ItemStageTime, ItemFact):
            table = table_of(model)
            session.execute(delete(table).where(table.c.work_item_id.in_(item_ids)))

    facts: list[dict[str, Any]] = []
    intervals: list[dict[str, Any]] = []
    stage_times: list[dict[str, Any]] = []
    for (
        item_id,
        stream_id,
        team_id,
        flow_item_type,
        stage_id,
        flow_state,
        created_at,
        started_at,
        done_at,
        mid_flow,
    ) in items:
        timeline = derive_timeline(
            created_at, stage_id, flow_state, started_at, done_at, steps.get(item_id, []), positions
        )
        item_intervals = [
            {
                "work_item_id": item_id,
                "value_stream_id": stream_id,
                "stage_id": interval.stage,
                "flow_state": interval.state,
                "blocked": interval.blocked,
                "entered_at": epoch(interval.entered_at),
                "left_at": epoch(interval.left_at),
            }
            for interval in timeline.intervals
        ]
        item_stage_times = [
            {
                "work_item_id": item_id,
                "value_stream_id": stream_id,
                "stage_id": stage,
                "active_s": times.active_s,
                "waiting_s": times.waiting_s,
                "entries": times.entries,
                "sent_back_into": times.sent_back_into,
                "done_at": epoch(done_at),
                "flow_item_type": flow_item_type,
            }
            for stage, times in timeline.stage_times.items()
        ]
        facts.append(
            {
                "work_item_id": item_id,
                "value_stream_id": stream_id,
                "team_id": team_id,
                "flow_item_type": flow_item_type,
                "stage_id": stage_id,
                "flow_state": flow_state,
                "created_at": epoch(created_at),
                "work_started_at": epoch(started_at),
                "done_at": epoch(done_at),
                "canceled_at": epoch(timeline.canceled_at),
                "flow_time_s": timeline.flow_time_s,
                "active_time_s": timeline.active_s,
                "waiting_time_s": timeline.waiting_s,
                "send_backs": timeline.send_backs,
                "first_seen_mid_flow": mid_flow,
                "packed_intervals": pack_intervals(item_intervals),
                "packed_stage_times": pack_stage_times(item_stage_times),
            }
        )
        intervals.extend(item_intervals)
        stage_times.extend(item_stage_times)
    insert_plain(session, ItemFact, facts)
    insert_plain(session, StageInterval, intervals)
    insert_plain(session, ItemStageTime, stage_times)
    return len(facts)


def derive_items(
    session: Session,
    item_ids: Iterable[int] | None = None,
    progress: ProgressSink | None = None,
    fresh: bool = False,
) -> int:
    """Recompute the facts of ``item_ids`` (all work items when None); returns how many.
    ``fresh``: the fact tables are known to be empty, so nothing needs deleting first."""
    progress = progress or NoProgress()
    positions = _stage_positions(session)
    if item_ids is None:
        ids = list(session.scalars(select(WorkItem.id).order_by(WorkItem.id)))
    else:
        ids = sorted(set(item_ids))
    progress.start(TASK, len(ids))
    done = 0
    for batch in chunks(ids, BATCH):
        done += _derive_batch(session, list(batch), positions, fresh)
        progress.advance(TASK, len(batch))
    return done


def items_without_facts(session: Session) -> list[int]:
    """Work items that have never been derived (e.g. loaded before facts existed)."""
    query = (
        select(WorkItem.id)
        .outerjoin(ItemFact, ItemFact.work_item_id == WorkItem.id)
        .where(ItemFact.work_item_id.is_(None))
    )
    return list(session.scalars(query))


def clear_item_facts(session: Session) -> None:
    for model in (StageInterval, ItemStageTime, ItemFact):
        session.execute(delete(table_of(model)))
