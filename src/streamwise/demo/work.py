"""Work items and their Jira history: arrival, the path through the workflow, epics, keys.

Each item walks its stream's workflow with lognormal durations drawn in working time; queues
(ready-for-review, ready-for-test, blocked) usually dominate the hands-on time, as in most
organisations. Everything is simulated past the end of history and then cut there, which
leaves a realistic amount of work in flight.
"""

from dataclasses import dataclass, field
from datetime import timedelta
from math import log

import numpy as np
import numpy.typing as npt

from streamwise.demo.clock import MINUTES_PER_DAY, WorkingClock
from streamwise.demo.organisation import (
    DEBT,
    DEFECT,
    EPIC_TYPE,
    FEATURE,
    FLOW_TYPES,
    JIRA_URL,
    PAYMENTS,
    RAW_TYPES,
    RISK,
    SECURITY_LABEL,
    SECURITY_TASK_TYPE,
    StreamSpec,
    TeamSpec,
)
from streamwise.demo.people import Person, TeamPeople
from streamwise.demo.rows import DraftRow
from streamwise.demo.vocabulary import item_titles

Event = tuple[float, str, str, str, str]  # (working minute, event, from, to, actor)

PASSES = 4  # first pass, up to two passes after being sent back from test, one after reopening
CODE_SHARE = {FEATURE: 0.7, DEFECT: 0.65, RISK: 0.5, DEBT: 0.7}
PARENT_SHARE = {FEATURE: 0.9, DEFECT: 0.35, RISK: 0.3, DEBT: 0.6}
DEPRIORITISED_SHARE = 0.08
CANCEL_FROM_BACKLOG = (0.03, 0.45)  # ordinary items, deprioritised items
ABANDON_SHARE = 0.02
REOPEN_SHARE = 0.04
CHILDREN_PER_EPIC = 28
EPIC_WINDOW_DAYS = 63  # working days in which an epic collects new children: about a quarter
# Payments: a failed ledger migration brings a wave of defects for the last eight months of
# history while feature work stalls (planted truth c).
CRISIS_DAYS = 240
CRISIS_MIX = (0.22, 0.62, 0.07, 0.09)
CRISIS_FEATURE_SLOWDOWN = 10.0
CRISIS_DEFECT_SPEEDUP = 0.3


@dataclass(slots=True)
class CodeCycle:
    """One pass through development and review; the code generator turns it into a PR."""

    develop_at: float
    ready_at: float
    review_at: float
    reviewed_at: float


@dataclass(slots=True)
class SimulatedItem:
    stream: StreamSpec
    team: TeamSpec
    flow_type: str | None  # None for epics
    raw_type: str
    created: float  # working minutes since the start of history
    title: str
    labels: list[str]
    assignee: Person | None
    reviewer: Person | None
    repository: str | None  # where its code goes; None when it needs no code
    events: list[Event] = field(default_factory=list)
    cycles: list[CodeCycle] = field(default_factory=list)
    key: str = ""
    parent: "SimulatedItem | None" = None

    @property
    def is_epic(self) -> bool:
        return self.flow_type is None


class _Timeline:
    """Appends status changes and flags at strictly increasing working minutes."""

    __slots__ = ("events", "minute", "status")

    def __init__(self, created: float, status: str) -> None:
        self.minute = created
        self.status = status
        self.events: list[Event] = []

    def wait(self, minutes: float) -> None:
        self.minute += minutes

    def _next_minute(self) -> float:
        previous = self.events[-1][0] if self.events else self.minute - 1.0
        self.minute = max(self.minute, previous + 1.0)
        return self.minute

    def move(self, to_status: str, actor: str) -> float:
        at = self._next_minute()
        self.events.append((at, "status", self.status, to_status, actor))
        self.status = to_status
        return at

    def flag(self, event: str, actor: str) -> None:
        self.events.append((self._next_minute(), event, "", "", actor))


