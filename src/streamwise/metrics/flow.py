"""Flow Framework metrics: velocity, time, efficiency, load and distribution (docs/metrics-flow.md).

Only the four flow item types count; every other type ('ignore', supporting work, unmapped) is
left out so that a story and its sub-tasks are not counted twice. "Done in the period" means the
item's final close (``done_at``) is at or after the period's first instant and before the first
instant after it, so an item reopened and closed again counts once, when it was last closed.
"""

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date

import numpy as np

from streamwise.metrics.facts import BoolArray, FloatArray, IntArray, ItemFacts
from streamwise.metrics.period import Grain, Period, buckets
from streamwise.metrics.stats import mean, median, percentile, ratio
from streamwise.model.base import FLOW_ITEM_TYPES

_TYPE_CODE = {name: code for code, name in enumerate(FLOW_ITEM_TYPES)}
EFFICIENCY_BINS = 10


# -- shared selections (also used by stages.py and charts.py) --------------------------------


def flow_items(items: ItemFacts) -> ItemFacts:
    """The items that are flow items (feature, defect, risk, debt); the rest never count."""
    keep = items.flow_type_code >= 0
    return items if bool(keep.all()) else items.select(keep)


def done_in(items: ItemFacts, period: Period) -> BoolArray:
    """Items whose final close falls in the period (start included, end excluded)."""
    return period.contains(items.done_at)


def _never(moments: FloatArray) -> FloatArray:
    """NaN ("never happened") as +inf, so comparisons treat it as later than any moment."""
    return np.where(np.isnan(moments), np.inf, moments)


def work_ends(items: ItemFacts) -> FloatArray:
    """When each item stopped being work in progress: done or canceled, +inf if neither."""
    return np.minimum(_never(items.done_at), _never(items.canceled_at))


def in_progress_at(items: ItemFacts, moment: float) -> BoolArray:
    """``work_started_at <= moment < min(done_at, canceled_at)`` (NaN = never)."""
    started = items.work_started_at
    with np.errstate(invalid="ignore"):
        return (started <= moment) & (moment < work_ends(items))


def in_progress_counts(items: ItemFacts, moments: FloatArray) -> IntArray:
    """Work in progress at each moment, from two sorted arrays instead of items x moments."""
    starts = items.work_started_at
    ends = work_ends(items)
    with np.errstate(invalid="ignore"):
        valid = np.isfinite(starts) & (ends > starts)
    started = np.sort(starts[valid])
    ended = np.sort(ends[valid])
    counts = np.searchsorted(started, moments, side="right") - np.searchsorted(
        ended, moments, side="right"
    )
    return counts.astype(np.int64)


def day_ends(period: Period) -> tuple[list[date], FloatArray]:
    """Each local day of the period and the instant it ends (the next local midnight)."""
    days = buckets(period, "day")
    return days.starts, days.edges[1:]


def _by_type(codes: IntArray) -> dict[str, int]:
    counts = np.bincount(codes[codes >= 0], minlength=len(FLOW_ITEM_TYPES))
    return {name: int(counts[code]) for code, name in enumerate(FLOW_ITEM_TYPES)}


# -- Flow Velocity ---------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowVelocity:
    """Items finished per bucket and type. ``partial`` marks buckets clipped by the period."""

    grain: Grain
    bucket_starts: tuple[date, ...]
    partial: tuple[bool, ...]
    per_bucket: tuple[int, ...]
    per_bucket_by_type: Mapping[str, tuple[int, ...]]
    by_type: Mapping[str, int]
    total: int


def flow_velocity(items: ItemFacts, period: Period, grain: Grain = "week") -> FlowVelocity:
    """How many flow items reached Done, per calendar bucket and per flow item type."""
    chosen = flow_items(items)
    cuts = buckets(period, grain)
    bucket = cuts.index(chosen.done_at)
    codes = chosen.flow_type_code
    counted = bucket >= 0
    size = len(cuts.starts)
    per_type: dict[str, tuple[int, ...]] = {}
    for code, name in enumerate(FLOW_ITEM_TYPES):
        of_type = bucket[counted & (codes == code)]
        per_type[name] = tuple(np.bincount(of_type, minlength=size).tolist())
    per_bucket = np.bincount(bucket[counted], minlength=size)
    return FlowVelocity(
        grain=grain,
        bucket_starts=tuple(cuts.starts),
        partial=tuple(cuts.partial),
        per_bucket=tuple(per_bucket.tolist()),
        per_bucket_by_type=per_type,
        by_type=_by_type(codes[counted]),
        total=int(counted.sum()),
    )


# -- Flow Time -------------------------------------------------------------------------------


