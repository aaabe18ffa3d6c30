"""Strict reading of officer-supplied tables (CSV or Excel .xlsx).

Officers keep owner lists in Excel on Chinese Windows.  This module reads such a
table into plain records, checks every cell, and reports *every* problem with its
file, line and field, so the officer can fix the file in one go.  Partial data is
never returned.  It knows nothing about the database: callers describe the
columns they expect with :class:`Column` and get back :class:`Row` objects.
The cell parsers are in :mod:`eightstep.records.cells`, the file sources in
:mod:`eightstep.records.tablesource`; both are re-exported here.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eightstep.i18n import _, ngettext
from eightstep.records.cells import (
    nfkc,
    parse_choice,
    parse_decimal,
    parse_int_range,
    parse_phone,
    parse_room,
    parse_text,
    strip_cell,
)
from eightstep.records.tablesource import (
    MAX_REPORTED_PROBLEMS,
    Fatal,
    Problem,
    TableError,
    csv_records,
    is_workbook,
    xlsx_records,
)

__all__ = [
    "MAX_REPORTED_PROBLEMS",
    "Column",
    "Problem",
    "Row",
    "TableError",
    "parse_choice",
    "parse_decimal",
    "parse_int_range",
    "parse_phone",
    "parse_room",
    "parse_text",
    "read_table",
]



@dataclass(frozen=True)
class Column:
    """An expected column: canonical name, accepted header spellings, cell parser.

    ``parse`` gets the stripped, non-empty cell text and raises ValueError with
    a message telling the officer what to do.  ``required`` means the column
    must be present and every cell non-empty; otherwise ``default`` is used for
    an absent column or an empty cell.
    """

    name: str
    aliases: tuple[str, ...]
    parse: Callable[[str], Any]
    required: bool = True
    default: Any = None


@dataclass(frozen=True)
class Row:
    """One data record: ``line`` is its 1-based line (CSV) or row number (xlsx)."""

    line: int
    values: dict[str, Any]


# --------------------------------------------------------------------------- #

_UNIT_SUFFIX_RE = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】)$")


def _header_key(s: str) -> str:
    """Normalise a header for comparison.

    NFKC turns full-width parentheses, letters, digits and spaces into ASCII
    (and "m²" into "m2"); case is folded; spaces, underscores and hyphens are
    dropped, so "房　号" (padded for alignment), "Owner Name" and "owner_name"
    compare equal to "房号" and "ownername".
    """
    return re.sub(r"[\s_\-]+", "", nfkc(strip_cell(s))).casefold()


def _without_unit(s: str) -> str:
    """Drop a trailing unit: "面积（平方米）" -> "面积", "area (m2)" -> "area"."""
    return _UNIT_SUFFIX_RE.sub("", nfkc(strip_cell(s)))


def _alias_index(columns: Sequence[Column]) -> dict[str, Column]:
    index: dict[str, Column] = {}
    names: set[str] = set()
    for col in columns:
        if col.name in names:
            raise ValueError(f"read_table: column name {col.name!r} given twice")
        names.add(col.name)
        for spelling in (col.name, *col.aliases):
            key = _header_key(spelling)
            other = index.get(key)
            if other is not None and other is not col:
                raise ValueError(
                    f"read_table: header spelling {spelling!r} is ambiguous ({other.name!r} and {col.name!r})"
                )
            index[key] = col
    return index


def _spellings(col: Column) -> str:
    return ", ".join(dict.fromkeys((col.name, *col.aliases)))


def _match_header(cell: str, index: dict[str, Column]) -> Column | None:
    col = index.get(_header_key(cell))
    if col is None:
        col = index.get(_header_key(_without_unit(cell)))
    return col


# --------------------------------------------------------------------------- #

def _accepted_columns(columns: Sequence[Column]) -> str:
    return "; ".join(f"{c.name} ({_spellings(c)})" for c in columns)


def read_table(path: Path, columns: Sequence[Column]) -> list[Row]:
    """Read all records of a CSV or .xlsx file, strictly (an .xlsx is recognised by its content).

    The first non-blank row is the header.  Returns one Row per non-blank
    record with a value (parsed or default) for every column; raises
    TableError listing every problem in the file otherwise.
    """
    rows: list[Row] = []
    stream_table(path, columns, rows.append)
    return rows


def stream_table(path: Path, columns: Sequence[Column], add: Callable[[Row], None]) -> int:
    """``read_table`` for a file of any size: each good Row goes to ``add`` as it is read, and nothing is kept.

    Raises TableError with every problem once the whole file is read; rows already handed to ``add`` must then
    be discarded by the caller (an import stages them in its transaction, which is rolled back). Returns the
    number of rows.
    """
    path = Path(path)
    where = str(path)
    index = _alias_index(columns)
    if not path.is_file():
        raise TableError([Problem(where, None, None, _("file not found"))])
    records: Callable[[Path, str], Generator[tuple[int, list[str]], None, None]]
    try:
        xlsx = is_workbook(path, where)
    except Fatal as fatal:
        raise TableError([fatal.problem]) from None
    if xlsx:
        records, label, is_csv = xlsx_records, _letter_label, False
    else:
        records, label, is_csv = csv_records, _number_label, True

    problems: list[Problem] = []
    count = 0

    def counted(row: Row) -> None:
        nonlocal count
        count += 1
        if not problems:  # a header problem refuses the whole file: its rows go nowhere
            add(row)

    try:
        with contextlib.closing(records(path, where)) as source:
            _read(source, where, columns, index, label, is_csv, problems, counted)
    except Fatal as fatal:
        problems.append(fatal.problem)
    if problems:
        raise TableError(problems)
    return count


def _number_label(i: int) -> str:
    return str(i + 1)


def _letter_label(i: int) -> str:
    from openpyxl.utils import get_column_letter

    return get_column_letter(i + 1)


def _read(
    records: Iterable[tuple[int, list[str]]],
    where: str,
    columns: Sequence[Column],
    index: dict[str, Column],
    label: Callable[[int], str],
    is_csv: bool,
    problems: list[Problem],
    add: Callable[[Row], None],
) -> None:
    it = iter(records)
    header: list[str] | None = None
    header_line = 0
    for line, raw in it:
        cells = [strip_cell(c) for c in raw]
        if any(cells):
            header, header_line = cells, line
            break
    if header is None:
        problems.append(
            Problem(
                where,
                None,
                None,
                _("the file is empty; the first row must name the columns: {columns}").format(
                    columns=_accepted_columns(columns)),
            )
        )
        return

    # Work out which file column holds which Column.
    positions: dict[str, int] = {}
    unknown: list[str] = []
    for i, cell in enumerate(header):
        if not cell:
            continue
        col = _match_header(cell, index)
        if col is None:
            unknown.append(cell)
        elif col.name in positions:
            first = header[positions[col.name]]
            problems.append(
                Problem(
                    where,
                    header_line,
                    col.name,
                    _("is given by more than one column ('{first}' in column {positions} and '{cell}' in column "
                      "{i}); keep only one").format(
                        first=first, positions=label(positions[col.name]), cell=cell, i=label(i)),
                )
            )
        else:
            positions[col.name] = i

    sep = re.search(r"[，;；|]", header[0]) if len(header) == 1 and not positions else None
    if sep is not None:
        problems.append(
            Problem(
                where,
                header_line,
                None,
                _("the header '{header}' is one single column; the file seems to be separated by '{group}', but "
                  "only commas or tabs are understood; in Excel use 'Save As' > 'CSV UTF-8 (comma delimited)'").format(
                    header=header[0], group=sep.group()),
            )
        )
        return
    filled = [c for c in header if c]
    if len(filled) == 1 and not positions:
        problems.append(
            Problem(
                where,
                header_line,
                None,
                _("the first row '{filled}' is not a header (it names no known column); the first row must be the "
                  "header, so delete any title rows above it. Accepted columns: {columns}").format(
                    filled=filled[0], columns=_accepted_columns(columns)),
            )
        )
        return
    if unknown:
        names = ", ".join(f"'{u}'" for u in unknown)
        problems.append(
            Problem(
                where,
                header_line,
                None,
                ngettext("unknown column {names}; rename or delete it. Accepted columns: {columns}",
                         "unknown columns {names}; rename or delete them. Accepted columns: {columns}",
                         len(unknown)).format(names=names, columns=_accepted_columns(columns)),
            )
        )
    for col in columns:
        if col.required and col.name not in positions:
            problems.append(
                Problem(
                    where,
                    header_line,
                    col.name,
                    _("is a required column but the header has no such column (name a column one of: {col})").format(
                        col=_spellings(col)),
                )
            )

    # Data rows.  Cells beyond the header or under an empty header must be empty.
    # Header problems come first in the report, then row problems in file order.
    row_problems: list[Problem] = []
    stray: dict[int, tuple[int, str]] = {}  # file column -> first (line, value) without a header
    try:
        _read_rows(it, where, columns, positions, header, is_csv, add, row_problems, stray)
    except Fatal as fatal:  # an unreadable line: report it after what was found before it
        row_problems.append(fatal.problem)
    for i in sorted(stray):
        line, value = stray[i]
        problems.append(
            Problem(
                where,
                header_line,
                None,
                _("column {i} has no header but holds data (e.g. '{value}' on line {line}); add a header or delete "
                  "the column").format(i=label(i), value=value, line=line),
            )
        )
    problems.extend(row_problems)


def _read_rows(
    it: Iterable[tuple[int, list[str]]],
    where: str,
    columns: Sequence[Column],
    positions: dict[str, int],
    header: list[str],
    is_csv: bool,
    add: Callable[[Row], None],
    row_problems: list[Problem],
    stray: dict[int, tuple[int, str]],
) -> None:
    width = len(header)
    for line, raw in it:
        cells = [strip_cell(c) for c in raw]
        if not any(cells):
            continue
        if is_csv and len(cells) > width:
            # Excel writes every CSV row as wide as the header: an unquoted comma
            # inside a value ("12,5") shifted the cells, so none of them can be trusted.
            row_problems.append(
                Problem(
                    where,
                    line,
                    None,
                    _("this line has {count} cells but the header has {width}; a value probably contains a comma "
                      "(write decimals with a dot, e.g. 86.50) or a column has no header").format(
                        count=len(cells), width=width),
                )
            )
            continue
        for i, cell in enumerate(cells):
            if cell and (i >= width or not header[i]) and i not in stray:
                stray[i] = (line, cell)
        values: dict[str, Any] = {}
        found = len(row_problems)
        for col in columns:
            pos = positions.get(col.name)
            text = cells[pos] if pos is not None and pos < len(cells) else ""
            if not text:
                if col.required:
                    if pos is not None:
                        row_problems.append(Problem(where, line, col.name, _("is empty")))
                else:
                    values[col.name] = col.default
                continue
            try:
                values[col.name] = col.parse(text)
            except ValueError as e:
                message = str(e) or _("'{text}' is not valid").format(text=text)
                row_problems.append(Problem(where, line, col.name, message))
        if len(row_problems) == found:  # a row with a problem goes nowhere: the whole file is refused anyway
            add(Row(line, values))
