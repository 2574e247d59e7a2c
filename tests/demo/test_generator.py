"""The demo organisation: deterministic, valid import data, and the planted truths hold.

The truths are recomputed here by hand from the raw rows, the way a user would check them in
a spreadsheet, so they do not depend on Streamwise's own metrics code.
"""

import statistics
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from streamwise.connectors.base import ParseContext
from streamwise.connectors.csvfile.records import FILE_KINDS, parse_row
from streamwise.demo import DemoOrganisation, generate, write_demo
from streamwise.errors import StreamwiseError
from streamwise.normalize.config import OrgConfig, parse_config

END = date(2025, 6, 30)
SCALE = 0.05
ZONE = ZoneInfo("Europe/Berlin")
HORIZON = datetime.combine(END + timedelta(days=1), time(), tzinfo=ZONE)
START = datetime.combine(END.replace(year=END.year - 2) + timedelta(days=1), time(), tzinfo=ZONE)
PRE_TEST_STATUS = {
    "shop": "Ready for Test",
    "payments": "Ready for Test",
    "platform": "Ready for Test",
    "mobile": "Ready for QA",
}
Row = dict[str, str]


@pytest.fixture(scope="module")
def demo() -> DemoOrganisation:
    return generate(seed=42, scale=SCALE, end=END)


@pytest.fixture(scope="module")
def config(demo: DemoOrganisation) -> OrgConfig:
    return parse_config(demo.config_yaml)


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


def rows(demo: DemoOrganisation, kind: str) -> list[Row]:
    return next(files[kind] for files in demo.files.values() if kind in files)


def stream_of_project(config: OrgConfig) -> dict[str, str]:
    return {project: vs.key for vs in config.value_streams for project in vs.select.projects}


def flow_states(config: OrgConfig) -> dict[str, dict[str, str]]:
    """stream → raw status → flow state, as the YAML maps them."""
    mapping: dict[str, dict[str, str]] = {}
    for vs in config.value_streams:
        mapping[vs.key] = {
            status.status: status.flow_state or stage.flow_state
            for stage in vs.stages
            for status in stage.statuses
        }
    return mapping


def history(demo: DemoOrganisation) -> dict[str, list[Row]]:
    by_item: dict[str, list[Row]] = defaultdict(list)
    for row in rows(demo, "transitions"):
        by_item[row["item"]].append(row)
    return by_item


def status_visits(demo: DemoOrganisation, config: OrgConfig) -> dict[str, dict[str, list[float]]]:
    """stream → status → hours of every finished stay in that status (epics left out)."""
    streams = stream_of_project(config)
    transitions = history(demo)
    visits: dict[str, dict[str, list[float]]] = defaultdict(lambda: defaultdict(list))
    for item in rows(demo, "work_items"):
        if item["type"] == "Epic":
            continue
        entered = at(item["created_at"])
        status = ""
        for change in transitions[item["key"]]:
            if change["event"] != "status":
                continue
            stay = (at(change["at"]) - entered).total_seconds() / 3600
            visits[streams[item["project"]]][change["from_status"]].append(stay)
            entered, status = at(change["at"]), change["to_status"]
        del status
    return visits


# --- determinism --------------------------------------------------------------------------


def test_same_seed_scale_and_end_give_identical_output(demo: DemoOrganisation) -> None:
    again = generate(seed=42, scale=SCALE, end=END)
    assert again.config_yaml == demo.config_yaml
    assert again.files == demo.files


def test_another_seed_gives_other_rows(demo: DemoOrganisation) -> None:
    other = generate(seed=7, scale=SCALE, end=END)
    assert rows(other, "work_items") != rows(demo, "work_items")
    assert rows(other, "commits") != rows(demo, "commits")


def test_write_demo_twice_gives_identical_bytes(demo: DemoOrganisation, tmp_path: Path) -> None:
    first = write_demo(demo, tmp_path / "one")
    second = write_demo(demo, tmp_path / "two")
    assert [p.relative_to(tmp_path / "one") for p in first] == [
        p.relative_to(tmp_path / "two") for p in second
    ]
    for a, b in zip(first, second, strict=True):
        assert a.read_bytes() == b.read_bytes()
    names = {str(p.relative_to(tmp_path / "one")) for p in first}
    assert {"streamwise.yaml", "jira/work_items.csv", "ci/deployments.csv"} <= names
    header = (tmp_path / "one" / "github" / "commits.csv").read_text("utf-8").splitlines()[0]
    assert header == ",".join(FILE_KINDS["commits"].column_names)


