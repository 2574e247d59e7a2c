"""DORA's five software delivery metrics over a period, scored like the DORA Quick Check and
placed in the DORA 2024 performance levels.

Pure functions of derived facts (``metrics.facts``): no I/O, no clock. The caller has already
chosen the value stream or service; only production deployments count. Durations are seconds.
Every formula and boundary is written out for users in ``docs/metrics-dora.md``.
"""

from dataclasses import dataclass
from datetime import date
from typing import Literal

import numpy as np

from streamwise.metrics import stats
from streamwise.metrics.facts import BoolArray, ChangeFacts, DeploymentFacts, FloatArray, IntArray
from streamwise.metrics.period import Grain, Period, buckets

Level = Literal["elite", "high", "medium", "low"]
LEVEL_TABLE = "DORA 2024"

HOUR = 3600.0
DAY = 24 * HOUR
WEEK = 7 * DAY
MONTH = 30 * DAY
SIX_MONTHS = 182 * DAY

# Quick Check answers for durations: (exclusive upper bound in seconds, label, score).
DURATION_ANSWERS: tuple[tuple[float, str, float], ...] = (
    (HOUR, "less than one hour", 10.0),
    (DAY, "less than one day", 8.0),
    (WEEK, "one day to one week", 6.0),
    (MONTH, "one week to one month", 4.0),
    (SIX_MONTHS, "one to six months", 2.0),
)
SLOWEST_DURATION_ANSWER = ("more than six months", 0.0)

# Quick Check answers for deployment frequency: (inclusive lower bound in deployments per day,
# label, score).
FREQUENCY_ANSWERS: tuple[tuple[float, str, float], ...] = (
    (2.0, "on demand (several a day)", 10.0),
    (1.0, "hourly to daily", 8.0),
    (1 / 7, "daily to weekly", 6.0),
    (1 / 30, "weekly to monthly", 4.0),
    (1 / 182, "monthly to every six months", 2.0),
)
SLOWEST_FREQUENCY_ANSWER = ("fewer than every six months", 0.0)

# DORA 2024 change fail rate of each cluster; not monotonic (medium is below high).
CHANGE_FAIL_CLUSTERS: tuple[tuple[Level, float], ...] = (
    ("elite", 0.05),
    ("high", 0.20),
    ("medium", 0.10),
    ("low", 0.40),
)


@dataclass(frozen=True)
class QuickCheckAnswer:
    """The Quick Check answer a measured value corresponds to, and its 0 to 10 score."""

    label: str
    score: float


@dataclass(frozen=True)
class DeploymentCount:
    """Successful production deployments in one calendar bucket (``start`` = its first day,
    even when the period clips it; ``partial`` says it was clipped)."""

    start: date
    count: int
    partial: bool


@dataclass(frozen=True)
class DeploymentFrequency:
    grain: Grain
    buckets: tuple[DeploymentCount, ...]
    total: int
    per_day: float
    per_week: float
    median_deployment_days_per_week: float
    weeks_measured: int
    measured_on_partial_weeks: bool
    bucket: str
    score: float
    level: Level
    level_table: str = LEVEL_TABLE


@dataclass(frozen=True)
class ChangeLeadTime:
    count: int
    median_s: float | None
    p85_s: float | None
    pull_requests: int
    changes_without_pull_request: int
    coding_median_s: float | None
    pickup_median_s: float | None
    review_median_s: float | None
    deploy_median_s: float | None
    bucket: str | None
    score: float | None
    level: Level | None
    level_table: str = LEVEL_TABLE


@dataclass(frozen=True)
class ChangeFailRate:
    deployments: int
    failed: int
    rate: float | None
    score: float | None
    level: Level | None
    level_table: str = LEVEL_TABLE


@dataclass(frozen=True)
class RecoveryTime:
    failed: int
    recovered: int
    unrecovered: int
    median_s: float | None
    p85_s: float | None
    bucket: str | None
    score: float | None
    level: Level | None
    level_table: str = LEVEL_TABLE


@dataclass(frozen=True)
class ReworkRate:
    """``level`` is always None: the DORA 2024 report did not cluster rework rate."""

    deployments: int
    rework: int
    rate: float | None
    score: float | None
    level: Level | None = None
    level_table: str = LEVEL_TABLE


@dataclass(frozen=True)
class DoraSummary:
    period: Period
    deployment_frequency: DeploymentFrequency
    change_lead_time: ChangeLeadTime
    change_fail_rate: ChangeFailRate
    recovery_time: RecoveryTime
    rework_rate: ReworkRate
    throughput_score: float | None
    instability_score: float | None


# --- answers, scores and levels -----------------------------------------------------------


