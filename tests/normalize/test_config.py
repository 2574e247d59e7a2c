"""streamwise.yaml validation: every error names the file, the key path and the expectation."""

import re
from pathlib import Path

import pytest

from streamwise.errors import ConfigError
from streamwise.normalize.config import load_config, parse_config
from tests.helpers import ORG_YAML

STREAMS = """
value_streams:
  - {key: a, name: A}
  - {key: b, name: B}
  - key: c
    name: C
    stages:
      - {name: Backlog, flow_state: new}
      - {name: Build, flow_state: doing}
"""


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            STREAMS,
            "streamwise.yaml: value_streams[2].stages[1].flow_state: 'doing' is not one of "
            "new, waiting, active, done, canceled",
        ),
        (
            "organisation: {timezone: Mars/Olympus}",
            "streamwise.yaml: organisation.timezone: 'Mars/Olympus' is not a known IANA time zone",
        ),
        (
            "sources: [{name: j, kind: jira, token_env: 'hunter2 secret'}]",
            "streamwise.yaml: sources[0].token_env: must be the NAME of an environment variable",
        ),
        (
            "sources: [{name: j, kind: jiraa}]",
            "streamwise.yaml: sources[0].kind: 'jiraa' is not one of file, jira, github",
        ),
        ("colour: blue", "streamwise.yaml: colour: is not a known key; allowed keys: organisation"),
        ("value_streams: [{name: A}]", "streamwise.yaml: value_streams[0].key: is required"),
        (
            "value_streams: [{key: a, name: A, parent: zz}]",
            "streamwise.yaml: value_streams[0].parent: 'zz' is not a value stream key",
        ),
        (
            "value_streams: [{key: a, name: A}, {key: a, name: B}]",
            "streamwise.yaml: value_streams[1].key: duplicate value stream key 'a'",
        ),
        (
            "type_mappings: [{type: Bug, label: bug, flow_item_type: defect}]",
            "streamwise.yaml: type_mappings[0]: give exactly one of 'type' or 'label'",
        ),
        (
            "type_mappings: [{type: Bug, flow_item_type: bugfix}]",
            "streamwise.yaml: type_mappings[0].flow_item_type: 'bugfix' is not one of feature, "
            "defect, risk, debt, ignore",
        ),
        (
            "value_streams: [{key: a, name: A, stages: [{name: S, flow_state: new, "
            "statuses: [X, {status: X}]}]}]",
            "streamwise.yaml: value_streams[0].stages[0].statuses[1]: status 'X' is already mapped",
        ),
        (
            "linking: {work_item_key_pattern: '([A-Z'}",
            "linking.work_item_key_pattern: '([A-Z' is not a valid",
        ),
        (
            "value_streams: [{key: Bad Key, name: A}]",
            "value_streams[0].key: 'Bad Key' must be lower-case",
        ),
        ("organisation: {name: [", "streamwise.yaml:1:"),
        ("- just\n- a list", "expected a mapping of keys"),
    ],
)
def test_errors_name_key_path_and_expectation(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_config(text)
    assert message in str(caught.value)


def test_the_example_organisation_is_valid() -> None:
    config = parse_config(ORG_YAML)
    shop = config.value_streams[0]
    testing = shop.stages[2]
    assert [s.status for s in testing.statuses] == ["Ready for Test", "In Test"]
    assert testing.statuses[0].flow_state == "waiting"
    assert testing.statuses[1].flow_state is None  # takes the stage's flow state


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"no such file\. Create one with `streamwise init`"):
        load_config(tmp_path / "nope.yaml")


def test_error_names_the_actual_file(tmp_path: Path) -> None:
    path = tmp_path / "org.yaml"
    path.write_text("organisation: {timezone: Nowhere/Town}\n")
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: organisation\.timezone"):
        load_config(path)


def test_starter_template_is_valid() -> None:
    from streamwise.cli.config_cmd import starter_config

    config = parse_config(starter_config())
    assert config.value_streams and config.sources[0].kind == "file"
