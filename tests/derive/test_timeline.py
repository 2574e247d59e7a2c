"""One item's history → intervals and flow figures, checked by hand.

Moments are epoch microseconds, as derive reads them from the database."""

from datetime import UTC, datetime
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from streamwise.derive.timeline import (
    Interval,
    Step,
    build_intervals,
    derive_timeline,
    from_micros,
    to_micros,
)

T0 = to_micros(datetime(2025, 3, 3, 9, 0, tzinfo=UTC))
HOUR = 3_600_000_000
BACKLOG, DEV, TEST, DONE = 1, 2, 3, 4
POSITIONS = {BACKLOG: 0, DEV: 1, TEST: 2, DONE: 3}


def h(hours: float) -> int:
    return T0 + round(hours * HOUR)


def status(
    at: float, before: tuple[int | None, str | None], after: tuple[int | None, str | None]
) -> Step[int]:
    return Step(h(at), "status", before[0], after[0], before[1], after[1])


NEW = (BACKLOG, "new")
DEV_ACTIVE = (DEV, "active")
TEST_QUEUE = (TEST, "waiting")
TEST_ACTIVE = (TEST, "active")
CLOSED = (DONE, "done")


def test_send_back_blocked_period_and_times() -> None:
    steps = [
        status(1, NEW, DEV_ACTIVE),  # work starts at +1h
        status(5, DEV_ACTIVE, TEST_QUEUE),
        Step(h(6), "blocked"),
        Step(h(8), "unblocked"),
        status(10, TEST_QUEUE, TEST_ACTIVE),
        status(12, TEST_ACTIVE, DEV_ACTIVE),  # sent back to development
        status(15, DEV_ACTIVE, TEST_ACTIVE),  # skips the test queue
        status(17, TEST_ACTIVE, CLOSED),
    ]
    timeline = derive_timeline(T0, DONE, "done", h(1), h(17), steps, POSITIONS)
    assert [(i.stage, i.state, i.blocked) for i in timeline.intervals] == [
        (BACKLOG, "new", False),
        (DEV, "active", False),
        (TEST, "waiting", False),
        (TEST, "waiting", True),
        (TEST, "waiting", False),
        (TEST, "active", False),
        (DEV, "active", False),
        (TEST, "active", False),
        (DONE, "done", False),
    ]
    assert timeline.intervals[-1].left_at is None
    # Active: dev 1→5 (4h) + test 10→12 (2h) + dev 12→15 (3h) + test 15→17 (2h) = 11h.
    assert timeline.active_s == 11 * 3600
    # Waiting: the test queue 5→10, including the blocked 6→8: 5h.
    assert timeline.waiting_s == 5 * 3600
    assert timeline.flow_time_s == 16 * 3600 == timeline.active_s + timeline.waiting_s
    assert timeline.send_backs == 1
    dev, test = timeline.stage_times[DEV], timeline.stage_times[TEST]
    assert (dev.active_s, dev.waiting_s, dev.entries, dev.sent_back_into) == (7 * 3600, 0, 2, 1)
    assert (test.active_s, test.waiting_s, test.entries, test.sent_back_into) == (
        4 * 3600,
        5 * 3600,
        2,
        0,
    )
    assert BACKLOG not in timeline.stage_times or timeline.stage_times[BACKLOG].active_s == 0


def test_blocked_while_active_counts_as_waiting() -> None:
    steps = [
        status(0, NEW, DEV_ACTIVE),
        Step(h(2), "blocked"),
        Step(h(3), "unblocked"),
        status(4, DEV_ACTIVE, CLOSED),
    ]
    timeline = derive_timeline(T0, DONE, "done", h(0), h(4), steps, POSITIONS)
    assert (timeline.active_s, timeline.waiting_s) == (3 * 3600, 1 * 3600)


def test_reopen_after_done_counts_until_the_final_close() -> None:
    steps = [
        status(1, NEW, DEV_ACTIVE),
        status(2, DEV_ACTIVE, CLOSED),
        status(5, CLOSED, DEV_ACTIVE),  # reopened: a move back from Done is a send-back
        status(6, DEV_ACTIVE, CLOSED),
    ]
    timeline = derive_timeline(T0, DONE, "done", h(1), h(6), steps, POSITIONS)
    assert timeline.flow_time_s == 5 * 3600
    # Time sitting in Done before the reopen is not active work: it is waiting.
    assert (timeline.active_s, timeline.waiting_s) == (2 * 3600, 3 * 3600)
    assert timeline.send_backs == 1


