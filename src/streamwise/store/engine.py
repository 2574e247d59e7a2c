"""Open a database by URL, with the same behaviour on SQLite and PostgreSQL."""

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

from streamwise.config import redact_url
from streamwise.errors import DatabaseError


def _normalise_url(url: str) -> str:
    """Let people write ``postgresql://…`` and still get the psycopg 3 driver we ship."""
    if url.startswith("postgresql://") or url.startswith("postgres://"):
        return "postgresql+psycopg://" + url.split("://", 1)[1]
    return url


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA busy_timeout=30000")
    cursor.execute("PRAGMA cache_size=-65536")  # 64 MiB: bulk imports touch many index pages
    cursor.execute("PRAGMA temp_store=MEMORY")
    cursor.close()


def driver_message(error: OperationalError) -> str:
    """The driver's first line about a database failure, for a one-line user message."""
    return str(error.orig).strip().splitlines()[0] if error.orig else str(error)


@dataclass
class Database:
    """An engine and its session factory; pass it down instead of using globals."""

    url: str
    engine: Engine
    sessions: sessionmaker[Session]

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session whose work is committed together or not at all."""
        with self.sessions.begin() as session:
            yield session

    def check_reachable(self) -> None:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
        except OperationalError as error:
            raise DatabaseError(
                f"cannot reach the database {redact_url(self.url)}: {driver_message(error)}. "
                "Check STREAMWISE_DATABASE_URL (or --database) and that the server is running."
            ) from error

    def dispose(self) -> None:
        self.engine.dispose()


def open_database(url: str) -> Database:
    """Create the engine for ``url`` (nothing is connected until first use)."""
    url = _normalise_url(url)
    try:
        if url.startswith("sqlite"):
            engine = create_engine(url, connect_args={"timeout": 30})
            event.listen(engine, "connect", _sqlite_pragmas)
        else:
            engine = create_engine(url, pool_pre_ping=True)
    except (ArgumentError, NoSuchModuleError) as error:
        raise DatabaseError(
            f"cannot use the database URL {redact_url(url)}: {error}. "
            "Expected e.g. sqlite:///streamwise.db or postgresql://user@host:5432/streamwise."
        ) from error
    except ModuleNotFoundError as error:
        raise DatabaseError(
            f"the driver for {redact_url(url)} is not installed ({error.name}). "
            "For PostgreSQL install the extra: pip install 'streamwise[postgres]'."
        ) from error
    return Database(url=url, engine=engine, sessions=sessionmaker(engine, expire_on_commit=False))
