"""Syncing a real git repository, built in a temporary directory with fixed dates, through the
sync engine into the test database. Every expected value is worked out by hand from the
history below."""

import logging
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from streamwise.connectors.git.reader import GitConnector
from streamwise.connectors.sync_api import Page, SourceSettings
from streamwise.errors import SourceError
from streamwise.model import (
    Commit,
    CommitWorkItem,
    Deployment,
    DeploymentChange,
    RawRecord,
    Release,
    Source,
    SyncState,
)
from streamwise.store import Database
from streamwise.sync import sync_source
from tests.connectors.git.builder import BOB, Repository
from tests.helpers import apply_org

ORG = """
organisation: {name: Git, timezone: Europe/Berlin}
value_streams:
  - key: shop
    name: Shop
    select: {repositories: [shop], services: [shop]}
    stages:
      - {name: Doing, flow_state: active, statuses: [In Progress]}
      - {name: Done, flow_state: done, statuses: [Done]}
"""
DEPLOY_TAGS = r"^deploy-(?P<version>\d+)$"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text)


@dataclass
class Shop:
    """The repository and the commits it was built with, by name."""

    repo: Repository
    sha: dict[str, str]

    @property
    def path(self) -> Path:
        return self.repo.path


def build_shop(path: Path) -> Shop:
    """main: c1 - c2 - c3 - m1 - m2 - c4, where m1 merges feature/PAY-12-refunds (f1, f2,
    branched at c2) and m2 merges bugfix/SHOP-3-nulls (b1, branched at m1).

    Tags: deploy-1 (lightweight, c2), v1.0 (annotated 03-02 12:00, c2), deploy-2 (annotated
    03-05 08:00, m2), v1.1 (lightweight, c4), experiment (lightweight, f1; matches nothing).
    """
    repo = Repository(path)
    sha: dict[str, str] = {}
    sha["c1"] = repo.commit("initial commit", "2025-03-01T09:00:00+01:00")
    sha["c2"] = repo.commit("PAY-7 fix rounding", "2025-03-02T10:00:00+01:00", who=BOB)
    repo.tag("deploy-1")
    repo.tag("v1.0", at="2025-03-02T12:00:00+01:00", note="first release")
    repo.switch("feature/PAY-12-refunds", create=True)
    sha["f1"] = repo.commit("add refund model", "2025-03-03T09:00:00+01:00")
    sha["f2"] = repo.commit("refund endpoint", "2025-03-03T11:00:00+01:00")
    repo.tag("experiment", target=sha["f1"])
    repo.switch("main")
    sha["c3"] = repo.commit("tidy readme", "2025-03-03T10:00:00+01:00")
    sha["m1"] = repo.merge(
        "feature/PAY-12-refunds",
        "Merge branch 'feature/PAY-12-refunds'",
        "2025-03-04T09:00:00+01:00",
    )
    repo.switch("bugfix/SHOP-3-nulls", create=True)
    sha["b1"] = repo.commit("handle nulls", "2025-03-04T10:00:00+01:00")
    repo.switch("main")
    sha["m2"] = repo.merge(
        "bugfix/SHOP-3-nulls",
        "Merge pull request #3 from acme/bugfix/SHOP-3-nulls\n\nHandle nulls",
        "2025-03-04T12:00:00+01:00",
    )
    repo.tag("deploy-2", at="2025-03-05T08:00:00+01:00", note="to production")
    sha["c4"] = repo.commit("SHOP-9 polish", "2025-03-06T09:00:00+01:00")
    repo.tag("v1.1")
    return Shop(repo, sha)


@pytest.fixture
def shop(tmp_path: Path) -> Shop:
    return build_shop(tmp_path / "shop")


def add_source(database: Database, name: str, url: str, **options: Any) -> None:
    with database.transaction() as session:
        session.add(Source(name=name, kind="git", base_url=url, token_env=None, options=options))


