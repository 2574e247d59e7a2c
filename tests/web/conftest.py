"""A live Streamwise server on 127.0.0.1 with the demo organisation, and a real browser.

The browser is Debian's ``chromium`` driven by Playwright (``make test`` installs it with
apt-get when it is missing); Playwright's own browser downloads are never used. Without
chromium the browser tests fail, saying how to install it.
"""

import shutil
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn
from sqlalchemy import update

from streamwise.api.app import create_app
from streamwise.client import Streamwise
from streamwise.config import Settings
from streamwise.demo.loader import load_demo
from streamwise.model import WorkItem
from streamwise.store import Database, open_database
from tests.conftest import ON_POSTGRES, pg_database, pg_url

CHROMIUM = "/usr/bin/chromium"
HOSTILE = "<script>alert(1)</script>"
SCREENSHOTS = Path("test-output/screenshots")


@dataclass(frozen=True)
class LiveServer:
    url: str
    database_url: str
    hostile_item: str  # key of the work item whose title is HOSTILE


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
def demo_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A database holding the demo organisation at a small scale."""
    if ON_POSTGRES:
        with pg_database("sw_web_demo") as name:
            yield pg_url(name)
    else:
        yield f"sqlite:///{tmp_path_factory.mktemp('web') / 'demo.db'}"


def _retitle_oldest_in_progress(database: Database) -> str:
    """Give the shop stream's oldest item in progress a title that is markup: it is shown on
    the stream page, so the page must print it as text."""
    aging = Streamwise(database=database).report("shop").aging_wip
    item_id = max(zip(aging.age_s, aging.item_id, strict=True))[1]
    with database.transaction() as session:
        session.execute(update(WorkItem).where(WorkItem.id == item_id).values(title=HOSTILE))
        key = session.get_one(WorkItem, item_id).key
    return key


@pytest.fixture(scope="session")
def live_server(demo_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    database = open_database(demo_url)
    load_demo(database, tmp_path_factory.mktemp("demo-data"), seed=42, scale=0.05)
    hostile_item = _retitle_oldest_in_progress(database)
    app = create_app(Settings(database_url=demo_url), database)
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline or not thread.is_alive():
            raise RuntimeError("the test server did not start")
        time.sleep(0.05)
    yield LiveServer(f"http://127.0.0.1:{port}", demo_url, hostile_item)
    server.should_exit = True
    thread.join(timeout=10)
    database.dispose()


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    if not (Path(CHROMIUM).exists() or shutil.which("chromium")):
        pytest.fail("no chromium: run scripts/install-chromium.sh (make test does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        yield launched
        launched.close()


@dataclass
class BrowserPage:
    """A page at 1280 x 800 that records console errors and uncaught exceptions."""

    page: Any
    errors: list[str]
    dialogs: list[str]


@pytest.fixture
def page(browser: Any) -> Iterator[BrowserPage]:
    context = browser.new_context(viewport={"width": 1280, "height": 800})
    tab = context.new_page()
    watched = BrowserPage(tab, [], [])
    tab.on(
        "console",
        lambda message: watched.errors.append(message.text) if message.type == "error" else None,
    )
    tab.on("pageerror", lambda error: watched.errors.append(str(error)))

    def on_dialog(dialog: Any) -> None:
        watched.dialogs.append(dialog.message)
        dialog.dismiss()

    tab.on("dialog", on_dialog)
    yield watched
    context.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """Where page screenshots go for review (test-output/ is kept out of git)."""
    folder = SCREENSHOTS / ("postgresql" if ON_POSTGRES else "sqlite")
    folder.mkdir(parents=True, exist_ok=True)
    print(f"\nscreenshots: {folder.resolve()}")
    return folder
