"""Deployments to staging and production, rollbacks, and the incidents they cause.

Each service deploys to staging on its own rhythm; production promotes the newest good staging
build, so a production deployment ships every merged commit since the last good production
deployment. Deploy cadence is drawn in working time (people deploy in office hours); incidents
happen around the clock.
"""

import hashlib
from dataclasses import dataclass
from math import log

import numpy as np
import numpy.typing as npt

from streamwise.demo.clock import MINUTES_PER_DAY, WorkingClock
from streamwise.demo.code import PullRequest
from streamwise.demo.organisation import (
    CI_URL,
    PAGERDUTY_URL,
    PAYMENTS,
    STREAMS,
    ServiceSpec,
    StreamSpec,
)
from streamwise.demo.rows import DraftRow, seconds_of

STAGING_PER_PRODUCTION = 1.5
RAMP_DAYS = 20  # working days over which a change of deploy cadence takes effect
ROLLBACK_SHARE = 0.05
CRISIS_ROLLBACK_SHARE = 0.12  # Payments during its defect wave
FAILED_SHARE = 0.03
STAGING_FAILED_SHARE = 0.07
INCIDENT_AFTER_ROLLBACK = 0.8
INCIDENT_AFTER_SUCCESS = 0.03
BACKGROUND_INCIDENTS_PER_WEEK = 0.1
MIN_DEPLOY_SCALE = 0.25  # below this, DORA figures would rest on a handful of deployments
SEVERITIES = ("SEV1", "SEV2", "SEV3")
SEVERITY_SHARES = (0.15, 0.4, 0.45)


@dataclass
class DeliveryData:
    deployments: list[DraftRow]
    incidents: list[DraftRow]


def deploy_scale(scale: float) -> float:
    """Deployments shrink with the scale, but not below a floor that keeps cadence visible."""
    return max(scale, MIN_DEPLOY_SCALE)


def cadence_minutes(
    rng: np.random.Generator,
    clock: WorkingClock,
    per_week: tuple[float, float],
    scale: float,
) -> npt.NDArray[np.float64]:
    """Deployment instants (working minutes) of a renewal process whose rate may change
    half-way through history; gamma gaps make the rhythm steadier than a Poisson process."""
    days = clock.history_days
    halfway = days // 2
    ramp = np.clip((np.arange(days) - halfway) / RAMP_DAYS + 0.5, 0.0, 1.0)
    per_day = (per_week[0] + (per_week[1] - per_week[0]) * ramp) / 5.0 * scale
    week = np.arange(days) // 5
    per_day = per_day * rng.gamma(10.0, 0.1, int(week[-1]) + 1)[week]
    cumulative = np.concatenate([[0.0], np.cumsum(per_day)])
    total = float(cumulative[-1])
    gaps = rng.gamma(3.0, 1.0 / 3.0, int(total * 1.5) + 20)
    targets = np.cumsum(gaps)
    targets = targets[targets < total]
    day = np.searchsorted(cumulative, targets, side="right") - 1
    fraction = (targets - cumulative[day]) / per_day[day]
    minutes: npt.NDArray[np.float64] = day * MINUTES_PER_DAY + fraction * MINUTES_PER_DAY
    return minutes


@dataclass
class _Build:
    """What a deployment carries: merged PRs up to ``merged_count``, the sha and version."""

    merged_count: int
    sha: str
    version: str


