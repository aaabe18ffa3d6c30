"""`eightstep case ...`: open, list, show, check, advance, return, suspend, resume, withdraw, history."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

import click

from eightstep.cli import Settings, completion
from eightstep.cli.base import Group
from eightstep.cli.output import emit_json, pad, table, terminal_width
from eightstep.cli.outputs import force_option
from eightstep.cli.params import (
    AT,
    CASE,
    PLANNED_AT,
    actor_option,
    as_option,
    at_option,
    confirm,
    json_option,
    yes_option,
)
from eightstep.cli.sheets import Sheet, csv_option, one_format, write_csv, write_xlsx, wrote, xlsx_option
from eightstep.i18n import _, ngettext, titled


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
@at_option
@actor_option
@as_option
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
@json_option
@csv_option
@xlsx_option
@force_option
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
        if as_csv:
            write_csv([key for key, _label in columns], cells)
        elif xlsx_file is not None:
            write_xlsx(settings, xlsx_file, [Sheet(_("cases"), [label for _key, label in columns], cells)], force=force)
            wrote(xlsx_file, len(cells))
        return
    if not views:
        click.echo(_("No cases."))
        return
    table([_("case"), _("complex"), _("unit"), _("stage"), _("status"), _("since")],
          [[v.id, v.complex, f"{v.building}-{v.unit}", f"S{v.stage_index} {v.stage} {v.stage_title}", v.status,
            show(v.stage_entered_at)] for v in views])


@case.command("show")
@click.argument("case_id", metavar="CASE", type=CASE)
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
    status = v.status if not v.status_reason or v.status == "active" else f"{v.status} ({v.status_reason})"
    for label, value in [(_("case"), v.id), (_("unit"), f"{v.complex} {v.building}栋{v.unit}单元"),
                         (_("workflow"), f"{v.workflow_id} {v.workflow_version}"),
                         (_("stage"), f"S{v.stage_index} {v.stage} {titled(v.stage_title, v.stage_title_en)}"),
                         (_("status"), status), (_("in stage since"), show(v.stage_entered_at)),
                         (_("opened"), show(v.opened_at))]:
        click.echo(f"{pad(label, 15, right=True)}: {value}")


@case.command("check")
@click.argument("case_id", metavar="CASE", type=CASE)
@click.option("--at", type=AT, default=None, help="Check as of this date (default now).")
@json_option
@click.pass_obj
def check_(settings: Settings, case_id: str, at: datetime | None, as_json: bool) -> None:
    """What still blocks CASE from leaving its stage (all blockers). Exit 0 ready, 3 blocked.

    When a missing document is printed from one of the stage's forms (the agreement, the window's application,
    ...), also what that form still needs before it can be printed (funding, named parties), with the commands."""
    from eightstep import engine
    from eightstep.cli.remedies import needs_data, print_needs
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


def check_data(result: Any) -> dict[str, Any]:
    """``case check --json``: the engine's answer, each remedy completed with the case and its command."""
    from eightstep.cli.remedies import blocker_data

    data = result.as_dict()
    data["case"] = result.case_id
    data["blockers"] = [blocker_data(b, result.case_id) for b in result.blockers]
    return data


def print_check(result: Any) -> None:
    from eightstep.cli.remedies import print_blockers

    head = f"{result.case_id}: {result.stage} {result.stage_title}"
    if result.ready:
        click.echo(_("{head}: ready to advance to {next}").format(head=head, next=result.next_stage))
    elif result.complete:
        click.echo(_("{head}: complete (the final stage, nothing missing)").format(head=head))
    else:
        click.echo(ngettext("{head}: blocked by {count}", "{head}: blocked by {count}", len(result.blockers))
                   .format(head=head, count=len(result.blockers)))
        print_blockers(result.blockers, result.case_id)


@case.command("advance")
@click.argument("case_id", metavar="[CASE]", required=False, type=CASE)
@click.option("--all-ready", "all_ready", is_flag=True,
              help="Advance every active case whose guards pass (instead of one CASE), in batches.")
