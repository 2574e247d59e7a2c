"""The demo organisation's planted truths show in the figures, loaded through the real path."""

import shutil
from collections.abc import Iterator
from contextlib import ExitStack
from datetime import date, timedelta

import pytest

from streamwise.client import Streamwise
from streamwise.demo.loader import load_demo
from streamwise.store import open_database
from tests.conftest import ON_POSTGRES, pg_database, pg_url

END = date(2026, 6, 30)
FIRST_YEAR = (END - timedelta(days=729), END - timedelta(days=365))
SECOND_YEAR = (END - timedelta(days=364), END)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory, template_database: str) -> Iterator[Streamwise]:
    """One small demo organisation shared by this module's tests (loading it takes seconds)."""
    directory = tmp_path_factory.mktemp("demo")
    with ExitStack() as stack:
        if ON_POSTGRES:
            url = pg_url(stack.enter_context(pg_database("sw_demo", template=template_database)))
        else:
            shutil.copyfile(template_database, directory / "demo.db")
            url = f"sqlite:///{directory / 'demo.db'}"
        database = open_database(url)
        stack.callback(database.dispose)
        load_demo(database, directory / "files", seed=42, scale=0.05, end=END)
        yield Streamwise(database=database)


def test_shop_waits_longest_before_testing(demo: Streamwise) -> None:
    report = demo.report("shop", FIRST_YEAR[0], END)
    vsm = report.value_stream_map
    stages = {stage.name: stage for stage in vsm.stages}
    testing = stages["Testing"]
    assert vsm.bottleneck_stage_id == testing.stage_id
    assert testing.wait_time_s == max(s.wait_time_s or 0 for s in vsm.stages)
    assert (vsm.bottleneck_waiting_share or 0) > 0.5


def test_mobile_reads_about_full_flow_efficiency(demo: Streamwise) -> None:
    efficiency = {
        key: demo.report(key, FIRST_YEAR[0], END).flow.efficiency.aggregate
        for key in ("shop", "payments", "mobile", "platform")
    }
    assert (efficiency["mobile"] or 0) >= 0.95
    for key in ("shop", "payments", "platform"):
        assert 0.1 <= (efficiency[key] or 0) <= 0.6, key


def test_payments_finishes_mostly_defects_while_features_pile_up(demo: Streamwise) -> None:
    distribution = demo.report("payments", END - timedelta(days=182), END).flow.distribution
    assert distribution.completed.shares["defect"] > 0.5
    in_progress = distribution.in_progress.counts
    assert in_progress["feature"] > in_progress["defect"]


def test_platform_deploys_much_more_often_in_the_second_year(demo: Streamwise) -> None:
    first = demo.report("platform", *FIRST_YEAR).dora.deployment_frequency.per_week
    second = demo.report("platform", *SECOND_YEAR).dora.deployment_frequency.per_week
    assert second >= 2.5 * first > 0
    for key in ("shop", "payments", "mobile"):
        before = demo.report(key, *FIRST_YEAR).dora.deployment_frequency.per_week
        after = demo.report(key, *SECOND_YEAR).dora.deployment_frequency.per_week
        assert after < 2 * before, key


def test_portfolio_agrees_with_each_stream_report(demo: Streamwise) -> None:
    """The portfolio's narrow, SQL-aggregated path gives the stream report's very numbers."""
    portfolio = demo.portfolio(FIRST_YEAR[0], END)
    assert [line.key for line in portfolio.streams] == ["shop", "payments", "mobile", "platform"]
    for line in portfolio.streams:
        report = demo.report(line.key, FIRST_YEAR[0], END)
        expected = {h.key: (h.current, h.previous) for h in report.headlines}
        for headline in line.headlines:
            current, previous = expected[headline.key]
            assert headline.current == pytest.approx(current), (line.key, headline.key)
            assert headline.previous == pytest.approx(previous), (line.key, headline.key)
        bottleneck = report.value_stream_map.bottleneck_stage_id
        names = {s.stage_id: s.name for s in report.value_stream_map.stages}
        assert line.bottleneck_stage == (names[bottleneck] if bottleneck is not None else None)
        assert sum(line.weekly_velocity) == report.flow.velocity.total
