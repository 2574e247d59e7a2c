"""DORA metrics on small hand-computed scenarios; expected values are worked out in comments."""

import itertools
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamwise.derive.deployments import (
    DeploymentRow,
    IncidentRow,
    PullRequestTimes,
    derive_service_facts,
)
from streamwise.metrics.dora import (
    DAY,
    HOUR,
    MONTH,
    SIX_MONTHS,
    WEEK,
    DeploymentCount,
    change_fail_level,
    change_fail_rate,
    change_lead_time,
    deployment_frequency,
    dora_summary,
    duration_answer,
    frequency_answer,
    frequency_level,
    lead_time_level,
    rate_score,
    recovery_level,
    recovery_time,
    rework_rate,
)
from streamwise.metrics.facts import ChangeFacts, DeploymentFacts
from streamwise.metrics.period import Grain, Period

BERLIN = ZoneInfo("Europe/Berlin")
_ids = itertools.count(1)


def berlin(year: int, month: int, day: int, hour: int = 12, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def deployment(
    finished_at: datetime,
    *,
    production: bool = True,
    succeeded: bool = True,
    failed: bool = False,
    recovery_s: float | None = None,
    is_rework: bool = False,
) -> dict[str, Any]:
    recovered_at = None if recovery_s is None else finished_at + timedelta(seconds=recovery_s)
    return {
        "deployment_id": next(_ids),
        "value_stream_id": 1,
        "service": "api",
        "environment": "production" if production else "staging",
        "is_production": production,
        "succeeded": succeeded,
        "finished_at": finished_at,
        "failed": failed,
        "recovered_at": recovered_at,
        "recovery_s": recovery_s,
        "is_rework": is_rework,
        "change_count": 0,
    }


def change(
    deployed_at: datetime,
    lead_time_s: float,
    pull_request_id: int | None = None,
    *,
    deployment_id: int = 1,
    coding: float | None = None,
    pickup: float | None = None,
    review: float | None = None,
    deploy: float | None = None,
) -> dict[str, Any]:
    return {
        "deployment_id": deployment_id,
        "value_stream_id": 1,
        "service": "api",
        "commit_id": next(_ids),
        "pull_request_id": pull_request_id,
        "committed_at": deployed_at - timedelta(seconds=lead_time_s),
        "deployed_at": deployed_at,
        "lead_time_s": lead_time_s,
        "coding_s": coding,
        "pickup_s": pickup,
        "review_s": review,
        "deploy_s": deploy,
    }


def deployments_of(*records: dict[str, Any]) -> DeploymentFacts:
    return DeploymentFacts.from_records(list(records))


APRIL_WEEKS = Period(date(2024, 4, 1), date(2024, 4, 28), "Europe/Berlin")  # Mon … Sun, 4 weeks


# --- deployment frequency -------------------------------------------------------------------


def test_frequency_keeps_empty_weeks_and_counts_days_not_deployments() -> None:
    facts = deployments_of(
        deployment(berlin(2024, 4, 2, 10)),  # week of Apr 1: three deployments on two days
        deployment(berlin(2024, 4, 2, 15)),
        deployment(berlin(2024, 4, 3, 9)),
        deployment(berlin(2024, 4, 9), production=False),  # staging: ignored
        deployment(berlin(2024, 4, 10), succeeded=False, failed=True),  # not successful
        deployment(berlin(2024, 4, 16)),  # week of Apr 15: one
        deployment(berlin(2024, 3, 31, 23, 30)),  # the evening before the period
    )
    result = deployment_frequency(facts, APRIL_WEEKS)
    assert result.buckets == (
        DeploymentCount(date(2024, 4, 1), 3, False),
        DeploymentCount(date(2024, 4, 8), 0, False),
        DeploymentCount(date(2024, 4, 15), 1, False),
        DeploymentCount(date(2024, 4, 22), 0, False),
    )
    assert result.total == 4
    assert result.per_day == 4 / 28
    assert result.per_week == 1.0
    # deployment days per whole week: 2, 0, 1, 0 → median (0 + 1) / 2
    assert result.median_deployment_days_per_week == 0.5
    assert result.weeks_measured == 4
    assert not result.measured_on_partial_weeks
    # 4 / 28 = exactly 1/7 a day: on the "daily to weekly" boundary, which is inclusive
    assert (result.bucket, result.score, result.level) == ("daily to weekly", 6.0, "high")
    assert result.level_table == "DORA 2024"


def test_frequency_buckets_follow_local_days_over_spring_dst_change() -> None:
    period = Period(date(2024, 3, 25), date(2024, 4, 7), "Europe/Berlin")
    late_sunday = berlin(2024, 3, 31, 23, 30)  # CEST, 21:30 UTC
    early_monday = berlin(2024, 4, 1, 0, 30)  # CEST, still Sunday 22:30 in UTC
    assert early_monday.astimezone(UTC).date() == date(2024, 3, 31)
    facts = deployments_of(
        deployment(berlin(2024, 3, 31, 1, 30)),  # Sunday before the switch (CET)
        deployment(late_sunday),
        deployment(early_monday),
    )
    weekly = deployment_frequency(facts, period, "week")
    assert [(b.start, b.count) for b in weekly.buckets] == [
        (date(2024, 3, 25), 2),
        (date(2024, 4, 1), 1),
    ]
    # two deployments on Sunday 31 March are one deployment day; Monday is the other week
    assert weekly.median_deployment_days_per_week == 1.0
    daily = deployment_frequency(facts, period, "day")
    counts = {b.start: b.count for b in daily.buckets}
    assert len(daily.buckets) == 14
    assert counts[date(2024, 3, 31)] == 2
    assert counts[date(2024, 4, 1)] == 1
    assert sum(counts.values()) == 3


def test_frequency_buckets_follow_local_days_over_autumn_dst_change() -> None:
    period = Period(date(2024, 10, 21), date(2024, 11, 3), "Europe/Berlin")
    facts = deployments_of(
        deployment(berlin(2024, 10, 26, 23, 30)),  # Saturday, CEST
        deployment(berlin(2024, 10, 27, 23, 30)),  # last Sunday of October, CET (22:30 UTC)
        deployment(berlin(2024, 10, 28, 0, 30)),  # Monday, 23:30 UTC on Sunday
    )
    weekly = deployment_frequency(facts, period, "week")
    assert [(b.start, b.count) for b in weekly.buckets] == [
        (date(2024, 10, 21), 2),
        (date(2024, 10, 28), 1),
    ]
    # deployment days per week: 2 (Sat, Sun) and 1 (Mon) → median 1.5
    assert weekly.median_deployment_days_per_week == 1.5
    daily = deployment_frequency(facts, period, "day")
    counts = {b.start: b.count for b in daily.buckets}
    assert (counts[date(2024, 10, 26)], counts[date(2024, 10, 27)]) == (1, 1)
    assert counts[date(2024, 10, 28)] == 1


def test_frequency_monthly_buckets_are_clipped_and_cut_at_local_midnight() -> None:
    period = Period(date(2024, 3, 15), date(2024, 5, 10), "Europe/Berlin")
    facts = deployments_of(
        deployment(berlin(2024, 3, 31, 23, 30)),
        deployment(berlin(2024, 4, 30, 23, 30)),
        deployment(berlin(2024, 5, 1, 0, 30)),  # 22:30 UTC on 30 April
    )
    result = deployment_frequency(facts, period, "month")
    assert result.buckets == (
        DeploymentCount(date(2024, 3, 1), 1, True),
        DeploymentCount(date(2024, 4, 1), 1, False),
        DeploymentCount(date(2024, 5, 1), 1, True),
    )


def test_deployment_days_use_whole_weeks_only_when_there_are_some() -> None:
    # Wed 3 … Tue 16 April: partial week (Wed-Sun), whole week of 8 April, partial (Mon-Tue)
    period = Period(date(2024, 4, 3), date(2024, 4, 16), "Europe/Berlin")
    facts = deployments_of(
        deployment(berlin(2024, 4, 3)),
        deployment(berlin(2024, 4, 4)),
        deployment(berlin(2024, 4, 5)),
        deployment(berlin(2024, 4, 10)),
        deployment(berlin(2024, 4, 15, 9)),
        deployment(berlin(2024, 4, 15, 17)),
    )
    result = deployment_frequency(facts, period)
    assert [(b.start, b.count, b.partial) for b in result.buckets] == [
        (date(2024, 4, 1), 3, True),
        (date(2024, 4, 8), 1, False),
        (date(2024, 4, 15), 2, True),
    ]
    assert result.median_deployment_days_per_week == 1.0  # only the whole week: 1 day
    assert (result.weeks_measured, result.measured_on_partial_weeks) == (1, False)

    # Wed 3 … Wed 10 April has no whole week: both partial weeks count (3 days, 1 day)
    short = Period(date(2024, 4, 3), date(2024, 4, 10), "Europe/Berlin")
    result = deployment_frequency(facts, short)
    assert result.median_deployment_days_per_week == 2.0
    assert (result.weeks_measured, result.measured_on_partial_weeks) == (2, True)
    assert result.total == 4
    assert result.per_week == 4 * 7 / 8


@pytest.mark.parametrize(
    ("days", "deployments", "bucket", "score", "level"),
    [
        (7, 14, "on demand (several a day)", 10.0, "elite"),  # r = 2 exactly
        (7, 13, "hourly to daily", 8.0, "elite"),  # r just below 2
        (7, 7, "hourly to daily", 8.0, "elite"),  # r = 1 exactly
        (7, 6, "daily to weekly", 6.0, "high"),  # r just below 1
        (7, 1, "daily to weekly", 6.0, "high"),  # r = 1/7 exactly
        (8, 1, "weekly to monthly", 4.0, "medium"),  # r just below 1/7
        (30, 1, "weekly to monthly", 4.0, "medium"),  # r = 1/30 exactly
        (31, 1, "monthly to every six months", 2.0, "low"),  # just below 1/30
        (182, 1, "monthly to every six months", 2.0, "low"),  # r = 1/182 exactly
        (183, 1, "fewer than every six months", 0.0, "low"),  # just below 1/182
    ],
)
def test_frequency_boundaries_through_the_metric(
    days: int, deployments: int, bucket: str, score: float, level: str
) -> None:
    period = Period(date(2024, 1, 1), date(2024, 1, 1) + timedelta(days=days - 1), "UTC")
    facts = deployments_of(
        *[deployment(datetime(2024, 1, 1, 9, i, tzinfo=UTC)) for i in range(deployments)]
    )
    result = deployment_frequency(facts, period)
    assert result.total == deployments
    assert (result.bucket, result.score, result.level) == (bucket, score, level)


@pytest.mark.parametrize(
    ("per_day", "score", "level"),
    [
        (2.0, 10.0, "elite"),
        (1.999, 8.0, "elite"),
        (1.0, 8.0, "elite"),
        (0.999, 6.0, "high"),
        (1 / 7, 6.0, "high"),
        (1 / 7 - 1e-9, 4.0, "medium"),
        (1 / 30, 4.0, "medium"),
        (1 / 30 - 1e-9, 2.0, "low"),
        (1 / 182, 2.0, "low"),
        (1 / 182 - 1e-9, 0.0, "low"),
        (0.0, 0.0, "low"),
    ],
)
def test_frequency_answer_and_level_boundaries(per_day: float, score: float, level: str) -> None:
    assert frequency_answer(per_day).score == score
    assert frequency_level(per_day) == level


# --- change lead time -----------------------------------------------------------------------


def test_lead_time_over_commits_and_parts_per_pull_request() -> None:
    first, second = berlin(2024, 4, 10), berlin(2024, 4, 12)
    changes = ChangeFacts.from_records(
        [
            # PR 100: three commits, one set of parts
            change(first, 259_200, 100, coding=1000, pickup=600, review=300, deploy=100),
            change(first, 172_800, 100, coding=1000, pickup=600, review=300, deploy=100),
            change(first, 86_400, 100, coding=1000, pickup=600, review=300, deploy=100),
            # PR 200: never reviewed
            change(first, 18_000, 200, coding=3000, deploy=200),
            # a commit pushed without a pull request
            change(first, 3_600),
            # PR 300, second deployment
            change(
                second,
                100_000,
                300,
                deployment_id=2,
                coding=5000,
                pickup=1800,
                review=900,
                deploy=400,
            ),
            # not counted: deployed before the period, and a non-positive lead time
            change(berlin(2024, 3, 30), 50_000, 400, coding=1, pickup=1, review=1, deploy=1),
            change(second, 0.0, 500, coding=1, pickup=1, review=1, deploy=1),
            change(second, -60.0, 500, coding=1, pickup=1, review=1, deploy=1),
        ]
    )
    result = change_lead_time(changes, APRIL_WEEKS)
    assert result.count == 6
    # sorted: 3600, 18000, 86400, 100000, 172800, 259200
    assert result.median_s == (86_400 + 100_000) / 2
    # rank 0.85 * 5 = 4.25 → 172800 + 0.25 * (259200 - 172800)
    assert result.p85_s == 194_400
    assert result.pull_requests == 3
    assert result.changes_without_pull_request == 1
    # per PR, not per commit (per commit coding would be the median of 1000 *3, 3000, 5000)
    assert result.coding_median_s == 3000
    assert result.pickup_median_s == 1200  # 600 and 1800; PR 200 has none
    assert result.review_median_s == 600  # 300 and 900
    assert result.deploy_median_s == 200  # 100, 200, 400
    # median 93 200 s ≥ 1 day
    assert (result.bucket, result.score, result.level) == ("one day to one week", 6.0, "high")


def test_pull_request_shipped_by_two_deployments_uses_the_last_one() -> None:
    changes = ChangeFacts.from_records(
        [
            change(berlin(2024, 4, 20), 7200, 700, deployment_id=5, deploy=-5000),
            change(berlin(2024, 4, 22), 9000, 700, deployment_id=6, deploy=1000),
        ]
    )
    result = change_lead_time(changes, APRIL_WEEKS)
    assert (result.count, result.pull_requests) == (2, 1)
    assert result.deploy_median_s == 1000
    assert result.coding_median_s is None


def test_lead_time_through_derived_change_facts() -> None:
    """A deployment shipping two PRs, one of them with three commits."""
    utc = UTC
    deploy = DeploymentRow(
        id=1,
        external_id="d1",
        service="api",
        environment="production",
        is_production=True,
        status="success",
        started_at=datetime(2024, 4, 10, 11, 0, tzinfo=utc),
        finished_at=datetime(2024, 4, 10, 12, 0, tzinfo=utc),
        is_rollback=False,
        rollback_of=None,
        value_stream_id=1,
        commits=[11, 12, 13, 21],
    )
    commit_times = {
        11: datetime(2024, 4, 8, 12, 0, tzinfo=utc),  # lead 2 days
        12: datetime(2024, 4, 9, 12, 0, tzinfo=utc),  # lead 1 day
        13: datetime(2024, 4, 10, 6, 0, tzinfo=utc),  # lead 6 hours
        21: datetime(2024, 4, 10, 10, 0, tzinfo=utc),  # lead 2 hours
    }
    big = PullRequestTimes(
        100,
        created_at=datetime(2024, 4, 10, 7, 0, tzinfo=utc),
        first_review_at=datetime(2024, 4, 10, 8, 0, tzinfo=utc),
        merged_at=datetime(2024, 4, 10, 9, 0, tzinfo=utc),
        first_commit_at=datetime(2024, 4, 8, 12, 0, tzinfo=utc),
    )
    small = PullRequestTimes(
        200,
        created_at=datetime(2024, 4, 10, 10, 30, tzinfo=utc),
        first_review_at=datetime(2024, 4, 10, 10, 40, tzinfo=utc),
        merged_at=datetime(2024, 4, 10, 11, 0, tzinfo=utc),
        first_commit_at=datetime(2024, 4, 10, 10, 0, tzinfo=utc),
    )
    _, change_rows = derive_service_facts(
        [deploy], [], commit_times, {11: big, 12: big, 13: big, 21: small}
    )
    result = change_lead_time(ChangeFacts.from_records(change_rows), APRIL_WEEKS)
    assert result.count == 4
    assert result.median_s == (6 * HOUR + DAY) / 2  # of 2 h, 6 h, 1 d, 2 d
    assert result.pull_requests == 2
    # coding: big 2 d - 5 h = 43 h, small 30 min → median 21.75 h
    assert result.coding_median_s == (43 * HOUR + 0.5 * HOUR) / 2
    assert result.pickup_median_s == (HOUR + 10 * 60) / 2
    assert result.review_median_s == (HOUR + 20 * 60) / 2
    assert result.deploy_median_s == (3 * HOUR + HOUR) / 2


# --- failures, recovery and rework --------------------------------------------------------


def april_service_history() -> tuple[DeploymentFacts, ChangeFacts]:
    """Derived facts of one service in April 2024 (UTC):

    d1 2 Apr 10:00 success, ships commits 1 and 2
    d2 3 Apr 10:00 failed status → recovered by d3 (next success) 12:30: 9000 s
    d3 3 Apr 12:30 success
    d4 5 Apr 09:00 success, caused an incident opened 09:30, resolved 10:00: 3600 s
    d5 5 Apr 09:40 success, started 09:35 while that incident was open → rework
    d6 20 Apr 12:00 success, caused an incident never resolved; rolled back by d7 → unrecovered
    d7 25 Apr 12:00 success, a rollback (and started during d6's incident) → rework
    s1 6 Apr failed staging deployment → ignored
    """

    def at(day: int, hour: int, minute: int = 0) -> datetime:
        return datetime(2024, 4, day, hour, minute, tzinfo=UTC)

    def row(
        id_: int,
        status: str,
        started: datetime,
        finished: datetime,
        *,
        production: bool = True,
        is_rollback: bool = False,
        rollback_of: str | None = None,
        commits: tuple[int, ...] = (),
    ) -> DeploymentRow:
        return DeploymentRow(
            id=id_,
            external_id=f"d{id_}",
            service="api",
            environment="production" if production else "staging",
            is_production=production,
            status=status,
            started_at=started,
            finished_at=finished,
            is_rollback=is_rollback,
            rollback_of=rollback_of,
            value_stream_id=1,
            commits=list(commits),
        )

    rows = [
        row(1, "success", at(2, 9, 50), at(2, 10), commits=(1, 2)),
        row(2, "failed", at(3, 9, 50), at(3, 10)),
        row(3, "success", at(3, 12), at(3, 12, 30)),
        row(4, "success", at(5, 8, 50), at(5, 9)),
        row(5, "success", at(5, 9, 35), at(5, 9, 40)),
        row(6, "success", at(20, 11, 50), at(20, 12)),
        row(7, "success", at(25, 11, 50), at(25, 12), is_rollback=True, rollback_of="d6"),
        row(8, "failed", at(6, 9), at(6, 10), production=False),
    ]
    incidents = [
        IncidentRow("api", at(5, 9, 30), at(5, 10), caused_by=4),
        IncidentRow("api", at(20, 13), None, caused_by=6),
    ]
    commit_times = {1: at(1, 10), 2: at(2, 9)}  # lead 1 day and 1 hour
    pull_request = PullRequestTimes(50, at(1, 12), at(1, 13), at(2, 9, 30), at(1, 10))
    facts, changes = derive_service_facts(
        rows, incidents, commit_times, {1: pull_request, 2: pull_request}
    )
    return DeploymentFacts.from_records(facts), ChangeFacts.from_records(changes)


APRIL = Period(date(2024, 4, 1), date(2024, 4, 30), "UTC")


def test_change_fail_rate_counts_failed_status_rollbacks_and_incidents() -> None:
    deployments, _ = april_service_history()
    result = change_fail_rate(deployments, APRIL)
    assert (result.deployments, result.failed) == (7, 3)  # d2, d4, d6 of d1…d7
    assert result.rate == 3 / 7
    assert result.score == 5.7  # 10 * 4/7 = 5.714…
    assert result.level == "low"  # 42.9 % is nearest the 40 % cluster


def test_recovery_by_next_success_by_incident_and_unrecovered() -> None:
    deployments, _ = april_service_history()
    result = recovery_time(deployments, APRIL)
    assert (result.failed, result.recovered, result.unrecovered) == (3, 2, 1)
    # d2: 9000 s to the next success; d4: 3600 s to its incident's resolution (not the 40 min
    # to d5, which is a later success)
    assert result.median_s == (9000 + 3600) / 2
    assert result.p85_s == pytest.approx(3600 + 0.85 * 5400)
    assert (result.bucket, result.score, result.level) == ("less than one day", 8.0, "high")


def test_rework_counts_rollbacks_and_deployments_during_incidents() -> None:
    deployments, _ = april_service_history()
    result = rework_rate(deployments, APRIL)
    assert (result.deployments, result.rework) == (7, 2)  # d5 and d7
    assert result.rate == 2 / 7
    assert result.score == 7.1  # 10 * 5/7 = 7.142…
    assert result.level is None
    assert result.level_table == "DORA 2024"


def test_summary_combines_the_five_metrics_into_factor_scores() -> None:
    deployments, changes = april_service_history()
    summary = dora_summary(deployments, changes, APRIL)
    assert summary.deployment_frequency.total == 6  # d1, d3, d4, d5, d6, d7
    assert summary.deployment_frequency.score == 6.0  # 6 / 30 a day
    lead = summary.change_lead_time
    assert (lead.count, lead.median_s, lead.pull_requests) == (2, (DAY + HOUR) / 2, 1)
    assert (lead.score, lead.level) == (8.0, "elite")
    assert lead.review_median_s == 20.5 * HOUR  # 1 Apr 13:00 → 2 Apr 09:30
    assert summary.recovery_time.score == 8.0
    assert summary.throughput_score == 7.3  # (8 + 6 + 8) / 3 = 7.33…
    assert summary.instability_score == 6.4  # (5.7 + 7.1) / 2


def test_non_production_deployments_are_ignored_everywhere() -> None:
    facts = deployments_of(
        deployment(berlin(2024, 4, 2), production=False),
        deployment(berlin(2024, 4, 3), production=False, succeeded=False, failed=True),
        deployment(berlin(2024, 4, 4), production=False, is_rework=True),
        deployment(berlin(2024, 4, 5), failed=True, succeeded=False, recovery_s=600),
        deployment(berlin(2024, 4, 5, 13)),
    )
    assert deployment_frequency(facts, APRIL_WEEKS).total == 1
    fail_rate = change_fail_rate(facts, APRIL_WEEKS)
    assert (fail_rate.deployments, fail_rate.failed, fail_rate.rate) == (2, 1, 0.5)
    assert recovery_time(facts, APRIL_WEEKS).median_s == 600
    assert rework_rate(facts, APRIL_WEEKS).rework == 0


def test_recovery_is_attributed_to_the_period_of_the_failure() -> None:
    facts = deployments_of(
        deployment(berlin(2024, 4, 28, 22), succeeded=False, failed=True, recovery_s=4 * HOUR),
        deployment(berlin(2024, 3, 31, 22), succeeded=False, failed=True, recovery_s=5 * DAY),
    )
    result = recovery_time(facts, APRIL_WEEKS)
    assert (result.failed, result.median_s) == (1, 4 * HOUR)


def test_empty_inputs_give_none_and_zero_counts() -> None:
    summary = dora_summary(DeploymentFacts.empty(), ChangeFacts.empty(), APRIL_WEEKS)
    frequency = summary.deployment_frequency
    assert [b.count for b in frequency.buckets] == [0, 0, 0, 0]
    assert (frequency.total, frequency.per_day, frequency.per_week) == (0, 0.0, 0.0)
    assert frequency.median_deployment_days_per_week == 0.0
    assert (frequency.score, frequency.level) == (0.0, "low")
    lead = summary.change_lead_time
    assert (lead.count, lead.pull_requests, lead.changes_without_pull_request) == (0, 0, 0)
    assert lead.median_s is None and lead.p85_s is None
    assert lead.coding_median_s is None and lead.deploy_median_s is None
    assert (lead.bucket, lead.score, lead.level) == (None, None, None)
    fail_rate = summary.change_fail_rate
    assert fail_rate.deployments == 0
    assert (fail_rate.rate, fail_rate.score, fail_rate.level) == (None, None, None)
    recovery = summary.recovery_time
    assert (recovery.failed, recovery.recovered, recovery.unrecovered) == (0, 0, 0)
    assert (recovery.median_s, recovery.p85_s, recovery.level) == (None, None, None)
    assert (summary.rework_rate.rate, summary.rework_rate.score) == (None, None)
    assert summary.throughput_score == 0.0  # only frequency has a score: zero deployments
    assert summary.instability_score is None


# --- answer, score and level boundaries -----------------------------------------------------


@pytest.mark.parametrize(
    ("seconds", "label", "score"),
    [
        (0.0, "less than one hour", 10.0),
        (HOUR - 0.001, "less than one hour", 10.0),
        (HOUR, "less than one day", 8.0),
        (DAY - 0.001, "less than one day", 8.0),
        (DAY, "one day to one week", 6.0),
        (WEEK - 0.001, "one day to one week", 6.0),
        (WEEK, "one week to one month", 4.0),
        (MONTH - 0.001, "one week to one month", 4.0),
        (MONTH, "one to six months", 2.0),
        (SIX_MONTHS - 0.001, "one to six months", 2.0),
        (SIX_MONTHS, "more than six months", 0.0),
    ],
)
def test_duration_answer_boundaries(seconds: float, label: str, score: float) -> None:
    answer = duration_answer(seconds)
    assert answer is not None
    assert (answer.label, answer.score) == (label, score)


def test_duration_boundaries_are_the_survey_units() -> None:
    assert (HOUR, DAY, WEEK, MONTH, SIX_MONTHS) == (3600, 86_400, 604_800, 2_592_000, 15_724_800)
    assert duration_answer(None) is None


@pytest.mark.parametrize(
    ("seconds", "level"),
    [
        (DAY - 0.001, "elite"),
        (DAY, "high"),
        (WEEK - 0.001, "high"),
        (WEEK, "medium"),
        (MONTH - 0.001, "medium"),
        (MONTH, "low"),
        (SIX_MONTHS * 2, "low"),
        (None, None),
    ],
)
def test_lead_time_level_boundaries(seconds: float | None, level: str | None) -> None:
    assert lead_time_level(seconds) == level


@pytest.mark.parametrize(
    ("seconds", "level"),
    [
        (HOUR - 0.001, "elite"),
        (HOUR, "high"),
        (DAY - 0.001, "high"),
        (DAY, "low"),
        (WEEK * 2, "low"),
        (None, None),
    ],
)
def test_recovery_level_boundaries(seconds: float | None, level: str | None) -> None:
    assert recovery_level(seconds) == level


@pytest.mark.parametrize(
    ("rate", "level"),
    [
        (0.0, "elite"),
        (0.075, "elite"),  # halfway between elite 5 % and medium 10 %: the better level
        (0.0751, "medium"),
        (0.10, "medium"),
        (0.1499, "medium"),
        (0.15, "high"),  # halfway between medium 10 % and high 20 %: high is better
        (0.20, "high"),
        (0.30, "high"),  # halfway between high 20 % and low 40 %
        (0.3001, "low"),
        (1.0, "low"),
        (None, None),
    ],
)
def test_change_fail_level_nearest_cluster(rate: float | None, level: str | None) -> None:
    assert change_fail_level(rate) == level


def test_change_fail_tie_from_counts_goes_to_the_better_level() -> None:
    facts = deployments_of(*[deployment(berlin(2024, 4, 2, 8, i), failed=i < 3) for i in range(20)])
    result = change_fail_rate(facts, APRIL_WEEKS)
    assert (result.rate, result.score, result.level) == (0.15, 8.5, "high")


@pytest.mark.parametrize(
    ("rate", "score"),
    [(0.0, 10.0), (1.0, 0.0), (0.15, 8.5), (1 / 3, 6.7), (0.04, 9.6), (None, None)],
)
def test_rate_score(rate: float | None, score: float | None) -> None:
    assert rate_score(rate) == score


# --- properties -----------------------------------------------------------------------------

BASE = datetime(2024, 3, 1, tzinfo=UTC)

random_deployment = st.builds(
    lambda hours, production, succeeded, failed, rework, recovery: deployment(
        BASE + timedelta(hours=hours),
        production=production,
        succeeded=succeeded,
        failed=failed,
        is_rework=rework,
        recovery_s=recovery if failed else None,
    ),
    st.floats(min_value=0, max_value=24 * 300, allow_nan=False),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.booleans(),
    st.none() | st.floats(min_value=1, max_value=SIX_MONTHS * 2),
)
random_period = st.builds(
    lambda offset, length, zone: Period(
        date(2024, 3, 1) + timedelta(days=offset),
        date(2024, 3, 1) + timedelta(days=offset + length),
        zone,
    ),
    st.integers(min_value=0, max_value=250),
    st.integers(min_value=0, max_value=80),
    st.sampled_from(["UTC", "Europe/Berlin", "America/New_York", "Australia/Lord_Howe"]),
)
grains: st.SearchStrategy[Grain] = st.sampled_from(["day", "week", "month"])


@settings(max_examples=150, deadline=None)
@given(st.lists(random_deployment, max_size=40), random_period, grains)
def test_rates_and_scores_stay_in_range(
    records: list[dict[str, Any]], period: Period, grain: Grain
) -> None:
    facts = DeploymentFacts.from_records(records)
    summary = dora_summary(facts, ChangeFacts.empty(), period, grain)
    frequency = summary.deployment_frequency
    assert sum(b.count for b in frequency.buckets) == frequency.total
    assert 0 <= frequency.median_deployment_days_per_week <= 7
    for rate in (summary.change_fail_rate.rate, summary.rework_rate.rate):
        assert rate is None or 0.0 <= rate <= 1.0
    scores = [
        frequency.score,
        summary.change_fail_rate.score,
        summary.recovery_time.score,
        summary.rework_rate.score,
        summary.throughput_score,
        summary.instability_score,
    ]
    assert all(score is None or 0.0 <= score <= 10.0 for score in scores)


@given(
    st.floats(min_value=0, max_value=SIX_MONTHS * 3),
    st.floats(min_value=0, max_value=SIX_MONTHS * 3),
)
def test_a_longer_duration_never_scores_higher(shorter: float, longer: float) -> None:
    shorter, longer = sorted((shorter, longer))
    short_answer, long_answer = duration_answer(shorter), duration_answer(longer)
    assert short_answer is not None and long_answer is not None
    assert 0.0 <= long_answer.score <= short_answer.score <= 10.0


@given(st.floats(min_value=0, max_value=50), st.floats(min_value=0, max_value=50))
def test_more_frequent_deployment_never_scores_lower(slower: float, faster: float) -> None:
    slower, faster = sorted((slower, faster))
    assert 0.0 <= frequency_answer(slower).score <= frequency_answer(faster).score <= 10.0
