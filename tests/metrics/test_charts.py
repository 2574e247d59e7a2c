"""Chart data: cumulative flow, cycle time scatter, aging WIP, throughput run and net flow."""

from datetime import date, datetime, timedelta
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamwise.metrics.charts import (
    aging_wip,
    cumulative_flow,
    cycle_time_scatter,
    net_flow,
    throughput_run,
)
from streamwise.metrics.facts import (
    ChangeFacts,
    DeploymentFacts,
    FactSet,
    ItemFacts,
    StageIntervals,
    StageTimes,
)
from streamwise.metrics.flow import flow_load
from streamwise.metrics.period import Period
from tests.metrics.test_flow import BERLIN, DAY, HOUR, SPRING, berlin, item, items
from tests.metrics.test_stages import (
    BACKLOG,
    CANCELED,
    DEV,
    DONE,
    HISTORY,
    JUNE,
    REVIEW,
    STAGES,
    TEST,
    _story,
    fact_set,
    june_stories,
)

# Saturday 26 to Monday 28 October 2024: summer time ends on Sunday the 27th (a 25-hour day).
# The days end at 27 Oct 00:00 (+02:00), 28 Oct 00:00 (+01:00) and 29 Oct 00:00 (+01:00).
AUTUMN = Period(date(2024, 10, 26), date(2024, 10, 28), "Europe/Berlin")


