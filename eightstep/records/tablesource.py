"""Where table records come from: CSV (UTF-8, UTF-16 or GB18030, comma or tab) and Excel .xlsx files, each
yielding (line, cells) for every record; and the problems found in a table file."""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import io
import warnings
import zipfile
from collections.abc import Generator, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from eightstep.errors import InputError
from eightstep.i18n import _, ngettext
from eightstep.records.cells import strip_cell

XLSX_SUFFIXES = (".xlsx",)

MAX_REPORTED_PROBLEMS = 50
"""How many problems ``str(TableError)`` lists before summarising the rest."""


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
        sep = " " if self.message.startswith("is ") else ": "  # English predicates; a translation takes the colon
        return f"{where}: " + _("field '{field}'").format(field=self.field) + sep + self.message


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
        lines.append(ngettext("... and {count} more problem", "... and {count} more problems", extra).format(
            count=extra))
    return "\n".join(lines)


# --------------------------------------------------------------------------- #


class Fatal(Exception):
    """Internal: the file cannot be read further; carries the final problem."""

    def __init__(self, problem: Problem) -> None:
        super().__init__(problem.message)
        self.problem = problem


_READ_CHUNK = 1 << 20


def _decode_error(path: Path, encoding: str) -> UnicodeDecodeError | None:
    """Why the file is not text in ``encoding`` (None: it is), read a chunk at a time: any size, bounded memory."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(_READ_CHUNK):
                decoder.decode(chunk)
        decoder.decode(b"", final=True)
    except UnicodeDecodeError as e:
        return e
    return None


def _encoding(path: Path, where: str) -> str:
    """UTF-16 (by its byte-order mark), else UTF-8 (with or without one), else GB18030/GBK."""
    with path.open("rb") as handle:
        head = handle.read(2)
    if head in (b"\xff\xfe", b"\xfe\xff"):
        error = _decode_error(path, "utf-16")
        if error is not None:
            raise Fatal(Problem(where, None, None, _("cannot decode the UTF-16 file ({reason})").format(
                                                       reason=error.reason)))
        return "utf-16"
    for encoding in ("utf-8-sig", "gb18030"):
        if _decode_error(path, encoding) is None:
            return encoding
    raise Fatal(
        Problem(
            where,
            None,
            None,
            _("the text is neither UTF-8 nor GB18030/GBK; in Excel use 'Save As' > 'CSV UTF-8 (comma delimited)' "
              "or save as .xlsx"),
        )
    )


def _sniff_delimiter(lines: Iterable[str]) -> str:
    for line in lines:
        if strip_cell(line):
            return "\t" if line.count("\t") > line.count(",") else ","
    return ","


def csv_records(path: Path, where: str) -> Generator[tuple[int, list[str]], None, None]:
    """The records of a CSV file, read as a stream (any size in bounded memory)."""
    try:
        encoding = _encoding(path, where)
        with path.open(encoding=encoding, newline="") as handle:
            delimiter = _sniff_delimiter(handle)
        handle = path.open(encoding=encoding, newline="")
    except OSError as e:
        raise Fatal(Problem(where, None, None, _("cannot read the file ({strerror})").format(
                                                   strerror=e.strerror or e))) from None
    with handle:
        reader = csv.reader(handle, delimiter=delimiter)
        last = 0
        while True:
            try:
                cells = next(reader)
            except StopIteration:
                return
            except csv.Error as e:
                raise Fatal(Problem(where, last + 1, None, _("cannot read this CSV line ({e})").format(
                                                               e=e))) from None
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


def xlsx_records(path: Path, where: str) -> Generator[tuple[int, list[str]], None, None]:
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
        raise Fatal(Problem(where, None, None, _("file not found"))) from None
    except (OSError, zipfile.BadZipFile, InvalidFileException, KeyError, ValueError) as e:
        raise Fatal(
            Problem(
                where, None, None, _("cannot open it as an Excel .xlsx workbook ({e}); re-save it in Excel").format(
                                       e=e)
            )
        ) from None
    try:
        if not wb.worksheets:
            raise Fatal(Problem(where, None, None, _("the workbook has no worksheet")))
        ws = wb.worksheets[0]
        ws.reset_dimensions()  # stale <dimension> tags must not truncate data
        for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
            yield number, [_cell_text(v) for v in values]
    finally:
        wb.close()


# --------------------------------------------------------------------------- #


def is_workbook(path: Path, where: str) -> bool:
    """Whether the file is an .xlsx workbook, by its content (whatever its name says; a table piped in has
    none); other spreadsheet files that are no table eightstep reads are refused with what to do."""
    try:
        with path.open("rb") as f:
            head = f.read(8)
    except OSError as e:
        raise Fatal(Problem(where, None, None, _("cannot read the file ({strerror})").format(
                                                   strerror=e.strerror or e))) from None
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as archive:
                if "xl/workbook.xml" in archive.namelist():
                    return True
        except zipfile.BadZipFile:
            pass
        raise Fatal(Problem(where, None, None, _("a zip archive, not an Excel .xlsx workbook; save the table as "
                                                 ".xlsx or CSV")))
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise Fatal(Problem(where, None, None, _("old Excel format (.xls) or another Office file: open it in Excel "
                                                 "and save as .xlsx or CSV")))
    if head.startswith(b"%PDF"):
        raise Fatal(Problem(where, None, None, _("a PDF, not a table: give the CSV or .xlsx file")))
    if path.suffix.lower() in XLSX_SUFFIXES:
        raise Fatal(Problem(where, None, None, _("named .xlsx but not an Excel workbook; re-save it in Excel")))
    return False
