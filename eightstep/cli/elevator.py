"""`eightstep elevator ...`: the elevator's own record after acceptance, its insurance, incidents and repairs."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal, InvalidOperation

import click

from eightstep.cli import Settings
from eightstep.cli.audit import DATE
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, table
from eightstep.cli.params import AT, YUAN, case_argument, json_option, recording_options
from eightstep.i18n import _


def _speed(value: str | None) -> int | None:
    """"1.0" m/s -> 100 cm/s."""
    if value is None:
        return None
    try:
        speed = Decimal(value.strip())
    except InvalidOperation:
        raise click.BadParameter(_("{value!r} is not a speed in m/s, e.g. 1.0").format(value=value)) from None
    if speed != speed.quantize(Decimal("0.01")) or speed <= 0:
        raise click.BadParameter(_("a speed in m/s with at most 2 decimals, e.g. 1.0"))
    return int(speed * 100)


def incident_kind(kind: str) -> str:
    """An incident's kind in the interface language (the code stays in --json and in --kind)."""
    from eightstep.i18n import pick
    from eightstep.records.elevator import INCIDENT_KINDS

    return pick(*INCIDENT_KINDS[kind]) if kind in INCIDENT_KINDS else kind


@click.group(cls=Group)
def elevator() -> None:
    """The elevator after acceptance: registration, maker and model, safety manager, maintenance company,
    warranty, insurance, incidents and repairs."""


@elevator.command("set")
@case_argument
@click.option("--registration-code", help="使用登记证编号.")
@click.option("--maker", help="The maker (制造单位).")
@click.option("--model", help="The model (型号).")
@click.option("--load", "load_kg", type=int, help="Rated load in kg.")
@click.option("--speed", help="Rated speed in m/s, e.g. 1.0.")
@click.option("--stops", type=int, help="Its stops (层站数).")
@click.option("--safety-manager", help="The use unit's elevator safety manager (安全管理员).")
@click.option("--safety-manager-phone", help="The safety manager's phone.")
@click.option("--maintainer", help="The maintenance company.")
@click.option("--maintainer-licence", help="Its licence number.")
@click.option("--warranty-from", type=DATE, help="The first day of the warranty (usually the acceptance).")
@click.option("--warranty-until", type=DATE, help="The last day of the installation's warranty (at least 2 years).")
@recording_options
@click.pass_obj
def set_(settings: Settings, case_id: str, speed: str | None, at: datetime | None, actor: str | None,
         as_role: str | None, **values: object) -> None:
    """Record the elevator's record (every field the first time); later, the fields given change."""
    from eightstep.records.elevator import set_elevator

    row = set_elevator(settings.workspace(), case_id, at=at, actor=actor, as_role=as_role, speed_cms=_speed(speed),
                       **values)
    click.echo(_("{case}: elevator {code} ({maker} {model}), warranty until {until}").format(
        case=case_id, code=row.registration_code, maker=row.maker, model=row.model, until=row.warranty_until))


