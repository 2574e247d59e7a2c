"""Value stream map figures per process step and for the whole stream (docs/metrics-flow.md).

Stage times are MEANS over the items that entered the stage, not medians, so that the stages'
lead times add up to the stream's total lead time the way a lean value stream map adds them.
%C&A cannot be observed from tool data; we report a proxy: the share of items never sent back
into the stage from a later one.
"""

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from streamwise.metrics.facts import (
    BoolArray,
    FactSet,
    FloatArray,
    IntArray,
    ItemFacts,
    StageInfo,
    StageIntervals,
)
from streamwise.metrics.flow import day_ends, done_in, flow_items, in_progress_at
from streamwise.metrics.period import Period
from streamwise.metrics.stats import mean, median, ratio

PROCESS_STATES = ("active", "waiting")
_TABLE_LIMIT = 1_000_000


def ordered_stages(
    stages: Sequence[StageInfo], states: Sequence[str] | None = None
) -> list[StageInfo]:
    """Stages in flow order (``position``), optionally only those with one of ``states``."""
    chosen = [s for s in stages if states is None or s.flow_state in states]
    return sorted(chosen, key=lambda stage: (stage.position, stage.id))


def stage_codes(stage_column: IntArray, stage_ids: Sequence[int]) -> IntArray:
    """Index of each row's stage in ``stage_ids``; -1 for stages not listed (and -1 ids)."""
    codes = np.full(len(stage_column), -1, dtype=np.int64)
    if not stage_ids or not len(stage_column):
        return codes
    ids = np.asarray(stage_ids, dtype=np.int64)
    if ids.min() >= 0 and ids.max() < _TABLE_LIMIT:
        # database ids are small: a direct lookup table beats a binary search per row
        table = np.full(int(ids.max()) + 2, -1, dtype=np.int64)  # last slot catches -1
        table[ids] = np.arange(len(ids), dtype=np.int64)
        inside = (stage_column >= -1) & (stage_column <= ids.max())
        codes[inside] = table[stage_column[inside]]
        return codes
    order = np.argsort(ids, kind="stable")
    sorted_ids = ids[order]
    where = np.clip(np.searchsorted(sorted_ids, stage_column), 0, len(ids) - 1)
    found = sorted_ids[where] == stage_column
    codes[found] = order[where[found]]
    return codes


def rows_of(item_column: IntArray, item_ids: IntArray) -> BoolArray:
    """Rows whose item is one of ``item_ids``."""
    return np.isin(item_column, item_ids)


def open_ended(left_at: FloatArray) -> FloatArray:
    """Left times with NaN (still there) as +inf."""
    return np.where(np.isnan(left_at), np.inf, left_at)


def intervals_at(intervals: StageIntervals, moment: float) -> BoolArray:
    """Intervals containing ``moment``: ``entered_at <= moment < left_at`` (NaN left = open)."""
    with np.errstate(invalid="ignore"):
        return (intervals.entered_at <= moment) & (moment < open_ended(intervals.left_at))


def stage_occupancy(
    intervals: StageIntervals,
    stage_ids: Sequence[int],
    moments: FloatArray,
    rows: BoolArray | None = None,
) -> IntArray:
    """How many intervals (of ``rows``, default all) of each stage contain each moment.

    One sort of entry and exit times per stage and a binary search per moment: items x days
    never materialises, so two years of days over half a million intervals stays fast.
    """
    result = np.zeros((len(stage_ids), len(moments)), dtype=np.int64)
    codes = stage_codes(intervals.stage_id, stage_ids)
    entered = intervals.entered_at
    left = open_ended(intervals.left_at)
    with np.errstate(invalid="ignore"):
        usable = (codes >= 0) & np.isfinite(entered) & (left >= entered)
    if rows is not None:
        usable &= rows
    codes, entered, left = codes[usable], entered[usable], left[usable]
    order = np.argsort(codes, kind="stable")
    codes, entered, left = codes[order], entered[order], left[order]
    bounds = np.searchsorted(codes, np.arange(len(stage_ids) + 1))
    for code in range(len(stage_ids)):
        part = slice(bounds[code], bounds[code + 1])
        if part.start == part.stop:
            continue
        entries = np.searchsorted(np.sort(entered[part]), moments, side="right")
        exits = np.searchsorted(np.sort(left[part]), moments, side="right")
        result[code] = entries - exits
    return result


def flow_item_rows(item_column: IntArray, items: ItemFacts) -> BoolArray | None:
    """Rows (of intervals or stage times) that belong to flow items; None when all do (the
    loader usually drops the other types already)."""
    kept = flow_items(items)
    if len(kept) == len(items):
        return None
    return rows_of(item_column, kept.item_id)


@dataclass(frozen=True)
class StageFigures:
    """One process step of the map. Times are seconds, means over ``items_entered``."""

    stage_id: int
    name: str
    position: int
    flow_state: str
    items_entered: int
    process_time_s: float | None
    process_time_median_s: float | None
    wait_time_s: float | None
    wait_time_median_s: float | None
    lead_time_s: float | None
    items_sent_back: int
    pca_proxy: float | None
    wip_at_end: int
    wip_average: float | None
    throughput_per_week: float
    active_total_s: float
    waiting_total_s: float
    waiting_share: float | None


