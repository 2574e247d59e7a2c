"""Flow Framework metrics on small hand-built item sets; expected values worked out by hand."""

from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamwise.metrics.facts import ItemFacts
from streamwise.metrics.flow import (
    flow_distribution,
    flow_efficiency,
    flow_load,
    flow_time,
    flow_velocity,
)
from streamwise.metrics.period import Grain, Period

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0
DAY = 86400.0
# Monday 25 March to Sunday 7 April 2024: two whole ISO weeks; summer time starts Sunday 31 March
SPRING = Period(date(2024, 3, 25), date(2024, 4, 7), "Europe/Berlin")


def berlin(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=BERLIN)


def item(
    item_id: int,
    flow_item_type: str | None = "feature",
    *,
    started: datetime | None = None,
    done: datetime | None = None,
    canceled: datetime | None = None,
    active_s: float | None = None,
    waiting_s: float | None = None,
    flow_time_s: float | None = None,
) -> dict[str, Any]:
    """One item-fact record; flow time defaults to done - started, as derive computes it."""
    if flow_time_s is None and started is not None and done is not None:
        flow_time_s = (done - started).total_seconds()
    state = "done" if done else "canceled" if canceled else "active" if started else "new"
    return {
        "item_id": item_id,
        "value_stream_id": 1,
        "team_id": None,
        "flow_item_type": flow_item_type,
        "stage_id": None,
        "flow_state": state,
        "created_at": started or done or canceled or berlin(2024, 1, 1),
        "work_started_at": started,
        "done_at": done,
        "canceled_at": canceled,
        "flow_time_s": flow_time_s,
        "active_time_s": active_s,
        "waiting_time_s": waiting_s,
        "send_backs": 0,
        "first_seen_mid_flow": False,
    }


def items(*records: dict[str, Any]) -> ItemFacts:
    return ItemFacts.from_records(list(records))


# -- Flow Velocity ---------------------------------------------------------------------------


def test_velocity_counts_per_week_and_type_with_edges_and_exclusions() -> None:
    facts = items(
        item(1, "feature", done=berlin(2024, 3, 25)),  # the period's first instant: counted
        item(2, "defect", done=berlin(2024, 3, 31, 23, 30)),  # summer time already, week 1
        item(3, "feature", done=berlin(2024, 4, 1, 0, 30)),  # 31 March 22:30 UTC, but week 2
        item(4, "risk", done=berlin(2024, 4, 7, 23, 59)),
        item(5, "feature", done=berlin(2024, 4, 8)),  # first instant after the period
        item(6, "debt", done=berlin(2024, 3, 24, 23, 59)),  # before the period
        item(7, "ignore", done=berlin(2024, 3, 27)),  # not a flow item
        item(8, None, done=berlin(2024, 3, 27)),  # unmapped type
        item(9, "feature", started=berlin(2024, 3, 26)),  # still in progress
    )
    velocity = flow_velocity(facts, SPRING)
    assert velocity.bucket_starts == (date(2024, 3, 25), date(2024, 4, 1))
    assert velocity.partial == (False, False)
    assert velocity.per_bucket == (2, 2)
    assert velocity.per_bucket_by_type == {
        "feature": (1, 1),
        "defect": (1, 0),
        "risk": (0, 1),
        "debt": (0, 0),
    }
    assert velocity.by_type == {"feature": 2, "defect": 1, "risk": 1, "debt": 0}
    assert velocity.total == 4


def test_velocity_marks_clipped_weeks_partial() -> None:
    period = Period(date(2024, 3, 27), date(2024, 4, 2), "Europe/Berlin")  # Wednesday to Tuesday
    facts = items(item(1, done=berlin(2024, 3, 27, 9)), item(2, done=berlin(2024, 4, 2, 23)))
    velocity = flow_velocity(facts, period)
    assert velocity.bucket_starts == (date(2024, 3, 25), date(2024, 4, 1))
    assert velocity.partial == (True, True)
    assert velocity.per_bucket == (1, 1)


def test_velocity_days_follow_local_midnight_when_summer_time_starts() -> None:
    period = Period(date(2024, 3, 30), date(2024, 4, 1), "Europe/Berlin")
    facts = items(
        item(1, done=berlin(2024, 3, 31)),  # 30 March 23:00 UTC: Berlin's 31 March
        item(2, done=berlin(2024, 3, 31, 23, 59)),  # the 23-hour day's last minute
        item(3, done=datetime(2024, 3, 31, 22, 30, tzinfo=ZoneInfo("UTC"))),  # 00:30 on 1 April
    )
    velocity = flow_velocity(facts, period, grain="day")
    assert velocity.bucket_starts == (date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 1))
    assert velocity.per_bucket == (0, 2, 1)