class DeliveryGenerator:
    def __init__(
        self,
        merges: dict[str, list[PullRequest]],
        clock: WorkingClock,
        rng: np.random.Generator,
        scale: float,
        crisis_seconds: float,
    ) -> None:
        self.merges = merges
        self.clock = clock
        self.rng = rng
        self.scale = deploy_scale(scale)
        self.horizon = clock.horizon_seconds
        self.crisis_seconds = crisis_seconds
        self.deployments: list[DraftRow] = []
        self.incidents: list[DraftRow] = []
        self.incident_ids: set[str] = set()

    def generate(self) -> DeliveryData:
        for stream in STREAMS:
            for service in stream.services:
                self._service(stream, service)
        for stream in STREAMS:
            for service in stream.services:
                self._background_incidents(stream, service)
        self.deployments.sort(key=lambda row: (seconds_of(row, "started_at"), str(row["id"])))
        self.incidents.sort(key=lambda row: (seconds_of(row, "opened_at"), str(row["id"])))
        return DeliveryData(self.deployments, self.incidents)

    def _finish(self, started: float, typical_seconds: float) -> float | None:
        finished = started + float(self.rng.lognormal(log(typical_seconds), 0.5))
        return finished if finished < self.horizon else None

    def _row(
        self,
        service: ServiceSpec,
        environment: str,
        number: int,
        build: _Build,
        status: str,
        started: float,
        finished: float | None,
        commits: list[str],
        rollback_of: str | None = None,
    ) -> DraftRow:
        short = "prod" if environment == "production" else "stg"
        deployment_id = f"{service.name}-{short}-{number:04d}"
        if finished is None:
            status = "running"
        row: DraftRow = {
            "id": deployment_id,
            "service": service.name,
            "environment": environment,
            "production": environment == "production",
            "version": build.version,
            "sha": build.sha,
            "status": status,
            "started_at": started,
            "finished_at": finished,
            "commits": commits,
            "rollback_of": rollback_of,
            "url": f"{CI_URL}deployments/{deployment_id}",
        }
        self.deployments.append(row)
        return row

    def _service(self, stream: StreamSpec, service: ServiceSpec) -> None:
        rng = self.rng
        clock = self.clock
        pulls = self.merges.get(service.repository, [])
        merged_at = np.array([p.merged or 0.0 for p in pulls], dtype=np.float64)
        shas = [
            [c.sha for c in p.commits] + [p.merge_commit.sha if p.merge_commit else ""]
            for p in pulls
        ]

        def shipped(after: int, upto: int) -> list[str]:
            return [sha for group in shas[after:upto] for sha in group if sha]

        # The release running when history starts; its commits predate the history.
        before_history = hashlib.sha1(f"{service.name} before history".encode()).hexdigest()

        def build_at(count: int, version: str) -> _Build:
            merge = pulls[count - 1].merge_commit if count else None
            return _Build(count, merge.sha if merge else before_history, version)

        staging_times = clock.to_epoch(
            cadence_minutes(
                rng,
                clock,
                (
                    service.deploys_per_week[0] * STAGING_PER_PRODUCTION,
                    service.deploys_per_week[1] * STAGING_PER_PRODUCTION,
                ),
                self.scale,
            )
        ).tolist()
        production_times = clock.to_epoch(
            cadence_minutes(rng, clock, service.deploys_per_week, self.scale)
        ).tolist()

        staged: list[tuple[float, _Build]] = []  # successful staging deploys: finished, build
        last_staged = 0
        for number, started in enumerate(staging_times, start=1):
            count = int(np.searchsorted(merged_at, started - 300.0, side="right"))
            build = build_at(count, f"1.{number}.0")
            failed = rng.random() < STAGING_FAILED_SHARE
            finished = self._finish(started, 300.0)
            self._row(
                service,
                "staging",
                number,
                build,
                "failed" if failed else "success",
                started,
                finished,
                shipped(last_staged, count),
            )
            if not failed and finished is not None:
                staged.append((finished, build))
                last_staged = count

        staged_finished = np.array([s[0] for s in staged], dtype=np.float64)
        good = _Build(0, before_history, "1.0.0")
        number = 0
        for started in production_times:
            number += 1
            position = int(np.searchsorted(staged_finished, started, side="right")) - 1
            build = staged[position][1] if position >= 0 else good
            if build.merged_count < good.merged_count:
                build = good
            commits = shipped(good.merged_count, build.merged_count)
            finished = self._finish(started, 420.0)
            in_crisis = stream is PAYMENTS and started >= self.crisis_seconds
            roll = rng.random()
            rollback_share = CRISIS_ROLLBACK_SHARE if in_crisis else ROLLBACK_SHARE
            if roll < FAILED_SHARE:
                self._row(
                    service, "production", number, build, "failed", started, finished, commits
                )
                continue
            rollback_at = (
                finished + float(rng.lognormal(log(2400.0), 0.6))
                if finished is not None and roll < FAILED_SHARE + rollback_share
                else None
            )
            if rollback_at is not None and rollback_at < self.horizon:
                bad = self._row(
                    service, "production", number, build, "rolled_back", started, finished, commits
                )
                number += 1
                rollback_finished = self._finish(rollback_at, 240.0)
                self._row(
                    service,
                    "production",
                    number,
                    good,
                    "success",
                    rollback_at,
                    rollback_finished,
                    [],
                    rollback_of=str(bad["id"]),
                )
                if rng.random() < INCIDENT_AFTER_ROLLBACK:
                    assert finished is not None
                    opened = finished + float(rng.uniform(0.1, 0.7)) * (rollback_at - finished)
                    end = rollback_finished or rollback_at
                    self._incident(stream, service, opened, end, str(bad["id"]))
                continue
            row = self._row(
                service, "production", number, build, "success", started, finished, commits
            )
            if finished is not None:
                good = build
                if rng.random() < INCIDENT_AFTER_SUCCESS:
                    opened = finished + float(rng.lognormal(log(3 * 3600.0), 0.8))
                    resolved = opened + float(rng.lognormal(log(5 * 3600.0), 0.8))
                    self._incident(stream, service, opened, resolved, str(row["id"]))

    def _incident_id(self) -> str:
        alphabet = "ABCDEFGHJKLMNPQRSTUVWXYZ0123456789"
        while True:
            picks = self.rng.integers(0, len(alphabet), 6).tolist()
            candidate = "P" + "".join(alphabet[i] for i in picks)
            if candidate not in self.incident_ids:
                self.incident_ids.add(candidate)
                return candidate

    def _incident(
        self,
        stream: StreamSpec,
        service: ServiceSpec,
        opened: float,
        resolved: float,
        caused_by: str | None,
    ) -> None:
        if opened >= self.horizon:
            return
        rng = self.rng
        severity = SEVERITIES[int(rng.choice(3, p=SEVERITY_SHARES))]
        acknowledged = opened + float(
            rng.lognormal(log(300.0 if severity != "SEV1" else 120.0), 0.8)
        )
        resolved = max(resolved, acknowledged + 60.0)
        topic = service.incident_topics[int(rng.integers(0, len(service.incident_topics)))]
        incident_id = self._incident_id()
        self.incidents.append(
            {
                "id": incident_id,
                "title": f"{service.name}: {topic}",
                "service": service.name,
                "severity": severity,
                "opened_at": opened,
                "acknowledged_at": acknowledged if acknowledged < self.horizon else None,
                "resolved_at": resolved if resolved < self.horizon else None,
                "caused_by": caused_by,
                "url": f"{PAGERDUTY_URL}{incident_id}",
            }
        )

    def _background_incidents(self, stream: StreamSpec, service: ServiceSpec) -> None:
        """Outages no deployment caused: load, a cloud provider, an expired certificate."""
        rng = self.rng
        weeks = (self.horizon - self.clock.start_seconds) / (7 * 86400.0)
        count = int(rng.poisson(weeks * BACKGROUND_INCIDENTS_PER_WEEK * self.scale))
        opened = rng.uniform(self.clock.start_seconds, self.horizon, count).tolist()
        durations = rng.lognormal(log(2 * 3600.0), 0.9, count).tolist()
        for k in range(count):
            self._incident(stream, service, opened[k], opened[k] + durations[k], None)
