"""The command line as a person uses it: real processes, one clear line on mistakes."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ORG_YAML, write_dataset

COMMANDS = [
    ["init"],
    ["db", "upgrade"],
    ["db", "downgrade"],
    ["config", "check"],
    ["config", "apply"],
    ["import"],
    ["renormalize"],
    ["summary"],
    ["demo"],
    ["serve"],
    ["derive"],
    ["metrics"],
    ["portfolio"],
    ["source", "add"],
    ["source", "list"],
    ["sync"],
]


def run(*args: str, cwd: Path, database_url: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMWISE_")}
    env["COLUMNS"] = "200"
    if database_url:
        env["STREAMWISE_DATABASE_URL"] = database_url
    return subprocess.run(
        [sys.executable, "-m", "streamwise", *args],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )


def assert_clean_failure(result: subprocess.CompletedProcess[str], expected: str) -> None:
    assert result.returncode != 0
    assert "Traceback" not in result.stderr + result.stdout
    assert expected in " ".join(result.stderr.split())


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command: list[str], tmp_path: Path) -> None:
    result = run(*command, "--help", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "Example" in result.stdout


def test_init_import_summary_round_trip(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "streamwise.yaml").write_text(ORG_YAML)
    result = run("init", cwd=tmp_path, database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "Keeping the existing streamwise.yaml" in result.stdout
    data = write_dataset(tmp_path / "data")
    result = run("import", str(data), "--source", "files", cwd=tmp_path, database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "4 work_items" in result.stdout and "12 transitions" in result.stdout
    result = run("import", str(data), "--source", "files", cwd=tmp_path, database_url=database_url)
    assert "0 new or changed" in result.stdout
    result = run("summary", "--json", cwd=tmp_path, database_url=database_url)
    assert '"work_items": 4' in result.stdout
    result = run("config", "apply", cwd=tmp_path, database_url=database_url)
    assert "nothing changed" in result.stdout


def test_config_check_does_not_touch_the_database(tmp_path: Path) -> None:
    (tmp_path / "streamwise.yaml").write_text(ORG_YAML)
    database = tmp_path / "never.db"
    result = run("config", "check", cwd=tmp_path, database_url=f"sqlite:///{database}")
    assert result.returncode == 0, result.stderr
    assert "streamwise.yaml is valid" in result.stdout
    assert not database.exists()


def test_bad_yaml_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "streamwise.yaml").write_text("value_streams: [\n")
    result = run("config", "check", cwd=tmp_path)
    assert_clean_failure(result, "error: streamwise.yaml:2:1: not valid YAML")


def test_invalid_config_names_the_key(tmp_path: Path) -> None:
    (tmp_path / "org.yaml").write_text(
        "value_streams: [{key: a, name: A, stages: [{name: B, flow_state: doing}]}]"
    )
    result = run("--config", "org.yaml", "config", "check", cwd=tmp_path)
    assert_clean_failure(
        result, "org.yaml: value_streams[0].stages[0].flow_state: 'doing' is not one of"
    )
    assert result.returncode == 2


def test_bad_path_and_bad_csv(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "streamwise.yaml").write_text(ORG_YAML)
    assert run("init", cwd=tmp_path, database_url=database_url).returncode == 0
    result = run("import", "nope.csv", "--source", "files", cwd=tmp_path, database_url=database_url)
    assert_clean_failure(result, "error: nope.csv: no such file or directory")
    (tmp_path / "work_items.csv").write_text("key,created_at\nX-1,someday\n")
    result = run(
        "import", "work_items.csv", "--source", "files", cwd=tmp_path, database_url=database_url
    )
    assert_clean_failure(
        result, "work_items.csv: row 1, column created_at: 'someday' is not an ISO 8601 timestamp"
    )


def test_unreachable_database(tmp_path: Path) -> None:
    result = run("summary", cwd=tmp_path, database_url="postgresql://nobody@127.0.0.1:9/streamwise")
    assert_clean_failure(
        result, "cannot reach the database postgresql+psycopg://nobody@127.0.0.1:9"
    )
    assert "Check STREAMWISE_DATABASE_URL" in " ".join(result.stderr.split())


def test_database_without_schema_says_upgrade(tmp_path: Path) -> None:
    result = run("summary", cwd=tmp_path, database_url=f"sqlite:///{tmp_path / 'new.db'}")
    assert_clean_failure(result, "run `streamwise db upgrade`")


def test_python_dash_m_and_version(tmp_path: Path) -> None:
    result = run("--version", cwd=tmp_path)
    assert result.returncode == 0 and result.stdout.startswith("streamwise ")


def test_invalid_config_apply_writes_nothing(tmp_path: Path, database_url: str) -> None:
    config = tmp_path / "streamwise.yaml"
    config.write_text(ORG_YAML)
    assert run("init", cwd=tmp_path, database_url=database_url).returncode == 0
    before = run("summary", "--json", cwd=tmp_path, database_url=database_url).stdout
    config.write_text(
        ORG_YAML.replace("name: Shop", "name: Webshop").replace(
            "flow_state: new", "flow_state: fresh"
        )
    )
    result = run("config", "apply", cwd=tmp_path, database_url=database_url)
    assert_clean_failure(result, "'fresh' is not one of new, waiting, active, done, canceled")
    after = run("summary", "--json", cwd=tmp_path, database_url=database_url).stdout
    assert after == before and '"name": "Shop"' in after


def test_metrics_and_derive_commands(tmp_path: Path, database_url: str) -> None:
    (tmp_path / "streamwise.yaml").write_text(ORG_YAML)
    assert run("init", cwd=tmp_path, database_url=database_url).returncode == 0
    data = write_dataset(tmp_path / "data")
    assert (
        run("import", str(data), "-s", "files", cwd=tmp_path, database_url=database_url).returncode
        == 0
    )
    result = run("derive", "--all", cwd=tmp_path, database_url=database_url)
    assert "Derived facts for 4 work items and 2 deployments" in result.stdout
    args = ("metrics", "--stream", "shop", "--from", "2025-03-01", "--to", "2025-03-31")
    result = run(*args, "--format", "json", cwd=tmp_path, database_url=database_url)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["dora"]["change_fail_rate"]["rate"] == 1.0
    assert report["flow"]["velocity"]["total"] == 1
    result = run(*args, "--format", "csv", cwd=tmp_path, database_url=database_url)
    lines = result.stdout.splitlines()
    assert lines[0] == "key,label,unit,current,previous,change"
    assert any(line.startswith("flow_velocity,") and ",1.0,0.0," in line for line in lines)
    result = run(*args, cwd=tmp_path, database_url=database_url)
    assert "Testing ◀ bottleneck" in result.stdout
    result = run("metrics", "--from", "2025-13-01", cwd=tmp_path, database_url=database_url)
    assert_clean_failure(result, "'2025-13-01' is not a date like 2025-03-31")


def test_upgrade_derives_again_what_a_migration_emptied(tmp_path: Path, database_url: str) -> None:
    """Migration 0003 empties the fact tables (their layout changed); ``db upgrade`` derives
    them again at once, so the figures are the same as before the round trip."""
    (tmp_path / "streamwise.yaml").write_text(ORG_YAML)
    assert run("init", cwd=tmp_path, database_url=database_url).returncode == 0
    data = write_dataset(tmp_path / "data")
    run("import", str(data), "-s", "files", cwd=tmp_path, database_url=database_url)
    args = ("metrics", "--stream", "shop", "--from", "2025-03-01", "--to", "2025-03-31")
    before = run(*args, "--format", "json", cwd=tmp_path, database_url=database_url).stdout
    portfolio = ("portfolio", "--from", "2025-03-01", "--to", "2025-03-31", "--format", "json")
    portfolio_before = run(*portfolio, cwd=tmp_path, database_url=database_url).stdout

    assert run("db", "downgrade", "0002", cwd=tmp_path, database_url=database_url).returncode == 0
    result = run("db", "upgrade", cwd=tmp_path, database_url=database_url)
    assert result.returncode == 0, result.stderr
    assert "Derived facts for 4 work items and 2 deployments" in result.stdout
    after = run(*args, "--format", "json", cwd=tmp_path, database_url=database_url).stdout
    assert json.loads(after) == json.loads(before)
    portfolio_after = run(*portfolio, cwd=tmp_path, database_url=database_url).stdout
    assert json.loads(portfolio_after) == json.loads(portfolio_before)
    assert json.loads(portfolio_after)  # not an empty answer

    again = run("db", "upgrade", cwd=tmp_path, database_url=database_url)
    assert "Derived facts" not in again.stdout  # nothing was missing the second time
