"""From table rows to converted values: finding the header row, mapping headers to columns,
converting every cell. Pure Python, no database: the validator adds the checks that need one.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from shouwang.core.filecheck import encoding_hint
from shouwang.registry.io.columns import (
    HEADER_LOOKUP,
    HOUSEHOLD,
    IMPORT_COLUMNS,
    CellError,
    Column,
    header_key,
    is_blank,
)
from shouwang.registry.io.readers import Table

#: Exports often put a title line or two above the header; look this far for it.
HEADER_SEARCH_ROWS = 10


@dataclass(frozen=True)
class RowError:
    #: The row as Excel numbers it (the header is row 1 in our own files); None for the file.
    row: int | None
    column: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"row": self.row, "column": self.column, "message": self.message}


class FileRejected(Exception):
    """The file as a whole cannot be imported (no header, missing columns, unreadable)."""

    def __init__(self, errors: list[RowError]) -> None:
        super().__init__("; ".join(e.message for e in errors))
        self.errors = errors


@dataclass
class ParsedRow:
    number: int
    household: dict[str, Any] = field(default_factory=dict)
    member: dict[str, Any] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)


@dataclass(frozen=True)
class Layout:
    header_row: int
    #: (cell index, column) for every importable column found in the header.
    positions: tuple[tuple[int, Column], ...]


def _match_count(cells: Sequence[Any]) -> int:
    return sum(1 for cell in cells if isinstance(cell, str) and header_key(cell) in HEADER_LOOKUP)


def find_layout(header_row: int, cells: Sequence[Any]) -> Layout:
    """Map the header cells to columns; FileRejected if a column is missing or repeated."""
    positions: list[tuple[int, Column]] = []
    seen: dict[str, int] = {}
    errors: list[RowError] = []
    for index, cell in enumerate(cells):
        if not isinstance(cell, str):
            continue
        column = HEADER_LOOKUP.get(header_key(cell))
        if column is None:
            continue  # unknown extra columns are ignored
        if column.field in seen:
            errors.append(
                RowError(
                    header_row,
                    column.header,
                    _("列“%(column)s”出现了不止一次") % {"column": column.header},
                )
            )
            continue
        seen[column.field] = index
        if column.importable:
            positions.append((index, column))
    missing = [c.header for c in IMPORT_COLUMNS if c.required and c.field not in seen]
    if missing:
        errors.insert(
            0,
            RowError(
                header_row,
                "",
                _("缺少必需的列：%(columns)s（可下载导入模板对照表头）")
                % {"columns": "、".join(missing)},
            ),
        )
    if errors:
        raise FileRejected(errors)
    return Layout(header_row=header_row, positions=tuple(positions))


def parse_table(table: Table) -> tuple[Layout, Iterator[ParsedRow]]:
    """Find the header among the first rows, then convert the rows below it, lazily.

    Entirely blank rows are skipped (their numbers are still counted).
    """
    head: list[tuple[int, Sequence[Any]]] = []
    for number, cells in table.rows:
        head.append((number, cells))
        if len(head) >= HEADER_SEARCH_ROWS:
            break
    if not head:
        raise FileRejected([RowError(None, "", _("文件是空的"))])
    best = max(range(len(head)), key=lambda i: (_match_count(head[i][1]), -i))
    if _match_count(head[best][1]) == 0:
        if table.path is not None:
            # No known header at all in a text file: most often its encoding is not one read.
            hint = encoding_hint(table.path, (c.header for c in IMPORT_COLUMNS), table.encoding)
            raise FileRejected(
                [
                    RowError(
                        None,
                        "",
                        _("前 %(n)d 行中没有找到表头。%(hint)s")
                        % {"n": HEADER_SEARCH_ROWS, "hint": hint},
                    )
                ]
            )
        best = 0
    header_number, header_cells = head[best]
    layout = find_layout(header_number, header_cells)

    def rows() -> Iterator[ParsedRow]:
        for number, cells in head[best + 1 :]:
            row = parse_row(number, cells, layout)
            if row is not None:
                yield row
        for number, cells in table.rows:
            row = parse_row(number, cells, layout)
            if row is not None:
                yield row

    return layout, rows()


def parse_row(number: int, cells: Sequence[Any], layout: Layout) -> ParsedRow | None:
    """Convert one row's cells; None for a blank row. Never raises for bad cell content."""
    width = len(cells)
    if all(is_blank(cells[i]) for i, _c in layout.positions if i < width):
        return None
    row = ParsedRow(number)
    for index, column in layout.positions:
        cell = cells[index] if index < width else None
        try:
            value = column.converter.parse(cell)
        except CellError as exc:
            row.errors.append(RowError(number, column.header, exc.message))
            continue
        if column.level == HOUSEHOLD:
            row.household[column.field] = value
        else:
            row.member[column.field] = value
    return row
