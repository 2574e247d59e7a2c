"""A small organisation and data set, written out by hand so expected values can be checked."""

import csv
from pathlib import Path
from typing import Any

from streamwise.normalize.config import parse_config
from streamwise.normalize.organisation import apply_config
from streamwise.store import Database


def write_csv(path: Path, rows: list[dict[str, Any]], header: list[str] | None = None) -> Path:
    """Write rows as a CSV file (header from the first row unless given)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    columns = header or list(rows[0])
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
    return path


ORG_YAML = """
organisation: {name: Test Org, timezone: Europe/Berlin}
sources:
  - {name: files, kind: file}
  - {name: other, kind: file}
teams:
  - {key: alpha, name: Alpha, value_stream: shop}
people:
  - {name: Ada, email: ada@example.com, team: alpha, identities: {files: ada}}
type_mappings:
  - {type: Story, flow_item_type: feature}
  - {type: Bug, flow_item_type: defect}
  - {label: security, flow_item_type: risk}
value_streams:
  - key: shop
    name: Shop
    select: {projects: [SHOP], repositories: [acme/shop], services: [shop-api]}
    stages:
      - {name: Backlog, flow_state: new, statuses: [To Do]}
      - {name: Development, flow_state: active, value_adding: true, statuses: [In Progress]}
      - name: Testing
        flow_state: active
        statuses: [{status: Ready for Test, flow_state: waiting}, In Test]
      - {name: Done, flow_state: done, statuses: [Done]}
  - key: ops
    name: Ops
    kind: supporting
    select: {projects: [OPS]}
    stages:
      - {name: Doing, flow_state: active, statuses: [In Progress, In Test]}
      - {name: Done, flow_state: done, statuses: [Done]}
