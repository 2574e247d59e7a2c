"""Metrics end to end on a real database (SQLite and PostgreSQL): same hand-computed answers."""

from pathlib import Path

import pytest

from streamwise.client import Streamwise
from streamwise.errors import NotFoundError
from streamwise.ingest import import_files
from streamwise.store import Database
from tests.helpers import apply_org, write_dataset


@pytest.fixture
def client(database: Database, tmp_path: Path) -> Streamwise:
    apply_org(database)
    with database.transaction() as session:
        import_files(session, [write_dataset(tmp_path / "data")], "files")
    return Streamwise(database=database)


def test_stream_report_from_the_small_data_set(client: Streamwise) -> None:
    # March 2025 in Berlin, compared with the 31 days before.
    report = client.report("shop", "2025-03-01", "2025-03-31")
    assert (report.period.start.isoformat(), report.previous_period.start.isoformat()) == (
        "2025-03-01",
        "2025-01-29",
    )
    dora = report.dora
    # One production deployment (d1, success, finished 03-05 12:10Z) that caused incident i1.
    assert dora.deployment_frequency.total == 1
    assert dora.change_fail_rate.deployments == 1 and dora.change_fail_rate.rate == 1.0
    assert dora.recovery_time.median_s == 110 * 60  # 12:10 → 14:00
    assert dora.rework_rate.rate == 0.0
    # Two commits shipped: lead times 25 h 10 min and 49 h 5 min; median = their mean.
    assert dora.change_lead_time.count == 2
    assert dora.change_lead_time.median_s == ((25 * 60 + 10) + (49 * 60 + 5)) / 2 * 60
    assert dora.change_lead_time.pull_requests == 1
    assert dora.change_lead_time.pickup_median_s == 21 * 3600

    flow = report.flow
    # SHOP-1 (feature) is the only item done in March; the epic is not a flow item.
    assert flow.velocity.total == 1 and dict(flow.velocity.by_type) == {
        "feature": 1,
        "defect": 0,
        "risk": 0,
        "debt": 0,
    }
    assert flow.flow_time.overall.median_s == (4 * 24 + 6) * 3600
    assert flow.efficiency.aggregate == pytest.approx(56 / 102)
    # In progress at the end of March: SHOP-2 (risk) and SHOP-3 (feature, seen mid-flow).
    assert flow.load.at_period_end == 2
    in_progress = dict(flow.distribution.in_progress.counts)
    assert in_progress == {"feature": 1, "defect": 0, "risk": 1, "debt": 0}

    vsm = report.value_stream_map
    stages = {stage.name: stage for stage in vsm.stages}
    assert list(stages) == ["Development", "Testing"]
    # SHOP-1 in Development: active 24 h + 19 h; in Testing: active 6 h + 7 h, waiting 23 h
    # (queue 03-04 10:00→03-05 09:00, incl. the blocked hours) + 23 h (03-06 10:00→03-07 09:00).
    assert stages["Development"].process_time_s == 43 * 3600
    assert stages["Testing"].process_time_s == 13 * 3600
    assert stages["Testing"].wait_time_s == 46 * 3600
    assert stages["Development"].pca_proxy == 0.0  # SHOP-1 was sent back into Development
    assert stages["Testing"].pca_proxy == 1.0
    assert vsm.bottleneck_stage_id == stages["Testing"].stage_id
    assert vsm.activity_ratio == pytest.approx(56 / 102)


def test_unknown_stream_is_a_clear_error(client: Streamwise) -> None:
    with pytest.raises(NotFoundError, match="no value stream 'nope' \\(known: ops, shop\\)"):
        client.report("nope", "2025-03-01", "2025-03-31")


def test_portfolio_lists_every_stream(client: Streamwise) -> None:
    portfolio = client.portfolio("2025-03-01", "2025-03-31")
    assert [s.key for s in portfolio.streams] == ["shop", "ops"]
    shop = portfolio.streams[0]
    assert shop.bottleneck_stage == "Testing"
    assert {h.key: h.current for h in shop.headlines}["flow_velocity"] == 1.0
