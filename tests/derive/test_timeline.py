"""One item's history → intervals and flow figures, checked by hand."""

from datetime import UTC, datetime, timedelta
from itertools import pairwise

from hypothesis import given
from hypothesis import strategies as st

from streamwise.derive.timeline import Step, build_intervals, derive_timeline

T0 = datetime(2025, 3, 3, 9, 0, tzinfo=UTC)
BACKLOG, DEV, TEST, DONE = 1, 2, 3, 4
POSITIONS = {BACKLOG: 0, DEV: 1, TEST: 2, DONE: 3}


def h(hours: float) -> datetime:
    return T0 + timedelta(hours=hours)


def status(
    at: float, before: tuple[int | None, str | None], after: tuple[int | None, str | None]
) -> Step:
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


@given(
    moves=st.lists(
        st.tuples(
            st.integers(1, 500),
            st.sampled_from(["status", "blocked", "unblocked"]),
            st.integers(0, len(STATES) - 1),
        ),
        min_size=1,
        max_size=25,
    )
)
def test_stage_times_add_up_to_flow_time(moves: list[tuple[int, str, int]]) -> None:
    """Property: for any history ending in Done, the per-stage times sum to the flow time."""
    steps: list[Step] = []
    at = 0.0
    state = NEW
    started = None
    for minutes, kind, target in moves:
        at += minutes / 60
        if kind == "status":
            new_state = STATES[target]
            steps.append(status(at, state, new_state))
            if started is None and new_state[1] in ("active", "waiting"):
                started = h(at)
            state = new_state
        else:
            steps.append(Step(h(at), kind))
    at += 1
    steps.append(status(at, state, CLOSED))
    if started is None:
        started = h(at)
    timeline = derive_timeline(T0, DONE, "done", started, h(at), steps, POSITIONS)
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