@dataclass(frozen=True)
class DurationStats:
    """Median and upper percentiles of a set of durations (seconds); None when empty."""

    count: int
    median_s: float | None
    p85_s: float | None
    p95_s: float | None


def duration_stats(durations: FloatArray) -> DurationStats:
    kept = durations[np.isfinite(durations)]
    return DurationStats(
        count=int(kept.size),
        median_s=median(kept),
        p85_s=percentile(kept, 85.0),
        p95_s=percentile(kept, 95.0),
    )


@dataclass(frozen=True)
class FlowTime:
    """Flow time of the items done in the period. ``unmeasured`` items went from New straight
    to Done (no work start), so they count in velocity but have no flow time."""

    overall: DurationStats
    by_type: Mapping[str, DurationStats]
    unmeasured: int


def flow_time(items: ItemFacts, period: Period) -> FlowTime:
    """Distribution of (done - work started) for the flow items done in the period."""
    chosen = flow_items(items)
    done = done_in(chosen, period)
    times = chosen.flow_time_s[done]
    codes = chosen.flow_type_code[done]
    return FlowTime(
        overall=duration_stats(times),
        by_type={name: duration_stats(times[codes == code]) for name, code in _TYPE_CODE.items()},
        unmeasured=int((~np.isfinite(times)).sum()),
    )


# -- Flow Efficiency -------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowEfficiency:
    """Active share of flow time. ``aggregate`` weighs items by their flow time (Σ active ÷
    Σ flow time); the percentiles describe the per-item ratios, each item counting once."""

    count: int
    aggregate: float | None
    median: float | None
    p25: float | None
    p75: float | None
    histogram_edges: tuple[float, ...]
    histogram_counts: tuple[int, ...]


def flow_efficiency(items: ItemFacts, period: Period) -> FlowEfficiency:
    """Active ÷ (active + waiting) over the items done in the period with a flow time > 0."""
    chosen = flow_items(items)
    active = chosen.active_time_s
    total = active + chosen.waiting_time_s
    with np.errstate(invalid="ignore"):
        used = done_in(chosen, period) & (chosen.flow_time_s > 0) & (total > 0) & (active >= 0)
    active, total = active[used], total[used]
    per_item = np.clip(active / total, 0.0, 1.0)
    counts, edges = np.histogram(per_item, bins=EFFICIENCY_BINS, range=(0.0, 1.0))
    return FlowEfficiency(
        count=int(used.sum()),
        aggregate=ratio(float(active.sum()), float(total.sum())),
        median=median(per_item),
        p25=percentile(per_item, 25.0),
        p75=percentile(per_item, 75.0),
        histogram_edges=tuple(edges.tolist()),
        histogram_counts=tuple(counts.tolist()),
    )


# -- Flow Load -------------------------------------------------------------------------------


@dataclass(frozen=True)
class FlowLoad:
    """Work in progress at the end of each local day of the period."""

    days: tuple[date, ...]
    per_day: tuple[int, ...]
    mean: float | None
    max: int | None
    at_period_end: int


def flow_load(items: ItemFacts, period: Period) -> FlowLoad:
    """Items started and neither done nor canceled at each day's end (the next local midnight)."""
    days, ends = day_ends(period)
    counts = in_progress_counts(flow_items(items), ends)
    return FlowLoad(
        days=tuple(days),
        per_day=tuple(counts.tolist()),
        mean=mean(counts.astype(np.float64)),
        max=int(counts.max()) if counts.size else None,
        at_period_end=int(counts[-1]) if counts.size else 0,
    )


# -- Flow Distribution -----------------------------------------------------------------------


@dataclass(frozen=True)
class TypeMix:
    """Counts per flow item type (zeros included) and shares summing to 1 (empty if none)."""

    counts: Mapping[str, int]
    shares: Mapping[str, float]
    total: int


def type_mix(codes: IntArray) -> TypeMix:
    counts = _by_type(codes)
    total = sum(counts.values())
    shares = {name: count / total for name, count in counts.items()} if total else {}
    return TypeMix(counts=counts, shares=shares, total=total)


@dataclass(frozen=True)
class FlowDistribution:
    """Mix of item types among the items finished in the period and those in progress at its end."""

    completed: TypeMix
    in_progress: TypeMix


def flow_distribution(items: ItemFacts, period: Period) -> FlowDistribution:
    chosen = flow_items(items)
    codes = chosen.flow_type_code
    return FlowDistribution(
        completed=type_mix(codes[done_in(chosen, period)]),
        in_progress=type_mix(codes[in_progress_at(chosen, period.end_at)]),
    )
