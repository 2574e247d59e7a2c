"""Data in, facts current: import or re-normalise, then derive what changed.

This sits below ``normalize`` and ``derive`` so that neither has to know the other; the CLI,
the API and the demo call these functions, never the two steps separately.
"""

from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy.orm import Session

from streamwise.derive.run import DeriveReport, derive_all, derive_changed
from streamwise.normalize import ingest as normalize_ingest
from streamwise.normalize.ingest import ImportReport
from streamwise.normalize.pipeline import NormaliseReport
from streamwise.progress import ProgressSink


@dataclass
class Ingested:
    imported: ImportReport
    derived: DeriveReport = field(default_factory=DeriveReport)


def import_files(
    session: Session,
    paths: list[Path],
    source_name: str,
    kind_name: str | None = None,
    progress: ProgressSink | None = None,
) -> Ingested:
    """Import files (all or nothing) and derive the facts of what they changed."""
    imported = normalize_ingest.import_files(session, paths, source_name, kind_name, progress)
    normalised = imported.normalised
    derived = derive_changed(
        session,
        normalised.touched_items,
        normalised.touched_services,
        progress,
        since=normalised.changed_since,
    )
    return Ingested(imported, derived)


def renormalize(
    session: Session, source_names: list[str] | None = None, progress: ProgressSink | None = None
) -> tuple[dict[str, NormaliseReport], DeriveReport]:
    """Re-map stored raw data with the current configuration, then derive all facts again
    (stage mappings change intervals everywhere, so a partial derive would be wrong)."""
    reports = normalize_ingest.renormalize(session, source_names, progress)
    return reports, derive_all(session, progress)
