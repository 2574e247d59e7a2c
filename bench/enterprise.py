"""Enterprise-scale benchmark data, written straight into a Streamwise database.

At ``scale=1.0`` the organisation has eight value streams, 40 teams, 320 people and 24
services, and two years of history: 200,000 work items with 2,000,000 transitions, 1,000,000
commits in 300,000 pull requests, 100,000 deployments and 10,000 incidents, plus the reviews
and the link tables between them. Rows go in through SQLAlchemy Core bulk inserts (one
transaction per table), already normalised: the import path is benchmarked elsewhere.

Everything is drawn with numpy from one seeded generator, so a seed, scale and end date always
give the same database. Run ``python bench/enterprise.py --help`` for the command line.
"""

import argparse
import json
import os
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt
from sqlalchemy import func, select, text
from sqlalchemy.orm import DeclarativeBase, Session

from streamwise.model import (
    Commit,
    CommitWorkItem,
    Deployment,
    DeploymentChange,
    Incident,
    Person,
    PipelineRun,
    PullRequest,
    PullRequestCommit,
    PullRequestWorkItem,
    Review,
    Source,
    Stage,
    StatusMapping,
    Team,
    Transition,
    ValueStream,
    WorkItem,
)
from streamwise.normalize.config import parse_config
from streamwise.normalize.organisation import apply_config
from streamwise.store.bulk import insert_rows, table_of
from streamwise.store.engine import Database, open_database
from streamwise.store.migrate import upgrade

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]
Progress = Callable[[str, int, int], None]

DEFAULT_DATABASE = "sqlite:///bench-enterprise.db"
HISTORY_DAYS = 730
MINUTE = 60
HOUR = 3_600
DAY = 86_400
ROWS_PER_CHUNK = 20_000  # rows turned into dicts at a time; insert_rows batches them further

# Volumes at scale 1.0.
WORK_ITEMS = 200_000
TRANSITIONS = 2_000_000
COMMITS = 1_000_000
PULL_REQUESTS = 300_000
DEPLOYMENTS = 100_000
INCIDENTS = 10_000

# Where work items are at the end of history.
DONE, IN_PROGRESS, CANCELED, BACKLOG = 0, 1, 2, 3
OUTCOME_SHARES = (0.80, 0.10, 0.06, 0.04)
BLOCKED_SHARE = 0.03
# Flow states as small integers (index into FLOW_STATES).
FLOW_STATES = ("new", "waiting", "active", "done", "canceled")
NEW, WAITING, ACTIVE = 0, 1, 2

# Code.
PR_WITHOUT_ITEM_SHARE = 0.04  # dependency bumps and chores
DIRECT_COMMIT_SHARE = 0.05  # pushed straight to main
PR_CLOSED_SHARE = 0.09  # closed without merging
APPROVED_AT_FIRST_REVIEW = 0.75

# Delivery.
PROMOTED_SHARE = 0.9  # staging builds promoted to production
STAGING_FAILED_SHARE = 0.07  # of the builds never promoted
PRODUCTION_FAILED_SHARE = 0.04
ROLLED_BACK_SHARE = 0.03
CAUSED_INCIDENT_SHARE = 0.4
SEVERITIES = ("SEV1", "SEV2", "SEV3")
SEVERITY_SHARES = (0.1, 0.3, 0.6)

ORGANISATION = "Northwind Financial Group (benchmark)"
JIRA_URL = "https://jira.northwind.example/browse/"
GITHUB_URL = "https://github.com/"
DEPLOY_URL = "https://deploy.northwind.example/"
PAGERDUTY_URL = "https://northwind.pagerduty.com/incidents/"
ORG_PREFIX = "northwind"
SOURCES = ("jira", "github", "deploy", "pagerduty")
RAW_TYPES = ("Story", "Bug", "Vulnerability", "Tech Debt")
FLOW_ITEM_TYPES = ("feature", "defect", "risk", "debt")
LABELS = ("frontend", "backend", "api", "compliance", "performance", "accessibility")


# -- the organisation ---------------------------------------------------------------------
@dataclass(frozen=True)
class StageSpec:
    name: str
    flow_state: str
    statuses: tuple[str, ...]
    waiting: tuple[str, ...] = ()  # statuses of this stage mapped to the waiting state
    value_adding: bool = False


@dataclass(frozen=True)
class WorkflowSpec:
    """A Jira workflow as stages. The happy path runs through the statuses of every stage but
    the canceled one, in order; ``loops`` are the backward moves (from, back to, weight)."""

    stages: tuple[StageSpec, ...]
    develop: str  # the status pull requests are written in
    loops: tuple[tuple[str, str, float], ...]

    @property
    def forward(self) -> tuple[str, ...]:
        return tuple(
            s for stage in self.stages if stage.flow_state != "canceled" for s in stage.statuses
        )

    @property
    def cancel(self) -> str:
        return next(stage.statuses[0] for stage in self.stages if stage.flow_state == "canceled")

    def state_of(self, status: str) -> str:
        stage = next(stage for stage in self.stages if status in stage.statuses)
        return "waiting" if status in stage.waiting else stage.flow_state


GATED = WorkflowSpec(
    stages=(
        StageSpec("Backlog", "new", ("Open", "Refined")),
        StageSpec(
            "Analysis", "active", ("Ready for Analysis", "In Analysis"), ("Ready for Analysis",)
        ),
        StageSpec(
            "Development",
            "active",
            ("Ready for Development", "In Development"),
            ("Ready for Development",),
            True,
        ),
        StageSpec(
            "Code Review", "active", ("Ready for Review", "In Review"), ("Ready for Review",), True
        ),
        StageSpec(
            "Testing",
            "active",
            ("Ready for Test", "In Test", "Ready for UAT", "In UAT"),
            ("Ready for Test", "Ready for UAT"),
            True,
        ),
        StageSpec("Done", "done", ("Done",)),
        StageSpec("Canceled", "canceled", ("Rejected",)),
    ),
    develop="In Development",
    loops=(
        ("In Review", "In Development", 3.0),
        ("In Test", "In Development", 3.0),
        ("In UAT", "In Development", 1.0),
        ("In Development", "Ready for Development", 2.0),
        ("In Test", "Ready for Test", 1.0),
    ),
)
RELEASE_TRAIN = WorkflowSpec(
    stages=(
        StageSpec("Backlog", "new", ("To Do",)),
        StageSpec(
            "Development",
            "active",
            ("Selected for Development", "In Progress"),
            ("Selected for Development",),
            True,
        ),
        StageSpec(
            "Code Review", "active", ("Awaiting Review", "In Review"), ("Awaiting Review",), True
        ),
        StageSpec("QA", "active", ("Ready for QA", "In QA"), ("Ready for QA",), True),
        StageSpec(
            "Release",
            "active",
            ("Ready for Release", "Releasing", "Verifying in Production"),
            ("Ready for Release",),
        ),
        StageSpec("Done", "done", ("Released",)),
        StageSpec("Canceled", "canceled", ("Won't Do",)),
    ),
    develop="In Progress",
    loops=(
        ("In Review", "In Progress", 3.0),
        ("In QA", "In Progress", 3.0),
        ("In Progress", "Selected for Development", 2.0),
        ("Verifying in Production", "In Progress", 0.5),
    ),
)
KANBAN = WorkflowSpec(
    stages=(
        StageSpec("Backlog", "new", ("Backlog", "Ready")),
        StageSpec("Build", "active", ("In Progress",), (), True),
        StageSpec("Review", "active", ("Review Queue", "Reviewing"), ("Review Queue",), True),
        StageSpec(
            "Verify & Deploy",
            "active",
            ("Verify Queue", "Verifying", "Awaiting Deploy", "Deploying"),
            ("Verify Queue", "Awaiting Deploy"),
            True,
        ),
        StageSpec("Done", "done", ("Closed",)),
        StageSpec("Canceled", "canceled", ("Discarded",)),
    ),
    develop="In Progress",
    loops=(
        ("Reviewing", "In Progress", 3.0),
        ("Verifying", "In Progress", 3.0),
        ("Reviewing", "Review Queue", 1.0),
    ),
)
LEAN = WorkflowSpec(
    stages=(
        StageSpec("Backlog", "new", ("Open",)),
        StageSpec(
            "Develop",
            "active",
            ("Ready to Start", "In Development", "Waiting for Review", "Code Review"),
            ("Ready to Start", "Waiting for Review"),
            True,
        ),
        StageSpec(
            "Validate",
            "active",
            ("Waiting for Validation", "Validating", "Waiting for Deploy"),
            ("Waiting for Validation", "Waiting for Deploy"),
            True,
        ),
        StageSpec("Done", "done", ("Done",)),
        StageSpec("Canceled", "canceled", ("Canceled",)),
    ),
    develop="In Development",
    loops=(
        ("Code Review", "In Development", 3.0),
        ("Validating", "In Development", 3.0),
        ("In Development", "Ready to Start", 1.0),
    ),
)


@dataclass(frozen=True)
class StreamSpec:
    key: str
    name: str
    kind: str
    workflow: WorkflowSpec
    projects: tuple[str, ...]
    services: tuple[str, ...]  # one repository each, ``northwind/<service>``
    teams: tuple[str, ...]
    weight: float  # share of the work items
    type_mix: tuple[float, float, float, float]  # feature, defect, risk, debt


