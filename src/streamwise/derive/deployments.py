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

Moments are integer microseconds since the epoch, read so from the database (see
``derive/timeline.py``); aware datetimes are accepted too, for callers that build rows by hand.
Facts come out as rows in column order with epoch seconds, as the fact tables keep them.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import islice
from typing import Any, Generic, NamedTuple

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from streamwise.derive.items import columns
from streamwise.derive.timeline import MICROS, Moment, to_micros
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
from streamwise.store.bulk import (
    chunks,
    cyclic_gc_paused,
    empty_tables,
    epoch_micros,
    fetch_plain,
    indexes_set_aside,
    insert_tuples,
    table_of,
)

FAILED_STATUSES = ("failed", "rolled_back")


@dataclass(slots=True)
class DeploymentRow(Generic[Moment]):
    id: int
    external_id: str
    service: str
    environment: str
    is_production: bool
    status: str
    started_at: Moment
    finished_at: Moment
    is_rollback: bool
    rollback_of: str | None
    value_stream_id: int | None
    commits: list[int] = field(default_factory=list)


@dataclass(slots=True)
class IncidentRow(Generic[Moment]):
    service: str | None
    opened_at: Moment
    resolved_at: Moment | None
    caused_by: int | None


@dataclass(slots=True)
class PullRequestTimes(Generic[Moment]):
    id: int
    created_at: Moment
    first_review_at: Moment | None
    merged_at: Moment | None
    first_commit_at: Moment | None


class DeploymentFactRow(NamedTuple):
    """A ``deployment_facts`` row (without its packed changes); moments in epoch seconds."""

    deployment_id: int
    value_stream_id: int | None
    service: str
    environment: str
    is_production: bool
    succeeded: bool
    finished_at: float
    failed: bool
    failure_reason: str | None
    recovered_at: float | None
    recovery_s: float | None
    is_rework: bool
    change_count: int


class ChangeFactRow(NamedTuple):
    """A ``change_facts`` row (without its id); moments in epoch seconds."""

    deployment_id: int
    value_stream_id: int | None
    service: str
    commit_id: int
    pull_request_id: int | None
    committed_at: float
    deployed_at: float
    lead_time_s: float
    coding_s: float | None
    pickup_s: float | None
    review_s: float | None
    deploy_s: float | None


def _between(later: int | None, earlier: int | None) -> float | None:
    if later is None or earlier is None:
        return None
    return (later - earlier) / MICROS


def derive_service_facts(
    deployments: Sequence[DeploymentRow[Moment]],
    incidents: Sequence[IncidentRow[Moment]],
    commit_times: Mapping[int, Moment],
    pull_request_of: Mapping[int, PullRequestTimes[Moment]],
) -> tuple[list[DeploymentFactRow], list[ChangeFactRow]]:
    """Deployment facts and change facts of ONE service's deployments. Pure."""
    if not deployments:
        return [], []
    first = deployments[0].finished_at
    if isinstance(first, int):
        return _service_facts(deployments, incidents, commit_times, pull_request_of)
    return _service_facts(
        [_micro_deployment(row) for row in deployments],
        [
            IncidentRow(
                row.service,
                to_micros(row.opened_at),
                None if row.resolved_at is None else to_micros(row.resolved_at),
                row.caused_by,
            )
            for row in incidents
        ],
        {commit_id: to_micros(moment) for commit_id, moment in commit_times.items()},
        {commit_id: _micro_times(pr) for commit_id, pr in pull_request_of.items()},
    )


def _micro_deployment(row: DeploymentRow[Any]) -> DeploymentRow[int]:
    return DeploymentRow(
        row.id,
        row.external_id,
        row.service,
        row.environment,
        row.is_production,
        row.status,
        to_micros(row.started_at),
        to_micros(row.finished_at),
        row.is_rollback,
        row.rollback_of,
        row.value_stream_id,
        row.commits,
    )


