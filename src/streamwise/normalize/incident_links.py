"""Which deployment caused an incident.

A tool that names the deployment (a CDEvents ``causedBy``, a file's ``caused_by`` column)
gives an *explicit* link, resolved by external id in every source. Where it names none, the
organisation's rule (``linking.incident_deployment_rule``, docs/connectors.md) ties the
incident to the latest production deployment of its service that finished before the incident
opened, within ``linking.incident_deployment_within_hours``. Every link keeps its method, so a
trace can say why the deployment is blamed — and inferred links are recomputed whenever a
service's deployments or incidents change, because a late deployment can change the answer.
"""

from bisect import bisect_right
from collections import defaultdict
from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import bindparam, func, or_, select, update
from sqlalchemy.orm import Session

from streamwise.model import Deployment, Incident
from streamwise.normalize.mappings import IncidentRule
from streamwise.store.bulk import chunks, epoch_micros, fetch_plain, table_of

EXPLICIT = "explicit"
LATEST_PRODUCTION = "latest_production_deployment"
MICROS_PER_HOUR = 3_600_000_000


def link_incidents(
    session: Session, rule: IncidentRule, services: Iterable[str] | None
) -> list[tuple[str, datetime]]:
    """Resolve explicit causes, then apply ``rule`` to the incidents of ``services`` (None:
    every service) that name no cause. Returns the deployments (service, started) that
    gained or lost an incident: their facts change."""
    changed_deployments = _resolve_explicit(session)
    wanted = None if services is None else sorted(set(services))
    if wanted == []:
        return _deployments_started(session, changed_deployments)
    incident = table_of(Incident).c
    query = select(
        incident.id,
        incident.service,
        epoch_micros(incident.opened_at),
        incident.caused_by_deployment_id,
        incident.caused_by_method,
    ).where(incident.caused_by_external_id.is_(None), incident.service.is_not(None))
    rows: list[tuple[int, str, int, int | None, str | None]] = []
    for batch in [None] if wanted is None else chunks(wanted, 900):
        batch_query = query if batch is None else query.where(incident.service.in_(batch))
        rows.extend(fetch_plain(session, batch_query))
    if not rows:
        return _deployments_started(session, changed_deployments)
    finished = _production_finishes(session, sorted({row[1] for row in rows})) if rule.infer else {}
    window = None if rule.within_hours is None else int(rule.within_hours * MICROS_PER_HOUR)
    changes = []
    for incident_id, service, opened, current_id, current_method in rows:
        cause = None
        moments, deployment_ids = finished.get(service, ([], []))
        position = bisect_right(moments, opened)
        if position and (window is None or opened - moments[position - 1] <= window):
            cause = deployment_ids[position - 1]
        method = LATEST_PRODUCTION if cause is not None else None
        if (cause, method) != (current_id, current_method):
            changes.append({"incident": incident_id, "cause": cause, "method": method})
            changed_deployments.update(d for d in (cause, current_id) if d is not None)
    if changes:
        session.execute(
            update(table_of(Incident))
            .where(incident.id == bindparam("incident"))
            .values(
                caused_by_deployment_id=bindparam("cause"), caused_by_method=bindparam("method")
            ),
            changes,
        )
    return _deployments_started(session, changed_deployments)


def _deployments_started(session: Session, ids: set[int]) -> list[tuple[str, datetime]]:
    deployment = table_of(Deployment).c
    found: list[tuple[str, datetime]] = []
    for batch in chunks(sorted(ids), 900):
        query = select(deployment.service, deployment.started_at).where(
            deployment.id.in_(list(batch))
        )
        found.extend((service, started) for service, started in session.execute(query))
    return found


def _resolve_explicit(session: Session) -> set[int]:
    """Tie incidents to the deployments they name once those are stored; returns them."""
    incident = table_of(Incident).c
    deployment = table_of(Deployment).c
    open_ids = list(
        session.scalars(
            select(incident.id).where(
                incident.caused_by_deployment_id.is_(None),
                incident.caused_by_external_id.is_not(None),
            )
        )
    )
    session.execute(
        update(table_of(Incident))
        .where(
            incident.caused_by_deployment_id.is_(None),
            incident.caused_by_external_id.is_not(None),
        )
        .values(
            caused_by_deployment_id=select(func.min(deployment.id))
            .where(deployment.external_id == incident.caused_by_external_id)
            .scalar_subquery()
        )
    )
    session.execute(
        update(table_of(Incident))
        .where(
            incident.caused_by_external_id.is_not(None),
            incident.caused_by_deployment_id.is_not(None),
            or_(incident.caused_by_method.is_(None), incident.caused_by_method != EXPLICIT),
        )
        .values(caused_by_method=EXPLICIT)
    )
    resolved: set[int] = set()
    for batch in chunks(open_ids, 900):
        resolved.update(
            session.scalars(
                select(incident.caused_by_deployment_id).where(
                    incident.id.in_(list(batch)), incident.caused_by_deployment_id.is_not(None)
                )
            )
        )
    return resolved


def _production_finishes(
    session: Session, services: list[str]
) -> dict[str, tuple[list[int], list[int]]]:
    """Per service, finished production deployments in order of finishing (ties by id):
    their finish moments and ids, ready for bisection."""
    deployment = table_of(Deployment).c
    finishes: dict[str, tuple[list[int], list[int]]] = defaultdict(lambda: ([], []))
    for batch in chunks(services, 900):
        query = (
            select(deployment.service, epoch_micros(deployment.finished_at), deployment.id)
            .where(
                deployment.service.in_(batch),
                deployment.is_production.is_(True),
                deployment.finished_at.is_not(None),
            )
            .order_by(deployment.service, deployment.finished_at, deployment.id)
        )
        for service, moment, deployment_id in fetch_plain(session, query):
            moments, ids = finishes[service]
            moments.append(moment)
            ids.append(deployment_id)
    return finishes
