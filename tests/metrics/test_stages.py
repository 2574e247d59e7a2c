"""Value stream map figures from item histories run through the real timeline derivation."""

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from streamwise.derive.timeline import Step, derive_timeline
from streamwise.metrics.facts import (
    ChangeFacts,
    DeploymentFacts,
    FactSet,
    ItemFacts,
    StageInfo,
    StageIntervals,
    StageTimes,
)
from streamwise.metrics.flow import flow_efficiency
from streamwise.metrics.period import Period
from streamwise.metrics.stages import stage_figures

BERLIN = ZoneInfo("Europe/Berlin")
HOUR = 3600.0
BACKLOG, DEV, REVIEW, TEST, DONE, CANCELED = 10, 20, 30, 40, 50, 60
STAGES = (
    StageInfo(BACKLOG, 1, 0, "Backlog", "new"),
    StageInfo(CANCELED, 1, 5, "Canceled", "canceled"),
    StageInfo(TEST, 1, 3, "Test", "active", True),
    StageInfo(DEV, 1, 1, "Dev", "active", True),
    StageInfo(REVIEW, 1, 2, "Review", "active", True),
    StageInfo(DONE, 1, 4, "Done", "done"),
)  # deliberately not in flow order: the figures must sort by position
POSITIONS = {stage.id: stage.position for stage in STAGES}
STARTED = ("active", "waiting")


def berlin(month: int, day: int, hour: int = 0) -> datetime:
    return datetime(2024, month, day, hour, tzinfo=BERLIN)


@dataclass
class Story:
    """An item's history as moves: ``(at, stage, state)`` status changes or ``(at, "blocked")``
    / ``(at, "unblocked")`` flags. The item is created in ``initial``."""

    item_id: int
    flow_item_type: str | None
    created: datetime
    moves: list[tuple[Any, ...]]
    initial: tuple[int | None, str | None] = (BACKLOG, "new")
    first_seen_mid_flow: bool = False
    steps: list[Step] = field(default_factory=list)


def fact_set(stories: list[Story], stages: tuple[StageInfo, ...] = STAGES) -> FactSet:
    """Item facts, intervals and stage times as the derive step makes them (work started =
    first move into active or waiting, done = last move into done when the item is done)."""
    item_rows: list[dict[str, Any]] = []
    interval_rows: list[dict[str, Any]] = []
    time_rows: list[dict[str, Any]] = []
    for story in stories:
        stage, state = story.initial
        steps: list[Step] = []
        for move in story.moves:
            if len(move) == 3:
                at, to_stage, to_state = move
                steps.append(Step(at, "status", stage, to_stage, state, to_state))
                stage, state = to_stage, to_state
            else:
                steps.append(Step(move[0], move[1]))
        started = story.created if story.first_seen_mid_flow else None
        if started is None:
            started = next((s.at for s in steps if s.to_state in STARTED), None)
        done = None
        if state == "done":
            done = next(s.at for s in reversed(steps) if s.to_state == "done")
        timeline = derive_timeline(story.created, stage, state, started, done, steps, POSITIONS)
        item_rows.append(
            {
                "item_id": story.item_id,
                "value_stream_id": 1,
                "team_id": None,
                "flow_item_type": story.flow_item_type,
                "stage_id": stage,
                "flow_state": state,
                "created_at": story.created,
                "work_started_at": started,
                "done_at": done,
                "canceled_at": timeline.canceled_at,
                "flow_time_s": timeline.flow_time_s,
                "active_time_s": timeline.active_s,
                "waiting_time_s": timeline.waiting_s,
                "send_backs": timeline.send_backs,
                "first_seen_mid_flow": story.first_seen_mid_flow,
            }
        )
        interval_rows.extend(
            {
                "item_id": story.item_id,
                "value_stream_id": 1,
                "stage_id": interval.stage,
                "flow_state": interval.state,
                "blocked": interval.blocked,
                "entered_at": interval.entered_at,
                "left_at": interval.left_at,
            }
            for interval in timeline.intervals
        )
        time_rows.extend(
            {
                "item_id": story.item_id,
                "value_stream_id": 1,
                "stage_id": stage_id,
                "active_s": times.active_s,
                "waiting_s": times.waiting_s,
                "entries": times.entries,
                "sent_back_into": times.sent_back_into,
            }
            for stage_id, times in timeline.stage_times.items()
        )
    return FactSet(
        items=ItemFacts.from_records(item_rows),
        intervals=StageIntervals.from_records(interval_rows),
        stage_times=StageTimes.from_records(time_rows),
        deployments=DeploymentFacts.empty(),
        changes=ChangeFacts.empty(),
        stages=stages,
    )


