"""One work item's history → stage intervals and flow figures. Pure: no database here.

The rules (docs/metrics.md):
- the item starts in the state its first status change came *from* (or its current state when
  it has no history) at its creation time;
- every status change and blocked/unblocked flag change starts a new interval;
- time under a blocked flag is waiting, whatever the status says;
- within the flow window [work started, done] time is active only in an active, unblocked
  state; everything else in the window (waiting states, blocked time, a move back to New,
  unmapped statuses) is waiting — so active + waiting = flow time, exactly;
- a move to a stage with a lower position is a send-back into that stage.

Moments are integer microseconds since the epoch (UTC): derive has the database compute them
(``store.bulk.epoch_micros``) instead of building a datetime per transition in Python, and
``(end - begin) / 1_000_000`` is exactly what ``timedelta.total_seconds()`` gives, so the
figures are the same to the last bit. Aware datetimes are accepted too (converted at the
edges, results in UTC) for callers that build histories by hand, like the metrics tests.
"""

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Generic, NamedTuple, TypeVar

Moment = TypeVar("Moment", int, datetime)

MICROS = 1_000_000
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)


def to_micros(moment: datetime) -> int:
    """An aware datetime → integer microseconds since the epoch (exact)."""
    return (moment - _EPOCH) // _MICROSECOND


def from_micros(micros: int) -> datetime:
    """Integer microseconds since the epoch → an aware UTC datetime (exact)."""
    return _EPOCH + timedelta(microseconds=micros)


class Step(NamedTuple, Generic[Moment]):
    """One recorded change: a status change (with its mapped stages) or a blocked flag."""

    at: Moment
    kind: str  # status | blocked | unblocked
    from_stage: int | None = None
    to_stage: int | None = None
    from_state: str | None = None
    to_state: str | None = None


class Interval(NamedTuple, Generic[Moment]):
    """A stretch of time in one stage, flow state and flag; ``left_at`` None: still there."""

    stage: int | None
    state: str | None
    blocked: bool
    entered_at: Moment
    left_at: Moment | None


@dataclass(slots=True)
class StageTime:
    active_s: float = 0.0
    waiting_s: float = 0.0
    entries: int = 0
    sent_back_into: int = 0


@dataclass(slots=True)
class Timeline(Generic[Moment]):
    intervals: list[Interval[Moment]]
    active_s: float
    waiting_s: float
    flow_time_s: float | None
    send_backs: int
    canceled_at: Moment | None
    stage_times: dict[int | None, StageTime] = field(default_factory=dict)


def build_intervals(
    created_at: int,
    current_stage: int | None,
    current_state: str | None,
    steps: Sequence[Step[int]],
) -> list[Interval[int]]:
    """Contiguous intervals from creation on; the last one is open (``left_at`` None).

    A change that leaves stage, state and flag as they were does not start a new interval."""
    stage, state = current_stage, current_state
    for step in steps:
        if step.kind == "status":
            stage, state = step.from_stage, step.from_state
            break
    blocked = False
    start = created_at
    if steps and steps[0].at < start:
        start = steps[0].at
    intervals: list[Interval[int]] = []
    append = intervals.append
    new = tuple.__new__  # Interval(...) without NamedTuple's Python-level constructor
    # The interval being extended (since ``since``): appended once something really changes.
    since: int | None = None
    open_stage, open_state, open_blocked = stage, state, blocked
    for at, kind, _from_stage, to_stage, _from_state, to_state in steps:
        if at > start:
            if since is None:
                open_stage, open_state, open_blocked, since = stage, state, blocked, start
            elif stage != open_stage or state != open_state or blocked != open_blocked:
                append(new(Interval, (open_stage, open_state, open_blocked, since, start)))
                open_stage, open_state, open_blocked, since = stage, state, blocked, start
            start = at
        if kind == "status":
            stage, state = to_stage, to_state
        elif kind == "blocked":
            blocked = True
        elif kind == "unblocked":
            blocked = False
    if since is not None:
        if stage == open_stage and state == open_state and blocked == open_blocked:
            append(new(Interval, (stage, state, blocked, since, None)))
            return intervals
        append(new(Interval, (open_stage, open_state, open_blocked, since, start)))
    append(new(Interval, (stage, state, blocked, start, None)))
    return intervals