def duration_answer(seconds: float | None) -> QuickCheckAnswer | None:
    """Quick Check answer for a lead or recovery time; a value on a boundary is the slower."""
    if seconds is None:
        return None
    for upper, label, score in DURATION_ANSWERS:
        if seconds < upper:
            return QuickCheckAnswer(label, score)
    return QuickCheckAnswer(*SLOWEST_DURATION_ANSWER)


def frequency_answer(per_day: float) -> QuickCheckAnswer:
    """Quick Check answer for a mean number of deployments per day."""
    for lower, label, score in FREQUENCY_ANSWERS:
        if per_day >= lower:
            return QuickCheckAnswer(label, score)
    return QuickCheckAnswer(*SLOWEST_FREQUENCY_ANSWER)


def rate_score(rate: float | None) -> float | None:
    """Quick Check score of a percentage question: 0 % → 10, 100 % → 0, one decimal."""
    return None if rate is None else round(10.0 * (1.0 - rate), 1)


def lead_time_level(seconds: float | None) -> Level | None:
    if seconds is None:
        return None
    if seconds < DAY:
        return "elite"
    if seconds < WEEK:
        return "high"
    if seconds < MONTH:
        return "medium"
    return "low"


def frequency_level(per_day: float) -> Level:
    if per_day >= 1.0:
        return "elite"
    if per_day >= 1 / 7:
        return "high"
    if per_day >= 1 / 30:
        return "medium"
    return "low"


def recovery_level(seconds: float | None) -> Level | None:
    """2024 gives high and medium the same "< 1 day"; we report the better one, high."""
    if seconds is None:
        return None
    if seconds < HOUR:
        return "elite"
    if seconds < DAY:
        return "high"
    return "low"


def change_fail_level(rate: float | None) -> Level | None:
    """The 2024 cluster whose change fail rate is nearest; ties go to the better level.

    Distances are rounded to 1e-9 so that e.g. 15 % is a true tie between 10 % and 20 %
    despite binary floating point.
    """
    if rate is None:
        return None
    best_level, best_distance = CHANGE_FAIL_CLUSTERS[0][0], float("inf")
    for level, cluster_rate in CHANGE_FAIL_CLUSTERS:  # ordered best first
        distance = round(abs(rate - cluster_rate), 9)
        if distance < best_distance:
            best_level, best_distance = level, distance
    return best_level


# --- metrics ------------------------------------------------------------------------------


def _production_finished_in(deployments: DeploymentFacts, period: Period) -> BoolArray:
    """Production deployments whose finish lies in the period (NaN finish: never)."""
    return deployments.is_production & period.contains(deployments.finished_at)


def _deployment_days_per_week(period: Period, moments: FloatArray) -> tuple[IntArray, bool]:
    """Distinct local days with a deployment, per ISO week wholly inside the period (or per
    partial week when there is no whole one); and whether partial weeks were used."""
    weeks = buckets(period, "week")
    days = buckets(period, "day")
    day_numbers = days.index(moments)
    deployment_days = np.unique(day_numbers[day_numbers >= 0])
    week_of_day = weeks.index(days.edges[deployment_days])
    days_per_week = np.bincount(week_of_day, minlength=len(weeks.starts)).astype(np.int64)
    whole = ~np.array(weeks.partial, dtype=np.bool_)
    if whole.any():
        return days_per_week[whole], False
    return days_per_week, True


def deployment_frequency(
    deployments: DeploymentFacts, period: Period, grain: Grain = "week"
) -> DeploymentFrequency:
    """How often production successfully received a deployment during the period."""
    successful = _production_finished_in(deployments, period) & deployments.succeeded
    moments = deployments.finished_at[successful]
    calendar = buckets(period, grain)
    counts = calendar.count(moments)
    total = int(successful.sum())
    per_day = total / period.days
    days_per_week, on_partial_weeks = _deployment_days_per_week(period, moments)
    median_days = stats.median(days_per_week.astype(np.float64))
    answer = frequency_answer(per_day)
    return DeploymentFrequency(
        grain=grain,
        buckets=tuple(
            DeploymentCount(start, int(count), partial)
            for start, count, partial in zip(calendar.starts, counts, calendar.partial, strict=True)
        ),
        total=total,
        per_day=per_day,
        per_week=total * 7 / period.days,
        median_deployment_days_per_week=median_days if median_days is not None else 0.0,
        weeks_measured=len(days_per_week),
        measured_on_partial_weeks=on_partial_weeks,
        bucket=answer.label,
        score=answer.score,
        level=frequency_level(per_day),
    )


