"""Deriving a service from a point on gives exactly the facts of deriving it whole."""

from datetime import timedelta
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy import func, select, update

from streamwise.demo.loader import load_demo
from streamwise.derive.deployments import deployment_window, derive_deployments
from streamwise.derive.rollups import refresh_deployment_days
from streamwise.derive.run import derive_changed
from streamwise.derive.timeline import to_micros
from streamwise.model import (
    ChangeFact,
    Deployment,
    DeploymentChange,
    DeploymentFact,
    Incident,
    Source,
    StreamDayDeployments,
)
from streamwise.store import Database


def _facts(database: Database) -> tuple[list[Any], list[Any], list[Any]]:
    with database.sessions() as session:
        deployments = sorted(
            tuple(row)
            for row in session.execute(
                select(*[c for c in DeploymentFact.__table__.c])  # type: ignore[attr-defined]
            )
        )
        changes = sorted(
            tuple(row)[1:]  # without the generated id
            for row in session.execute(
                select(*[c for c in ChangeFact.__table__.c])  # type: ignore[attr-defined]
            )
        )
        rollups = sorted(
            tuple(row)
            for row in session.execute(
                select(StreamDayDeployments).with_only_columns(*StreamDayDeployments.__table__.c)
            )
        )  # type: ignore[attr-defined]
    return deployments, changes, rollups


def _whole(database: Database) -> tuple[list[Any], list[Any], list[Any]]:
    with database.transaction() as session:
        derive_deployments(session, None)
        refresh_deployment_days(session)
    return _facts(database)


def test_a_window_starts_after_the_success_before_the_last_one_before_the_change(
    database: Database, tmp_path: Path
) -> None:
    load_demo(database, tmp_path / "files", seed=5, scale=0.03)
    with database.sessions() as session:
        service = session.scalars(
            select(Deployment.service).group_by(Deployment.service).order_by(func.count().desc())
        ).first()
        assert service is not None
        production = session.execute(
            select(Deployment.id, Deployment.status, Deployment.finished_at)
            .where(Deployment.service == service, Deployment.is_production.is_(True))
            .where(Deployment.finished_at.is_not(None))
            .order_by(Deployment.finished_at, Deployment.id)
        ).all()
        successes = [row for row in production if row.status == "success"]
        since = successes[-3].finished_at + timedelta(seconds=1)
        window = deployment_window(session, service, to_micros(since))
        assert window is not None
        # After the success two before the last one before ``since``: the last three.
        first = successes[-4]
        later = [
            row.id
            for row in production
            if (row.finished_at, row.id) > (first.finished_at, first.id)
        ]
        assert set(later) <= set(window)
        assert first.id not in window
        early = to_micros(successes[1].finished_at)
        assert deployment_window(session, service, early) is None  # one success before: all


def test_changes_derived_from_a_point_on_equal_a_whole_derive(
    database: Database, tmp_path: Path
) -> None:
    load_demo(database, tmp_path / "files", seed=5, scale=0.03)
    rng = np.random.default_rng(4)
    with database.sessions() as session:
        services = list(
            session.scalars(select(Deployment.service).distinct().order_by(Deployment.service))
        )
    for round_number in range(4):
        with database.transaction() as session:
            service = services[int(rng.integers(len(services)))]
            production = session.execute(
                select(Deployment.id, Deployment.started_at, Deployment.finished_at)
                .where(Deployment.service == service, Deployment.is_production.is_(True))
                .where(Deployment.finished_at.is_not(None))
                .order_by(Deployment.finished_at)
            ).all()
            picked = production[int(rng.integers(len(production) // 2, len(production)))]
            if round_number % 2 == 0:  # a deployment fails after all
                session.execute(
                    update(Deployment).where(Deployment.id == picked.id).values(status="failed")
                )
            else:  # an incident now blames it
                source_id = session.scalars(select(Source.id)).first()
                session.add(
                    Incident(
                        source_id=source_id,
                        external_id=f"window-{round_number}",
                        title="late blame",
                        service=service,
                        opened_at=picked.finished_at + timedelta(minutes=5),
                        caused_by_deployment_id=picked.id,
                        caused_by_method="explicit",
                    )
                )
            # It also lists a commit shipped long before: that one must not count again.
            shipped = session.execute(
                select(DeploymentChange.commit_sha, DeploymentChange.commit_id)
                .where(
                    DeploymentChange.deployment_id.in_(
                        [row.id for row in production[: len(production) // 4]]
                    ),
                    DeploymentChange.commit_id.is_not(None),
                )
                .limit(1)
            ).first()
            assert shipped is not None
            session.add(
                DeploymentChange(
                    deployment_id=picked.id, commit_sha=shipped[0], commit_id=shipped[1]
                )
            )
            session.flush()
            window = deployment_window(session, service, to_micros(picked.started_at))
            everything = session.scalar(select(func.count()).where(Deployment.service == service))
            assert window is not None and len(window) < (everything or 0) / 2  # not all of it
            derive_changed(session, set(), {service}, since={service: picked.started_at})
        windowed = _facts(database)
        assert windowed == _whole(database), round_number