# Monday 3 June to Sunday 16 June 2024: two weeks; the days end at local midnights 4 … 17 June
JUNE = Period(date(2024, 6, 3), date(2024, 6, 16), "Europe/Berlin")


def june_stories() -> list[Story]:
    return [
        # 1: through every step; waits 6 h in Review's queue. Flow 72 h:
        #    Dev active 24 | Review waiting 6, active 18 | Test active 24
        Story(
            1,
            "feature",
            berlin(6, 3, 9),
            [
                (berlin(6, 3, 10), DEV, "active"),
                (berlin(6, 4, 10), REVIEW, "waiting"),
                (berlin(6, 4, 16), REVIEW, "active"),
                (berlin(6, 5, 10), TEST, "active"),
                (berlin(6, 6, 10), DONE, "done"),
            ],
        ),
        # 2: skips Review, blocked 12 h in Dev, sent back from Test into Dev. Flow 72 h:
        #    Dev active 12 + 12 + 12, waiting (blocked) 12 | Test active 12 + 12
        Story(
            2,
            "defect",
            berlin(6, 3, 8),
            [
                (berlin(6, 4, 8), DEV, "active"),
                (berlin(6, 4, 20), "blocked"),
                (berlin(6, 5, 8), "unblocked"),
                (berlin(6, 5, 20), TEST, "active"),
                (berlin(6, 6, 8), DEV, "active"),
                (berlin(6, 6, 20), TEST, "active"),
                (berlin(6, 7, 8), DONE, "done"),
            ],
        ),
        # 3: reopened after done (a send-back into Test), closed again 13 June. Flow 72 h:
        #    Dev active 12 | Review waiting 12, active 12 | Test active 12 + 12 | Done 12 waiting
        Story(
            3,
            "feature",
            berlin(6, 10, 9),
            [
                (berlin(6, 10, 10), DEV, "active"),
                (berlin(6, 10, 22), REVIEW, "waiting"),
                (berlin(6, 11, 10), REVIEW, "active"),
                (berlin(6, 11, 22), TEST, "active"),
                (berlin(6, 12, 10), DONE, "done"),
                (berlin(6, 12, 22), TEST, "active"),
                (berlin(6, 13, 10), DONE, "done"),
            ],
        ),
        # 4: in flight, waiting for review at the period end
        Story(
            4,
            "risk",
            berlin(6, 12, 9),
            [(berlin(6, 12, 10), DEV, "active"), (berlin(6, 14, 10), REVIEW, "waiting")],
        ),
        # 5: canceled
        Story(
            5,
            "feature",
            berlin(6, 4, 9),
            [(berlin(6, 5, 9), DEV, "active"), (berlin(6, 8, 9), CANCELED, "canceled")],
        ),
        # 6: done before the period
        Story(
            6,
            "feature",
            berlin(5, 27, 9),
            [(berlin(5, 28, 10), DEV, "active"), (berlin(5, 30, 10), DONE, "done")],
        ),
        # 7: not a flow item; would otherwise add to Dev and to the done items
        Story(
            7,
            "ignore",
            berlin(6, 5, 9),
            [(berlin(6, 5, 10), DEV, "active"), (berlin(6, 6, 10), DONE, "done")],
        ),
        # 8: in flight in Dev
        Story(8, "feature", berlin(6, 15, 9), [(berlin(6, 15, 10), DEV, "active")]),
        # 9: started, then moved back to the backlog: in progress, but in no process step
        Story(
            9,
            "debt",
            berlin(6, 14, 9),
            [(berlin(6, 14, 10), DEV, "active"), (berlin(6, 15, 10), BACKLOG, "new")],
        ),
    ]