def _micro_times(pr: PullRequestTimes[Any]) -> PullRequestTimes[int]:
    return PullRequestTimes(
        pr.id,
        to_micros(pr.created_at),
        None if pr.first_review_at is None else to_micros(pr.first_review_at),
        None if pr.merged_at is None else to_micros(pr.merged_at),
        None if pr.first_commit_at is None else to_micros(pr.first_commit_at),
    )


def _service_facts(
    deployments: Sequence[DeploymentRow[int]],
    incidents: Sequence[IncidentRow[int]],
    commit_times: Mapping[int, int],
    pull_request_of: Mapping[int, PullRequestTimes[int]],
    shipped_before: set[int] | None = None,
) -> tuple[list[DeploymentFactRow], list[ChangeFactRow]]:
    """:func:`derive_service_facts` on microseconds; ``shipped_before``: commits shipped by
    production deployments before these (when deriving a service from a point on)."""
    ordered = sorted(deployments, key=lambda d: (d.finished_at, d.id))
    production = [d for d in ordered if d.is_production]
    rolled_back = {d.rollback_of for d in production if d.is_rollback and d.rollback_of}
    caused: dict[int, list[IncidentRow[int]]] = defaultdict(list)
    for incident in incidents:
        if incident.caused_by is not None:
            caused[incident.caused_by].append(incident)

    # Was any incident of the service open at a moment? Sorted by opening, with the latest
    # resolution so far: open at t iff the latest resolution among those opened by t is ≥ t.
    by_opening = sorted(incidents, key=lambda i: i.opened_at)
    openings = [i.opened_at for i in by_opening]
    latest_resolution: list[int | None] = []
    latest: int | None = None
    still_open = False
    for incident in by_opening:
        still_open = still_open or incident.resolved_at is None
        if incident.resolved_at is not None and (latest is None or incident.resolved_at > latest):
            latest = incident.resolved_at
        latest_resolution.append(None if still_open else latest)

    def incident_open_at(moment: int) -> bool:
        index = bisect_right(openings, moment) - 1
        if index < 0:
            return False
        resolution = latest_resolution[index]
        return resolution is None or resolution >= moment

    # Per production deployment: (failure reason, recovered at) when it failed; rework.
    failures: dict[int, tuple[str, int | None]] = {}
    rework: set[int] = set()
    for index, deployment in enumerate(production):
        reason = None
        if deployment.status in FAILED_STATUSES:
            reason = "rolled_back" if deployment.status == "rolled_back" else "failed_status"
        elif deployment.external_id in rolled_back:
            reason = "rolled_back"
        elif caused.get(deployment.id):
            reason = "incident"
        if reason is not None:
            linked = caused.get(deployment.id, [])
            recovered: int | None
            if linked:
                resolved = [i.resolved_at for i in linked]
                recovered = None if None in resolved else max(r for r in resolved if r is not None)
            else:
                recovered = next(
                    (
                        later.finished_at
                        for later in islice(production, index + 1, None)
                        if later.status == "success" and later.finished_at >= deployment.finished_at
                    ),
                    None,
                )
            failures[deployment.id] = (reason, recovered)
        if deployment.is_rollback or incident_open_at(deployment.started_at):
            rework.add(deployment.id)

    changes: list[ChangeFactRow] = []
    change_counts: dict[int, int] = {}
    shipped: set[int] = set(shipped_before or ())
    pending: list[int] = []
    # A pull request's coding, pickup and review times, worked out once per pull request.
    pr_parts: dict[int, tuple[float | None, float | None, float | None]] = {}
    new = tuple.__new__  # ChangeFactRow(...) without its Python-level constructor
    for deployment in production:
        if deployment.status != "success":
            pending.extend(deployment.commits)
            continue
        candidates = [*pending, *deployment.commits]
        pending = []
        count = 0
        deployed = deployment.finished_at
        deployed_s = deployed / MICROS
        head = (deployment.id, deployment.value_stream_id, deployment.service)
        for commit_id in dict.fromkeys(candidates):
            if commit_id in shipped:
                continue
            shipped.add(commit_id)
            committed = commit_times.get(commit_id)
            if committed is None:
                continue
            count += 1
            if deployed <= committed:
                continue  # clock skew or a bad link; DORA practice drops non-positive times
            times = (committed / MICROS, deployed_s, (deployed - committed) / MICROS)
            pr = pull_request_of.get(commit_id)
            row: tuple[Any, ...]
            if pr is None:
                row = (*head, commit_id, None, *times, None, None, None, None)
            else:
                parts = pr_parts.get(pr.id)
                if parts is None:
                    parts = pr_parts[pr.id] = (
                        _between(pr.created_at, pr.first_commit_at),
                        _between(pr.first_review_at, pr.created_at),
                        _between(pr.merged_at, pr.first_review_at),
                    )
                deploy = _between(deployed, pr.merged_at)
                row = (*head, commit_id, pr.id, *times, *parts, deploy)
            changes.append(new(ChangeFactRow, row))
        change_counts[deployment.id] = count

    facts: list[DeploymentFactRow] = []
    for deployment in ordered:
        finished = deployment.finished_at
        failure = failures.get(deployment.id)
        recovered_at = None if failure is None else failure[1]
        facts.append(
            DeploymentFactRow(
                deployment.id,
                deployment.value_stream_id,
                deployment.service,
                deployment.environment,
                deployment.is_production,
                deployment.status == "success",
                finished / MICROS,
                failure is not None,
                None if failure is None else failure[0],
                None if recovered_at is None else recovered_at / MICROS,
                None if recovered_at is None else (recovered_at - finished) / MICROS,
                deployment.id in rework,
                change_counts.get(deployment.id, 0),
            )
        )
    return facts, changes


