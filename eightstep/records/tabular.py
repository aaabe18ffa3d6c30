"""Strict reading of officer-supplied tables (CSV or Excel .xlsx).

Officers keep owner lists in Excel on Chinese Windows.  This module reads such a
table into plain records, checks every cell, and reports *every* problem with its
file, line and field, so the officer can fix the file in one go.  Partial data is
never returned.  It knows nothing about the database: callers describe the
columns they expect with :class:`Column` and get back :class:`Row` objects.
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import re
import unicodedata
import warnings
import zipfile
from collections.abc import Callable, Generator, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from eightstep.errors import InputError

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
    "parse_text",
    "read_table",
]

MAX_REPORTED_PROBLEMS = 50
"""How many problems ``str(TableError)`` lists before summarising the rest."""

CSV_SUFFIXES = (".csv", ".txt")
XLSX_SUFFIXES = (".xlsx",)

# Characters stripped around cells and headers besides ordinary whitespace
# (which already includes the full-width space U+3000 and NBSP): zero-width
# characters and stray byte-order marks that Excel and web copy-paste leave behind.
_EDGE_JUNK = r"[\s\u200b\u200c\u200d\u2060\ufeff]+"
_EDGE_RE = re.compile(rf"^{_EDGE_JUNK}|{_EDGE_JUNK}$")


# --------------------------------------------------------------------------- #
# Problems and errors
# --------------------------------------------------------------------------- #


@dataclass(frozen=True)
class Problem:
    """One thing wrong with a table file.

    ``line`` is the 1-based line (CSV) or row number (xlsx), or None for
    file-level problems; ``field`` is the canonical column name, if any.
    A ``message`` starting with "is " reads as a predicate on the field
    ("field 'owner' is empty"); any other message follows a colon.
    """

    path: str
    line: int | None
    field: str | None
    message: str

    def __str__(self) -> str:
        where = self.path if self.line is None else f"{self.path}:{self.line}"
        if self.field is None:
            return f"{where}: {self.message}"
        sep = " " if self.message.startswith("is ") else ": "
        return f"{where}: field '{self.field}'{sep}{self.message}"


class TableError(InputError, ValueError):
    """Raised with ALL problems found in a table file.

    ``.problems`` holds every Problem (not capped); ``str()`` has one line per
    problem, listing at most MAX_REPORTED_PROBLEMS and then
    "... and N more problems".
    """

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems: list[Problem] = list(problems)
        super().__init__(_format_problems(self.problems))

    def __str__(self) -> str:
        return _format_problems(self.problems)


def _format_problems(problems: Sequence[Problem]) -> str:
    lines = [str(p) for p in problems[:MAX_REPORTED_PROBLEMS]]
    extra = len(problems) - MAX_REPORTED_PROBLEMS
    if extra > 0:
        lines.append(f"... and {extra} more problem{'s' if extra != 1 else ''}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- #
# Columns and rows
# --------------------------------------------------------------------------- #


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
# Small reusable cell parsers
# --------------------------------------------------------------------------- #


def _strip(s: str) -> str:
    return _EDGE_RE.sub("", s)


def _nfkc(s: str) -> str:
    """Full-width digits, letters, dots and brackets to their ASCII forms."""
    return unicodedata.normalize("NFKC", s)


def parse_text(s: str) -> str:
    """Return the stripped text; raise ValueError if it is empty."""
    text = _strip(s)
    if not text:
        raise ValueError("is empty; fill it in")
    return text


_INT_RE = re.compile(r"[+-]?[0-9]+(?:\.0+)?", re.ASCII)


def parse_int_range(lo: int, hi: int) -> Callable[[str], int]:
    """Return a parser for a whole number between ``lo`` and ``hi`` inclusive.

    Accepts full-width digits and a zero fraction such as "3.0" (Excel's way of
    showing 3 with a number format); rejects anything else.
    """
    if lo > hi:
        raise ValueError(f"parse_int_range: lo ({lo}) is greater than hi ({hi})")

    def parse(s: str) -> int:
        text = _nfkc(_strip(s))
        if not _INT_RE.fullmatch(text):
            raise ValueError(f"'{s}' is not a whole number (use digits only, e.g. {max(lo, min(hi, 3))})")
        value = int(text.split(".")[0])
        if not lo <= value <= hi:
            raise ValueError(f"'{s}' is out of range (use a whole number from {lo} to {hi})")
        return value

    return parse


_DECIMAL_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def parse_decimal(places: int = 2, positive: bool = True) -> Callable[[str], Decimal]:
    """Return a parser for an exact decimal with at most ``places`` decimals.

    The result is quantized ("86.5" -> Decimal("86.50")).  Decimal commas
    ("12,5", also full-width), thousands separators and exponents are rejected.
    With ``positive`` the value must be greater than zero.
    """
    if places < 0:
        raise ValueError(f"parse_decimal: places must be >= 0, not {places}")
    quantum = Decimal(1).scaleb(-places)
    example = "86" if places == 0 else "86." + "5".ljust(places, "0")

    def parse(s: str) -> Decimal:
        text = _nfkc(_strip(s))
        if not _DECIMAL_RE.fullmatch(text) or len(text) > 40:
            raise ValueError(f"'{s}' is not a number (use digits and a dot, e.g. {example})")
        value = Decimal(text)
        try:
            result = value.quantize(quantum)
        except InvalidOperation:
            raise ValueError(f"'{s}' is too large to be a sensible value; check it") from None
        if result != value:
            raise ValueError(
                f"'{s}' has more than {places} decimal place{'s' if places != 1 else ''} "
                f"(round it, e.g. {result})"
            )
        if positive and result <= 0:
            raise ValueError(f"'{s}' must be greater than 0")
        return result

    return parse


def _choice_key(s: str) -> str:
    return re.sub(r"\s+", " ", _nfkc(_strip(s))).casefold()


def parse_choice(mapping: dict[str, str]) -> Callable[[str], str]:
    """Return a parser mapping synonyms to canonical values, case-insensitively.

    E.g. ``{"agree": "agree", "同意": "agree", "赞成": "agree", "disagree": "disagree"}``.
    Full-width letters and surrounding spaces are ignored.  The error message
    lists the accepted spellings.
    """
    if not mapping:
        raise ValueError("parse_choice: mapping is empty")
    lookup: dict[str, str] = {}
    for spelling, value in mapping.items():
        key = _choice_key(spelling)
        if not key:
            raise ValueError("parse_choice: empty spelling in mapping")
        if lookup.get(key, value) != value:
            raise ValueError(f"parse_choice: {spelling!r} maps to both {lookup[key]!r} and {value!r}")
        lookup[key] = value
    accepted = ", ".join(dict.fromkeys(_strip(k) for k in mapping))

    def parse(s: str) -> str:
        try:
            return lookup[_choice_key(s)]
        except KeyError:
            raise ValueError(f"'{s}' is not an accepted value (use one of: {accepted})") from None

    return parse


_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212]+")
_DIGITS_RE = re.compile(r"[0-9]{7,15}", re.ASCII)


def parse_phone(s: str) -> str:
    """A phone number as it was entered (027-87654321 stays readable), checked: 7 to 15 digits once spaces and
    dashes are left out, optionally after +86 or another "+<country code>". Full-width characters become
    ASCII and runs of spaces one space."""
    entered = " ".join(_nfkc(_strip(s)).split())
    text = _PHONE_SEPARATORS.sub("", entered)
    if text.startswith("+86"):
        text = text[3:]
    elif text.startswith("+"):
        text = text[1:]
    if not _DIGITS_RE.fullmatch(text):
        raise ValueError(
            f"'{s}' is not a phone number (use 7 to 15 digits, optionally starting with +86, "
            "e.g. 13800138000)"
        )
    return entered


# --------------------------------------------------------------------------- #
# Header matching
# --------------------------------------------------------------------------- #

_UNIT_SUFFIX_RE = re.compile(r"\s*(?:\([^()]*\)|\[[^\[\]]*\]|【[^【】]*】)$")


def _header_key(s: str) -> str:
    """Normalise a header for comparison.

    NFKC turns full-width parentheses, letters, digits and spaces into ASCII
    (and "m²" into "m2"); case is folded; spaces, underscores and hyphens are
    dropped, so "房　号" (padded for alignment), "Owner Name" and "owner_name"
    compare equal to "房号" and "ownername".
    """
    return re.sub(r"[\s_\-]+", "", _nfkc(_strip(s))).casefold()


def _without_unit(s: str) -> str:
    """Drop a trailing unit: "面积（平方米）" -> "面积", "area (m2)" -> "area"."""
    return _UNIT_SUFFIX_RE.sub("", _nfkc(_strip(s)))


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
# File sources: each yields (line, cells) for every record, blank ones included
# --------------------------------------------------------------------------- #


class _Fatal(Exception):
    """Internal: the file cannot be read further; carries the final problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


