"""The data behind the flow charts: cumulative flow, cycle time scatter, aging WIP, throughput
run and net flow (docs/metrics-flow.md). Every daily figure is taken at the end of the local
day, the same instant that ends the period for "in progress at period end".
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from streamwise.metrics.facts import FactSet, FloatArray, IntArray, ItemFacts
from streamwise.metrics.flow import (
    day_ends,
    done_in,
    flow_items,
    in_progress_at,
)
from streamwise.metrics.period import Grain, Period, buckets
from streamwise.metrics.stages import (
    PROCESS_STATES,
    flow_item_rows,
    intervals_at,
    ordered_stages,
    rows_of,
    stage_codes,
    stage_occupancy,
)
from streamwise.metrics.stats import percentile

BAND_STATES = ("new", *PROCESS_STATES)


# -- cumulative flow diagram -----------------------------------------------------------------


@dataclass(frozen=True)
class CfdBand:
    """One band of the diagram: a stage's count at each day's end, or the cumulative done."""

    stage_id: int | None
    name: str
    flow_state: str
    counts: tuple[int, ...]


@dataclass(frozen=True)
class CumulativeFlow:
    """Bands in flow order (new and process stages by position, then done); canceled items
    leave the diagram."""

    days: tuple[date, ...]
    bands: tuple[CfdBand, ...]


def cumulative_flow(fact_set: FactSet, period: Period) -> CumulativeFlow:
    """Items per stage at the end of each day, plus everything finished so far."""
    days, ends = day_ends(period)
    band_stages = ordered_stages(fact_set.stages, BAND_STATES)
    intervals = fact_set.intervals
    rows = flow_item_rows(intervals.item_id, fact_set.items)
    occupancy = stage_occupancy(intervals, [stage.id for stage in band_stages], ends, rows)
    bands = [
        CfdBand(stage.id, stage.name, stage.flow_state, tuple(occupancy[code].tolist()))
        for code, stage in enumerate(band_stages)
    ]
    done_at = flow_items(fact_set.items).done_at
    finished = np.sort(done_at[np.isfinite(done_at)])
    done_counts = np.searchsorted(finished, ends, side="right")  # done_at <= day end
    done_stages = ordered_stages(fact_set.stages, ("done",))
    done_stage = done_stages[0] if done_stages else None
    bands.append(
        CfdBand(
            stage_id=None if done_stage is None else done_stage.id,
            name="Done" if done_stage is None else done_stage.name,
            flow_state="done",
            counts=tuple(done_counts.astype(np.int64).tolist()),
        )
    )
    return CumulativeFlow(days=tuple(days), bands=tuple(bands))


# -- cycle time scatter ----------------------------------------------------------------------


@dataclass(frozen=True)
class CycleTimeScatter:
    """One point per finished item (columns of equal length) and the percentile lines."""

    done_at: tuple[float, ...]
    flow_time_s: tuple[float, ...]
    item_id: tuple[int, ...]
    flow_item_type: tuple[str, ...]
    p50_s: float | None
    p85_s: float | None
    p95_s: float | None


def cycle_time_scatter(items: ItemFacts, period: Period) -> CycleTimeScatter:
    """Flow time against finish time for the items done in the period, oldest first."""
    chosen = flow_items(items)
    points = done_in(chosen, period) & np.isfinite(chosen.flow_time_s)
    done_at = chosen.done_at[points]
    order = np.argsort(done_at, kind="stable")
    times = chosen.flow_time_s[points][order]
    return CycleTimeScatter(
        done_at=tuple(done_at[order].tolist()),
        flow_time_s=tuple(times.tolist()),
        item_id=tuple(chosen.item_id[points][order].tolist()),
        flow_item_type=tuple(chosen.flow_item_type[points][order].tolist()),
        p50_s=percentile(times, 50.0),
        p85_s=percentile(times, 85.0),
        p95_s=percentile(times, 95.0),
    )


# -- aging work in progress ------------------------------------------------------------------


@dataclass(frozen=True)
class StageAge:
    """Ages (seconds since work started) at which the period's finished items left a stage."""

    stage_id: int
    name: str
    count: int
    p50_s: float | None
    p85_s: float | None
    p95_s: float | None


@dataclass(frozen=True)
class AgingWip:
    """Items in progress at period end (columns, oldest first); stage -1 = not in a process
    step. ``over_p85`` flags items older than their stage's p85 exit age."""

    item_id: tuple[int, ...]
    stage_id: tuple[int, ...]
    age_s: tuple[float, ...]
    flow_item_type: tuple[str, ...]
    over_p85: tuple[bool, ...]
    stage_ages: tuple[StageAge, ...]


