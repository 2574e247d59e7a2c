"""Bulk upserts keyed on (source_id, external_id), the same on SQLite and PostgreSQL.

ORM objects one by one are far too slow for a backfill of hundreds of thousands of rows;
these helpers send batches through Core with the dialect's ``ON CONFLICT`` clause.
"""

import gc
import logging
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from operator import itemgetter
from typing import Any

from sqlalchemy import BigInteger, ColumnElement, Select, Table, delete, select, text
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.orm import DeclarativeBase, Session
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.functions import FunctionElement

BATCH_SIZE = 2000
LOCK_WAIT_S = 5.0
"""How long a whole-table rewrite waits for other connections to let go of its tables."""
LOCK_NOT_AVAILABLE = "55P03"
log = logging.getLogger(__name__)
SOURCE_KEY = ("source_id", "external_id")


@contextmanager
def cyclic_gc_paused() -> Iterator[None]:
    """Pause Python's cyclic garbage collector for bulk work on plain rows.

    Such work allocates millions of tuples that reference counting frees anyway, but every
    allocation counts towards the collector's thresholds, and its full passes over all live
    objects added up to some 14 s of a full derive's 80 (measured on the enterprise data).
    Restores the collector's previous state (it stays off if it was off)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


@contextmanager
def indexes_set_aside(
    session: Session,
    models: Sequence[type[DeclarativeBase] | Table],
    lock_wait_s: float = LOCK_WAIT_S,
) -> Iterator[None]:
    """For rewriting whole tables: drop their secondary indexes (and on PostgreSQL their
    foreign keys), and create them again at the end from the very SQL that created them, so
    the schema is the migrations' again.

    One sort per index at the end is cheaper than keeping the index up to date row by row
    while millions of rows are deleted and inserted; on PostgreSQL each foreign key also
    costs a look-up and a row lock in the referenced table per row written, where adding it
    back checks every row in one join. Only inside a transaction: the DDL is then part of it,
    and a rollback restores everything. On PostgreSQL that DDL locks the tables until the
    transaction ends — readers wait for a full rewrite instead of seeing the old rows — and
    when the locks cannot be had within ``lock_wait_s`` (a long report, a forgotten open
    transaction) the tables are rewritten with everything in place: slower, never stuck."""
    connection = session.connection()
    tables = [table_of(model).name for model in models]
    if not tables:
        yield
    elif connection.dialect.name == "postgresql":
        with _postgresql_set_aside(session, tables, lock_wait_s):
            yield
    elif connection.dialect.name == "sqlite":
        with _sqlite_set_aside(connection, tables):
            yield
    else:
        yield


@contextmanager
def _sqlite_set_aside(connection: Any, tables: list[str]) -> Iterator[None]:
    dbapi = connection.connection.dbapi_connection
    if dbapi is None:
        yield
        return
    if not dbapi.in_transaction:
        # pysqlite opens its transaction lazily, at the first data change: make one that
        # changes nothing. Still none means autocommit mode: leave the indexes alone.
        connection.exec_driver_sql(f'DELETE FROM "{tables[0]}" WHERE 0')
    if not dbapi.in_transaction:
        yield
        return
    marks = ", ".join("?" for _ in tables)
    indexes = connection.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL"
        f" AND tbl_name IN ({marks}) ORDER BY rowid",
        tuple(tables),
    ).all()
    with _recreated(
        connection, [f'DROP INDEX "{name}"' for name, _ in indexes], [sql for _, sql in indexes]
    ):
        yield


@contextmanager
def _postgresql_set_aside(
    session: Session, tables: list[str], lock_wait_s: float
) -> Iterator[None]:
    connection = session.connection()
    foreign_keys = connection.exec_driver_sql(
        "SELECT conrelid::regclass::text, conname, pg_get_constraintdef(oid) FROM pg_constraint"
        " WHERE contype = 'f' AND conrelid = ANY(CAST(%(tables)s AS regclass[])) ORDER BY oid",
        {"tables": tables},
    ).all()
    # Secondary indexes only: those behind primary keys and unique constraints stay.
    indexes = connection.exec_driver_sql(
        "SELECT indexrelid::regclass::text, pg_get_indexdef(indexrelid) FROM pg_index"
        " WHERE indrelid = ANY(CAST(%(tables)s AS regclass[])) AND NOT EXISTS"
        " (SELECT 1 FROM pg_constraint WHERE conindid = indexrelid) ORDER BY indexrelid",
        {"tables": tables},
    ).all()
    drops = [f'ALTER TABLE {table} DROP CONSTRAINT "{name}"' for table, name, _ in foreign_keys]
    drops += [f"DROP INDEX {name}" for name, _ in indexes]
    creates = [sql for _, sql in indexes]
    creates += [
        f'ALTER TABLE {table} ADD CONSTRAINT "{name}" {definition}'
        for table, name, definition in foreign_keys
    ]
    waited = connection.exec_driver_sql("SHOW lock_timeout").scalar_one()
    connection.exec_driver_sql("SAVEPOINT streamwise_set_aside")
    try:
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = {int(lock_wait_s * 1000)}")
        for statement in drops:
            connection.exec_driver_sql(statement)
        connection.exec_driver_sql(f"SET LOCAL lock_timeout = '{waited}'")
    except OperationalError as error:
        if getattr(error.orig, "sqlstate", None) != LOCK_NOT_AVAILABLE:
            raise
        connection.exec_driver_sql("ROLLBACK TO SAVEPOINT streamwise_set_aside")
        log.warning(
            "%s are in use; rewriting them with their indexes and foreign keys in place",
            ", ".join(tables),
        )
        yield
        return
    connection.exec_driver_sql("RELEASE SAVEPOINT streamwise_set_aside")
    with _recreated(connection, [], creates):
        yield


@contextmanager
def _recreated(connection: Any, drops: list[str], creates: list[str]) -> Iterator[None]:
    for statement in drops:
        connection.exec_driver_sql(statement)
    try:
        yield
    except BaseException:
        # Usually rolled back with the rest; if the caller keeps the transaction, the
        # indexes must be there. A failure here must not hide the original error.
        with suppress(Exception):
            for statement in creates:
                connection.exec_driver_sql(statement)
        raise
    for statement in creates:
        connection.exec_driver_sql(statement)


def empty_tables(session: Session, models: Sequence[type[DeclarativeBase] | Table]) -> None:
    """Delete every row of ``models``: TRUNCATE on PostgreSQL (no dead rows left for vacuum,
    no per-row triggers), DELETE elsewhere. Both are undone by a rollback."""
    tables = [table_of(model) for model in models]
    if not tables:
        return
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("TRUNCATE " + ", ".join(f'"{table.name}"' for table in tables)))
        return
    for table in tables:
        session.execute(delete(table))


def chunks(rows: Sequence[Any], size: int = BATCH_SIZE) -> Iterable[Sequence[Any]]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def table_of(model: type[DeclarativeBase] | Table) -> Table:
    """The Core table of a mapped class (typed, unlike ``Model.__table__``)."""
    if isinstance(model, Table):
        return model
    table = model.__table__
    assert isinstance(table, Table)
    return table


def upsert(
    session: Session,
    model: type[DeclarativeBase] | Table,
    rows: Sequence[dict[str, Any]],
    key: Sequence[str] = SOURCE_KEY,
) -> None:
    """Insert ``rows`` or update the existing row with the same ``key``. All rows must have the
    same columns."""
    if not rows:
        return
    table = table_of(model)
    dialect = session.get_bind().dialect.name
    insert = postgresql_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(table)
    updated = {name: statement.excluded[name] for name in rows[0] if name not in key}
    if updated:
        statement = statement.on_conflict_do_update(index_elements=list(key), set_=updated)
    else:
        statement = statement.on_conflict_do_nothing(index_elements=list(key))
    for batch in chunks(rows):
        session.execute(statement, list(batch))


def insert_rows(
    session: Session, model: type[DeclarativeBase] | Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Plain batched insert (for link tables whose old rows were deleted first)."""
    if not rows:
        return
    table = table_of(model)
    for batch in chunks(rows):
        session.execute(table.insert(), list(batch))