@elevator.command("insure")
@case_argument
@click.option("--insurer", required=True, help="The insurance company.")
@click.option("--from", "starts", type=DATE, required=True, help="First day covered.")
@click.option("--until", "ends", type=DATE, required=True, help="Last day covered.")
@click.option("--policy", "policy_number", default=None, help="The policy's number.")
@click.option("--premium", type=YUAN, default=None, help="The premium in yuan.")
@recording_options
@click.pass_obj
def insure(settings: Settings, case_id: str, insurer: str, starts: date, ends: date, policy_number: str | None,
           premium: int | None, at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Record a safety-liability insurance policy (a renewal is a new policy)."""
    from eightstep.records.elevator import add_policy

    add_policy(settings.workspace(), case_id, insurer=insurer, starts=starts, ends=ends, policy_number=policy_number,
               premium=premium, at=at, actor=actor, as_role=as_role)
    click.echo(_("{case}: insured by {insurer} from {starts} to {ends}").format(case=case_id, insurer=insurer,
                                                                                starts=starts, ends=ends))


@elevator.command("incident")
@case_argument
@click.option("--kind", type=click.Choice(["entrapment", "fault", "damage", "other"]), required=True,
              help="entrapment (困人), fault, damage or other.")
@click.option("--description", required=True, help="What happened.")
@click.option("--resolved-at", type=AT, default=None, help="When it was resolved.")
@recording_options
@click.pass_obj
def incident(settings: Settings, case_id: str, kind: str, description: str, resolved_at: datetime | None,
             at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Record an incident (--at: when it happened); prints its id for a repair."""
    from eightstep.records.elevator import add_incident

    row = add_incident(settings.workspace(), case_id, kind=kind, description=description, resolved_at=resolved_at,
                       at=at, actor=actor, as_role=as_role)
    click.echo(_("{case}: incident #{id} ({kind}) recorded").format(case=case_id, id=row.id,
                                                                    kind=incident_kind(kind)))


@elevator.command("repair")
@case_argument
@click.option("--cost", type=YUAN, required=True, help="What it cost (0: under warranty or insurance).")
@click.option("--by", "contractor", required=True, help="Who repaired it.")
@click.option("--description", required=True, help="What was repaired.")
@click.option("--incident", "incident_id", type=int, default=None, help="The incident it repaired (its id).")
@click.option("--invoice", "invoice_number", default=None, help="The invoice's number.")
@recording_options
@click.pass_obj
def repair(settings: Settings, case_id: str, cost: int, contractor: str, description: str, incident_id: int | None,
           invoice_number: str | None, at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Record a repair; its cost is shared among the households by the usage convention's rule."""
    from eightstep.records.elevator import add_repair
    from eightstep.rules.money import yuan

    found = add_repair(settings.workspace(), case_id, cost=cost, contractor=contractor, description=description,
                       incident_id=incident_id, invoice_number=invoice_number, at=at, actor=actor, as_role=as_role)
    click.echo(_("{case}: repair #{id}, {cost} yuan shared by the usage convention's rule").format(
        case=case_id, id=found.id, cost=yuan(cost)))
    table([_("room"), _("share")], [[room, yuan(v)] for room, v in found.shares.items() if v])


void_command(elevator, "elevator", key=None,
             summary="Void the elevator's record of CASE (recorded by mistake): record it again in full.")
void_command(elevator, "policy", name="void-policy",
             summary="Void an insurance policy of CASE (its id in `elevator show`): it no longer covers.")
void_command(elevator, "incident", name="void-incident",
             summary="Void an incident of CASE (its id): refused while a repair names it.")
void_command(elevator, "repair", name="void-repair",
             summary="Void a repair of CASE (its id): its cost is no longer charged.")


@elevator.command("show")
@case_argument
@json_option
@click.pass_obj
def show(settings: Settings, case_id: str, as_json: bool) -> None:
    """The elevator's record, insurance, incidents and repairs."""
    from eightstep.records.elevator import elevator_view
    from eightstep.rules.money import yuan

    view = elevator_view(settings.workspace(), case_id)
    if as_json:
        emit_json(view.as_dict())
        return
    e = view.elevator
    if e is None:
        click.echo(_("{case}: no elevator record yet").format(case=case_id))
    else:
        click.echo(_("{case}: {code}; {maker} {model}, {load} kg, {speed} m/s, {stops} stops\n  safety manager "
                     "{manager} {phone}; maintenance {maintainer} (licence {licence}); warranty {starts} to {ends}")
                   .format(case=case_id, code=e.registration_code, maker=e.maker, model=e.model, load=e.load_kg,
                           speed=f"{e.speed_cms / 100:.2f}", stops=e.stops, manager=e.safety_manager,
                           phone=e.safety_manager_phone or "", maintainer=e.maintainer, licence=e.maintainer_licence,
                           starts=e.warranty_from, ends=e.warranty_until))
    for p in view.policies:
        click.echo(_("  insurance #{id} {insurer} {number}: {starts} to {ends}").format(
            id=p.id, insurer=p.insurer, number=p.policy_number or "", starts=p.starts, ends=p.ends))
    for i in view.incidents:
        click.echo(_("  incident #{id} {kind} {description}").format(id=i.id, kind=incident_kind(i.kind),
                                                                     description=i.description))
    for r in view.repairs:
        click.echo(_("  repair #{id} {on} {cost} yuan by {by}: {description}").format(
            id=r.id, on=r.on, cost=yuan(r.cost), by=r.contractor, description=r.description))
