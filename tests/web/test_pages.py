"""The pages over plain HTTP: status codes, filters in the URL, and escaping of tool text."""

from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from streamwise.api.app import create_app
from streamwise.config import Settings
from streamwise.normalize.ingest import import_files
from streamwise.store import Database
from streamwise.web import format as fmt
from tests.helpers import ORG_YAML, WORK_ITEMS, apply_org, write_csv, write_dataset

HOSTILE = "<script>alert(1)</script>"
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


def client(database: Database) -> TestClient:
    app = create_app(Settings(database_url=database.url), database)
    return TestClient(app)


@pytest.fixture
def loaded(database: Database, tmp_path: Path) -> Database:
    """The small hand-written organisation, with a stream name and an item title that are
    markup, as a hostile tool could send them."""
    apply_org(database, ORG_YAML.replace("name: Shop", f"name: '{HOSTILE}'"))
    items = [dict(row, title=HOSTILE) if row["key"] == "SHOP-2" else row for row in WORK_ITEMS]
    data = write_dataset(tmp_path / "data")
    write_csv(data / "work_items.csv", items)
    with database.transaction() as session:
        import_files(session, [data], "files")
    return database


def test_pages_answer(loaded: Database) -> None:
    http = client(loaded)
    assert http.get("/portfolio").status_code == 200
    assert http.get("/streams/shop").status_code == 200
    assert http.get("/streams/shop?start=2025-03-01&end=2025-03-31&type=feature").status_code == 200
    assert http.get("/static/charts.js").status_code == 200
    plotly = http.get("/static/plotly.min.js")
    assert plotly.status_code == 200
    assert plotly.headers["content-type"].startswith("text/javascript")


def test_map_lists_every_stage_in_flow_order(loaded: Database) -> None:
    page = client(loaded).get("/streams/shop").text
    # Backlog (new) and Done (done) are not process steps; the active ones are, in order
    assert page.index('data-stage="Development"') < page.index('data-stage="Testing"')
    assert 'data-stage="Backlog"' not in page


def test_bad_filters_are_pages_that_say_what_to_change(loaded: Database) -> None:
    http = client(loaded)
    missing = http.get("/streams/nope")
    assert missing.status_code == 404
    assert "shop" in missing.text and "text/html" in missing.headers["content-type"]
    bad_date = http.get("/streams/shop?start=last-week")
    assert bad_date.status_code == 400
    assert "is not a date like" in bad_date.text
    bad_type = http.get("/streams/shop?type=epic")
    assert bad_type.status_code == 400
    assert "feature" in bad_type.text
    assert http.get("/streams/shop?team=nobody").status_code == 404


def test_text_from_tools_is_escaped_on_every_page(loaded: Database) -> None:
    http = client(loaded)
    for url in ("/portfolio", "/streams/shop"):
        page = http.get(url).text
        assert HOSTILE not in page, url
        assert ESCAPED in page, url


def test_empty_organisation_says_what_to_do(database: Database) -> None:
    assert "streamwise demo" in client(database).get("/portfolio").text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (None, fmt.MISSING),
        (42, "42 s"),
        (600, "10 min"),
        (5400, "1.5 h"),
        (2.5 * 86400, "2.5 d"),
        (30 * 86400, "30 d"),
    ],
)
def test_durations_are_humane(seconds: float | None, text: str) -> None:
    assert fmt.duration(seconds) == text


def test_changes_say_better_or_worse() -> None:
    assert fmt.change(0.2, "lower") == ("▲ 20 % worse", "worse")
    assert fmt.change(-0.2, "lower") == ("▼ 20 % better", "better")
    assert fmt.change(None, "higher") == ("no comparison", "neutral")
