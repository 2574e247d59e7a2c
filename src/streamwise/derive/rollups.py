"""Per-stream, per-day roll-ups of the item and deployment facts, for the portfolio.

The portfolio needs four years of every stream at once. Read item by item that is hundreds
of thousands of rows; grouped by (stream, UTC day) with each record packed, it is tens of
thousands. Records keep their exact moments, so the reader filters by the period's real
edges and the results are the same as from the fact rows themselves (tested).

Derive keeps them current by difference: the records of the items (or services) it is about
to derive are taken out of their days and the records of the new facts put in, so a thousand
changed items cost a thousand items' records, not every item done on the hundreds of days they
touch. Records within a day are kept in one canonical order (by every field), so a roll-up
kept current this way is byte for byte the one a rebuild from the fact tables writes (tested);
a day whose stored records do not hold what is to be taken out is rebuilt from the facts.
"""

from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Select, and_, delete, or_, select, tuple_
from sqlalchemy.orm import Session

from streamwise.model import DeploymentFact, ItemFact, StreamDayDeployments, StreamDayItems
from streamwise.model.base import FLOW_ITEM_TYPES
from streamwise.model.packed import (
    CHANGE,
    DONE_ITEM,
    DONE_STAGE_WAITING,
    LEAD_TIME,
    PRODUCTION_DEPLOYMENT,
    SECONDS_PER_DAY,
    STAGE_TIME,
    STARTED_ITEM,
    unpack,
    utc_day,
)
from streamwise.store.bulk import chunks, fetch_plain, insert_plain, table_of

Key = tuple[int, int]  # (value stream id, UTC day)
_DAYS_PER_QUERY = 500
_RANGES_PER_QUERY = 20  # PostgreSQL plans long OR lists slowly


def _selections(
    keys: Iterable[Key] | None, stream_column: Any, day_column: Any
) -> list[ColumnElement[bool] | None]:
    """SQL conditions covering the days of ``keys`` (one condition per query; None: all).

    Days are matched on stored, indexed day numbers: a thousand changed items touch hundreds
    of scattered days, and an ``IN`` list on an index plans and runs far faster than hundreds
    of OR'ed time ranges (measured on PostgreSQL: 55 ms for 200 ranges).
    """
    if keys is None:
        return [None]
    by_stream: dict[int, set[int]] = defaultdict(set)
    for stream_id, day in keys:
        by_stream[stream_id].add(day)
    return [
        and_(stream_column == stream_id, day_column.in_(list(batch)))
        for stream_id, days in sorted(by_stream.items())
        for batch in chunks(sorted(days), _DAYS_PER_QUERY)
    ]


def _day_ranges(days: Iterable[int]) -> list[tuple[float, float]]:
    """Days → [start, end) epoch ranges, neighbouring days merged."""
    ranges: list[tuple[float, float]] = []
    for day in sorted(set(days)):
        start, end = float(day * SECONDS_PER_DAY), float((day + 1) * SECONDS_PER_DAY)
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return ranges


def _range_selections(
    keys: Iterable[Key] | None, stream_column: Any, moment: Any
) -> list[ColumnElement[bool] | None]:
    """Like :func:`_selections` for tables without day numbers: a service's deployments fall
    on runs of neighbouring days, which merge into a few time ranges."""
    if keys is None:
        return [None]
    by_stream: dict[int, set[int]] = defaultdict(set)
    for stream_id, day in keys:
        by_stream[stream_id].add(day)
    return [
        and_(
            stream_column == stream_id, or_(*(and_(moment >= lo, moment < hi) for lo, hi in batch))
        )
        for stream_id, days in sorted(by_stream.items())
        for batch in chunks(_day_ranges(days), _RANGES_PER_QUERY)
    ]


def _canonical_keys(records: Any) -> list[Any]:
    """np.lexsort keys ordering records by every field, the first (their moment) first."""
    return [records[name] for name in reversed(records.dtype.names)]


def _canonical(records: Any) -> Any:
    return records[np.lexsort(_canonical_keys(records))] if len(records) > 1 else records


