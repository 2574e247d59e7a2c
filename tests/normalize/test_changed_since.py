"""What a normalisation run tells derive about where each service's deployment facts can have
changed from: the earliest start of a changed deployment (before or after the change), of the
deployment a rollback names, of an incident (before or after) and of the deployments an
incident was tied to or untied from."""

from datetime import UTC, datetime
from pathlib import Path

from streamwise.normalize.ingest import import_files
from streamwise.normalize.pipeline import NormaliseReport
from streamwise.store import Database
from tests.helpers import apply_org, write_csv


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def deployment(id_: str, started: str, finished: str, **extra: str) -> dict[str, str]:
    return {
        "id": id_,
        "service": "shop-api",
        "environment": "production",
        "status": "success",
        "started_at": started,
        "finished_at": finished,
        "rollback_of": "",
        **extra,
    }


BASE = [
    deployment("d1", "2025-03-01T10:00:00Z", "2025-03-01T10:10:00Z"),
    deployment("d2", "2025-03-02T10:00:00Z", "2025-03-02T10:10:00Z"),
    deployment("d3", "2025-03-03T10:00:00Z", "2025-03-03T10:10:00Z"),
]


def load(database: Database, directory: Path, **files: list[dict[str, str]]) -> NormaliseReport:
    for name, rows in files.items():
        write_csv(directory / f"{name}.csv", rows)
    with database.transaction() as session:
        return import_files(session, [directory], "files").normalised


def since(report: NormaliseReport) -> datetime | None:
    moment = report.changed_since["shop-api"]
    return None if moment is None else moment.astimezone(UTC)


def test_moved_and_new_deployments_and_rollbacks(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    load(database, tmp_path / "a", deployments=BASE)
    # d3 now started a day later: from its old start. A new d4 from its own start.
    moved = [*BASE[:2], deployment("d3", "2025-03-04T10:00:00Z", "2025-03-04T10:10:00Z")]
    assert since(load(database, tmp_path / "b", deployments=moved)) == at("2025-03-03T10:00:00")
    added = [*moved, deployment("d4", "2025-03-05T10:00:00Z", "2025-03-05T10:10:00Z")]
    assert since(load(database, tmp_path / "c", deployments=added)) == at("2025-03-05T10:00:00")
    # A rollback of d2: from d2's start. Of a deployment never seen: the whole service.
    rollback = deployment("r1", "2025-03-06T10:00:00Z", "2025-03-06T10:05:00Z", rollback_of="d2")
    report = load(database, tmp_path / "d", deployments=[*added, rollback])
    assert since(report) == at("2025-03-02T10:00:00")
    unknown = deployment("r2", "2025-03-07T10:00:00Z", "2025-03-07T10:05:00Z", rollback_of="zz")
    report = load(database, tmp_path / "e", deployments=[*added, rollback, unknown])
    assert since(report) is None


def test_incidents_and_the_deployments_they_blame(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    load(database, tmp_path / "a", deployments=BASE)
    incident = {"id": "i1", "service": "shop-api", "opened_at": "2025-03-03T12:00:00Z"}
    # Inferred: i1 blames d3 (the latest production deployment before it): from d3's start.
    report = load(database, tmp_path / "b", incidents=[incident])
    assert since(report) == at("2025-03-03T10:00:00")
    # Now it names d1 explicitly: d3 loses it, d1 gains it — from d1's start.
    report = load(database, tmp_path / "c", incidents=[{**incident, "caused_by": "d1"}])
    assert since(report) == at("2025-03-01T10:00:00")
