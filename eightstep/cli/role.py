"""`eightstep role ...`: who does what in a case (owner representative, negotiation group, duty rota, ...)."""

from __future__ import annotations

from datetime import datetime

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, table
from eightstep.cli.params import CASE, actor_option, as_option, at_option, json_option
from eightstep.i18n import _

__all__ = ["ROLE_KEYS", "SIDE_KEYS", "as_option", "role"]  # as_option: moved to params, kept for importers

# the keys of engine.actors.ROLES (not imported: --help stays light)
ROLE_KEYS = ("owner_rep", "agent", "negotiator", "self_management", "duty_rota", "volunteer", "task_force", "officer",
             "street", "window", "property", "installer")
SIDE_KEYS = ("high_floor", "low_floor", "community", "technician")


@click.group(cls=Group)
def role() -> None:
    """Case roles: owner representative (业主代表), agent, negotiation group, self-management group, duty rota."""


@role.command("add")
@click.argument("case_id", metavar="CASE", type=CASE)
@click.argument("role_key", metavar="ROLE", type=click.Choice(ROLE_KEYS))
@click.argument("name")
@click.option("--room", default=None, help="The member's flat in the unit (required for duty_rota).")
@click.option("--side", type=click.Choice(SIDE_KEYS), default=None,
              help="Negotiation-group members: whose side they speak for.")
@click.option("--phone", default=None, help="Phone number (not written to the history).")
@click.option("--note", default=None, help="A note, e.g. 组长 or 第1周.")
@at_option
@actor_option
@as_option
@click.pass_obj
def add(settings: Settings, case_id: str, role_key: str, name: str, room: str | None, side: str | None,
        phone: str | None, note: str | None, at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Name NAME to ROLE in CASE: owner_rep, agent, negotiator (with --side), self_management, duty_rota, volunteer;
    or an office's person: officer, street, window, property, installer (what a workflow's permissions ask for)."""
    from eightstep.records.roles import add_role

    view = add_role(settings.workspace(), case_id, role_key, name, room=room, side=side, phone=phone, note=note,
                    at=at, actor=actor, as_role=as_role)
    room_text = _(", room {room}").format(room=view.room) if view.room else ""
    click.echo(_("{case}: {name} is {title} ({role}{room}) #{id}").format(
        case=case_id, name=view.name, title=view.title, role=view.role, room=room_text, id=view.id))


@role.command("list")
@click.argument("case_id", metavar="CASE", type=CASE)
@json_option
@click.pass_obj
def list_(settings: Settings, case_id: str, as_json: bool) -> None:
    """The roles of CASE, and which households the duty rota does not cover yet."""
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
    table(["#", _("role"), _("name"), _("room"), _("since"), _("note")],
          [[r.id, r.title, r.name, r.room, show(r.since), r.note] for r in result.roles])
    if any(r.role == "duty_rota" for r in result.roles):
        missing = _("; not yet: {rooms}").format(rooms=", ".join(result.rota_missing)) if result.rota_missing else ""
        click.echo("\n" + _("duty rota covers {covered} of {households} households{missing}").format(
            covered=len(result.rota_rooms), households=result.households, missing=missing))


void_command(role, "role", name="end", done="ended",
             summary="End a role of CASE at --at (default now): it counts until then; the history keeps it and why.")
