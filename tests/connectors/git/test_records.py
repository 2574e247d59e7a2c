"""The git connector's pieces that need no repository: merge subjects, merge attribution and
payload parsing."""

from datetime import datetime
from typing import Any

import pytest

from streamwise.connectors.base import (
    CommitRecord,
    DeploymentRecord,
    EntityKind,
    FieldError,
    ParseContext,
)
from streamwise.connectors.git.reader import GraphCommit, attribute_merges, merged_branch_names
from streamwise.connectors.git.records import parse_payload

CONTEXT = ParseContext()
SHA_A, SHA_B = "a" * 40, "b" * 40


@pytest.mark.parametrize(
    ("subject", "parents", "names"),
    [
        ("Merge branch 'feature/PAY-12-x'", 1, ["feature/PAY-12-x"]),
        ("Merge branch 'feature/PAY-12-x' into 'main'", 1, ["feature/PAY-12-x"]),  # GitLab
        ("Merge branch 'topic' of github.com:acme/shop", 1, ["topic"]),
        ("Merge pull request #12 from org/feature/PAY-12", 1, ["feature/PAY-12"]),  # GitHub
        ("Merged in bugfix/SHOP-3 (pull request #4)", 1, ["bugfix/SHOP-3"]),  # Bitbucket
        ("Merge remote-tracking branch 'origin/release/2.0'", 1, ["release/2.0"]),
        ("Merge branches 'a', 'b' and 'c'", 3, ["a", "b", "c"]),  # octopus
        ("Merge remote-tracking branches 'origin/a' and 'origin/b'", 2, ["a", "b"]),
        ("Merge branches 'a' and 'b'", 3, [None, None, None]),  # does not say which is which
        ("Merged PR 77: refunds", 1, [None]),  # Azure DevOps names no branch
        ("Merge tag 'v1.2'", 1, [None]),
    ],
)
def test_merged_branch_names_come_from_the_merge_subject(
    subject: str, parents: int, names: list[str | None]
) -> None:
    assert merged_branch_names(subject, parents) == names


def test_each_commit_belongs_to_the_oldest_main_line_merge_that_brought_it_in() -> None:
    # main: r - m1 - m2 (octopus) ; m1 merges x1 (from r); m2 merges y1 (from x1) and z1 (from r)
    graph = {
        "r": GraphCommit((), "root"),
        "x1": GraphCommit(("r",), "x one"),
        "m1": GraphCommit(("r", "x1"), "Merge branch 'x'"),
        "y1": GraphCommit(("x1",), "y one"),
        "z1": GraphCommit(("r",), "z one"),
        "m2": GraphCommit(("m1", "y1", "z1"), "Merge branches 'y' and 'z'"),
    }
    assert attribute_merges(graph, "m2") == {
        "x1": ("m1", "x"),
        "y1": ("m2", "y"),  # x1 below it came in with m1 already
        "z1": ("m2", "z"),
    }
    # Only what came after a cursor at m1: the answer for those commits is the same.
    since_m1 = {sha: graph[sha] for sha in ("y1", "z1", "m2")}
    assert attribute_merges(since_m1, "m2") == {"y1": ("m2", "y"), "z1": ("m2", "z")}


def commit_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "repository": "shop",
        "branch": "main",
        "sha": SHA_A,
        "parents": [],
        "author": {"name": "Ada", "email": "ada@example.com", "date": "2025-03-01T09:00:00+01:00"},
        "committer": {"name": "Bob", "email": "bob@example.com", "date": "2025-03-01T10:00:00Z"},
        "message": "PAY-1 start",
        "merged_into": None,
        "merged_branch": None,
    }
    payload.update(changes)
    return payload


def test_a_commit_payload_becomes_a_commit_on_its_merged_branch() -> None:
    record = parse_payload(
        EntityKind.COMMIT, commit_payload(merged_branch="feature/PAY-1"), CONTEXT
    )
    assert record == CommitRecord(
        repository="shop",
        sha=SHA_A,
        authored_at=datetime.fromisoformat("2025-03-01T08:00:00+00:00"),
        committed_at=datetime.fromisoformat("2025-03-01T10:00:00+00:00"),
        author="ada@example.com",
        message="PAY-1 start",
        branch="feature/PAY-1",
    )


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"sha": "abc"}, "sha"),
        ({"repository": ""}, "repository"),
        ({"author": None}, "author"),
        ({"author": {"name": "Ada", "date": "%aI"}}, "author.date"),
        ({"committer": {"name": "Bob", "date": "yesterday"}}, "committer.date"),
    ],
)
def test_a_bad_commit_payload_names_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as raised:
        parse_payload(EntityKind.COMMIT, commit_payload(**changes), CONTEXT)
    assert raised.value.field == field


def deployment_payload(**changes: Any) -> dict[str, Any]:
    payload: dict[str, Any] = {
        "repository": "shop",
        "tag": "deploy-7",
        "object": SHA_B,
        "annotated": True,
        "sha": SHA_A,
        "tagged_at": "2025-03-05T08:00:00+01:00",
        "tagger": "Ada <ada@example.com>",
        "committed_at": "2025-03-04T12:00:00+01:00",
        "subject": "to production",
        "version": "7",
        "service": "shop",
        "environment": "production",
        "previous_tag": "deploy-6",
        "previous_sha": SHA_B,
        "commits": [SHA_A],
    }
    payload.update(changes)
    return payload


def test_a_deployment_payload_ships_its_range_at_the_tag_time() -> None:
    record = parse_payload(EntityKind.DEPLOYMENT, deployment_payload(), CONTEXT)
    moment = datetime.fromisoformat("2025-03-05T07:00:00+00:00")
    assert record == DeploymentRecord(
        id="shop/tags/deploy-7",
        service="shop",
        environment="production",
        status="success",
        started_at=moment,
        finished_at=moment,
        version="7",
        sha=SHA_A,
        commits=[SHA_A],
        commits_method="git_range",
    )
    lightweight = parse_payload(EntityKind.DEPLOYMENT, deployment_payload(tagged_at=None), CONTEXT)
    assert isinstance(lightweight, DeploymentRecord)
    assert lightweight.started_at == datetime.fromisoformat("2025-03-04T11:00:00+00:00")


@pytest.mark.parametrize(
    ("changes", "field"),
    [
        ({"tagged_at": "2025-13-45T08:00:00Z"}, "tagged_at"),
        ({"tagged_at": None, "committed_at": ""}, "committed_at"),
        ({"commits": "abc"}, "commits"),
        ({"commits": ["not-a-sha"]}, "commits"),
        ({"service": None}, "service"),
    ],
)
def test_a_bad_deployment_payload_names_its_field(changes: dict[str, Any], field: str) -> None:
    with pytest.raises(FieldError) as raised:
        parse_payload(EntityKind.DEPLOYMENT, deployment_payload(**changes), CONTEXT)
    assert raised.value.field == field


def test_a_kind_the_git_connector_never_stores_is_refused() -> None:
    with pytest.raises(KeyError):
        parse_payload(EntityKind.PULL_REQUEST, {}, CONTEXT)
