"""Recompute item facts, stage intervals and stage times for a set of work items.

Hundreds of thousands of items pass through here on a full derive, so the per-row work is
kept small: moments arrive from the database as integer microseconds (``epoch_micros``),
rows are built as tuples in column order, and each batch is packed with one NumPy array.
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from sqlalchemy import ColumnElement, delete, select
from sqlalchemy.orm import Session

from streamwise.derive.timeline import MICROS, Step, derive_timeline
from streamwise.model import ItemFact, ItemStageTime, Stage, StageInterval, Transition, WorkItem
from streamwise.model.packed import SECONDS_PER_DAY, pack_intervals, pack_stage_times
from streamwise.progress import NoProgress, ProgressSink
from streamwise.store.bulk import (
    chunks,
    cyclic_gc_paused,
    empty_tables,
    epoch_micros,
    fetch_plain,
    indexes_set_aside,
    insert_tuples,
    table_of,
)

BATCH = 2000
FACT_TABLES = (StageInterval, ItemStageTime, ItemFact)

ITEM_FACT_COLUMNS = (
    "work_item_id",
    "value_stream_id",
    "team_id",
    "flow_item_type",
    "stage_id",
    "flow_state",
    "created_at",
    "work_started_at",
    "done_at",
    "canceled_at",
    "flow_time_s",
    "active_time_s",
    "waiting_time_s",
    "send_backs",
    "first_seen_mid_flow",
    "packed_intervals",
    "packed_stage_times",
    "done_day",
    "started_day",
)
INTERVAL_COLUMNS = (
    "work_item_id",
    "value_stream_id",
    "stage_id",
    "flow_state",
    "blocked",
    "entered_at",
    "left_at",
)
STAGE_TIME_COLUMNS = (
    "work_item_id",
    "value_stream_id",
    "stage_id",
    "active_s",
    "waiting_s",
    "entries",
    "sent_back_into",
    "done_at",
    "flow_item_type",
)


def utc_day_of(moment: float | None) -> int | None:
    """The roll-up day of an epoch moment (derive/rollups.py groups items by it)."""
    return None if moment is None else int(moment // SECONDS_PER_DAY)


def _seconds(micros: int | None) -> float | None:
    """Epoch microseconds → the epoch seconds fact tables keep (model/facts.py); the same
    float ``datetime.timestamp()`` gives for that moment."""
    return None if micros is None else micros / MICROS


TASK = "derive items"


def _stage_positions(session: Session) -> dict[int, int]:
    return dict(session.execute(select(Stage.id, Stage.position)).all())


def _derive_batch(
    session: Session,
    item_ids: Sequence[int],
    positions: dict[int, int],
    fresh: bool = False,
    whole_range: bool = False,
) -> int:
    """Derive one batch; ``fresh`` means the fact tables were just emptied (skip deletes).
    ``whole_range``: the batch is every work item from its first id to its last, so a range
    condition selects it (cheaper than thousands of IN (…) values)."""
    item = table_of(WorkItem).c
    transition = table_of(Transition).c
    first, last = item_ids[0], item_ids[-1]
    item_filter: ColumnElement[bool]
    step_filter: ColumnElement[bool]
    if whole_range:
        item_filter = item.id.between(first, last)
        step_filter = transition.work_item_id.between(first, last)
    else:
        item_filter = item.id.in_(item_ids)
        step_filter = transition.work_item_id.in_(item_ids)
    items = fetch_plain(
        session,
        select(
            item.id,
            item.value_stream_id,
            item.team_id,
            item.flow_item_type,
            item.stage_id,
            item.flow_state,
            epoch_micros(item.created_at),
            epoch_micros(item.work_started_at),
            epoch_micros(item.done_at),
            item.first_seen_mid_flow,
        ).where(item_filter),
    )
    steps: defaultdict[int, list[Step[int]]] = defaultdict(list)
    new = tuple.__new__  # Step._make without its Python-level checks: 2 M steps per derive
    for row in fetch_plain(
        session,
        select(
            transition.work_item_id,
            epoch_micros(transition.at),
            transition.kind,
            transition.from_stage_id,
            transition.to_stage_id,
            transition.from_flow_state,
            transition.to_flow_state,
        )
        .where(step_filter)
        .order_by(transition.work_item_id, transition.at, transition.id),
    ):
        steps[row[0]].append(new(Step, row[1:]))

    if not fresh:
        for model in FACT_TABLES:
            table = table_of(model)
            column = table.c.work_item_id
            session.execute(
                delete(table).where(
                    column.between(first, last) if whole_range else column.in_(item_ids)
                )
            )

    facts: list[tuple[Any, ...]] = []
    intervals: list[tuple[Any, ...]] = []
    stage_times: list[tuple[Any, ...]] = []
    interval_counts: list[int] = []
    stage_time_counts: list[int] = []
    no_steps: list[Step[int]] = []
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
            created_at,
            stage_id,
            flow_state,
            started_at,
            done_at,
            steps.get(item_id, no_steps),
            positions,
        )
        intervals.extend(
            [
                (
                    item_id,
                    stream_id,
                    stage,
                    state,
                    blocked,
                    entered / MICROS,
                    None if left is None else left / MICROS,
                )
                for stage, state, blocked, entered, left in timeline.intervals
            ]
        )
        interval_counts.append(len(timeline.intervals))
        done_s = _seconds(done_at)
        stage_times.extend(
            [
                (
                    item_id,
                    stream_id,
                    stage,
                    times.active_s,
                    times.waiting_s,
                    times.entries,
                    times.sent_back_into,
                    done_s,
                    flow_item_type,
                )
                for stage, times in timeline.stage_times.items()
            ]
        )
        stage_time_counts.append(len(timeline.stage_times))
        facts.append(
            (
                item_id,
                stream_id,
                team_id,
                flow_item_type,
                stage_id,
                flow_state,
                created_at / MICROS,
                _seconds(started_at),
                done_s,
                _seconds(timeline.canceled_at),
                timeline.flow_time_s,
                timeline.active_s,
                timeline.waiting_s,
                timeline.send_backs,
                bool(mid_flow),
            )
        )

    packed_intervals = pack_intervals(columns(intervals, INTERVAL_COLUMNS), interval_counts)
    packed_times = pack_stage_times(columns(stage_times, STAGE_TIME_COLUMNS), stage_time_counts)
    rows = [
        (*fact, blob, times, utc_day_of(fact[8]), utc_day_of(fact[7]))  # done, started
        for fact, blob, times in zip(facts, packed_intervals, packed_times, strict=True)
    ]
    insert_tuples(session, ItemFact, ITEM_FACT_COLUMNS, rows)
    insert_tuples(session, StageInterval, INTERVAL_COLUMNS, intervals)
    insert_tuples(session, ItemStageTime, STAGE_TIME_COLUMNS, stage_times)
    return len(rows)


def columns(rows: Sequence[tuple[Any, ...]], names: Sequence[str]) -> dict[str, Sequence[Any]]:
    """Tuple rows → one sequence per column name (what the packers take)."""
    if not rows:
        return {name: () for name in names}
    return dict(zip(names, zip(*rows, strict=True), strict=True))


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
    # Fresh tables are written whole: their indexes are cheaper to build once at the end.
    tables = FACT_TABLES if fresh else ()
    with cyclic_gc_paused(), indexes_set_aside(session, tables):
        for batch in chunks(ids, BATCH):
            done += _derive_batch(session, batch, positions, fresh, whole_range=item_ids is None)
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
    """Empty the item fact tables (without their indexes meanwhile: deleting millions of
    rows one by one, as SQLite does under foreign keys, costs less without them)."""
    with indexes_set_aside(session, FACT_TABLES):
        empty_tables(session, FACT_TABLES)
