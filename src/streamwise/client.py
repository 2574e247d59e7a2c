"""The Python API for notebooks and scripts: ``from streamwise import Streamwise``.

    >>> sw = Streamwise("sqlite:///streamwise.db")
    >>> report = sw.report("payments", start="2025-01-01", end="2025-03-31")
    >>> report.dora.change_lead_time.median_s
    >>> [h.label for h in sw.portfolio().streams[0].headlines]

It opens the database, loads the facts a question needs (for the period and the one before,
for comparisons) and hands them to the pure functions in ``streamwise.metrics``.
"""

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from streamwise.config import Settings
from streamwise.errors import StreamwiseError
from streamwise.metrics.facts import FactSet
from streamwise.metrics.load import Filters, load_facts, load_portfolio
from streamwise.metrics.period import Grain, Period
from streamwise.metrics.portfolio import portfolio_headlines
from streamwise.metrics.report import StreamHeadlines, StreamReport, stream_report
from streamwise.store import Database, open_database
from streamwise.store.migrate import require_current
from streamwise.store.organisation import organisation_timezone

DEFAULT_DAYS = 84  # twelve weeks


@dataclass(frozen=True)
class Portfolio:
    period: Period
    streams: tuple[StreamHeadlines, ...]


def _as_date(value: date | str | None, what: str) -> date | None:
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise StreamwiseError(f"{what}: {value!r} is not a date like 2025-03-31") from None


class Streamwise:
    """One organisation's metrics; cheap to create, holds a database engine."""

    def __init__(self, database_url: str | None = None, database: Database | None = None) -> None:
        self.database = database or open_database(database_url or Settings().database_url)
        require_current(self.database)
        with self.database.sessions() as session:
            self.timezone = organisation_timezone(session)

    def period(self, start: date | str | None = None, end: date | str | None = None) -> Period:
        """A period of whole local days; by default the twelve weeks up to today."""
        end_day = _as_date(end, "end") or datetime.now(ZoneInfo(self.timezone)).date()
        start_day = _as_date(start, "start") or end_day - timedelta(days=DEFAULT_DAYS - 1)
        if end_day < start_day:
            raise StreamwiseError(f"the period ends ({end_day}) before it starts ({start_day})")
        return Period(start_day, end_day, self.timezone)

    def facts(self, filters: Filters, period: Period) -> FactSet:
        """Facts for ``period`` and the period before it (for comparisons)."""
        with self.database.sessions() as session:
            return load_facts(session, filters, period.previous().start_at, period.end_at)

    def report(
        self,
        value_stream: str | None = None,
        start: date | str | None = None,
        end: date | str | None = None,
        *,
        team: str | None = None,
        flow_item_type: str | None = None,
        service: str | None = None,
        environment: str | None = None,
        grain: Grain = "week",
    ) -> StreamReport:
        """Every metric for one selection (all streams when ``value_stream`` is None)."""
        period = self.period(start, end)
        filters = Filters(value_stream, team, flow_item_type, service, environment)
        return stream_report(self.facts(filters, period), period, grain)

    def portfolio(
        self, start: date | str | None = None, end: date | str | None = None
    ) -> Portfolio:
        """Headline figures of every value stream (narrow columns, aggregated in SQL)."""
        period = self.period(start, end)
        with self.database.sessions() as session:
            facts = load_portfolio(session, period)
        return Portfolio(period, portfolio_headlines(facts, period))

    def close(self) -> None:
        self.database.dispose()