DEPLOYMENT_FACT_COLUMNS = (*DeploymentFactRow._fields, "packed_changes")


def derive_deployments(session: Session, services: Iterable[str] | None = None) -> int:
    """Recompute facts for every deployment of ``services`` (all services when None)."""
    # All services: both tables are rewritten whole, their indexes built once at the end.
    tables = (ChangeFact, DeploymentFact) if services is None else ()
    with cyclic_gc_paused(), indexes_set_aside(session, tables):
        return _derive_deployments(session, services)


def _deployment_rows(session: Session, wanted: list[str] | None) -> list[DeploymentRow[int]]:
    """The finished deployments of ``wanted`` services (None: all)."""
    deployment = table_of(Deployment).c
    query = select(
        deployment.id,
        deployment.external_id,
        deployment.service,
        deployment.environment,
        deployment.is_production,
        deployment.status,
        epoch_micros(deployment.started_at),
        epoch_micros(deployment.finished_at),
        deployment.is_rollback,
        deployment.rollback_of_external_id,
        deployment.value_stream_id,
    )
    if wanted is not None:
        query = query.where(deployment.service.in_(wanted))
    # A deployment still running has no outcome yet: it gets its facts once it finishes.
    return [
        DeploymentRow(
            row[0],
            row[1],
            row[2],
            row[3],
            bool(row[4]),
            row[5],
            row[6],
            row[7],
            bool(row[8]),
            row[9],
            row[10],
        )
        for row in fetch_plain(session, query)
        if row[7] is not None
    ]