def _lognormal(
    rng: np.random.Generator, median_hours: float, sigma: float, shape: tuple[int, int]
) -> npt.NDArray[np.float64]:
    """Durations in working minutes."""
    values: npt.NDArray[np.float64] = rng.lognormal(log(median_hours * 60.0), sigma, shape)
    return values


def arrival_minutes(
    rng: np.random.Generator, clock: WorkingClock, count: int, boost_from: int | None = None
) -> npt.NDArray[np.float64]:
    """Creation instants: weekly ups and downs, quieter summers, slow growth of the teams."""
    days = clock.history_days
    week = np.arange(days) // 5
    weekly = rng.gamma(3.0, 1.0 / 3.0, size=int(week[-1]) + 1)[week]
    months = np.array([clock.days[i].month for i in range(days)])
    seasonal = np.where((months == 7) | (months == 8), 0.75, 1.0)
    growth = np.linspace(0.85, 1.15, days)
    weights = weekly * seasonal * growth
    if boost_from is not None:
        weights[boost_from:] *= 1.3
    chosen = rng.choice(days, size=count, p=weights / weights.sum())
    minutes = chosen * MINUTES_PER_DAY + rng.uniform(0.0, MINUTES_PER_DAY, size=count)
    result: npt.NDArray[np.float64] = np.sort(minutes)
    return result


def exact_mix(
    rng: np.random.Generator, count: int, shares: tuple[float, ...]
) -> npt.NDArray[np.int64]:
    """Category indices in exactly the given proportions (largest remainder), shuffled, so
    that the mix holds even for the few items of a small-scale demo."""
    wanted = np.array(shares) / sum(shares) * count
    counts = np.floor(wanted).astype(np.int64)
    remainder_order = np.argsort(-(wanted - counts), kind="stable")
    counts[remainder_order[: count - int(counts.sum())]] += 1
    categories: npt.NDArray[np.int64] = np.repeat(np.arange(len(shares)), counts)
    rng.shuffle(categories)
    return categories


