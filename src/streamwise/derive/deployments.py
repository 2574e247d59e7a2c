"""Recompute deployment and change facts for a set of services (DORA's raw material).

Rules (docs/metrics.md):
- only production deployments are failed, recovered or rework; every deployment gets a fact;
- failed: status ``failed`` or ``rolled_back``, or a later rollback names it, or an incident
  names it as its cause;
- recovered at: the latest resolution of the incidents it caused when there are any, otherwise
  the next successful production deployment of the same service;
- rework: a production rollback, or a production deployment started while an incident of its
  service was open (unplanned work to fix production);
- changes: the commits a successful production deployment shipped — its own list plus commits
  listed by failed deployments since the previous successful one, minus those already shipped.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from streamwise.derive.items import epoch
from streamwise.model import (
    ChangeFact,
    Commit,
    Deployment,
    DeploymentChange,
    DeploymentFact,
    Incident,
    PullRequest,
    PullRequestCommit,
)
from streamwise.model.packed import pack_changes
from streamwise.store.bulk import as_utc, chunks, fetch_plain, insert_plain, table_of

FAILED_STATUSES = ("failed", "rolled_back")


@dataclass(slots=True)
class DeploymentRow:
    id: int
    external_id: str
    service: str
    environment: str
    is_production: bool
    status: str
    started_at: datetime
    finished_at: datetime
    is_rollback: bool
    rollback_of: str | None
    value_stream_id: int | None
    commits: list[int] = field(default_factory=list)


@dataclass(slots=True)
class IncidentRow:
    service: str | None
    opened_at: datetime
    resolved_at: datetime | None
    caused_by: int | None


@dataclass(slots=True)
class PullRequestTimes:
    id: int
    created_at: datetime
    first_review_at: datetime | None
    merged_at: datetime | None
    first_commit_at: datetime | None


def _seconds(later: datetime | None, earlier: datetime | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier).total_seconds()


def derive_service_facts(
    deployments: list[DeploymentRow],
    incidents: list[IncidentRow],
    commit_times: dict[int, datetime],
    pull_request_of: dict[int, PullRequestTimes],
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Deployment facts and change facts of ONE service's deployments. Pure."""
    ordered = sorted(deployments, key=lambda d: (d.finished_at, d.id))
    production = [d for d in ordered if d.is_production]
    rolled_back = {d.rollback_of for d in production if d.is_rollback and d.rollback_of}
    caused: dict[int, list[IncidentRow]] = defaultdict(list)
    for incident in incidents:
        if incident.caused_by is not None:
            caused[incident.caused_by].append(incident)

    # Was any incident of the service open at a moment? Sorted by opening, with the latest
    # resolution so far: open at t iff the latest resolution among those opened by t is ≥ t.
    by_opening = sorted(incidents, key=lambda i: i.opened_at)
    openings = [i.opened_at for i in by_opening]
    latest_resolution: list[datetime | None] = []
    latest: datetime | None = None
    still_open = False
    for incident in by_opening:
        still_open = still_open or incident.resolved_at is None
        if incident.resolved_at is not None and (latest is None or incident.resolved_at > latest):
            latest = incident.resolved_at
        latest_resolution.append(None if still_open else latest)

    def incident_open_at(moment: datetime) -> bool:
        index = bisect_right(openings, moment) - 1
        if index < 0:
            return False
        resolution = latest_resolution[index]
        return resolution is None or resolution >= moment

    facts: dict[int, dict[str, Any]] = {}
    for deployment in ordered:
        facts[deployment.id] = {
            "deployment_id": deployment.id,
            "value_stream_id": deployment.value_stream_id,
            "service": deployment.service,
            "environment": deployment.environment,
            "is_production": deployment.is_production,
            "succeeded": deployment.status == "success",
            "finished_at": deployment.finished_at,
            "failed": False,
            "failure_reason": None,
            "recovered_at": None,
            "recovery_s": None,
            "is_rework": False,
            "change_count": 0,
        }

    for index, deployment in enumerate(production):
        fact = facts[deployment.id]
        reason = None
        if deployment.status in FAILED_STATUSES:
            reason = "rolled_back" if deployment.status == "rolled_back" else "failed_status"
        elif deployment.external_id in rolled_back:
            reason = "rolled_back"
        elif caused.get(deployment.id):
            reason = "incident"
        if reason is not None:
            fact["failed"], fact["failure_reason"] = True, reason
            linked = caused.get(deployment.id, [])
            recovered: datetime | None
            if linked:
                resolved = [i.resolved_at for i in linked]
                recovered = None if None in resolved else max(r for r in resolved if r)
            else:
                recovered = next(
                    (
                        later.finished_at
                        for later in production[index + 1 :]
                        if later.status == "success" and later.finished_at >= deployment.finished_at
                    ),
                    None,
                )
            fact["recovered_at"] = recovered
            fact["recovery_s"] = _seconds(recovered, deployment.finished_at)
        fact["is_rework"] = deployment.is_rollback or incident_open_at(deployment.started_at)

    changes: list[dict[str, Any]] = []
    shipped: set[int] = set()
    pending: list[int] = []
    for deployment in production:
        if deployment.status != "success":
            pending.extend(deployment.commits)
            continue
        candidates = [*pending, *deployment.commits]
        pending = []
        count = 0
        for commit_id in dict.fromkeys(candidates):
            if commit_id in shipped:
                continue
            shipped.add(commit_id)
            committed = commit_times.get(commit_id)
            if committed is None:
                continue
            lead = (deployment.finished_at - committed).total_seconds()
            count += 1
            if lead <= 0:
                continue  # clock skew or a bad link; DORA practice drops non-positive times
            pr = pull_request_of.get(commit_id)
            changes.append(
                {
                    "deployment_id": deployment.id,
                    "value_stream_id": deployment.value_stream_id,
                    "service": deployment.service,
                    "commit_id": commit_id,
                    "pull_request_id": pr.id if pr else None,
                    "committed_at": committed,
                    "deployed_at": deployment.finished_at,
                    "lead_time_s": lead,
                    "coding_s": _seconds(pr.created_at, pr.first_commit_at) if pr else None,
                    "pickup_s": _seconds(pr.first_review_at, pr.created_at) if pr else None,
                    "review_s": _seconds(pr.merged_at, pr.first_review_at) if pr else None,
                    "deploy_s": _seconds(deployment.finished_at, pr.merged_at) if pr else None,
                }
            )
        facts[deployment.id]["change_count"] = count
    return list(facts.values()), changes