def _derive_deployments(session: Session, services: Iterable[str] | None) -> int:
    wanted = None if services is None else sorted(set(services))
    if wanted is not None and not wanted:
        return 0
    rows = _deployment_rows(session, wanted)
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
        owner = by_id.get(deployment_id)
        if owner is not None:
            owner.commits.append(commit_id)
    commit_ids = {c for row in rows for c in row.commits}
    if len(commit_ids) > WHOLE_TABLE:
        commit_times, pull_request_of = _commits_from_whole_tables(session, commit_ids)
    else:
        ordered_ids = sorted(commit_ids)
        commit_times = _commit_times(session, ordered_ids)
        pull_request_of = _pull_requests_of(session, ordered_ids)
    incidents = _incidents(session, wanted)

    _delete_facts(session, wanted)
    by_service: dict[str, list[DeploymentRow[int]]] = defaultdict(list)
    for row in rows:
        by_service[row.service].append(row)
    all_facts: list[DeploymentFactRow] = []
    all_changes: list[ChangeFactRow] = []
    for service, service_rows in by_service.items():
        facts, changes = _service_facts(
            service_rows, incidents.get(service, []), commit_times, pull_request_of
        )
        all_facts.extend(facts)
        all_changes.extend(changes)
    _write_facts(session, all_facts, all_changes)
    return len(all_facts)


def _write_facts(
    session: Session, all_facts: list[DeploymentFactRow], all_changes: list[ChangeFactRow]
) -> None:
    # Rows go in in deployment order (each deployment's changes in the order derived): the
    # primary key, the deployment index and the foreign key look-ups then move forward through
    # their B-trees instead of jumping about (change_facts inserts twice as fast on SQLite).
    all_facts.sort(key=lambda fact: fact.deployment_id)
    by_deployment: dict[int, list[ChangeFactRow]] = defaultdict(list)
    for change_row in all_changes:
        by_deployment[change_row.deployment_id].append(change_row)
    ordered_changes: list[ChangeFactRow] = []
    sizes: list[int] = []
    for fact in all_facts:
        own = by_deployment.get(fact.deployment_id, [])
        ordered_changes.extend(own)
        sizes.append(len(own))
    packed = pack_changes(columns(ordered_changes, ChangeFactRow._fields), sizes)
    insert_tuples(
        session,
        DeploymentFact,
        DEPLOYMENT_FACT_COLUMNS,
        [(*fact, blob) for fact, blob in zip(all_facts, packed, strict=True)],
    )
    insert_tuples(session, ChangeFact, ChangeFactRow._fields, ordered_changes)


def deployment_window(session: Session, service: str, since: int) -> list[int] | None:
    """The deployments of ``service`` to derive again when nothing that finished before
    ``since`` (epoch microseconds) changed; None when the whole service must be derived.

    Facts of a deployment depend on later ones (a rollback naming it, the next success that
    recovers it) and on earlier ones (commits pending since the previous success, commits
    already shipped). From the last successful production deployment before ``since`` on,
    facts may change; that one needs the commits pending since the success before it. So the
    window starts after that earlier success, whose facts and everything before stay."""
    rows = _deployment_rows(session, [service])
    ordered = sorted(rows, key=lambda d: (d.finished_at, d.id))
    successes = [
        index
        for index, d in enumerate(ordered)
        if d.is_production and d.status == "success" and d.finished_at < since
    ]
    if len(successes) < 2:
        return None
    return [d.id for d in ordered[successes[-2] + 1 :]]


def derive_deployment_windows(session: Session, windows: Mapping[str, Sequence[int]]) -> int:
    """Derive the deployments :func:`deployment_window` chose, per service, again."""
    done = 0
    with cyclic_gc_paused():
        for service, ids in windows.items():
            done += _derive_window(session, service, set(ids))
    return done