def test_velocity_days_follow_local_midnight_when_summer_time_ends() -> None:
    period = Period(date(2024, 10, 26), date(2024, 10, 28), "Europe/Berlin")
    utc = ZoneInfo("UTC")
    facts = items(
        item(1, done=datetime(2024, 10, 26, 21, 59, tzinfo=utc)),  # 23:59 summer time, 26th
        item(2, done=datetime(2024, 10, 26, 22, 30, tzinfo=utc)),  # 00:30 on the 27th
        item(3, done=datetime(2024, 10, 27, 22, 30, tzinfo=utc)),  # 23:30 winter time, 27th
        item(4, done=datetime(2024, 10, 27, 23, 0, tzinfo=utc)),  # midnight starting the 28th
    )
    velocity = flow_velocity(facts, period, grain="day")
    assert velocity.per_bucket == (1, 2, 1)


# -- Flow Time -------------------------------------------------------------------------------


def test_flow_time_median_and_upper_percentiles_overall_and_per_type() -> None:
    start = berlin(2024, 3, 26, 9)
    facts = items(
        item(1, "feature", started=start, done=start + timedelta(days=1)),
        item(2, "defect", started=start, done=start + timedelta(days=2)),
        item(3, "feature", started=start, done=start + timedelta(days=3)),
        item(4, "feature", started=start - timedelta(days=5), done=start + timedelta(days=5)),
        item(5, "feature", done=start + timedelta(days=4)),  # New straight to Done: no flow time
        item(6, "feature", started=start),  # in progress
        item(7, "feature", started=start, done=berlin(2024, 4, 8)),  # done after the period
        item(8, "ignore", started=start, done=start + timedelta(days=9)),
    )
    result = flow_time(facts, SPRING)
    # 1, 2, 3, 10 days, linear between ranks (rank = (n - 1) q): median 2.5;
    # p85 rank 2.55 -> 3 + 0.55 * (10 - 3) = 6.85 days; p95 rank 2.85 -> 3 + 0.85 * 7 = 8.95
    assert result.overall.count == 4
    assert result.overall.median_s == pytest.approx(2.5 * DAY)
    assert result.overall.p85_s == pytest.approx(6.85 * DAY)
    assert result.overall.p95_s == pytest.approx(8.95 * DAY)
    # features 1, 3, 10 days: median 3; p85 rank 1.7 -> 3 + 0.7 * 7 = 7.9; p95 rank 1.9 -> 9.3
    feature = result.by_type["feature"]
    assert (feature.count, feature.median_s) == (3, pytest.approx(3 * DAY))
    assert feature.p85_s == pytest.approx(7.9 * DAY)
    assert feature.p95_s == pytest.approx(9.3 * DAY)
    defect = result.by_type["defect"]
    assert (defect.count, defect.median_s, defect.p95_s) == (1, 2 * DAY, 2 * DAY)
    assert result.by_type["risk"].count == 0
    assert result.by_type["risk"].median_s is None
    assert result.unmeasured == 1


# -- Flow Efficiency -------------------------------------------------------------------------


def test_flow_efficiency_aggregate_percentiles_and_histogram() -> None:
    start = berlin(2024, 3, 26, 9)
    facts = items(
        item(1, started=start, done=start + timedelta(days=4), active_s=1 * DAY, waiting_s=3 * DAY),
        item(2, started=start, done=start + timedelta(days=2), active_s=2 * DAY, waiting_s=0.0),
        # blocked the whole time: all of it is waiting
        item(3, started=start, done=start + timedelta(days=2), active_s=0.0, waiting_s=2 * DAY),
        item(4, started=start, done=start, active_s=0.0, waiting_s=0.0),  # zero flow time
        item(5, started=start, active_s=1 * DAY, waiting_s=0.0),  # in progress
        item(6, "debt", started=start, done=berlin(2024, 3, 24), active_s=DAY, waiting_s=DAY),
    )
    result = flow_efficiency(facts, SPRING)
    assert result.count == 3
    assert result.aggregate == pytest.approx(3 / 8)  # (1 + 2 + 0) / (4 + 2 + 2) days
    # per item 0, 0.25, 1: median 0.25; p25 rank 0.5 -> 0.125; p75 rank 1.5 -> 0.625
    assert result.median == pytest.approx(0.25)
    assert result.p25 == pytest.approx(0.125)
    assert result.p75 == pytest.approx(0.625)
    assert result.histogram_edges[0] == 0.0
    assert result.histogram_edges[-1] == 1.0
    assert len(result.histogram_edges) == 11
    assert result.histogram_counts == (1, 0, 1, 0, 0, 0, 0, 0, 0, 1)