def _last_row_per_pull_request(changes: ChangeFacts) -> IntArray:
    """Row positions of one change per pull request: the one deployed last, when the PR's
    commits went out in several deployments (the PR is wholly live only then)."""
    with_pr: IntArray = np.flatnonzero(changes.pull_request_id >= 0).astype(np.int64)
    sort_keys = (
        changes.deployment_id[with_pr],
        changes.deployed_at[with_pr],
        changes.pull_request_id[with_pr],
    )
    order: IntArray = with_pr[np.lexsort(sort_keys)]
    if order.size == 0:
        return order
    pr_ids = changes.pull_request_id[order]
    last_of_group: BoolArray = np.append(pr_ids[1:] != pr_ids[:-1], True)
    return order[last_of_group]


def change_lead_time(changes: ChangeFacts, period: Period) -> ChangeLeadTime:
    """Commit → production for changes deployed in the period, and the PR parts of it."""
    kept = period.contains(changes.deployed_at) & (changes.lead_time_s > 0)
    shipped = changes.select(kept)
    lead_times = shipped.lead_time_s
    median_lead = stats.median(lead_times)
    per_pull_request = shipped.select(_last_row_per_pull_request(shipped))
    answer = duration_answer(median_lead)
    return ChangeLeadTime(
        count=len(shipped),
        median_s=median_lead,
        p85_s=stats.percentile(lead_times, 85.0),
        pull_requests=len(per_pull_request),
        changes_without_pull_request=int((shipped.pull_request_id < 0).sum()),
        coding_median_s=stats.median(per_pull_request.coding_s),
        pickup_median_s=stats.median(per_pull_request.pickup_s),
        review_median_s=stats.median(per_pull_request.review_s),
        deploy_median_s=stats.median(per_pull_request.deploy_s),
        bucket=answer.label if answer else None,
        score=answer.score if answer else None,
        level=lead_time_level(median_lead),
    )


def change_fail_rate(deployments: DeploymentFacts, period: Period) -> ChangeFailRate:
    """Share of production deployments finished in the period that failed (any status
    counts in the denominator: a failed deployment is a deployment that needed fixing)."""
    finished = _production_finished_in(deployments, period)
    total = int(finished.sum())
    failed = int((finished & deployments.failed).sum())
    rate = stats.ratio(failed, total)
    return ChangeFailRate(
        deployments=total,
        failed=failed,
        rate=rate,
        score=rate_score(rate),
        level=change_fail_level(rate),
    )


def recovery_time(deployments: DeploymentFacts, period: Period) -> RecoveryTime:
    """Failed deployment → recovered, for failures finished in the period (however late
    their recovery); unrecovered failures are counted, not timed."""
    failed = _production_finished_in(deployments, period) & deployments.failed
    recovery = deployments.recovery_s[failed]
    recovered = int(np.isfinite(recovery).sum())
    median_recovery = stats.median(recovery)
    answer = duration_answer(median_recovery)
    return RecoveryTime(
        failed=int(failed.sum()),
        recovered=recovered,
        unrecovered=int(failed.sum()) - recovered,
        median_s=median_recovery,
        p85_s=stats.percentile(recovery, 85.0),
        bucket=answer.label if answer else None,
        score=answer.score if answer else None,
        level=recovery_level(median_recovery),
    )


def rework_rate(deployments: DeploymentFacts, period: Period) -> ReworkRate:
    """Share of production deployments finished in the period that were unplanned fixes."""
    finished = _production_finished_in(deployments, period)
    total = int(finished.sum())
    rework = int((finished & deployments.is_rework).sum())
    rate = stats.ratio(rework, total)
    return ReworkRate(deployments=total, rework=rework, rate=rate, score=rate_score(rate))


def _mean_score(scores: list[float | None]) -> float | None:
    present = [score for score in scores if score is not None]
    return round(sum(present) / len(present), 1) if present else None


def dora_summary(
    deployments: DeploymentFacts,
    changes: ChangeFacts,
    period: Period,
    grain: Grain = "week",
) -> DoraSummary:
    """All five metrics plus the Quick Check throughput and instability factor scores."""
    frequency = deployment_frequency(deployments, period, grain)
    lead_time = change_lead_time(changes, period)
    fail_rate = change_fail_rate(deployments, period)
    recovery = recovery_time(deployments, period)
    rework = rework_rate(deployments, period)
    return DoraSummary(
        period=period,
        deployment_frequency=frequency,
        change_lead_time=lead_time,
        change_fail_rate=fail_rate,
        recovery_time=recovery,
        rework_rate=rework,
        throughput_score=_mean_score([lead_time.score, frequency.score, recovery.score]),
        instability_score=_mean_score([fail_rate.score, rework.score]),
    )