STREAMS: tuple[StreamSpec, ...] = (
    StreamSpec(
        "retail",
        "Retail Banking",
        "core",
        GATED,
        ("RB", "CARD"),
        ("accounts-api", "cards-service", "statements-service"),
        ("Accounts", "Cards", "Statements", "Onboarding", "Branch Tools"),
        1.2,
        (0.55, 0.25, 0.08, 0.12),
    ),
    StreamSpec(
        "payments",
        "Payments",
        "core",
        RELEASE_TRAIN,
        ("PAY", "SEPA"),
        ("payments-gateway", "clearing-service", "fraud-scoring"),
        ("Gateway", "Clearing", "Fraud", "Instant Payments", "Merchant Services"),
        1.3,
        (0.45, 0.30, 0.12, 0.13),
    ),
    StreamSpec(
        "lending",
        "Lending",
        "core",
        GATED,
        ("LOAN", "MORT"),
        ("loan-origination", "credit-decision", "mortgage-portal"),
        ("Origination", "Credit Risk Models", "Mortgages", "Collections", "Broker Portal"),
        1.0,
        (0.50, 0.28, 0.10, 0.12),
    ),
    StreamSpec(
        "wealth",
        "Wealth & Investments",
        "core",
        RELEASE_TRAIN,
        ("INV",),
        ("portfolio-service", "trading-engine", "advisory-web"),
        ("Portfolio", "Trading", "Advisory", "Market Data", "Pensions"),
        0.8,
        (0.50, 0.30, 0.08, 0.12),
    ),
    StreamSpec(
        "insurance",
        "Insurance",
        "core",
        KANBAN,
        ("POL", "CLM"),
        ("policy-admin", "claims-service", "quote-engine"),
        ("Policies", "Claims", "Quotes", "Underwriting", "Partner Integrations"),
        1.1,
        (0.50, 0.30, 0.07, 0.13),
    ),
    StreamSpec(
        "digital",
        "Digital Channels",
        "core",
        KANBAN,
        ("WEB", "APP"),
        ("web-banking", "mobile-bff", "notifications-service"),
        ("Web", "iOS", "Android", "Mobile Backend", "Notifications"),
        1.4,
        (0.60, 0.27, 0.04, 0.09),
    ),
    StreamSpec(
        "data",
        "Data & Analytics",
        "supporting",
        LEAN,
        ("DATA",),
        ("data-platform", "reporting-api", "customer-360"),
        ("Data Platform", "Reporting", "Customer 360", "Data Quality", "ML Enablement"),
        0.6,
        (0.45, 0.20, 0.10, 0.25),
    ),
    StreamSpec(
        "platform",
        "Platform",
        "supporting",
        LEAN,
        ("PLAT", "SEC"),
        ("api-gateway", "identity-service", "observability-stack"),
        (
            "Infrastructure",
            "Developer Experience",
            "Identity",
            "Observability",
            "Security Engineering",
        ),
        0.6,
        (0.30, 0.15, 0.25, 0.30),
    ),
)
TEAMS_PER_STREAM = 5
TEAM_SHARES = (0.26, 0.22, 0.20, 0.17, 0.15)
DEVELOPERS_PER_TEAM = 6
PEOPLE_PER_TEAM = 8  # six developers, a tester and a product owner

FIRST_NAMES = (
    "Ada", "Bruno", "Carla", "Dmitri", "Eva", "Farid", "Gemma", "Henrik", "Ilse", "Jorge",
    "Kira", "Leon", "Maja", "Nils", "Oona", "Pedro", "Quinn", "Rhea", "Stefan", "Tara",
    "Umar", "Valentina", "Wim", "Xenia", "Yara", "Zeno", "Aisha", "Bjorn", "Chen", "Dalia",
    "Emre", "Fiona", "Goran", "Hana", "Ivo", "Jana", "Kofi", "Lina", "Marek", "Noor",
)  # fmt: skip
LAST_NAMES = (
    "Andersen", "Bauer", "Castillo", "Dubois", "Eriksson", "Fontaine", "Gruber", "Hansen",
    "Ibrahim", "Jovanovic", "Kaya", "Lehmann", "Marino", "Nielsen", "Okafor", "Peters",
    "Quist", "Romero", "Sato", "Torres", "Ulrich", "Varga", "Walsh", "Young", "Zimmer",
    "Abbott", "Brennan", "Chaudhry", "Delgado", "Engel", "Fuchs", "Gallo", "Holm", "Ishikawa",
    "Jensen", "Keane", "Lund", "Mendes", "Novak", "Ortiz",
)  # fmt: skip
VERBS = (
    "Add", "Support", "Improve", "Fix", "Refactor", "Validate", "Migrate", "Expose", "Remove",
    "Speed up", "Harden", "Document", "Automate", "Simplify", "Audit", "Localise",
)  # fmt: skip
OBJECTS = (
    "account overview", "card limits", "statement export", "onboarding checks", "payment status",
    "SEPA batch upload", "fraud rules", "merchant onboarding", "loan calculator",
    "credit scoring call", "mortgage documents", "collections letters", "portfolio chart",
    "order routing", "market data feed", "pension forecast", "policy renewal", "claims upload",
    "quote pricing", "underwriting queue", "login page", "push notifications", "session timeout",
    "search results", "reporting job", "customer profile", "data lineage", "model training",
    "API rate limits", "token refresh", "alert routing", "dashboard filters",
)  # fmt: skip
INCIDENT_TOPICS = (
    "elevated error rate",
    "latency above SLO",
    "requests timing out",
    "queue backlog growing",
    "failed health checks",
    "database connection pool exhausted",
    "memory usage alarm",
    "certificate about to expire",
)


@dataclass(frozen=True)
class PersonSpec:
    name: str
    email: str
    team: int  # team index
    jira: str
    github: str | None


def team_key(name: str) -> str:
    return name.lower().replace("&", "and").replace(" ", "-")


