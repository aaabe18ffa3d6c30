"""Printing helpers shared by the commands: JSON, aligned tables with CJK widths, local times."""

from __future__ import annotations

import codecs
import io
import json
import sys
import unicodedata
from collections.abc import Iterable, Sequence
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


# Code pages of Chinese Windows: GB18030 is their superset that encodes every character (a rare name such as
# 䶮, ², ✓), and stays what Notepad, Excel (a CSV opened by double-click) and PowerShell read as the "ANSI" text.
_CHINESE_CODE_PAGES = {"gbk", "gb2312", "gb18030", "cp936", "hz"}


def fit_streams() -> None:
    """Make stdout and stderr able to print every character, whatever the console's code page.

    Redirected to a file or a pipe on Chinese Windows, Python writes the ANSI code page (cp936), which lacks
    characters eightstep prints (``²``, ``✓``, rare characters in names): such a stream becomes GB18030, which
    encodes all of them and reads as cp936 wherever cp936 has the character. Any other narrow encoding of a
    redirected stream becomes UTF-8. A terminal keeps its encoding and shows ``?`` for what it cannot show.
    """
    for stream in (sys.stdout, sys.stderr):
        if not isinstance(stream, io.TextIOWrapper) or not stream.encoding:
            continue
        name = codecs.lookup(stream.encoding).name
        if name in ("utf-8", "utf-16", "utf-32") or name.startswith("utf_"):
            continue
        try:
            if stream.isatty():
                stream.reconfigure(errors="replace")
            elif name in _CHINESE_CODE_PAGES:
                stream.reconfigure(encoding="gb18030", errors="replace")
            else:
                stream.reconfigure(encoding="utf-8")
        except (ValueError, OSError):  # a closed or unusual stream: leave it as it is
            continue


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, ensure_ascii=False, indent=2, default=_default))


def emit_json_list(items: Iterable[Any], batch: int = 500, *, encoded: bool = False) -> None:
    """A JSON list written as it is produced, one item per line (compact, by the C encoder): a large listing
    never exists whole in memory, as objects or as text. ``encoded``: the items are their JSON texts already."""
    encode = _as_is if encoded else json.JSONEncoder(ensure_ascii=False, default=_default).encode
    lines: list[str] = []
    first = True
    for item in items:
        lines.append(("[\n" if first else ",\n") + encode(item))
        first = False
        if len(lines) >= batch:
            click.echo("".join(lines), nl=False)
            lines = []
    click.echo("".join(lines) + ("[]" if first else "\n]"))


def _as_is(text: str) -> str:
    return text


def width(text: str) -> int:
    return sum(2 if unicodedata.east_asian_width(ch) in "WF" else 1 for ch in text)


def pad(text: str, size: int, right: bool = False) -> str:
    """``text`` filled with spaces to ``size`` display cells (on the left with ``right``)."""
    fill = " " * max(0, size - width(text))
    return fill + text if right else text + fill


def table(headers: Sequence[str], rows: Sequence[Sequence[Any]], fit: int | None = None) -> None:
    """Columns aligned for a terminal, counting CJK characters as two cells.

    ``fit``: the width of the terminal; the last column then wraps onto lines of its own width (at least 20
    cells) instead of running past the edge."""
    cells = [[("" if v is None else str(v)) for v in row] for row in rows]
    sizes = [max([width(h), *(width(r[i]) for r in cells)]) for i, h in enumerate(headers)]
    if fit is not None and len(sizes) > 1:
        before = sum(sizes[:-1]) + 2 * (len(sizes) - 1)
        sizes[-1] = min(sizes[-1], max(20, fit - before))
    click.echo("  ".join(pad(h, sizes[i]) for i, h in enumerate(headers)).rstrip())
    click.echo("  ".join("-" * s for s in sizes))
    for row in cells:
        last = _wrap(row[-1], sizes[-1]) if fit is not None else [row[-1]]
        click.echo("  ".join(pad(v, sizes[i]) for i, v in enumerate([*row[:-1], last[0]])).rstrip())
        indent = " " * (sum(sizes[:-1]) + 2 * (len(sizes) - 1))
        for line in last[1:]:
            click.echo(indent + line)


def _wrap(text: str, size: int) -> list[str]:
    if width(text) <= size:
        return [text]
    from eightstep.cli.helpformat import CjkWrapper

    return CjkWrapper(size, replace_whitespace=True).wrap(text) or [""]


def terminal_width() -> int | None:
    """The width of the terminal standard output goes to; None when it goes to a file or a pipe."""
    import shutil
    import sys

    if not sys.stdout.isatty():
        return None
    return shutil.get_terminal_size((100, 24)).columns


def warn(message: str) -> None:
    click.echo(f"Warning: {message}", err=True)
