"""The portfolio's per-stream, per-day roll-ups: the right records on the right days, and
every import keeps them exactly as a full rebuild would write them."""

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import delete, func, select, update

from streamwise.demo.loader import load_demo
from streamwise.derive.rollups import _without, refresh_deployment_days, refresh_item_days
from streamwise.derive.run import derive_changed
from streamwise.ingest import import_files
from streamwise.model import (
    Deployment,
    Stage,
    StreamDayDeployments,
    StreamDayItems,
    Transition,
    ValueStream,
)
from streamwise.model.packed import (
    DONE_ITEM,
    DONE_STAGE_WAITING,
    LEAD_TIME,
    PRODUCTION_DEPLOYMENT,
    STARTED_ITEM,
)
from streamwise.store import Database
from tests.helpers import (
    DEPLOYMENTS,
    ORG_YAML,
    apply_org,
    transition_rows,
    write_csv,
    write_dataset,
)


def _at(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


def _day(text: str) -> int:
    return int(_at(text) // 86_400)


Rows = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def _rollups(database: Database) -> Rows:
    with database.sessions() as session:
        items = sorted(
            tuple(row)
            for row in session.execute(
                select(
                    StreamDayItems.value_stream_id,
                    StreamDayItems.day,
                    StreamDayItems.done_items,
                    StreamDayItems.done_stage_waiting,
                    StreamDayItems.started_items,
                )
            )
        )
        deployments = sorted(
            tuple(row)
            for row in session.execute(
                select(
                    StreamDayDeployments.value_stream_id,
                    StreamDayDeployments.day,
                    StreamDayDeployments.deployments,
                    StreamDayDeployments.lead_times,
                )
            )
        )
    return items, deployments


def _rebuilt(database: Database) -> Rows:
    """The roll-ups a full rebuild from the fact tables writes."""
    with database.transaction() as session:
        refresh_item_days(session)
        refresh_deployment_days(session)
    return _rollups(database)


def _ids(database: Database) -> tuple[int, int]:
    with database.sessions() as session:
        shop = session.scalar(select(ValueStream.id).where(ValueStream.key == "shop"))
        testing = session.scalar(select(Stage.id).where(Stage.name == "Testing"))
    assert shop is not None and testing is not None
    return shop, testing


def _import(database: Database, directory: Path) -> None:
    with database.transaction() as session:
        import_files(session, [directory], "files")


@pytest.fixture
def loaded(database: Database, tmp_path: Path) -> Database:
    apply_org(database, ORG_YAML)
    _import(database, write_dataset(tmp_path / "data"))
    return database


def test_import_writes_each_record_on_its_day(loaded: Database) -> None:
    shop, testing = _ids(loaded)
    items, deployments = _rollups(loaded)
    by_day = {(stream, day): rest for stream, day, *rest in items}

    # SHOP-1: started 03-03 10:00, done 03-07 16:00. Active: 24 h + 6 h + 19 h + 7 h; waiting
    # in Ready for Test (Testing): 23 h + 23 h (the blocked stretch is inside the first).
    done, waiting, _ = by_day[(shop, _day("2025-03-07T16:00:00"))]
    done_records = np.frombuffer(done, DONE_ITEM)
    assert done_records.tolist() == [(_at("2025-03-07T16:00:00"), 367_200.0, 201_600.0, 165_600.0)]
    assert np.frombuffer(waiting, DONE_STAGE_WAITING).tolist() == [
        (_at("2025-03-07T16:00:00"), testing, 165_600.0)
    ]
    started_1 = np.frombuffer(by_day[(shop, _day("2025-03-03T10:00:00"))][2], STARTED_ITEM)
    assert started_1.tolist() == [(_at("2025-03-03T10:00:00"), _at("2025-03-07T16:00:00"))]
    started_2 = np.frombuffer(by_day[(shop, _day("2025-03-04T09:00:00"))][2], STARTED_ITEM)
    assert started_2["started_at"].tolist() == [_at("2025-03-04T09:00:00")]
    assert np.isnan(started_2["ended_at"]).all()  # SHOP-2 is still in test

    # d1 (production, success, 03-05 12:10) failed through incident i1, resolved 14:00;
    # it shipped commit a (03-03 11:05) and commit b (03-04 11:00). d0 is staging: no record.
    assert [(stream, day) for stream, day, *_ in deployments] == [
        (shop, _day("2025-03-05T12:10:00"))
    ]
    shipped = np.frombuffer(deployments[0][2], PRODUCTION_DEPLOYMENT)
    assert shipped.tolist() == [(_at("2025-03-05T12:10:00"), 1, 1, 0, 6_600.0)]
    leads = np.frombuffer(deployments[0][3], LEAD_TIME)
    assert sorted(leads["lead_time_s"].tolist()) == [90_600.0, 176_700.0]

    assert (items, deployments) == _rebuilt(loaded)


def test_a_reopened_item_and_a_failed_deployment_move_to_their_new_days(
    loaded: Database, tmp_path: Path
) -> None:
    shop, _ = _ids(loaded)
    changed = tmp_path / "changed"
    reopened = [
        *transition_rows(),
        {
            "item": "SHOP-1",
            "at": "2025-03-08T09:00:00Z",
            "event": "status",
            "from_status": "Done",
            "to_status": "In Progress",
            "actor": "bob",
        },
        {
            "item": "SHOP-1",
            "at": "2025-03-10T16:00:00Z",
            "event": "status",
            "from_status": "In Progress",
            "to_status": "Done",
            "actor": "bob",
        },
    ]
    write_csv(changed / "transitions.csv", reopened)
    write_csv(
        changed / "deployments.csv",
        [{**row, "status": "failed"} if row["id"] == "d1" else row for row in DEPLOYMENTS],
    )
    _import(loaded, changed)

    items, deployments = _rollups(loaded)
    by_day = {(stream, day): rest for stream, day, *rest in items}
    assert (shop, _day("2025-03-07T16:00:00")) not in by_day  # nothing else happened that day
    done = np.frombuffer(by_day[(shop, _day("2025-03-10T16:00:00"))][0], DONE_ITEM)
    assert done["done_at"].tolist() == [_at("2025-03-10T16:00:00")]
    assert done["flow_time_s"].tolist() == [_at("2025-03-10T16:00:00") - _at("2025-03-03T10:00")]
    started = np.frombuffer(by_day[(shop, _day("2025-03-03T10:00:00"))][2], STARTED_ITEM)
    assert started["ended_at"].tolist() == [_at("2025-03-10T16:00:00")]

    shipped = np.frombuffer(deployments[0][2], PRODUCTION_DEPLOYMENT)
    assert shipped[["succeeded", "failed"]].tolist() == [(0, 1)]
    assert deployments[0][3] == b""  # a failed deployment ships nothing

    assert (items, deployments) == _rebuilt(loaded)


def test_a_day_whose_records_are_out_of_step_is_rebuilt_from_the_facts(
    loaded: Database, tmp_path: Path
) -> None:
    shop, _ = _ids(loaded)
    with loaded.transaction() as session:  # lose the day SHOP-1 was done on
        session.execute(
            delete(StreamDayItems).where(
                StreamDayItems.value_stream_id == shop,
                StreamDayItems.day == _day("2025-03-07T16:00:00"),
            )
        )
    reopened = [
        *transition_rows(),
        {"item": "SHOP-1", "at": "2025-03-08T09:00:00Z", "event": "status",
         "from_status": "Done", "to_status": "In Progress", "actor": "bob"},
    ]  # fmt: skip
    write_csv(tmp_path / "changed" / "transitions.csv", reopened)
    _import(loaded, tmp_path / "changed")
    assert _rollups(loaded) == _rebuilt(loaded)


def test_taking_records_out_takes_one_occurrence_each() -> None:
    stored = np.array([(1.0, 2.0), (1.0, 2.0), (3.0, np.nan)], dtype=STARTED_ITEM)
    once = _without(stored, np.array([(1.0, 2.0)], dtype=STARTED_ITEM))
    assert once is not None and once.tolist()[0] == (1.0, 2.0) and len(once) == 2
    nan_out = _without(stored, np.array([(3.0, np.nan)], dtype=STARTED_ITEM))
    assert nan_out is not None and nan_out.tolist() == [(1.0, 2.0), (1.0, 2.0)]
    assert _without(stored, np.array([(5.0, 6.0)], dtype=STARTED_ITEM)) is None


def test_many_changed_items_and_services_keep_the_demo_roll_ups_exact(
    database: Database, tmp_path: Path
) -> None:
    load_demo(database, tmp_path / "files", seed=7, scale=0.03)
    before = _rollups(database)
    assert before == _rebuilt(database)
    rng = np.random.default_rng(3)
    with database.transaction() as session:
        latest = (
            select(Transition.work_item_id, func.max(Transition.id).label("last"))
            .group_by(Transition.work_item_id)
            .subquery()
        )
        pairs = session.execute(select(latest.c.work_item_id, latest.c.last)).all()
        picked = rng.choice(len(pairs), size=min(300, len(pairs)), replace=False)
        items = {int(pairs[i][0]) for i in picked}
        # Each picked item loses its latest transition: done items reopen, others step back.
        session.execute(delete(Transition).where(Transition.id.in_([pairs[i][1] for i in picked])))
        services = sorted(set(session.scalars(select(Deployment.service))))[:2]
        production = select(Deployment.id).where(
            Deployment.service.in_(services), Deployment.is_production.is_(True)
        )
        flipped = list(session.scalars(production.order_by(Deployment.id).limit(40)))[::3]
        session.execute(
            update(Deployment).where(Deployment.id.in_(flipped)).values(status="failed")
        )
        derive_changed(session, items, set(services))
    after = _rollups(database)
    assert after != before  # the change reached the roll-ups …
    assert after == _rebuilt(database)  # … exactly as a rebuild from the facts writes them
