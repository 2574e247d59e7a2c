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