"""

WORK_ITEMS = [
    {
        "key": "SHOP-1",
        "title": "Cart",
        "type": "Story",
        "status": "Done",
        "project": "SHOP",
        "created_at": "2025-03-03T09:00:00Z",
        "team": "alpha",
        "labels": "web;cart",
        "parent": "SHOP-100",
    },
    {
        "key": "SHOP-2",
        "title": "XSS in search",
        "type": "Bug",
        "status": "In Test",
        "project": "SHOP",
        "created_at": "2025-03-03T09:30:00Z",
        "team": "alpha",
        "labels": "security",
        "parent": "",
    },
    {
        "key": "SHOP-3",
        "title": "Seen mid-flow",
        "type": "Story",
        "status": "In Progress",
        "project": "SHOP",
        "created_at": "2025-03-05T08:00:00Z",
        "team": "",
        "labels": "",
        "parent": "",
    },
    {
        "key": "SHOP-100",
        "title": "Checkout epic",
        "type": "Epic",
        "status": "To Do",
        "project": "SHOP",
        "created_at": "2025-03-01T08:00:00Z",
        "team": "",
        "labels": "",
        "parent": "",
    },
]

TRANSITIONS = [
    ("SHOP-1", "2025-03-03T10:00:00Z", "status", "To Do", "In Progress", "ada"),
    ("SHOP-1", "2025-03-04T10:00:00Z", "status", "In Progress", "Ready for Test", "ada"),
    ("SHOP-1", "2025-03-04T12:00:00Z", "blocked", "", "", "ada"),
    ("SHOP-1", "2025-03-04T18:00:00Z", "unblocked", "", "", "ada"),
    ("SHOP-1", "2025-03-05T09:00:00Z", "status", "Ready for Test", "In Test", "bob"),
    ("SHOP-1", "2025-03-05T15:00:00Z", "status", "In Test", "In Progress", "bob"),
    ("SHOP-1", "2025-03-06T10:00:00Z", "status", "In Progress", "Ready for Test", "ada"),
    ("SHOP-1", "2025-03-07T09:00:00Z", "status", "Ready for Test", "In Test", "bob"),
    ("SHOP-1", "2025-03-07T16:00:00Z", "status", "In Test", "Done", "bob"),
    ("SHOP-2", "2025-03-04T09:00:00Z", "status", "To Do", "In Progress", "ada"),
    ("SHOP-2", "2025-03-05T09:00:00Z", "status", "In Progress", "Ready for Test", "ada"),
    ("SHOP-2", "2025-03-06T09:00:00Z", "status", "Ready for Test", "In Test", "bob"),
]

COMMITS = [
    {
        "repository": "acme/shop",
        "sha": "a" * 40,
        "author": "ada",
        "authored_at": "2025-03-03T11:00:00Z",
        "committed_at": "2025-03-03T11:05:00Z",
        "message": "SHOP-1 add cart",
        "branch": "feature/SHOP-2-search",
        "work_items": "",
    },
    {
        "repository": "acme/shop",
        "sha": "b" * 40,
        "author": "bob",
        "authored_at": "2025-03-04T11:00:00Z",
        "committed_at": "2025-03-04T11:00:00Z",
        "message": "tidy up",
        "branch": "",
        "work_items": "SHOP-3",
    },
]

PULL_REQUESTS = [
    {
        "repository": "acme/shop",
        "number": "7",
        "title": "SHOP-1: cart",
        "author": "ada",
        "state": "merged",
        "created_at": "2025-03-03T12:00:00Z",
        "merged_at": "2025-03-05T10:00:00Z",
        "head_branch": "feature/SHOP-1-cart",
        "commits": "a" * 40 + ";" + "b" * 40,
    },
]

REVIEWS = [
    {
        "repository": "acme/shop",
        "pull_request": "7",
        "reviewer": "ada",
        "state": "approved",
        "submitted_at": "2025-03-03T13:00:00Z",
    },
    {
        "repository": "acme/shop",
        "pull_request": "7",
        "reviewer": "bob",
        "state": "commented",
        "submitted_at": "2025-03-04T09:00:00Z",
    },
    {
        "repository": "acme/shop",
        "pull_request": "7",
        "reviewer": "carol",
        "state": "approved",
        "submitted_at": "2025-03-04T11:00:00Z",
    },
]

DEPLOYMENTS = [
    {
        "id": "d1",
        "service": "shop-api",
        "environment": "production",
        "status": "success",
        "started_at": "2025-03-05T12:00:00Z",
        "finished_at": "2025-03-05T12:10:00Z",
        "commits": "a" * 40 + ";" + "b" * 40,
        "sha": "b" * 40,
    },
    {
        "id": "d0",
        "service": "shop-api",
        "environment": "staging",
        "status": "failed",
        "started_at": "2025-03-05T11:00:00Z",
        "finished_at": "2025-03-05T11:05:00Z",
        "commits": "",
        "sha": "b" * 40,
    },
]

INCIDENTS = [
    {
        "id": "i1",
        "title": "Checkout down",
        "service": "shop-api",
        "severity": "SEV1",
        "opened_at": "2025-03-05T13:00:00Z",
        "acknowledged_at": "2025-03-05T13:05:00Z",
        "resolved_at": "2025-03-05T14:00:00Z",
        "caused_by": "d1",
    },
]

PIPELINE_RUNS = [
    {
        "id": "r1",
        "name": "ci",
        "repository": "acme/shop",
        "sha": "a" * 40,
        "status": "success",
        "started_at": "2025-03-03T11:06:00Z",
        "finished_at": "2025-03-03T11:16:00Z",
    },
]

RELEASES = [
    {
        "id": "rel-1",
        "name": "Shop 1.0",
        "version": "1.0",
        "value_stream": "shop",
        "planned_at": "2025-03-07",
        "released_at": "2025-03-07T17:00:00Z",
        "work_items": "SHOP-1;SHOP-2",
    },
]


def transition_rows() -> list[dict[str, str]]:
    return [
        {
            "item": item,
            "at": at,
            "event": event,
            "from_status": before,
            "to_status": after,
            "actor": actor,
        }
        for item, at, event, before, after, actor in TRANSITIONS
    ]


def write_dataset(directory: Path) -> Path:
    """Write every file of the small data set into ``directory``; return it."""
    write_csv(directory / "work_items.csv", WORK_ITEMS)
    write_csv(directory / "transitions.csv", transition_rows())
    write_csv(directory / "commits.csv", COMMITS)
    write_csv(directory / "pull_requests.csv", PULL_REQUESTS)
    write_csv(directory / "reviews.csv", REVIEWS)
    write_csv(directory / "deployments.csv", DEPLOYMENTS)
    write_csv(directory / "incidents.csv", INCIDENTS)
    write_csv(directory / "pipeline_runs.csv", PIPELINE_RUNS)
    write_csv(directory / "releases.csv", RELEASES)
    return directory


def apply_org(database: Database, text: str = ORG_YAML) -> None:
    with database.transaction() as session:
        apply_config(session, parse_config(text))