class TeamSimulation:
    """Draws every random number for one team's items up front, then walks each item."""

    def __init__(
        self,
        stream: StreamSpec,
        team: TeamSpec,
        people: TeamPeople,
        testers: tuple[Person, ...],
        clock: WorkingClock,
        rng: np.random.Generator,
        scale: float,
    ) -> None:
        self.stream = stream
        self.team = team
        self.people = people
        self.testers = testers or people.developers
        self.rng = rng
        count = max(12, round(team.items * scale))
        last_day = clock.days[clock.history_days - 1]
        crisis_day = clock.day_index(last_day - timedelta(days=CRISIS_DAYS))
        self.crisis_minute = float(crisis_day * MINUTES_PER_DAY)
        in_crisis = stream is PAYMENTS
        self.created = arrival_minutes(rng, clock, count, crisis_day if in_crisis else None)
        self.count = count

        # Flow item types; Payments shifts towards defects in its crisis.
        self.crisis = (self.created >= self.crisis_minute) & in_crisis
        crisis_count = int(self.crisis.sum())
        type_index = np.concatenate(
            [
                exact_mix(rng, count - crisis_count, stream.type_mix),
                exact_mix(rng, crisis_count, CRISIS_MIX),
            ]
        )  # created is sorted, so the crisis items are the last ones
        self.flow_types = [FLOW_TYPES[i] for i in type_index.tolist()]
        self.security_task = (rng.random(count) < 0.5).tolist()

        # Correlated sizes: a big item is slow in development, review and test alike.
        size = rng.lognormal(0.0, 0.45, count)
        slow = np.ones(count)
        is_feature = type_index == 0
        is_defect = type_index == 1
        slow[self.crisis & is_feature] = CRISIS_FEATURE_SLOWDOWN
        fast = np.where(is_defect, np.where(self.crisis, CRISIS_DEFECT_SPEEDUP, 0.8), 1.0)
        phases = stream.phases
        shape = (count, PASSES)
        rework = np.array([1.0, 0.5, 0.4, 0.6])  # later passes are smaller fixes

        def draw(name: str, multiplier: npt.NDArray[np.float64]) -> list[list[float]]:
            phase = phases[name]
            values = _lognormal(rng, phase.median_hours, phase.sigma, shape)
            scaled = values * multiplier[:, None] * rework[None, :]
            result: list[list[float]] = scaled.tolist()
            return result

        self.backlog = draw("backlog", fast * np.where(self.crisis & is_feature, 2.0, 1.0))
        self.deprioritised_wait = draw("deprioritised", np.ones(count))
        self.develop = draw("develop", size * slow * fast)
        self.ready_for_review = draw("ready_for_review", slow * fast)
        self.review = draw("review", size * fast)
        self.ready_for_test = draw("ready_for_test", slow * fast)
        self.test = draw("test", size * fast)
        self.blocked = draw("blocked", slow)
        self.reopen_after = draw("reopen_after", np.ones(count))
        self.reopened_wait = draw("reopened_wait", np.ones(count))

        self.decisions: list[list[float]] = rng.random((count, 8)).tolist()
        self.per_pass: list[list[float]] = rng.random((count, PASSES * 3)).tolist()
        blocked_share = stream.blocked_share
        self.blocked_share = np.where(
            self.crisis & is_feature, min(1.0, blocked_share * 2.5), blocked_share
        ).tolist()

        developers = people.developers
        self.assignees = rng.integers(0, len(developers), count).tolist()
        self.reviewer_offsets = rng.integers(1, max(2, len(developers)), count).tolist()
        self.testers_index = rng.integers(0, len(self.testers), count).tolist()
        self.repository_pick = rng.random(count).tolist()
        self.label_pick = rng.integers(0, len(stream.labels), (count, 2)).tolist()
        self.label_count = rng.choice(3, size=count, p=[0.45, 0.4, 0.15]).tolist()
        self.customer_reported = (rng.random(count) < 0.25).tolist()

    def items(self) -> list[SimulatedItem]:
        titles = item_titles(self.rng, self.stream.key, self.flow_types, self.security_task)
        return [self._walk(i, titles[i]) for i in range(self.count)]

    def _repository(self, i: int) -> str:
        repositories = self.team.repositories
        if len(repositories) == 1 or self.repository_pick[i] < 0.7:
            return repositories[0]
        rest = repositories[1:]
        return rest[int((self.repository_pick[i] - 0.7) / 0.3 * len(rest)) % len(rest)]

    def _labels(self, i: int, flow_type: str) -> list[str]:
        labels = [self.stream.labels[j] for j in self.label_pick[i][: self.label_count[i]]]
        labels = list(dict.fromkeys(labels))
        if flow_type == RISK and self.security_task[i]:
            labels.insert(0, SECURITY_LABEL)
        if flow_type == DEFECT and self.customer_reported[i]:
            labels.append("customer-reported")
        return labels

    def _walk(self, i: int, title: str) -> SimulatedItem:
        """One item's path through the workflow, past the end of history if need be."""
        flow = self.stream.workflow
        flow_type = self.flow_types[i]
        decide = self.decisions[i]
        per_pass = self.per_pass[i]
        developers = self.people.developers
        assignee = developers[self.assignees[i]]
        reviewer = developers[(self.assignees[i] + self.reviewer_offsets[i]) % len(developers)]
        tester = self.testers[self.testers_index[i]]
        if tester is assignee:
            tester = reviewer
        owner = self.people.owner.jira
        dev, rev, test = assignee.jira, reviewer.jira, tester.jira

        has_code = decide[3] < CODE_SHARE[flow_type]
        reviewed = has_code or decide[4] >= 0.6
        skip_test = decide[5] < self.stream.skip_test_share
        raw_type = RAW_TYPES[flow_type]
        if flow_type == RISK and self.security_task[i]:
            raw_type = SECURITY_TASK_TYPE
        item = SimulatedItem(
            stream=self.stream,
            team=self.team,
            flow_type=flow_type,
            raw_type=raw_type,
            created=float(self.created[i]),
            title=title,
            labels=self._labels(i, flow_type),
            assignee=assignee,
            reviewer=reviewer,
            repository=self._repository(i) if has_code else None,
        )

        line = _Timeline(item.created, flow.todo)
        deprioritised = decide[0] < DEPRIORITISED_SHARE
        line.wait(self.deprioritised_wait[i][0] if deprioritised else self.backlog[i][0])
        if decide[1] < CANCEL_FROM_BACKLOG[1 if deprioritised else 0]:
            line.move(flow.canceled, owner)
            item.events = line.events
            return item

        def development_pass(p: int, abandon: bool = False) -> None:
            develop_at = line.move(flow.develop, dev)
            duration = self.develop[i][p]
            if per_pass[3 * p] < self.blocked_share[i]:
                split = 0.2 + 0.6 * per_pass[3 * p + 1]
                line.wait(duration * split)
                line.flag("blocked", dev)
                line.wait(self.blocked[i][p])
                line.flag("unblocked", dev)
                line.wait(duration * (1.0 - split))
            else:
                line.wait(duration)
            if reviewed and not abandon:
                ready_at = line.move(flow.ready_for_review, dev)
                line.wait(self.ready_for_review[i][p])
                review_at = line.move(flow.review, rev)
                line.wait(self.review[i][p])
                item.cycles.append(CodeCycle(develop_at, ready_at, review_at, line.minute))

        def test_pass(p: int) -> None:
            line.move(flow.ready_for_test, dev)
            line.wait(self.ready_for_test[i][p])
            line.move(flow.test, test)
            line.wait(self.test[i][p])

        for p in range(PASSES - 1):
            abandon = p == 0 and decide[2] < ABANDON_SHARE
            development_pass(p, abandon)
            if abandon:
                line.move(flow.canceled, owner)
                break
            if skip_test and reviewed:
                line.move(flow.done, rev)
                break
            test_pass(p)
            if p < PASSES - 2 and per_pass[3 * p + 2] < self.stream.sent_back_share:
                continue  # sent back: the next development pass starts from the test status
            line.move(flow.done, test)
            break

        if line.status == flow.done and decide[6] < REOPEN_SHARE:
            last = PASSES - 1
            line.wait(self.reopen_after[i][last])
            line.move(flow.reopened, owner)
            line.wait(self.reopened_wait[i][last])
            development_pass(last)
            test_pass(last)
            line.move(flow.done, test)
        item.events = line.events
        return item


