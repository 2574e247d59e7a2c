"""Turn the generators' rows into CSV-ready rows of the import format.

Generators put epoch seconds in timestamp columns and Python values elsewhere; formatting all
timestamps of a column in one NumPy call keeps generation of the full demo fast.
"""

from collections.abc import Sequence

from streamwise.connectors.csvfile.records import FILE_KINDS
from streamwise.demo.clock import iso_utc

Value = str | float | int | bool | list[str] | None
DraftRow = dict[str, Value]


def seconds_of(row: DraftRow, column: str) -> float:
    """A timestamp column's epoch seconds, for sorting drafts (0 when empty)."""
    value = row.get(column)
    return float(value) if isinstance(value, int | float) else 0.0


def _column_text(kind: str, values: list[Value]) -> list[str]:
    """One column's values as import-format strings; '' stands for empty."""
    if kind == "timestamp":
        present = [float(value) for value in values if isinstance(value, int | float)]
        texts = iter(iso_utc(present))
        return [next(texts) if isinstance(value, int | float) else "" for value in values]
    if kind == "list":
        return [";".join(value) if isinstance(value, list) else "" for value in values]
    if kind == "bool":
        return ["" if value is None else "true" if value else "false" for value in values]
    return [
        "" if value is None else value if isinstance(value, str) else str(value) for value in values
    ]


def finish_rows(kind: str, rows: Sequence[DraftRow]) -> list[dict[str, str]]:
    """Every column of ``kind`` in the import format's order, every value a string."""
    file_kind = FILE_KINDS[kind]
    names = file_kind.column_names
    columns = [
        _column_text(column.kind, [row.get(column.name) for row in rows])
        for column in file_kind.columns
    ]
    return [dict(zip(names, values, strict=True)) for values in zip(*columns, strict=True)]
