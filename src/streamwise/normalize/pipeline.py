"""Normalisation: the newest raw record of each key → rows of the common data model.

Runs per source, either for the keys an import or sync just changed, or for everything
(``renormalize``). Records are applied kind by kind in dependency order (work items before
their transitions, pull requests before their reviews …), in bulk, inside the caller's
transaction, so a failure leaves the database as it was.
"""

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

from sqlalchemy import and_, bindparam, delete, func, select, update
from sqlalchemy.orm import Session

from streamwise.connectors.base import (
    CommitRecord,
    DeploymentRecord,
    EntityKind,
    FieldError,
    IncidentRecord,
    ParseContext,
    PayloadParser,
    PipelineRunRecord,
    PullRequestRecord,
    Record,
    ReleaseRecord,
    ReviewRecord,
    SprintRecord,
    TransitionRecord,
    WorkItemRecord,
)
from streamwise.model import (
    Base,
    Commit,
    CommitWorkItem,
    Deployment,
    DeploymentChange,
    Incident,
    PipelineRun,
    PullRequest,
    PullRequestCommit,
    PullRequestWorkItem,
    RawRecord,
    Release,
    ReleaseItem,
    Review,
    Source,
    Sprint,
    SprintItem,
    Transition,
    TransitionKind,
    WorkItem,
)
from streamwise.normalize.incident_links import link_incidents
from streamwise.normalize.mappings import IncidentRule, MappingContext
from streamwise.progress import NoProgress, ProgressSink
from streamwise.store.bulk import chunks, id_map, insert_rows, table_of, upsert
from streamwise.store.raw import latest_payloads

STARTED_STATES = ("active", "waiting")
COUNTED_KINDS = (
    "work_items",
    "transitions",
    "commits",
    "pull_requests",
    "reviews",
    "pipeline_runs",
    "deployments",
    "incidents",
    "releases",
    "sprints",
)
R = TypeVar("R", bound=Record)
RECORD_KINDS: dict[type, str] = {
    WorkItemRecord: EntityKind.WORK_ITEM,
    TransitionRecord: EntityKind.TRANSITION,
    CommitRecord: EntityKind.COMMIT,
    PullRequestRecord: EntityKind.PULL_REQUEST,
    ReviewRecord: EntityKind.REVIEW,
    PipelineRunRecord: EntityKind.PIPELINE_RUN,
    DeploymentRecord: EntityKind.DEPLOYMENT,
    IncidentRecord: EntityKind.INCIDENT,
    ReleaseRecord: EntityKind.RELEASE,
    SprintRecord: EntityKind.SPRINT,
}
"""Which kind of model row each neutral record becomes (a payload may hold several)."""
TASK = "normalise"


@dataclass
class NormaliseReport:
    """What a normalisation run did, and what it could not map (for the user to fix)."""

    counts: Counter[str] = field(default_factory=Counter)
    unmapped_statuses: Counter[str] = field(default_factory=Counter)
    unmapped_types: Counter[str] = field(default_factory=Counter)
    unassigned_items: int = 0
    errors: list[str] = field(default_factory=list)
    touched_items: set[int] = field(default_factory=set)
    """Work items whose rows or transitions changed: their facts need deriving."""
    touched_services: set[str] = field(default_factory=set)
    """Services whose deployments, incidents or shipped commits changed."""
    changed_since: dict[str, datetime | None] = field(default_factory=dict)
    """Per touched service, the earliest moment a deployment's facts can have changed from
    (None: any, derive the whole service); a derive may start there."""

    def touch_service(self, service: str, since: datetime | None) -> None:
        self.touched_services.add(service)
        if service in self.changed_since and self.changed_since[service] is None:
            return
        earlier = self.changed_since.get(service, since)
        self.changed_since[service] = (
            None if since is None or earlier is None else min(since, earlier)
        )

    def merge(self, other: "NormaliseReport") -> None:
        self.counts.update(other.counts)
        self.unmapped_statuses.update(other.unmapped_statuses)
        self.unmapped_types.update(other.unmapped_types)
        self.unassigned_items += other.unassigned_items
        self.errors.extend(other.errors)
        self.touched_items |= other.touched_items
        for service in other.touched_services:
            self.touch_service(service, other.changed_since.get(service))