def _stage_exit_ages(
    fact_set: FactSet, items: ItemFacts, period: Period, step_ids: list[int]
) -> list[FloatArray]:
    """Per process step, for each item done in the period that was in it: last exit - start."""
    done = done_in(items, period)
    done_ids = items.item_id[done]
    started = items.work_started_at[done]
    intervals = fact_set.intervals
    codes = stage_codes(intervals.stage_id, step_ids)
    keep = (codes >= 0) & np.isfinite(intervals.left_at) & rows_of(intervals.item_id, done_ids)
    item_index = _lookup(
        done_ids, np.arange(len(done_ids), dtype=np.int64), intervals.item_id[keep]
    )
    steps = len(step_ids)
    last_exit = np.full(len(done_ids) * steps, -np.inf)
    np.maximum.at(last_exit, item_index * steps + codes[keep], intervals.left_at[keep])
    ages = last_exit.reshape(len(done_ids), steps) - started[:, None]
    return [ages[np.isfinite(ages[:, code]), code] for code in range(steps)]


def _lookup(keys: IntArray, values: IntArray, wanted: IntArray, missing: int = -1) -> IntArray:
    """``values`` at the position of each wanted key in ``keys`` (``missing`` if absent)."""
    result = np.full(len(wanted), missing, dtype=np.int64)
    if not len(keys) or not len(wanted):
        return result
    order = np.argsort(keys, kind="stable")
    sorted_keys = keys[order]
    position = np.clip(np.searchsorted(sorted_keys, wanted), 0, len(keys) - 1)
    found = sorted_keys[position] == wanted
    result[found] = values[order[position[found]]]
    return result


def aging_wip(fact_set: FactSet, period: Period) -> AgingWip:
    """How long each unfinished item has been in progress, against where finished items
    usually were by the time they left the same stage."""
    steps = ordered_stages(fact_set.stages, PROCESS_STATES)
    step_ids = [stage.id for stage in steps]
    items = flow_items(fact_set.items)
    end = period.end_at

    exit_ages = _stage_exit_ages(fact_set, items, period, step_ids)
    stage_ages = tuple(
        StageAge(
            stage_id=stage.id,
            name=stage.name,
            count=int(np.isfinite(ages).sum()),
            p50_s=percentile(ages, 50.0),
            p85_s=percentile(ages, 85.0),
            p95_s=percentile(ages, 95.0),
        )
        for stage, ages in zip(steps, exit_ages, strict=True)
    )

    wip = items.select(in_progress_at(items, end))
    intervals = fact_set.intervals
    current = intervals_at(intervals, end)
    stage_now = _lookup(intervals.item_id[current], intervals.stage_id[current], wip.item_id)
    age = end - wip.work_started_at

    p85_by_stage: Mapping[int, float | None] = {a.stage_id: a.p85_s for a in stage_ages}
    over = np.zeros(len(wip), dtype=np.bool_)
    for stage_id, p85 in p85_by_stage.items():
        if p85 is not None:
            over |= (stage_now == stage_id) & (age > p85)

    oldest_first = np.argsort(-age, kind="stable")
    return AgingWip(
        item_id=tuple(wip.item_id[oldest_first].tolist()),
        stage_id=tuple(stage_now[oldest_first].tolist()),
        age_s=tuple(age[oldest_first].tolist()),
        flow_item_type=tuple(wip.flow_item_type[oldest_first].tolist()),
        over_p85=tuple(over[oldest_first].tolist()),
        stage_ages=stage_ages,
    )


# -- throughput run and net flow -------------------------------------------------------------


@dataclass(frozen=True)
class ThroughputRun:
    """Flow items finished per bucket (zero buckets included)."""

    grain: Grain
    bucket_starts: tuple[date, ...]
    partial: tuple[bool, ...]
    counts: tuple[int, ...]
    total: int


def throughput_run(items: ItemFacts, period: Period, grain: Grain = "week") -> ThroughputRun:
    cuts = buckets(period, grain)
    counts = cuts.count(flow_items(items).done_at)
    return ThroughputRun(
        grain=grain,
        bucket_starts=tuple(cuts.starts),
        partial=tuple(cuts.partial),
        counts=tuple(counts.tolist()),
        total=int(counts.sum()),
    )


@dataclass(frozen=True)
class NetFlow:
    """Arrivals (work started) minus departures (done) per bucket; positive = WIP growing.

    Cancellations are not departures; they are listed separately so a falling load with a
    positive net flow can be explained.
    """

    grain: Grain
    bucket_starts: tuple[date, ...]
    partial: tuple[bool, ...]
    arrivals: tuple[int, ...]
    departures: tuple[int, ...]
    net: tuple[int, ...]
    canceled: tuple[int, ...]


def net_flow(items: ItemFacts, period: Period, grain: Grain = "week") -> NetFlow:
    cuts = buckets(period, grain)
    chosen = flow_items(items)
    arrivals = cuts.count(chosen.work_started_at)
    departures = cuts.count(chosen.done_at)
    return NetFlow(
        grain=grain,
        bucket_starts=tuple(cuts.starts),
        partial=tuple(cuts.partial),
        arrivals=tuple(arrivals.tolist()),
        departures=tuple(departures.tolist()),
        net=tuple((arrivals - departures).tolist()),
        canceled=tuple(cuts.count(chosen.canceled_at).tolist()),
    )
