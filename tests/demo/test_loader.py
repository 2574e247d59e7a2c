"""The demo organisation loads through the import path (raw first), idempotently."""

from datetime import date
from pathlib import Path

from sqlalchemy import func, select

from streamwise.demo.generator import generate
from streamwise.demo.loader import load_demo
from streamwise.model import (
    Deployment,
    Incident,
    RawRecord,
    Source,
    Transition,
    ValueStream,
    WorkItem,
)
from streamwise.store import Database

END = date(2026, 6, 30)
SCALE = 0.03


def test_demo_loads_through_raw_records_and_reloads_idempotently(
    database: Database, tmp_path: Path
) -> None:
    organisation = generate(seed=7, scale=SCALE, end=END)
    generated = {
        source: {kind: len(rows) for kind, rows in files.items()}
        for source, files in organisation.files.items()
    }
    result = load_demo(database, tmp_path / "demo", seed=7, scale=SCALE, end=END)

    with database.sessions() as session:
        raw_by_source = dict(
            session.execute(
                select(Source.name, func.count(RawRecord.id))
                .join(RawRecord, RawRecord.source_id == Source.id)
                .group_by(Source.name)
            ).all()
        )
        # Every generated row became exactly one raw record of its source.
        assert raw_by_source == {s: sum(kinds.values()) for s, kinds in generated.items()}
        items = session.scalar(select(func.count()).select_from(WorkItem))
        assert items == generated["jira"]["work_items"]
        assert (
            session.scalar(select(func.count()).select_from(Transition))
            == (generated["jira"]["transitions"])
        )
        assert (
            session.scalar(select(func.count()).select_from(Deployment))
            == (generated["ci"]["deployments"])
        )
        assert (
            session.scalar(select(func.count()).select_from(Incident))
            == (generated["pagerduty"]["incidents"])
        )
        # Every work item landed in a value stream and got a flow item type or 'ignore'.
        assert session.scalar(select(func.count()).where(WorkItem.value_stream_id.is_(None))) == 0
        assert session.scalar(select(func.count()).where(WorkItem.flow_item_type.is_(None))) == 0
        kinds = set(session.scalars(select(ValueStream.kind)))
        assert kinds == {"core", "supporting"}
    for report in result.reports.values():
        assert report.normalised.errors == []
        assert not report.normalised.unmapped_statuses

    again = load_demo(database, tmp_path / "demo", seed=7, scale=SCALE, end=END)
    assert all(report.stored == 0 for report in again.reports.values())
    with database.sessions() as session:
        assert session.scalar(select(func.count()).select_from(RawRecord)) == sum(
            raw_by_source.values()
        )