# -- Flow Load -------------------------------------------------------------------------------


LOAD_PERIOD = Period(date(2024, 3, 30), date(2024, 4, 1), "Europe/Berlin")
# the days end at 31 March 00:00 (+01:00), 1 April 00:00 (+02:00) and 2 April 00:00 (+02:00)
LOAD_ITEMS = (
    item(1, "feature", started=berlin(2024, 3, 29, 10)),  # open throughout
    item(2, "feature", started=berlin(2024, 3, 30, 12), done=berlin(2024, 3, 31, 12)),
    item(3, "defect", started=berlin(2024, 4, 1)),  # starts at the instant day 2 ends
    item(4, "feature", started=berlin(2024, 3, 30, 8), canceled=berlin(2024, 3, 31)),
    item(5, "ignore", started=berlin(2024, 3, 29)),
    item(6, "feature"),  # never started
    item(
        7, "risk", started=berlin(2024, 3, 31, 10), done=berlin(2024, 4, 2)
    ),  # done at day 3's end
)


def test_flow_load_counts_work_in_progress_at_each_local_day_end() -> None:
    load = flow_load(items(*LOAD_ITEMS), LOAD_PERIOD)
    assert load.days == (date(2024, 3, 30), date(2024, 3, 31), date(2024, 4, 1))
    # day 1: items 1, 2; day 2: items 1, 3, 7; day 3: items 1, 3
    assert load.per_day == (2, 3, 2)
    assert load.mean == pytest.approx(7 / 3)
    assert load.max == 3
    assert load.at_period_end == 2


# -- Flow Distribution -----------------------------------------------------------------------


def test_flow_distribution_of_completed_and_in_progress_items() -> None:
    done_items = (
        item(11, "feature", started=berlin(2024, 3, 29), done=berlin(2024, 3, 30, 9)),
        item(12, "feature", started=berlin(2024, 3, 29), done=berlin(2024, 3, 31, 9)),
        item(13, "feature", started=berlin(2024, 3, 29), done=berlin(2024, 4, 1, 9)),
        item(14, "defect", started=berlin(2024, 3, 29), done=berlin(2024, 4, 1, 9)),
        item(15, "ignore", started=berlin(2024, 3, 29), done=berlin(2024, 4, 1, 9)),
    )
    result = flow_distribution(items(*LOAD_ITEMS, *done_items), LOAD_PERIOD)
    # completed: items 2, 11, 12, 13 (features) and 14 (defect); item 7 closes at the first
    # instant after the period and item 15 is not a flow item
    assert result.completed.counts == {"feature": 4, "defect": 1, "risk": 0, "debt": 0}
    assert result.completed.shares == {"feature": 0.8, "defect": 0.2, "risk": 0.0, "debt": 0.0}
    assert result.in_progress.counts == {"feature": 1, "defect": 1, "risk": 0, "debt": 0}
    assert result.in_progress.shares["feature"] == 0.5
    assert sum(result.in_progress.shares.values()) == pytest.approx(1.0)


# -- empty inputs ----------------------------------------------------------------------------


def test_empty_inputs_give_zeros_and_none() -> None:
    empty = ItemFacts.empty()
    velocity = flow_velocity(empty, SPRING)
    assert velocity.per_bucket == (0, 0)
    assert velocity.total == 0
    assert velocity.by_type["feature"] == 0
    times = flow_time(empty, SPRING)
    assert times.overall.count == 0
    assert times.overall.median_s is None
    assert times.overall.p95_s is None
    efficiency = flow_efficiency(empty, SPRING)
    assert efficiency.count == 0
    assert efficiency.aggregate is None
    assert efficiency.median is None
    assert efficiency.histogram_counts == (0,) * 10
    load = flow_load(empty, SPRING)
    assert load.per_day == (0,) * 14
    assert (load.mean, load.max, load.at_period_end) == (0.0, 0, 0)
    distribution = flow_distribution(empty, SPRING)
    assert distribution.completed.total == 0
    assert distribution.completed.shares == {}
    assert distribution.in_progress.shares == {}


