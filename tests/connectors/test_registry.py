"""Every kind of source the registry names loads: its parser, and its connector where synced."""

import pytest

from streamwise.connectors.registry import KINDS, SYNCABLE_KINDS, connector_class, parser_for
from streamwise.connectors.sync_api import SourceSettings
from streamwise.errors import SourceError
from streamwise.sync import connector_for


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_loads_its_parser_and_connector(kind: str) -> None:
    assert callable(parser_for(kind))
    syncing = connector_class(kind)
    assert (syncing is not None) == (kind in SYNCABLE_KINDS)
    if syncing is not None:
        assert syncing.kind == kind  # type: ignore[attr-defined]


def test_the_syncable_kinds_are_the_api_tools() -> None:
    assert set(SYNCABLE_KINDS) == {"jira", "github", "gitlab", "git", "pagerduty"}
    assert parser_for("no-such-tool") is None


def test_a_pushed_source_cannot_be_synced() -> None:
    settings = SourceSettings("events", "cdevents", "https://example.invalid", None, None)
    with pytest.raises(SourceError, match="cannot be synced"):
        connector_for(settings)