def test_invalid_arguments_are_refused() -> None:
    with pytest.raises(StreamwiseError, match="scale"):
        generate(scale=0, end=END)
    with pytest.raises(StreamwiseError, match="seed"):
        generate(seed=-1, end=END)


# --- valid import data --------------------------------------------------------------------


def test_config_describes_the_organisation(config: OrgConfig) -> None:
    kinds = Counter(vs.kind for vs in config.value_streams)
    assert kinds["core"] >= 3 and kinds["supporting"] >= 1
    assert len(config.teams) >= 6
    assert all(team.value_stream for team in config.teams)
    assert {source.name for source in config.sources} == {"jira", "github", "ci", "pagerduty"}
    assert all(source.kind == "file" for source in config.sources)
    assert any({"jira", "github"} <= set(person.identities) for person in config.people)
    assert config.organisation.timezone == "Europe/Berlin"


def test_every_row_passes_the_import_parser(demo: DemoOrganisation) -> None:
    context = ParseContext(ZONE)
    for files in demo.files.values():
        for kind, kind_rows in files.items():
            assert kind_rows, f"no {kind} rows"
            for row in kind_rows:
                assert list(row) == list(FILE_KINDS[kind].column_names)
                assert all(isinstance(value, str) for value in row.values())
                parse_row(FILE_KINDS[kind], row, context)


def test_each_item_repository_and_service_belongs_to_exactly_one_stream(
    demo: DemoOrganisation, config: OrgConfig
) -> None:
    def owners(attribute: str, value: str) -> list[str]:
        return [vs.key for vs in config.value_streams if value in getattr(vs.select, attribute)]

    for project in {row["project"] for row in rows(demo, "work_items")}:
        assert len(owners("projects", project)) == 1, project
    for repository in {row["repository"] for row in rows(demo, "commits")}:
        assert len(owners("repositories", repository)) == 1, repository
    for service in {row["service"] for row in rows(demo, "deployments")}:
        assert len(owners("services", service)) == 1, service
    for team in {row["team"] for row in rows(demo, "work_items")}:
        assert team in {t.key for t in config.teams}


def test_every_status_is_mapped_in_its_stream(demo: DemoOrganisation, config: OrgConfig) -> None:
    streams = stream_of_project(config)
    mapped = flow_states(config)
    project_of = {row["key"]: row["project"] for row in rows(demo, "work_items")}
    for row in rows(demo, "work_items"):
        assert row["status"] in mapped[streams[row["project"]]], row
    for row in rows(demo, "transitions"):
        stream = streams[project_of[row["item"]]]
        for status in (row["from_status"], row["to_status"]):
            assert status == "" or status in mapped[stream], row


def test_transitions_chain_and_move_forward_in_time(
    demo: DemoOrganisation, config: OrgConfig
) -> None:
    streams = stream_of_project(config)
    transitions = history(demo)
    initial = {"To Do", "Open"}
    for item in rows(demo, "work_items"):
        changes = transitions.get(item["key"], [])
        previous_time = at(item["created_at"])
        status = next(s for s in initial if s in flow_states(config)[streams[item["project"]]])
        blocked = False
        for change in changes:
            assert at(change["at"]) > previous_time, change
            previous_time = at(change["at"])
            if change["event"] == "status":
                assert change["from_status"] == status, change
                status = change["to_status"]
            else:
                assert change["from_status"] == change["to_status"] == ""
                assert (change["event"] == "blocked") != blocked, change
                blocked = change["event"] == "blocked"
        assert item["status"] == status
        assert at(item["updated_at"]) == previous_time


def test_no_timestamp_lies_outside_the_history(demo: DemoOrganisation) -> None:
    for files in demo.files.values():
        for kind, kind_rows in files.items():
            columns = [c.name for c in FILE_KINDS[kind].columns if c.kind == "timestamp"]
            for row in kind_rows:
                for column in columns:
                    if row[column]:
                        assert row[column].endswith("Z")
                        assert START <= at(row[column]) < HORIZON, (kind, column, row)