@click.option("--complex", "complex_name", default=None, help="With --all-ready: only this complex (小区).")
@click.option("--dry-run", "dry_run", is_flag=True, help="With --all-ready: say what would move; write nothing.")
@at_option
@actor_option
@as_option
@click.option("--note", default=None, help="A note for the history.")
@click.option("--json", "as_json", is_flag=True, help="With --all-ready: print JSON (results and totals).")
@yes_option
@click.pass_obj
def advance_(settings: Settings, case_id: str | None, all_ready: bool, complex_name: str | None, dry_run: bool,
             at: datetime | None, actor: str | None, as_role: str | None, note: str | None, as_json: bool,
             yes: bool) -> None:
    """Move CASE to the next stage when nothing blocks it (exit 3 and the blockers otherwise).

    With --all-ready instead of CASE: every active case whose guards pass moves on (each case atomically);
    one line per case (advanced, blocked with its blockers, or conflict: changed by someone else meanwhile,
    left as it is) and the totals. Exit 0, or 4 when there were conflicts (run it again).
    """
    if all_ready and case_id is not None:
        raise click.UsageError(_("give either CASE or --all-ready, not both"))
    if not all_ready:
        if case_id is None:
            raise click.UsageError(_("missing CASE (or --all-ready to advance every ready case)"))
        used = [name for name, value in (("--complex", complex_name), ("--dry-run", dry_run), ("--json", as_json),
                                         ("--yes", yes)) if value]
        if used:
            raise click.UsageError(_("{options}: only with --all-ready (to see whether one case is ready: eightstep "
                                     "case check CASE)").format(options=", ".join(used)))
        _advance_one(settings, case_id, at, actor, as_role, note)
        return
    if not dry_run:
        where = (_("every ready case of {complex}").format(complex=complex_name) if complex_name
                 else _("every ready case"))
        confirm(_("Advance {where} to its next stage?").format(where=where), yes)
    _advance_all(settings, complex_name, dry_run, at, actor, as_role, note, as_json)


def _advance_one(settings: Settings, case_id: str, at: datetime | None, actor: str | None, as_role: str | None,
                 note: str | None) -> None:
    from eightstep import engine

    ws = settings.workspace()
    move = engine.advance(ws, case_id, at=at, actor=actor, note=note, as_role=as_role)
    click.echo(f"{move.case_id}: {move.from_stage} -> {move.to_stage}")
    consent = move.details.get("consent")
    if consent:
        click.echo("  " + _("consent recorded: {agree} of {owners} owners agree, area {area_agree} of {area_total} "
                            "m² ({rule})").format(agree=consent["agree"], owners=consent["owners"],
                                                  area_agree=consent["area_agree"],
                                                  area_total=consent["area_total"],
                                                  rule=consent["rule"]["description"]))
    click.echo(_("What the new stage needs:"))
    print_check(engine.check(ws, move.case_id, at=move.at))


def _advance_all(settings: Settings, complex_name: str | None, dry_run: bool, at: datetime | None,
                 actor: str | None, as_role: str | None, note: str | None, as_json: bool) -> None:
    from eightstep.engine import bulk

    ws = settings.workspace()
    runs = bulk.iter_advance_all_ready(ws, complex_name=complex_name, at=at, actor=actor, note=note,
                                       dry_run=dry_run, as_role=as_role)
    report = bulk.BulkReport(dry_run)
    if as_json or not _is_terminal():
        for results in runs:
            report.results.extend(results)
            if not as_json:
                _print_results(results)
    else:
        total = bulk.count_candidates(ws, complex_name=complex_name)
        with click.progressbar(length=total, label=_("Advancing") if not dry_run else _("Checking")) as bar:
            for results in runs:
                report.results.extend(results)
                bar.update(len(results))
        _print_results(report.results)
    totals = report.totals
    if as_json:
        emit_json({"dry_run": dry_run, "results": [r.as_dict() for r in report.results], "totals": totals})
    else:
        if dry_run:
            click.echo(ngettext("Would advance {ready}, blocked {blocked} ({cases} active case considered); nothing "
                                "was written (dry run).", "Would advance {ready}, blocked {blocked} ({cases} active "
                                "cases considered); nothing was written (dry run).", totals["cases"]).format(**totals))
        else:
            click.echo(ngettext("Advanced {advanced}, blocked {blocked}, conflicts {conflict} ({cases} active case "
                                "considered).", "Advanced {advanced}, blocked {blocked}, conflicts {conflict} ({cases} "
                                "active cases considered).", totals["cases"]).format(**totals))
    if totals.get("conflict"):
        click.get_current_context().exit(4)


