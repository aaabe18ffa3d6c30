"""Cells for spreadsheets: what eightstep writes into a CSV or .xlsx file is never read as a formula.

A cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return is a formula to Excel (and to
LibreOffice and WPS): a household name like ``=HYPERLINK(...)`` from an imported owner list would run when an
officer opens the export. Text cells that start so get a leading ``'`` (OWASP's advice), which Excel shows as
plain text. Numbers, dates and booleans are values, not text, and are left alone. Every CSV and .xlsx writer in
eightstep goes through :func:`neutralise` (one place, so the rule cannot drift between exports).
"""

from __future__ import annotations

from typing import Any

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def neutralise(value: Any) -> Any:
    """``value`` as safe for a spreadsheet cell: text that would start a formula is prefixed with ``'``."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def neutralise_row(row: list[Any] | tuple[Any, ...]) -> list[Any]:
    return [neutralise(v) for v in row]
