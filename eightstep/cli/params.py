"""Shared options and parameter types."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import click

from eightstep.errors import InputError


class AtType(click.ParamType):
    """A business date/time: 2025-03-01 or '2025-03-01 14:30' (Asia/Shanghai), or ISO 8601 with offset."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        from eightstep.timeutil import parse_at

        try:
            return parse_at(value, field=f"--{param.name}" if param and param.name else "--at")
        except InputError as exc:
            self.fail(str(exc), param, ctx)


AT = AtType()


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


class PlannedAtType(AtType):
    """A date/time that may lie ahead (a review date is a plan, not a record); otherwise as ``AtType``."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> datetime:
        if isinstance(value, datetime):
            return value
        from eightstep.timeutil import parse_at

        field = f"--{param.name.replace('_', '-')}" if param and param.name else "--at"
        if not str(value).strip():
            self.fail(f"{field}: give a date, e.g. 2025-03-01 or '2025-03-01 14:30'", param, ctx)
        try:
            return parse_at(value, field=field, now=_NO_LIMIT)
        except InputError as exc:
            self.fail(str(exc), param, ctx)


_NO_LIMIT = datetime(9000, 1, 1, tzinfo=UTC)  # "now" for a planned date: no date is too far ahead
PLANNED_AT = PlannedAtType()


def json_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    def mark(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
        ctx.meta["json"] = value
        return value

    return click.option("--json", "as_json", is_flag=True, callback=mark, expose_value=True,
                        help="Print JSON instead of text.")(fn)