def test_links_between_records_resolve(demo: DemoOrganisation) -> None:
    items = {row["key"]: row for row in rows(demo, "work_items")}
    parents = [row["parent"] for row in items.values() if row["parent"]]
    assert parents and all(items[parent]["type"] == "Epic" for parent in parents)
    shas = {row["sha"] for row in rows(demo, "commits")}
    assert len(shas) == len(rows(demo, "commits"))
    pulls = rows(demo, "pull_requests")
    assert len({(p["repository"], p["number"]) for p in pulls}) == len(pulls)
    for pull in pulls:
        assert set(filter(None, pull["commits"].split(";"))) <= shas
        if pull["state"] == "merged":
            assert pull["merge_commit_sha"] in shas
    deployments = {row["id"]: row for row in rows(demo, "deployments")}
    for deployment in deployments.values():
        assert set(filter(None, deployment["commits"].split(";"))) <= shas
        if deployment["rollback_of"]:
            rolled_back = deployments[deployment["rollback_of"]]
            assert rolled_back["status"] == "rolled_back"
            assert rolled_back["service"] == deployment["service"]
    causes = [row["caused_by"] for row in rows(demo, "incidents") if row["caused_by"]]
    assert causes and all(deployments[cause]["production"] == "true" for cause in causes)
    authors = {(p["repository"], p["number"]): p["author"] for p in pulls}
    reviews = rows(demo, "reviews")
    own = sum(1 for r in reviews if r["reviewer"] == authors[(r["repository"], r["pull_request"])])
    assert own <= 0.05 * len(reviews)


def test_work_has_every_flow_item_type_and_a_realistic_shape(demo: DemoOrganisation) -> None:
    items = rows(demo, "work_items")
    types = Counter(row["type"] for row in items)
    assert {"Story", "Bug", "Tech Debt", "Epic"} <= set(types)
    assert types["Vulnerability"] + sum(1 for r in items if "security" in r["labels"]) > 0
    changes = rows(demo, "transitions")
    assert any(
        c["from_status"] in ("In Test", "In QA")
        and c["to_status"] in ("In Progress", "In Development")
        for c in changes
    )
    assert any(c["from_status"] == "Done" for c in changes), "some items are reopened"
    assert any(c["event"] == "blocked" for c in changes)
    assert sum(1 for r in items if r["status"] in ("In Progress", "In Development")) > 0
    local = [at(c["at"]).astimezone(ZONE) for c in changes]
    office = sum(1 for t in local if t.weekday() < 5 and 8 <= t.hour < 18)
    assert office / len(local) > 0.95


def test_flow_efficiency_is_mostly_between_15_and_40_percent(
    demo: DemoOrganisation, config: OrgConfig
) -> None:
    """Active ÷ (active + waiting) of finished items, blocked time counted as waiting."""
    streams = stream_of_project(config)
    mapped = flow_states(config)
    transitions = history(demo)
    active: dict[str, float] = defaultdict(float)
    total: dict[str, float] = defaultdict(float)
    for item in rows(demo, "work_items"):
        stream = streams[item["project"]]
        if item["type"] == "Epic" or mapped[stream][item["status"]] != "done":
            continue
        since = at(item["created_at"])
        blocked_since: datetime | None = None
        blocked = 0.0
        state = "new"
        for change in transitions[item["key"]]:
            moment = at(change["at"])
            if change["event"] == "blocked":
                blocked_since = moment
                continue
            if change["event"] == "unblocked" and blocked_since is not None:
                blocked += (moment - blocked_since).total_seconds()
                continue
            stay = (moment - since).total_seconds()
            if state in ("active", "waiting"):
                total[stream] += stay
                active[stream] += stay - blocked if state == "active" else 0.0
            blocked, since = 0.0, moment
            state = mapped[stream][change["to_status"]]
    efficiency = {stream: active[stream] / total[stream] for stream in total}
    assert efficiency["mobile"] > 0.99  # no waiting state mapped: planted truth (b)
    for stream in ("shop", "payments", "platform"):
        assert 0.12 < efficiency[stream] < 0.42, efficiency


# --- planted truths -----------------------------------------------------------------------