# -- properties ------------------------------------------------------------------------------

TYPES = st.sampled_from(["feature", "defect", "risk", "debt", "ignore", None])
# offsets from the period start in minutes, spanning a week either side of SPRING
OFFSETS = st.one_of(st.none(), st.integers(min_value=-7 * 1440, max_value=21 * 1440))


def _at(offset_minutes: int | None) -> datetime | None:
    if offset_minutes is None:
        return None
    return berlin(2024, 3, 25) + timedelta(minutes=offset_minutes)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(st.tuples(TYPES, OFFSETS), max_size=40),
    st.sampled_from(["day", "week", "month"]),
)
def test_velocity_buckets_add_up_to_the_items_done_in_the_period(
    generated: list[tuple[str | None, int | None]], grain: Grain
) -> None:
    facts = items(*(item(n, kind, done=_at(offset)) for n, (kind, offset) in enumerate(generated)))
    velocity = flow_velocity(facts, SPRING, grain)
    # the period is 14 whole local days = 14 * 1440 minutes of wall clock from its start
    expected = sum(
        1
        for kind, offset in generated
        if kind in ("feature", "defect", "risk", "debt")
        and offset is not None
        and 0 <= offset < 14 * 1440
    )
    assert sum(velocity.per_bucket) == expected == velocity.total
    assert sum(velocity.by_type.values()) == expected
    for name, per_bucket in velocity.per_bucket_by_type.items():
        assert sum(per_bucket) == velocity.by_type[name]
    assert len(velocity.per_bucket) == len(velocity.bucket_starts) == len(velocity.partial)


@settings(max_examples=150, deadline=None)
@given(
    st.lists(
        st.tuples(
            st.floats(min_value=0, max_value=30 * DAY),
            st.floats(min_value=0, max_value=30 * DAY),
            st.integers(min_value=0, max_value=13 * 1440),
        ),
        max_size=30,
    )
)
def test_flow_efficiency_stays_between_zero_and_one(
    generated: list[tuple[float, float, int]],
) -> None:
    records = []
    for n, (active, waiting, done_offset) in enumerate(generated):
        done = _at(done_offset)
        assert done is not None
        started = done - timedelta(seconds=active + waiting)
        records.append(
            item(
                n,
                started=started,
                done=done,
                active_s=active,
                waiting_s=waiting,
                flow_time_s=active + waiting,
            )
        )
    result = flow_efficiency(items(*records), SPRING)
    assert result.count == sum(1 for active, waiting, _ in generated if active + waiting > 0)
    assert sum(result.histogram_counts) == result.count
    for value in (result.aggregate, result.median, result.p25, result.p75):
        if result.count:
            assert value is not None
            assert 0.0 <= value <= 1.0
        else:
            assert value is None


def test_flow_load_agrees_with_a_direct_count() -> None:
    """The sorted-array count equals the definition applied item by item (seeded data)."""
    rng = np.random.default_rng(7)
    start = SPRING.start_at
    records = []
    for n in range(300):
        begin = start + rng.uniform(-5, 14) * DAY
        end = begin + rng.uniform(0, 6) * DAY
        ending = rng.integers(0, 3)  # 0 done, 1 canceled, 2 still open
        records.append(
            item(
                n,
                str(rng.choice(["feature", "defect", "ignore"])),
                started=datetime.fromtimestamp(begin, BERLIN),
                done=datetime.fromtimestamp(end, BERLIN) if ending == 0 else None,
                canceled=datetime.fromtimestamp(end, BERLIN) if ending == 1 else None,
            )
        )
    load = flow_load(items(*records), SPRING)
    day_ends = [berlin(2024, 3, 26) + timedelta(days=d) for d in range(14)]  # local midnights
    expected = []
    for moment in day_ends:
        t = moment.timestamp()
        count = 0
        for record in records:
            if record["flow_item_type"] == "ignore":
                continue
            finish = record["done_at"] or record["canceled_at"]
            if record["work_started_at"].timestamp() <= t and (
                finish is None or t < finish.timestamp()
            ):
                count += 1
        expected.append(count)
    assert load.per_day == tuple(expected)
