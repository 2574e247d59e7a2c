"""Page routes: parse the URL's filters, ask ``Streamwise`` one question, render a template.

Filters live in the query string (``start``, ``end``, ``team``, ``type``) so every view can be
shared as a link. Errors are shown as pages (the API's handlers answer JSON), with the message
saying what to change.
"""

from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, HTMLResponse, Response
from jinja2 import Environment, PackageLoader, select_autoescape
from sqlalchemy import select
from sqlalchemy.orm import Session

from streamwise.client import Streamwise
from streamwise.errors import NotFoundError, StreamwiseError
from streamwise.metrics.report import StreamReport
from streamwise.model import Team, ValueStream, WorkItem
from streamwise.model.base import FLOW_ITEM_TYPES
from streamwise.store import Database
from streamwise.web import charts, vsm
from streamwise.web import format as fmt

router = APIRouter(include_in_schema=False)

templates = Environment(
    loader=PackageLoader("streamwise.web", "templates"),
    autoescape=select_autoescape(default=True, default_for_string=True),
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.globals["fmt"] = fmt

STATIC = Path(str(files("streamwise.web") / "static"))
PLOTLY_JS = Path(str(files("plotly") / "package_data" / "plotly.min.js"))
CACHE = {"Cache-Control": "public, max-age=86400"}
OLDEST_SHOWN = 10


@dataclass(frozen=True)
class PageFilters:
    """The filters as typed in the URL; empty form fields count as unset."""

    start: str | None
    end: str | None
    team: str | None
    type: str | None

    @classmethod
    def of(cls, start: str | None, end: str | None, team: str | None, type_: str | None) -> Any:
        return cls(start or None, end or None, team or None, type_ or None)


def _render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(templates.get_template(template).render(**context), status_code=status)


def _error(error: StreamwiseError) -> HTMLResponse:
    status = 404 if isinstance(error, NotFoundError) else 400
    title = "Not found" if status == 404 else "Cannot show this"
    return _render("error.html", status, title=title, message=str(error))


def _database(request: Request) -> Database:
    database: Database = request.app.state.database
    return database


@router.get("/static/plotly.min.js")
def plotly_js() -> Response:
    """plotly.js from the installed ``plotly`` package: the app works offline."""
    return FileResponse(PLOTLY_JS, media_type="text/javascript", headers=CACHE)


@router.get("/static/charts.js")
def charts_js() -> Response:
    return FileResponse(STATIC / "charts.js", media_type="text/javascript", headers=CACHE)


@router.get("/portfolio", response_class=HTMLResponse)
def portfolio(request: Request, start: str | None = None, end: str | None = None) -> Response:
    """Every value stream at a glance, against the previous period."""
    filters = PageFilters.of(start, end, None, None)
    try:
        result = Streamwise(database=_database(request)).portfolio(filters.start, filters.end)
    except StreamwiseError as error:
        return _error(error)
    rows = [
        {
            "stream": stream,
            "headlines": {h.key: h for h in stream.headlines},
            "sparkline": charts.sparkline(stream.weekly_velocity),
        }
        for stream in result.streams
    ]
    return _render("portfolio.html", period=result.period, rows=rows, filters=filters)


def _oldest_items(session: Session, report: StreamReport) -> list[dict[str, Any]]:
    """The oldest work in progress, with the titles the tools gave them."""
    aging = report.aging_wip
    ranked = sorted(zip(aging.age_s, aging.item_id, strict=True), reverse=True)[:OLDEST_SHOWN]
    ids = [item_id for _, item_id in ranked]
    found = {
        row.id: row
        for row in session.execute(
            select(WorkItem.id, WorkItem.key, WorkItem.title, WorkItem.url).where(
                WorkItem.id.in_(ids)
            )
        )
    }
    oldest = []
    for age, item_id in ranked:
        row = found.get(item_id)
        if row is None:
            continue
        url = row.url if row.url and row.url.startswith(("https://", "http://")) else None
        oldest.append({"key": row.key, "title": row.title, "url": url, "age": fmt.duration(age)})
    return oldest


@router.get("/streams/{key}", response_class=HTMLResponse)
def value_stream(
    request: Request,
    key: str,
    start: str | None = None,
    end: str | None = None,
    team: str | None = None,
    type: str | None = None,  # the URL's name for the flow item type
) -> Response:
    """The value stream map drawn from data, with flow charts beside it."""
    filters = PageFilters.of(start, end, team, type)
    database = _database(request)
    if filters.type is not None and filters.type not in FLOW_ITEM_TYPES:
        return _error(
            StreamwiseError(
                f"type: {filters.type!r} is not a flow item type "
                f"(one of {', '.join(FLOW_ITEM_TYPES)})"
            )
        )
    try:
        report = Streamwise(database=database).report(
            key, filters.start, filters.end, team=filters.team, flow_item_type=filters.type
        )
    except StreamwiseError as error:
        return _error(error)
    with database.sessions() as session:
        name = session.scalar(select(ValueStream.name).where(ValueStream.key == key)) or key
        teams = list(session.execute(select(Team.key, Team.name).order_by(Team.name)))
        oldest = _oldest_items(session, report)
    caption = (
        f"{report.period.start} to {report.period.end} · team: {filters.team or 'all'} · "
        f"type: {filters.type or 'all'}"
    )
    drawing = vsm.layout(report.value_stream_map, report.flow.flow_time.overall.median_s, caption)
    return _render(
        "stream.html",
        key=key,
        name=name,
        report=report,
        map=drawing,
        filters=filters,
        teams=teams,
        types=FLOW_ITEM_TYPES,
        oldest=oldest,
        charts=charts.stream_charts(report),
        bottleneck=next(
            (
                s.name
                for s in report.value_stream_map.stages
                if s.stage_id == report.value_stream_map.bottleneck_stage_id
            ),
            None,
        ),
    )
