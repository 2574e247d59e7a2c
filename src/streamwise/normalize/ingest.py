"""Import files and re-normalise sources: the two ways data enters the model without a sync."""

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from streamwise.connectors.base import EntityKind, ParseContext, ReviewRecord, TransitionRecord
from streamwise.connectors.csvfile.reader import ErrorCollector, ImportRow, read_files
from streamwise.connectors.registry import parser_for
from streamwise.errors import ImportFileError, NotFoundError
from streamwise.model import PullRequest, Source, WorkItem
from streamwise.normalize.pipeline import Normaliser, NormaliseReport, Parsed
from streamwise.progress import NoProgress, Prefixed, ProgressSink
from streamwise.store.organisation import organisation_timezone
from streamwise.store.raw import store_payloads


@dataclass
class ImportReport:
    rows: int = 0
    stored: int = 0
    unchanged: int = 0
    normalised: NormaliseReport = field(default_factory=NormaliseReport)


def find_source(session: Session, name: str) -> Source:
    source = session.scalars(select(Source).where(Source.name == name)).first()
    if source is None:
        known = ", ".join(session.scalars(select(Source.name).order_by(Source.name))) or "none"
        raise NotFoundError(
            f"no source named {name!r} (known: {known}). Add it under `sources:` in "
            "streamwise.yaml and run `streamwise config apply`."
        )
    return source


def _check_references(session: Session, source: Source, rows: list[ImportRow]) -> None:
    """Transitions and reviews must belong to an item / pull request in this import or stored."""
    imported: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        imported[row.file_kind.entity_kind].add(row.record.external_id)
    needs_items = any(isinstance(row.record, TransitionRecord) for row in rows)
    needs_prs = any(isinstance(row.record, ReviewRecord) for row in rows)
    stored_items: set[str] = set()
    stored_prs: set[str] = set()
    if needs_items:
        stored_items = set(
            session.scalars(select(WorkItem.external_id).where(WorkItem.source_id == source.id))
        )
    if needs_prs:
        stored_prs = set(
            session.scalars(
                select(PullRequest.external_id).where(PullRequest.source_id == source.id)
            )
        )
    errors = ErrorCollector()
    for row in rows:
        record = row.record
        if isinstance(record, TransitionRecord):
            if (
                record.item not in imported[EntityKind.WORK_ITEM]
                and record.item not in stored_items
            ):
                errors.add(
                    f"{row.where}, column item: {record.item!r} is not a work item of source "
                    f"{source.name!r} (neither in this import nor stored)"
                )
        elif isinstance(record, ReviewRecord):
            pr_id = record.pull_request_external_id
            if pr_id not in imported[EntityKind.PULL_REQUEST] and pr_id not in stored_prs:
                errors.add(
                    f"{row.where}, column pull_request: {pr_id!r} is not a pull request of "
                    f"source {source.name!r} (neither in this import nor stored)"
                )
    errors.raise_if_any()


def import_files(
    session: Session,
    paths: list[Path],
    source_name: str,
    kind_name: str | None = None,
    progress: ProgressSink | None = None,
) -> ImportReport:
    """Validate every row, store raw payloads, normalise what changed — in the caller's
    transaction, so a bad row or a failure leaves the database exactly as it was."""
    source = find_source(session, source_name)
    progress = Prefixed(progress or NoProgress(), source.name)
    if source.kind != "file":
        raise ImportFileError(
            f"source {source_name!r} is of kind {source.kind!r}; files can be imported only "
            "into sources of kind 'file' (add one to streamwise.yaml)."
        )
    context = ParseContext(timezone=ZoneInfo(organisation_timezone(session)))
    rows = read_files(paths, context, kind_name, progress)
    _check_references(session, source, rows)
    progress.start("store", len(rows))
    stored = store_payloads(session, source.id, [row.raw() for row in rows])
    progress.advance("store", len(rows))
    report = ImportReport(rows=len(rows), stored=stored.stored)
    report.unchanged = stored.received - stored.stored
    if stored.stored:
        parser = parser_for(source.kind)
        assert parser is not None
        parsed: dict[str, Parsed] = defaultdict(Parsed)
        for row in rows:
            kind = row.file_kind.entity_kind
            raw_id = stored.raw_ids.pop((kind, row.record.external_id), None)
            if raw_id is not None:  # new or changed, and not yet taken (duplicates in a file)
                parsed[kind].records.append((raw_id, row.record))
        normaliser = Normaliser(session, source, parser, progress)
        report.normalised = normaliser.run_parsed(parsed)
    return report


def renormalize(
    session: Session, source_names: list[str] | None = None, progress: ProgressSink | None = None
) -> dict[str, NormaliseReport]:
    """Re-apply the current mappings to every stored raw record; no tool is contacted."""
    if source_names:
        sources = [find_source(session, name) for name in source_names]
    else:
        sources = list(session.scalars(select(Source).order_by(Source.name)))
    reports: dict[str, NormaliseReport] = {}
    for source in sources:
        parser = parser_for(source.kind)
        if parser is None:
            report = NormaliseReport()
            report.errors.append(
                f"source {source.name!r}: no connector for kind {source.kind!r} in this version"
            )
            reports[source.name] = report
            continue
        sink = Prefixed(progress or NoProgress(), source.name)
        reports[source.name] = Normaliser(session, source, parser, sink).run(None)
    return reports
