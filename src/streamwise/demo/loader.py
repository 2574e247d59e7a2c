"""Load the generated demo organisation through the same path as any user import."""

import time
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from streamwise.demo.generator import generate, write_demo
from streamwise.ingest import import_files
from streamwise.normalize.config import load_config
from streamwise.normalize.ingest import ImportReport
from streamwise.normalize.organisation import apply_config
from streamwise.progress import NoProgress, ProgressSink
from streamwise.store import Database, migrate


@dataclass
class DemoResult:
    reports: dict[str, ImportReport] = field(default_factory=dict)
    seconds: float = 0.0
    files: list[Path] = field(default_factory=list)


def load_demo(
    database: Database,
    data_dir: Path,
    seed: int = 42,
    scale: float = 1.0,
    end: date | None = None,
    reset: bool = False,
    progress: ProgressSink | None = None,
) -> DemoResult:
    """Generate files into ``data_dir``, then apply its config and import them, all or nothing."""
    progress = progress or NoProgress()
    started = time.perf_counter()
    if reset:
        migrate.downgrade(database, "base")
    migrate.upgrade(database)
    progress.start("generate", 1)
    organisation = generate(seed=seed, scale=scale, end=end)
    result = DemoResult(files=write_demo(organisation, data_dir))
    progress.advance("generate")
    config = load_config(data_dir / "streamwise.yaml")
    with database.transaction() as session:
        apply_config(session, config)
        for source in organisation.files:
            ingested = import_files(session, [data_dir / source], source, progress=progress)
            result.reports[source] = ingested.imported
    result.seconds = time.perf_counter() - started
    return result