@pytest.fixture
def synced(database: Database, shop: Shop) -> Database:
    """The organisation and a git source for the shop repository (given as a file:// URL)."""
    apply_org(database, ORG)
    add_source(database, "git", shop.path.as_uri(), deployment_tag_pattern=DEPLOY_TAGS)
    return database


def source_id(session: Any, name: str) -> int:
    return int(session.scalar(select(Source.id).where(Source.name == name)))


def commits_of(database: Database, source: str = "git") -> dict[str, tuple[Any, ...]]:
    with database.sessions() as session:
        rows = session.scalars(
            select(Commit).where(Commit.source_id == source_id(session, source))
        ).all()
        return {
            row.sha: (row.branch, row.author, row.authored_at, row.committed_at, row.message)
            for row in rows
        }


def deployments_of(database: Database, source: str = "git") -> dict[str, tuple[Any, ...]]:
    """Deployment external id → (version, sha, started, finished, production, {(sha, method)})."""
    with database.sessions() as session:
        found = {}
        for row in session.scalars(
            select(Deployment).where(Deployment.source_id == source_id(session, source))
        ):
            changes = {
                (change.commit_sha, change.method)
                for change in session.scalars(
                    select(DeploymentChange).where(DeploymentChange.deployment_id == row.id)
                )
            }
            found[row.external_id] = (
                row.version,
                row.sha,
                row.started_at,
                row.finished_at,
                row.is_production,
                row.status,
                frozenset(changes),
            )
        return found


def releases_of(database: Database, source: str = "git") -> dict[str, tuple[Any, ...]]:
    with database.sessions() as session:
        return {
            row.external_id: (row.name, row.version, row.released_at)
            for row in session.scalars(
                select(Release).where(Release.source_id == source_id(session, source))
            )
        }


def links_of(database: Database, source: str = "git") -> set[tuple[str, str, str]]:
    with database.sessions() as session:
        rows = session.execute(
            select(Commit.sha, CommitWorkItem.work_item_key, CommitWorkItem.method)
            .join(Commit, Commit.id == CommitWorkItem.commit_id)
            .where(Commit.source_id == source_id(session, source))
        ).all()
        return {(sha, key, method) for sha, key, method in rows}


def raw_of(database: Database, source: str = "git") -> list[tuple[Any, ...]]:
    with database.sessions() as session:
        return sorted(
            (row.entity_kind, row.external_id, row.content_hash, row.error)
            for row in session.scalars(
                select(RawRecord).where(RawRecord.source_id == source_id(session, source))
            )
        )


def expected_deployments(shop: Shop) -> dict[str, tuple[Any, ...]]:
    s = shop.sha
    return {
        # The first deployment tag has no earlier one to compare with: no known changes.
        "shop/tags/deploy-1": (
            "1", s["c2"], at("2025-03-02T10:00:00+01:00"), at("2025-03-02T10:00:00+01:00"),
            True, "success", frozenset(),
        ),
        # git rev-list deploy-1..deploy-2: both merges and everything they brought in.
        "shop/tags/deploy-2": (
            "2", s["m2"], at("2025-03-05T08:00:00+01:00"), at("2025-03-05T08:00:00+01:00"),
            True, "success",
            frozenset((s[n], "git_range") for n in ("f1", "f2", "c3", "m1", "b1", "m2")),
        ),
    }  # fmt: skip


