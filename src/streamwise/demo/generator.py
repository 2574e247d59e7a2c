"""Generate the demo organisation and write it as import files plus streamwise.yaml.

Deterministic: the same seed, scale and end date give byte-identical files. Each part of the
organisation draws from its own child of the seed, so changing how one part is simulated does
not reshuffle the others.
"""

import csv
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np

from streamwise.connectors.csvfile.records import FILE_KINDS
from streamwise.demo.clock import WorkingClock, build_clock
from streamwise.demo.code import CodeGenerator
from streamwise.demo.configfile import render_config
from streamwise.demo.delivery import DeliveryGenerator
from streamwise.demo.organisation import SOURCES, STREAMS, TIMEZONE
from streamwise.demo.people import Person, TeamPeople, generate_people
from streamwise.demo.releases import release_rows
from streamwise.demo.rows import finish_rows
from streamwise.demo.work import (
    CRISIS_DAYS,
    SimulatedItem,
    TeamSimulation,
    add_epics,
    assign_keys,
    jira_rows,
)
from streamwise.errors import StreamwiseError

MAX_SCALE = 20.0
Rows = list[dict[str, str]]


@dataclass
class DemoOrganisation:
    config_yaml: str  # a complete streamwise.yaml text, valid for parse_config
    files: dict[str, dict[str, Rows]]  # source name → file kind → CSV-ready rows


def history_start(end: date) -> date:
    """The first day of two years of history ending with ``end``."""
    try:
        two_years_back = end.replace(year=end.year - 2)
    except ValueError:  # 29 February
        two_years_back = end.replace(year=end.year - 2, day=28)
    return two_years_back + timedelta(days=1)


def _simulate_work(
    people: dict[str, TeamPeople],
    clock: WorkingClock,
    seed: np.random.SeedSequence,
    scale: float,
) -> list[SimulatedItem]:
    team_count = sum(len(stream.teams) for stream in STREAMS)
    team_seeds = iter(seed.spawn(team_count))
    items: list[SimulatedItem] = []
    for stream in STREAMS:
        testers: tuple[Person, ...] = tuple(
            tester for team in stream.teams for tester in people[team.key].testers
        )
        for team in stream.teams:
            rng = np.random.default_rng(next(team_seeds))
            simulation = TeamSimulation(stream, team, people[team.key], testers, clock, rng, scale)
            team_items = simulation.items()
            items += team_items
            items += add_epics(team_items, team, stream, people[team.key], clock, rng)
    assign_keys(items)
    return items


def generate(seed: int = 42, scale: float = 1.0, end: date | None = None) -> DemoOrganisation:
    """end = last day of history (default: today in UTC); history covers the two years before it."""
    if seed < 0:
        raise StreamwiseError(f"demo seed must be 0 or more, got {seed}")
    if not 0 < scale <= MAX_SCALE:
        raise StreamwiseError(f"demo scale must be above 0 and at most {MAX_SCALE:g}, got {scale}")
    last_day = end if end is not None else datetime.now(UTC).date()
    zone = ZoneInfo(TIMEZONE)
    clock = build_clock(history_start(last_day), last_day, zone)
    people_seed, work_seed, code_seed, delivery_seed, release_seed = np.random.SeedSequence(
        seed
    ).spawn(5)

    people = generate_people(np.random.default_rng(people_seed))
    items = _simulate_work(people, clock, work_seed, scale)
    jira = jira_rows(items, clock)
    code = CodeGenerator(items, people, clock, np.random.default_rng(code_seed), scale).generate()
    crisis_start = datetime.combine(
        last_day - timedelta(days=CRISIS_DAYS), datetime.min.time(), zone
    )
    delivery = DeliveryGenerator(
        code.merges_by_repository,
        clock,
        np.random.default_rng(delivery_seed),
        scale,
        crisis_start.timestamp(),
    ).generate()
    releases = release_rows(items, jira.done_at, clock, zone, np.random.default_rng(release_seed))

    drafts = {
        "work_items": jira.work_items,
        "transitions": jira.transitions,
        "releases": releases,
        "commits": code.commits,
        "pull_requests": code.pull_requests,
        "reviews": code.reviews,
        "pipeline_runs": code.pipeline_runs,
        "deployments": delivery.deployments,
        "incidents": delivery.incidents,
    }
    files = {
        source: {kind: finish_rows(kind, drafts[kind]) for kind in kinds}
        for source, kinds in SOURCES
    }
    return DemoOrganisation(config_yaml=render_config(people, seed, scale), files=files)


def write_demo(organisation: DemoOrganisation, directory: Path) -> list[Path]:
    """Write directory/streamwise.yaml and directory/<source name>/<file kind>.csv."""
    directory.mkdir(parents=True, exist_ok=True)
    config_path = directory / "streamwise.yaml"
    config_path.write_text(organisation.config_yaml, encoding="utf-8", newline="\n")
    written = [config_path]
    for source, kinds in organisation.files.items():
        source_directory = directory / source
        source_directory.mkdir(parents=True, exist_ok=True)
        for kind, rows in kinds.items():
            path = source_directory / f"{kind}.csv"
            with path.open("w", encoding="utf-8", newline="") as handle:
                writer = csv.DictWriter(
                    handle, fieldnames=FILE_KINDS[kind].column_names, lineterminator="\n"
                )
                writer.writeheader()
                writer.writerows(rows)
            written.append(path)
    return written
