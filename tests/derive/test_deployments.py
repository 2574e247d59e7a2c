"""Deployment and change facts of one service, checked by hand.

Moments go in as epoch microseconds (as derive reads them) and come out as the epoch seconds
the fact tables keep."""

from datetime import UTC, datetime
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import select

from streamwise.derive.deployments import (
    DeploymentRow,
    IncidentRow,
    PullRequestTimes,
    derive_service_facts,
)
from streamwise.derive.timeline import from_micros, to_micros
from streamwise.ingest import import_files
from streamwise.model import ChangeFact, DeploymentFact, ItemFact, StageInterval, WorkItem
from streamwise.store import Database
from tests.helpers import apply_org, write_csv, write_dataset

T0 = to_micros(datetime(2025, 5, 5, 9, 0, tzinfo=UTC))


def h(hours: float) -> int:
    """A moment ``hours`` after T0, in epoch microseconds."""
    return T0 + round(hours * 3_600_000_000)


def at(hours: float) -> float:
    """The same moment as stored in the fact tables: epoch seconds."""
    return h(hours) / 1_000_000


def deployment(
    id: int,
    finished: float,
    status: str = "success",
    production: bool = True,
    commits: list[int] | None = None,
    rollback_of: str | None = None,
) -> DeploymentRow[int]:
    return DeploymentRow(
        id=id,
        external_id=f"d{id}",
        service="api",
        environment="production" if production else "staging",
        is_production=production,
        status=status,
        started_at=h(finished - 0.5),
        finished_at=h(finished),
        is_rollback=rollback_of is not None,
        rollback_of=rollback_of,
        value_stream_id=1,
        commits=commits or [],
    )


def test_failures_recovery_rework_and_changes() -> None:
    commit_times = {10: h(-30), 11: h(-20), 12: h(-10), 13: h(5), 14: h(30)}
    pr = PullRequestTimes(
        100, created_at=h(-8), first_review_at=h(-6), merged_at=h(-2), first_commit_at=h(-30)
    )
    rows = [
        deployment(1, 0, commits=[10, 11], production=False),  # staging: never failed/rework
        deployment(2, 1, commits=[10, 11, 12]),  # ships 10, 11, 12
        deployment(3, 10, status="failed", commits=[13]),  # failed status
        deployment(4, 12, commits=[]),  # next success: recovers 3, ships 13 from the failure
        deployment(5, 40, commits=[14]),  # caused an incident resolved 6 h later
        deployment(6, 43, commits=[]),  # started during the incident: rework
        deployment(7, 60, commits=[]),
        deployment(8, 61, commits=[], rollback_of="d7"),  # rollback of 7
    ]
    incidents = [IncidentRow("api", opened_at=h(41), resolved_at=h(47), caused_by=5)]
    facts, changes = derive_service_facts(rows, incidents, commit_times, {10: pr, 11: pr, 12: pr})
    by_id = {fact.deployment_id: fact for fact in facts}

    assert by_id[1].failed is False and by_id[1].is_rework is False
    assert by_id[3].failed and by_id[3].failure_reason == "failed_status"
    assert by_id[3].recovered_at == at(12) and by_id[3].recovery_s == 2 * 3600
    assert by_id[5].failed and by_id[5].failure_reason == "incident"
    assert by_id[5].recovery_s == 7 * 3600  # resolved at +47h, deployed at +40h
    assert by_id[6].is_rework and not by_id[6].failed
    assert by_id[7].failed and by_id[7].failure_reason == "rolled_back"
    assert by_id[7].recovered_at == at(61)  # the rollback is the next successful deployment
    assert by_id[8].is_rework
    assert [by_id[i].change_count for i in (2, 3, 4, 5)] == [3, 0, 1, 1]
    assert by_id[2].finished_at == at(1)

    lead = {c.commit_id: (c.deployment_id, c.lead_time_s) for c in changes}
    assert lead == {
        10: (2, 31 * 3600),
        11: (2, 21 * 3600),
        12: (2, 11 * 3600),
        13: (4, 7 * 3600),
        # 14: committed at +30 h, shipped by deployment 5 at +40 h.
        14: (5, 10 * 3600),
    }
    parts = next(c for c in changes if c.commit_id == 10)
    assert (parts.committed_at, parts.deployed_at) == (at(-30), at(1))
    assert (parts.coding_s, parts.pickup_s, parts.review_s, parts.deploy_s) == (
        22 * 3600,
        2 * 3600,
        4 * 3600,
        3 * 3600,
    )


