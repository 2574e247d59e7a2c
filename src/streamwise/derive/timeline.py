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
"""

from dataclasses import dataclass, field
from datetime import datetime


@dataclass(frozen=True, slots=True)
class Step:
    """One recorded change: a status change (with its mapped stages) or a blocked flag."""

    at: datetime
    kind: str  # status | blocked | unblocked
    from_stage: int | None = None
    to_stage: int | None = None
    from_state: str | None = None
    to_state: str | None = None


@dataclass(frozen=True, slots=True)
class Interval:
    stage: int | None
    state: str | None
    blocked: bool
    entered_at: datetime
    left_at: datetime | None


@dataclass(slots=True)
class StageTime:
    active_s: float = 0.0
    waiting_s: float = 0.0
    entries: int = 0
    sent_back_into: int = 0


@dataclass(slots=True)
class Timeline:
    intervals: list[Interval]
    active_s: float
    waiting_s: float
    flow_time_s: float | None
    send_backs: int
    canceled_at: datetime | None
    stage_times: dict[int | None, StageTime] = field(default_factory=dict)


def build_intervals(
    created_at: datetime,
    current_stage: int | None,
    current_state: str | None,
    steps: list[Step],
) -> list[Interval]:
    """Contiguous intervals from creation on; the last one is open (``left_at`` None)."""
    first_status = next((s for s in steps if s.kind == "status"), None)
    if first_status is not None:
        stage, state = first_status.from_stage, first_status.from_state
    else:
        stage, state = current_stage, current_state
    blocked = False
    start = min(created_at, steps[0].at) if steps else created_at
    intervals: list[Interval] = []
    for step in steps:
        if step.at > start:
            _close(intervals, stage, state, blocked, start, step.at)
            start = step.at
        if step.kind == "status":
            stage, state = step.to_stage, step.to_state
        elif step.kind == "blocked":
            blocked = True
        elif step.kind == "unblocked":
            blocked = False
    _close(intervals, stage, state, blocked, start, None)
    return intervals


def _close(
    intervals: list[Interval],
    stage: int | None,
    state: str | None,
    blocked: bool,
    entered: datetime,
    left: datetime | None,
) -> None:
    """Append an interval, merging it into the previous one when nothing really changed."""
    if intervals:
        last = intervals[-1]
        if (last.stage, last.state, last.blocked) == (stage, state, blocked):
            intervals[-1] = Interval(stage, state, blocked, last.entered_at, left)
            return
    intervals.append(Interval(stage, state, blocked, entered, left))


def derive_timeline(
    created_at: datetime,
    current_stage: int | None,
    current_state: str | None,
    work_started_at: datetime | None,
    done_at: datetime | None,
    steps: list[Step],
    stage_positions: dict[int, int],
) -> Timeline:
    """Intervals, active/waiting time, time per stage and send-backs of one item."""
    intervals = build_intervals(created_at, current_stage, current_state, steps)
    stage_times: dict[int | None, StageTime] = {}

    def times(stage: int | None) -> StageTime:
        found = stage_times.get(stage)
        if found is None:
            found = stage_times[stage] = StageTime()
        return found

    previous_stage: int | None = None
    for index, interval in enumerate(intervals):
        if interval.stage is not None and (index == 0 or interval.stage != previous_stage):
            times(interval.stage).entries += 1
        previous_stage = interval.stage

    send_backs = 0
    for step in steps:
        if step.kind != "status" or step.from_stage is None or step.to_stage is None:
            continue
        before = stage_positions.get(step.from_stage)
        after = stage_positions.get(step.to_stage)
        if before is not None and after is not None and after < before:
            send_backs += 1
            times(step.to_stage).sent_back_into += 1

    active = waiting = 0.0
    if work_started_at is not None:
        window_end = done_at
        if window_end is None:
            last_change = steps[-1].at if steps else work_started_at
            window_end = max(last_change, work_started_at)
        for interval in intervals:
            left = interval.left_at if interval.left_at is not None else window_end
            begin = max(interval.entered_at, work_started_at)
            end = min(left, window_end)
            if end <= begin:
                continue
            seconds = (end - begin).total_seconds()
            if interval.state == "active" and not interval.blocked:
                active += seconds
                times(interval.stage).active_s += seconds
            else:
                waiting += seconds
                times(interval.stage).waiting_s += seconds

    flow_time = None
    if done_at is not None and work_started_at is not None:
        flow_time = max((done_at - work_started_at).total_seconds(), 0.0)

    canceled_at = None
    if current_state == "canceled":
        canceled_at = next(
            (s.at for s in reversed(steps) if s.kind == "status" and s.to_state == "canceled"),
            intervals[-1].entered_at,
        )
    return Timeline(intervals, active, waiting, flow_time, send_backs, canceled_at, stage_times)
