"""The web app's health and summary endpoints, and escaping of text from tools."""

from pathlib import Path

from fastapi.testclient import TestClient

from streamwise.api.app import create_app
from streamwise.config import Settings
from streamwise.normalize.ingest import import_files
from streamwise.store import Database
from tests.helpers import ORG_YAML, WORK_ITEMS, apply_org, write_csv, write_dataset


def client(database: Database) -> TestClient:
    return TestClient(create_app(Settings(database_url=database.url), database))


def test_health_reports_schema(database: Database) -> None:
    response = client(database).get("/health")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["schema_revision"] == body["expected_revision"]


def test_summary_counts_what_was_loaded(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    with database.transaction() as session:
        import_files(session, [write_dataset(tmp_path / "data")], "files")
    summary = client(database).get("/api/summary").json()
    assert summary["organisation"] == {"name": "Test Org", "timezone": "Europe/Berlin"}
    assert summary["totals"]["work_items"] == 4
    assert summary["totals"]["transitions"] == 12
    shop = summary["value_streams"][0]
    assert (shop["key"], shop["work_items"], shop["work_items_done"]) == ("shop", 4, 1)
    assert shop["production_deployments"] == 1
    assert [s["name"] for s in shop["stages"]] == ["Backlog", "Development", "Testing", "Done"]


def test_text_from_tools_is_escaped(database: Database, tmp_path: Path) -> None:
    hostile = "<script>alert(1)</script>"
    apply_org(database, ORG_YAML.replace("name: Shop", f"name: '{hostile}'"))
    with database.transaction() as session:
        import_files(
            session,
            [write_csv(tmp_path / "work_items.csv", [dict(WORK_ITEMS[0], title=hostile)])],
            "files",
        )
    page = client(database).get("/")
    assert page.status_code == 200
    assert hostile not in page.text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page.text


def test_empty_database_page_says_what_to_do(database: Database) -> None:
    page = client(database).get("/")
    assert "streamwise demo" in page.text


def test_missing_schema_is_a_problem_document(tmp_path: Path) -> None:
    from streamwise.store import open_database

    bare = open_database(f"sqlite:///{tmp_path / 'bare.db'}")
    response = client(bare).get("/api/summary")
    assert response.status_code == 503
    assert response.headers["content-type"].startswith("application/problem+json")
    assert "streamwise db upgrade" in response.json()["detail"]
    bare.dispose()