def id_map(
    session: Session, model: type[DeclarativeBase], source_id: int, column: str = "external_id"
) -> dict[str, int]:
    """``column`` value → row id for one source, to wire foreign keys after an upsert."""
    table = table_of(model)
    query = select(table.c[column], table.c.id).where(table.c.source_id == source_id)
    return {value: row_id for value, row_id in session.execute(query)}


def fetch_plain(session: Session, query: Select[Any]) -> list[tuple[Any, ...]]:
    """Rows as plain DB-API tuples, skipping SQLAlchemy's result processing.

    For bulk reads of numbers and strings the result rows cost as much as the query itself.
    Timestamps come back as the driver gives them (text on SQLite): select them through
    :func:`epoch_micros` for numbers.
    """
    connection = session.connection()
    compiled = query.compile(
        dialect=connection.dialect, compile_kwargs={"render_postcompile": True}
    )
    # ``compiled.params`` builds a new dict on every access: take it once (with thousands of
    # IN (…) values, reading it per value made this quadratic).
    parameters: Any = compiled.params
    if compiled.positional:
        named = parameters
        parameters = tuple(named[name] for name in compiled.positiontup or ())
    cursor = connection.connection.cursor()
    try:
        cursor.execute(str(compiled), parameters)
        return list(cursor.fetchall())
    finally:
        cursor.close()


