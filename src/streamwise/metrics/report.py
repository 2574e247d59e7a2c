"""The whole metric set of one selection, and its headline figures against the previous
period. Pure: takes a fact set already loaded for both periods."""

from dataclasses import dataclass, fields, is_dataclass
from datetime import date
from typing import Any

import numpy as np

from streamwise.metrics.charts import (
    AgingWip,
    CumulativeFlow,
    CycleTimeScatter,
    NetFlow,
    ThroughputRun,
    aging_wip,
    cumulative_flow,
    cycle_time_scatter,
    net_flow,
    throughput_run,
)
from streamwise.metrics.dora import DoraSummary, dora_summary
from streamwise.metrics.facts import FactSet
from streamwise.metrics.flow import (
    FlowDistribution,
    FlowEfficiency,
    FlowLoad,
    FlowTime,
    FlowVelocity,
    flow_distribution,
    flow_efficiency,
    flow_load,
    flow_time,
    flow_velocity,
)
from streamwise.metrics.period import Grain, Period
from streamwise.metrics.stages import ValueStreamMapFigures, stage_figures
from streamwise.metrics.stats import change


@dataclass(frozen=True)
class Headline:
    """One headline figure now and in the previous period of equal length."""

    key: str
    label: str
    unit: str  # seconds | ratio | count | per_week
    current: float | None
    previous: float | None
    change: float | None
    better: str  # "higher" or "lower": which direction is an improvement


@dataclass(frozen=True)
class FlowMetrics:
    velocity: FlowVelocity
    flow_time: FlowTime
    efficiency: FlowEfficiency
    load: FlowLoad
    distribution: FlowDistribution


@dataclass(frozen=True)
class StreamReport:
    period: Period
    previous_period: Period
    dora: DoraSummary
    flow: FlowMetrics
    value_stream_map: ValueStreamMapFigures
    cumulative_flow: CumulativeFlow
    cycle_times: CycleTimeScatter
    aging_wip: AgingWip
    throughput: ThroughputRun
    net_flow: NetFlow
    headlines: tuple[Headline, ...]


def flow_metrics(facts: FactSet, period: Period, grain: Grain = "week") -> FlowMetrics:
    return FlowMetrics(
        velocity=flow_velocity(facts.items, period, grain),
        flow_time=flow_time(facts.items, period),
        efficiency=flow_efficiency(facts.items, period),
        load=flow_load(facts.items, period),
        distribution=flow_distribution(facts.items, period),
    )


def _headline_values(
    dora: DoraSummary, flow: FlowMetrics, vsm: ValueStreamMapFigures | None
) -> dict[str, float | None]:
    values: dict[str, float | None] = {
        "deployment_frequency": dora.deployment_frequency.per_week,
        "change_lead_time": dora.change_lead_time.median_s,
        "change_fail_rate": dora.change_fail_rate.rate,
        "recovery_time": dora.recovery_time.median_s,
        "rework_rate": dora.rework_rate.rate,
        "flow_velocity": float(flow.velocity.total),
        "flow_time": flow.flow_time.overall.median_s,
        "flow_efficiency": flow.efficiency.aggregate,
        "flow_load": flow.load.mean,
    }
    if vsm is not None:
        values["activity_ratio"] = vsm.activity_ratio
        values["total_lead_time"] = vsm.total_lead_time_s
    return values


HEADLINES: dict[str, tuple[str, str, str]] = {
    "deployment_frequency": ("Deployment frequency", "per_week", "higher"),
    "change_lead_time": ("Change lead time (median)", "seconds", "lower"),
    "change_fail_rate": ("Change fail rate", "ratio", "lower"),
    "recovery_time": ("Failed deployment recovery time (median)", "seconds", "lower"),
    "rework_rate": ("Deployment rework rate", "ratio", "lower"),
    "flow_velocity": ("Flow velocity (items done)", "count", "higher"),
    "flow_time": ("Flow time (median)", "seconds", "lower"),
    "flow_efficiency": ("Flow efficiency", "ratio", "higher"),
    "flow_load": ("Flow load (mean WIP)", "count", "lower"),
    "activity_ratio": ("Activity ratio", "ratio", "higher"),
    "total_lead_time": ("Total lead time (map)", "seconds", "lower"),
}


def headlines(
    current: dict[str, float | None], previous: dict[str, float | None]
) -> tuple[Headline, ...]:
    return tuple(
        Headline(
            key,
            HEADLINES[key][0],
            HEADLINES[key][1],
            current.get(key),
            previous.get(key),
            change(current.get(key), previous.get(key)),
            HEADLINES[key][2],
        )
        for key in HEADLINES
        if key in current
    )


def stream_report(facts: FactSet, period: Period, grain: Grain = "week") -> StreamReport:
    """Every metric for ``period``, and headlines compared with the period before."""
    previous_period = period.previous()
    dora = dora_summary(facts.deployments, facts.changes, period, grain)
    flow = flow_metrics(facts, period, grain)
    vsm = stage_figures(facts, period)
    previous_dora = dora_summary(facts.deployments, facts.changes, previous_period, grain)
    previous_flow = flow_metrics(facts, previous_period, grain)
    previous_vsm = stage_figures(facts, previous_period)
    return StreamReport(
        period=period,
        previous_period=previous_period,
        dora=dora,
        flow=flow,
        value_stream_map=vsm,
        cumulative_flow=cumulative_flow(facts, period),
        cycle_times=cycle_time_scatter(facts.items, period),
        aging_wip=aging_wip(facts, period),
        throughput=throughput_run(facts.items, period, grain),
        net_flow=net_flow(facts.items, period, grain),
        headlines=headlines(
            _headline_values(dora, flow, vsm),
            _headline_values(previous_dora, previous_flow, previous_vsm),
        ),
    )


@dataclass(frozen=True)
class StreamHeadlines:
    """A stream's line in the portfolio."""

    value_stream_id: int
    key: str
    name: str
    headlines: tuple[Headline, ...]
    dora_levels: dict[str, str | None]
    bottleneck_stage: str | None
    weekly_velocity: tuple[int, ...] = ()


def to_jsonable(value: Any) -> Any:
    """Results → JSON-ready values: dataclasses to objects, NumPy to Python, NaN to null."""
    if is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in fields(value)}
    if isinstance(value, dict):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [to_jsonable(v) for v in value]
    if isinstance(value, np.ndarray):
        return [to_jsonable(v) for v in value.tolist()]
    if isinstance(value, np.generic):
        return to_jsonable(value.item())
    if isinstance(value, float):
        return None if not np.isfinite(value) else value
    if isinstance(value, date):
        return value.isoformat()
    return value
