"""Incident ↔ deployment links: explicit where the tool names the deployment, otherwise the
latest production deployment of the service finished before the incident (within the window),
recomputed when a late deployment arrives, switched off by ``explicit_only``."""

from pathlib import Path

from sqlalchemy import select

from streamwise.ingest import import_files, renormalize
from streamwise.model import Deployment, DeploymentFact, Incident
from streamwise.store import Database
from tests.helpers import ORG_YAML, apply_org, write_csv

DEPLOYMENTS = [
    # shop-api in production: d1 finishes 10:00, d2 12:00; staging s1 13:00; d3 never finishes.
    ("d1", "production", "success", "2025-03-03T09:50:00Z", "2025-03-03T10:00:00Z"),
    ("d2", "production", "success", "2025-03-03T11:50:00Z", "2025-03-03T12:00:00Z"),
    ("s1", "staging", "success", "2025-03-03T12:50:00Z", "2025-03-03T13:00:00Z"),
    ("d3", "production", "running", "2025-03-03T13:30:00Z", ""),
]
INCIDENTS = [
    # id, service, opened, caused_by
    ("i-after-d2", "shop-api", "2025-03-03T14:00:00Z", ""),  # d2 (s1 is staging, d3 unfinished)
    ("i-at-d2", "shop-api", "2025-03-03T12:00:00Z", ""),  # finished at the same moment: d2
    ("i-before-all", "shop-api", "2025-03-03T09:00:00Z", ""),  # nothing before it
    ("i-explicit", "shop-api", "2025-03-03T14:00:00Z", "d1"),  # the tool blames d1
    ("i-other-service", "search", "2025-03-03T14:00:00Z", ""),  # no deployments of search
    ("i-next-week", "shop-api", "2025-03-10T12:00:01Z", ""),  # 168 h + 1 s after d2
]


def _deployment_rows(rows: list[tuple[str, str, str, str, str]]) -> list[dict[str, str]]:
    return [
        {
            "id": deployment_id,
            "service": "shop-api",
            "environment": environment,
            "status": status,
            "started_at": started,
            "finished_at": finished,
        }
        for deployment_id, environment, status, started, finished in rows
    ]


def _load(database: Database, directory: Path) -> None:
    with database.transaction() as session:
        import_files(session, [directory], "files")


def _causes(database: Database) -> dict[str, tuple[str | None, str | None]]:
    with database.sessions() as session:
        external = {d.id: d.external_id for d in session.scalars(select(Deployment))}
        return {
            i.external_id: (
                external.get(i.caused_by_deployment_id) if i.caused_by_deployment_id else None,
                i.caused_by_method,
            )
            for i in session.scalars(select(Incident))
        }


def _write(directory: Path, deployments: list[tuple[str, str, str, str, str]]) -> Path:
    write_csv(directory / "deployments.csv", _deployment_rows(deployments))
    write_csv(
        directory / "incidents.csv",
        [
            {"id": i, "service": service, "opened_at": opened, "caused_by": cause}
            for i, service, opened, cause in INCIDENTS
        ],
    )
    return directory


INFERRED = "latest_production_deployment"


def test_incidents_without_a_cause_go_to_the_latest_production_deployment_before_them(
    database: Database, tmp_path: Path
) -> None:
    apply_org(database)
    _load(database, _write(tmp_path / "first", DEPLOYMENTS))
    assert _causes(database) == {
        "i-after-d2": ("d2", INFERRED),
        "i-at-d2": ("d2", INFERRED),
        "i-before-all": (None, None),
        "i-explicit": ("d1", "explicit"),
        "i-other-service": (None, None),
        "i-next-week": (None, None),
    }
    # The derived facts see the link: d2 failed because of an incident; d1 through i-explicit.
    with database.sessions() as session:
        external = {d.id: d.external_id for d in session.scalars(select(Deployment))}
        failed = {
            external[f.deployment_id]: f.failure_reason
            for f in session.scalars(select(DeploymentFact))
            if f.failed
        }
    assert failed == {"d1": "incident", "d2": "incident"}

    # A deployment that arrives late, finished between d2 and the first incident, takes over.
    late = [
        *DEPLOYMENTS,
        ("d-late", "production", "success", "2025-03-03T13:00:00Z", "2025-03-03T13:10:00Z"),
    ]
    _load(database, _write(tmp_path / "second", late))
    causes = _causes(database)
    assert causes["i-after-d2"] == ("d-late", INFERRED)
    assert causes["i-at-d2"] == ("d2", INFERRED)
    assert causes["i-explicit"] == ("d1", "explicit")


def test_the_window_and_the_explicit_only_rule_are_configurable(
    database: Database, tmp_path: Path
) -> None:
    unlimited = ORG_YAML.replace(
        "sources:", "linking: {incident_deployment_within_hours: null}\nsources:", 1
    )
    apply_org(database, unlimited)
    _load(database, _write(tmp_path / "data", DEPLOYMENTS))
    assert _causes(database)["i-next-week"] == ("d2", INFERRED)

    explicit_only = ORG_YAML.replace(
        "sources:", "linking: {incident_deployment_rule: explicit_only}\nsources:", 1
    )
    apply_org(database, explicit_only)
    with database.transaction() as session:
        renormalize(session)
    causes = _causes(database)
    assert causes["i-explicit"] == ("d1", "explicit")
    assert {name for name, (cause, _) in causes.items() if cause} == {"i-explicit"}
