"""The pages in a real browser (Debian's chromium via Playwright) against a live server
holding the demo organisation."""

from pathlib import Path

from streamwise.client import Streamwise
from streamwise.web import format as fmt
from tests.web.conftest import HOSTILE, BrowserPage, LiveServer


def _open(page: BrowserPage, url: str, shot: Path) -> None:
    response = page.page.goto(url, wait_until="networkidle")
    assert response is not None and response.status == 200, url
    page.page.screenshot(path=str(shot), full_page=True)
    assert page.errors == [], f"{url}: {page.errors}"


def test_portfolio_loads_cleanly(
    page: BrowserPage, live_server: LiveServer, screenshots: Path
) -> None:
    _open(page, f"{live_server.url}/portfolio", screenshots / "portfolio.png")
    portfolio = Streamwise(live_server.database_url).portfolio()
    rows = page.page.locator("#portfolio tbody tr")
    assert rows.count() == len(portfolio.streams)
    first = portfolio.streams[0]
    row = page.page.locator(f'#portfolio tr[data-stream="{first.key}"]')
    assert first.name in row.inner_text()
    if first.bottleneck_stage:
        assert first.bottleneck_stage in row.inner_text()


def test_map_shows_every_stage_with_the_api_figures(
    page: BrowserPage, live_server: LiveServer, screenshots: Path
) -> None:
    _open(page, f"{live_server.url}/streams/shop", screenshots / "stream-shop.png")
    figures = Streamwise(live_server.database_url).report("shop").value_stream_map
    stages = page.page.locator("#value-stream-map g.stage")
    assert stages.count() == len(figures.stages) > 0
    for index, stage in enumerate(figures.stages):
        box = stages.nth(index)
        assert box.get_attribute("data-stage") == stage.name
        text = box.locator("text.figure").all_text_contents()
        assert f"PT {fmt.duration(stage.process_time_s)}" in text
        assert f"WIP {fmt.count(stage.wip_at_end)}" in text
        bottleneck = "bottleneck" in (box.get_attribute("class") or "")
        assert bottleneck == (stage.stage_id == figures.bottleneck_stage_id)
    summary = page.page.locator("#vsm-summary .summary-value").all_text_contents()
    assert fmt.duration(figures.total_lead_time_s) in summary
    assert fmt.percent(figures.activity_ratio) in summary
    # the charts were drawn by the plotly.js the server serves
    assert page.page.locator("#chart-throughput .main-svg").count() > 0


def test_filter_in_the_url_changes_the_figures(
    page: BrowserPage, live_server: LiveServer, screenshots: Path
) -> None:
    summary = "#vsm-summary .summary-value"
    _open(page, f"{live_server.url}/streams/shop", screenshots / "stream-shop-all.png")
    everything = page.page.locator(summary).all_text_contents()
    _open(
        page, f"{live_server.url}/streams/shop?type=defect", screenshots / "stream-shop-defects.png"
    )
    defects = page.page.locator(summary).all_text_contents()
    assert defects != everything
    assert page.page.locator("select[name=type]").input_value() == "defect"
    expected = Streamwise(live_server.database_url).report("shop", flow_item_type="defect")
    assert fmt.count(expected.value_stream_map.items_done) == defects[-1]


def test_markup_in_a_title_is_shown_as_text(
    page: BrowserPage, live_server: LiveServer, screenshots: Path
) -> None:
    _open(page, f"{live_server.url}/streams/shop", screenshots / "stream-shop-escaping.png")
    row = page.page.locator("#oldest tr", has_text=live_server.hostile_item)
    assert HOSTILE in row.inner_text()
    assert page.dialogs == []
    assert page.page.locator("#oldest script").count() == 0
