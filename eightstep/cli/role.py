"""`eightstep role ...`: the register of the people and organisations a case names and the roles they hold."""

from __future__ import annotations

from datetime import datetime

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, table
from eightstep.cli.params import AT, as_option, case_argument, json_option, recording_options
from eightstep.i18n import _
from eightstep.roles import ROLES, ROTA_EVERY, SIDES

__all__ = ["as_option", "role"]  # as_option: moved to params, kept for importers


@click.group(cls=Group)
def role() -> None:
    """The people a case names and their roles: owner representative (业主代表), agent, negotiation group,
    self-management group, duty rota, and the units the papers name (use unit, property company, ...)."""


@role.command("add")
@case_argument
@click.argument("role_key", metavar="ROLE", type=click.Choice(list(ROLES)))
@click.argument("name")
@click.option("--room", default=None, help="The member's flat in the unit (required for duty_rota).")
@click.option("--side", type=click.Choice(list(SIDES)), default=None,
              help="Negotiation-group members: whose side they speak for.")
@click.option("--phone", default=None, help="Phone number (kept on the person's one record, not in the history).")
@click.option("--id-number", default=None, help="Resident ID number (the window needs the agent's).")
@click.option("--address", default=None, help="Address (the window needs the agent's and the units').")
@click.option("--note", default=None, help="A note, e.g. 组长.")
@recording_options
@click.pass_obj
def add(settings: Settings, case_id: str, role_key: str, name: str, room: str | None, side: str | None,
        phone: str | None, id_number: str | None, address: str | None, note: str | None, at: datetime | None,
        actor: str | None, as_role: str | None) -> None:
    """Name NAME to ROLE in CASE: owner_rep, agent, negotiator (with --side), self_management, duty_rota, volunteer,
    task_force; a unit the papers name (use_unit, property, designer, installer, ...); or an office's person:
    officer, street, window (what a workflow's permissions ask for). A name already on record is the same person
    (the details given are added to their record); a role held by one at a time (agent, use_unit, property, ...)
    passes from its earlier holder."""
    from eightstep.records.roles import add_role

    view = add_role(settings.workspace(), case_id, role_key, name, room=room, side=side, phone=phone,
                    id_number=id_number, address=address, note=note, at=at, actor=actor, as_role=as_role)
    room_text = _(", room {room}").format(room=view.room) if view.room else ""
    click.echo(_("{case}: {name} is {title} ({role}{room}) #{id}").format(
        case=case_id, name=view.name, title=view.title, role=view.role, room=room_text, id=view.id))


@role.command("contact")
@case_argument
@click.argument("name")
@click.option("--phone", default=None, help="Phone number.")
@click.option("--id-number", default=None, help="Resident ID number.")
@click.option("--address", default=None, help="Address.")
@recording_options
@click.pass_obj
def contact(settings: Settings, case_id: str, name: str, phone: str | None, id_number: str | None,
            address: str | None, at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """How to reach NAME of CASE's register (whatever roles they hold)."""
    from eightstep.records.roles import set_contact

    changed = set_contact(settings.workspace(), case_id, name, phone=phone, id_number=id_number, address=address,
                          at=at, actor=actor, as_role=as_role)
    click.echo(_("{case}: {name}: {fields} recorded").format(case=case_id, name=name, fields=", ".join(changed))
               if changed else _("{case}: {name}: nothing changed").format(case=case_id, name=name))


@role.command("rota")
@case_argument
@click.option("--every", type=click.Choice(list(ROTA_EVERY)), required=True, help="One turn a week or a month.")
@click.option("--from", "starts_on", type=AT, required=True, help="The first turn's first day.")
@recording_options
@click.pass_obj
def rota(settings: Settings, case_id: str, every: str, starts_on: datetime, at: datetime | None,
         actor: str | None, as_role: str | None) -> None:
    """How CASE's duty rota turns: the duty_rota members in the order named, one each week or month."""
    from eightstep.records.roles import set_rota
    from eightstep.timeutil import local_date

    day = local_date(starts_on)
    set_rota(settings.workspace(), case_id, every=every, starts_on=day, at=at, actor=actor, as_role=as_role)
    click.echo(_("{case}: the duty rota turns every {every} from {day}").format(case=case_id, every=every,
                                                                                day=day.isoformat()))


@role.command("list")
@case_argument
@json_option
@click.pass_obj
def list_(settings: Settings, case_id: str, as_json: bool) -> None:
    """The roles of CASE (ended terms too), and which households the duty rota does not cover yet."""
    from eightstep.records.roles import list_roles
    from eightstep.timeutil import show

    result = list_roles(settings.workspace(), case_id)
    if as_json:
        emit_json(result.as_dict())
        return
    if not result.roles:
        from eightstep.cli.remedies import spell
        from eightstep.errors import Remedy

        click.echo(_("{case}: no roles recorded").format(case=case_id))
        click.echo(f"  → {spell(Remedy('role.add', {'case': case_id, 'role': 'owner_rep'}))}")
        return
    table(["#", _("role"), _("name"), _("room"), _("since"), _("until"), _("note")],
          [[r.id, r.title, r.name, r.room, show(r.since), show(r.until) if r.until else "", r.note]
           for r in result.roles])
    if any(r.role == "duty_rota" for r in result.roles):
        missing = _("; not yet: {rooms}").format(rooms=", ".join(result.rota_missing)) if result.rota_missing else ""
        click.echo("\n" + _("duty rota covers {covered} of {households} households{missing}").format(
            covered=len(result.rota_rooms), households=result.households, missing=missing))


void_command(role, "role", name="end", done="ended",
             summary="End a role of CASE at --at (default now): it counts until then; the history keeps it and why.")
