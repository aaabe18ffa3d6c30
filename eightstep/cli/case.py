"""`eightstep case ...`: open, list, show, check, history; the moves (advance, return, suspend, resume, withdraw)
are in ``eightstep.cli.moves``, export and import in ``eightstep.cli.handover``."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.output import emit_json, pad, table, terminal_width
from eightstep.cli.params import AT, case_argument, json_option, recording_options
from eightstep.cli.sheets import one_format, table_options, write_table
from eightstep.i18n import _, titled
from eightstep.nouns import status_name


@click.group(cls=Group)
def case() -> None:
    """Open a stairwell unit's case and move it through the stages."""


@case.command("open")
@click.argument("case_id", metavar="CASE")
@click.option("--complex", "complex_name", required=True, help="Residential complex (小区), e.g. 人大小区.")
@click.option("--building", required=True, help="Building number (栋), e.g. 3.")
@click.option("--unit", required=True, help="Stairwell unit (单元), e.g. 2.")
@click.option("--workflow", "workflow_id", default=None, help="Workflow id (default: wuhan).")
@click.option("--district", default=None, help="District (区), kept with a new complex.")
@click.option("--street", default=None, help="Street office (街道), kept with a new complex.")
@click.option("--community", default=None, help="Community (社区), kept with a new complex.")
@recording_options
@click.pass_obj
def open_(settings: Settings, case_id: str, complex_name: str, building: str, unit: str, workflow_id: str | None,
          district: str | None, street: str | None, community: str | None, at: datetime | None,
          actor: str | None, as_role: str | None) -> None:
    """Open CASE for one stairwell unit, pinned to the current version of its workflow."""
    from eightstep import engine

    view = engine.open_case(settings.workspace(), case_id, complex_name=complex_name, building=building, unit=unit,
                            workflow_id=workflow_id, at=at, actor=actor, district=district, street=street,
                            community=community, as_role=as_role)
    click.echo(_("Opened {case}: {complex} {building}栋{unit}单元, workflow {workflow} {version}, stage S{index} "
                 "{stage} {title}").format(case=view.id, complex=view.complex, building=view.building, unit=view.unit,
                                           workflow=view.workflow_id, version=view.workflow_version,
                                           index=view.stage_index, stage=view.stage, title=view.stage_title))


@case.command("list")
@click.option("--complex", "complex_name", default=None, help="Only this complex.")
@click.option("--stage", default=None, help="Only cases in this stage id.")
@table_options
@click.pass_obj
def list_(settings: Settings, complex_name: str | None, stage: str | None, as_json: bool, as_csv: bool,
          xlsx_file: Path | None, force: bool) -> None:
    """List cases with their stage and status."""
    from eightstep import engine
    from eightstep.timeutil import local, show

    one_format(json=as_json, csv=as_csv, xlsx=xlsx_file is not None)
    views = engine.list_cases(settings.workspace(), complex_name=complex_name, stage=stage)
    if as_json:
        emit_json([v.as_dict() for v in views])
        return
    if as_csv or xlsx_file is not None:
        columns = [("case", _("case")), ("complex", _("complex")), ("building", _("building")), ("unit", _("unit")),
                   ("workflow", _("workflow")), ("stage_index", _("stage no.")), ("stage", _("stage")),
                   ("stage_title", _("stage title")), ("status", _("status")), ("since", _("in stage since"))]
        cells = [[v.id, v.complex, v.building, v.unit, v.workflow_label, v.stage_index,
                  v.stage, v.stage_title, v.status, local(v.stage_entered_at).replace(tzinfo=None)] for v in views]
        write_table(settings, columns, cells, as_csv=as_csv, xlsx_file=xlsx_file, force=force, sheet=_("cases"))
        return
    if not views:
        click.echo(_("No cases."))
        return
    table([_("case"), _("complex"), _("unit"), _("stage"), _("status"), _("since")],
          [[v.id, v.complex, f"{v.building}-{v.unit}", f"S{v.stage_index} {v.stage} {v.stage_title}",
            status_name(v.status), show(v.stage_entered_at)] for v in views])


@case.command("show")
@case_argument
@json_option
@click.pass_obj
def show_(settings: Settings, case_id: str, as_json: bool) -> None:
    """Show one case."""
    from eightstep import engine
    from eightstep.timeutil import show

    v = engine.show_case(settings.workspace(), case_id)
    if as_json:
        emit_json(v.as_dict())
        return
    status = status_name(v.status)
    if v.status_reason and v.status != "active":
        status = f"{status} ({v.status_reason})"
    for label, value in [(_("case"), v.id), (_("unit"), f"{v.complex} {v.building}栋{v.unit}单元"),
                         (_("workflow"), f"{v.workflow_id} {v.workflow_version}"),
                         (_("stage"), f"S{v.stage_index} {v.stage} {titled(v.stage_title, v.stage_title_en)}"),
                         (_("status"), status), (_("in stage since"), show(v.stage_entered_at)),
                         (_("opened"), show(v.opened_at))]:
        click.echo(f"{pad(label, 15, right=True)}: {value}")


