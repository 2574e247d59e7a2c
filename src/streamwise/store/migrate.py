"""Alembic migrations run from code, so ``streamwise db upgrade`` needs no alembic.ini."""

from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from streamwise.errors import DatabaseError
from streamwise.store.engine import Database

MIGRATIONS = Path(__file__).parent / "migrations"


def alembic_config(database: Database) -> Config:
    config = _script_config()
    config.attributes["engine"] = database.engine
    return config


def upgrade(database: Database, revision: str = "head") -> None:
    database.check_reachable()
    command.upgrade(alembic_config(database), revision)


def downgrade(database: Database, revision: str = "base") -> None:
    database.check_reachable()
    command.downgrade(alembic_config(database), revision)


def current_revision(database: Database) -> str | None:
    database.check_reachable()
    with database.engine.connect() as connection:
        rev: str | None = MigrationContext.configure(connection).get_current_revision()
        return rev


def head_revision() -> str:
    script = ScriptDirectory.from_config(_script_config())
    head = script.get_current_head()
    assert head is not None
    return head


def _script_config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def require_current(database: Database) -> None:
    """Fail with a next step when the schema is missing or behind the code."""
    current = current_revision(database)
    if current != head_revision():
        state = "has no Streamwise tables" if current is None else f"is at revision {current}"
        raise DatabaseError(
            f"the database {state}; run `streamwise db upgrade` (or `streamwise init`) first."
        )