def _decode(data: bytes, where: str) -> str:
    if data.startswith((b"\xff\xfe", b"\xfe\xff")):
        try:
            return data.decode("utf-16")
        except UnicodeDecodeError as e:
            raise _Fatal(Problem(where, None, None, f"cannot decode the UTF-16 file ({e.reason})")) from None
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise _Fatal(
            Problem(
                where,
                None,
                None,
                "the text is neither UTF-8 nor GB18030/GBK; in Excel use "
                "'Save As' > 'CSV UTF-8 (comma delimited)' or save as .xlsx",
            )
        ) from None


def _sniff_delimiter(text: str) -> str:
    for line in text.splitlines():
        if _strip(line):
            return "\t" if line.count("\t") > line.count(",") else ","
    return ","


def _csv_records(path: Path, where: str) -> Generator[tuple[int, list[str]], None, None]:
    try:
        data = path.read_bytes()
    except OSError as e:
        raise _Fatal(Problem(where, None, None, f"cannot read the file ({e.strerror or e})")) from None
    text = _decode(data, where)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=_sniff_delimiter(text))
    last = 0
    while True:
        try:
            cells = next(reader)
        except StopIteration:
            return
        except csv.Error as e:
            raise _Fatal(Problem(where, last + 1, None, f"cannot read this CSV line ({e})")) from None
        yield last + 1, cells  # a quoted cell may span lines: report where the record starts
        last = reader.line_num


