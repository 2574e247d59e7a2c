"""Importing files end to end: raw first, then the common data model, with hand-checked rows."""

from datetime import UTC, datetime
from pathlib import Path

from sqlalchemy import func, select

from streamwise.model import (
    Commit,
    CommitWorkItem,
    Deployment,
    DeploymentChange,
    Incident,
    PipelineRun,
    PullRequest,
    PullRequestCommit,
    PullRequestWorkItem,
    RawRecord,
    Release,
    ReleaseItem,
    Review,
    Stage,
    Transition,
    WorkItem,
)
from streamwise.normalize.ingest import import_files
from streamwise.store import Database
from tests.helpers import apply_org, write_dataset


def utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def load(database: Database, directory: Path) -> None:
    with database.transaction() as session:
        import_files(session, [directory], "files")


def test_work_items_are_mapped_and_derived(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    load(database, write_dataset(tmp_path / "data"))
    with database.sessions() as session:
        items = {item.key: item for item in session.scalars(select(WorkItem))}
        stages = {stage.id: stage.name for stage in session.scalars(select(Stage))}
        cart = items["SHOP-1"]
        assert cart.flow_item_type == "feature"
        assert stages[cart.stage_id] == "Done" and cart.flow_state == "done"
        assert cart.work_started_at == utc("2025-03-03T10:00:00")
        assert cart.done_at == utc("2025-03-07T16:00:00")
        assert cart.first_seen_mid_flow is False
        assert cart.labels == ["web", "cart"]
        assert cart.parent_id == items["SHOP-100"].id
        assert cart.value_stream_id is not None and cart.team_id is not None

        search = items["SHOP-2"]
        assert search.flow_item_type == "risk"  # the security label wins over type Bug
        assert stages[search.stage_id] == "Testing" and search.flow_state == "active"
        assert search.work_started_at == utc("2025-03-04T09:00:00")
        assert search.done_at is None

        mid_flow = items["SHOP-3"]
        assert mid_flow.first_seen_mid_flow is True
        assert mid_flow.work_started_at == utc("2025-03-05T08:00:00")

        assert items["SHOP-100"].flow_item_type is None  # Epic is not mapped in this config

        transitions = session.scalars(
            select(Transition).where(Transition.work_item_id == cart.id).order_by(Transition.at)
        ).all()
        assert len(transitions) == 9
        assert [t.kind for t in transitions].count("blocked") == 1
        ready = transitions[1]
        assert (ready.from_flow_state, ready.to_flow_state) == ("active", "waiting")
        assert stages[ready.to_stage_id] == "Testing"
        send_back = transitions[5]
        assert stages[send_back.from_stage_id] == "Testing"
        assert stages[send_back.to_stage_id] == "Development"


def test_code_and_delivery_are_linked(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    load(database, write_dataset(tmp_path / "data"))
    with database.sessions() as session:
        items = {item.key: item.id for item in session.scalars(select(WorkItem))}
        commits = {c.sha[0]: c for c in session.scalars(select(Commit))}
        links = {
            (row.commit_id, row.work_item_key): (row.work_item_id, row.method)
            for row in session.scalars(select(CommitWorkItem))
        }
        assert links == {
            (commits["a"].id, "SHOP-1"): (items["SHOP-1"], "commit_message"),
            (commits["a"].id, "SHOP-2"): (items["SHOP-2"], "branch_name"),
            (commits["b"].id, "SHOP-3"): (items["SHOP-3"], "explicit"),
        }
        pr = session.scalars(select(PullRequest)).one()
        assert pr.state == "merged"
        # Ada's own approval does not count; Bob's comment is the first review by someone else.
        assert pr.first_review_at == utc("2025-03-04T09:00:00")
        assert pr.approved_at == utc("2025-03-04T11:00:00")
        assert session.scalar(select(func.count()).select_from(Review)) == 3
        assert {
            (r.commit_sha[0], r.commit_id) for r in session.scalars(select(PullRequestCommit))
        } == {
            ("a", commits["a"].id),
            ("b", commits["b"].id),
        }
        pr_links = {
            (r.work_item_key, r.method) for r in session.scalars(select(PullRequestWorkItem))
        }
        assert pr_links == {("SHOP-1", "pr_title")}

        deployments = {d.external_id: d for d in session.scalars(select(Deployment))}
        assert deployments["d1"].is_production and not deployments["d0"].is_production
        assert deployments["d1"].value_stream_id == session.scalar(
            select(WorkItem.value_stream_id).where(WorkItem.key == "SHOP-1")
        )
        changes = session.scalars(select(DeploymentChange)).all()
        assert {c.commit_id for c in changes} == {commits["a"].id, commits["b"].id}
        incident = session.scalars(select(Incident)).one()
        assert incident.caused_by_deployment_id == deployments["d1"].id
        assert session.scalars(select(PipelineRun)).one().sha == "a" * 40
        release = session.scalars(select(Release)).one()
        assert release.planned_at == datetime(2025, 3, 6, 23, 0, tzinfo=UTC)  # Berlin midnight
        scope = {(r.work_item_key, r.work_item_id) for r in session.scalars(select(ReleaseItem))}
        assert scope == {("SHOP-1", items["SHOP-1"]), ("SHOP-2", items["SHOP-2"])}


def test_every_domain_row_points_back_to_its_raw_record(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    load(database, write_dataset(tmp_path / "data"))
    with database.sessions() as session:
        for model in (WorkItem, Transition, Commit, PullRequest, Review, Deployment, Incident):
            rows = session.execute(select(model.raw_record_id, model.external_id)).all()
            assert rows, model
            for raw_id, external_id in rows:
                raw = session.get(RawRecord, raw_id)
                assert raw is not None and raw.external_id == external_id


def test_importing_twice_changes_nothing(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    directory = write_dataset(tmp_path / "data")
    load(database, directory)

    def snapshot() -> dict[str, list[tuple[object, ...]]]:
        with database.sessions() as session:
            return {
                model.__tablename__: [
                    tuple(row)
                    for row in session.execute(select(*model.__table__.columns).order_by(model.id))
                ]
                for model in (
                    RawRecord,
                    WorkItem,
                    Transition,
                    Commit,
                    CommitWorkItem,
                    PullRequest,
                    Review,
                    Deployment,
                    Incident,
                    ReleaseItem,
                )
            }

    before = snapshot()
    with database.transaction() as session:
        report = import_files(session, [directory], "files")
    assert report.stored == 0 and report.unchanged == report.rows > 0
    assert snapshot() == before


def test_changed_row_appends_raw_and_updates_model(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    directory = write_dataset(tmp_path / "data")
    load(database, directory)
    text = (directory / "work_items.csv").read_text().replace("Cart,Story", "Basket,Story")
    (directory / "work_items.csv").write_text(text)
    with database.transaction() as session:
        report = import_files(session, [directory / "work_items.csv"], "files")
    assert report.stored == 1
    with database.sessions() as session:
        item = session.scalars(select(WorkItem).where(WorkItem.key == "SHOP-1")).one()
        assert item.title == "Basket"
        # Derived fields survive re-normalising the item without its transitions in the import.
        assert item.done_at == utc("2025-03-07T16:00:00")
        versions = session.scalars(
            select(RawRecord.payload).where(RawRecord.external_id == "SHOP-1")
        ).all()
        assert [v["title"] for v in versions] == ["Cart", "Basket"]


def test_code_arriving_before_work_items_is_linked_later(
    database: Database, tmp_path: Path
) -> None:
    apply_org(database)
    directory = write_dataset(tmp_path / "data")
    with database.transaction() as session:
        import_files(session, [directory / "commits.csv"], "files")
    with database.sessions() as session:
        assert session.scalars(select(CommitWorkItem.work_item_id)).all() == [None] * 3
    with database.transaction() as session:
        import_files(session, [directory / "work_items.csv"], "files")
    with database.sessions() as session:
        assert None not in session.scalars(select(CommitWorkItem.work_item_id)).all()
