"""Bad import files: one clear line naming file, row and column, and nothing written."""

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from streamwise.errors import ImportFileError, NotFoundError
from streamwise.model import Base, WorkItem
from streamwise.normalize.ingest import import_files
from streamwise.store import Database
from tests.helpers import WORK_ITEMS, apply_org, transition_rows, write_csv, write_dataset


def snapshot(database: Database) -> dict[str, list[tuple[object, ...]]]:
    with database.sessions() as session:
        return {
            name: [
                tuple(row) for row in session.execute(select(table).order_by(*table.primary_key))
            ]
            for name, table in Base.metadata.tables.items()
        }


@pytest.fixture
def loaded(database: Database, tmp_path: Path) -> Database:
    """A database that already holds the small data set, so 'nothing written' is meaningful."""
    apply_org(database)
    with database.transaction() as session:
        import_files(session, [write_dataset(tmp_path / "stored")], "files")
    return database


def attempt(database: Database, path: Path) -> str:
    before = snapshot(database)
    with pytest.raises(ImportFileError) as caught, database.transaction() as session:
        import_files(session, [path], "files")
    assert snapshot(database) == before, "a failed import must leave the database unchanged"
    return str(caught.value)


def new_item(**changes: str) -> dict[str, str]:
    row = dict(WORK_ITEMS[0], key="SHOP-9", title="New")
    row.update(changes)
    return row


def test_unknown_column(loaded: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "work_items.csv", [{**new_item(), "colour": "red"}])
    message = attempt(loaded, path)
    assert f"{path}: header, column 10 'colour': unknown column for work_items" in message


def test_unparsable_timestamp(loaded: Database, tmp_path: Path) -> None:
    rows = [new_item(key="SHOP-8"), new_item(created_at="yesterday")]
    path = write_csv(tmp_path / "work_items.csv", rows)
    message = attempt(loaded, path)
    assert message.splitlines()[0] == (
        f"{path}: row 2, column created_at: 'yesterday' is not an ISO 8601 timestamp "
        "(e.g. 2025-03-01T14:30:00Z)"
    )


def test_transition_for_unknown_item(loaded: Database, tmp_path: Path) -> None:
    rows = [*transition_rows()[:1], dict(transition_rows()[0], item="SHOP-404")]
    path = write_csv(tmp_path / "transitions.csv", rows)
    message = attempt(loaded, path)
    assert f"{path}: row 2, column item: 'SHOP-404' is not a work item of source 'files'" in message


def test_transition_for_item_in_the_same_import_is_fine(loaded: Database, tmp_path: Path) -> None:
    items = write_csv(tmp_path / "work_items.csv", [new_item()])
    steps = write_csv(
        tmp_path / "transitions.csv",
        [dict(transition_rows()[0], item="SHOP-9")],
    )
    with loaded.transaction() as session:
        import_files(session, [items, steps], "files")
    with loaded.sessions() as session:
        item = session.scalars(select(WorkItem).where(WorkItem.key == "SHOP-9")).one()
        assert item.work_started_at is not None


def test_end_before_start(loaded: Database, tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "deployments.csv",
        [
            {
                "id": "d9",
                "service": "s",
                "environment": "production",
                "status": "success",
                "started_at": "2025-03-05T12:00:00Z",
                "finished_at": "2025-03-05T11:00:00Z",
            }
        ],
    )
    message = attempt(loaded, path)
    assert message.startswith(
        f"{path}: row 1, column finished_at: 2025-03-05T11:00:00+00:00 is before started_at "
        "2025-03-05T12:00:00+00:00"
    )


def test_value_not_among_choices(loaded: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "transitions.csv", [dict(transition_rows()[0], event="paused")])
    assert "column event: 'paused' is not one of status, blocked, unblocked" in attempt(
        loaded, path
    )


def test_missing_required_column_and_value(loaded: Database, tmp_path: Path) -> None:
    no_column = write_csv(tmp_path / "a" / "work_items.csv", [{"key": "X-1", "title": "t"}])
    assert "header: required column(s) missing: created_at" in attempt(loaded, no_column)
    empty_value = write_csv(tmp_path / "b" / "work_items.csv", [new_item(key="")])
    assert "row 1, column key: is required but empty" in attempt(loaded, empty_value)


def test_duplicate_key_with_different_values(loaded: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "work_items.csv", [new_item(), new_item(title="Other")])
    assert "row 2: duplicate work_items 'SHOP-9' with different values (first at" in attempt(
        loaded, path
    )


def test_several_bad_rows_are_listed_and_counted(loaded: Database, tmp_path: Path) -> None:
    rows = [new_item(key=f"SHOP-{n}", created_at="bad") for n in range(20, 35)]
    message = attempt(loaded, write_csv(tmp_path / "work_items.csv", rows))
    lines = message.splitlines()
    assert len([line for line in lines if "is not an ISO 8601 timestamp" in line]) == 10
    assert "… and 5 more problems" in lines
    assert lines[-1] == "Nothing was imported; fix the file(s) and run the import again."


def test_json_bundle_with_nested_transitions(loaded: Database, tmp_path: Path) -> None:
    bundle = {
        "work_items": [
            {
                "key": "SHOP-9",
                "title": "From JSON",
                "type": "Story",
                "project": "SHOP",
                "status": "In Progress",
                "created_at": "2025-04-01T09:00:00Z",
                "labels": ["json"],
                "transitions": [
                    {
                        "at": "2025-04-01T10:00:00Z",
                        "from_status": "To Do",
                        "to_status": "In Progress",
                    }
                ],
            }
        ]
    }
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(bundle))
    with loaded.transaction() as session:
        report = import_files(session, [path], "files")
    assert report.rows == 2
    with loaded.sessions() as session:
        item = session.scalars(select(WorkItem).where(WorkItem.key == "SHOP-9")).one()
        assert item.labels == ["json"] and item.flow_state == "active"
        assert item.work_started_at is not None and item.work_started_at.hour == 10


def test_bad_json(loaded: Database, tmp_path: Path) -> None:
    path = tmp_path / "work_items.json"
    path.write_text('[{"key": "X-1",')
    assert f"{path}: not valid JSON" in attempt(loaded, path)
    path.write_text('[{"key": "X-1", "created_at": "2025-01-01", "size": 3}]')
    assert f"{path}: work_items[0], column 'size': unknown column" in attempt(loaded, path)


def test_unknown_file_name_and_missing_path(loaded: Database, tmp_path: Path) -> None:
    odd = write_csv(tmp_path / "export.csv", [new_item()])
    assert "cannot tell what this file holds from its name" in attempt(loaded, odd)
    assert "no such file or directory" in attempt(loaded, tmp_path / "missing.csv")


def test_unknown_source(loaded: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "work_items.csv", [new_item()])
    expected = r"no source named 'nope' \(known: files, other\)"
    with pytest.raises(NotFoundError, match=expected), loaded.transaction() as session:
        import_files(session, [path], "nope")


def test_retry_after_fixing_completes(loaded: Database, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "work_items.csv", [new_item(created_at="soon")])
    attempt(loaded, path)
    write_csv(path, [new_item()])
    with loaded.transaction() as session:
        report = import_files(session, [path], "files")
    assert report.stored == 1
