"""Migrations build the schema the models describe, and undo it."""

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from streamwise.model import Base
from streamwise.store import open_database
from streamwise.store.migrate import current_revision, downgrade, head_revision, upgrade


def test_upgrade_from_empty_and_downgrade_back(empty_database_url: str) -> None:
    database = open_database(empty_database_url)
    try:
        assert current_revision(database) is None
        upgrade(database)
        assert current_revision(database) == head_revision()
        tables = set(inspect(database.engine).get_table_names())
        assert set(Base.metadata.tables) <= tables

        downgrade(database, "base")
        assert current_revision(database) is None
        left = set(inspect(database.engine).get_table_names()) - {"alembic_version"}
        assert left == set()

        upgrade(database)  # and up again, as after a downgrade in real life
        assert current_revision(database) == head_revision()
    finally:
        database.dispose()


def test_migrations_match_the_models(empty_database_url: str) -> None:
    """A model change without a migration would show up here as a difference."""
    database = open_database(empty_database_url)
    try:
        upgrade(database)
        with database.engine.connect() as connection:
            differences = compare_metadata(MigrationContext.configure(connection), Base.metadata)
        assert differences == []
    finally:
        database.dispose()
