"""Read import files (CSV or JSON) into validated raw payloads, or fail naming the bad cell.

Every row is parsed with the same parser normalisation uses, before anything is stored, so a
file either goes in whole or not at all.
"""

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from streamwise.connectors.base import FieldError, ParseContext, RawPayload, Record
from streamwise.connectors.csvfile.records import FILE_KINDS, FileKind, file_kind_for, parse_row
from streamwise.errors import ImportFileError
from streamwise.progress import NoProgress, ProgressSink

MAX_REPORTED_ERRORS = 10
SUFFIXES = (".csv", ".json")


@dataclass
class ImportRow:
    """A validated row: where it came from, as stored (payload) and as parsed (record)."""

    where: str
    file_kind: FileKind
    payload: dict[str, Any]
    record: Record

    def raw(self) -> RawPayload:
        return RawPayload(self.file_kind.entity_kind, self.record.external_id, self.payload)


class ErrorCollector:
    """Gathers bad rows so the user sees several at once, then raises one ImportFileError."""

    def __init__(self) -> None:
        self.messages: list[str] = []
        self.total = 0

    def add(self, message: str) -> None:
        self.total += 1
        if len(self.messages) < MAX_REPORTED_ERRORS:
            self.messages.append(message)

    def raise_if_any(self) -> None:
        if not self.total:
            return
        lines = list(self.messages)
        if self.total > len(self.messages):
            lines.append(f"… and {self.total - len(self.messages)} more problems")
        lines.append("Nothing was imported; fix the file(s) and run the import again.")
        raise ImportFileError("\n".join(lines))