def test_backfill_reads_every_commit_merge_release_and_deployment(
    synced: Database, shop: Shop
) -> None:
    report = sync_source(synced, "git")  # the connector made by the registry, tokenless

    s = shop.sha
    assert report.errors == []
    assert (report.stored["commits"], report.stored["tags"]) == (9, 4)  # 2 releases + 2 deploys
    commits = commits_of(synced)
    assert set(commits) == set(s.values())
    merges = {sha for sha, row in commits.items() if row[4].startswith("Merge ")}
    assert merges == {s["m1"], s["m2"]}
    assert {sha: row[0] for sha, row in commits.items()} == {
        s["c1"]: "main",
        s["c2"]: "main",
        s["c3"]: "main",
        s["m1"]: "main",
        s["m2"]: "main",
        s["c4"]: "main",
        s["f1"]: "feature/PAY-12-refunds",
        s["f2"]: "feature/PAY-12-refunds",
        s["b1"]: "bugfix/SHOP-3-nulls",
    }
    assert commits[s["c2"]][1:4] == (
        "bob@example.com",
        at("2025-03-02T10:00:00+01:00"),
        at("2025-03-02T10:00:00+01:00"),
    )
    assert (
        commits[s["m2"]][4] == "Merge pull request #3 from acme/bugfix/SHOP-3-nulls\n\nHandle nulls"
    )
    assert releases_of(synced) == {
        "shop/tags/v1.0": ("v1.0", "1.0", at("2025-03-02T12:00:00+01:00")),  # the tag's date
        "shop/tags/v1.1": ("v1.1", "1.1", at("2025-03-06T09:00:00+01:00")),  # its commit's
    }
    assert deployments_of(synced) == expected_deployments(shop)
    with synced.sessions() as session:
        linked = session.scalars(
            select(DeploymentChange.commit_id).where(DeploymentChange.commit_id.is_not(None))
        ).all()
        assert len(linked) == 6  # every change found its commit row
        stream = session.scalars(select(Deployment.value_stream_id)).all()
        assert None not in stream


def test_work_item_keys_are_linked_from_messages_and_merged_branch_names(
    synced: Database, shop: Shop
) -> None:
    sync_source(synced, "git")
    s = shop.sha
    assert links_of(synced) == {
        (s["c2"], "PAY-7", "commit_message"),
        (s["f1"], "PAY-12", "branch_name"),
        (s["f2"], "PAY-12", "branch_name"),
        (s["m1"], "PAY-12", "commit_message"),
        (s["b1"], "SHOP-3", "branch_name"),
        (s["m2"], "SHOP-3", "commit_message"),
        (s["c4"], "SHOP-9", "commit_message"),
    }


def test_a_second_sync_stores_nothing(synced: Database, shop: Shop) -> None:
    sync_source(synced, "git")
    before = raw_of(synced)
    again = sync_source(synced, "git")
    assert sum(again.stored.values()) == 0
    assert again.received["commits"] == 0  # nothing after the cursor: not even read
    assert again.received["tags"] == 0  # every tag is as it was stored
    assert raw_of(synced) == before


def test_new_commits_and_a_new_tag_arrive_incrementally(synced: Database, shop: Shop) -> None:
    sync_source(synced, "git")
    s = shop.sha
    c5 = shop.repo.commit("PAY-20 more refunds", "2025-03-07T09:00:00+01:00")
    shop.repo.tag("deploy-3")

    report = sync_source(synced, "git")

    assert (report.received["commits"], report.stored["commits"]) == (1, 1)
    assert (report.received["tags"], report.stored["tags"]) == (1, 1)  # deploy-3 alone
    assert commits_of(synced)[c5][0] == "main"
    deployments = deployments_of(synced)
    assert deployments["shop/tags/deploy-3"] == (
        "3", c5, at("2025-03-07T09:00:00+01:00"), at("2025-03-07T09:00:00+01:00"),
        True, "success", frozenset({(s["c4"], "git_range"), (c5, "git_range")}),
    )  # fmt: skip
    assert len(deployments) == 3
    assert (c5, "PAY-20", "commit_message") in links_of(synced)


class SimulatedKillError(Exception):
    pass


class StopsAfter:
    """The real connector, stopped as if killed once ``pages`` pages have been stored."""

    def __init__(self, inner: GitConnector, pages: int) -> None:
        self.inner = inner
        self.kind = inner.kind
        self.entities = inner.entities
        self.parser = inner.parser
        self.left = pages

    def fetch(self, entity: str, cursor: str | None) -> Iterator[Page]:
        for page in self.inner.fetch(entity, cursor):
            if self.left == 0:
                raise SimulatedKillError
            self.left -= 1
            yield page

    def close(self) -> None:
        self.inner.close()


