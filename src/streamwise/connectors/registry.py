"""Which parser reads the stored raw payloads of each kind of source."""

from streamwise.connectors.base import PayloadParser
from streamwise.connectors.cdevents.records import parse_payload as parse_cdevents_payload
from streamwise.connectors.csvfile.records import parse_payload as parse_file_payload
from streamwise.connectors.github.records import parse_payload as parse_github_payload
from streamwise.connectors.jira.records import parse_payload as parse_jira_payload

PARSERS: dict[str, PayloadParser] = {
    "file": parse_file_payload,
    "jira": parse_jira_payload,
    "github": parse_github_payload,
    "cdevents": parse_cdevents_payload,
}


def parser_for(source_kind: str) -> PayloadParser | None:
    """The parser for a source kind, or None where no connector for it exists yet."""
    return PARSERS.get(source_kind)