@dataclass
class Parsed:
    """Records of one kind with the raw record id each came from."""

    records: list[tuple[int, Record]] = field(default_factory=list)

    def of(self, kind: type[R]) -> list[tuple[int, R]]:
        return [(raw_id, record) for raw_id, record in self.records if isinstance(record, kind)]


def _affected_ids(rows: Iterable[int | None]) -> list[int]:
    return sorted({row for row in rows if row is not None})


class Normaliser:
    """One run over one source. Create, then call :meth:`run`."""

    def __init__(
        self,
        session: Session,
        source: Source,
        parser: PayloadParser,
        progress: ProgressSink | None = None,
    ) -> None:
        self.session = session
        self.source = source
        self.parser = parser
        self.progress: ProgressSink = progress or NoProgress()
        self.mapping = MappingContext.load(session, source)
        self.parse_context = ParseContext(timezone=ZoneInfo(self.mapping.timezone))
        self.report = NormaliseReport()

    # -- parsing ---------------------------------------------------------------------------
    def _parse(self, keys: dict[str, set[str]] | None) -> dict[str, Parsed]:
        parsed: dict[str, Parsed] = defaultdict(Parsed)
        failed: list[dict[str, Any]] = []
        rows = latest_payloads(self.session, self.source.id, keys)
        for raw_id, kind, external_id, payload in rows:
            try:
                result = self.parser(kind, payload, self.parse_context)
            except FieldError as error:
                message = f"{kind} {external_id}: {error.field}: {error.message}"
                self.report.errors.append(message)
                failed.append({"raw_id": raw_id, "error": message})
                continue
            except KeyError:
                message = f"{kind} {external_id}: no parser for this kind of record"
                self.report.errors.append(message)
                failed.append({"raw_id": raw_id, "error": message})
                continue
            for record in result if isinstance(result, list) else [result]:
                parsed[RECORD_KINDS[type(record)]].records.append((raw_id, record))
        if failed:
            raw = table_of(RawRecord)
            self.session.execute(
                update(raw)
                .where(raw.c.id == bindparam("raw_id"))
                .values(error=bindparam("message")),
                [{"raw_id": row["raw_id"], "message": row["error"]} for row in failed],
            )
        return parsed

    def run(self, keys: dict[str, set[str]] | None = None) -> NormaliseReport:
        """Normalise the newest raw record of ``keys`` (entity kind → external ids), or all."""
        return self.run_parsed(self._parse(keys))

    def run_parsed(self, parsed: dict[str, Parsed]) -> NormaliseReport:
        """Normalise records already parsed from their raw payloads (saves a re-read when the
        caller has just stored them)."""
        parsed = defaultdict(Parsed, parsed)
        self.progress.start(TASK, sum(len(p.records) for p in parsed.values()))
        self._work_items(parsed[EntityKind.WORK_ITEM].of(WorkItemRecord))
        self._transitions(parsed[EntityKind.TRANSITION].of(TransitionRecord))
        self._commits(parsed[EntityKind.COMMIT].of(CommitRecord))
        self._pull_requests(parsed[EntityKind.PULL_REQUEST].of(PullRequestRecord))
        self._reviews(parsed[EntityKind.REVIEW].of(ReviewRecord))
        self._pipeline_runs(parsed[EntityKind.PIPELINE_RUN].of(PipelineRunRecord))
        self._deployments(parsed[EntityKind.DEPLOYMENT].of(DeploymentRecord))
        self._incidents(parsed[EntityKind.INCIDENT].of(IncidentRecord))
        self._releases(parsed[EntityKind.RELEASE].of(ReleaseRecord))
        self._sprints(parsed[EntityKind.SPRINT].of(SprintRecord))
        self.report.counts = +self.report.counts
        relinked = resolve_references(
            self.session,
            set(self.report.counts),  # the kinds that had something to do
            self.mapping.incident_rule,
            self.report.touched_services,
        )
        for service, started in relinked:
            self.report.touch_service(service, started)
        return self.report

    def _base(self, raw_id: int, external_id: str) -> dict[str, Any]:
        return {"source_id": self.source.id, "external_id": external_id, "raw_record_id": raw_id}

    # -- work ------------------------------------------------------------------------------
    def _work_items(self, records: Sequence[tuple[int, WorkItemRecord]]) -> None:
        self._touched_items: set[int] = set()
        if not records:
            return
        mapping = self.mapping
        rows: list[dict[str, Any]] = []
        for raw_id, item in records:
            team_id = mapping.team_id(item.team)
            stream_id = mapping.stream_for_work(item.project, team_id, item.labels)
            flow_item_type = mapping.map_type(item.type, item.labels)
            if flow_item_type is None:
                self.report.unmapped_types[item.type or "(no type)"] += 1
            if stream_id is None:
                self.report.unassigned_items += 1
            row = self._base(raw_id, item.external_id)
            row.update(
                key=item.key,
                title=item.title,
                project=item.project,
                raw_type=item.type,
                flow_item_type=flow_item_type,
                raw_status=item.status,
                created_at=item.created_at,
                updated_at=item.updated_at,
                parent_key=item.parent,
                team_id=team_id,
                value_stream_id=stream_id,
                assignee_id=mapping.person_id(item.assignee),
                labels=item.labels,
                url=item.url,
            )
            rows.append(row)
        upsert(self.session, WorkItem, rows)
        ids = id_map(self.session, WorkItem, self.source.id)
        self._touched_items.update(ids[item.external_id] for _, item in records)
        self.report.counts["work_items"] += len(rows)
        self.progress.advance(TASK, len(rows))

    def _transitions(self, records: Sequence[tuple[int, TransitionRecord]]) -> None:
        items = {
            row.external_id: row
            for row in self.session.execute(
                select(
                    WorkItem.id,
                    WorkItem.external_id,
                    WorkItem.value_stream_id,
                    WorkItem.project,
                    WorkItem.raw_type,
                ).where(WorkItem.source_id == self.source.id)
            )
        }
        rows: list[dict[str, Any]] = []
        for raw_id, transition in records:
            item = items.get(transition.item)
            if item is None:
                self.report.errors.append(
                    f"transition {transition.external_id}: unknown work item {transition.item!r}"
                )
                continue
            from_stage, from_state = self.mapping.map_status(
                item.value_stream_id, transition.from_status, item.project, item.raw_type
            )
            to_stage, to_state = self.mapping.map_status(
                item.value_stream_id, transition.to_status, item.project, item.raw_type
            )
            if transition.event == TransitionKind.STATUS and to_state is None:
                self.report.unmapped_statuses[transition.to_status or "(none)"] += 1
            row = self._base(raw_id, transition.external_id)
            row.update(
                work_item_id=item.id,
                kind=transition.event,
                at=transition.at,
                from_status=transition.from_status,
                to_status=transition.to_status,
                from_stage_id=from_stage,
                to_stage_id=to_stage,
                from_flow_state=from_state,
                to_flow_state=to_state,
                actor=transition.actor,
                actor_id=self.mapping.person_id(transition.actor),
            )
            rows.append(row)
            self._touched_items.add(item.id)
        upsert(self.session, Transition, rows)
        self.report.counts["transitions"] += len(rows)
        self.progress.advance(TASK, len(rows))
        self._derive_item_state(sorted(self._touched_items))
        self.report.touched_items |= self._touched_items

    def _derive_item_state(self, item_ids: list[int]) -> None:
        """Current stage, work started, done and 'first seen mid-flow' from the transitions."""
        if not item_ids:
            return
        updates: list[dict[str, Any]] = []
        for batch in chunks(item_ids, 900):
            items = {
                row.id: row
                for row in self.session.execute(
                    select(
                        WorkItem.id,
                        WorkItem.raw_status,
                        WorkItem.value_stream_id,
                        WorkItem.project,
                        WorkItem.raw_type,
                        WorkItem.created_at,
                        WorkItem.updated_at,
                    ).where(WorkItem.id.in_(list(batch)))
                )
            }
            history: dict[int, list[Any]] = defaultdict(list)
            for row in self.session.execute(
                select(
                    Transition.work_item_id,
                    Transition.at,
                    Transition.from_status,
                    Transition.to_status,
                    Transition.from_flow_state,
                    Transition.to_flow_state,
                )
                .where(
                    Transition.work_item_id.in_(list(batch)),
                    Transition.kind == TransitionKind.STATUS,
                )
                .order_by(Transition.work_item_id, Transition.at, Transition.id)
            ):
                history[row.work_item_id].append(row)
            for item_id, item in items.items():
                steps = history.get(item_id, [])
                status = item.raw_status or (steps[-1].to_status if steps else None)
                stage_id, flow_state = self.mapping.map_status(
                    item.value_stream_id, status, item.project, item.raw_type
                )
                initial_state = steps[0].from_flow_state if steps else flow_state
                mid_flow = initial_state in (*STARTED_STATES, "done")
                started: datetime | None = item.created_at if mid_flow else None
                if not mid_flow:
                    started = next(
                        (step.at for step in steps if step.to_flow_state in STARTED_STATES), None
                    )
                done: datetime | None = None
                if flow_state == "done":
                    done = next(
                        (step.at for step in reversed(steps) if step.to_flow_state == "done"),
                        None,
                    )
                    if done is None:
                        done = steps[-1].at if steps else (item.updated_at or item.created_at)
                updates.append(
                    {
                        "item_id": item_id,
                        "raw_status": status,
                        "stage_id": stage_id,
                        "flow_state": flow_state,
                        "work_started_at": started,
                        "done_at": done,
                        "first_seen_mid_flow": mid_flow,
                    }
                )
        statement = (
            update(table_of(WorkItem))
            .where(table_of(WorkItem).c.id == bindparam("item_id"))
            .values(
                raw_status=bindparam("raw_status"),
                stage_id=bindparam("stage_id"),
                flow_state=bindparam("flow_state"),
                work_started_at=bindparam("work_started_at"),
                done_at=bindparam("done_at"),
                first_seen_mid_flow=bindparam("first_seen_mid_flow"),
            )
        )
        for batch_rows in chunks(updates):
            self.session.execute(statement, list(batch_rows))

    # -- code ------------------------------------------------------------------------------
    def _replace_links(
        self,
        model: type[CommitWorkItem]
        | type[PullRequestWorkItem]
        | type[PullRequestCommit]
        | type[DeploymentChange]
        | type[ReleaseItem]
        | type[SprintItem],
        owner_column: str,
        owner_ids: list[int],
        rows: list[dict[str, Any]],
    ) -> None:
        column = getattr(model, owner_column)
        for batch in chunks(owner_ids, 900):
            self.session.execute(delete(model).where(column.in_(list(batch))))
        insert_rows(self.session, model, rows)

    def _commits(self, records: Sequence[tuple[int, CommitRecord]]) -> None:
        if not records:
            return
        rows = []
        for raw_id, commit in records:
            row = self._base(raw_id, commit.external_id)
            row.update(
                repository=commit.repository,
                sha=commit.sha,
                author=commit.author,
                author_id=self.mapping.person_id(commit.author),
                authored_at=commit.authored_at,
                committed_at=commit.committed_at,
                message=commit.message,
                branch=commit.branch,
                value_stream_id=self.mapping.stream_for_repository(commit.repository),
            )
            rows.append(row)
        upsert(self.session, Commit, rows)
        ids = id_map(self.session, Commit, self.source.id)
        links = []
        for _, commit in records:
            commit_id = ids[commit.external_id]
            for key, method in self._keys_with_method(
                (commit.work_items, "explicit"),
                ([commit.message], "commit_message"),
                ([commit.branch], "branch_name"),
            ):
                links.append({"commit_id": commit_id, "work_item_key": key, "method": method})
        commit_ids = [ids[c.external_id] for _, c in records]
        self._replace_links(CommitWorkItem, "commit_id", commit_ids, links)
        self._services_shipping(commit_ids)
        self.report.counts["commits"] += len(rows)
        self.progress.advance(TASK, len(rows))

    def _services_shipping(self, commit_ids: list[int]) -> None:
        """Services whose deployments list these commits (by sha): their lead times change."""
        commit = table_of(Commit).c
        change = table_of(DeploymentChange).c
        deployment = table_of(Deployment).c
        for batch in chunks(commit_ids, 900):
            shas = select(commit.sha).where(commit.id.in_(list(batch)))
            services = self.session.scalars(
                select(deployment.service)
                .distinct()
                .join(table_of(DeploymentChange), change.deployment_id == deployment.id)
                .where(change.commit_sha.in_(shas))
            )
            for service in services:
                self.report.touch_service(service, None)  # lead times anywhere in its history

    def _keys_with_method(
        self, *sources: tuple[Sequence[str | None], str]
    ) -> list[tuple[str, str]]:
        """Work item keys with the first way each was found (explicit lists are taken whole)."""
        found: dict[str, str] = {}
        for texts, method in sources:
            keys = (
                [t for t in texts if t]
                if method == "explicit"
                else self.mapping.work_item_keys(*texts)
            )
            for key in keys:
                found.setdefault(key, method)
        return list(found.items())

    def _pull_requests(self, records: Sequence[tuple[int, PullRequestRecord]]) -> None:
        self._touched_prs: set[int] = set()
        if not records:
            return
        rows = []
        for raw_id, pr in records:
            row = self._base(raw_id, pr.external_id)
            row.update(
                repository=pr.repository,
                number=pr.number,
                title=pr.title,
                body=pr.body,
                author=pr.author,
                author_id=self.mapping.person_id(pr.author),
                state=pr.state if pr.merged_at is None else "merged",
                created_at=pr.created_at,
                first_review_at=pr.first_review_at,
                approved_at=pr.approved_at,
                merged_at=pr.merged_at,
                closed_at=pr.closed_at,
                merge_commit_sha=pr.merge_commit_sha,
                base_branch=pr.base_branch,
                head_branch=pr.head_branch,
                url=pr.url,
                value_stream_id=self.mapping.stream_for_repository(pr.repository),
            )
            rows.append(row)
        upsert(self.session, PullRequest, rows)
        ids = id_map(self.session, PullRequest, self.source.id)
        pr_ids = [ids[pr.external_id] for _, pr in records]
        commit_links, item_links = [], []
        for _, pr in records:
            pr_id = ids[pr.external_id]
            for sha in dict.fromkeys(pr.commits):
                commit_links.append({"pull_request_id": pr_id, "commit_sha": sha})
            for key, method in self._keys_with_method(
                (pr.work_items, "explicit"),
                ([pr.title], "pr_title"),
                ([pr.head_branch], "branch_name"),
                ([pr.body], "pr_body"),
            ):
                item_links.append(
                    {"pull_request_id": pr_id, "work_item_key": key, "method": method}
                )
        self._replace_links(PullRequestCommit, "pull_request_id", pr_ids, commit_links)
        self._replace_links(PullRequestWorkItem, "pull_request_id", pr_ids, item_links)
        self._touched_prs.update(pr_ids)
        self.report.counts["pull_requests"] += len(rows)
        self.progress.advance(TASK, len(rows))

    def _reviews(self, records: Sequence[tuple[int, ReviewRecord]]) -> None:
        prs = id_map(self.session, PullRequest, self.source.id)
        rows = []
        for raw_id, review in records:
            pr_id = prs.get(review.pull_request_external_id)
            if pr_id is None:
                self.report.errors.append(
                    f"review {review.external_id}: unknown pull request "
                    f"{review.pull_request_external_id}"
                )
                continue
            row = self._base(raw_id, review.external_id)
            row.update(
                pull_request_id=pr_id,
                reviewer=review.reviewer,
                reviewer_id=self.mapping.person_id(review.reviewer),
                state=review.state,
                submitted_at=review.submitted_at,
            )
            rows.append(row)
            self._touched_prs.add(pr_id)
        upsert(self.session, Review, rows)
        self.report.counts["reviews"] += len(rows)
        self.progress.advance(TASK, len(rows))
        self._review_times(sorted(self._touched_prs))
        link = table_of(PullRequestCommit).c
        for batch in chunks(sorted(self._touched_prs), 900):
            commit_ids = self.session.scalars(
                select(link.commit_id).where(
                    link.pull_request_id.in_(list(batch)), link.commit_id.is_not(None)
                )
            ).all()
            self._services_shipping([c for c in commit_ids if c is not None])

    def _review_times(self, pr_ids: list[int]) -> None:
        """First review and approval by someone other than the author, unless the tool said."""
        pr = table_of(PullRequest).c
        review = table_of(Review).c
        not_author = and_(
            review.pull_request_id == pr.id,
            (review.reviewer.is_(None)) | (pr.author.is_(None)) | (review.reviewer != pr.author),
        )
        first_review = select(func.min(review.submitted_at)).where(not_author).scalar_subquery()
        first_approval = (
            select(func.min(review.submitted_at))
            .where(not_author, review.state == "approved")
            .scalar_subquery()
        )
        for batch in chunks(pr_ids, 900):
            in_batch = pr.id.in_(list(batch))
            for column, earliest in (
                (pr.first_review_at, first_review),
                (pr.approved_at, first_approval),
            ):
                self.session.execute(
                    update(table_of(PullRequest))
                    .where(in_batch, earliest.is_not(None))
                    .where(column.is_(None) | (earliest < column))
                    .values({column.name: earliest})
                )

    # -- delivery --------------------------------------------------------------------------
    def _pipeline_runs(self, records: Sequence[tuple[int, PipelineRunRecord]]) -> None:
        rows = []
        for raw_id, run in records:
            row = self._base(raw_id, run.external_id)
            row.update(
                name=run.name,
                repository=run.repository,
                sha=run.sha,
                branch=run.branch,
                status=run.status,
                started_at=run.started_at,
                finished_at=run.finished_at,
                url=run.url,
                value_stream_id=self.mapping.stream_for_repository(run.repository),
            )
            rows.append(row)
        upsert(self.session, PipelineRun, rows)
        self.report.counts["pipeline_runs"] += len(rows)
        self.progress.advance(TASK, len(rows))

    def _deployments(self, records: Sequence[tuple[int, DeploymentRecord]]) -> None:
        if not records:
            return
        rows = []
        for raw_id, deployment in records:
            production = deployment.production
            if production is None:
                production = self.mapping.is_production(deployment.environment)
            row = self._base(raw_id, deployment.external_id)
            row.update(
                service=deployment.service,
                environment=deployment.environment,
                is_production=production,
                version=deployment.version,
                sha=deployment.sha,
                status=deployment.status,
                started_at=deployment.started_at,
                finished_at=deployment.finished_at,
                is_rollback=deployment.rollback_of is not None,
                rollback_of_external_id=deployment.rollback_of,
                url=deployment.url,
                value_stream_id=self.mapping.stream_for_service(deployment.service),
            )
            rows.append(row)
        earliest = self._stored_moments(
            Deployment, "started_at", [d.external_id for _, d in records]
        )
        targets = self._started_by_external_id([d.rollback_of for _, d in records if d.rollback_of])
        upsert(self.session, Deployment, rows)
        ids = id_map(self.session, Deployment, self.source.id)
        changes = [
            {"deployment_id": ids[d.external_id], "commit_sha": sha, "method": d.commits_method}
            for _, d in records
            for sha in dict.fromkeys(d.commits)
        ]
        self._replace_links(
            DeploymentChange, "deployment_id", [ids[d.external_id] for _, d in records], changes
        )
        self.report.counts["deployments"] += len(rows)
        for _, d in records:
            # From its earliest start, before or now, or that of the deployment it rolls back.
            moments = [d.started_at, earliest.get(d.external_id)]
            if d.rollback_of:
                moments.append(targets.get(d.rollback_of, MISSING))
            self.report.touch_service(d.service, _earliest(moments))
        self.progress.advance(TASK, len(rows))

    def _stored_moments(
        self, model: type[Deployment] | type[Incident], column: str, external_ids: list[str]
    ) -> dict[str, datetime]:
        """``column`` of the rows of this source about to be replaced, by external id."""
        table = table_of(model).c
        found: dict[str, datetime] = {}
        for batch in chunks(external_ids, 900):
            query = select(table.external_id, table[column]).where(
                table.source_id == self.source.id, table.external_id.in_(list(batch))
            )
            found.update(
                {external_id: moment for external_id, moment in self.session.execute(query)}
            )
        return found

    def _blamed_deployments(self, external_ids: list[str]) -> list[tuple[str, datetime]]:
        """The deployments these stored incidents of this source are tied to."""
        incident = table_of(Incident).c
        deployment = table_of(Deployment).c
        found: list[tuple[str, datetime]] = []
        for batch in chunks(external_ids, 900):
            query = (
                select(deployment.service, deployment.started_at)
                .join(table_of(Incident), incident.caused_by_deployment_id == deployment.id)
                .where(incident.source_id == self.source.id, incident.external_id.in_(list(batch)))
            )
            found.extend((service, started) for service, started in self.session.execute(query))
        return found

    def _started_by_external_id(self, external_ids: list[str]) -> dict[str, datetime]:
        """When the deployments named (in any source) started; a rollback changes their facts."""
        table = table_of(Deployment).c
        found: dict[str, datetime] = {}
        for batch in chunks(sorted(set(external_ids)), 900):
            query = select(table.external_id, table.started_at).where(
                table.external_id.in_(list(batch))
            )
            for external_id, moment in self.session.execute(query):
                if external_id not in found or moment < found[external_id]:
                    found[external_id] = moment
        return found

    def _incidents(self, records: Sequence[tuple[int, IncidentRecord]]) -> None:
        rows = []
        for raw_id, incident in records:
            row = self._base(raw_id, incident.external_id)
            row.update(
                title=incident.title,
                service=incident.service,
                severity=incident.severity,
                opened_at=incident.opened_at,
                acknowledged_at=incident.acknowledged_at,
                resolved_at=incident.resolved_at,
                caused_by_external_id=incident.caused_by,
                caused_by_deployment_id=None,
                caused_by_method=None,
                url=incident.url,
                value_stream_id=self.mapping.stream_for_service(incident.service),
            )
            rows.append(row)
        external_ids = [i.external_id for _, i in records]
        before = self._stored_moments(Incident, "opened_at", external_ids)
        blamed = self._blamed_deployments(external_ids)
        upsert(self.session, Incident, rows)
        for service, started in blamed:  # untied now, tied again (or not) by resolve_references
            self.report.touch_service(service, started)
        self.report.counts["incidents"] += len(rows)
        for _, incident in records:
            if incident.service:
                since = _earliest([incident.opened_at, before.get(incident.external_id)])
                self.report.touch_service(incident.service, since)
        self.progress.advance(TASK, len(rows))

    def _releases(self, records: Sequence[tuple[int, ReleaseRecord]]) -> None:
        if not records:
            return
        rows = []
        for raw_id, release in records:
            row = self._base(raw_id, release.external_id)
            stream_id = (
                self.mapping.stream_keys.get(release.value_stream) if release.value_stream else None
            )
            if stream_id is None and release.value_stream is None and release.project:
                stream_id = self.mapping.stream_for_work(release.project, None, [])
            row.update(
                name=release.name,
                version=release.version,
                value_stream_id=stream_id,
                planned_at=release.planned_at,
                released_at=release.released_at,
            )
            rows.append(row)
        upsert(self.session, Release, rows)
        self._replace_work_item_keys(Release, ReleaseItem, "release_id", records)
        self.report.counts["releases"] += len(rows)
        self.progress.advance(TASK, len(rows))

    def _replace_work_item_keys(
        self,
        owner: type[Release] | type[Sprint],
        link: type[ReleaseItem] | type[SprintItem],
        owner_column: str,
        records: Sequence[tuple[int, ReleaseRecord | SprintRecord]],
    ) -> None:
        """The work items a release or sprint lists, by key (linked to items once known)."""
        ids = id_map(self.session, owner, self.source.id)
        owners = [ids[record.external_id] for _, record in records]
        keys = [
            {owner_column: owner_id, "work_item_key": key}
            for owner_id, (_, record) in zip(owners, records, strict=True)
            for key in dict.fromkeys(record.work_items)
        ]
        self._replace_links(link, owner_column, owners, keys)

    def _sprints(self, records: Sequence[tuple[int, SprintRecord]]) -> None:
        if not records:
            return
        rows = []
        for raw_id, sprint in records:
            row = self._base(raw_id, sprint.external_id)
            row.update(
                name=sprint.name,
                state=sprint.state,
                board_key=sprint.board_key,
                board=sprint.board,
                goal=sprint.goal,
                start_at=sprint.start_at,
                end_at=sprint.end_at,
                completed_at=sprint.completed_at,
                value_stream_id=(
                    self.mapping.stream_for_work(sprint.project, None, [])
                    if sprint.project
                    else None
                ),
            )
            rows.append(row)
        upsert(self.session, Sprint, rows)
        self._replace_work_item_keys(Sprint, SprintItem, "sprint_id", records)
        self.report.counts["sprints"] += len(rows)
        self.progress.advance(TASK, len(rows))