def _cell_text(value: object) -> str:
    """Turn an xlsx cell value into the text an officer sees."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            return str(value)
        if value.is_integer():
            return str(int(value))
        # 15 significant digits, as Excel displays: 86.49999999999999 -> "86.5"
        return format(Decimal(format(value, ".15g")).normalize(), "f")
    if isinstance(value, dt.datetime):
        if value.time() == dt.time(0, 0) and value.tzinfo is None:
            return value.date().isoformat()
        return value.isoformat()
    if isinstance(value, (dt.date, dt.time)):
        return value.isoformat()
    return str(value)


def _xlsx_records(path: Path, where: str) -> Generator[tuple[int, list[str]], None, None]:
    # Imported here so that CSV-only callers do not pay for openpyxl.
    from openpyxl import load_workbook
    from openpyxl.utils.exceptions import InvalidFileException

    try:
        with warnings.catch_warnings():
            # openpyxl warns about Excel features it drops (data validation, styles);
            # they do not matter for reading values.
            warnings.simplefilter("ignore", UserWarning)
            # from the bytes: openpyxl would refuse a path that does not end in .xlsx
            wb = load_workbook(io.BytesIO(path.read_bytes()), read_only=True, data_only=True)
    except FileNotFoundError:
        raise _Fatal(Problem(where, None, None, "file not found")) from None
    except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as e:
        raise _Fatal(
            Problem(
                where, None, None, f"cannot open it as an Excel .xlsx workbook ({e}); re-save it in Excel"
            )
        ) from None
    try:
        if not wb.worksheets:
            raise _Fatal(Problem(where, None, None, "the workbook has no worksheet"))
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # stale <dimension> tags must not truncate data
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(v) for v in values]
    finally:
        wb.close()


# --------------------------------------------------------------------------- #
# read_table
# --------------------------------------------------------------------------- #


def _accepted_columns(columns: Sequence[Column]) -> str:
    return "; ".join(f"{c.name} ({_spellings(c)})" for c in columns)


def read_table(path: Path, columns: Sequence[Column]) -> list[Row]:
    """Read all records of a CSV or .xlsx file, strictly (an .xlsx is recognised by its content).

    The first non-blank row is the header.  Returns one Row per non-blank
    record with a value (parsed or default) for every column; raises
    TableError listing every problem in the file otherwise.
    """
    path = Path(path)
    where = str(path)
    index = _alias_index(columns)
    if not path.is_file():
        raise TableError([Problem(where, None, None, "file not found")])
    records: Callable[[Path, str], Generator[tuple[int, list[str]], None, None]]
    try:
        is_xlsx = _is_workbook(path, where)
    except _Fatal as fatal:
        raise TableError([fatal.problem]) from None
    if is_xlsx:
        records, label, is_csv = _xlsx_records, _letter_label, False
    else:
        records, label, is_csv = _csv_records, _number_label, True

    problems: list[Problem] = []
    rows: list[Row] = []
    try:
        with contextlib.closing(records(path, where)) as source:
            _read(source, where, columns, index, label, is_csv, problems, rows)
    except _Fatal as fatal:
        problems.append(fatal.problem)
    if problems:
        raise TableError(problems)
    return rows


def _is_workbook(path: Path, where: str) -> bool:
    """Whether the file is an .xlsx workbook, by its content (whatever its name says; a table piped in has
    none); other spreadsheet files that are no table eightstep reads are refused with what to do."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        raise _Fatal(Problem(where, None, None, f"cannot read the file ({e.strerror or e})")) from None
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                if "xl/workbook.xml" in archive.namelist():
                    return True
        except zipfile.BadZipFile:
            pass
        raise _Fatal(Problem(where, None, None, "a zip archive, not an Excel .xlsx workbook; save the table as "
                                                ".xlsx or CSV"))
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise _Fatal(Problem(where, None, None, "old Excel format (.xls) or another Office file: open it in Excel "
                                                "and save as .xlsx or CSV"))
    if head.startswith(b"%PDF"):
        raise _Fatal(Problem(where, None, None, "a PDF, not a table: give the CSV or .xlsx file"))
    if path.suffix.lower() in XLSX_SUFFIXES:
        raise _Fatal(Problem(where, None, None, "named .xlsx but not an Excel workbook; re-save it in Excel"))
    return False


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
    rows: list[Row],
) -> None:
    it = iter(records)
    header: list[str] | None = None
    header_line = 0
    for line, raw in it:
        cells = [_strip(c) for c in raw]
        if any(cells):
            header, header_line = cells, line
            break
    if header is None:
        problems.append(
            Problem(
                where,
                None,
                None,
                f"the file is empty; the first row must name the columns: {_accepted_columns(columns)}",
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
                    f"is given by more than one column ('{first}' in column {label(positions[col.name])} "
                    f"and '{cell}' in column {label(i)}); keep only one",
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
                f"the header '{header[0]}' is one single column; the file seems to be separated by "
                f"'{sep.group()}', but only commas or tabs are understood; in Excel use "
                "'Save As' > 'CSV UTF-8 (comma delimited)'",
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
                f"the first row '{filled[0]}' is not a header (it names no known column); the first "
                "row must be the header, so delete any title rows above it. "
                f"Accepted columns: {_accepted_columns(columns)}",
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
                f"unknown column{'s' if len(unknown) > 1 else ''} {names}; rename or delete "
                f"{'them' if len(unknown) > 1 else 'it'}. Accepted columns: {_accepted_columns(columns)}",
            )
        )
    for col in columns:
        if col.required and col.name not in positions:
            problems.append(
                Problem(
                    where,
                    header_line,
                    col.name,
                    f"is a required column but the header has no such column "
                    f"(name a column one of: {_spellings(col)})",
                )
            )

    # Data rows.  Cells beyond the header or under an empty header must be empty.
    # Header problems come first in the report, then row problems in file order.
    row_problems: list[Problem] = []
    stray: dict[int, tuple[int, str]] = {}  # file column -> first (line, value) without a header
    try:
        _read_rows(it, where, columns, positions, header, is_csv, rows, row_problems, stray)
    except _Fatal as fatal:  # an unreadable line: report it after what was found before it
        row_problems.append(fatal.problem)
    for i in sorted(stray):
        line, value = stray[i]
        problems.append(
            Problem(
                where,
                header_line,
                None,
                f"column {label(i)} has no header but holds data (e.g. '{value}' on line {line}); "
                "add a header or delete the column",
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
    rows: list[Row],
    row_problems: list[Problem],
    stray: dict[int, tuple[int, str]],
) -> None:
    width = len(header)
    for line, raw in it:
        cells = [_strip(c) for c in raw]
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
                    f"this line has {len(cells)} cells but the header has {width}; a value probably "
                    "contains a comma (write decimals with a dot, e.g. 86.50) or a column has no header",
                )
            )
            continue
        for i, cell in enumerate(cells):
            if cell and (i >= width or not header[i]) and i not in stray:
                stray[i] = (line, cell)
        values: dict[str, Any] = {}
        for col in columns:
            pos = positions.get(col.name)
            text = cells[pos] if pos is not None and pos < len(cells) else ""
            if not text:
                if col.required:
                    if pos is not None:
                        row_problems.append(Problem(where, line, col.name, "is empty"))
                else:
                    values[col.name] = col.default
                continue
            try:
                values[col.name] = col.parse(text)
            except ValueError as e:
                row_problems.append(Problem(where, line, col.name, str(e) or f"'{text}' is not valid"))
        rows.append(Row(line, values))
