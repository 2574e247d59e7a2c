"""Loading streamwise.yaml into the database is explicit and idempotent."""

from sqlalchemy import select

from streamwise.model import Organisation, Person, Stage, StatusMapping, Team, ValueStream
from streamwise.normalize.config import parse_config
from streamwise.normalize.organisation import apply_config
from streamwise.store import Database
from tests.helpers import ORG_YAML


def apply(database: Database, text: str = ORG_YAML):  # type: ignore[no-untyped-def]
    with database.transaction() as session:
        return apply_config(session, parse_config(text))


def test_first_apply_creates_second_changes_nothing(database: Database) -> None:
    first = apply(database)
    assert first.created["value_streams"] == 2 and first.created["stages"] == 6
    with database.sessions() as session:
        stage_ids = dict(session.execute(select(Stage.name, Stage.id)).all())
        mappings = session.scalar(select(StatusMapping.id).order_by(StatusMapping.id))
    second = apply(database)
    assert not second.changed
    with database.sessions() as session:
        assert dict(session.execute(select(Stage.name, Stage.id)).all()) == stage_ids
        assert session.scalars(select(Organisation.timezone)).one() == "Europe/Berlin"
        person = session.scalars(select(Person)).one()
        assert [(i.system, i.username) for i in person.identities] == [("files", "ada")]
        assert mappings is not None


def test_changes_are_applied_and_reported(database: Database) -> None:
    apply(database)
    changed = ORG_YAML.replace("{name: Testing", "{name: Testing").replace(
        "      - {name: Done, flow_state: done, statuses: [Done]}\n  - key: ops",
        "  - key: ops",
    )
    changed = changed.replace(
        "{key: alpha, name: Alpha, value_stream: shop}", "{key: beta, name: Beta}"
    )
    changed = changed.replace("team: alpha,", "team: beta,")
    report = apply(database, changed)
    assert report.removed == {"stages": 1, "teams": 1}
    assert report.mappings_changed
    with database.sessions() as session:
        shop = session.scalars(select(ValueStream).where(ValueStream.key == "shop")).one()
        assert [s.name for s in shop.stages] == ["Backlog", "Development", "Testing"]
        assert session.scalars(select(Team.key)).all() == ["beta"]