def _grouped(streams: Any, moments: Any, records: Any, out: dict[Key, list[Any]]) -> None:
    """Append each record to its (stream, UTC day) group, in canonical order in the group."""
    if not len(records):
        return
    days = utc_day(moments)
    order = np.lexsort((*_canonical_keys(records), days, streams))
    streams, days, records = streams[order], days[order], records[order]
    edges = np.flatnonzero((np.diff(streams) != 0) | (np.diff(days) != 0)) + 1
    starts = np.concatenate(([0], edges))
    ends = np.concatenate((edges, [len(records)]))
    for start, end in zip(starts.tolist(), ends.tolist(), strict=True):
        out[(int(streams[start]), int(days[start]))].append(records[start:end])


Parts = tuple[Any, ...]
"""One (stream, day)'s record arrays, in the order of the roll-up table's packed columns."""
ITEM_PARTS = (DONE_ITEM, DONE_STAGE_WAITING, STARTED_ITEM)
DEPLOYMENT_PARTS = (PRODUCTION_DEPLOYMENT, LEAD_TIME)


def _parts(groups: Sequence[dict[Key, list[Any]]], dtypes: Sequence[Any]) -> dict[Key, Parts]:
    every = set().union(*groups)
    return {
        key: tuple(
            np.concatenate(group[key]) if group.get(key) else np.empty(0, dtype)
            for group, dtype in zip(groups, dtypes, strict=True)
        )
        for key in every
    }


def _item_parts(session: Session, keys: Iterable[Key] | None) -> dict[Key, Parts]:
    """The records of every (stream, day) of ``keys`` (None: every one there is)."""
    item = table_of(ItemFact).c
    key_list = None if keys is None else list(keys)
    return _item_records(
        session,
        _selections(key_list, item.value_stream_id, item.done_day),
        _selections(key_list, item.value_stream_id, item.started_day),
    )


def item_records(session: Session, item_ids: Iterable[int]) -> dict[Key, Parts]:
    """The roll-up records the current facts of ``item_ids`` contribute, by (stream, day)."""
    item = table_of(ItemFact).c
    conditions: list[ColumnElement[bool] | None] = [
        item.work_item_id.in_(list(batch)) for batch in chunks(sorted(set(item_ids)), 900)
    ]
    return _item_records(session, conditions, conditions) if conditions else {}


def _item_records(
    session: Session,
    done_conditions: Sequence[ColumnElement[bool] | None],
    started_conditions: Sequence[ColumnElement[bool] | None],
) -> dict[Key, Parts]:
    item = table_of(ItemFact).c
    flow_item = and_(item.value_stream_id.is_not(None), item.flow_item_type.in_(FLOW_ITEM_TYPES))
    done_groups: dict[Key, list[Any]] = defaultdict(list)
    waiting_groups: dict[Key, list[Any]] = defaultdict(list)
    started_groups: dict[Key, list[Any]] = defaultdict(list)

    for condition in done_conditions:
        query = select(
            item.value_stream_id,
            item.done_at,
            item.flow_time_s,
            item.active_time_s,
            item.waiting_time_s,
            item.packed_stage_times,
        ).where(flow_item, item.done_at.is_not(None))
        rows = fetch_plain(session, query if condition is None else query.where(condition))
        if not rows:
            continue
        table = np.array([row[:5] for row in rows], dtype=np.float64)
        streams, done_at = table[:, 0].astype(np.int64), table[:, 1]
        done = np.empty(len(rows), dtype=DONE_ITEM)
        done["done_at"], done["flow_time_s"] = done_at, table[:, 2]
        done["active_s"], done["waiting_s"] = table[:, 3], table[:, 4]
        _grouped(streams, done_at, done, done_groups)

        stage_times, owner = unpack([row[5] for row in rows], STAGE_TIME)
        kept = (stage_times["stage_id"] >= 0) & (stage_times["waiting_s"] != 0)
        waiting = np.empty(int(kept.sum()), dtype=DONE_STAGE_WAITING)
        waiting["done_at"] = done_at[owner[kept]]
        waiting["stage_id"] = stage_times["stage_id"][kept]
        waiting["waiting_s"] = stage_times["waiting_s"][kept]
        _grouped(streams[owner[kept]], waiting["done_at"], waiting, waiting_groups)

    for condition in started_conditions:
        started_query: Select[Any] = select(
            item.value_stream_id, item.work_started_at, item.done_at, item.canceled_at
        ).where(flow_item, item.work_started_at.is_not(None))
        if condition is not None:
            started_query = started_query.where(condition)
        started_rows = fetch_plain(session, started_query)
        if not started_rows:
            continue
        table = np.array(started_rows, dtype=np.float64)
        started = np.empty(len(started_rows), dtype=STARTED_ITEM)
        started["started_at"] = table[:, 1]
        started["ended_at"] = np.fmin(table[:, 2], table[:, 3])  # done or canceled, first
        _grouped(table[:, 0].astype(np.int64), table[:, 1], started, started_groups)

    # A day exists when an item was done or started on it; waiting records come with done ones.
    parts = _parts((done_groups, waiting_groups, started_groups), ITEM_PARTS)
    return {key: value for key, value in parts.items() if len(value[0]) or len(value[2])}