def add_epics(
    items: list[SimulatedItem],
    team: TeamSpec,
    stream: StreamSpec,
    people: TeamPeople,
    clock: WorkingClock,
    rng: np.random.Generator,
) -> list[SimulatedItem]:
    """Epics that group a team's items over overlapping windows of about a quarter, with a
    status that follows their children (started with the first, done after the last)."""
    children_total = sum(1 for item in items if item.flow_type is not None)
    epic_count = max(2, round(children_total * 0.7 / CHILDREN_PER_EPIC))
    span = clock.horizon_minute
    step = span / epic_count
    window = max(step, EPIC_WINDOW_DAYS * MINUTES_PER_DAY)
    starts = np.arange(epic_count) * step
    lead = rng.uniform(0.0, 5 * MINUTES_PER_DAY, epic_count)
    created = np.maximum(0.0, starts - lead).tolist()
    flow_hint = [""] * epic_count
    titles = item_titles(rng, stream.key, flow_hint, [False] * epic_count)
    epics = [
        SimulatedItem(
            stream=stream,
            team=team,
            flow_type=None,
            raw_type=EPIC_TYPE,
            created=created[k],
            title=titles[k],
            labels=[],
            assignee=people.owner,
            reviewer=None,
            repository=None,
        )
        for k in range(epic_count)
    ]
    joins = rng.random(len(items)).tolist()
    choice = rng.random(len(items)).tolist()
    children: list[list[SimulatedItem]] = [[] for _ in range(epic_count)]
    for n, item in enumerate(items):
        if item.flow_type is None or joins[n] >= PARENT_SHARE[item.flow_type]:
            continue
        newest = min(epic_count - 1, int(item.created // step))
        oldest = max(0, int((item.created - window) // step) + 1)
        if newest < oldest or item.created <= starts[newest]:
            continue
        k = oldest + int(choice[n] * (newest - oldest + 1))
        item.parent = epics[k]
        children[k].append(item)

    flow = stream.workflow
    finish_lag = _lognormal(rng, 16.0, 0.8, (epic_count, 1))[:, 0].tolist()
    owner = people.owner.jira
    final_states = (flow.done, flow.canceled)
    for k, epic in enumerate(epics):
        line = _Timeline(epic.created, flow.todo)
        members = children[k]
        starts_of = [
            event[0]
            for child in members
            for event in child.events
            if event[1] == "status" and event[3] == flow.develop
        ]
        if starts_of:
            line.minute = min(starts_of) + 30.0
            line.move(flow.develop, owner)
            window_closed = starts[k] + window
            ends = [child.events[-1][0] for child in members if child.events]
            all_closed = all(
                child.events and child.events[-1][3] in final_states for child in members
            )
            if all_closed and ends:
                line.minute = max(max(ends), window_closed) + finish_lag[k]
                line.move(flow.done, owner)
        epic.events = line.events
    return epics


def assign_keys(items: list[SimulatedItem]) -> None:
    """Jira numbers issues per project in order of creation."""
    by_project: dict[str, list[SimulatedItem]] = {}
    for item in items:
        by_project.setdefault(item.team.project, []).append(item)
    for project, members in by_project.items():
        members.sort(key=lambda item: item.created)
        for number, item in enumerate(members, start=1):
            item.key = f"{project}-{number}"


@dataclass
class JiraRows:
    work_items: list[DraftRow]
    transitions: list[DraftRow]
    done_at: dict[str, float]  # key → epoch seconds of its last move to done (non-epics)


def jira_rows(items: list[SimulatedItem], clock: WorkingClock) -> JiraRows:
    """Work item and transition rows as they stand at the end of history."""
    horizon = clock.horizon_minute
    work_items: list[DraftRow] = []
    transitions: list[DraftRow] = []
    done_at: dict[str, float] = {}
    epoch = clock.epoch
    for item in sorted(items, key=lambda i: (i.team.project, int(i.key.rsplit("-", 1)[1]))):
        flow = item.stream.workflow
        status = flow.todo
        last = item.created
        for at, event, from_status, to_status, actor in item.events:
            if at >= horizon:
                break
            transitions.append(
                {
                    "item": item.key,
                    "at": epoch(at),
                    "event": event,
                    "from_status": from_status,
                    "to_status": to_status,
                    "actor": actor,
                    "id": str(100_000 + len(transitions)),
                }
            )
            last = at
            if event == "status":
                status = to_status
                if to_status == flow.done and not item.is_epic:
                    done_at[item.key] = epoch(at)
                elif item.key in done_at:
                    del done_at[item.key]
        started = last > item.created
        assignee = item.assignee.jira if item.assignee and (started or item.is_epic) else None
        work_items.append(
            {
                "key": item.key,
                "title": item.title,
                "type": item.raw_type,
                "status": status,
                "project": item.team.project,
                "created_at": epoch(item.created),
                "updated_at": epoch(last),
                "parent": item.parent.key if item.parent else None,
                "team": item.team.key,
                "assignee": assignee,
                "labels": item.labels,
                "url": f"{JIRA_URL}{item.key}",
            }
        )
    return JiraRows(work_items, transitions, done_at)
