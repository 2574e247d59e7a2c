"""How long-running work reports progress without knowing who is watching (CLI, API, tests)."""

from typing import Protocol


class ProgressSink(Protocol):
    def start(self, task: str, total: int | None = None) -> None:
        """A new phase begins; ``total`` is the number of steps if known."""

    def advance(self, task: str, amount: int = 1) -> None:
        """``amount`` more steps of ``task`` are done."""


class NoProgress:
    """For callers that do not display progress."""

    def start(self, task: str, total: int | None = None) -> None:
        return None

    def advance(self, task: str, amount: int = 1) -> None:
        return None


class Prefixed:
    """Passes progress on with a prefix, so parallel phases of several sources stay apart."""

    def __init__(self, sink: ProgressSink, prefix: str) -> None:
        self.sink = sink
        self.prefix = prefix

    def start(self, task: str, total: int | None = None) -> None:
        self.sink.start(f"{self.prefix}: {task}", total)

    def advance(self, task: str, amount: int = 1) -> None:
        self.sink.advance(f"{self.prefix}: {task}", amount)