@dataclass(frozen=True)
class ValueStreamMapFigures:
    """The process steps in flow order and the whole stream's figures.

    ``total_active_s`` and ``total_waiting_s`` cover all of the done items' stage rows, also
    time in unmapped statuses or back in New, so together they equal the items' flow time.
    """

    stages: tuple[StageFigures, ...]
    items_done: int
    total_lead_time_s: float | None
    total_process_time_s: float | None
    activity_ratio: float | None
    rolled_pca_proxy: float | None
    total_active_s: float
    total_waiting_s: float
    bottleneck_stage_id: int | None
    bottleneck_waiting_share: float | None


def _sum_or_none(values: Sequence[float | None]) -> float | None:
    present = [value for value in values if value is not None]
    return float(sum(present)) if present else None


def stage_figures(fact_set: FactSet, period: Period) -> ValueStreamMapFigures:
    """Process, wait and lead time, %C&A proxy, WIP and throughput per step, and the totals."""
    steps = ordered_stages(fact_set.stages, PROCESS_STATES)
    step_ids = [stage.id for stage in steps]
    items = flow_items(fact_set.items)
    done_ids = items.item_id[done_in(items, period)]
    weeks = period.days / 7

    times = fact_set.stage_times
    population = rows_of(times.item_id, done_ids)
    active_all = np.nan_to_num(times.active_s[population])
    waiting_all = np.nan_to_num(times.waiting_s[population])
    codes = stage_codes(times.stage_id[population], step_ids)
    # group the population's rows by stage once, then read each stage's rows as a slice
    order = np.argsort(codes, kind="stable")
    bounds = np.searchsorted(codes[order], np.arange(len(steps) + 1))
    active, waiting = active_all[order], waiting_all[order]
    entries = times.entries[population][order]
    sent_back_into = times.sent_back_into[population][order]
    total_active = float(active_all.sum())
    total_waiting = float(waiting_all.sum())

    intervals = fact_set.intervals
    wip_ids = items.item_id[in_progress_at(items, period.end_at)]
    at_end = intervals_at(intervals, period.end_at) & rows_of(intervals.item_id, wip_ids)
    wip_codes = stage_codes(intervals.stage_id[at_end], step_ids)
    wip_at_end = np.bincount(wip_codes[wip_codes >= 0], minlength=len(steps))
    _, ends = day_ends(period)
    flow_rows = flow_item_rows(intervals.item_id, fact_set.items)
    occupancy = stage_occupancy(intervals, step_ids, ends, flow_rows)

    figures: list[StageFigures] = []
    for code, stage in enumerate(steps):
        part = slice(bounds[code], bounds[code + 1])
        entered = entries[part] > 0
        stage_active, stage_waiting = active[part], waiting[part]
        count = int(entered.sum())
        sent_back = int((sent_back_into[part][entered] > 0).sum())
        process = mean(stage_active[entered])
        wait = mean(stage_waiting[entered])
        waiting_total = float(stage_waiting.sum())
        figures.append(
            StageFigures(
                stage_id=stage.id,
                name=stage.name,
                position=stage.position,
                flow_state=stage.flow_state,
                items_entered=count,
                process_time_s=process,
                process_time_median_s=median(stage_active[entered]),
                wait_time_s=wait,
                wait_time_median_s=median(stage_waiting[entered]),
                lead_time_s=None if process is None or wait is None else process + wait,
                items_sent_back=sent_back,
                pca_proxy=ratio(count - sent_back, count),
                wip_at_end=int(wip_at_end[code]),
                wip_average=mean(occupancy[code].astype(np.float64)),
                throughput_per_week=count / weeks,
                active_total_s=float(stage_active.sum()),
                waiting_total_s=waiting_total,
                waiting_share=ratio(waiting_total, total_waiting),
            )
        )

    total_lead = _sum_or_none([f.lead_time_s for f in figures])
    total_process = _sum_or_none([f.process_time_s for f in figures])
    pcas = [f.pca_proxy for f in figures if f.pca_proxy is not None]
    bottleneck = max(figures, key=lambda f: f.waiting_total_s, default=None)  # first on ties
    if bottleneck is not None and bottleneck.waiting_total_s <= 0:
        bottleneck = None
    return ValueStreamMapFigures(
        stages=tuple(figures),
        items_done=len(done_ids),
        total_lead_time_s=total_lead,
        total_process_time_s=total_process,
        activity_ratio=(
            None
            if total_lead is None or total_process is None
            else ratio(total_process, total_lead)
        ),
        rolled_pca_proxy=float(np.prod(pcas)) if pcas else None,
        total_active_s=total_active,
        total_waiting_s=total_waiting,
        bottleneck_stage_id=None if bottleneck is None else bottleneck.stage_id,
        bottleneck_waiting_share=None if bottleneck is None else bottleneck.waiting_share,
    )