def _deployment_parts(session: Session, keys: Iterable[Key] | None) -> dict[Key, Parts]:
    deployment = table_of(DeploymentFact).c
    key_list = None if keys is None else list(keys)
    return _deployment_records(
        session, _range_selections(key_list, deployment.value_stream_id, deployment.finished_at)
    )


def deployment_records(
    session: Session, services: Iterable[str], deployment_ids: Iterable[int] = ()
) -> dict[Key, Parts]:
    """The roll-up records the current deployment facts of ``services`` and of
    ``deployment_ids`` (of other services) contribute."""
    deployment = table_of(DeploymentFact).c
    conditions: list[ColumnElement[bool] | None] = [
        deployment.service.in_(list(batch)) for batch in chunks(sorted(set(services)), 900)
    ]
    conditions += [
        deployment.deployment_id.in_(list(batch))
        for batch in chunks(sorted(set(deployment_ids)), 900)
    ]
    return _deployment_records(session, conditions) if conditions else {}


def _deployment_records(
    session: Session, conditions: Sequence[ColumnElement[bool] | None]
) -> dict[Key, Parts]:
    deployment = table_of(DeploymentFact).c
    deployment_groups: dict[Key, list[Any]] = defaultdict(list)
    lead_groups: dict[Key, list[Any]] = defaultdict(list)
    for condition in conditions:
        query = select(
            deployment.value_stream_id,
            deployment.finished_at,
            deployment.succeeded,
            deployment.failed,
            deployment.is_rework,
            deployment.recovery_s,
            deployment.packed_changes,
        ).where(deployment.value_stream_id.is_not(None), deployment.is_production.is_(True))
        rows = fetch_plain(session, query if condition is None else query.where(condition))
        if not rows:
            continue
        table = np.array([row[:6] for row in rows], dtype=np.float64)
        streams, finished = table[:, 0].astype(np.int64), table[:, 1]
        records = np.empty(len(rows), dtype=PRODUCTION_DEPLOYMENT)
        records["finished_at"] = finished
        records["succeeded"], records["failed"] = table[:, 2], table[:, 3]
        records["is_rework"], records["recovery_s"] = table[:, 4], table[:, 5]
        _grouped(streams, finished, records, deployment_groups)

        changes, owner = unpack([row[6] for row in rows], CHANGE)
        leads = np.empty(len(changes), dtype=LEAD_TIME)
        leads["deployed_at"] = finished[owner]
        leads["lead_time_s"] = changes["lead_time_s"]
        _grouped(streams[owner], leads["deployed_at"], leads, lead_groups)
    return _parts((deployment_groups, lead_groups), DEPLOYMENT_PARTS)


def _replace(session: Session, model: Any, keys: Sequence[Key] | None, rows: list[Any]) -> None:
    table = table_of(model)
    if keys is None:
        session.execute(delete(table))
    else:
        for batch in chunks(sorted(keys), 500):
            session.execute(
                delete(table).where(tuple_(table.c.value_stream_id, table.c.day).in_(list(batch)))
            )
    insert_plain(session, model, rows)


def _only(parts: dict[Key, Any], wanted: Sequence[Key] | None) -> dict[Key, Any]:
    """Never write a day that was not asked for (it was not deleted first)."""
    if wanted is None:
        return parts
    asked = set(wanted)
    return {key: value for key, value in parts.items() if key in asked}


def refresh_item_days(session: Session, keys: Iterable[Key] | None = None) -> int:
    """Rebuild the item roll-ups of ``keys`` (None: all of them); returns rows written."""
    wanted = None if keys is None else sorted(set(keys))
    if wanted == []:
        return 0
    parts = _only(_item_parts(session, wanted), wanted)
    rows = [
        {
            "value_stream_id": stream_id,
            "day": day,
            "done_items": done,
            "done_stage_waiting": waiting,
            "started_items": started,
        }
        for (stream_id, day), (done, waiting, started) in _packed(parts)
    ]
    _replace(session, StreamDayItems, wanted, rows)
    return len(rows)


