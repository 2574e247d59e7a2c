"""Metric endpoints: the Python API's figures as JSON and CSV, bad parameters as problems."""

import csv
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient

from streamwise.client import Streamwise
from streamwise.metrics.report import to_jsonable
from streamwise.store import Database
from tests.api.conftest import problem

PERIOD = {"start": "2025-03-01", "end": "2025-03-14"}
CHART_PARTS = {
    "cumulative-flow": "cumulative_flow",
    "cycle-times": "cycle_times",
    "aging-wip": "aging_wip",
    "throughput": "throughput",
    "net-flow": "net_flow",
    "flow": "flow",
    "dora": "dora",
    "value-stream-map": "value_stream_map",
}


def rows_of(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


@pytest.mark.parametrize(
    "filters",
    [
        {"value_stream": "shop"},
        {},
        {"value_stream": "shop", "team": "alpha", "grain": "day"},
        {"type": "feature", "service": "shop-api", "environment": "production"},
    ],
)
def test_report_equals_the_python_api(
    api: TestClient, loaded: Database, filters: dict[str, str]
) -> None:
    response = api.get("/api/metrics/report", params={**PERIOD, **filters})
    assert response.status_code == 200, response.text
    expected = Streamwise(database=loaded).report(
        filters.get("value_stream"),
        PERIOD["start"],
        PERIOD["end"],
        team=filters.get("team"),
        flow_item_type=filters.get("type"),
        service=filters.get("service"),
        environment=filters.get("environment"),
        grain=filters.get("grain", "week"),  # type: ignore[arg-type]
    )
    assert response.json() == to_jsonable(expected)


def test_report_figures_by_hand(api: TestClient) -> None:
    body = api.get("/api/metrics/report", params={**PERIOD, "value_stream": "shop"}).json()
    assert body["period"] == {
        "start": "2025-03-01",
        "end": "2025-03-14",
        "timezone": "Europe/Berlin",
    }
    dora = body["dora"]
    assert dora["deployment_frequency"]["total"] == 1  # d1; d0 was staging
    assert dora["change_fail_rate"]["rate"] == 1.0  # i1 was caused by d1
    assert dora["recovery_time"]["median_s"] == 6600.0  # d1 finished 12:10, i1 resolved 14:00
    assert body["flow"]["velocity"]["total"] == 1  # SHOP-1, done on 7 March
    assert body["flow"]["flow_time"]["overall"]["median_s"] == 4 * 86400 + 6 * 3600
    assert body["throughput"]["counts"] == [0, 1, 0]  # weeks of 24 Feb, 3 and 10 March
    assert body["throughput"]["bucket_starts"] == ["2025-02-24", "2025-03-03", "2025-03-10"]


def test_portfolio_equals_the_python_api(api: TestClient, loaded: Database) -> None:
    body = api.get("/api/metrics/portfolio", params=PERIOD).json()
    expected = Streamwise(database=loaded).portfolio(PERIOD["start"], PERIOD["end"])
    assert body == to_jsonable(expected)
    assert [s["key"] for s in body["streams"]] == ["shop", "ops"]


@pytest.mark.parametrize("chart", sorted(CHART_PARTS))
def test_each_chart_is_its_part_of_the_report(api: TestClient, chart: str) -> None:
    params = {**PERIOD, "value_stream": "shop"}
    report = api.get("/api/metrics/report", params=params).json()
    response = api.get(f"/api/metrics/{chart}", params=params)
    assert response.status_code == 200
    assert response.json() == report[CHART_PARTS[chart]]
    download = api.get(f"/api/metrics/{chart}", params={**params, "format": "csv"})
    assert download.status_code == 200
    assert download.headers["content-type"].startswith("text/csv")
    assert download.headers["content-disposition"] == (
        f'attachment; filename="{chart}-shop-2025-03-01-2025-03-14.csv"'
    )
    assert download.text.splitlines()[0]  # a header row, even for an empty chart


def test_csv_matches_json(api: TestClient) -> None:
    params = {**PERIOD, "value_stream": "shop"}

    def both(chart: str) -> tuple[Any, list[dict[str, str]]]:
        data = api.get(f"/api/metrics/{chart}", params=params).json()
        text = api.get(f"/api/metrics/{chart}", params={**params, "format": "csv"}).text
        return data, rows_of(text)

    throughput, rows = both("throughput")
    assert [(r["bucket_start"], int(r["count"])) for r in rows] == list(
        zip(throughput["bucket_starts"], throughput["counts"], strict=True)
    )
    assert [r["partial"] for r in rows] == ["True", "False", "True"]

    cycle, rows = both("cycle-times")
    assert [int(r["item_id"]) for r in rows] == cycle["item_id"] == [1]
    assert [float(r["flow_time_s"]) for r in rows] == cycle["flow_time_s"]
    assert rows[0]["done_at"] == "2025-03-07T16:00:00+00:00"

    cfd, rows = both("cumulative-flow")
    assert len(rows) == len(cfd["days"]) * len(cfd["bands"]) == 14 * 4
    for band in cfd["bands"]:
        counts = [int(r["count"]) for r in rows if r["band"] == band["name"]]
        assert counts == band["counts"]
    done = [int(r["count"]) for r in rows if r["band"] == "Done"]
    assert done[5] == 0 and done[6] == 1  # SHOP-1 done on 7 March (day 7 of the period)

    vsm, rows = both("value-stream-map")
    assert [r["name"] for r in rows] == [s["name"] for s in vsm["stages"]]
    for row, stage in zip(rows, vsm["stages"], strict=True):
        expected = stage["process_time_s"]
        assert (float(row["process_time_s"]) if row["process_time_s"] else None) == expected

    dora, rows = both("dora")
    by_metric = {r["metric"]: r for r in rows}
    assert float(by_metric["recovery_time"]["value"]) == dora["recovery_time"]["median_s"]
    assert by_metric["rework_rate"]["level"] == ""  # null → empty cell

    wip, rows = both("aging-wip")
    assert [int(r["item_id"]) for r in rows] == wip["item_id"]

    flow, rows = both("flow")
    assert [int(r["done"]) for r in rows] == flow["velocity"]["per_bucket"]
    assert [int(r["feature"]) for r in rows] == flow["velocity"]["per_bucket_by_type"]["feature"]

    net, rows = both("net-flow")
    assert [int(r["net"]) for r in rows] == net["net"]


@pytest.mark.parametrize(
    ("url", "field"),
    [
        ("/api/metrics/report?start=2025-03-14&end=2025-03-01", "query.end"),
        ("/api/metrics/report?start=14.3.2025", "query.start"),
        ("/api/metrics/throughput?end=2025-02-30", "query.end"),
        ("/api/metrics/report?value_stream=nope", "query.value_stream"),
        ("/api/metrics/dora?team=nobody", "query.team"),
        ("/api/metrics/report?grain=year", "query.grain"),
        ("/api/metrics/report?type=epic", "query.type"),
        ("/api/metrics/burndown", "path.chart"),
        ("/api/metrics/throughput?format=xlsx", "query.format"),
        ("/api/metrics/portfolio?start=2025-03-14&end=2025-03-01", "query.end"),
    ],
)
def test_bad_parameters_are_problems(api: TestClient, url: str, field: str) -> None:
    body = problem(api.get(url), 422)
    assert str(body["detail"]).startswith(f"{field}: ")
    assert field in [e["field"] for e in body["errors"]]  # type: ignore[attr-defined]


def test_bad_date_says_what_a_date_is(api: TestClient) -> None:
    body = problem(api.get("/api/metrics/report?start=14.3.2025"), 422)
    assert body["detail"] == "query.start: not a date (YYYY-MM-DD): '14.3.2025'"