def small_pages(url: str, name: str) -> GitConnector:
    settings = SourceSettings(name, "git", url, None, None, {"deployment_tag_pattern": DEPLOY_TAGS})
    return GitConnector(settings, page_size=2)


@pytest.mark.parametrize("stored_pages", [1, 2, 3, 6])
def test_an_interrupted_sync_resumes_to_what_one_sync_gives(
    synced: Database, shop: Shop, stored_pages: int
) -> None:
    # Pages of two: commits come in 5 pages (2, 2, 2, 2, 1), tags in 3 (2, 2, none). After
    # two pages the cursor is f1, which c3 (stored before it) is not an ancestor of: c3 is
    # read again and not stored twice.
    url = str(shop.path)
    add_source(synced, "stopped", url, deployment_tag_pattern=DEPLOY_TAGS)
    sync_source(synced, "git", connector=small_pages(url, "git"))

    with pytest.raises(SimulatedKillError):
        sync_source(
            synced, "stopped", connector=StopsAfter(small_pages(url, "stopped"), stored_pages)
        )
    stored_commits = len(commits_of(synced, "stopped"))
    assert stored_commits == min(2 * stored_pages, 9)
    # The sixth page is the first of tags: deploy-1 and v1.0.
    assert len(deployments_of(synced, "stopped")) == (0 if stored_pages < 6 else 1)

    sync_source(synced, "stopped", connector=small_pages(url, "stopped"))

    assert commits_of(synced, "stopped") == commits_of(synced, "git")
    assert links_of(synced, "stopped") == links_of(synced, "git")
    assert deployments_of(synced, "stopped") == deployments_of(synced, "git")
    assert releases_of(synced, "stopped") == releases_of(synced, "git")
    raw = raw_of(synced, "stopped")
    assert raw == raw_of(synced, "git")
    assert len(raw) == 13  # 9 commits, 2 releases, 2 deployments: none stored twice


def test_a_commit_git_cannot_date_is_kept_with_its_error_and_the_rest_goes_on(
    synced: Database, shop: Shop
) -> None:
    broken = shop.repo.commit_with_bad_date("PAY-8 imported from svn")
    report = sync_source(synced, "git")

    assert any("author.date" in error and broken in error for error in report.errors)
    assert set(commits_of(synced)) == set(shop.sha.values())  # the 9 others
    with synced.sessions() as session:
        kept = session.scalars(
            select(RawRecord).where(RawRecord.external_id == f"shop@{broken}")
        ).one()
        assert kept.error is not None and "author.date" in kept.error
        assert kept.payload["message"] == "PAY-8 imported from svn"
    assert deployments_of(synced) == expected_deployments(shop)  # tags synced after it


def test_rewritten_history_is_read_again_whole_and_said(
    synced: Database, shop: Shop, caplog: pytest.LogCaptureFixture
) -> None:
    sync_source(synced, "git")
    shop.repo.git("reset", "-q", "--hard", shop.sha["c2"])
    redone = shop.repo.commit("PAY-30 start over", "2025-03-08T09:00:00+01:00")

    with caplog.at_level(logging.WARNING, logger="streamwise.connectors.git.reader"):
        report = sync_source(synced, "git")

    assert "history was rewritten" in caplog.text
    assert len(report.notes) == 1 and "history was rewritten" in report.notes[0]
    assert report.received["commits"] == 3  # c1, c2 and the new one: the whole history
    assert report.stored["commits"] == 1
    assert commits_of(synced)[redone][0] == "main"


def test_a_path_that_is_not_a_repository_is_named(database: Database, tmp_path: Path) -> None:
    plain = tmp_path / "plain"
    plain.mkdir()
    add_source(database, "git", str(plain))
    with pytest.raises(SourceError, match=re.escape(f"{plain} is not a git repository")):
        sync_source(database, "git")
    with database.sessions() as session:
        state = session.scalars(select(SyncState).where(SyncState.entity_kind == "commits")).one()
        assert state.last_error is not None and str(plain) in state.last_error