@case.command("check")
@case_argument
@click.option("--at", type=AT, default=None, help="Check as of this date (default now).")
@json_option
@click.pass_obj
def check_(settings: Settings, case_id: str, at: datetime | None, as_json: bool) -> None:
    """What still blocks CASE from leaving its stage (all blockers). Exit 0 ready, 3 blocked.

    When a missing document is printed from one of the stage's forms (the agreement, the window's application,
    ...), also what that form still needs before it can be printed (funding, named parties), with the commands."""
    from eightstep import engine
    from eightstep.cli.remedies import check_data, needs_data, print_check, print_needs
    from eightstep.engine.order import case_notes

    result = engine.check(settings.workspace(), case_id, at=at)
    notes = case_notes(settings.workspace(), case_id, at=at)
    kinds = {b.remedy.args.get("kind") for b in result.blockers if b.type == "document" and b.remedy is not None}
    forms = []
    if kinds:  # only then the paperwork is loaded (case check stays light otherwise)
        from eightstep.paperwork.names import PRINTED_AS
        from eightstep.paperwork.stageneeds import stage_needs

        forms = [f for f in stage_needs(settings.workspace(), case_id, at=at)
                 if PRINTED_AS.get(f.form, f.form) in kinds]
    if as_json:
        emit_json({**check_data(result), "notes": notes,
                   "forms": [{"form": f.form, "title": f.title, "ready": not f.needs,
                              "missing": needs_data(f.needs, case_id)} for f in forms]})
    else:
        print_check(result)
        for note in notes:
            click.echo(_("  note: {note}").format(note=note))
        lacking = [f for f in forms if f.needs]
        if lacking:
            click.echo(_("To print the missing documents, the forms still need:"))
            for f in lacking:
                click.echo(f"  {f.form} ({f.title})")
                print_needs(f.needs, indent="    ")
    if not (result.ready or result.complete):
        click.get_current_context().exit(3)


@case.command("history")
@case_argument
@json_option
@click.option("--wide", is_flag=True, help="Do not wrap the last column to the terminal's width.")
@click.pass_obj
def history_(settings: Settings, case_id: str, as_json: bool, wide: bool) -> None:
    """Every recorded change of CASE, oldest first (on a terminal the last column wraps to fit; --wide)."""
    import json

    from eightstep import engine
    from eightstep.audit.handover import origin_logins
    from eightstep.timeutil import show

    events = engine.history(settings.workspace(), case_id)
    origins = origin_logins(events)  # who wrote an imported event where it was written
    if as_json:
        emit_json([{"seq": e.seq, "at": e.business_at, "recorded_at": e.recorded_at, "actor": e.actor,
                    "login": e.login, **({"origin_login": origins[e.seq]} if e.seq in origins else {}),
                    "role": json.loads(e.details).get("actor_role"), "action": e.action, "from": e.from_stage,
                    "to": e.to_stage, "note": e.note, "details": json.loads(e.details)} for e in events])
        return
    table(["#", _("at"), _("actor"), _("role"), _("action"), _("stage"), _("note")],
          [[e.seq, show(e.business_at), e.actor + _logins(e.login, origins.get(e.seq)),
            json.loads(e.details).get("actor_role") or "", e.action,
            f"{e.from_stage or ''} -> {e.to_stage}" if e.from_stage != e.to_stage else e.to_stage,
            e.note or _summary(json.loads(e.details))] for e in events], fit=None if wide else terminal_width())


def _logins(login: str | None, origin: str | None) -> str:
    """The database logins beside the actor: the one that wrote the row, and where it was imported from."""
    if origin is None:
        return f" ({login})" if login else ""
    if login is None:
        return " (" + _("{origin}, imported").format(origin=origin) + ")"
    return " (" + _("{origin}, imported by {login}").format(origin=origin, login=login) + ")"


def _summary(details: dict[str, object]) -> str:
    keys = ("room", "choice", "kind", "decision", "objection", "outcome", "file", "ballots", "added", "step",
            "stance", "company", "name", "reason")
    return ", ".join(f"{k}={details[k]}" for k in keys if details.get(k) is not None)


def _more_commands() -> None:
    """The moves (``eightstep.cli.moves``), `case export` and `case import` (``eightstep.cli.handover``) live in
    their own modules, imported with this group."""
    from eightstep.cli import moves
    from eightstep.cli.handover import export, import_

    for command in (*moves.COMMANDS, export, import_):
        case.add_command(command)


_more_commands()