def test_non_positive_lead_times_are_dropped_but_counted_as_shipped() -> None:
    rows = [deployment(1, 0, commits=[10])]
    facts, changes = derive_service_facts(rows, [], {10: h(1)}, {})
    assert changes == [] and facts[0].change_count == 1


def test_unresolved_incident_leaves_the_failure_unrecovered() -> None:
    rows = [deployment(1, 0), deployment(2, 5)]
    incidents = [IncidentRow("api", opened_at=h(1), resolved_at=None, caused_by=1)]
    facts, _ = derive_service_facts(rows, incidents, {}, {})
    first = next(f for f in facts if f.deployment_id == 1)
    assert first.failed and first.recovered_at is None and first.recovery_s is None


def test_facts_are_derived_at_import_and_follow_changes(database: Database, tmp_path: Path) -> None:
    apply_org(database)
    directory = write_dataset(tmp_path / "data")
    with database.transaction() as session:
        ingested = import_files(session, [directory], "files")
    assert ingested.derived.items == 4 and ingested.derived.deployments == 2
    with database.sessions() as session:
        cart = session.scalars(select(WorkItem).where(WorkItem.key == "SHOP-1")).one()
        fact = session.get(ItemFact, cart.id)
        assert fact is not None
        # Hand-computed from tests/helpers.py: started 03-03 10:00, done 03-07 16:00.
        assert fact.flow_time_s == (4 * 24 + 6) * 3600
        # Active: 03-03 10:00→03-04 10:00 (24h), 03-05 09:00→15:00 (6h),
        # 03-05 15:00→03-06 10:00 (19h), 03-07 09:00→16:00 (7h) = 56h.
        assert fact.active_time_s == 56 * 3600
        assert fact.active_time_s + fact.waiting_time_s == fact.flow_time_s
        assert fact.send_backs == 1
        intervals = session.scalars(
            select(StageInterval).where(StageInterval.work_item_id == cart.id)
        ).all()
        assert sum(1 for i in intervals if i.blocked) == 1
        production = session.scalars(
            select(DeploymentFact).where(DeploymentFact.is_production.is_(True))
        ).one()
        assert production.failed and production.failure_reason == "incident"
        assert production.recovery_s == (14 * 60 - 12 * 60 - 10) * 60  # 12:10 → 14:00
        changes = session.scalars(select(ChangeFact).order_by(ChangeFact.lead_time_s)).all()
        # Commit b at 03-04 11:00 and commit a at 03-03 11:05, deployed 03-05 12:10.
        assert [c.lead_time_s for c in changes] == [(25 * 60 + 10) * 60, (49 * 60 + 5) * 60]
        # PR 7: opened 03-03 12:00, first commit authored 03-03 11:00 → 1 h coding;
        # first review by someone else 03-04 09:00 → 21 h pickup; merged 03-05 10:00 → 25 h
        # review; deployed 03-05 12:10 → 2 h 10 min deploy.
        assert (changes[0].coding_s, changes[0].pickup_s, changes[0].review_s) == (
            3600,
            21 * 3600,
            25 * 3600,
        )
        assert changes[0].deploy_s == 130 * 60

    # Incremental: one changed transition re-derives only that item.
    steps = tmp_path / "more" / "transitions.csv"
    write_csv(
        steps,
        [
            {
                "item": "SHOP-2",
                "at": "2025-03-07T10:00:00Z",
                "from_status": "In Test",
                "to_status": "Done",
            }
        ],
    )
    items = tmp_path / "more" / "work_items.csv"
    write_csv(
        items,
        [
            {
                "key": "SHOP-2",
                "title": "XSS in search",
                "type": "Bug",
                "status": "Done",
                "project": "SHOP",
                "created_at": "2025-03-03T09:30:00Z",
                "team": "alpha",
                "labels": "security",
            }
        ],
    )
    with database.transaction() as session:
        again = import_files(session, [items, steps], "files")
    assert again.derived.items == 1 and again.derived.deployments == 0
    with database.sessions() as session:
        search = session.scalars(select(WorkItem).where(WorkItem.key == "SHOP-2")).one()
        fact = session.get(ItemFact, search.id)
        assert fact is not None and fact.flow_time_s == 3 * 24 * 3600 + 3600


