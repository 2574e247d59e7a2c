"""Sources over the API: status list and "sync now" refusals (no tool is reachable here)."""

from fastapi.testclient import TestClient

from streamwise.store import Database
from tests.api.conftest import problem
from tests.helpers import ORG_YAML, apply_org

WITH_TRACKERS = ORG_YAML.replace(
    "  - {name: other, kind: file}",
    "  - {name: other, kind: file}\n"
    "  - {name: tracker, kind: jira}\n"
    "  - {name: board, kind: jira, url: 'https://jira.example.com', token_env: SW_TEST_UNSET}",
)


def test_sources_list_their_status(api: TestClient) -> None:
    sources = {s["name"]: s for s in api.get("/api/sources").json()}
    assert set(sources) == {"files", "other"}
    files = sources["files"]
    assert (files["kind"], files["syncable"], files["payload_errors"]) == ("file", False, 0)
    assert files["raw_counts"]["work_item"] == 4 and files["raw_counts"]["transition"] == 12
    assert sources["other"]["raw_counts"] == {}


def test_sync_refusals(api: TestClient, loaded: Database) -> None:
    assert "known: files, other" in str(problem(api.post("/api/sources/nope/sync"), 404)["detail"])
    assert "imported, not synced" in str(
        problem(api.post("/api/sources/files/sync"), 409)["detail"]
    )
    apply_org(loaded, WITH_TRACKERS)
    assert "has no URL" in str(problem(api.post("/api/sources/tracker/sync"), 400)["detail"])
    unset = problem(api.post("/api/sources/board/sync"), 400)
    assert "SW_TEST_UNSET is not set" in str(unset["detail"])
    board = next(s for s in api.get("/api/sources").json() if s["name"] == "board")
    assert board["syncable"] is True and board["entities"] == []