def test_stage_figures_per_process_step() -> None:
    figures = stage_figures(fact_set(june_stories()), JUNE)
    assert figures.items_done == 3  # items 1, 2, 3
    assert [s.name for s in figures.stages] == ["Dev", "Review", "Test"]
    dev, review, test = figures.stages

    # Dev: items 1, 2, 3; active 24, 36, 12 h; waiting 0, 12, 0 h; item 2 sent back into it
    assert dev.items_entered == 3
    assert dev.process_time_s == pytest.approx(24 * HOUR)
    assert dev.process_time_median_s == pytest.approx(24 * HOUR)
    assert dev.wait_time_s == pytest.approx(4 * HOUR)
    assert dev.wait_time_median_s == 0.0
    assert dev.lead_time_s == pytest.approx(28 * HOUR)
    assert dev.items_sent_back == 1
    assert dev.pca_proxy == pytest.approx(2 / 3)
    assert dev.throughput_per_week == pytest.approx(1.5)  # 3 items in 2 weeks
    assert dev.active_total_s == pytest.approx(72 * HOUR)
    assert dev.waiting_total_s == pytest.approx(12 * HOUR)

    # Review: skipped by item 2, so only items 1 and 3: active 18, 12 h; waiting 6, 12 h
    assert review.items_entered == 2
    assert review.process_time_s == pytest.approx(15 * HOUR)
    assert review.wait_time_s == pytest.approx(9 * HOUR)
    assert review.lead_time_s == pytest.approx(24 * HOUR)
    assert review.pca_proxy == 1.0
    assert review.throughput_per_week == pytest.approx(1.0)

    # Test: 24 h active for each; item 3's reopening counts as a send-back into Test
    assert test.items_entered == 3
    assert test.process_time_s == pytest.approx(24 * HOUR)
    assert test.wait_time_s == 0.0
    assert test.items_sent_back == 1
    assert test.pca_proxy == pytest.approx(2 / 3)


def test_stage_wip_at_end_and_daily_average() -> None:
    dev, review, test = stage_figures(fact_set(june_stories()), JUNE).stages
    # at 17 June 00:00: item 8 in Dev, item 4 in Review; item 9 is back in the backlog
    assert (dev.wip_at_end, review.wip_at_end, test.wip_at_end) == (1, 1, 0)
    # day ends inside a Dev interval: item 1 (4th), 2 (5th, blocked), 4 (13th, 14th),
    # 5 (6th, 7th, 8th), 8 (16th, 17th), 9 (15th) = 10 of 14 days; item 7 is ignored
    assert dev.wip_average == pytest.approx(10 / 14)
    # Review: item 1 (5th), 3 (11th), 4 (15th, 16th, 17th); Test: 1 (6th), 2 (6th, 7th),
    # 3 (12th, 13th)
    assert review.wip_average == pytest.approx(5 / 14)
    assert test.wip_average == pytest.approx(5 / 14)


def test_whole_stream_totals_and_bottleneck() -> None:
    figures = stage_figures(fact_set(june_stories()), JUNE)
    assert figures.total_lead_time_s == pytest.approx((28 + 24 + 24) * HOUR)
    assert figures.total_process_time_s == pytest.approx((24 + 15 + 24) * HOUR)
    assert figures.activity_ratio == pytest.approx(63 / 76)
    assert figures.rolled_pca_proxy == pytest.approx(2 / 3 * 1 * 2 / 3)
    # all waiting of the done items: Dev 12 + Review 18 + item 3's 12 h back in Done = 42 h
    assert figures.total_waiting_s == pytest.approx(42 * HOUR)
    assert figures.total_active_s == pytest.approx(174 * HOUR)
    assert figures.total_active_s + figures.total_waiting_s == pytest.approx(3 * 72 * HOUR)
    assert figures.bottleneck_stage_id == REVIEW
    assert figures.bottleneck_waiting_share == pytest.approx(18 / 42)