def expand_paths(paths: list[Path]) -> list[Path]:
    """Files as given, and the import files inside any directory (sorted, not recursive)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in SUFFIXES)
            if not found:
                raise ImportFileError(f"{path}: no .csv or .json files in this directory")
            files.extend(found)
        elif path.exists():
            files.append(path)
        else:
            raise ImportFileError(f"{path}: no such file or directory")
    return files


def _kind_for(path: Path, kind_name: str | None) -> FileKind:
    if kind_name is not None:
        if kind_name not in FILE_KINDS:
            raise ImportFileError(f"--kind {kind_name!r} is not one of {', '.join(FILE_KINDS)}")
        return FILE_KINDS[kind_name]
    kind = file_kind_for(path.name)
    if kind is None:
        raise ImportFileError(
            f"{path}: cannot tell what this file holds from its name; name it after its kind "
            f"({', '.join(name + '.csv' for name in FILE_KINDS)}) or pass --kind"
        )
    return kind


def _csv_rows(
    path: Path, file_kind: FileKind, errors: ErrorCollector
) -> Iterator[tuple[str, dict[str, Any]]]:
    try:
        handle = path.open(newline="", encoding="utf-8-sig")
    except OSError as error:
        raise ImportFileError(f"{path}: cannot open: {error.strerror}") from None
    with handle:
        reader = csv.reader(handle)
        try:
            header = next(reader, None)
        except (csv.Error, UnicodeDecodeError) as error:
            raise ImportFileError(f"{path}: cannot read the header: {error}") from None
        if header is None:
            raise ImportFileError(f"{path}: the file is empty; expected a header row")
        header = [name.strip() for name in header]
        allowed = file_kind.column_names
        for index, name in enumerate(header, start=1):
            if name not in allowed:
                raise ImportFileError(
                    f"{path}: header, column {index} {name!r}: unknown column for "
                    f"{file_kind.name}; expected some of {', '.join(allowed)}"
                )
        missing = [c.name for c in file_kind.columns if c.required and c.name not in header]
        if missing:
            raise ImportFileError(
                f"{path}: header: required column(s) missing: {', '.join(missing)}"
            )
        row_number = 0
        try:
            for cells in reader:
                row_number += 1
                if not any(cell.strip() for cell in cells):
                    continue
                if len(cells) != len(header):
                    errors.add(
                        f"{path}: row {row_number}: has {len(cells)} cells, the header has "
                        f"{len(header)}"
                    )
                    continue
                yield f"{path}: row {row_number}", dict(zip(header, cells, strict=True))
        except (csv.Error, UnicodeDecodeError) as error:
            raise ImportFileError(f"{path}: row {row_number + 1}: cannot read: {error}") from None


def _json_rows(
    path: Path, kind_name: str | None, errors: ErrorCollector
) -> Iterator[tuple[str, FileKind, dict[str, Any]]]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ImportFileError(f"{path}: cannot open: {error.strerror}") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        raise ImportFileError(f"{path}: not valid JSON: {error}") from None
    if isinstance(data, list):
        sections = {_kind_for(path, kind_name).name: data}
    elif isinstance(data, dict):
        sections = data
        for name in sections:
            if name not in FILE_KINDS:
                raise ImportFileError(
                    f"{path}: key {name!r}: unknown kind of record; expected some of "
                    f"{', '.join(FILE_KINDS)}"
                )
    else:
        raise ImportFileError(f"{path}: expected a JSON list of rows or an object of lists")
    for name, rows in sections.items():
        file_kind = FILE_KINDS[name]
        if not isinstance(rows, list):
            raise ImportFileError(f"{path}: {name}: expected a list of objects")
        allowed = set(file_kind.column_names)
        if name == "work_items":
            allowed.add("transitions")
        for index, row in enumerate(rows):
            where = f"{path}: {name}[{index}]"
            if not isinstance(row, dict):
                errors.add(f"{where}: expected an object, got {type(row).__name__}")
                continue
            unknown = [key for key in row if key not in allowed]
            if unknown:
                errors.add(
                    f"{where}, column {unknown[0]!r}: unknown column for {name}; expected some "
                    f"of {', '.join(file_kind.column_names)}"
                )
                continue
            payload = {key: value for key, value in row.items() if key != "transitions"}
            yield where, file_kind, payload
            nested = row.get("transitions") or []
            if not isinstance(nested, list):
                errors.add(f"{where}.transitions: expected a list of objects")
                continue
            for step_index, step in enumerate(nested):
                if isinstance(step, dict):
                    step = {"item": row.get("key"), **step}
                yield f"{where}.transitions[{step_index}]", FILE_KINDS["transitions"], step


def read_files(
    paths: list[Path],
    context: ParseContext,
    kind_name: str | None = None,
    progress: ProgressSink | None = None,
) -> list[ImportRow]:
    """Parse and validate every row of every file; raise ImportFileError listing bad rows."""
    progress = progress or NoProgress()
    errors = ErrorCollector()
    rows: list[ImportRow] = []
    files = expand_paths(paths)
    progress.start("read", len(files))
    for path in files:
        if path.suffix.lower() == ".json":
            entries: Iterator[tuple[str, FileKind, dict[str, Any]]] = _json_rows(
                path, kind_name, errors
            )
        else:
            file_kind = _kind_for(path, kind_name)
            entries = ((where, file_kind, row) for where, row in _csv_rows(path, file_kind, errors))
        for where, file_kind, payload in entries:
            if not isinstance(payload, dict):
                errors.add(f"{where}: expected an object, got {type(payload).__name__}")
                continue
            try:
                record = parse_row(file_kind, payload, context)
            except FieldError as error:
                errors.add(f"{where}, column {error.field}: {error.message}")
                continue
            rows.append(ImportRow(where, file_kind, payload, record))
        progress.advance("read")
    errors.raise_if_any()
    _check_duplicates(rows, errors)
    errors.raise_if_any()
    return rows


def _check_duplicates(rows: list[ImportRow], errors: ErrorCollector) -> None:
    """The same key twice with different content is ambiguous: which one is true?"""
    seen: dict[tuple[str, str], ImportRow] = {}
    for row in rows:
        key = (row.file_kind.entity_kind, row.record.external_id)
        first = seen.get(key)
        if first is None:
            seen[key] = row
        elif first.payload != row.payload:
            errors.add(
                f"{row.where}: duplicate {row.file_kind.name} {row.record.external_id!r} with "
                f"different values (first at {first.where})"
            )