def refresh_deployment_days(session: Session, keys: Iterable[Key] | None = None) -> int:
    """Rebuild the deployment roll-ups of ``keys`` (None: all of them); returns rows written."""
    wanted = None if keys is None else sorted(set(keys))
    if wanted == []:
        return 0
    parts = _only(_deployment_parts(session, wanted), wanted)
    rows = [
        {"value_stream_id": stream_id, "day": day, "deployments": done, "lead_times": leads}
        for (stream_id, day), (done, leads) in _packed(parts)
    ]
    _replace(session, StreamDayDeployments, wanted, rows)
    return len(rows)


def _packed(parts: dict[Key, Parts]) -> list[tuple[Key, tuple[bytes, ...]]]:
    return [
        (key, tuple(array.tobytes() for array in value)) for key, value in sorted(parts.items())
    ]


def _without(stored: Any, taken: Any) -> Any | None:
    """``stored`` less one occurrence of each record of ``taken`` (compared byte for byte:
    both were computed the same way from the same facts), or None when one is missing."""
    if not len(taken):
        return stored
    void = np.dtype((np.void, stored.dtype.itemsize))
    wanted = Counter(taken.view(void).tolist())
    keep = np.ones(len(stored), dtype=bool)
    for index, record in enumerate(stored.view(void).tolist()):
        if wanted.get(record):
            wanted[record] -= 1
            keep[index] = False
    return None if +wanted else stored[keep]


def _apply_difference(
    session: Session,
    model: Any,
    dtypes: Sequence[Any],
    before: dict[Key, Parts],
    after: dict[Key, Parts],
    rebuild: Callable[[Session, Iterable[Key]], int],
) -> None:
    """Take ``before``'s records out of their days and put ``after``'s in."""
    keys = sorted(set(before) | set(after))
    if not keys:
        return
    table = table_of(model)
    columns = [column for column in table.c if column.name not in ("value_stream_id", "day")]
    stored: dict[Key, list[Any]] = {}
    for condition in _selections(keys, table.c.value_stream_id, table.c.day):
        assert condition is not None  # keys were given
        query = select(table.c.value_stream_id, table.c.day, *columns).where(condition)
        for stream_id, day, *blobs in fetch_plain(session, query):
            stored[(stream_id, day)] = [
                np.frombuffer(blob, dtype) for blob, dtype in zip(blobs, dtypes, strict=True)
            ]
    updated: dict[Key, Parts] = {}
    unsure: list[Key] = []
    for key in keys:
        old = before.get(key)
        current = stored.get(key) or [np.empty(0, dtype) for dtype in dtypes]
        parts = []
        for index, records in enumerate(current):
            kept = records if old is None else _without(records, old[index])
            if kept is None:
                break
            new = after.get(key)
            if new is not None and len(new[index]):
                kept = _canonical(np.concatenate((kept, new[index])))
            parts.append(kept)
        else:
            updated[key] = tuple(parts)
            continue
        unsure.append(key)
    # Days left empty by the difference have no row, as in a rebuild.
    written = {key: parts for key, parts in updated.items() if len(parts[0]) or len(parts[-1])}
    _replace(
        session,
        model,
        list(updated),
        [
            {"value_stream_id": stream_id, "day": day}
            | {column.name: blob for column, blob in zip(columns, blobs, strict=True)}
            for (stream_id, day), blobs in _packed(written)
        ],
    )
    if unsure:
        rebuild(session, unsure)


def update_item_days(session: Session, before: dict[Key, Parts], after: dict[Key, Parts]) -> None:
    """Swap items' old roll-up records (``item_records`` before derive) for their new ones."""
    _apply_difference(session, StreamDayItems, ITEM_PARTS, before, after, refresh_item_days)


def update_deployment_days(
    session: Session, before: dict[Key, Parts], after: dict[Key, Parts]
) -> None:
    """Swap services' old deployment roll-up records for their new ones."""
    _apply_difference(
        session, StreamDayDeployments, DEPLOYMENT_PARTS, before, after, refresh_deployment_days
    )