def derive_timeline(
    created_at: Moment,
    current_stage: int | None,
    current_state: str | None,
    work_started_at: Moment | None,
    done_at: Moment | None,
    steps: Sequence[Step[Moment]],
    stage_positions: Mapping[int, int],
) -> Timeline[Moment]:
    """Intervals, active/waiting time, time per stage and send-backs of one item."""
    if isinstance(created_at, datetime):
        timeline = _derive(
            to_micros(created_at),
            current_stage,
            current_state,
            None if work_started_at is None else to_micros(work_started_at),
            None if done_at is None else to_micros(done_at),
            [Step(to_micros(step.at), *step[1:]) for step in steps],
            stage_positions,
        )
        return Timeline(
            [
                Interval(
                    stage,
                    state,
                    blocked,
                    from_micros(entered),
                    None if left is None else from_micros(left),
                )
                for stage, state, blocked, entered, left in timeline.intervals
            ],
            timeline.active_s,
            timeline.waiting_s,
            timeline.flow_time_s,
            timeline.send_backs,
            None if timeline.canceled_at is None else from_micros(timeline.canceled_at),
            timeline.stage_times,
        )
    return _derive(
        created_at, current_stage, current_state, work_started_at, done_at, steps, stage_positions
    )


def _derive(
    created_at: int,
    current_stage: int | None,
    current_state: str | None,
    work_started_at: int | None,
    done_at: int | None,
    steps: Sequence[Step[int]],
    stage_positions: Mapping[int, int],
) -> Timeline[int]:
    """:func:`derive_timeline` on microseconds, in one pass over the intervals.

    ``stage_times`` keeps its stages in the order the stored rows (and packed copies) always
    had: stages by first interval, then stages only sent back into, then no stage."""
    intervals = build_intervals(created_at, current_stage, current_state, steps)
    stage_times: dict[int | None, StageTime] = {}
    # Time in no stage is kept apart until the end, to come last.
    unmapped_active = unmapped_waiting = 0.0
    unmapped = False

    # Sums of per-interval seconds, in interval order, as before moments were integers: the
    # same floats to the last bit even for sub-second data.
    active = waiting = 0.0
    window_start = work_started_at
    window_end = done_at
    if window_start is not None and window_end is None:
        last_change = steps[-1].at if steps else window_start
        window_end = last_change if last_change > window_start else window_start

    previous_stage: int | None = None
    times = StageTime()  # the current stage's (a stand-in until the first stage)
    for stage, state, blocked, entered, left in intervals:
        if stage != previous_stage:
            previous_stage = stage
            if stage is not None:
                found = stage_times.get(stage)
                if found is None:
                    found = stage_times[stage] = StageTime()
                found.entries += 1
                times = found
        if window_start is None or window_end is None:
            continue
        begin = entered if entered > window_start else window_start
        end = window_end if left is None or left > window_end else left
        if end <= begin:
            continue
        seconds = (end - begin) / MICROS
        if state == "active" and not blocked:
            active += seconds
            if stage is None:
                unmapped = True
                unmapped_active += seconds
            else:
                times.active_s += seconds
        else:
            waiting += seconds
            if stage is None:
                unmapped = True
                unmapped_waiting += seconds
            else:
                times.waiting_s += seconds

    send_backs = 0
    for step in steps:
        from_stage, to_stage = step.from_stage, step.to_stage
        if step.kind != "status" or from_stage is None or to_stage is None:
            continue
        before = stage_positions.get(from_stage)
        after = stage_positions.get(to_stage)
        if before is not None and after is not None and after < before:
            send_backs += 1
            sent_into = stage_times.get(to_stage)
            if sent_into is None:
                sent_into = stage_times[to_stage] = StageTime()
            sent_into.sent_back_into += 1
    if unmapped:
        stage_times[None] = StageTime(unmapped_active, unmapped_waiting)

    flow_time = None
    if done_at is not None and work_started_at is not None:
        flow_time = max((done_at - work_started_at) / MICROS, 0.0)

    canceled_at = None
    if current_state == "canceled":
        canceled_at = next(
            (s.at for s in reversed(steps) if s.kind == "status" and s.to_state == "canceled"),
            intervals[-1].entered_at,
        )
    return Timeline(intervals, active, waiting, flow_time, send_backs, canceled_at, stage_times)
