"""`eightstep canvass ...`: the log of visits and calls (推), and whom to visit next."""

from __future__ import annotations

from datetime import datetime

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, table
from eightstep.cli.params import case_argument, json_option, recording_options
from eightstep.i18n import _

STANCE_CHOICES = ("supportive", "hesitant", "opposed")
KIND_CHOICES = ("light", "noise", "cost", "space", "privacy", "ventilation", "safety", "other")


@click.group(cls=Group)
def canvass() -> None:
    """Household visits (入户走访): stances, concerns, and who to visit first."""


@canvass.command("add")
@case_argument
@click.argument("room")
@click.option("--stance", required=True, type=click.Choice(STANCE_CHOICES),
              help="Where the household stands after this visit.")
@click.option("--concern", default=None, help="The concern in the household's words, e.g. '担心井道挡住卧室采光'.")
@click.option("--kind", "kinds", multiple=True, type=click.Choice(KIND_CHOICES),
              help="The concern's kind (repeatable); default: read from --concern (采光 -> light, 噪音 -> noise, ...).")
@click.option("--by", default=None, help="Who visited or called (default: the actor).")
@recording_options
@click.pass_obj
def add(settings: Settings, case_id: str, room: str, stance: str, concern: str | None, kinds: tuple[str, ...],
        by: str | None, at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Log a visit or call to ROOM: its stance and concern. A household may have many entries over time."""
    from eightstep.records.canvass import add_entry

    entry = add_entry(settings.workspace(), case_id, room, stance=stance, concern=concern, kinds=list(kinds),
                      by=by, at=at, actor=actor, as_role=as_role)
    kinds_text = f" [{', '.join(entry.kinds)}]" if entry.kinds else ""
    click.echo(_("{case} room {room}: {stance}{kinds} #{id}").format(case=case_id, room=room, stance=entry.stance,
                                                                      kinds=kinds_text, id=entry.id))


@canvass.command("list")
@case_argument
@json_option
@click.pass_obj
def list_(settings: Settings, case_id: str, as_json: bool) -> None:
    """Households to visit first on top (whose agreement brings the vote nearest to passing), with their latest
    stance and concerns; then the concerns by kind and floor."""
    from eightstep.records.canvass import CONCERN_KINDS, canvass_list
    from eightstep.timeutil import show

    result = canvass_list(settings.workspace(), case_id)
    if as_json:
        emit_json(result.as_dict())
        return
    w = result.whatif
    if w.passed:
        click.echo(_("{case}: the vote has passed; households by stance").format(case=case_id))
    elif w.needed is None:
        click.echo(_("{case}: cannot pass even if everyone agrees").format(case=case_id))
    else:
        click.echo(_("{case}: {needed} more owner(s) needed; plan: rooms {rooms}").format(
            case=case_id, needed=w.needed, rooms=", ".join(w.rooms)))
    rows = []
    for r in result.rows:
        concern = r.concerns[0] if r.concerns else None
        concern_text = f"[{','.join(concern.kinds)}] {concern.concern or ''}".strip() if concern else ""
        after = "" if r.needed_after is None else str(r.needed_after)
        rows.append([r.rank or "", r.room, r.floor, r.owner, r.ballot or "—", r.stance or "—",
                     show(r.stance_at) if r.stance_at else "", "✓" if r.in_plan else "", after, concern_text])
    table(["#", _("room"), _("floor"), _("owner"), _("ballot"), _("stance"), _("visited"), _("plan"), _("then needed"),
           _("latest concern")], rows)
    if result.concerns:
        click.echo("\n" + _("concerns (households; still open; by floor):"))
        for c in result.concerns:
            floors = ", ".join(f"{f}F×{n}" for f, n in sorted(c.floors.items()))
            click.echo("  " + _("{kind} {title}: {households}; open {open}; {floors}").format(
                kind=c.kind, title=CONCERN_KINDS[c.kind][0], households=c.households, open=c.open, floors=floors))


void_command(canvass, "canvass")