def oct_(day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(2024, 10, day, hour, minute, tzinfo=BERLIN)


def interval(item_id: int, stage: int, entered: datetime, left: datetime | None) -> dict[str, Any]:
    state = {BACKLOG: "new", DEV: "active", DONE: "done", CANCELED: "canceled"}[stage]
    return {
        "item_id": item_id,
        "value_stream_id": 1,
        "stage_id": stage,
        "flow_state": state,
        "blocked": False,
        "entered_at": entered,
        "left_at": left,
    }


def autumn_facts() -> FactSet:
    item_rows = [
        # 1: done on the 27th, reopened on the 28th, closed again 23:30 on the 28th
        item(1, started=oct_(26, 10), done=oct_(28, 23, 30)),
        item(2),  # waiting in the backlog
        item(3, started=oct_(25, 9), done=oct_(27, 23, 30)),  # 22:30 UTC, before the day ends
        item(4, started=oct_(26, 9), canceled=oct_(27, 9)),
        item(5, "ignore", started=oct_(20)),
        item(6, started=oct_(18), done=oct_(20)),  # done before the period
        item(7, started=oct_(28)),  # moves to Dev at the very instant the 27th ends
        item(8, started=oct_(27, 10), done=oct_(28)),  # closed at that same instant
    ]
    interval_rows = [
        interval(1, BACKLOG, oct_(25, 10), oct_(26, 10)),
        interval(1, DEV, oct_(26, 10), oct_(27, 12)),
        interval(1, DONE, oct_(27, 12), oct_(28, 9)),
        interval(1, DEV, oct_(28, 9), oct_(28, 23, 30)),
        interval(1, DONE, oct_(28, 23, 30), None),
        interval(2, BACKLOG, oct_(26, 8), None),
        interval(3, BACKLOG, oct_(24), oct_(25, 9)),
        interval(3, DEV, oct_(25, 9), oct_(27, 23, 30)),
        interval(3, DONE, oct_(27, 23, 30), None),
        interval(4, DEV, oct_(26, 9), oct_(27, 9)),
        interval(4, CANCELED, oct_(27, 9), None),
        interval(5, DEV, oct_(20), None),
        interval(6, DEV, oct_(18), oct_(20)),
        interval(6, DONE, oct_(20), None),
        interval(7, BACKLOG, oct_(25), oct_(28)),
        interval(7, DEV, oct_(28), None),
        interval(8, DEV, oct_(27, 10), oct_(28)),
        interval(8, DONE, oct_(28), None),
    ]
    return FactSet(
        items=ItemFacts.from_records(item_rows),
        intervals=StageIntervals.from_records(interval_rows),
        stage_times=StageTimes.empty(),
        deployments=DeploymentFacts.empty(),
        changes=ChangeFacts.empty(),
        stages=STAGES,
    )


# -- cumulative flow -------------------------------------------------------------------------


def test_cumulative_flow_bands_at_local_day_ends() -> None:
    cfd = cumulative_flow(autumn_facts(), AUTUMN)
    assert cfd.days == (date(2024, 10, 26), date(2024, 10, 27), date(2024, 10, 28))
    assert [band.name for band in cfd.bands] == ["Backlog", "Dev", "Review", "Test", "Done"]
    counts = {band.name: band.counts for band in cfd.bands}
    # Backlog: items 2 and 7, then 7 has moved to Dev at the instant the 27th ends
    assert counts["Backlog"] == (2, 1, 1)
    # Dev: 1, 3, 4 (5 is not a flow item); then 7 only: 1 sits in Done until it reopens on the
    # 28th and is closed again before that day ends, 3 is closed, 4 canceled
    assert counts["Dev"] == (3, 1, 1)
    assert counts["Review"] == (0, 0, 0)
    assert counts["Test"] == (0, 0, 0)
    # Done: 6 from the start; 3 by the end of the 27th (winter time: a UTC-day cut would miss
    # it) and 8, closed at the very instant the 27th ends (8 has left Dev at that instant, so
    # it is counted once); 1 only at its final close on the 28th, though first closed the 27th
    assert counts["Done"] == (1, 3, 4)
    done_band = cfd.bands[-1]
    assert (done_band.stage_id, done_band.flow_state) == (DONE, "done")


def test_cumulative_flow_of_nothing_is_all_zeros() -> None:
    empty = FactSet(
        ItemFacts.empty(),
        StageIntervals.empty(),
        StageTimes.empty(),
        DeploymentFacts.empty(),
        ChangeFacts.empty(),
        STAGES,
    )
    cfd = cumulative_flow(empty, AUTUMN)
    assert len(cfd.bands) == 5
    assert all(band.counts == (0, 0, 0) for band in cfd.bands)
    no_stages = cumulative_flow(
        FactSet(
            ItemFacts.empty(),
            StageIntervals.empty(),
            StageTimes.empty(),
            DeploymentFacts.empty(),
            ChangeFacts.empty(),
        ),
        AUTUMN,
    )
    assert [(band.name, band.stage_id) for band in no_stages.bands] == [("Done", None)]


@settings(max_examples=100, deadline=None)
@given(st.lists(st.tuples(HISTORY, st.booleans()), max_size=8))
def test_cumulative_flow_done_band_never_decreases(
    stories: list[tuple[list[tuple[int, Any]], bool]],
) -> None:
    """Histories with reopenings, cancellations and send-backs, derived like the real data."""
    facts = fact_set([_story(n, history, mid) for n, (history, mid) in enumerate(stories)])
    period = Period(date(2024, 6, 1), date(2024, 6, 20), "Europe/Berlin")
    cfd = cumulative_flow(facts, period)
    done = np.array(cfd.bands[-1].counts)
    assert (np.diff(done) >= 0).all()
    assert done[-1] == int((facts.items.done_at <= period.end_at).sum())
    for band in cfd.bands:
        assert len(band.counts) == 20
        assert min(band.counts) >= 0


# -- cycle time scatter ----------------------------------------------------------------------


def test_cycle_time_scatter_points_and_percentile_lines() -> None:
    facts = items(
        item(1, done=berlin(2024, 3, 25), flow_time_s=1 * DAY),  # at the period start
        item(2, "defect", done=berlin(2024, 3, 28, 12), flow_time_s=10 * DAY),
        item(3, done=berlin(2024, 3, 27), flow_time_s=2 * DAY),
        item(4, "risk", done=berlin(2024, 4, 7, 23, 59), flow_time_s=3 * DAY),
        item(5, done=berlin(2024, 4, 8), flow_time_s=DAY),  # first instant after the period
        item(6, started=berlin(2024, 3, 26)),  # in progress
        item(7, done=berlin(2024, 3, 29)),  # New straight to Done: no flow time, no point
        item(8, "ignore", done=berlin(2024, 3, 29), flow_time_s=DAY),
    )
    scatter = cycle_time_scatter(facts, SPRING)
    assert scatter.item_id == (1, 3, 2, 4)  # by finish time
    assert scatter.flow_time_s == (1 * DAY, 2 * DAY, 10 * DAY, 3 * DAY)
    assert scatter.flow_item_type == ("feature", "feature", "defect", "risk")
    assert scatter.done_at[0] == berlin(2024, 3, 25).timestamp()
    assert scatter.p50_s == pytest.approx(2.5 * DAY)
    assert scatter.p85_s == pytest.approx(6.85 * DAY)
    assert scatter.p95_s == pytest.approx(8.95 * DAY)
    empty = cycle_time_scatter(ItemFacts.empty(), SPRING)
    assert (empty.item_id, empty.p50_s, empty.p95_s) == ((), None, None)


# -- aging WIP -------------------------------------------------------------------------------


def test_aging_wip_against_stage_exit_percentiles() -> None:
    aging = aging_wip(fact_set(june_stories()), JUNE)
    dev, review, test = aging.stage_ages
    # ages when the period's done items last left each step (item 6, done in May, is out):
    # Dev 12, 24, 60 h -> p50 24, p85 rank 1.7 -> 24 + 0.7 * 36 = 49.2, p95 -> 56.4
    assert (dev.stage_id, dev.count) == (DEV, 3)
    assert dev.p50_s == pytest.approx(24 * HOUR)
    assert dev.p85_s == pytest.approx(49.2 * HOUR)
    assert dev.p95_s == pytest.approx(56.4 * HOUR)
    # Review 36, 48 h -> p50 42, p85 36 + 0.85 * 12 = 46.2, p95 47.4
    assert (review.stage_id, review.count) == (REVIEW, 2)
    assert review.p85_s == pytest.approx(46.2 * HOUR)
    assert review.p95_s == pytest.approx(47.4 * HOUR)
    # Test: all three left it (for the last time) 72 h after starting
    assert (test.stage_id, test.count, test.p50_s) == (TEST, 3, pytest.approx(72 * HOUR))
    # in progress on 17 June 00:00, oldest first: 4 (Review, since 12 June 10:00),
    # 9 (back in the backlog, since 14 June 10:00), 8 (Dev, since 15 June 10:00)
    assert aging.item_id == (4, 9, 8)
    assert aging.stage_id == (REVIEW, BACKLOG, DEV)
    assert aging.age_s == (110 * HOUR, 62 * HOUR, 38 * HOUR)
    assert aging.flow_item_type == ("risk", "debt", "feature")
    assert aging.over_p85 == (True, False, False)


def test_aging_wip_of_nothing() -> None:
    aging = aging_wip(fact_set([]), JUNE)
    assert aging.item_id == ()
    assert aging.over_p85 == ()
    assert [(a.count, a.p85_s) for a in aging.stage_ages] == [(0, None)] * 3


# -- throughput run and net flow -------------------------------------------------------------


NET_ITEMS = (
    item(1, started=berlin(2024, 3, 20), done=berlin(2024, 3, 26)),
    item(2, started=berlin(2024, 3, 26), done=berlin(2024, 4, 2)),
    item(3, started=berlin(2024, 4, 1)),  # the first instant of week 2
    item(4, started=berlin(2024, 3, 31, 23, 30), canceled=berlin(2024, 4, 3)),
    item(5, started=berlin(2024, 4, 8)),  # after the period
    item(6, "ignore", started=berlin(2024, 3, 26), done=berlin(2024, 3, 27)),
)


def test_throughput_run_per_week_and_day() -> None:
    weekly = throughput_run(items(*NET_ITEMS), SPRING)
    assert weekly.bucket_starts == (date(2024, 3, 25), date(2024, 4, 1))
    assert weekly.counts == (1, 1)
    assert weekly.total == 2
    daily = throughput_run(items(*NET_ITEMS), SPRING, grain="day")
    assert len(daily.counts) == 14
    assert daily.counts[1] == 1  # 26 March
    assert daily.counts[8] == 1  # 2 April
    assert daily.total == 2


def test_net_flow_arrivals_minus_departures() -> None:
    flow = net_flow(items(*NET_ITEMS), SPRING)
    assert flow.arrivals == (2, 1)  # items 2 and 4; item 3
    assert flow.departures == (1, 1)  # items 1; 2
    assert flow.net == (1, 0)
    assert flow.canceled == (0, 1)  # item 4: not a departure
    assert flow.partial == (False, False)
    empty = net_flow(ItemFacts.empty(), SPRING, grain="month")
    assert empty.bucket_starts == (date(2024, 3, 1), date(2024, 4, 1))
    assert empty.partial == (True, True)
    assert (empty.arrivals, empty.net) == ((0, 0), (0, 0))


def test_net_flow_over_the_period_explains_the_change_in_load() -> None:
    """Load at the end = load at the start + arrivals - departures - cancellations."""
    rng = np.random.default_rng(11)
    records = []
    for n in range(200):
        begin = SPRING.start_at + rng.uniform(-10, 16) * DAY
        end = begin + rng.uniform(0, 9) * DAY
        kind = int(rng.integers(0, 3))
        records.append(
            item(
                n,
                started=datetime.fromtimestamp(begin, BERLIN),
                done=datetime.fromtimestamp(end, BERLIN) if kind == 0 else None,
                canceled=datetime.fromtimestamp(end, BERLIN) if kind == 1 else None,
            )
        )
    facts = items(*records)
    flow = net_flow(facts, SPRING, grain="day")
    before = Period(
        SPRING.start - timedelta(days=1), SPRING.start - timedelta(days=1), "Europe/Berlin"
    )
    load_before = flow_load(facts, before).at_period_end
    load_after = flow_load(facts, SPRING).at_period_end
    # (random float times never fall exactly on a midnight, where the two would disagree)
    assert load_after == load_before + sum(flow.arrivals) - sum(flow.departures) - sum(
        flow.canceled
    )