def resolve_references(
    session: Session,
    touched: set[str] | None = None,
    incident_rule: IncidentRule | None = None,
    services: set[str] | None = None,
) -> list[tuple[str, datetime]]:
    """Fill in references that could only be made once both ends were known; returns the
    deployments (service, started) an incident was tied to or untied from.

    Links are kept by natural key (work item key, commit sha, deployment id) so either end may
    arrive first, from any source; this pass joins the ones still open. ``touched`` names the
    kinds just normalised (table names); only links that could have changed are looked at, and
    each update touches only rows whose reference is still empty.
    """
    touched = set(COUNTED_KINDS) if touched is None else touched
    item = table_of(WorkItem).c
    commit = table_of(Commit).c

    def by_key(key_column: Any) -> Any:
        return select(func.min(item.id)).where(item.key == key_column).scalar_subquery()

    def by_sha(sha_column: Any) -> Any:
        return select(func.min(commit.id)).where(commit.sha == sha_column).scalar_subquery()

    item_links: list[tuple[type[Base], str]] = [
        (CommitWorkItem, "commits"),
        (PullRequestWorkItem, "pull_requests"),
        (ReleaseItem, "releases"),
        (SprintItem, "sprints"),
    ]
    for model, owner in item_links:
        if touched & {"work_items", owner}:
            table = table_of(model).c
            session.execute(
                update(table_of(model))
                .where(table.work_item_id.is_(None))
                .values(work_item_id=by_key(table.work_item_key))
            )
    commit_links: list[tuple[type[Base], str]] = [
        (PullRequestCommit, "pull_requests"),
        (DeploymentChange, "deployments"),
    ]
    for model, owner in commit_links:
        if touched & {"commits", owner}:
            table = table_of(model).c
            session.execute(
                update(table_of(model))
                .where(table.commit_id.is_(None))
                .values(commit_id=by_sha(table.commit_sha))
            )
    relinked: list[tuple[str, datetime]] = []
    if touched & {"deployments", "incidents"}:
        relinked = link_incidents(session, incident_rule or IncidentRule(), services)
    if "work_items" in touched:
        parent = table_of(WorkItem).alias("parent")
        session.execute(
            update(table_of(WorkItem))
            .where(item.parent_id.is_(None), item.parent_key.is_not(None))
            .values(
                parent_id=select(func.min(parent.c.id))
                .where(parent.c.source_id == item.source_id, parent.c.key == item.parent_key)
                .scalar_subquery()
            )
        )
    return relinked


MISSING = datetime.max.replace(tzinfo=None)


def _earliest(moments: Sequence[datetime | None]) -> datetime | None:
    """The earliest of ``moments`` as aware UTC (None present: unknown, so None)."""
    known = []
    for moment in moments:
        if moment is None:
            continue
        if moment is MISSING:
            return None  # a rollback of a deployment not (yet) stored: derive it all
        known.append(moment if moment.tzinfo else moment.replace(tzinfo=ZoneInfo("UTC")))
    return min(known) if known else None
