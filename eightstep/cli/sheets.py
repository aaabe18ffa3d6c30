"""Tables as files officers open in Excel: .xlsx (openpyxl, imported only here) and CSV (UTF-8 with a byte-order
mark and CRLF line ends, which Excel on Chinese Windows opens correctly). Every text cell goes through
``eightstep.cells.neutralise``: nothing written is read as a formula. Workbooks are written through the
command's outputs (``eightstep.cli.outputs``): never over the database or its files, never over an existing file
without --force, whole or not at all."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eightstep.cells import neutralise, neutralise_row
from eightstep.cli.output import width

if TYPE_CHECKING:
    from eightstep.cli import Settings


@dataclass
class Sheet:
    title: str
    headers: Sequence[str]
    rows: Sequence[Sequence[Any]]


def csv_text(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    out = io.StringIO()
    writer = csv.writer(out)  # CRLF line ends, as Excel expects
    writer.writerow(neutralise_row(list(headers)))
    for row in rows:
        writer.writerow(neutralise_row(["" if v is None else v for v in row]))
    return out.getvalue()


def write_csv(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """CSV to standard output (a redirect makes the file): UTF-8 with its mark, whatever the console's code page."""
    click.echo(csv_text(headers, rows).encode("utf-8-sig"), nl=False)


def xlsx_bytes(sheets: Sequence[Sheet]) -> bytes:
    """One workbook, a sheet per table: bold header row, frozen below it, columns as wide as their text."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    book = Workbook()
    if book.active is not None:  # the empty sheet a new workbook starts with
        book.remove(book.active)
    for sheet in sheets:
        ws = book.create_sheet(_sheet_title(sheet.title))
        ws.append(neutralise_row(list(sheet.headers)))
        for cell in ws[1]:
            cell.font = Font(bold=True)
        for row in sheet.rows:
            ws.append([neutralise(_cell(v)) for v in row])
        ws.freeze_panes = "A2"
        for index, header in enumerate(sheet.headers, 1):
            longest = max([width(str(header)), *(width(str(r[index - 1] or "")) for r in sheet.rows)])
            ws.column_dimensions[ws.cell(1, index).column_letter].width = min(60, longest + 2)
    data = io.BytesIO()
    book.save(data)
    return data.getvalue()


def write_xlsx(settings: Settings, path: Path, sheets: Sequence[Sheet], *, force: bool) -> None:
    """The workbook to ``path`` through the command's outputs (protected paths, --force, staged and renamed)."""
    from eightstep.cli.outputs import outputs

    with outputs(settings, force) as out:
        out.add(Path(path), xlsx_bytes(sheets))


def _cell(value: Any) -> Any:
    """A value as openpyxl takes it: numbers and dates stay typed, an aware time becomes Asia/Shanghai's."""
    if value is None or (isinstance(value, (int, float, str, date)) and not isinstance(value, datetime)):
        return value
    if isinstance(value, Decimal):  # areas and money: a number Excel can add up
        return float(value)
    if isinstance(value, datetime):
        from eightstep.timeutil import local

        return local(value).replace(tzinfo=None) if value.tzinfo else value
    return str(value)


def _sheet_title(title: str) -> str:
    """Excel's limits on a sheet name: 31 characters, none of []:*?/\\."""
    for ch in "[]:*?/\\":
        title = title.replace(ch, " ")
    return title[:31] or "Sheet"


def xlsx_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--xlsx", "xlsx_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
                        metavar="FILE", help="Write the table to an Excel workbook (.xlsx) instead of printing it "
                                             "(headers in the chosen language).")(fn)


def csv_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--csv", "as_csv", is_flag=True,
                        help="Print CSV instead (UTF-8 with a byte-order mark and CRLF line ends, which Excel on "
                             "Chinese Windows opens correctly; the header holds stable column ids): redirect it to "
                             "a file, > table.csv")(fn)


def table_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--json, --csv, --xlsx FILE and --force (``as_json``, ``as_csv``, ``xlsx_file``, ``force``): a command that
    prints a table and can give it as data or write it to a workbook instead."""
    from eightstep.cli.outputs import force_option
    from eightstep.cli.params import json_option

    for option in (force_option, xlsx_option, csv_option, json_option):
        fn = option(fn)
    return fn


def write_table(settings: Settings, columns: Sequence[tuple[str, str]], cells: Sequence[Sequence[Any]], *,
                as_csv: bool, xlsx_file: Path | None, force: bool, sheet: str) -> None:
    """A table as CSV (``--csv``: the columns' stable keys as its header) or as a workbook of one sheet named
    ``sheet`` (``--xlsx``: the columns' labels in the chosen language); ``columns`` are (key, label) pairs."""
    if as_csv:
        write_csv([key for key, _label in columns], cells)
    elif xlsx_file is not None:
        write_xlsx(settings, xlsx_file, [Sheet(sheet, [label for _key, label in columns], cells)], force=force)
        wrote(xlsx_file, len(cells))


def one_format(**chosen: bool) -> None:
    """At most one of the output formats (--json, --csv, --xlsx, ...) per command."""
    given = [f"--{name}" for name, value in chosen.items() if value]
    if len(given) > 1:
        from eightstep.i18n import _

        raise click.UsageError(_("choose one of {options}").format(options=", ".join(given)))


def wrote(path: Path, rows: int) -> None:
    from eightstep.i18n import ngettext

    click.echo(ngettext("Wrote {path} ({count} row)", "Wrote {path} ({count} rows)", rows).format(
        path=path, count=rows))