def _derive_window(session: Session, service: str, window: set[int]) -> int:
    rows = _deployment_rows(session, [service])
    inside = [row for row in rows if row.id in window]
    earlier = {row.id for row in rows if row.id not in window and row.is_production}
    by_id = {row.id: row for row in inside}
    change = table_of(DeploymentChange).c
    shas: set[str] = set()
    for batch in chunks(sorted(window), 900):
        query = (
            select(change.deployment_id, change.commit_id, change.commit_sha)
            .where(change.deployment_id.in_(list(batch)), change.commit_id.is_not(None))
            .order_by(change.id)
        )
        for deployment_id, commit_id, sha in fetch_plain(session, query):
            by_id[deployment_id].commits.append(commit_id)
            shas.add(sha)
    # Commits the production deployments before the window shipped (found by their indexed
    # sha): they do not count again, as in a derive of the whole service.
    shipped_before: set[int] = set()
    for batch in chunks(sorted(shas), 900):
        shipped_query = select(change.deployment_id, change.commit_id).where(
            change.commit_sha.in_(list(batch)), change.commit_id.is_not(None)
        )
        shipped_before.update(c for d, c in fetch_plain(session, shipped_query) if d in earlier)
    commit_ids = sorted({c for row in inside for c in row.commits})
    facts, changes = _service_facts(
        inside,
        _incidents(session, [service]).get(service, []),
        _commit_times(session, commit_ids),
        _pull_requests_of(session, commit_ids),
        shipped_before,
    )
    for model in (ChangeFact, DeploymentFact):
        table = table_of(model)
        for batch in chunks(sorted(window), 900):
            session.execute(delete(table).where(table.c.deployment_id.in_(list(batch))))
    _write_facts(session, facts, changes)
    return len(facts)


def _delete_facts(session: Session, services: list[str] | None) -> None:
    if services is None:
        empty_tables(session, (ChangeFact, DeploymentFact))
        return
    for model in (ChangeFact, DeploymentFact):
        table = table_of(model)
        statement = delete(table)
        if services is not None:
            statement = statement.where(table.c.service.in_(services))
        session.execute(statement)


WHOLE_TABLE = 50_000
"""Above this many commits, one scan of the table beats thousands of IN (…) look-ups."""


def _commits_from_whole_tables(
    session: Session, wanted: set[int]
) -> tuple[dict[int, int], dict[int, PullRequestTimes[int]]]:
    """:func:`_commit_times` and :func:`_pull_requests_of` for most commits: one plain scan of
    commits, pull request links and pull requests each, joined here. In SQL the links' joins
    to pull requests and commits cost a random look-up per link, and converting each merge
    time again per link; here every row is read once."""
    commit = table_of(Commit).c
    link = table_of(PullRequestCommit).c
    pr = table_of(PullRequest).c
    commit_rows = fetch_plain(
        session,
        select(commit.id, epoch_micros(commit.committed_at), epoch_micros(commit.authored_at)),
    )
    commit_times = {
        commit_id: committed_at
        for commit_id, committed_at, _authored_at in commit_rows
        if committed_at is not None and commit_id in wanted
    }
    authored = {commit_id: authored_at for commit_id, _committed_at, authored_at in commit_rows}
    del commit_rows
    pr_rows = {
        row[0]: row
        for row in fetch_plain(
            session,
            select(
                pr.id,
                epoch_micros(pr.created_at),
                epoch_micros(pr.first_review_at),
                epoch_micros(pr.merged_at),
            ),
        )
    }
    # Links in id order: on a tie (two pull requests merged at the same moment, or both never)
    # the first link wins, as in the per-batch look-up.
    never = float("inf")
    chosen: dict[int, tuple[float, int]] = {}
    first_commit: dict[int, int] = {}
    for commit_id, pr_id in fetch_plain(
        session, select(link.commit_id, link.pull_request_id).order_by(link.id)
    ):
        authored_at = authored.get(commit_id)
        if authored_at is not None:
            first = first_commit.get(pr_id)
            if first is None or authored_at < first:
                first_commit[pr_id] = authored_at
        if commit_id in wanted:
            pr_row = pr_rows.get(pr_id)
            if pr_row is None:
                continue
            merged = pr_row[3]
            key = never if merged is None else merged
            best = chosen.get(commit_id)
            if best is None or key < best[0]:
                chosen[commit_id] = (key, pr_id)
    times: dict[int, PullRequestTimes[int]] = {}
    pull_request_of: dict[int, PullRequestTimes[int]] = {}
    for commit_id, (_key, pr_id) in chosen.items():
        found = times.get(pr_id)
        if found is None:
            _id, created, first_review, merged = pr_rows[pr_id]
            found = times[pr_id] = PullRequestTimes(
                pr_id, created, first_review, merged, first_commit.get(pr_id)
            )
        pull_request_of[commit_id] = found
    return commit_times, pull_request_of