class EpochMicros(FunctionElement[int]):
    """See :func:`epoch_micros`."""

    type = BigInteger()
    name = "epoch_micros"
    inherit_cache = True


def epoch_micros(column: ColumnElement[Any]) -> EpochMicros:
    """A timestamp column as integer microseconds since the epoch (UTC), computed by the
    database: bulk readers get a plain int instead of parsing a datetime per value in Python,
    and ``micros / 1_000_000`` is exactly what ``datetime.timestamp()`` gives."""
    return EpochMicros(column)


@compiles(EpochMicros, "sqlite")
def _epoch_micros_sqlite(element: EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    # SQLite keeps UTC timestamps as naive text 'YYYY-MM-DD HH:MM:SS[.ffffff]' (model/base.py).
    # Whole seconds from the first 19 characters (exact, also before 1970), plus the fraction
    # padded to six digits ('' or '.5' work too).
    (column,) = element.clauses
    text = compiler.process(column, **kw)
    return (
        f"(CAST(strftime('%s', substr({text}, 1, 19)) AS INTEGER) * 1000000"
        f" + CAST(substr({text} || '000000', 21, 6) AS INTEGER))"
    )


@compiles(EpochMicros, "postgresql")
def _epoch_micros_postgresql(element: EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    # EXTRACT returns an exact numeric (PostgreSQL 14+), so scaling and casting lose nothing.
    (column,) = element.clauses
    return f"CAST(EXTRACT(EPOCH FROM {compiler.process(column, **kw)}) * 1000000 AS BIGINT)"


@compiles(EpochMicros)
def _epoch_micros_other(element: EpochMicros, compiler: SQLCompiler, **kw: Any) -> str:
    # Only SQLite and PostgreSQL are supported; printing a query (the default dialect) shows
    # the call, and any other database rejects the unknown function.
    (column,) = element.clauses
    return f"epoch_micros({compiler.process(column, **kw)})"


def insert_plain(
    session: Session, model: type[DeclarativeBase] | Table, rows: Sequence[dict[str, Any]]
) -> None:
    """Batched insert straight through the DB-API, for derived rows of plain values (numbers,
    strings, booleans, no timestamps) where SQLAlchemy's per-row processing dominates."""
    if not rows:
        return
    table = table_of(model)
    names = list(rows[0])
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, names, rows)
        return
    statement = table.insert().compile(dialect=connection.dialect, column_keys=names)
    pick = itemgetter(*compiled_order(statement, names))
    cursor = connection.connection.cursor()
    try:
        for batch in chunks(rows, 5000):
            if statement.positional:
                cursor.executemany(str(statement), [pick(row) for row in batch])
            else:
                cursor.executemany(str(statement), list(batch))
    finally:
        cursor.close()


def insert_tuples(
    session: Session,
    model: type[DeclarativeBase] | Table,
    names: Sequence[str],
    rows: Sequence[Sequence[Any]],
) -> None:
    """Like :func:`insert_plain` for rows that are already tuples in ``names`` order: no dict
    per row to build and none to pick apart again, for the millions of rows derive writes.
    SQLite gets them in one ``executemany``, PostgreSQL through COPY."""
    if not rows:
        return
    table = table_of(model)
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        _copy_rows(connection, table, list(names), rows)
        return
    quote = connection.dialect.identifier_preparer.quote
    columns = ", ".join(quote(name) for name in names)
    marks = ", ".join("?" for _ in names)
    cursor = connection.connection.cursor()
    try:
        cursor.executemany(f"INSERT INTO {quote(table.name)} ({columns}) VALUES ({marks})", rows)
    finally:
        cursor.close()


def _copy_rows(
    connection: Any,
    table: Table,
    names: list[str],
    rows: Sequence[dict[str, Any]] | Sequence[Sequence[Any]],
) -> None:
    """PostgreSQL's COPY: an order of magnitude faster than INSERTs for millions of rows.
    ``rows`` are dicts, or sequences in ``names`` order."""
    columns = ", ".join(f'"{name}"' for name in names)
    cursor = connection.connection.cursor()
    try:
        with cursor.copy(f'COPY "{table.name}" ({columns}) FROM STDIN') as copy:
            if rows and isinstance(rows[0], dict):
                pick = itemgetter(*names)
                for row in rows:
                    copy.write_row(pick(row))
            else:
                for row in rows:
                    copy.write_row(row)
    finally:
        cursor.close()


def compiled_order(statement: Any, names: list[str]) -> list[str]:
    """The column order of a positional INSERT's parameters."""
    return list(statement.positiontup) if statement.positional else names