def derive_deployments(session: Session, services: Iterable[str] | None = None) -> int:
    """Recompute facts for every deployment of ``services`` (all services when None)."""
    deployment = table_of(Deployment).c
    query = select(
        deployment.id,
        deployment.external_id,
        deployment.service,
        deployment.environment,
        deployment.is_production,
        deployment.status,
        deployment.started_at,
        deployment.finished_at,
        deployment.is_rollback,
        deployment.rollback_of_external_id,
        deployment.value_stream_id,
    )
    wanted = None if services is None else sorted(set(services))
    if wanted is not None:
        if not wanted:
            return 0
        query = query.where(deployment.service.in_(wanted))
    # A deployment still running has no outcome yet: it gets its facts once it finishes.
    rows = [DeploymentRow(*row) for row in session.execute(query) if row[7] is not None]
    if not rows:
        _delete_facts(session, wanted)
        return 0
    ids = [row.id for row in rows]
    by_id = {row.id: row for row in rows}
    change = table_of(DeploymentChange).c
    shipped = select(change.deployment_id, change.commit_id).where(change.commit_id.is_not(None))
    if len(ids) > WHOLE_TABLE // 10:
        change_rows = fetch_plain(session, shipped.order_by(change.id))
    else:
        change_rows = []
        for batch in chunks(ids, 900):
            change_rows.extend(
                fetch_plain(
                    session,
                    shipped.where(change.deployment_id.in_(list(batch))).order_by(change.id),
                )
            )
    for deployment_id, commit_id in change_rows:
        if deployment_id in by_id:
            by_id[deployment_id].commits.append(commit_id)
    commit_ids = sorted({c for row in rows for c in row.commits})
    commit_times = _commit_times(session, commit_ids)
    pull_request_of = _pull_requests_of(session, commit_ids)
    incidents = _incidents(session, wanted)

    _delete_facts(session, wanted)
    by_service: dict[str, list[DeploymentRow]] = defaultdict(list)
    for row in rows:
        by_service[row.service].append(row)
    all_facts: list[dict[str, Any]] = []
    all_changes: list[dict[str, Any]] = []
    for service, service_rows in by_service.items():
        facts, changes = derive_service_facts(
            service_rows, incidents.get(service, []), commit_times, pull_request_of
        )
        all_facts.extend(facts)
        all_changes.extend(changes)
    times = ("finished_at", "recovered_at", "committed_at", "deployed_at")
    for fact_row in (*all_facts, *all_changes):
        for name in times:
            if name in fact_row:
                fact_row[name] = epoch(fact_row[name])
    by_deployment: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for change_row in all_changes:
        by_deployment[change_row["deployment_id"]].append(change_row)
    for fact_row in all_facts:
        fact_row["packed_changes"] = pack_changes(by_deployment.get(fact_row["deployment_id"], []))
    insert_plain(session, DeploymentFact, all_facts)
    insert_plain(session, ChangeFact, all_changes)
    return len(all_facts)


