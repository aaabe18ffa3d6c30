"""Shared options and parameter types."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import click

from eightstep.errors import InputError


class ParsedType(click.ParamType):
    """A value the library parses (a date, an amount in yuan), its message naming the option as typed (``--from``)
    and turned into click's usage error (exit 2). A value that is not text is already converted (a default)."""

    def parse(self, text: str, field: str) -> Any:
        raise NotImplementedError

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> Any:
        if not isinstance(value, str):
            return value
        field = (max(param.opts, key=len) if isinstance(param, click.Option)
                 else param.human_readable_name if param is not None else self.name)
        try:
            return self.parse(value, field)
        except InputError as exc:
            self.fail(str(exc), param, ctx)


class AtType(ParsedType):
    """A business date/time: 2025-03-01 or '2025-03-01 14:30' (Asia/Shanghai), or ISO 8601 with offset."""

    name = "DATE"

    def parse(self, text: str, field: str) -> datetime:
        from eightstep.timeutil import parse_at

        return parse_at(text, field=field)


AT = AtType()

# A record's number as the database keeps it (SQLite and PostgreSQL integers are 64-bit): larger is no record.
RECORD_ID = click.IntRange(1, 2**63 - 1)


def at_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--at", type=AT, default=None,
                        help="When it happened (default now): 2025-03-01 or '2025-03-01 14:30', Asia/Shanghai.")(fn)


def _actor(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    from eightstep.cli import Settings

    settings = ctx.find_object(Settings)
    return settings.actor(value) if settings is not None else value


def actor_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--actor", default=None, callback=_actor,
                        help="Who acts (default $EIGHTSTEP_ACTOR, the settings file's actor, or the login "
                             "name).")(fn)


def as_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--as ROLE: in which role the actor acts (kept in the history). Every recording command takes it."""
    return click.option("--as", "as_role", default=None, metavar="ROLE",
                        help="The role the actor acts in, e.g. officer, owner_rep, negotiator (default: the "
                             "actor's recorded role in the case, if any).")(fn)


def acting_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--actor and --as: who acts, and in which role (``actor``, ``as_role``)."""
    return actor_option(as_option(fn))


def recording_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--at, --actor and --as: when it happened, who acts and in which role (``at``, ``actor``, ``as_role``): every
    command that records something takes them."""
    return at_option(acting_options(fn))


class PlannedAtType(ParsedType):
    """A date/time that may lie ahead (a review date is a plan, not a record); otherwise as ``AtType``."""

    name = "DATE"

    def parse(self, text: str, field: str) -> datetime:
        from eightstep.i18n import _
        from eightstep.timeutil import parse_at

        if not text.strip():
            raise InputError(_("{field}: give a date, e.g. 2025-03-01 or '2025-03-01 14:30'").format(field=field))
        return parse_at(text, field=field, planned=True)


PLANNED_AT = PlannedAtType()


class YuanType(ParsedType):
    """An amount in yuan with at most 2 decimals (650000 or 650000.01), converted to integer fen."""

    name = "AMOUNT"

    def parse(self, text: str, field: str) -> int:
        from eightstep.rules.money import parse_yuan

        return parse_yuan(text, field=field)


YUAN = YuanType()


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    def mark(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        ctx.meta["json"] = value
        return value

    return click.option("--json", "as_json", is_flag=True, callback=mark, expose_value=True,
                        help="Print JSON instead of text.")(fn)


class CaseIdType(click.ParamType):
    """A case id as typed: the case's own id, or one differing only in letter case when that is unambiguous
    (rd-3-2 -> RD-3-2); an unknown id gets "did you mean"."""

    name = "CASE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> str:
        from eightstep.cli import Settings

        settings = ctx.find_object(Settings) if ctx is not None else None
        if settings is None or ctx is None or ctx.resilient_parsing:
            return str(value)
        from eightstep.engine.lookup import resolve_case_id

        return resolve_case_id(settings.workspace(), str(value))

    def shell_complete(self, ctx: click.Context, param: click.Parameter, incomplete: str) -> list[Any]:
        from eightstep.cli.completion import case_ids

        return case_ids(ctx, incomplete)


CASE = CaseIdType()
case_argument = click.argument("case_id", metavar="CASE", type=CASE)  # CASE: the case a command is about


def yes_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    """--yes: do it without asking (for scripts; a command asks only on a terminal anyway)."""
    return click.option("--yes", "-y", "yes", is_flag=True,
                        help="Do not ask for confirmation (it is asked only on a terminal).")(fn)


def interactive() -> bool:
    """A person at a terminal: standard input and output are both a terminal."""
    import sys

    return sys.stdin.isatty() and sys.stdout.isatty()


def confirm(question: str, yes: bool) -> None:
    """Ask ``question`` on a terminal unless --yes; "no" aborts with nothing done (exit 1)."""
    if yes or not interactive():
        return
    if not click.confirm(question, default=False):
        from eightstep.i18n import _

        raise click.ClickException(_("nothing was done"))


TABLE_FILE = click.Path(path_type=Path, dir_okay=False, allow_dash=True)  # a CSV or .xlsx, or - for stdin


@contextmanager
def table_input(file: Path) -> Iterator[Path]:
    """The table file to read: itself, or for ``-`` what standard input holds (CSV or .xlsx, told apart by
    content), in a temporary file that is gone afterwards. Messages name it ``-``."""
    if str(file) != "-":
        yield file
        return
    import sys
    import tempfile

    from eightstep.errors import EightstepError

    with tempfile.TemporaryDirectory(prefix="eightstep-") as folder:
        path = Path(folder) / "stdin"
        path.write_bytes(sys.stdin.buffer.read())
        try:
            yield path
        except EightstepError as exc:
            exc.args = tuple(str(a).replace(str(path), "-") for a in exc.args)
            raise