def test_item_first_seen_mid_flow_counts_from_creation() -> None:
    timeline = derive_timeline(T0, DEV, "active", T0, None, [], POSITIONS)
    assert [(i.stage, i.state, i.entered_at, i.left_at) for i in timeline.intervals] == [
        (DEV, "active", T0, None)
    ]
    assert timeline.flow_time_s is None
    assert timeline.stage_times[DEV].entries == 1


def test_in_flight_item_counts_up_to_its_last_change() -> None:
    steps = [status(1, NEW, DEV_ACTIVE), status(3, DEV_ACTIVE, TEST_QUEUE)]
    timeline = derive_timeline(T0, TEST, "waiting", h(1), None, steps, POSITIONS)
    assert (timeline.active_s, timeline.waiting_s, timeline.flow_time_s) == (7200.0, 0.0, None)


def test_canceled_item_records_when() -> None:
    steps = [status(1, NEW, DEV_ACTIVE), status(2, DEV_ACTIVE, (None, "canceled"))]
    timeline = derive_timeline(T0, None, "canceled", h(1), None, steps, POSITIONS)
    assert timeline.canceled_at == h(2)


def test_unmapped_status_time_is_waiting_in_no_stage() -> None:
    steps = [
        status(0, NEW, DEV_ACTIVE),
        status(1, DEV_ACTIVE, (None, None)),
        status(3, (None, None), CLOSED),
    ]
    timeline = derive_timeline(T0, DONE, "done", h(0), h(3), steps, POSITIONS)
    assert timeline.stage_times[None].waiting_s == 7200
    assert timeline.active_s + timeline.waiting_s == timeline.flow_time_s


STATES = [NEW, DEV_ACTIVE, TEST_QUEUE, TEST_ACTIVE, (None, None), CLOSED]


MOVES = st.lists(
    st.tuples(
        st.integers(0, 500),
        st.sampled_from(["status", "blocked", "unblocked"]),
        st.integers(0, len(STATES) - 1),
    ),
    min_size=1,
    max_size=25,
)


def history(moves: list[tuple[int, str, int]]) -> tuple[list[Step[int]], int, int]:
    """Steps (``minutes`` apart, 0: at the same moment) ending in Done, work start, done."""
    steps: list[Step[int]] = []
    at = 0
    state = NEW
    started = None
    for minutes, kind, target in moves:
        at += minutes * 60_000_000
        if kind == "status":
            new_state = STATES[target]
            steps.append(Step(T0 + at, "status", state[0], new_state[0], state[1], new_state[1]))
            if started is None and new_state[1] in ("active", "waiting"):
                started = T0 + at
            state = new_state
        else:
            steps.append(Step(T0 + at, kind))
    at += HOUR
    steps.append(Step(T0 + at, "status", state[0], CLOSED[0], state[1], CLOSED[1]))
    return steps, T0 + at if started is None else started, T0 + at


@given(moves=MOVES)
def test_stage_times_add_up_to_flow_time(moves: list[tuple[int, str, int]]) -> None:
    """Property: for any history ending in Done, the per-stage times sum to the flow time."""
    steps, started, done = history(moves)
    timeline = derive_timeline(T0, DONE, "done", started, done, steps, POSITIONS)
    assert timeline.flow_time_s is not None
    total = sum(t.active_s + t.waiting_s for t in timeline.stage_times.values())
    assert abs(total - timeline.flow_time_s) < 1e-6
    assert abs(timeline.active_s + timeline.waiting_s - timeline.flow_time_s) < 1e-6
    assert 0 <= timeline.active_s <= timeline.flow_time_s


def test_intervals_are_contiguous() -> None:
    steps = [status(1, NEW, DEV_ACTIVE), Step(h(2), "blocked"), status(3, DEV_ACTIVE, CLOSED)]
    intervals = build_intervals(T0, DONE, "done", steps)
    for before, after in pairwise(intervals):
        assert before.left_at == after.entered_at
    assert intervals[0].entered_at == T0


