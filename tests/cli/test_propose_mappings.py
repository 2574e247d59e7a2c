"""``streamwise source propose-mappings``: a status mapping proposed from the statuses a real
sync stored (recorded Jira statuses served by the local stand-in), checked by hand."""

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from streamwise.normalize.config import StageConfig
from tests.cli.test_cli import assert_clean_failure, run
from tests.connectors.fake_jira import TOKEN, FakeJira, serve
from tests.connectors.jira.test_sync import ORG

MAPPED_IN_ORG = {"Open", "To Do", "In Progress", "Closed", "已完成", "Done"}
"""The recorded statuses that ORG (tests/connectors/jira/test_sync.py) maps already."""


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with serve(FakeJira()) as fake:
        yield fake


def connect(directory: Path, url: str, jira: FakeJira, name: str = "jira") -> None:
    (directory / "streamwise.yaml").write_text(ORG)
    assert run("init", cwd=directory, database_url=url).returncode == 0
    added = run(
        "source", "add", "jira", "--name", name, "--url", jira.url,
        "--token-env", "JIRA_TOKEN", "-o", "deployment=cloud",
        cwd=directory, database_url=url,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


@pytest.fixture
def synced(tmp_path: Path, database_url: str, jira: FakeJira, monkeypatch: Any) -> Path:
    monkeypatch.setenv("JIRA_TOKEN", TOKEN)
    connect(tmp_path, database_url, jira)
    synced = run("sync", "--source", "jira", cwd=tmp_path, database_url=database_url)
    assert synced.returncode == 0, synced.stderr
    return tmp_path


def statuses_by_stage(proposal: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Stage name → {status: flow state}, with the stage's state where a status has none."""
    found: dict[str, dict[str, str]] = {}
    for stage in proposal["stages"]:
        StageConfig.model_validate(stage)  # pastes into streamwise.yaml as it is
        found[stage["name"]] = {}
        for status in stage["statuses"]:
            if isinstance(status, str):
                found[stage["name"]][status] = stage["flow_state"]
            else:
                found[stage["name"]][status["status"]] = status["flow_state"]
    return found


def test_the_proposal_follows_jira_categories_and_flags_waiting_names(
    synced: Path, database_url: str
) -> None:
    result = run("source", "propose-mappings", "jira", cwd=synced, database_url=database_url)
    assert result.returncode == 0, result.stderr
    stages = statuses_by_stage(yaml.safe_load(result.stdout))
    assert list(stages) == ["To Do", "In Progress", "Done"]
    # 53 recorded statuses carry 38 distinct names; the 6 mapped by ORG are left out
    assert sum(len(statuses) for statuses in stages.values()) == 38 - 6
    assert not MAPPED_IN_ORG & {name for s in stages.values() for name in s}
    assert stages["To Do"]["Backlog"] == "new"
    assert stages["To Do"]["Under review"] == "new"  # category To Do; "review" alone is work
    assert stages["In Progress"]["Review"] == "active"
    assert stages["In Progress"]["测试中"] == "active"  # "testing"
    assert stages["In Progress"]["Blocked / On Hold"] == "waiting"
    assert stages["In Progress"]["挂起中"] == "waiting"  # "on hold"
    assert stages["Done"]["已发布"] == "done"  # "released"
    assert stages["Done"]["暂不修改"] == "done"  # "won't fix for now"
    lines = result.stdout.splitlines()
    blocked = next(line for line in lines if "Blocked / On Hold" in line)
    assert blocked.endswith("# check: the name suggests waiting")
    assert "#   In Progress: value stream ee, stage Build (active)" in lines
    assert "#   已完成: value stream ee, stage Done (done)" in lines

    listed = run("source", "list", cwd=synced, database_url=database_url)
    assert listed.returncode == 0, listed.stderr
    for count in ("13 project", "4 release", "32 sprint", "33 work_item", "53 status"):
        assert count in listed.stdout


def test_output_file_is_not_overwritten_without_force(synced: Path, database_url: str) -> None:
    target = synced / "stages.yaml"
    written = run(
        "source", "propose-mappings", "jira", "--output", str(target),
        cwd=synced, database_url=database_url,
    )  # fmt: skip
    assert written.returncode == 0, written.stderr
    stages = statuses_by_stage(yaml.safe_load(target.read_text()))
    assert stages["In Progress"]["Blocked / On Hold"] == "waiting"
    assert written.stdout.startswith(f"Wrote stages for 32 statuses to {target} (6 mapped already)")

    target.write_text("mine: keep me\n")
    refused = run(
        "source", "propose-mappings", "jira", "--output", str(target),
        cwd=synced, database_url=database_url,
    )  # fmt: skip
    assert_clean_failure(refused, "stages.yaml: exists already; choose another --output")
    assert target.read_text() == "mine: keep me\n"

    forced = run(
        "source", "propose-mappings", "jira", "--output", str(target), "--force",
        cwd=synced, database_url=database_url,
    )  # fmt: skip
    assert forced.returncode == 0, forced.stderr
    # Done-category names: Closed, Done, 已完成 (mapped by ORG), 已发布, 已关闭, 暂不修改
    assert set(statuses_by_stage(yaml.safe_load(target.read_text()))["Done"]) == {
        "已发布",
        "已关闭",
        "暂不修改",
    }


def test_a_source_never_synced_has_no_statuses_to_propose_from(
    tmp_path: Path, database_url: str, jira: FakeJira
) -> None:
    connect(tmp_path, database_url, jira, name="fresh")
    result = run("source", "propose-mappings", "fresh", cwd=tmp_path, database_url=database_url)
    assert_clean_failure(
        result,
        "source 'fresh' (jira) has no statuses stored yet; run "
        "`streamwise sync --source fresh` first",
    )
    unknown = run("source", "propose-mappings", "nope", cwd=tmp_path, database_url=database_url)
    assert_clean_failure(unknown, "no source named 'nope' (known: fresh)")


def test_help_has_an_example(tmp_path: Path) -> None:
    result = run("source", "propose-mappings", "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Example: streamwise source propose-mappings" in result.stdout
