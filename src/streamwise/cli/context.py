"""What every command needs: settings, the database, a console, progress bars."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)

from streamwise.config import Settings
from streamwise.store import Database, open_database
from streamwise.store.migrate import require_current

console = Console()
errors = Console(stderr=True)


@dataclass
class CliState:
    settings: Settings = field(default_factory=Settings)
    _database: Database | None = None

    def reset(self) -> None:
        """Forget the open database (each CLI invocation opens its own)."""
        if self._database is not None:
            self._database.dispose()
        self._database = None

    def database(self, *, require_schema: bool = True) -> Database:
        if self._database is None:
            self._database = open_database(self.settings.database_url)
        if require_schema:
            require_current(self._database)
        return self._database


state = CliState()

LABELS = {
    "read": "Reading files",
    "store": "Storing raw records",
    "normalise": "Normalising",
    "generate": "Generating",
    "derive items": "Deriving item facts",
}


class RichProgress:
    """A ProgressSink drawing one Rich bar per phase."""

    def __init__(self, progress: Progress) -> None:
        self.progress = progress
        self.tasks: dict[str, TaskID] = {}

    def start(self, task: str, total: int | None = None) -> None:
        prefix, _, phase = task.rpartition(": ")
        label = f"{prefix}: {LABELS.get(phase, phase)}" if prefix else LABELS.get(phase, phase)
        if task in self.tasks:
            self.progress.reset(self.tasks[task], total=total, description=label)
        else:
            self.tasks[task] = self.progress.add_task(label, total=total)

    def advance(self, task: str, amount: int = 1) -> None:
        if task not in self.tasks:
            self.start(task)
        self.progress.advance(self.tasks[task], amount)


@contextmanager
def progress_bars() -> Iterator[RichProgress]:
    with Progress(
        TextColumn("{task.description:<30}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=errors,
        transient=False,
    ) as progress:
        yield RichProgress(progress)
