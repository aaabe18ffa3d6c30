"""`eightstep complex ...`: from the pilot to the whole complex (以点扩面)."""

from __future__ import annotations

from datetime import datetime

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.output import emit_json, table
from eightstep.cli.params import AT, json_option, recording_options
from eightstep.i18n import _


@click.group("complex", cls=Group)
def complex_() -> None:
    """A residential complex (小区) as a whole: roll the pilot out, follow the progress."""


@complex_.command("rollout")
@click.argument("complex_name", metavar="COMPLEX")
@click.option("--from", "from_case", required=True, help="The pilot case whose scheme the new units start from.")
@click.option("--units", default=None, metavar="B-U,...",
              help="The units to open, e.g. 1-1,1-2,4-2 (default: every unit of the complex's buildings "
                   "that has no active case).")
@recording_options
@click.pass_obj
def rollout(settings: Settings, complex_name: str, from_case: str, units: str | None, at: datetime | None,
            actor: str | None, as_role: str | None) -> None:
    """Open cases for the sibling units of the pilot, all or none.

    Each new case gets the pilot's chosen scheme and cost-share rule as a proposal, to be voted on again;
    never its households, votes or signatures. A unit that already has an active case is refused.
    """
    from eightstep.records.rollout import parse_units
    from eightstep.records.rollout import rollout as do_rollout
    from eightstep.rules.money import yuan

    result = do_rollout(settings.workspace(), complex_name, from_case=from_case,
                        units=parse_units(units) if units is not None else None, at=at, actor=actor,
                        as_role=as_role)
    click.echo(_("{complex}: opened {count} case(s) from {pilot} ({workflow} {version}): {cases}").format(
        complex=complex_name, count=len(result.opened), pilot=result.pilot, workflow=result.workflow["id"],
        version=result.workflow["version"], cases=", ".join(o.case_id for o in result.opened)))
    if result.scheme is not None:
        click.echo(_("proposal carried: {company}, {price} yuan; cost-share rule {method} (to be voted on again in "
                     "each unit)").format(company=result.scheme.company, price=yuan(result.scheme.price),
                                          method=result.share_rule["method"]))
    for note in result.notes:
        click.echo(_("note: {note}").format(note=note))


@complex_.command("progress")
@click.argument("complex_name", metavar="COMPLEX")
@click.option("--target", type=click.IntRange(0, 100_000), default=None,
              help="Units to put into operation (default: the number of units).")
@click.option("--at", type=AT, default=None, help="As of this date (default now).")
@json_option
@click.pass_obj
def progress(settings: Settings, complex_name: str, target: int | None, at: datetime | None, as_json: bool) -> None:
    """Units per stage, units in operation against the target, and a forecast date for the last unit."""
    from eightstep.audit.progress import METHOD
    from eightstep.audit.progress import progress as complex_progress

    result = complex_progress(settings.workspace(), complex_name, target=target, at=at)
    if as_json:
        emit_json(result.as_dict())
        return
    click.echo(_("{complex} on {day}: {done} of {target} units in operation ({units} with a case)").format(
        complex=complex_name, day=result.as_of, done=result.in_operation, target=result.target,
        units=result.units) + "\n")
    table([_("stage"), _("units"), _("cases")],
          [[f"S{s.index} {s.stage} {s.title}", len(s.cases) or "", " ".join(s.cases)] for s in result.stages])
    click.echo("")
    if result.last_unit is not None:
        click.echo(_("forecast: the last unit ({case}) in operation by {day}").format(case=result.last_case,
                                                                                      day=result.last_unit))
    elif result.forecasts or result.not_started:
        click.echo(_("forecast: not possible yet (no duration known for {stages})").format(
            stages=", ".join(result.missing_basis)))
    else:
        click.echo(_("forecast: every unit is in operation"))
    days = ", ".join(_("{stage} {days}d").format(stage=e.stage, days=e.days if e.days is not None else "?")
                     + ("" if e.basis == "observed" else f" ({e.basis})") for e in result.expected)
    click.echo("  " + _("expected stage durations: {days}").format(days=days))
    click.echo("  " + _("method: {method}").format(method=_(METHOD)))
