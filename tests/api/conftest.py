"""The API against the small organisation of tests/helpers.py, imported with facts derived."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from streamwise.api.app import create_app
from streamwise.config import Settings
from streamwise.ingest import import_files
from streamwise.store import Database
from tests.helpers import apply_org, write_dataset


def problem(response: object, status: int) -> dict[str, object]:
    """Assert ``response`` is a problem document with ``status``; return its body."""
    from httpx import Response

    assert isinstance(response, Response)
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body: dict[str, object] = response.json()
    assert body["status"] == status
    assert {"type", "title", "status", "detail"} <= set(body)
    return body


@pytest.fixture
def loaded(database: Database, tmp_path: Path) -> Database:
    apply_org(database)
    with database.transaction() as session:
        import_files(session, [write_dataset(tmp_path / "data")], "files")
    return database


@pytest.fixture
def api(loaded: Database) -> TestClient:
    return TestClient(create_app(Settings(database_url=loaded.url), loaded))
