"""Every value stream's headline figures at once, from narrow columns (pure).

The portfolio must stay fast over the whole organisation, so it does not load intervals or
per-stage rows: the loader sends only the columns these figures need, and the waiting time
per stage (for the bottleneck) already summed by the database. The definitions are the same
as the stream report's (see docs/metrics-flow.md and docs/metrics-dora.md).
"""

from dataclasses import dataclass

import numpy as np

from streamwise.metrics import stats
from streamwise.metrics.dora import (
    change_fail_level,
    frequency_level,
    lead_time_level,
    recovery_level,
)
from streamwise.metrics.facts import BoolArray, FloatArray, IntArray, StageInfo
from streamwise.metrics.period import Period, buckets
from streamwise.metrics.report import StreamHeadlines, headlines


@dataclass(frozen=True)
class PortfolioFacts:
    """Narrow columns for all streams over a window covering the period and the one before."""

    streams: tuple[tuple[int, str, str], ...]  # (id, key, name) in portfolio order
    stages: tuple[StageInfo, ...]
    done_stream: IntArray
    done_at: FloatArray
    flow_time_s: FloatArray
    active_s: FloatArray
    waiting_s: FloatArray
    wip_stream: IntArray
    wip_start: FloatArray
    wip_end: FloatArray  # NaN: still in progress
    deploy_stream: IntArray
    deploy_finished: FloatArray
    deploy_production: BoolArray
    deploy_succeeded: BoolArray
    deploy_failed: BoolArray
    deploy_recovery_s: FloatArray
    deploy_rework: BoolArray
    change_stream: IntArray
    change_deployed: FloatArray
    change_lead_s: FloatArray
    stage_waiting: dict[str, dict[tuple[int, int], float]]  # period label → (stream, stage) → s


def _day_ends(period: Period) -> FloatArray:
    edges = buckets(period, "day").edges
    return edges[1:]


def _headline_values(
    facts: PortfolioFacts, stream_id: int, period: Period
) -> tuple[dict[str, float | None], dict[str, str | None]]:
    lo, hi = period.start_at, period.end_at
    done = (facts.done_stream == stream_id) & (facts.done_at >= lo) & (facts.done_at < hi)
    flow_times = facts.flow_time_s[done]
    measured = done & (facts.flow_time_s > 0)
    active = float(facts.active_s[measured].sum())
    total = active + float(facts.waiting_s[measured].sum())

    in_stream = facts.wip_stream == stream_id
    starts = np.sort(facts.wip_start[in_stream])
    ends = np.sort(np.where(np.isnan(facts.wip_end[in_stream]), np.inf, facts.wip_end[in_stream]))
    moments = _day_ends(period)
    load = np.searchsorted(starts, moments, side="right") - np.searchsorted(
        ends, moments, side="right"
    )

    deployed = (
        (facts.deploy_stream == stream_id)
        & facts.deploy_production
        & (facts.deploy_finished >= lo)
        & (facts.deploy_finished < hi)
    )
    successes = int((deployed & facts.deploy_succeeded).sum())
    per_day = successes / period.days
    failed = deployed & facts.deploy_failed
    recovery = stats.median(facts.deploy_recovery_s[failed])
    changes = (
        (facts.change_stream == stream_id)
        & (facts.change_deployed >= lo)
        & (facts.change_deployed < hi)
    )
    lead = stats.median(facts.change_lead_s[changes])
    fail_rate = stats.ratio(float(failed.sum()), float(deployed.sum()))
    values: dict[str, float | None] = {
        "deployment_frequency": per_day * 7,
        "change_lead_time": lead,
        "change_fail_rate": fail_rate,
        "recovery_time": recovery,
        "rework_rate": stats.ratio(
            float((deployed & facts.deploy_rework).sum()), float(deployed.sum())
        ),
        "flow_velocity": float(done.sum()),
        "flow_time": stats.median(flow_times),
        "flow_efficiency": stats.ratio(active, total),
        "flow_load": float(load.mean()) if load.size else None,
    }
    levels: dict[str, str | None] = {
        "deployment_frequency": frequency_level(per_day),
        "change_lead_time": lead_time_level(lead),
        "change_fail_rate": change_fail_level(fail_rate),
        "recovery_time": recovery_level(recovery),
    }
    return values, levels


def _bottleneck(facts: PortfolioFacts, stream_id: int, label: str) -> str | None:
    names = {
        stage.id: stage.name
        for stage in facts.stages
        if stage.value_stream_id == stream_id and stage.flow_state in ("active", "waiting")
    }
    waiting = {
        stage_id: seconds
        for (stream, stage_id), seconds in facts.stage_waiting.get(label, {}).items()
        if stream == stream_id and stage_id in names
    }
    if not waiting or max(waiting.values()) <= 0:
        return None
    return names[max(waiting, key=lambda stage_id: waiting[stage_id])]


def portfolio_headlines(facts: PortfolioFacts, period: Period) -> tuple[StreamHeadlines, ...]:
    """One line per stream: headlines against the previous period, DORA levels, bottleneck,
    and the weekly velocity as a sparkline."""
    previous = period.previous()
    weeks = buckets(period, "week")
    lines = []
    for stream_id, key, name in facts.streams:
        current, levels = _headline_values(facts, stream_id, period)
        before, _ = _headline_values(facts, stream_id, previous)
        done = facts.done_at[facts.done_stream == stream_id]
        lines.append(
            StreamHeadlines(
                stream_id,
                key,
                name,
                headlines(current, before),
                levels,
                _bottleneck(facts, stream_id, "current"),
                tuple(int(n) for n in weeks.count(done)),
            )
        )
    return tuple(lines)