def _commit_times(session: Session, commit_ids: list[int]) -> dict[int, int]:
    """Commit id → committed at (epoch microseconds), looked up in batches."""
    commit = table_of(Commit).c
    query = select(commit.id, epoch_micros(commit.committed_at))
    times: dict[int, int] = {}
    for batch in chunks(commit_ids, 900):
        for commit_id, moment in fetch_plain(session, query.where(commit.id.in_(list(batch)))):
            if moment is not None:
                times[commit_id] = moment
    return times


def _pull_requests_of(session: Session, commit_ids: list[int]) -> dict[int, PullRequestTimes[int]]:
    """The merged pull request each commit came in by (the earliest merged one), looked up
    in batches (for a few commits; see :func:`_commits_from_whole_tables`)."""
    link = table_of(PullRequestCommit).c
    pr = table_of(PullRequest).c
    commit = table_of(Commit).c
    links = select(link.commit_id, link.pull_request_id, epoch_micros(pr.merged_at)).join(
        table_of(PullRequest), pr.id == link.pull_request_id
    )
    found: list[tuple[Any, ...]] = []
    for batch in chunks(commit_ids, 900):
        found.extend(fetch_plain(session, links.where(link.commit_id.in_(list(batch)))))
    # Earliest merge wins, unmerged pull requests last; on a tie the first one found (as a
    # stable sort by merge time would have it).
    never = float("inf")
    chosen: dict[int, tuple[float, int]] = {}
    for commit_id, pr_id, merged in found:
        key = never if merged is None else merged
        best = chosen.get(commit_id)
        if best is None or key < best[0]:
            chosen[commit_id] = (key, pr_id)
    pr_of_commit = {commit_id: pr_id for commit_id, (_key, pr_id) in chosen.items()}
    pr_ids = sorted(set(pr_of_commit.values()))

    first_commit_query = (
        select(link.pull_request_id, epoch_micros(func.min(commit.authored_at)))
        .join(table_of(Commit), commit.id == link.commit_id)
        .group_by(link.pull_request_id)
    )
    times_query = select(
        pr.id,
        epoch_micros(pr.created_at),
        epoch_micros(pr.first_review_at),
        epoch_micros(pr.merged_at),
    )
    first_rows: list[tuple[Any, ...]] = []
    time_rows: list[tuple[Any, ...]] = []
    for batch in chunks(pr_ids, 900):
        first_rows.extend(
            fetch_plain(session, first_commit_query.where(link.pull_request_id.in_(list(batch))))
        )
        time_rows.extend(fetch_plain(session, times_query.where(pr.id.in_(list(batch)))))
    first_commit: dict[int, int | None] = {pr_id: first for pr_id, first in first_rows}
    times: dict[int, PullRequestTimes[int]] = {}
    for pr_id, created, first_review, merged in time_rows:
        times[pr_id] = PullRequestTimes(
            pr_id, created, first_review, merged, first_commit.get(pr_id)
        )
    return {commit_id: times[pr_id] for commit_id, pr_id in pr_of_commit.items()}


def _incidents(session: Session, services: list[str] | None) -> dict[str, list[IncidentRow[int]]]:
    incident = table_of(Incident).c
    query = select(
        incident.service,
        epoch_micros(incident.opened_at),
        epoch_micros(incident.resolved_at),
        incident.caused_by_deployment_id,
    )
    if services is not None:
        query = query.where(incident.service.in_(services))
    grouped: dict[str, list[IncidentRow[int]]] = defaultdict(list)
    for service, opened, resolved, caused_by in fetch_plain(session, query):
        grouped[service or ""].append(IncidentRow(service, opened, resolved, caused_by))
    return grouped