def _delete_facts(session: Session, services: list[str] | None) -> None:
    for model in (ChangeFact, DeploymentFact):
        table = table_of(model)
        statement = delete(table)
        if services is not None:
            statement = statement.where(table.c.service.in_(services))
        session.execute(statement)


WHOLE_TABLE = 50_000
"""Above this many commits, one scan of the table beats thousands of IN (…) look-ups."""


def _commit_times(session: Session, commit_ids: list[int]) -> dict[int, datetime]:
    commit = table_of(Commit).c
    query = select(commit.id, commit.committed_at)
    rows: list[tuple[Any, ...]] = []
    if len(commit_ids) > WHOLE_TABLE:
        wanted = set(commit_ids)
        rows = [row for row in fetch_plain(session, query) if row[0] in wanted]
    else:
        for batch in chunks(commit_ids, 900):
            rows.extend(fetch_plain(session, query.where(commit.id.in_(list(batch)))))
    times: dict[int, datetime] = {}
    for commit_id, committed in rows:
        moment = as_utc(committed)
        if moment is not None:
            times[commit_id] = moment
    return times


def _pull_requests_of(session: Session, commit_ids: list[int]) -> dict[int, PullRequestTimes]:
    """The merged pull request each commit came in by (the earliest merged one)."""
    link = table_of(PullRequestCommit).c
    pr = table_of(PullRequest).c
    commit = table_of(Commit).c
    links = select(link.commit_id, link.pull_request_id, pr.merged_at).join(
        table_of(PullRequest), pr.id == link.pull_request_id
    )
    found: list[tuple[Any, ...]] = []
    if len(commit_ids) > WHOLE_TABLE:
        wanted = set(commit_ids)
        found = [row for row in fetch_plain(session, links) if row[0] in wanted]
    else:
        for batch in chunks(commit_ids, 900):
            found.extend(fetch_plain(session, links.where(link.commit_id.in_(list(batch)))))
    # Earliest merge first; unmerged pull requests last.
    found.sort(key=lambda row: (row[2] is None, as_utc(row[2]) or datetime.max.replace(tzinfo=UTC)))
    pr_of_commit: dict[int, int] = {}
    for commit_id, pr_id, _merged in found:
        pr_of_commit.setdefault(commit_id, pr_id)
    pr_ids = sorted(set(pr_of_commit.values()))

    first_commit_query = (
        select(link.pull_request_id, func.min(commit.authored_at))
        .join(table_of(Commit), commit.id == link.commit_id)
        .group_by(link.pull_request_id)
    )
    times_query = select(pr.id, pr.created_at, pr.first_review_at, pr.merged_at)
    first_rows: list[tuple[Any, ...]] = []
    time_rows: list[tuple[Any, ...]] = []
    if len(pr_ids) > WHOLE_TABLE:
        first_rows = fetch_plain(session, first_commit_query)
        time_rows = fetch_plain(session, times_query)
    else:
        for batch in chunks(pr_ids, 900):
            first_rows.extend(
                fetch_plain(
                    session, first_commit_query.where(link.pull_request_id.in_(list(batch)))
                )
            )
            time_rows.extend(fetch_plain(session, times_query.where(pr.id.in_(list(batch)))))
    first_commit = {pr_id: as_utc(first) for pr_id, first in first_rows}
    wanted_prs = set(pr_ids)
    times: dict[int, PullRequestTimes] = {}
    for pr_id, created, first_review, merged in time_rows:
        if pr_id not in wanted_prs:
            continue
        created_at = as_utc(created)
        assert created_at is not None
        times[pr_id] = PullRequestTimes(
            pr_id, created_at, as_utc(first_review), as_utc(merged), first_commit.get(pr_id)
        )
    return {commit_id: times[pr_id] for commit_id, pr_id in pr_of_commit.items()}


def _incidents(session: Session, services: list[str] | None) -> dict[str, list[IncidentRow]]:
    incident = table_of(Incident).c
    query = select(
        incident.service, incident.opened_at, incident.resolved_at, incident.caused_by_deployment_id
    )
    if services is not None:
        query = query.where(incident.service.in_(services))
    grouped: dict[str, list[IncidentRow]] = defaultdict(list)
    for row in session.execute(query):
        grouped[row[0] or ""].append(IncidentRow(*row))
    return grouped