def _is_terminal() -> bool:
    import sys

    return sys.stdout.isatty()


def _print_results(results: list[Any]) -> None:
    from eightstep.cli.remedies import print_blockers

    for r in results:
        if r.outcome == "blocked":
            click.echo(_("{case}: blocked in {stage} by {count}").format(case=r.case_id, stage=r.from_stage,
                                                                         count=len(r.blockers)))
            print_blockers(r.blockers, r.case_id)
        elif r.outcome == "conflict":
            click.echo(_("{case}: conflict: changed by someone else meanwhile; left in {stage}").format(
                case=r.case_id, stage=r.from_stage))
        else:
            line = (_("{case}: would advance {source} -> {target}") if r.outcome == "ready"
                    else _("{case}: advanced {source} -> {target}"))
            click.echo(line.format(case=r.case_id, source=r.from_stage, target=r.to_stage))


@case.command("return")
@click.argument("case_id", metavar="CASE", type=CASE)
@click.option("--to", "to", required=True, shell_complete=completion.stage_ids,
              help="The earlier stage id to return to.")
@click.option("--reason", required=True, help="Why (驳回理由).")
@click.option("--keep-records", is_flag=True,
              help="Keep the documents, approvals, ballots, scheme choices and meetings recorded so far counting "
                   "(default: they no longer count, and the reworked stages need them anew).")
@at_option
@actor_option
@as_option
@click.pass_obj
def return_(settings: Settings, case_id: str, to: str, reason: str, keep_records: bool, at: datetime | None,
            actor: str | None, as_role: str | None) -> None:
    """Return CASE to an earlier stage for rework, with the reason on record.

    The rework starts its evidence afresh: what was recorded before the return (documents, approvals, ballots,
    scheme choices, meetings) no longer counts, so the new scheme is noticed again, the vote taken again, and
    so on. Households and open objections stay. --keep-records keeps everything counting.
    """
    from eightstep import engine

    move = engine.return_to(settings.workspace(), case_id, to, reason=reason, at=at, actor=actor,
                            keep_records=keep_records, as_role=as_role)
    kept = _("records kept") if keep_records else _("records before the return no longer count")
    click.echo(_("{case}: {source} -> {target} (returned: {reason}; {kept})").format(
        case=move.case_id, source=move.from_stage, target=move.to_stage, reason=reason, kept=kept))


def _status_command(name: str, doc: str) -> None:
    @case.command(name, help=doc)
    @click.argument("case_id", metavar="CASE", type=CASE)
    @click.option("--reason", required=True, help="Why, for the record.")
    @at_option
    @actor_option
    @as_option
    @click.pass_obj
    def command(settings: Settings, case_id: str, reason: str, at: datetime | None, actor: str | None,
                as_role: str | None, **extra: Any) -> None:
        from eightstep import engine

        if name == "withdraw":
            confirm(_("Withdraw case {case} for good?").format(case=case_id), extra.pop("yes"))

        move = getattr(engine, name)(settings.workspace(), case_id, reason=reason, at=at, actor=actor,
                                     as_role=as_role, **extra)
        click.echo(f"{move.case_id}: {move.details['status']['from']} -> {move.details['status']['to']}")

    if name == "withdraw":
        yes_option(command)
    if name == "suspend":
        click.option("--review-at", "review_at", type=PLANNED_AT, default=None,
                     help="When the suspension should be reviewed (may lie ahead; not before the suspension; "
                          "the audit flags it after).")(command)


_status_command("suspend", "Suspend CASE (mediation, litigation, ...); its stall clock stops.")
_status_command("resume", "Resume a suspended CASE.")
_status_command("withdraw", "Withdraw CASE for good (已撤销); the unit may then get a new case.")


@case.command("history")
@click.argument("case_id", metavar="CASE", type=CASE)
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


def _hand_over() -> None:
    """`case export` and `case import` live in eightstep.cli.handover (imported with this group)."""
    from eightstep.cli.handover import export, import_

    case.add_command(export)
    case.add_command(import_)


_hand_over()
