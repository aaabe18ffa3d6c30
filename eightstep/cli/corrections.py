"""Corrections, one pattern for every kind of record: `eightstep NOUN void CASE KEY --reason TEXT [--at]`.

``void_command(group, kind)`` adds the command to a noun's group (doc, approval, objection, meeting, scheme,
canvass, vote, household, funding and its money records, subsidy, elevator; ``role end``; ``forms party-void``);
each parses, calls
``records.corrections.void`` and prints one line.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

import click

from eightstep.cli.params import actor_option, as_option, at_option
from eightstep.i18n import _
from eightstep.nouns import NOUNS

REASON_HELP = "Why it no longer counts (kept in the history)."
def void_command(group: click.Group, kind: str, *, name: str = "void", key: str | None = "ID",
                 key_type: Any = int, done: str = "voided", summary: str | None = None) -> Callable[..., Any]:
    """Add ``NAME CASE KEY --reason TEXT [--at] [--actor] [--as]`` to ``group``: void the ``kind`` record KEY
    (``key`` None: the case's only record of that kind, the funding)."""

    def command(settings: Any, case_id: str, reason: str, at: datetime | None, actor: str | None,
                as_role: str | None, key_value: Any = None) -> None:
        from eightstep.records.corrections import void

        voided = void(settings.workspace(), case_id, kind, key_value, reason=reason, at=at, actor=actor,
                      as_role=as_role)
        label = "" if key is None else (f" #{voided.id}" if key == "ID" else f" {key_value}")
        what = _(NOUNS[kind]) + label
        line = _("{case}: {what} ended ({reason})") if done == "ended" else _("{case}: {what} voided ({reason})")
        click.echo(line.format(case=case_id, what=what, reason=voided.reason))

    article = "an" if kind[0] in "aeiou" else "a"
    command.__doc__ = summary or f"Void {article} {kind} of CASE: it no longer counts; the history keeps it and why."
    decorated: Callable[..., Any] = click.pass_obj(command)
    for option in (as_option, actor_option, at_option,
                   click.option("--reason", required=True, help=REASON_HELP)):
        decorated = option(decorated)
    if key is not None:
        decorated = click.argument("key_value", metavar=key, type=key_type)(decorated)
    decorated = click.argument("case_id", metavar="CASE")(decorated)
    return group.command(name)(decorated)
