"""Kill a sync with SIGKILL in the middle and run it again: the result is exactly what an
uninterrupted sync stores — nothing lost, nothing twice. Real processes, real HTTP."""

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from streamwise.model import ItemFact, RawRecord, StageInterval, Transition, WorkItem
from streamwise.store import open_database
from tests.cli.test_cli import run
from tests.connectors.fake_jira import TOKEN, FakeJira, serve
from tests.connectors.jira.test_sync import ORG


@pytest.fixture
def jira() -> Iterator[FakeJira]:
    with serve(FakeJira()) as fake:
        yield fake


def _connect(directory: Path, url: str, jira: FakeJira) -> None:
    directory.mkdir(exist_ok=True)
    (directory / "streamwise.yaml").write_text(ORG)
    assert run("init", cwd=directory, database_url=url).returncode == 0
    added = run(
        "source", "add", "jira", "--name", "jira", "--url", jira.url,
        "--token-env", "JIRA_TOKEN", "-o", "deployment=cloud",
        cwd=directory, database_url=url,
    )  # fmt: skip
    assert added.returncode == 0, added.stderr


def _content(url: str) -> dict[str, Any]:
    """Everything a sync writes, without surrogate ids."""
    database = open_database(url)
    try:
        with database.sessions() as session:
            items = {
                (w.external_id, w.raw_status, w.flow_state, w.created_at, w.done_at)
                for w in session.scalars(select(WorkItem))
            }
            transitions = sorted(
                (t.external_id, t.at, t.from_status, t.to_status)
                for t in session.scalars(select(Transition))
            )
            raw = sorted(
                (r.entity_kind, r.external_id, r.content_hash, r.error)
                for r in session.scalars(select(RawRecord))
            )
            facts = {
                key: rest
                for key, *rest in session.execute(
                    select(
                        WorkItem.external_id,
                        ItemFact.flow_time_s,
                        ItemFact.active_time_s,
                        ItemFact.waiting_time_s,
                        ItemFact.packed_intervals,
                    ).join(ItemFact, ItemFact.work_item_id == WorkItem.id)
                )
            }
            intervals = len(session.scalars(select(StageInterval.id)).all())
    finally:
        database.dispose()
    return {
        "items": items,
        "transitions": transitions,
        "raw": raw,
        "facts": facts,
        "intervals": intervals,
    }


def test_sigkill_mid_sync_then_resume_equals_one_clean_sync(
    tmp_path: Path,
    database_url: str,
    empty_database_url: str,
    jira: FakeJira,
    monkeypatch: Any,
) -> None:
    monkeypatch.setenv("JIRA_TOKEN", TOKEN)
    _connect(tmp_path / "clean", empty_database_url, jira)
    assert run("sync", cwd=tmp_path / "clean", database_url=empty_database_url).returncode == 0
    expected = _content(empty_database_url)
    assert len(expected["items"]) == 33

    _connect(tmp_path / "killed", database_url, jira)
    jira.requests.clear()
    jira.hold, jira.hold_page = threading.Event(), "20"
    env = {k: v for k, v in os.environ.items() if not k.startswith("STREAMWISE_")}
    env["STREAMWISE_DATABASE_URL"] = database_url
    process = subprocess.Popen(
        [sys.executable, "-m", "streamwise", "sync"],
        cwd=tmp_path / "killed",
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not any("nextPageToken=20" in path for path in jira.requests):
        assert process.poll() is None and time.monotonic() < deadline
        time.sleep(0.05)
    process.send_signal(signal.SIGKILL)
    assert process.wait(timeout=30) == -signal.SIGKILL
    jira.hold.set()
    jira.hold = None

    partial = _content(database_url)
    assert len(partial["items"]) == 20  # the two pages stored before the kill, whole

    resumed = run("sync", cwd=tmp_path / "killed", database_url=database_url)
    assert resumed.returncode == 0, resumed.stderr
    assert _content(database_url) == expected
