"""Metrics as JSON, and every chart's data as JSON or CSV, with the Python API's filters.

The figures are the ones ``Streamwise.report`` computes; this module only reads the query,
chooses a part of the report and writes it out. Durations are seconds, moments in chart
columns epoch seconds (UTC), and NaN or infinite values become null (an empty CSV cell).
"""

import csv
import io
from collections.abc import Callable, Iterable, Sequence
from datetime import UTC, date, datetime
from enum import StrEnum
from typing import Any, Literal

from fastapi import APIRouter, Depends, Query
from fastapi.responses import JSONResponse, Response

from streamwise.api.routes.deps import database
from streamwise.api.routes.problems import invalid
from streamwise.client import Streamwise
from streamwise.errors import NotFoundError
from streamwise.metrics.period import Grain
from streamwise.metrics.report import StreamReport, to_jsonable
from streamwise.store import Database

router = APIRouter(prefix="/api/metrics", tags=["metrics"])

FLOW_TYPES = ("feature", "defect", "risk", "debt")


class Chart(StrEnum):
    CUMULATIVE_FLOW = "cumulative-flow"
    CYCLE_TIMES = "cycle-times"
    AGING_WIP = "aging-wip"
    THROUGHPUT = "throughput"
    NET_FLOW = "net-flow"
    FLOW = "flow"
    DORA = "dora"
    VALUE_STREAM_MAP = "value-stream-map"


Rows = tuple[list[str], list[list[Any]]]


def _period(sw: Streamwise, start: date | None, end: date | None) -> Any:
    if start is not None and end is not None and end < start:
        raise invalid("query.end", f"the period ends ({end}) before it starts ({start})")
    return sw.period(start, end)


def build_report(
    db: Database,
    value_stream: str | None,
    start: date | None,
    end: date | None,
    team: str | None,
    flow_item_type: str | None,
    service: str | None,
    environment: str | None,
    grain: Grain,
) -> StreamReport:
    """The report for a query; unknown filter keys become a 422 naming the parameter."""
    sw = Streamwise(database=db)
    period = _period(sw, start, end)
    try:
        return sw.report(
            value_stream,
            period.start,
            period.end,
            team=team,
            flow_item_type=flow_item_type,
            service=service,
            environment=environment,
            grain=grain,
        )
    except NotFoundError as error:
        field = "query.team" if "team" in str(error) else "query.value_stream"
        raise invalid(field, str(error)) from None


class ReportQuery:
    """The filters every metric takes, as one dependency so each route documents them."""

    def __init__(
        self,
        value_stream: str | None = Query(None, description="value stream key; all if unset"),
        start: date | None = Query(None, description="first day (YYYY-MM-DD), local time"),
        end: date | None = Query(None, description="last day, inclusive; default today"),
        team: str | None = Query(None, description="team key"),
        type: Literal["feature", "defect", "risk", "debt"] | None = Query(
            None, description="flow item type"
        ),
        service: str | None = Query(None, description="deployed service (DORA)"),
        environment: str | None = Query(None, description="deployment environment (DORA)"),
        grain: Literal["day", "week", "month"] = Query("week", description="bucket size"),
    ) -> None:
        self.value_stream = value_stream
        self.start = start
        self.end = end
        self.team = team
        self.flow_item_type = type
        self.service = service
        self.environment = environment
        self.grain: Grain = grain

    def report(self, db: Database) -> StreamReport:
        return build_report(
            db,
            self.value_stream,
            self.start,
            self.end,
            self.team,
            self.flow_item_type,
            self.service,
            self.environment,
            self.grain,
        )


@router.get("/report")
def report(query: ReportQuery = Depends(), db: Database = Depends(database)) -> Any:
    """Every metric of one selection: DORA, flow metrics, the value stream map, the charts
    and the headlines against the previous period."""
    return JSONResponse(to_jsonable(query.report(db)))


@router.get("/portfolio")
def portfolio(
    start: date | None = None, end: date | None = None, db: Database = Depends(database)
) -> Any:
    """Headline figures, DORA levels and bottleneck stage of every value stream."""
    sw = Streamwise(database=db)
    period = _period(sw, start, end)
    return JSONResponse(to_jsonable(sw.portfolio(period.start, period.end)))


# -- one chart: the part of the report, and its rows for CSV ----------------------------------


def _day(value: date) -> str:
    return value.isoformat()


def _utc(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).isoformat()


def _cumulative_flow(r: StreamReport) -> Rows:
    chart = r.cumulative_flow
    rows = [
        [_day(day), band.name, band.stage_id, band.flow_state, band.counts[i]]
        for band in chart.bands
        for i, day in enumerate(chart.days)
    ]
    return ["day", "band", "stage_id", "flow_state", "count"], rows