def test_a_missing_path_and_a_subdirectory_are_named(
    database: Database, shop: Shop, tmp_path: Path
) -> None:
    add_source(database, "gone", str(tmp_path / "gone"))
    with pytest.raises(SourceError, match=re.escape(f"{tmp_path / 'gone'} does not exist")):
        sync_source(database, "gone")
    inside = shop.path / "docs"
    inside.mkdir()
    add_source(database, "inside", str(inside))
    with pytest.raises(SourceError, match=re.escape(f"inside the git repository {shop.path}")):
        sync_source(database, "inside")


def test_git_missing_is_named(
    database: Database, shop: Shop, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_source(database, "git", str(shop.path))
    empty = tmp_path / "bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    with pytest.raises(SourceError, match="git program is not installed"):
        sync_source(database, "git")


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (
            {"release_tag_pattern": "v(\\d+"},
            re.escape("option release_tag_pattern 'v(\\d+' is not a valid regular expression"),
        ),
        (
            {"deployment_tag_pattern": "*deploy"},
            re.escape("option deployment_tag_pattern '*deploy' is not a valid"),
        ),
        ({"release_pattern": "^v"}, "unknown option 'release_pattern'"),
        ({"release_tag_pattern": ["0-9"]}, "option release_tag_pattern must be a regular"),
        ({"branch": "trunk"}, "option branch 'trunk': there is no such branch"),
    ],
)
def test_bad_options_are_named(
    database: Database, shop: Shop, options: dict[str, str], message: str
) -> None:
    add_source(database, "git", str(shop.path), **options)
    with pytest.raises(SourceError, match=message):
        sync_source(database, "git")
    with database.sessions() as session:
        assert session.scalars(select(RawRecord)).all() == []


def test_options_name_the_branch_repository_service_and_environment(
    database: Database, shop: Shop
) -> None:
    apply_org(database, ORG)
    add_source(
        database,
        "git",
        str(shop.path),
        branch="feature/PAY-12-refunds",
        repository="acme/shop",
        service="shop-api",
        environment="staging",
        release_tag_pattern="",
        deployment_tag_pattern="^experiment$",
    )
    sync_source(database, "git")
    s = shop.sha
    commits = commits_of(database)
    assert set(commits) == {s["c1"], s["c2"], s["f1"], s["f2"]}
    assert {row[0] for row in commits.values()} == {"feature/PAY-12-refunds"}
    assert releases_of(database) == {}
    with database.sessions() as session:
        (deployment,) = session.scalars(select(Deployment)).all()
        assert (deployment.external_id, deployment.service, deployment.environment) == (
            "acme/shop/tags/experiment",
            "shop-api",
            "staging",
        )
        assert deployment.is_production is False
        assert deployment.version == "experiment"
        external = session.scalars(select(Commit.external_id)).all()
        assert f"acme/shop@{s['f1']}" in external


def test_a_bare_clone_is_read_under_its_directory_name(
    database: Database, shop: Shop, tmp_path: Path
) -> None:
    bare = tmp_path / "mirror" / "shop.git"
    bare.parent.mkdir()
    shop.repo.git("clone", "-q", "--bare", str(shop.path), str(bare))
    add_source(database, "git", str(bare), deployment_tag_pattern=DEPLOY_TAGS)
    report = sync_source(database, "git")
    assert (report.stored["commits"], report.stored["tags"]) == (9, 4)
    assert deployments_of(database) == expected_deployments(shop)  # "shop", not "shop.git"


def test_an_empty_repository_gives_nothing_and_a_detached_head_asks_for_the_branch(
    database: Database, shop: Shop, tmp_path: Path
) -> None:
    Repository(tmp_path / "empty")
    add_source(database, "empty", str(tmp_path / "empty"))
    report = sync_source(database, "empty")
    assert (sum(report.received.values()), report.errors) == (0, [])

    shop.repo.git("checkout", "-q", "--detach", shop.sha["c2"])
    add_source(database, "detached", str(shop.path))
    with pytest.raises(SourceError, match=r"HEAD of .* is not on a branch; name the main branch"):
        sync_source(database, "detached")
