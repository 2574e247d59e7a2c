"""Which code reads each kind of source: the parser for its stored raw payloads and, for tools
that are synced over their API, the connector that fetches them.

Entries name their modules instead of importing them, so a command loads only the connector
it uses (the CLI starts faster) and a kind's code stays in its own package.
"""

from dataclasses import dataclass
from importlib import import_module
from typing import Any, cast

from streamwise.connectors.base import PayloadParser
from streamwise.connectors.sync_api import SourceSettings, SyncingConnector


@dataclass(frozen=True)
class SourceKind:
    parser: str
    """``module:attribute`` of the payload parser."""
    connector: str | None = None
    """``module:attribute`` of the class syncing the tool, or None for pushed sources."""


KINDS: dict[str, SourceKind] = {
    "file": SourceKind("streamwise.connectors.csvfile.records:parse_payload"),
    "cdevents": SourceKind("streamwise.connectors.cdevents.records:parse_payload"),
    "jira": SourceKind(
        "streamwise.connectors.jira.records:parse_payload",
        "streamwise.connectors.jira.client:JiraConnector",
    ),
    "github": SourceKind(
        "streamwise.connectors.github.records:parse_payload",
        "streamwise.connectors.github.client:GitHubConnector",
    ),
    "gitlab": SourceKind(
        "streamwise.connectors.gitlab.records:parse_payload",
        "streamwise.connectors.gitlab.client:GitLabConnector",
    ),
    "git": SourceKind(
        "streamwise.connectors.git.records:parse_payload",
        "streamwise.connectors.git.reader:GitConnector",
    ),
    "pagerduty": SourceKind(
        "streamwise.connectors.pagerduty.records:parse_payload",
        "streamwise.connectors.pagerduty.client:PagerDutyConnector",
    ),
}
SYNCABLE_KINDS = tuple(kind for kind, entry in KINDS.items() if entry.connector)


def _load(reference: str) -> Any:
    module, _, attribute = reference.partition(":")
    return getattr(import_module(module), attribute)


def parser_for(source_kind: str) -> PayloadParser | None:
    """The parser for a source kind, or None for a kind Streamwise does not know."""
    entry = KINDS.get(source_kind)
    return cast(PayloadParser, _load(entry.parser)) if entry else None


def connector_class(source_kind: str) -> type[SyncingConnector] | None:
    """The class syncing a kind of tool (built with its ``SourceSettings``), or None."""
    entry = KINDS.get(source_kind)
    if entry is None or entry.connector is None:
        return None
    return cast(type[SyncingConnector], _load(entry.connector))


def make_connector(settings: SourceSettings) -> SyncingConnector | None:
    factory = connector_class(settings.kind)
    return factory(settings) if factory else None  # type: ignore[call-arg]