@given(
    starts=st.lists(st.integers(0, 200), min_size=1, max_size=30),
    incidents=st.lists(
        st.tuples(st.integers(0, 200), st.one_of(st.none(), st.integers(0, 50))), max_size=15
    ),
)
def test_rework_matches_a_direct_check(
    starts: list[int], incidents: list[tuple[int, int | None]]
) -> None:
    """Property: the sorted sweep finds 'an incident was open' exactly like checking each."""
    rows = [deployment(n + 1, start + 0.5) for n, start in enumerate(starts)]
    incident_rows = [
        IncidentRow("api", h(opened), None if length is None else h(opened + length), None)
        for opened, length in incidents
    ]
    facts, _ = derive_service_facts(rows, incident_rows, {}, {})
    by_id = {fact.deployment_id: fact for fact in facts}
    for row in rows:
        expected = any(
            i.opened_at <= row.started_at
            and (i.resolved_at is None or row.started_at <= i.resolved_at)
            for i in incident_rows
        )
        assert by_id[row.id].is_rework == expected


def test_aware_datetimes_give_the_same_facts() -> None:
    """Callers building rows by hand (the metrics tests) may pass datetimes instead."""
    commit_times = {10: h(-30), 11: h(-20), 12: h(5)}
    pr = PullRequestTimes(100, h(-8), h(-6), h(-2), h(-30))
    rows = [
        deployment(1, 0, commits=[10]),
        deployment(2, 3, status="failed", commits=[11]),
        deployment(3, 6, commits=[12]),
    ]
    incidents = [IncidentRow("api", h(4), h(5), caused_by=3), IncidentRow("api", h(7), None, 1)]
    micros = derive_service_facts(rows, incidents, commit_times, {10: pr, 11: pr})

    def aware(row: DeploymentRow[int]) -> DeploymentRow[datetime]:
        return DeploymentRow(
            row.id,
            row.external_id,
            row.service,
            row.environment,
            row.is_production,
            row.status,
            from_micros(row.started_at),
            from_micros(row.finished_at),
            row.is_rollback,
            row.rollback_of,
            row.value_stream_id,
            row.commits,
        )

    aware_pr = PullRequestTimes(100, *(from_micros(m) for m in (h(-8), h(-6), h(-2), h(-30))))
    moments = derive_service_facts(
        [aware(row) for row in rows],
        [
            IncidentRow(
                i.service,
                from_micros(i.opened_at),
                None if i.resolved_at is None else from_micros(i.resolved_at),
                i.caused_by,
            )
            for i in incidents
        ],
        {commit_id: from_micros(m) for commit_id, m in commit_times.items()},
        {10: aware_pr, 11: aware_pr},
    )
    assert moments == micros
    facts, changes = micros
    assert len(changes) == 3 and any(fact.failed for fact in facts)
    assert facts[0].finished_at == from_micros(h(0)).timestamp()
