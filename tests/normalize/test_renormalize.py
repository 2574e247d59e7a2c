"""Changing a mapping and renormalising re-maps stored data without any tool."""

from pathlib import Path

from sqlalchemy import func, select

from streamwise.model import RawRecord, Stage, Transition, WorkItem
from streamwise.normalize.ingest import import_files, renormalize
from streamwise.store import Database
from tests.helpers import ORG_YAML, apply_org, write_dataset


def test_mapping_change_is_reflected_after_renormalize(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    with database.transaction() as session:
        import_files(session, [write_dataset(tmp_path / "data")], "files")
    with database.sessions() as session:
        raw_before = session.scalar(select(func.count()).select_from(RawRecord))

    # Bugs become debt instead of defects, and "Ready for Test" moves to its own waiting stage.
    changed = ORG_YAML.replace(
        "{label: security, flow_item_type: risk}", "{label: security, flow_item_type: debt}"
    )
    changed = changed.replace(
        "        statuses: [{status: Ready for Test, flow_state: waiting}, In Test]",
        "        statuses: [In Test]\n"
        "      - {name: Queue, flow_state: waiting, statuses: [Ready for Test]}",
    )
    apply_org(database, changed)
    with database.sessions() as session:
        item = session.scalars(select(WorkItem).where(WorkItem.key == "SHOP-2")).one()
        assert item.flow_item_type == "risk"  # not re-mapped until renormalize runs

    with database.transaction() as session:
        reports = renormalize(session)
    assert reports["files"].counts["work_items"] == 4
    with database.sessions() as session:
        stages = dict(session.execute(select(Stage.id, Stage.name)).all())
        item = session.scalars(select(WorkItem).where(WorkItem.key == "SHOP-2")).one()
        assert item.flow_item_type == "debt"
        steps = session.scalars(
            select(Transition).where(Transition.work_item_id == item.id).order_by(Transition.at)
        ).all()
        assert stages[steps[1].to_stage_id] == "Queue"
        assert steps[1].to_flow_state == "waiting"
        # Nothing was fetched or stored: raw records are untouched.
        assert session.scalar(select(func.count()).select_from(RawRecord)) == raw_before


def test_renormalize_twice_is_stable(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    with database.transaction() as session:
        import_files(session, [write_dataset(tmp_path / "data")], "files")

    def snapshot() -> list[tuple[object, ...]]:
        with database.sessions() as session:
            return [
                tuple(r)
                for r in session.execute(select(*WorkItem.__table__.columns).order_by(WorkItem.id))
            ]

    before = snapshot()
    with database.transaction() as session:
        renormalize(session)
    assert snapshot() == before
