"""Test databases: SQLite by default, PostgreSQL when STREAMWISE_DATABASE_URL points at one.

Each test gets its own freshly migrated database, cloned from a template migrated once per
session (a file copy on SQLite, CREATE DATABASE … TEMPLATE on PostgreSQL), so tests are
independent and fast.
"""

import os
import shutil
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

from streamwise.store import Database, open_database
from streamwise.store.migrate import upgrade

POSTGRES_URL = os.environ.get("STREAMWISE_DATABASE_URL", "")
ON_POSTGRES = POSTGRES_URL.startswith("postgres")


def pytest_report_header() -> str:
    return f"streamwise database: {'PostgreSQL' if ON_POSTGRES else 'SQLite'}"


def _admin_engine() -> Any:
    return create_engine(
        make_url(POSTGRES_URL).set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )


def pg_url(name: str) -> str:
    url = make_url(POSTGRES_URL).set(drivername="postgresql+psycopg", database=name)
    return url.render_as_string(hide_password=False)


@contextmanager
def pg_database(prefix: str, template: str | None = None) -> Iterator[str]:
    """Create a PostgreSQL database (optionally cloned from ``template``); drop it afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:12]}"
    clone = f' TEMPLATE "{template}"' if template else ""
    admin = _admin_engine()
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"{clone}'))
    try:
        yield name
    finally:
        with admin.connect() as connection:
            connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()


@pytest.fixture(scope="session")
def template_database(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A migrated database to clone: a file path (SQLite) or a database name (PostgreSQL)."""
    if ON_POSTGRES:
        with pg_database("sw_template") as name:
            database = open_database(pg_url(name))
            upgrade(database)
            database.dispose()
            yield name
    else:
        path = tmp_path_factory.mktemp("template") / "template.db"
        database = open_database(f"sqlite:///{path}")
        upgrade(database)
        with database.engine.connect() as connection:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
        database.dispose()
        yield str(path)


@pytest.fixture
def database_url(template_database: str, tmp_path: Path) -> Iterator[str]:
    """The URL of a fresh, migrated database for one test."""
    if ON_POSTGRES:
        with pg_database("sw_test", template=template_database) as name:
            yield pg_url(name)
    else:
        path = tmp_path / "streamwise.db"
        shutil.copyfile(template_database, path)
        yield f"sqlite:///{path}"


@pytest.fixture
def database(database_url: str) -> Iterator[Database]:
    db = open_database(database_url)
    yield db
    db.dispose()


@pytest.fixture
def empty_database_url(tmp_path: Path) -> Iterator[str]:
    """A database with no tables at all, for migration tests."""
    if ON_POSTGRES:
        with pg_database("sw_empty") as name:
            yield pg_url(name)
    else:
        yield f"sqlite:///{tmp_path / 'empty.db'}"
