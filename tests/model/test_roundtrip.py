"""Every table stores and returns what was written; timestamps come back aware UTC."""

from datetime import UTC, datetime, timedelta, timezone

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from streamwise.model import (
    Commit,
    Deployment,
    DeploymentChange,
    Incident,
    Person,
    PersonIdentity,
    PipelineRun,
    PullRequest,
    RawRecord,
    Release,
    Review,
    Source,
    Stage,
    StatusMapping,
    SyncState,
    Team,
    Transition,
    TypeMapping,
    ValueStream,
    WorkItem,
)
from streamwise.store import Database

BERLIN_NOON = datetime(2025, 6, 1, 12, 0, tzinfo=timezone(timedelta(hours=2)))


def test_round_trip_of_the_whole_model(database: Database) -> None:
    with database.transaction() as session:
        source = Source(name="jira", kind="jira", base_url="https://x.test", token_env="JIRA_TOKEN")
        session.add(source)
        session.flush()
        raw = RawRecord(
            source_id=source.id,
            entity_kind="work_item",
            external_id="10001",
            payload={"fields": {"summary": "ünïcode ✓", "n": [1, 2]}},
            content_hash="0" * 64,
        )
        stream = ValueStream(key="shop", name="Shop", selection={"projects": ["SHOP"]})
        session.add_all([raw, stream, SyncState(source_id=source.id, entity_kind="issue")])
        session.flush()
        stage = Stage(value_stream_id=stream.id, position=0, name="Dev", flow_state="active")
        team = Team(key="a", name="A", value_stream_id=stream.id)
        session.add_all([stage, team])
        session.flush()
        person = Person(name="Ada", email="ada@x.test", team_id=team.id)
        person.identities = [PersonIdentity(system="jira", username="ada")]
        session.add_all(
            [
                person,
                StatusMapping(
                    value_stream_id=stream.id,
                    raw_status="Doing",
                    stage_id=stage.id,
                    flow_state="active",
                ),
                TypeMapping(raw_type="Bug", flow_item_type="defect"),
            ]
        )
        item = WorkItem(
            source_id=source.id,
            external_id="10001",
            key="SHOP-1",
            created_at=BERLIN_NOON,
            labels=["a", "b"],
            raw_record_id=raw.id,
            stage_id=stage.id,
            value_stream_id=stream.id,
        )
        session.add(item)
        session.flush()
        session.add(
            Transition(
                source_id=source.id,
                external_id="t1",
                work_item_id=item.id,
                at=BERLIN_NOON,
                to_status="Doing",
                to_flow_state="active",
            )
        )
        commit = Commit(
            source_id=source.id,
            external_id="r@abc",
            repository="r",
            sha="abc",
            authored_at=BERLIN_NOON,
            committed_at=BERLIN_NOON,
        )
        pr = PullRequest(
            source_id=source.id, external_id="r#1", repository="r", number=1, created_at=BERLIN_NOON
        )
        deployment = Deployment(
            source_id=source.id,
            external_id="d1",
            service="api",
            environment="production",
            is_production=True,
            status="success",
            started_at=BERLIN_NOON,
        )
        session.add_all([commit, pr, deployment])
        session.flush()
        session.add_all(
            [
                Review(
                    source_id=source.id,
                    external_id="rv1",
                    pull_request_id=pr.id,
                    state="approved",
                    submitted_at=BERLIN_NOON,
                ),
                DeploymentChange(
                    deployment_id=deployment.id, commit_sha="abc", commit_id=commit.id
                ),
                Incident(
                    source_id=source.id,
                    external_id="i1",
                    opened_at=BERLIN_NOON,
                    caused_by_deployment_id=deployment.id,
                ),
                PipelineRun(
                    source_id=source.id,
                    external_id="p1",
                    name="ci",
                    status="success",
                    started_at=BERLIN_NOON,
                ),
                Release(
                    source_id=source.id, external_id="v1", name="1.0", value_stream_id=stream.id
                ),
            ]
        )

    with database.sessions() as session:
        item = session.scalars(select(WorkItem)).one()
        assert item.created_at == datetime(2025, 6, 1, 10, 0, tzinfo=UTC)
        assert item.created_at.tzinfo == UTC
        assert item.labels == ["a", "b"]
        raw = session.scalars(select(RawRecord)).one()
        assert raw.payload == {"fields": {"summary": "ünïcode ✓", "n": [1, 2]}}
        assert raw.fetched_at.tzinfo == UTC
        person = session.scalars(select(Person)).one()
        assert [(i.system, i.username) for i in person.identities] == [("jira", "ada")]
        stream = session.scalars(select(ValueStream)).one()
        assert [s.name for s in stream.stages] == ["Dev"]
        incident = session.scalars(select(Incident)).one()
        assert incident.caused_by_deployment_id == session.scalars(select(Deployment.id)).one()
        assert session.scalars(select(Source.token_env)).one() == "JIRA_TOKEN"


def test_source_and_external_id_are_unique(database: Database) -> None:
    with database.transaction() as session:
        source = Source(name="s", kind="file")
        session.add(source)
        session.flush()
        source_id = source.id
        session.add(
            WorkItem(source_id=source_id, external_id="1", key="A-1", created_at=BERLIN_NOON)
        )
    with pytest.raises(IntegrityError), database.transaction() as session:
        session.add(
            WorkItem(source_id=source_id, external_id="1", key="A-1", created_at=BERLIN_NOON)
        )


def test_naive_timestamps_are_refused(database: Database) -> None:
    with pytest.raises(Exception, match="naive datetime"), database.transaction() as session:
        source = Source(name="s", kind="file")
        session.add(source)
        session.flush()
        session.add(
            WorkItem(
                source_id=source.id, external_id="1", key="A-1", created_at=datetime(2025, 1, 1)
            )
        )