def test_blocked_time_counts_as_waiting_in_flow_efficiency() -> None:
    facts = fact_set(june_stories())
    efficiency = flow_efficiency(facts.items, JUNE)
    # items 1, 2, 3: waiting 6, 12 (blocked), 24 h of 3 x 72 h
    assert efficiency.count == 3
    assert efficiency.aggregate == pytest.approx(1 - 42 / 216)
    assert efficiency.median == pytest.approx(60 / 72)  # per item 66/72, 60/72, 48/72


def test_empty_fact_set_gives_none_and_zeros() -> None:
    figures = stage_figures(fact_set([]), JUNE)
    assert figures.items_done == 0
    assert len(figures.stages) == 3
    for stage in figures.stages:
        assert stage.items_entered == 0
        assert stage.process_time_s is None
        assert stage.lead_time_s is None
        assert stage.pca_proxy is None
        assert stage.wip_at_end == 0
        assert stage.wip_average == 0.0
        assert stage.throughput_per_week == 0.0
    assert figures.total_lead_time_s is None
    assert figures.activity_ratio is None
    assert figures.rolled_pca_proxy is None
    assert figures.bottleneck_stage_id is None
    assert figures.bottleneck_waiting_share is None
    assert stage_figures(fact_set([], stages=()), JUNE).stages == ()


# -- property: stage rows add up to flow time ------------------------------------------------

MOVES = st.one_of(
    st.tuples(st.just(DEV), st.sampled_from(["active", "waiting"])),
    st.tuples(st.just(REVIEW), st.sampled_from(["active", "waiting"])),
    st.tuples(st.just(TEST), st.just("active")),
    st.tuples(st.just(BACKLOG), st.just("new")),
    st.tuples(st.none(), st.none()),  # an unmapped status
    st.tuples(st.just(DONE), st.just("done")),
    st.tuples(st.just(CANCELED), st.just("canceled")),
    st.just("blocked"),
    st.just("unblocked"),
)
HISTORY = st.lists(st.tuples(st.integers(min_value=0, max_value=3000), MOVES), max_size=12)


def _story(item_id: int, history: list[tuple[int, Any]], mid_flow: bool) -> Story:
    moment = berlin(6, 3, 9)
    moves: list[tuple[Any, ...]] = []
    for gap_minutes, move in history:
        moment += timedelta(minutes=gap_minutes)
        moves.append((moment, move) if isinstance(move, str) else (moment, *move))
    initial = (DEV, "active") if mid_flow else (BACKLOG, "new")
    return Story(item_id, "feature", berlin(6, 3, 9), moves, initial, mid_flow)


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(HISTORY, st.booleans()), max_size=8))
def test_stage_rows_add_up_to_flow_time(stories: list[tuple[list[tuple[int, Any]], bool]]) -> None:
    facts = fact_set([_story(n, history, mid) for n, (history, mid) in enumerate(stories)])
    everything = Period(date(2024, 6, 1), date(2024, 12, 31), "Europe/Berlin")
    items = facts.items
    done = everything.contains(items.done_at)
    measured = done & np.isfinite(items.flow_time_s)  # New straight to Done has no flow time
    for item_id, flow_time_s in zip(
        items.item_id[measured], items.flow_time_s[measured], strict=True
    ):
        rows = facts.stage_times.item_id == item_id
        in_stages = (facts.stage_times.active_s[rows] + facts.stage_times.waiting_s[rows]).sum()
        assert in_stages == pytest.approx(flow_time_s, abs=1e-6)
    figures = stage_figures(facts, everything)
    total_flow = float(items.flow_time_s[measured].sum())
    assert figures.items_done == int(done.sum())
    assert figures.total_active_s + figures.total_waiting_s == pytest.approx(total_flow, abs=1e-6)
    steps_total = sum(s.active_total_s + s.waiting_total_s for s in figures.stages)
    assert steps_total <= total_flow + 1e-6
    for stage in figures.stages:
        if stage.pca_proxy is not None:
            assert 0.0 <= stage.pca_proxy <= 1.0