def _cycle_times(r: StreamReport) -> Rows:
    c = r.cycle_times
    rows = [
        [item, _utc(done), done, seconds, kind]
        for item, done, seconds, kind in zip(
            c.item_id, c.done_at, c.flow_time_s, c.flow_item_type, strict=True
        )
    ]
    return ["item_id", "done_at", "done_at_epoch", "flow_time_s", "flow_item_type"], rows


def _aging_wip(r: StreamReport) -> Rows:
    a = r.aging_wip
    rows = [
        list(row)
        for row in zip(a.item_id, a.stage_id, a.age_s, a.flow_item_type, a.over_p85, strict=True)
    ]
    return ["item_id", "stage_id", "age_s", "flow_item_type", "over_p85"], rows


def _throughput(r: StreamReport) -> Rows:
    t = r.throughput
    rows = [[_day(s), p, c] for s, p, c in zip(t.bucket_starts, t.partial, t.counts, strict=True)]
    return ["bucket_start", "partial", "count"], rows


def _net_flow(r: StreamReport) -> Rows:
    n = r.net_flow
    columns = (n.bucket_starts, n.partial, n.arrivals, n.departures, n.net, n.canceled)
    rows = [[_day(row[0]), *row[1:]] for row in zip(*columns, strict=True)]
    return ["bucket_start", "partial", "arrivals", "departures", "net", "canceled"], rows


def _flow(r: StreamReport) -> Rows:
    v = r.flow.velocity
    rows = [
        [_day(start), v.partial[i], v.per_bucket[i]]
        + [v.per_bucket_by_type[name][i] for name in FLOW_TYPES]
        for i, start in enumerate(v.bucket_starts)
    ]
    return ["bucket_start", "partial", "done", *FLOW_TYPES], rows


def _dora(r: StreamReport) -> Rows:
    d = r.dora
    rows: list[list[Any]] = [
        [
            "deployment_frequency",
            d.deployment_frequency.per_week,
            "per_week",
            d.deployment_frequency.level,
        ],
        ["change_lead_time", d.change_lead_time.median_s, "seconds", d.change_lead_time.level],
        ["change_fail_rate", d.change_fail_rate.rate, "ratio", d.change_fail_rate.level],
        ["recovery_time", d.recovery_time.median_s, "seconds", d.recovery_time.level],
        ["rework_rate", d.rework_rate.rate, "ratio", d.rework_rate.level],
    ]
    return ["metric", "value", "unit", "level"], rows


VSM_COLUMNS = (
    "stage_id",
    "name",
    "position",
    "flow_state",
    "items_entered",
    "process_time_s",
    "process_time_median_s",
    "wait_time_s",
    "wait_time_median_s",
    "lead_time_s",
    "items_sent_back",
    "pca_proxy",
    "wip_at_end",
    "wip_average",
    "throughput_per_week",
    "active_total_s",
    "waiting_total_s",
    "waiting_share",
)


def _value_stream_map(r: StreamReport) -> Rows:
    rows = [[getattr(stage, c) for c in VSM_COLUMNS] for stage in r.value_stream_map.stages]
    return list(VSM_COLUMNS), rows


CHARTS: dict[Chart, tuple[Callable[[StreamReport], Any], Callable[[StreamReport], Rows]]] = {
    Chart.CUMULATIVE_FLOW: (lambda r: r.cumulative_flow, _cumulative_flow),
    Chart.CYCLE_TIMES: (lambda r: r.cycle_times, _cycle_times),
    Chart.AGING_WIP: (lambda r: r.aging_wip, _aging_wip),
    Chart.THROUGHPUT: (lambda r: r.throughput, _throughput),
    Chart.NET_FLOW: (lambda r: r.net_flow, _net_flow),
    Chart.FLOW: (lambda r: r.flow, _flow),
    Chart.DORA: (lambda r: r.dora, _dora),
    Chart.VALUE_STREAM_MAP: (lambda r: r.value_stream_map, _value_stream_map),
}


def csv_text(header: Sequence[str], rows: Iterable[Sequence[Any]]) -> str:
    """CSV with a header row; null, NaN and infinities are empty cells."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(header)
    for row in rows:
        writer.writerow(["" if (cell := to_jsonable(value)) is None else cell for value in row])
    return out.getvalue()


@router.get("/{chart}")
def chart(
    chart: Chart,
    format: Literal["json", "csv"] = "json",
    query: ReportQuery = Depends(),
    db: Database = Depends(database),
) -> Response:
    """One chart's data. ``format=csv`` downloads it as a file: a header row and one row per
    point (per day and band, item, bucket, DORA metric or stage)."""
    report_ = query.report(db)
    part, rows = CHARTS[chart]
    if format == "json":
        return JSONResponse(to_jsonable(part(report_)))
    header, data = rows(report_)
    scope = query.value_stream or "all"
    filename = f"{chart.value}-{scope}-{report_.period.start}-{report_.period.end}.csv"
    return Response(
        csv_text(header, data),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="{filename}"'},
    )