def test_changes_at_one_moment_and_no_ops_make_no_intervals() -> None:
    steps = [
        status(1, NEW, DEV_ACTIVE),
        status(1, DEV_ACTIVE, TEST_QUEUE),  # the same moment: Development never had time
        Step(h(2), "unblocked"),  # not blocked: changes nothing
        status(3, TEST_QUEUE, TEST_QUEUE),
        status(4, TEST_QUEUE, CLOSED),
    ]
    intervals = build_intervals(T0, DONE, "done", steps)
    assert intervals == [
        Interval(BACKLOG, "new", False, T0, h(1)),
        Interval(TEST, "waiting", False, h(1), h(4)),
        Interval(DONE, "done", False, h(4), None),
    ]


def test_history_starting_before_creation_starts_at_its_first_change() -> None:
    # Created at +2h, closed at +1h (clock skew between tools): no time in New at all.
    intervals = build_intervals(h(2), DONE, "done", [status(1, NEW, CLOSED)])
    assert intervals == [Interval(DONE, "done", False, h(1), None)]


def reference_intervals(
    created_at: int, stage: int | None, state: str | None, steps: list[Step[int]]
) -> list[Interval[int]]:
    """The rules written plainly: close an interval at every later change, merge neighbours
    that did not really change."""
    first_status = next((s for s in steps if s.kind == "status"), None)
    if first_status is not None:
        stage, state = first_status.from_stage, first_status.from_state
    blocked = False
    start = min(created_at, steps[0].at) if steps else created_at
    closed: list[tuple[int | None, str | None, bool, int, int | None]] = []

    def close(left: int | None) -> None:
        if closed and closed[-1][:3] == (stage, state, blocked):
            closed[-1] = (stage, state, blocked, closed[-1][3], left)
        else:
            closed.append((stage, state, blocked, start, left))

    for step in steps:
        if step.at > start:
            close(step.at)
            start = step.at
        if step.kind == "status":
            stage, state = step.to_stage, step.to_state
        elif step.kind == "blocked":
            blocked = True
        elif step.kind == "unblocked":
            blocked = False
    close(None)
    return [Interval(*interval) for interval in closed]


@given(moves=MOVES)
def test_intervals_follow_the_rules(moves: list[tuple[int, str, int]]) -> None:
    steps, _started, _done = history(moves)
    assert build_intervals(T0, DONE, "done", steps) == reference_intervals(T0, DONE, "done", steps)


@given(moves=MOVES, canceled=st.booleans())
def test_aware_datetimes_give_the_same_figures(
    moves: list[tuple[int, str, int]], canceled: bool
) -> None:
    """Callers building histories by hand may pass datetimes: the same figures, in UTC."""
    steps, started, done = history(moves)
    state = "canceled" if canceled else "done"
    micros = derive_timeline(T0, DONE, state, started, done, steps, POSITIONS)
    moments = derive_timeline(
        from_micros(T0),
        DONE,
        state,
        from_micros(started),
        from_micros(done),
        [Step(from_micros(step.at), *step[1:]) for step in steps],
        POSITIONS,
    )
    assert [
        Interval(i.stage, i.state, i.blocked, to_micros(i.entered_at), None)
        if i.left_at is None
        else Interval(i.stage, i.state, i.blocked, to_micros(i.entered_at), to_micros(i.left_at))
        for i in moments.intervals
    ] == micros.intervals
    assert (moments.active_s, moments.waiting_s, moments.flow_time_s, moments.send_backs) == (
        micros.active_s,
        micros.waiting_s,
        micros.flow_time_s,
        micros.send_backs,
    )
    assert moments.stage_times == micros.stage_times
    assert (None if moments.canceled_at is None else to_micros(moments.canceled_at)) == (
        micros.canceled_at
    )
    assert moments.intervals[0].entered_at.tzinfo is UTC


def test_micros_convert_exactly() -> None:
    moment = datetime(2024, 11, 5, 0, 23, 53, 999_999, tzinfo=UTC)
    assert to_micros(moment) == 1_730_766_233_999_999
    assert from_micros(to_micros(moment)) == moment
    assert to_micros(moment) / 1_000_000 == moment.timestamp()
    before_1970 = datetime(1969, 12, 31, 23, 59, 59, 500_000, tzinfo=UTC)
    assert to_micros(before_1970) == -500_000
