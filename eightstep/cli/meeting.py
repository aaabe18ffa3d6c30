"""`eightstep meeting ...`: meetings and their decisions, on the case's record."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, table
from eightstep.cli.params import AT, acting_options, case_argument, json_option
from eightstep.i18n import _

KINDS = ("brand", "budget", "cost_shares", "objection_remedy", "other")


@click.group(cls=Group)
def meeting() -> None:
    """Meetings (协商会议) of a case: attendees and decisions (brand, budget, cost shares, objection remedies)."""


@meeting.command("add")
@case_argument
@click.option("--at", type=AT, required=True, help="When the meeting was held: 2025-03-19 or '2025-03-19 19:00'.")
@click.option("--attendees", multiple=True, required=True,
              help="Who attended: 'A,B,C' (also 、) or the option repeated.")
@click.option("--decision", required=True, help="What was decided.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KINDS),
              help="What the decision is about (repeatable; default other).")
@click.option("--file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The minutes (stored by content hash).")
@acting_options
@click.pass_obj
def add(settings: Settings, case_id: str, at: datetime, attendees: tuple[str, ...], decision: str,
        kinds: tuple[str, ...], file: Path | None, actor: str | None, as_role: str | None) -> None:
    """Record a meeting of CASE and its decision (part of the case history)."""
    from eightstep.records.meetings import add_meeting

    view = add_meeting(settings.workspace(), case_id, at=at, attendees=list(attendees), decision=decision,
                       kinds=list(kinds), file=file, actor=actor, as_role=as_role)
    click.echo(_("{case}: meeting #{id} ({kinds}), {count} attendees").format(
        case=case_id, id=view.id, kinds=", ".join(view.kinds), count=len(view.attendees)))


@meeting.command("list")
@case_argument
@json_option
@click.pass_obj
def list_(settings: Settings, case_id: str, as_json: bool) -> None:
    """The meetings of CASE, oldest first."""
    from eightstep.records.meetings import list_meetings
    from eightstep.timeutil import show

    views = list_meetings(settings.workspace(), case_id)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    if not views:
        click.echo(_("{case}: no meetings recorded").format(case=case_id))
        return
    table(["#", _("held"), _("kinds"), _("attendees"), _("decision"), _("minutes")],
          [[v.id, show(v.held_at), ",".join(v.kinds), "、".join(v.attendees), v.decision, v.file_name or ""]
           for v in views])


void_command(meeting, "meeting")
