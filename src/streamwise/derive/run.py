"""Deciding what to derive: what changed, what is missing, or everything."""

from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from streamwise.derive.deployments import (
    deployment_window,
    derive_deployment_windows,
    derive_deployments,
)
from streamwise.derive.items import clear_item_facts, derive_items, items_without_facts
from streamwise.derive.rollups import (
    deployment_records,
    item_records,
    refresh_deployment_days,
    refresh_item_days,
    update_deployment_days,
    update_item_days,
)
from streamwise.derive.timeline import to_micros
from streamwise.model import Deployment, DeploymentFact
from streamwise.progress import NoProgress, ProgressSink


@dataclass
class DeriveReport:
    items: int = 0
    deployments: int = 0


def derive_changed(
    session: Session,
    item_ids: set[int],
    services: set[str],
    progress: ProgressSink | None = None,
    since: Mapping[str, datetime | None] | None = None,
) -> DeriveReport:
    """Recompute facts for the items and services a normalisation run touched; ``since``
    (per service, from the normalisation report) lets a service be derived from the last
    deployments that can have changed instead of from its beginning."""
    report = DeriveReport()
    if item_ids:
        report.items = _derive_items_and_days(session, item_ids, progress)
    if services:
        report.deployments = _derive_services_and_days(session, services, since or {})
    return report


def _derive_items_and_days(
    session: Session, item_ids: Collection[int], progress: ProgressSink | None
) -> int:
    """Derive items, and swap their old roll-up records for the new ones."""
    before = item_records(session, item_ids)
    count = derive_items(session, item_ids, progress)
    update_item_days(session, before, item_records(session, item_ids))
    return count


def _derive_services_and_days(
    session: Session,
    services: Collection[str],
    since: Mapping[str, datetime | None] | None = None,
) -> int:
    whole: set[str] = set()
    windows: dict[str, list[int]] = {}
    for service in services:
        moment = (since or {}).get(service)
        window = None if moment is None else deployment_window(session, service, to_micros(moment))
        if window is None:
            whole.add(service)
        else:
            windows[service] = window
    window_ids = [deployment_id for ids in windows.values() for deployment_id in ids]
    before = deployment_records(session, whole, window_ids)
    count = derive_deployments(session, whole) + derive_deployment_windows(session, windows)
    update_deployment_days(session, before, deployment_records(session, whole, window_ids))
    return count


def derive_missing(session: Session, progress: ProgressSink | None = None) -> DeriveReport:
    """Derive what has no facts yet (data loaded before facts existed, or an interrupted run)."""
    report = DeriveReport()
    missing = items_without_facts(session)
    if missing:
        report.items = _derive_items_and_days(session, missing, progress)
    services = set(
        session.scalars(
            select(Deployment.service)
            .distinct()
            .outerjoin(DeploymentFact, DeploymentFact.deployment_id == Deployment.id)
            .where(DeploymentFact.deployment_id.is_(None))
        )
    )
    if services:
        report.deployments = _derive_services_and_days(session, services)
    return report


def derive_all(session: Session, progress: ProgressSink | None = None) -> DeriveReport:
    """Throw all facts away and derive them again from the domain rows."""
    progress = progress or NoProgress()
    clear_item_facts(session)
    report = DeriveReport(
        items=derive_items(session, None, progress, fresh=True),
        deployments=derive_deployments(session, None),
    )
    refresh_item_days(session)
    refresh_deployment_days(session)
    return report