def test_a_shop_waits_longest_before_testing(demo: DemoOrganisation, config: OrgConfig) -> None:
    visits = status_visits(demo, config)
    waits = {s: statistics.median(visits[s][status]) for s, status in PRE_TEST_STATUS.items()}
    others = [hours for stream, hours in waits.items() if stream != "shop"]
    assert waits["shop"] > 3 * max(others), waits
    done_like = {"Done", "Won't Do"}
    for status, stays in visits["shop"].items():
        if status not in done_like and status != "Ready for Test":
            assert waits["shop"] > 2 * statistics.median(stays), (status, waits["shop"])


def test_b_mobile_maps_no_waiting_state(demo: DemoOrganisation, config: OrgConfig) -> None:
    def maps_waiting(key: str) -> bool:
        vs = next(v for v in config.value_streams if v.key == key)
        return any(
            stage.flow_state == "waiting" or status.flow_state == "waiting"
            for stage in vs.stages
            for status in stage.statuses
        )

    assert not maps_waiting("mobile")
    assert all(maps_waiting(key) for key in ("shop", "payments", "platform"))
    # … although mobile work really does queue for review and QA.
    visits = status_visits(demo, config)
    assert statistics.median(visits["mobile"]["Ready for QA"]) > 24
    assert statistics.median(visits["mobile"]["Ready for Review"]) > 24


def test_c_payments_finishes_mostly_defects_while_features_pile_up(
    demo: DemoOrganisation, config: OrgConfig
) -> None:
    streams = stream_of_project(config)
    mapped = flow_states(config)
    transitions = history(demo)
    window_start = HORIZON - timedelta(days=182)
    done: dict[str, Counter[str]] = defaultdict(Counter)
    in_progress: dict[str, Counter[str]] = defaultdict(Counter)
    for item in rows(demo, "work_items"):
        stream = streams[item["project"]]
        state = mapped[stream][item["status"]]
        if state == "done" and at(transitions[item["key"]][-1]["at"]) >= window_start:
            done[stream][item["type"]] += 1
        elif state in ("active", "waiting"):
            in_progress[stream][item["type"]] += 1
    share = {s: done[s]["Bug"] / sum(done[s].values()) for s in done}
    assert share["payments"] > 0.5, share
    assert all(share[s] < 0.45 for s in ("shop", "mobile", "platform")), share
    assert in_progress["payments"]["Story"] > 1.5 * in_progress["payments"]["Bug"], in_progress


def test_d_platform_deploys_to_production_far_more_often_in_year_two(
    demo: DemoOrganisation, config: OrgConfig
) -> None:
    streams = {service: vs.key for vs in config.value_streams for service in vs.select.services}
    halfway = HORIZON - timedelta(days=365)
    per_year: dict[str, Counter[int]] = defaultdict(Counter)
    for row in rows(demo, "deployments"):
        if row["production"] == "true":
            per_year[streams[row["service"]]][int(at(row["started_at"]) >= halfway)] += 1
    ratio = {stream: years[1] / max(1, years[0]) for stream, years in per_year.items()}
    assert per_year["platform"][0] >= 10
    assert ratio["platform"] >= 3, ratio
    assert all(ratio[s] < 2 for s in ("shop", "payments", "mobile")), ratio


@pytest.mark.slow
def test_full_scale_volumes() -> None:
    organisation = generate(seed=42, scale=1.0, end=END)
    config = parse_config(organisation.config_yaml)
    items = rows(organisation, "work_items")
    flow_items = [row for row in items if row["type"] != "Epic"]
    assert len(flow_items) >= 20_000
    types = Counter(row["type"] for row in flow_items)
    assert min(types["Story"], types["Bug"], types["Tech Debt"], types["Vulnerability"]) > 500
    kinds = Counter(vs.kind for vs in config.value_streams)
    assert kinds["core"] >= 3 and kinds["supporting"] >= 1 and len(config.teams) >= 6
    created = [at(row["created_at"]) for row in items]
    assert max(created) - min(created) > timedelta(days=700)
    assert len(rows(organisation, "transitions")) <= 200_000
    assert len(rows(organisation, "commits")) <= 40_000
    assert len(rows(organisation, "pull_requests")) <= 20_000
