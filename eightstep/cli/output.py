"""Printing helpers shared by the commands: JSON, aligned tables with CJK widths, local times."""

from __future__ import annotations

import json
import unicodedata
from collections.abc import Sequence
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import click


def _default(value: Any) -> Any:
    if isinstance(value, datetime):
        from eightstep.timeutil import iso_local

        return iso_local(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot serialise {type(value).__name__}")


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, size: int) -> str:
    return text + " " * max(0, size - width(text))


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]]) -> None:
    """Columns aligned for a terminal, counting CJK characters as two cells."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    sizes = [max([width(h), *(width(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    click.echo("  ".join(pad(h, sizes[i]) for i, h in enumerate(headers)).rstrip())
    click.echo("  ".join("-" * s for s in sizes))
    for row in cells:
        click.echo("  ".join(pad(v, sizes[i]) for i, v in enumerate(row)).rstrip())


def warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)
