"""Deciding what to derive: what changed, what is missing, or everything."""

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from streamwise.derive.deployments import derive_deployments
from streamwise.derive.items import clear_item_facts, derive_items, items_without_facts
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
) -> DeriveReport:
    """Recompute facts for the items and services a normalisation run touched."""
    report = DeriveReport()
    if item_ids:
        report.items = derive_items(session, item_ids, progress)
    if services:
        report.deployments = derive_deployments(session, services)
    return report


def derive_missing(session: Session, progress: ProgressSink | None = None) -> DeriveReport:
    """Derive what has no facts yet (data loaded before facts existed, or an interrupted run)."""
    report = DeriveReport()
    missing = items_without_facts(session)
    if missing:
        report.items = derive_items(session, missing, progress)
    services = set(
        session.scalars(
            select(Deployment.service)
            .distinct()
            .outerjoin(DeploymentFact, DeploymentFact.deployment_id == Deployment.id)
            .where(DeploymentFact.deployment_id.is_(None))
        )
    )
    if services:
        report.deployments = derive_deployments(session, services)
    return report


def derive_all(session: Session, progress: ProgressSink | None = None) -> DeriveReport:
    """Throw all facts away and derive them again from the domain rows."""
    progress = progress or NoProgress()
    clear_item_facts(session)
    return DeriveReport(
        items=derive_items(session, None, progress, fresh=True),
        deployments=derive_deployments(session, None),
    )