def make_people(rng: np.random.Generator) -> list[PersonSpec]:
    """Eight people per team with distinct names; GitHub logins only for developers."""
    teams = [team for stream in STREAMS for team in stream.teams]
    grid = len(FIRST_NAMES) * len(LAST_NAMES)
    picks = rng.choice(grid, size=len(teams) * PEOPLE_PER_TEAM, replace=False).tolist()
    people: list[PersonSpec] = []
    logins: set[str] = set()
    for number, pick in enumerate(picks):
        first, last = FIRST_NAMES[pick // len(LAST_NAMES)], LAST_NAMES[pick % len(LAST_NAMES)]
        team = number // PEOPLE_PER_TEAM
        github: str | None = None
        if number % PEOPLE_PER_TEAM < DEVELOPERS_PER_TEAM:
            github = f"{first[0]}{last}".lower()
            suffix = 2
            while github in logins:
                github = f"{first[0]}{last}{suffix}".lower()
                suffix += 1
            logins.add(github)
        people.append(
            PersonSpec(
                name=f"{first} {last}",
                email=f"{first}.{last}@northwind.example".lower(),
                team=team,
                jira=f"{first}.{last}".lower(),
                github=github,
            )
        )
    return people


def _q(value: str) -> str:
    """A YAML double-quoted scalar (JSON strings are valid YAML)."""
    return json.dumps(value, ensure_ascii=False)


def _flow(values: Sequence[str]) -> str:
    return "[" + ", ".join(_q(value) for value in values) + "]"


def render_config(people: Sequence[PersonSpec]) -> str:
    """The organisation as streamwise.yaml text."""
    lines = [
        "# Enterprise benchmark organisation (bench/enterprise.py).",
        "organisation:",
        f"  name: {_q(ORGANISATION)}",
        "  timezone: UTC",
        "linking:",
        "  production_environments: [production]",
        "  incident_deployment_rule: explicit_only  # incidents name their deployment here",
        "sources:",
    ]
    for source in SOURCES:
        lines += [f"  - name: {source}", "    kind: file"]
    lines.append("teams:")
    for stream in STREAMS:
        for team in stream.teams:
            lines += [
                f"  - key: {_q(team_key(team))}",
                f"    name: {_q(team)}",
                f"    value_stream: {_q(stream.key)}",
            ]
    team_keys = [team_key(team) for stream in STREAMS for team in stream.teams]
    lines.append("people:")
    for person in people:
        identities = f"{{jira: {_q(person.jira)}"
        if person.github:
            identities += f", github: {_q(person.github)}"
        lines += [
            f"  - name: {_q(person.name)}",
            f"    email: {_q(person.email)}",
            f"    team: {_q(team_keys[person.team])}",
            f"    identities: {identities}}}",
        ]
    lines.append("type_mappings:")
    for raw_type, flow_type in zip(RAW_TYPES, FLOW_ITEM_TYPES, strict=True):
        lines.append(f"  - {{type: {_q(raw_type)}, flow_item_type: {flow_type}}}")
    lines.append("value_streams:")
    for stream in STREAMS:
        lines += [
            f"  - key: {_q(stream.key)}",
            f"    name: {_q(stream.name)}",
            f"    kind: {stream.kind}",
            "    select:",
            f"      projects: {_flow(stream.projects)}",
            f"      repositories: {_flow([f'{ORG_PREFIX}/{s}' for s in stream.services])}",
            f"      services: {_flow(stream.services)}",
            "    stages:",
        ]
        for stage in stream.workflow.stages:
            statuses = [
                f"{{status: {_q(s)}, flow_state: waiting}}" if s in stage.waiting else _q(s)
                for s in stage.statuses
            ]
            lines += [f"      - name: {_q(stage.name)}", f"        flow_state: {stage.flow_state}"]
            if stage.value_adding:
                lines.append("        value_adding: true")
            lines.append(f"        statuses: [{', '.join(statuses)}]")
    return "\n".join(lines) + "\n"


@dataclass
class Organisation:
    """What the database assigned to the configured organisation, as lookup arrays.

    Status codes are global: every (stream, status) pair has one. Lookup arrays that may yield
    NULL end with a ``None`` entry, so index -1 means "no value".
    """

    source_ids: dict[str, int]
    stream_ids: list[int]
    team_ids: list[int]
    person_ids: IntArray  # by person index
    jira_users: ObjectArray  # by person index, + None
    github_users: ObjectArray  # by person index, + None
    person_id_or_none: ObjectArray  # by person index, + None
    status_names: ObjectArray  # by status code, + None
    status_stage_ids: ObjectArray  # by status code, + None
    status_states: ObjectArray  # flow state names by status code, + None
    status_state_codes: IntArray  # flow state index by status code
    forward: IntArray  # [stream, position] -> status code; position len(forward) is cancel
    forward_length: IntArray  # number of happy-path statuses per stream
    first_started: IntArray  # first happy-path position that is waiting or active
    develop_position: IntArray
    loop_from: IntArray  # [stream, loop] -> position
    loop_to: IntArray
    loop_cumulative: FloatArray  # [stream, loop] cumulative weights, padded with 1.0


def load_organisation(session: Session, people: Sequence[PersonSpec]) -> Organisation:
    """Read back the ids and mappings that ``apply_config`` created."""
    sources = {
        name: source_id for name, source_id in session.execute(select(Source.name, Source.id))
    }
    streams = {
        key: stream_id
        for key, stream_id in session.execute(select(ValueStream.key, ValueStream.id))
    }
    teams = {key: team_id for key, team_id in session.execute(select(Team.key, Team.id))}
    persons = {
        email: person_id for email, person_id in session.execute(select(Person.email, Person.id))
    }
    mapped: dict[tuple[int, str], tuple[int | None, str]] = {}
    for stream_id, raw_status, stage_id, flow_state in session.execute(
        select(
            StatusMapping.value_stream_id,
            StatusMapping.raw_status,
            StatusMapping.stage_id,
            StatusMapping.flow_state,
        )
    ):
        mapped[(stream_id, raw_status)] = (stage_id, flow_state)
    stage_count = session.scalar(select(func.count()).select_from(Stage))
    assert stage_count, "apply_config created no stages"

    names: list[str | None] = []
    stage_ids: list[int | None] = []
    states: list[str | None] = []
    longest = max(len(stream.workflow.forward) for stream in STREAMS) + 1
    loops = max(len(stream.workflow.loops) for stream in STREAMS)
    forward = np.full((len(STREAMS), longest), -1, dtype=np.int64)
    loop_from = np.zeros((len(STREAMS), loops), dtype=np.int64)
    loop_to = np.zeros((len(STREAMS), loops), dtype=np.int64)
    loop_cumulative = np.ones((len(STREAMS), loops), dtype=np.float64)
    for s, stream in enumerate(STREAMS):
        flow = stream.workflow
        stream_id = streams[stream.key]
        for position, status in enumerate((*flow.forward, flow.cancel)):
            stage_id, state = mapped[(stream_id, status)]
            assert state == flow.state_of(status), (stream.key, status, state)
            forward[s, position] = len(names)
            names.append(status)
            stage_ids.append(stage_id)
            states.append(state)
        weights = np.array([weight for _, _, weight in flow.loops])
        loop_cumulative[s, : len(weights)] = np.cumsum(weights) / weights.sum()
        for k, (origin, back_to, _) in enumerate(flow.loops):
            loop_from[s, k] = flow.forward.index(origin)
            loop_to[s, k] = flow.forward.index(back_to)
            assert loop_to[s, k] < loop_from[s, k]
    state_codes = np.array([FLOW_STATES.index(str(state)) for state in states], dtype=np.int64)
    forward_length = np.array([len(stream.workflow.forward) for stream in STREAMS], dtype=np.int64)
    first_started = np.array(
        [
            next(
                p
                for p, status in enumerate(stream.workflow.forward)
                if stream.workflow.state_of(status) in ("waiting", "active")
            )
            for stream in STREAMS
        ],
        dtype=np.int64,
    )
    for s, stream in enumerate(STREAMS):
        count = len(stream.workflow.loops)
        loop_from[s, count:], loop_to[s, count:] = loop_from[s, 0], loop_to[s, 0]  # padding
        assert (loop_to[s] >= first_started[s]).all()
    develop = np.array(
        [stream.workflow.forward.index(stream.workflow.develop) for stream in STREAMS],
        dtype=np.int64,
    )

    def with_none(values: Sequence[Any]) -> ObjectArray:
        array = np.empty(len(values) + 1, dtype=object)
        array[: len(values)] = values
        array[len(values)] = None
        return array

    person_ids = np.array([persons[person.email] for person in people], dtype=np.int64)
    return Organisation(
        source_ids=sources,
        stream_ids=[streams[stream.key] for stream in STREAMS],
        team_ids=[teams[team_key(team)] for stream in STREAMS for team in stream.teams],
        person_ids=person_ids,
        jira_users=with_none([person.jira for person in people]),
        github_users=with_none([person.github for person in people]),
        person_id_or_none=with_none(person_ids.tolist()),
        status_names=with_none(names),
        status_stage_ids=with_none(stage_ids),
        status_states=with_none(states),
        status_state_codes=state_codes,
        forward=forward,
        forward_length=forward_length,
        first_started=first_started,
        develop_position=develop,
        loop_from=loop_from,
        loop_to=loop_to,
        loop_cumulative=loop_cumulative,
    )


# -- numpy helpers ------------------------------------------------------------------------
def ragged_arange(lengths: IntArray) -> IntArray:
    """0, 1, …, n-1 for each group of ``lengths``, concatenated."""
    starts = np.cumsum(lengths) - lengths
    total = int(lengths.sum())
    return np.arange(total, dtype=np.int64) - np.repeat(starts, lengths)


def rank_in_groups(groups: IntArray) -> IntArray:
    """Position of each element within its run of equal values (``groups`` sorted)."""
    n = len(groups)
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    starts = np.ones(n, dtype=np.bool_)
    starts[1:] = groups[1:] != groups[:-1]
    index = np.arange(n, dtype=np.int64)
    first = np.maximum.accumulate(np.where(starts, index, 0))
    return index - first


def pick_rows(rng: np.random.Generator, cumulative: FloatArray, rows: IntArray) -> IntArray:
    """One category per element from the cumulative distribution in row ``rows[i]``."""
    draws = rng.random(len(rows))
    picked = (draws[:, None] >= cumulative[rows]).sum(axis=1)
    result: IntArray = np.minimum(picked, cumulative.shape[1] - 1).astype(np.int64)
    return result


def lognormal_seconds(
    rng: np.random.Generator, median: float | FloatArray, sigma: float | FloatArray, size: int
) -> IntArray:
    values = rng.lognormal(np.log(median), sigma, size)
    return np.rint(values).astype(np.int64)


def sha_strings(rng: np.random.Generator, count: int) -> list[str]:
    raw = rng.bytes(20 * count)
    shas = [raw[i : i + 20].hex() for i in range(0, 20 * count, 20)]
    if len(set(shas)) != count:  # 160 random bits: never happens, but the model needs unique
        raise RuntimeError("duplicate commit sha drawn; try another seed")
    return shas


class Clock:
    """Seconds since the start of history ↔ aware UTC datetimes."""

    def __init__(self, end: date) -> None:
        self.end = datetime(end.year, end.month, end.day, tzinfo=UTC)
        self.start = self.end - timedelta(days=HISTORY_DAYS)
        self.span = HISTORY_DAYS * DAY

    def datetimes(self, seconds: IntArray) -> list[datetime | None]:
        """Aware datetimes; negative seconds (the "none" marker) become None."""
        deltas: list[timedelta] = (
            seconds.astype("timedelta64[s]").astype("timedelta64[us]").tolist()
        )
        start = self.start
        values: list[datetime | None] = [start + delta for delta in deltas]
        for missing in np.flatnonzero(seconds < 0).tolist():
            values[missing] = None
        return values


# -- work ---------------------------------------------------------------------------------
@dataclass
class Work:
    count: int
    stream: IntArray
    team: IntArray
    project: ObjectArray
    flow_type: IntArray
    outcome: IntArray
    assignee: IntArray  # person index
    created: IntArray
    keys: ObjectArray
    item_id: IntArray  # database id by item index
    order: IntArray  # item indices in id order
    titles: list[str]
    labels: IntArray  # label index or -1
    last_code: IntArray
    updated: IntArray
    started: IntArray  # -1: not started
    done: IntArray  # -1: not done
    # The transitions, already in insert order (by item id, then time).
    t_item: IntArray
    t_kind: IntArray  # 0 status, 1 blocked, 2 unblocked
    t_at: IntArray
    t_from: IntArray  # status code or -1
    t_to: IntArray
    t_actor: IntArray  # person index
    # Passes through the development status, for the code generator.
    pass_item: IntArray
    pass_start: IntArray
    pass_end: IntArray


def generate_work(rng: np.random.Generator, org: Organisation, scale: float, clock: Clock) -> Work:
    n = max(len(STREAMS) * 2, round(WORK_ITEMS * scale))
    span = clock.span
    weights = np.array([stream.weight for stream in STREAMS])
    stream = rng.choice(len(STREAMS), size=n, p=weights / weights.sum()).astype(np.int64)
    team = stream * TEAMS_PER_STREAM + rng.choice(TEAMS_PER_STREAM, size=n, p=TEAM_SHARES)
    project_names = [p for s in STREAMS for p in s.projects]
    team_project = np.array(
        [
            project_names.index(s.projects[t % len(s.projects)])
            for s in STREAMS
            for t in range(TEAMS_PER_STREAM)
        ],
        dtype=np.int64,
    )
    project_index = team_project[team]
    project: ObjectArray = np.array(project_names, dtype=object)[project_index]
    mixes = np.cumsum(np.array([s.type_mix for s in STREAMS]), axis=1)
    flow_type = pick_rows(rng, mixes / mixes[:, -1:], stream)
    outcome = rng.choice(4, size=n, p=OUTCOME_SHARES).astype(np.int64)
    assignee = team * PEOPLE_PER_TEAM + rng.integers(0, DEVELOPERS_PER_TEAM, n)

    # Where each item stops on its stream's happy path (position of its current status).
    last = org.forward_length[stream] - 1  # the done position
    first_started = org.first_started[stream]
    stop = last.copy()
    wip = outcome == IN_PROGRESS
    stop[wip] = rng.integers(first_started[wip], last[wip])
    canceled = outcome == CANCELED
    early = canceled & (rng.random(n) < 0.5)
    stop[early] = rng.integers(0, first_started[early])
    late = canceled & ~early
    stop[late] = rng.integers(first_started[late], last[late])
    backlog = outcome == BACKLOG
    stop[backlog] = rng.integers(0, first_started[backlog])

    # Blocked periods go into a finished stay in a waiting or active status.
    can_block = (stop > first_started) | ((outcome == CANCELED) & (stop >= first_started))
    can_block &= outcome != BACKLOG
    candidates = np.flatnonzero(can_block)
    blocked_count = min(len(candidates), round(n * BLOCKED_SHARE))
    blocked = np.zeros(n, dtype=np.bool_)
    blocked[rng.choice(candidates, size=blocked_count, replace=False)] = True

    # Backward moves (send-backs to development, pauses back into a queue) top the number of
    # transitions up to the target; a loop from ``o`` back to ``r`` adds o - r + 1 of them.
    base = int(stop.sum()) + int(canceled.sum()) + 2 * blocked_count
    deficit = round(TRANSITIONS * scale) - base
    loop_items: list[IntArray] = []
    loop_kinds: list[IntArray] = []
    for _round in range(20):
        if deficit < 2:
            break
        pool = max(64, deficit)
        who = rng.integers(0, n, pool)
        kind = pick_rows(rng, org.loop_cumulative, stream[who])
        origin = org.loop_from[stream[who], kind]
        target = org.loop_to[stream[who], kind]
        fits = origin <= stop[who]
        who, kind, added = who[fits], kind[fits], (origin - target + 1)[fits]
        take = int(np.searchsorted(np.cumsum(added), deficit, side="right"))
        loop_items.append(who[:take])
        loop_kinds.append(kind[:take])
        deficit -= int(added[:take].sum())
        if take < len(who):  # the next loop would overshoot: close enough
            break
    l_item = np.concatenate(loop_items) if loop_items else np.zeros(0, dtype=np.int64)
    l_kind = np.concatenate(loop_kinds) if loop_kinds else np.zeros(0, dtype=np.int64)
    l_from = org.loop_from[stream[l_item], l_kind]
    l_to = org.loop_to[stream[l_item], l_kind]
    ordering = np.lexsort((l_from, l_item))  # by item, then origin: every run moves forward
    l_item, l_from, l_to = l_item[ordering], l_from[ordering], l_to[ordering]

    # Runs of consecutive happy-path positions: [0, o1], [r1, o2], …, [rk, stop], (+ cancel).
    loops_per_item = np.bincount(l_item, minlength=n).astype(np.int64)
    runs_per_item = 1 + loops_per_item + canceled
    run_first = np.cumsum(runs_per_item) - runs_per_item
    run_item = np.repeat(np.arange(n, dtype=np.int64), runs_per_item)
    run_start = np.zeros(len(run_item), dtype=np.int64)
    run_end = np.zeros(len(run_item), dtype=np.int64)
    loop_rank = ragged_arange(loops_per_item)
    run_end[run_first[l_item] + loop_rank] = l_from
    run_start[run_first[l_item] + loop_rank + 1] = l_to
    run_end[run_first + loops_per_item] = stop
    cancel_runs = run_first[canceled] + loops_per_item[canceled] + 1
    cancel_position = org.forward_length[stream[canceled]]
    run_start[cancel_runs] = cancel_position
    run_end[cancel_runs] = cancel_position
    run_length = run_end - run_start + 1
    assert (run_length >= 1).all()

    # Every status an item is in, in order ("entries").
    position = np.repeat(run_start, run_length) + ragged_arange(run_length)
    e_item = np.repeat(run_item, run_length)
    code = org.forward[stream[e_item], position]
    assert (code >= 0).all()
    state = org.status_state_codes[code]
    entries_per_item = np.bincount(e_item, minlength=n).astype(np.int64)
    e_first = np.cumsum(entries_per_item) - entries_per_item
    e_last = e_first + entries_per_item - 1
    is_first = np.zeros(len(code), dtype=np.bool_)
    is_first[e_first] = True
    is_last = np.zeros(len(code), dtype=np.bool_)
    is_last[e_last] = True

    # How long each status is held: backlog days, queues longer than hands-on work.
    medians = np.select(
        [is_first, state == NEW, state == WAITING],
        [3.0 * DAY, 2.0 * DAY, 20.0 * HOUR],
        default=10.0 * HOUR,
    )
    develop = position == org.develop_position[stream[e_item]]
    medians = np.where(develop, 16.0 * HOUR, medians)
    sigmas = np.where(state == WAITING, 1.1, np.where(state == NEW, 1.2, 0.9))
    stay = np.maximum(5 * MINUTE, lognormal_seconds(rng, medians, sigmas, len(code)))
    stay[is_last] = 0
    # No item's history may be longer than ~60 % of the period: squeeze the rare long ones.
    total = np.add.reduceat(stay, e_first) if n else np.zeros(0, dtype=np.int64)
    limit = int(span * 0.6)
    squeeze = np.where(total > limit, limit / np.maximum(total, 1), 1.0)
    stay = np.where(
        is_last, 0, np.maximum(MINUTE, (stay * squeeze[e_item]).astype(np.int64))
    ).astype(np.int64)
    before = np.cumsum(stay) - stay  # time from history start of the chain, exclusive
    offset = before - before[e_first][e_item]  # seconds from creation to entering the status
    duration = offset[e_last]  # creation to the last transition

    # Creation: finished items anywhere that leaves room for their history; the rest recently.
    created = np.zeros(n, dtype=np.int64)
    finished = (outcome == DONE) | (outcome == CANCELED)
    room = span - HOUR - duration
    created[finished] = (rng.random(int(finished.sum())) * room[finished]).astype(np.int64)
    idle = np.where(
        wip,
        lognormal_seconds(rng, 4.0 * DAY, 1.3, n),
        lognormal_seconds(rng, 20.0 * DAY, 1.0, n),
    )
    idle = np.clip(idle, 10 * MINUTE, np.maximum(10 * MINUTE, room))
    open_items = ~finished
    created[open_items] = (span - idle - duration)[open_items]
    created = np.maximum(created, 0)
    at = created[e_item] + offset  # time the item entered each status (first: creation)
    assert (at[~is_first] < span).all()
    assert (np.diff(at)[~is_first[1:]] > 0).all()

    # Item state, exactly as normalisation derives it from the transitions.
    last_code = code[e_last]
    updated = at[e_last]
    started_entry = np.where(
        (state == WAITING) | (state == ACTIVE), np.arange(len(code)), np.iinfo(np.int64).max
    )
    first_started_entry = np.minimum.reduceat(started_entry, e_first)
    has_started = first_started_entry < np.iinfo(np.int64).max
    started = np.full(n, -1, dtype=np.int64)
    started[has_started] = at[first_started_entry[has_started]]
    done = np.where(outcome == DONE, updated, -1)

    # Blocked flag: on and off again inside one finished waiting/active stay of the item.
    host_candidate = ((state == WAITING) | (state == ACTIVE)) & ~is_last & blocked[e_item]
    host_entries = np.flatnonzero(host_candidate)
    keys = rng.random(len(host_entries))
    by_item = np.lexsort((keys, e_item[host_entries]))
    host_entries = host_entries[by_item]
    host_items = e_item[host_entries]
    keep = np.ones(len(host_entries), dtype=np.bool_)
    keep[:-1] = host_items[1:] != host_items[:-1]  # the last (random) candidate per item
    host_entries = host_entries[keep]
    enter, leave = at[host_entries], at[host_entries + 1]
    blocked_at = enter + np.maximum(1, ((leave - enter) * rng.uniform(0.1, 0.6, len(enter))))
    blocked_at = blocked_at.astype(np.int64)
    unblocked_at = blocked_at + np.maximum(
        1, ((leave - blocked_at) * rng.uniform(0.2, 0.8, len(enter))).astype(np.int64)
    )
    assert ((enter < blocked_at) & (blocked_at < unblocked_at) & (unblocked_at < leave)).all()

    # Database ids follow creation, like a tracker's; keys count per project.
    order = np.argsort(created, kind="stable").astype(np.int64)
    item_id = np.empty(n, dtype=np.int64)
    item_id[order] = np.arange(1, n + 1, dtype=np.int64)
    by_project = np.lexsort((created, project_index))
    numbers = np.empty(n, dtype=np.int64)
    numbers[by_project] = rank_in_groups(project_index[by_project]) + 1
    keys_array = np.array(
        [f"{p}-{number}" for p, number in zip(project.tolist(), numbers.tolist(), strict=True)],
        dtype=object,
    )
    verbs = rng.integers(0, len(VERBS), n).tolist()
    objects = rng.integers(0, len(OBJECTS), n).tolist()
    titles = [f"{VERBS[v]} {OBJECTS[o]}" for v, o in zip(verbs, objects, strict=True)]
    labels = np.where(rng.random(n) < 0.3, rng.integers(0, len(LABELS), n), -1).astype(np.int64)

    # Transitions: status moves (every entry but the first) plus the blocked pairs.
    moves = np.flatnonzero(~is_first)
    t_item = np.concatenate([e_item[moves], e_item[host_entries], e_item[host_entries]])
    t_kind = np.concatenate(
        [np.zeros(len(moves), np.int64), np.ones(len(host_entries), np.int64),
         np.full(len(host_entries), 2, np.int64)]
    )  # fmt: skip
    t_at = np.concatenate([at[moves], blocked_at, unblocked_at])
    t_from = np.concatenate([code[moves - 1], np.full(2 * len(host_entries), -1, np.int64)])
    t_to = np.concatenate([code[moves], np.full(2 * len(host_entries), -1, np.int64)])
    actor = team[t_item] * PEOPLE_PER_TEAM + rng.integers(0, PEOPLE_PER_TEAM, len(t_item))
    t_actor = np.where(rng.random(len(t_item)) < 0.6, assignee[t_item], actor)
    sequence = np.lexsort((t_at, item_id[t_item]))

    # Development passes: each stay in the develop status becomes pull requests.
    passes = np.flatnonzero(develop & ~is_first)
    pass_end = np.where(is_last[passes], span, at[np.minimum(passes + 1, len(at) - 1)])
    return Work(
        count=n,
        stream=stream,
        team=team,
        project=project,
        flow_type=flow_type,
        outcome=outcome,
        assignee=assignee,
        created=created,
        keys=keys_array,
        item_id=item_id,
        order=order,
        titles=titles,
        labels=labels,
        last_code=last_code,
        updated=updated,
        started=started,
        done=done,
        t_item=t_item[sequence],
        t_kind=t_kind[sequence],
        t_at=t_at[sequence],
        t_from=t_from[sequence],
        t_to=t_to[sequence],
        t_actor=t_actor[sequence],
        pass_item=e_item[passes],
        pass_start=at[passes],
        pass_end=pass_end.astype(np.int64),
    )


# -- code ---------------------------------------------------------------------------------
SERVICES: tuple[str, ...] = tuple(service for stream in STREAMS for service in stream.services)
SERVICES_PER_STREAM = 3
REPOSITORIES: tuple[str, ...] = tuple(f"{ORG_PREFIX}/{service}" for service in SERVICES)
COMMIT_PHRASES = (
    "add tests",
    "handle empty input",
    "address review comments",
    "wire up the new endpoint",
    "update schema",
    "rename fields",
    "fix flaky check",
    "tidy up",
    "log failures",
    "first cut",
)
CHORES = ("Bump dependencies", "Update CI image", "Rotate test fixtures", "Upgrade base image")
DIRECT_MESSAGES = ("Hotfix: revert config change", "Update runbook", "Bump version", "Fix typo")
OPEN, MERGED, CLOSED = 0, 1, 2
PR_STATES = ("open", "merged", "closed")


@dataclass
class Code:
    """Pull requests and commits, each in database id order."""

    pr_item: IntArray  # work item index or -1
    pr_repo: IntArray
    pr_author: IntArray  # person index
    pr_reviewer: IntArray
    pr_number: IntArray
    pr_created: IntArray
    pr_first_review: IntArray  # -1: none
    pr_approved: IntArray
    pr_merged: IntArray
    pr_closed: IntArray
    pr_state: IntArray
    pr_merge_sha: list[str | None]
    c_pr: IntArray  # pull request index (= id - 1) or -1
    c_repo: IntArray
    c_author: IntArray
    c_committed: IntArray
    c_authored: IntArray
    c_item: IntArray  # work item index or -1
    c_ready: IntArray  # when the commit reached main (merge or push), -1 if it never did
    c_sha: list[str]
    c_message: list[str]


def generate_code(rng: np.random.Generator, work: Work, scale: float, clock: Clock) -> Code:
    span = clock.span
    n_pr = max(20, round(PULL_REQUESTS * scale))
    n_free = round(n_pr * PR_WITHOUT_ITEM_SHARE)
    n_linked = n_pr - n_free
    passes = len(work.pass_item)
    if passes >= n_linked:
        chosen = np.sort(rng.choice(passes, size=n_linked, replace=False)).astype(np.int64)
    else:  # some passes produce several pull requests
        extra = rng.integers(0, passes, n_linked - passes)
        chosen = np.sort(np.concatenate([np.arange(passes, dtype=np.int64), extra]))
    item = work.pass_item[chosen]
    team = work.team[item]
    local = team % TEAMS_PER_STREAM
    stream = work.stream[item]
    primary = stream * SERVICES_PER_STREAM + local % SERVICES_PER_STREAM
    secondary = stream * SERVICES_PER_STREAM + (local + 1) % SERVICES_PER_STREAM
    repo = np.where(rng.random(n_linked) < 0.75, primary, secondary)
    author = np.where(
        rng.random(n_linked) < 0.85,
        work.assignee[item],
        team * PEOPLE_PER_TEAM + rng.integers(0, DEVELOPERS_PER_TEAM, n_linked),
    )
    window_start, window_end = work.pass_start[chosen], work.pass_end[chosen]

    free_repo = rng.integers(0, len(SERVICES), n_free)
    free_team = (free_repo // SERVICES_PER_STREAM) * TEAMS_PER_STREAM + rng.integers(
        0, TEAMS_PER_STREAM, n_free
    )
    free_author = free_team * PEOPLE_PER_TEAM + rng.integers(0, DEVELOPERS_PER_TEAM, n_free)
    free_end = rng.integers(2 * DAY, span - DAY, n_free)
    free_start = np.maximum(
        0, free_end - np.maximum(HOUR, lognormal_seconds(rng, 6 * HOUR, 0.8, n_free))
    )

    item = np.concatenate([item, np.full(n_free, -1, np.int64)])
    repo = np.concatenate([repo, free_repo])
    team = np.concatenate([team, free_team])
    author = np.concatenate([author, free_author])
    start = np.concatenate([window_start, free_start])
    stop = np.concatenate([window_end, free_end])

    # First commit early in the pass; the pull request opens near its end.
    width = np.maximum(stop - start, 2)
    first_commit = start + (width * rng.uniform(0.02, 0.25, n_pr)).astype(np.int64)
    created = first_commit + np.maximum(
        1, ((stop - first_commit) * rng.uniform(0.6, 0.98, n_pr)).astype(np.int64)
    )
    assert (created < span).all()
    first_review = created + np.maximum(MINUTE, lognormal_seconds(rng, 4 * HOUR, 1.0, n_pr))
    approved = first_review + np.where(
        rng.random(n_pr) < APPROVED_AT_FIRST_REVIEW,
        0,
        np.maximum(MINUTE, lognormal_seconds(rng, 6 * HOUR, 1.0, n_pr)),
    )
    merged = approved + np.maximum(30, lognormal_seconds(rng, 40 * MINUTE, 1.0, n_pr))
    closed = np.full(n_pr, -1, dtype=np.int64)
    dropped = rng.random(n_pr) < PR_CLOSED_SHARE
    closed[dropped] = (
        created + np.maximum(10 * MINUTE, lognormal_seconds(rng, 2 * DAY, 1.0, n_pr))
    )[dropped]
    approved[dropped] = -1
    merged[dropped] = -1
    first_review[dropped & (first_review >= closed)] = -1
    # Nothing after the end of history has happened yet.
    late_review = first_review >= span
    first_review[late_review] = -1
    approved[late_review | (approved >= span)] = -1
    merged[(approved < 0) | (merged >= span)] = -1
    closed[closed >= span] = -1
    closed = np.where(merged >= 0, merged, closed)
    state = np.where(merged >= 0, MERGED, np.where(closed >= 0, CLOSED, OPEN)).astype(np.int64)

    # Database order: by creation; numbers count per repository.
    order = np.argsort(created, kind="stable")
    item, repo, team, author = item[order], repo[order], team[order], author[order]
    first_commit, created, first_review = first_commit[order], created[order], first_review[order]
    approved, merged, closed, state = approved[order], merged[order], closed[order], state[order]
    by_repo = np.lexsort((created, repo))
    number = np.empty(n_pr, dtype=np.int64)
    number[by_repo] = rank_in_groups(repo[by_repo]) + 1
    reviewer = team * PEOPLE_PER_TEAM + (
        (author % PEOPLE_PER_TEAM + rng.integers(1, DEVELOPERS_PER_TEAM, n_pr))
        % DEVELOPERS_PER_TEAM
    )

    # Commits: at least one per pull request, heavy-tailed; a few go straight to main.
    n_commits = max(n_pr + 10, round(COMMITS * scale))
    n_direct = round(n_commits * DIRECT_COMMIT_SHARE)
    in_prs = n_commits - n_direct
    weights = rng.lognormal(0.0, 0.7, n_pr)
    per_pr = 1 + np.bincount(
        rng.choice(n_pr, size=in_prs - n_pr, p=weights / weights.sum()), minlength=n_pr
    ).astype(np.int64)
    c_pr = np.repeat(np.arange(n_pr, dtype=np.int64), per_pr)
    rank = ragged_arange(per_pr)
    limit = np.where(merged >= 0, merged, np.where(closed >= 0, closed, span)) - 1
    fraction = rng.random(in_prs)
    fraction[rank == 0] = 0.0
    committed = first_commit[c_pr] + (fraction * (limit - first_commit)[c_pr]).astype(np.int64)
    within = np.lexsort((committed, c_pr))
    committed = committed[within]  # c_pr is already grouped, so only times move
    last_commit = np.cumsum(per_pr) - 1
    c_author = np.where(
        rng.random(in_prs) < 0.9,
        author[c_pr],
        team[c_pr] * PEOPLE_PER_TEAM + rng.integers(0, DEVELOPERS_PER_TEAM, in_prs),
    )
    direct_repo = rng.integers(0, len(SERVICES), n_direct)
    direct_team = (direct_repo // SERVICES_PER_STREAM) * TEAMS_PER_STREAM + rng.integers(
        0, TEAMS_PER_STREAM, n_direct
    )
    direct_time = rng.integers(DAY, span - HOUR, n_direct)

    c_pr_all = np.concatenate([c_pr, np.full(n_direct, -1, np.int64)])
    c_repo = np.concatenate([repo[c_pr], direct_repo])
    c_author_all = np.concatenate(
        [c_author, direct_team * PEOPLE_PER_TEAM + rng.integers(0, DEVELOPERS_PER_TEAM, n_direct)]
    )
    c_committed = np.concatenate([committed, direct_time])
    c_item = np.concatenate([item[c_pr], np.full(n_direct, -1, np.int64)])
    c_ready = np.concatenate([merged[c_pr], direct_time])
    shas = sha_strings(rng, n_commits)
    merge_sha: list[str | None] = [
        shas[last] if state_value == MERGED else None
        for last, state_value in zip(last_commit.tolist(), state.tolist(), strict=True)
    ]
    phrases = rng.integers(0, len(COMMIT_PHRASES), n_commits).tolist()
    messages: list[str] = []
    keys = work.keys
    for index, (item_index, phrase) in enumerate(zip(c_item.tolist(), phrases, strict=True)):
        if item_index >= 0:
            messages.append(f"{keys[item_index]}: {COMMIT_PHRASES[phrase]}")
        elif index < in_prs:
            messages.append(f"{CHORES[phrase % len(CHORES)]}")
        else:
            messages.append(DIRECT_MESSAGES[phrase % len(DIRECT_MESSAGES)])

    # Database order of commits: by commit time.
    c_order = np.argsort(c_committed, kind="stable")
    c_authored = np.maximum(0, c_committed - rng.integers(0, 15 * MINUTE, n_commits))
    return Code(
        pr_item=item,
        pr_repo=repo,
        pr_author=author,
        pr_reviewer=reviewer,
        pr_number=number,
        pr_created=created,
        pr_first_review=first_review,
        pr_approved=approved,
        pr_merged=merged,
        pr_closed=closed,
        pr_state=state,
        pr_merge_sha=merge_sha,
        c_pr=c_pr_all[c_order],
        c_repo=c_repo[c_order],
        c_author=c_author_all[c_order],
        c_committed=c_committed[c_order],
        c_authored=c_authored[c_order],
        c_item=c_item[c_order],
        c_ready=c_ready[c_order],
        c_sha=[shas[i] for i in c_order.tolist()],
        c_message=[messages[i] for i in c_order.tolist()],
    )


# -- delivery -----------------------------------------------------------------------------
STAGING, PRODUCTION = 0, 1
SUCCESS, FAILED, ROLLED_BACK = 0, 1, 2
DEPLOY_STATUSES = ("success", "failed", "rolled_back")
KEY_STRIDE = 10**9  # service * stride + seconds: one sortable key per (service, time)


@dataclass
class Delivery:
    """Deployments in id order (by start), their shipped commits, runs and incidents."""

    d_service: IntArray
    d_environment: IntArray
    d_status: IntArray
    d_started: IntArray
    d_finished: IntArray
    d_rollback_of: IntArray  # deployment index (= id - 1) or -1
    d_sha: IntArray  # commit index or -1
    d_version: IntArray
    change_deployment: IntArray
    change_commit: IntArray
    run_service: IntArray
    run_sha: IntArray
    run_started: IntArray
    run_finished: IntArray
    i_service: IntArray
    i_severity: IntArray
    i_topic: IntArray
    i_opened: IntArray
    i_acknowledged: IntArray
    i_resolved: IntArray
    i_cause: IntArray  # deployment index or -1


def generate_delivery(rng: np.random.Generator, code: Code, scale: float, clock: Clock) -> Delivery:
    span = clock.span
    services = len(SERVICES)
    total = max(services * 8, round(DEPLOYMENTS * scale))
    production_share = PROMOTED_SHARE / (1 + PROMOTED_SHARE)
    base = total
    while base + round(round(base * production_share) * ROLLED_BACK_SHARE) > total:
        base -= 1
    n_production = round(base * production_share)
    n_builds = base - n_production
    n_rollbacks = total - base

    # Builds: each deployed to staging; most are then promoted to production.
    weights = rng.lognormal(0.0, 0.35, services)
    per_service = rng.multinomial(n_builds - services, weights / weights.sum()) + 1
    b_service = np.repeat(np.arange(services, dtype=np.int64), per_service)
    first_build = np.cumsum(per_service) - per_service
    available = span - 2 * DAY - 12 * HOUR
    min_gap = np.minimum(HOUR, available / (3 * per_service))
    raw_gaps = rng.exponential(1.0, n_builds)
    gap_sums = np.add.reduceat(raw_gaps, first_build)
    stretch = (available - min_gap * per_service) / gap_sums
    gaps = (min_gap[b_service] + raw_gaps * stretch[b_service]).astype(np.int64)
    cumulative = np.cumsum(gaps)
    # Each service's first build comes a random part of one gap after the start.
    slack = gaps[first_build] * rng.random(services)
    b_time = (
        2 * DAY
        + cumulative
        - cumulative[first_build][b_service]
        + slack.astype(np.int64)[b_service]
    )
    next_time = np.append(b_time[1:], span)
    next_time[first_build[1:] - 1] = span  # the last build of each service
    b_time_gap = next_time - b_time
    staging_duration = np.clip(lognormal_seconds(rng, 6 * MINUTE, 0.4, n_builds), 120, 900)

    promoted = np.zeros(n_builds, dtype=np.bool_)
    promoted[rng.choice(n_builds, size=n_production, replace=False)] = True
    staging_status = np.where(
        ~promoted & (rng.random(n_builds) < STAGING_FAILED_SHARE), FAILED, SUCCESS
    ).astype(np.int64)

    # What each build contains: commits on main before it started.
    shippable = np.flatnonzero(code.c_ready >= 0)
    commit_keys = code.c_repo[shippable] * KEY_STRIDE + code.c_ready[shippable]
    by_key = np.argsort(commit_keys, kind="stable")
    shippable, commit_keys = shippable[by_key], commit_keys[by_key]
    build_hi = np.searchsorted(commit_keys, b_service * KEY_STRIDE + b_time, side="left")
    service_lo = np.searchsorted(commit_keys, b_service * KEY_STRIDE, side="left")
    b_sha = np.where(build_hi > service_lo, shippable[np.maximum(build_hi - 1, 0)], -1)
    b_version = ragged_arange(per_service) + 1

    # Production deployments, in build order per service.
    p_build = np.flatnonzero(promoted)
    p_service = b_service[p_build]
    lag = staging_duration[p_build] + MINUTE
    room = np.maximum(0, 0.7 * b_time_gap[p_build] - lag)
    lag = lag + np.minimum(lognormal_seconds(rng, 90 * MINUTE, 0.8, n_production), room)
    p_started = b_time[p_build] + lag.astype(np.int64)
    p_finished = p_started + np.clip(
        lognormal_seconds(rng, 8 * MINUTE, 0.5, n_production), 120, 1800
    )
    p_next = np.append(p_started[1:], span)
    p_last = np.ones(n_production, dtype=np.bool_)
    p_last[:-1] = p_service[1:] != p_service[:-1]
    p_next[p_last] = span
    p_first = np.ones(n_production, dtype=np.bool_)
    p_first[1:] = p_service[1:] != p_service[:-1]
    p_status = np.where(rng.random(n_production) < PRODUCTION_FAILED_SHARE, FAILED, SUCCESS).astype(
        np.int64
    )
    # The first succeeds so every rollback has a good build to return to, the last so that
    # everything merged before a service's last build has shipped by the end.
    p_status[p_first | p_last] = SUCCESS
    can_roll_back = (
        (p_status == SUCCESS)
        & ~(p_first | p_last)
        & (p_next - p_finished >= HOUR)
        & (p_finished < span - DAY)
    )
    rollback_candidates = np.flatnonzero(can_roll_back)
    n_rollbacks = min(n_rollbacks, len(rollback_candidates))
    rolled = np.sort(rng.choice(rollback_candidates, size=n_rollbacks, replace=False))
    p_status[rolled] = ROLLED_BACK

    # Which commits each production deployment shipped: everything since the last success.
    p_hi = build_hi[p_build]
    index = np.arange(n_production, dtype=np.int64)
    last_success = np.maximum.accumulate(np.where(p_status == SUCCESS, index, -1))
    previous = np.append(-1, last_success[:-1])
    service_first = np.maximum.accumulate(np.where(p_first, index, 0))
    has_previous = previous >= service_first
    p_lo = np.where(has_previous, p_hi[np.maximum(previous, 0)], service_lo[p_build])
    shipped = np.maximum(0, p_hi - p_lo)
    change_production = np.repeat(index, shipped)
    change_commit = shippable[np.repeat(p_lo, shipped) + ragged_arange(shipped)]

    # Rollbacks return to the previous successful build shortly after a bad deployment.
    r_of = rolled
    r_started = p_finished[r_of] + np.clip(
        lognormal_seconds(rng, 40 * MINUTE, 0.6, n_rollbacks),
        2 * MINUTE,
        np.maximum(2 * MINUTE + 1, (p_next[r_of] - p_finished[r_of]) // 2),
    )
    r_finished = r_started + np.clip(lognormal_seconds(rng, 4 * MINUTE, 0.4, n_rollbacks), 60, 900)
    good = previous[r_of]
    assert (good >= service_first[r_of]).all()  # a rolled-back deployment is never the first

    # All deployments together: staging, production, rollbacks; ids by start time.
    d_service = np.concatenate([b_service, p_service, p_service[r_of]])
    d_environment = np.concatenate(
        [np.full(n_builds, STAGING), np.full(n_production + n_rollbacks, PRODUCTION)]
    ).astype(np.int64)
    d_status = np.concatenate([staging_status, p_status, np.full(n_rollbacks, SUCCESS)])
    d_started = np.concatenate([b_time, p_started, r_started])
    d_finished = np.concatenate([b_time + staging_duration, p_finished, r_finished]).astype(
        np.int64
    )
    d_sha = np.concatenate([b_sha, b_sha[p_build], b_sha[p_build][good]])
    d_version = np.concatenate([b_version, b_version[p_build], b_version[p_build][good]])
    production_offset = n_builds
    d_rollback_of = np.concatenate(
        [np.full(n_builds + n_production, -1, np.int64), production_offset + r_of]
    )
    order = np.argsort(d_started, kind="stable")
    position = np.empty(len(order), dtype=np.int64)
    position[order] = np.arange(len(order), dtype=np.int64)
    d_rollback_of = np.where(d_rollback_of >= 0, position[np.maximum(d_rollback_of, 0)], -1)
    assert (d_finished < span).all()

    # Incidents: some right after a deployment (all rolled-back ones), the rest at random.
    n_incidents = max(10, round(INCIDENTS * scale))
    n_caused = round(n_incidents * CAUSED_INCIDENT_SHARE)
    from_rollbacks = min(n_caused, n_rollbacks)
    plain = np.flatnonzero((p_status == SUCCESS) & (p_finished < span - 2 * DAY))
    from_plain = min(n_caused - from_rollbacks, len(plain))
    plain_cause = np.sort(rng.choice(plain, size=from_plain, replace=False))
    rollback_pick = rng.choice(n_rollbacks, size=from_rollbacks, replace=False)
    cause = np.concatenate([r_of[rollback_pick], plain_cause])
    opened_caused = np.concatenate(
        [
            p_finished[r_of[rollback_pick]]
            + np.maximum(
                1,
                (
                    (r_started[rollback_pick] - p_finished[r_of[rollback_pick]])
                    * rng.uniform(0.1, 0.7, from_rollbacks)
                ).astype(np.int64),
            ),
            p_finished[plain_cause]
            + np.clip(lognormal_seconds(rng, 2 * HOUR, 0.8, from_plain), 5 * MINUTE, DAY),
        ]
    )
    n_background = n_incidents - len(cause)
    i_service = np.concatenate([p_service[cause], rng.integers(0, services, n_background)])
    i_opened = np.concatenate([opened_caused, rng.integers(DAY, span - 2 * DAY, n_background)])
    i_cause = np.concatenate(
        [position[production_offset + cause], np.full(n_background, -1, np.int64)]
    )
    severity = rng.choice(len(SEVERITIES), size=n_incidents, p=SEVERITY_SHARES).astype(np.int64)
    acknowledged = i_opened + np.clip(
        lognormal_seconds(rng, 6 * MINUTE, 0.8, n_incidents), 30, 6 * HOUR
    )
    resolved = acknowledged + np.maximum(
        2 * MINUTE, lognormal_seconds(rng, 2 * HOUR, 1.0, n_incidents)
    )
    acknowledged = np.where(acknowledged < span, acknowledged, -1)
    resolved = np.where((acknowledged >= 0) & (resolved < span), resolved, -1)
    i_order = np.argsort(i_opened, kind="stable")

    # A CI build for every staging deployment, finishing just before it starts.
    run_finished = b_time - MINUTE
    run_started = run_finished - np.clip(
        lognormal_seconds(rng, 12 * MINUTE, 0.5, n_builds), 120, 1800
    )
    return Delivery(
        d_service=d_service[order],
        d_environment=d_environment[order],
        d_status=d_status[order],
        d_started=d_started[order],
        d_finished=d_finished[order],
        d_rollback_of=d_rollback_of[order],
        d_sha=d_sha[order],
        d_version=d_version[order],
        change_deployment=position[production_offset + change_production],
        change_commit=change_commit,
        run_service=b_service,
        run_sha=b_sha,
        run_started=run_started,
        run_finished=run_finished,
        i_service=i_service[i_order],
        i_severity=severity,
        i_topic=rng.integers(0, len(INCIDENT_TOPICS), n_incidents),
        i_opened=i_opened[i_order],
        i_acknowledged=acknowledged[i_order],
        i_resolved=resolved[i_order],
        i_cause=i_cause[i_order],
    )


# -- rows ---------------------------------------------------------------------------------
Rows = list[dict[str, Any]]


def _spans(total: int) -> Iterator[tuple[int, int]]:
    for low in range(0, total, ROWS_PER_CHUNK):
        yield low, min(total, low + ROWS_PER_CHUNK)


def _dicts(columns: dict[str, list[Any]]) -> Rows:
    names = list(columns)
    return [dict(zip(names, values, strict=True)) for values in zip(*columns.values(), strict=True)]


def _lookup(values: Sequence[Any]) -> ObjectArray:
    """An object array for fancy indexing, with ``None`` at index -1."""
    array = np.empty(len(values) + 1, dtype=object)
    array[: len(values)] = list(values)
    array[len(values)] = None
    return array


def _ids(low: int, high: int) -> list[int]:
    return list(range(low + 1, high + 1))


def _deployment_external_ids(delivery: Delivery) -> list[str]:
    short = ("stg", "prod")
    return [
        f"{SERVICES[service]}-{short[environment]}-{index + 1}"
        for index, (service, environment) in enumerate(
            zip(delivery.d_service.tolist(), delivery.d_environment.tolist(), strict=True)
        )
    ]


@dataclass
class Tables:
    """Everything generated, plus the organisation's ids, ready to be turned into rows."""

    org: Organisation
    clock: Clock
    work: Work
    code: Code
    delivery: Delivery

    def __post_init__(self) -> None:
        self.stream_ids = _lookup(self.org.stream_ids)
        self.team_ids = _lookup(self.org.team_ids)
        self.repositories = _lookup(REPOSITORIES)
        self.services = _lookup(SERVICES)
        keys = self.work.keys
        self.pr_keys: list[str | None] = [
            str(keys[item]) if item >= 0 else None for item in self.code.pr_item.tolist()
        ]
        self.pr_external = [
            f"{REPOSITORIES[repo]}#{number}"
            for repo, number in zip(
                self.code.pr_repo.tolist(), self.code.pr_number.tolist(), strict=True
            )
        ]
        self.pr_branches = _lookup(
            [
                f"feature/{key}" if key else f"chore/maintenance-{number}"
                for key, number in zip(self.pr_keys, self.code.pr_number.tolist(), strict=True)
            ]
        )
        self.deployment_external = _lookup(_deployment_external_ids(self.delivery))
        self.shas = _lookup(self.code.c_sha)

    def work_items(self) -> Iterator[Rows]:
        work, org, clock = self.work, self.org, self.clock
        source = org.source_ids["jira"]
        raw_types = _lookup(RAW_TYPES)
        flow_types = _lookup(FLOW_ITEM_TYPES)
        label_lists: list[list[str]] = [[label] for label in LABELS] + [[]]
        for low, high in _spans(work.count):
            index = work.order[low:high]
            ids = work.item_id[index].tolist()
            keys = work.keys[index].tolist()
            assignee = np.where(work.started[index] >= 0, work.assignee[index], -1)
            last = work.last_code[index]
            yield _dicts(
                {
                    "id": ids,
                    "source_id": [source] * len(ids),
                    "external_id": [str(100_000 + i) for i in ids],
                    "key": keys,
                    "title": [work.titles[i] for i in index.tolist()],
                    "project": work.project[index].tolist(),
                    "raw_type": raw_types[work.flow_type[index]].tolist(),
                    "flow_item_type": flow_types[work.flow_type[index]].tolist(),
                    "raw_status": org.status_names[last].tolist(),
                    "stage_id": org.status_stage_ids[last].tolist(),
                    "flow_state": org.status_states[last].tolist(),
                    "created_at": clock.datetimes(work.created[index]),
                    "updated_at": clock.datetimes(work.updated[index]),
                    "work_started_at": clock.datetimes(work.started[index]),
                    "done_at": clock.datetimes(work.done[index]),
                    "first_seen_mid_flow": [False] * len(ids),
                    "team_id": self.team_ids[work.team[index]].tolist(),
                    "value_stream_id": self.stream_ids[work.stream[index]].tolist(),
                    "assignee_id": org.person_id_or_none[assignee].tolist(),
                    "labels": [label_lists[k] for k in work.labels[index].tolist()],
                    "url": [JIRA_URL + key for key in keys],
                }
            )

    def transitions(self) -> Iterator[Rows]:
        work, org = self.work, self.org
        source = org.source_ids["jira"]
        kinds = _lookup(("status", "blocked", "unblocked"))
        for low, high in _spans(len(work.t_item)):
            items = work.t_item[low:high]
            before, after = work.t_from[low:high], work.t_to[low:high]
            actor = work.t_actor[low:high]
            yield _dicts(
                {
                    "id": _ids(low, high),
                    "source_id": [source] * (high - low),
                    "external_id": [str(10_000_000 + i) for i in _ids(low, high)],
                    "work_item_id": work.item_id[items].tolist(),
                    "kind": kinds[work.t_kind[low:high]].tolist(),
                    "at": self.clock.datetimes(work.t_at[low:high]),
                    "from_status": org.status_names[before].tolist(),
                    "to_status": org.status_names[after].tolist(),
                    "from_stage_id": org.status_stage_ids[before].tolist(),
                    "to_stage_id": org.status_stage_ids[after].tolist(),
                    "from_flow_state": org.status_states[before].tolist(),
                    "to_flow_state": org.status_states[after].tolist(),
                    "actor": org.jira_users[actor].tolist(),
                    "actor_id": org.person_id_or_none[actor].tolist(),
                }
            )

    def commits(self) -> Iterator[Rows]:
        code, org, clock = self.code, self.org, self.clock
        source = org.source_ids["github"]
        for low, high in _spans(len(code.c_sha)):
            repo = code.c_repo[low:high]
            author = code.c_author[low:high]
            pr = code.c_pr[low:high]
            shas = code.c_sha[low:high]
            yield _dicts(
                {
                    "id": _ids(low, high),
                    "source_id": [source] * (high - low),
                    "external_id": shas,
                    "repository": self.repositories[repo].tolist(),
                    "sha": shas,
                    "author": org.github_users[author].tolist(),
                    "author_id": org.person_id_or_none[author].tolist(),
                    "authored_at": clock.datetimes(code.c_authored[low:high]),
                    "committed_at": clock.datetimes(code.c_committed[low:high]),
                    "message": code.c_message[low:high],
                    "branch": [
                        "main" if p < 0 else branch
                        for p, branch in zip(
                            pr.tolist(), self.pr_branches[pr].tolist(), strict=True
                        )
                    ],
                    "value_stream_id": self.stream_ids[repo // SERVICES_PER_STREAM].tolist(),
                }
            )

    def pull_requests(self) -> Iterator[Rows]:
        code, org, clock = self.code, self.org, self.clock
        source = org.source_ids["github"]
        states = _lookup(PR_STATES)
        titles = self.work.titles
        for low, high in _spans(len(code.pr_repo)):
            repo = code.pr_repo[low:high]
            author = code.pr_author[low:high]
            items = code.pr_item[low:high].tolist()
            yield _dicts(
                {
                    "id": _ids(low, high),
                    "source_id": [source] * (high - low),
                    "external_id": self.pr_external[low:high],
                    "repository": self.repositories[repo].tolist(),
                    "number": code.pr_number[low:high].tolist(),
                    "title": [
                        f"{key} {titles[item]}" if key else CHORES[number % len(CHORES)]
                        for key, item, number in zip(
                            self.pr_keys[low:high], items, range(low, high), strict=True
                        )
                    ],
                    "body": [None] * (high - low),
                    "author": org.github_users[author].tolist(),
                    "author_id": org.person_id_or_none[author].tolist(),
                    "state": states[code.pr_state[low:high]].tolist(),
                    "created_at": clock.datetimes(code.pr_created[low:high]),
                    "first_review_at": clock.datetimes(code.pr_first_review[low:high]),
                    "approved_at": clock.datetimes(code.pr_approved[low:high]),
                    "merged_at": clock.datetimes(code.pr_merged[low:high]),
                    "closed_at": clock.datetimes(code.pr_closed[low:high]),
                    "merge_commit_sha": code.pr_merge_sha[low:high],
                    "base_branch": ["main"] * (high - low),
                    "head_branch": self.pr_branches[np.arange(low, high)].tolist(),
                    "url": [
                        f"{GITHUB_URL}{name.replace('#', '/pull/')}"
                        for name in self.pr_external[low:high]
                    ],
                    "value_stream_id": self.stream_ids[repo // SERVICES_PER_STREAM].tolist(),
                }
            )

    def reviews(self) -> tuple[int, Iterator[Rows]]:
        code, org = self.code, self.org
        first = np.flatnonzero(code.pr_first_review >= 0)
        second = np.flatnonzero(
            (code.pr_approved >= 0) & (code.pr_approved != code.pr_first_review)
        )
        pr = np.concatenate([first, second])
        at = np.concatenate([code.pr_first_review[first], code.pr_approved[second]])
        first_state = np.where(
            code.pr_approved[first] == code.pr_first_review[first],
            0,
            np.where(np.arange(len(first)) % 5 < 3, 1, 2),
        )
        state = np.concatenate([first_state, np.zeros(len(second), np.int64)])
        ordering = np.lexsort((at, pr))
        pr, at, state = pr[ordering], at[ordering], state[ordering]
        number = rank_in_groups(pr) + 1
        names = _lookup(("approved", "changes_requested", "commented"))
        source = org.source_ids["github"]

        def rows() -> Iterator[Rows]:
            for low, high in _spans(len(pr)):
                which = pr[low:high]
                reviewer = code.pr_reviewer[which]
                yield _dicts(
                    {
                        "id": _ids(low, high),
                        "source_id": [source] * (high - low),
                        "external_id": [
                            f"{self.pr_external[p]}/review/{k}"
                            for p, k in zip(which.tolist(), number[low:high].tolist(), strict=True)
                        ],
                        "pull_request_id": (which + 1).tolist(),
                        "reviewer": org.github_users[reviewer].tolist(),
                        "reviewer_id": org.person_id_or_none[reviewer].tolist(),
                        "state": names[state[low:high]].tolist(),
                        "submitted_at": self.clock.datetimes(at[low:high]),
                    }
                )

        return len(pr), rows()

    def pull_request_commits(self) -> tuple[int, Iterator[Rows]]:
        commits = np.flatnonzero(self.code.c_pr >= 0)
        commits = commits[np.lexsort((commits, self.code.c_pr[commits]))]

        def rows() -> Iterator[Rows]:
            for low, high in _spans(len(commits)):
                which = commits[low:high]
                yield _dicts(
                    {
                        "pull_request_id": (self.code.c_pr[which] + 1).tolist(),
                        "commit_sha": self.shas[which].tolist(),
                        "commit_id": (which + 1).tolist(),
                    }
                )

        return len(commits), rows()

    def commit_work_items(self) -> tuple[int, Iterator[Rows]]:
        commits = np.flatnonzero(self.code.c_item >= 0)

        def rows() -> Iterator[Rows]:
            for low, high in _spans(len(commits)):
                which = commits[low:high]
                items = self.code.c_item[which]
                yield _dicts(
                    {
                        "commit_id": (which + 1).tolist(),
                        "work_item_key": self.work.keys[items].tolist(),
                        "work_item_id": self.work.item_id[items].tolist(),
                        "method": ["commit_message"] * (high - low),
                    }
                )

        return len(commits), rows()

    def pull_request_work_items(self) -> tuple[int, Iterator[Rows]]:
        prs = np.flatnonzero(self.code.pr_item >= 0)

        def rows() -> Iterator[Rows]:
            for low, high in _spans(len(prs)):
                which = prs[low:high]
                items = self.code.pr_item[which]
                yield _dicts(
                    {
                        "pull_request_id": (which + 1).tolist(),
                        "work_item_key": self.work.keys[items].tolist(),
                        "work_item_id": self.work.item_id[items].tolist(),
                        "method": ["pr_title"] * (high - low),
                    }
                )

        return len(prs), rows()

    def deployments(self) -> Iterator[Rows]:
        delivery, clock = self.delivery, self.clock
        source = self.org.source_ids["deploy"]
        environments = _lookup(("staging", "production"))
        statuses = _lookup(DEPLOY_STATUSES)
        for low, high in _spans(len(delivery.d_service)):
            service = delivery.d_service[low:high]
            environment = delivery.d_environment[low:high]
            rollback_of = delivery.d_rollback_of[low:high]
            external = self.deployment_external[low:high].tolist()
            yield _dicts(
                {
                    "id": _ids(low, high),
                    "source_id": [source] * (high - low),
                    "external_id": external,
                    "service": self.services[service].tolist(),
                    "environment": environments[environment].tolist(),
                    "is_production": (environment == PRODUCTION).tolist(),
                    "version": [f"1.{v}.0" for v in delivery.d_version[low:high].tolist()],
                    "sha": self.shas[delivery.d_sha[low:high]].tolist(),
                    "status": statuses[delivery.d_status[low:high]].tolist(),
                    "started_at": clock.datetimes(delivery.d_started[low:high]),
                    "finished_at": clock.datetimes(delivery.d_finished[low:high]),
                    "is_rollback": (rollback_of >= 0).tolist(),
                    "rollback_of_external_id": self.deployment_external[rollback_of].tolist(),
                    "url": [f"{DEPLOY_URL}deployments/{name}" for name in external],
                    "value_stream_id": self.stream_ids[service // SERVICES_PER_STREAM].tolist(),
                }
            )

    def deployment_changes(self) -> tuple[int, Iterator[Rows]]:
        delivery = self.delivery
        ordering = np.lexsort((delivery.change_commit, delivery.change_deployment))
        deployment = delivery.change_deployment[ordering]
        commit = delivery.change_commit[ordering]

        def rows() -> Iterator[Rows]:
            for low, high in _spans(len(commit)):
                yield _dicts(
                    {
                        "deployment_id": (deployment[low:high] + 1).tolist(),
                        "commit_sha": self.shas[commit[low:high]].tolist(),
                        "commit_id": (commit[low:high] + 1).tolist(),
                        "method": ["explicit"] * (high - low),
                    }
                )

        return len(commit), rows()

    def pipeline_runs(self) -> tuple[int, Iterator[Rows]]:
        delivery, clock = self.delivery, self.clock
        ordering = np.argsort(delivery.run_started, kind="stable")
        source = self.org.source_ids["deploy"]

        def rows() -> Iterator[Rows]:
            for low, high in _spans(len(ordering)):
                which = ordering[low:high]
                service = delivery.run_service[which]
                ids = _ids(low, high)
                yield _dicts(
                    {
                        "id": ids,
                        "source_id": [source] * (high - low),
                        "external_id": [f"run-{i}" for i in ids],
                        "name": ["build-and-test"] * (high - low),
                        "repository": self.repositories[service].tolist(),
                        "sha": self.shas[delivery.run_sha[which]].tolist(),
                        "branch": ["main"] * (high - low),
                        "status": ["success"] * (high - low),
                        "started_at": clock.datetimes(delivery.run_started[which]),
                        "finished_at": clock.datetimes(delivery.run_finished[which]),
                        "url": [f"{DEPLOY_URL}runs/{i}" for i in ids],
                        "value_stream_id": self.stream_ids[service // SERVICES_PER_STREAM].tolist(),
                    }
                )

        return len(ordering), rows()

    def incidents(self) -> Iterator[Rows]:
        delivery, clock = self.delivery, self.clock
        source = self.org.source_ids["pagerduty"]
        severities = _lookup(SEVERITIES)
        for low, high in _spans(len(delivery.i_service)):
            service = delivery.i_service[low:high]
            cause = delivery.i_cause[low:high]
            external = [f"P{i:07d}" for i in _ids(low, high)]
            yield _dicts(
                {
                    "id": _ids(low, high),
                    "source_id": [source] * (high - low),
                    "external_id": external,
                    "title": [
                        f"{SERVICES[s]}: {INCIDENT_TOPICS[t]}"
                        for s, t in zip(
                            service.tolist(), delivery.i_topic[low:high].tolist(), strict=True
                        )
                    ],
                    "service": self.services[service].tolist(),
                    "severity": severities[delivery.i_severity[low:high]].tolist(),
                    "opened_at": clock.datetimes(delivery.i_opened[low:high]),
                    "acknowledged_at": clock.datetimes(delivery.i_acknowledged[low:high]),
                    "resolved_at": clock.datetimes(delivery.i_resolved[low:high]),
                    "caused_by_external_id": self.deployment_external[cause].tolist(),
                    "caused_by_deployment_id": [c + 1 if c >= 0 else None for c in cause.tolist()],
                    "url": [PAGERDUTY_URL + name for name in external],
                    "value_stream_id": self.stream_ids[service // SERVICES_PER_STREAM].tolist(),
                    "description": [None] * (high - low),
                }
            )


# -- writing ------------------------------------------------------------------------------
DOMAIN_TABLES: tuple[type[DeclarativeBase], ...] = (
    WorkItem,
    Transition,
    Commit,
    PullRequest,
    Review,
    PullRequestCommit,
    CommitWorkItem,
    PullRequestWorkItem,
    PipelineRun,
    Deployment,
    DeploymentChange,
    Incident,
)


def _insert(
    database: Database,
    model: type[DeclarativeBase],
    total: int,
    batches: Iterator[Rows],
    progress: Progress,
) -> int:
    """All rows of one table in one transaction, batch by batch."""
    name = table_of(model).name
    written = 0
    with database.transaction() as session:
        for rows in batches:
            insert_rows(session, model, rows)
            written += len(rows)
            progress(name, written, total)
    if written != total:
        raise RuntimeError(f"{name}: wrote {written} rows, expected {total}")
    return written


def _require_empty(database: Database) -> None:
    with database.engine.connect() as connection:
        for model in DOMAIN_TABLES:
            table = table_of(model)
            if connection.execute(select(table.c.id).limit(1)).first() is not None:
                raise RuntimeError(
                    f"the database already holds {table.name}; generate into an empty "
                    "database (--replace deletes an existing SQLite file first)"
                )


def _reset_sequences(database: Database) -> None:
    """Rows were inserted with explicit ids: move PostgreSQL's sequences past them."""
    if database.dialect != "postgresql":
        return
    with database.engine.begin() as connection:
        for model in DOMAIN_TABLES:
            name = table_of(model).name
            connection.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f"COALESCE((SELECT MAX(id) FROM {name}), 0) + 1, false)"
                )
            )


def _ignore(_name: str, _done: int, _total: int) -> None:
    return None


def generate_enterprise(
    database: Database,
    scale: float = 1.0,
    seed: int = 1,
    end: date = date(2026, 11, 1),
    progress: Progress | None = None,
) -> dict[str, int]:
    """Build the enterprise organisation in ``database`` (migrated here; its domain tables
    must be empty) and return the number of rows written per table.

    ``progress(step, done, total)`` is called when a generation phase finishes (with ``done``
    and ``total`` 0) and after every batch of rows written to a table.
    """
    if scale <= 0:
        raise ValueError("scale must be positive")
    report = progress or _ignore
    upgrade(database)
    _require_empty(database)
    rng = np.random.default_rng(seed)
    people = make_people(rng)
    config = parse_config(render_config(people), "enterprise.yaml")
    with database.transaction() as session:
        apply_config(session, config)
    with database.transaction() as session:
        org = load_organisation(session, people)
    report("organisation", 0, 0)
    clock = Clock(end)
    work = generate_work(rng, org, scale, clock)
    report("generate work items and transitions", 0, 0)
    code = generate_code(rng, work, scale, clock)
    report("generate commits and pull requests", 0, 0)
    delivery = generate_delivery(rng, code, scale, clock)
    report("generate deployments and incidents", 0, 0)
    tables = Tables(org, clock, work, code, delivery)

    counts: dict[str, int] = {}

    def put(model: type[DeclarativeBase], total: int, batches: Iterator[Rows]) -> None:
        counts[table_of(model).name] = _insert(database, model, total, batches, report)

    def put_sized(model: type[DeclarativeBase], sized: tuple[int, Iterator[Rows]]) -> None:
        put(model, sized[0], sized[1])

    put(WorkItem, work.count, tables.work_items())
    put(Transition, len(work.t_item), tables.transitions())
    put(Commit, len(code.c_sha), tables.commits())
    put(PullRequest, len(code.pr_repo), tables.pull_requests())
    put_sized(Review, tables.reviews())
    put_sized(PullRequestCommit, tables.pull_request_commits())
    put_sized(CommitWorkItem, tables.commit_work_items())
    put_sized(PullRequestWorkItem, tables.pull_request_work_items())
    put_sized(PipelineRun, tables.pipeline_runs())
    put(Deployment, len(delivery.d_service), tables.deployments())
    put_sized(DeploymentChange, tables.deployment_changes())
    put(Incident, len(delivery.i_service), tables.incidents())
    _reset_sequences(database)
    return counts


# -- command line -------------------------------------------------------------------------
def _remove_sqlite_file(url: str) -> None:
    prefix = "sqlite:///"
    if not url.startswith(prefix) or url == prefix or ":memory:" in url:
        raise SystemExit("--replace only works for SQLite database files")
    path = Path(url[len(prefix) :])
    for suffix in ("", "-wal", "-shm"):
        candidate = path.with_name(path.name + suffix)
        if candidate.exists():
            candidate.unlink()


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        description="Generate the enterprise benchmark organisation into a database."
    )
    parser.add_argument("--scale", type=float, default=1.0, help="volume multiplier (1.0)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--end",
        type=date.fromisoformat,
        default=date(2026, 11, 1),
        help="last day of history, exclusive (2026-11-01)",
    )
    parser.add_argument(
        "--database",
        default=os.environ.get("STREAMWISE_DATABASE_URL") or DEFAULT_DATABASE,
        help=f"database URL (STREAMWISE_DATABASE_URL, else {DEFAULT_DATABASE})",
    )
    parser.add_argument(
        "--replace", action="store_true", help="delete the SQLite file first if it exists"
    )
    args = parser.parse_args(argv)
    if args.replace:
        _remove_sqlite_file(args.database)
    started = time.perf_counter()
    marks = {"last": started}

    def show(step: str, done: int, total: int) -> None:
        if done != total:
            return
        now = time.perf_counter()
        what = f"{step}: {total:,} rows" if total else step
        print(f"{now - started:7.1f} s  {what} ({now - marks['last']:.1f} s)", flush=True)
        marks["last"] = now

    database = open_database(args.database)
    try:
        counts = generate_enterprise(
            database, scale=args.scale, seed=args.seed, end=args.end, progress=show
        )
    except (RuntimeError, ValueError) as error:
        raise SystemExit(f"enterprise.py: {error}") from None
    finally:
        database.dispose()
    elapsed = time.perf_counter() - started
    print(f"\n{database.dialect} database, scale {args.scale:g}, seed {args.seed}")
    for name, count in counts.items():
        print(f"  {name:<24} {count:>12,}")
    print(f"  {'total':<24} {sum(counts.values()):>12,}")
    print(f"generated and written in {elapsed:.1f} s")


if __name__ == "__main__":
    main()
