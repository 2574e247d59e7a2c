"""What a syncing connector gives the sync engine (``streamwise.sync``): pages of raw
payloads, each with the cursor to resume from once the page is stored."""

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Protocol

from streamwise.connectors.base import PayloadParser, RawPayload


@dataclass(frozen=True)
class SourceSettings:
    """A source as a connector needs it; the token is read from the environment by the
    caller and never stored."""

    name: str
    kind: str
    base_url: str
    token: str | None
    token_env: str | None
    options: dict[str, Any] = field(default_factory=dict)


@dataclass
class Page:
    """Payloads of one entity fetched together, and where to resume after storing them."""

    entity: str
    payloads: list[RawPayload]
    cursor: str | None


class SyncingConnector(Protocol):
    kind: str
    entities: tuple[str, ...]
    """Entities in the order they are synced (reference data first)."""
    parser: PayloadParser

    def fetch(self, entity: str, cursor: str | None) -> Iterator[Page]:
        """Pages of ``entity`` changed since ``cursor`` (None: the whole history)."""
        ...

    def close(self) -> None: ...
