"""`eightstep case advance|return|suspend|resume|withdraw`: the commands that move a case (the ``case`` group
adds them), one case or, with ``advance --all-ready``, every ready case in batches."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import click

from eightstep.cli import Settings, completion
from eightstep.cli.base import Command
from eightstep.cli.output import emit_json
from eightstep.cli.params import (
    CASE,
    PLANNED_AT,
    case_argument,
    confirm,
    recording_options,
    yes_option,
)
from eightstep.cli.remedies import print_blockers, print_check
from eightstep.i18n import _, ngettext


@click.command("advance", cls=Command)
@click.argument("case_id", metavar="[CASE]", required=False, type=CASE)
@click.option("--all-ready", "all_ready", is_flag=True,
              help="Advance every active case whose guards pass (instead of one CASE), in batches.")
@click.option("--complex", "complex_name", default=None, help="With --all-ready: only this complex (小区).")
@click.option("--dry-run", "dry_run", is_flag=True, help="With --all-ready: say what would move; write nothing.")
@recording_options
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


@click.command("return", cls=Command)
@case_argument
@click.option("--to", "to", required=True, shell_complete=completion.stage_ids,
              help="The earlier stage id to return to.")
@click.option("--reason", required=True, help="Why (驳回理由).")
@click.option("--keep-records", is_flag=True,
              help="Keep the documents, approvals, ballots, scheme choices and meetings recorded so far counting "
                   "(default: they no longer count, and the reworked stages need them anew).")
@recording_options
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


def _status_command(name: str, doc: str) -> click.Command:
    @click.command(name, cls=Command, help=doc)
    @case_argument
    @click.option("--reason", required=True, help="Why, for the record.")
    @recording_options
    @click.pass_obj
    def command(settings: Settings, case_id: str, reason: str, at: datetime | None, actor: str | None,
                as_role: str | None, **extra: Any) -> None:
        from eightstep import engine

        if name == "withdraw":
            confirm(_("Withdraw case {case} for good?").format(case=case_id), extra.pop("yes"))

        move = getattr(engine, name)(settings.workspace(), case_id, reason=reason, at=at, actor=actor,
                                     as_role=as_role, **extra)
        from eightstep.nouns import status_name

        status = move.details["status"]
        click.echo(f"{move.case_id}: {status_name(status['from'])} -> {status_name(status['to'])}")

    if name == "withdraw":
        yes_option(command)
    if name == "suspend":
        click.option("--review-at", "review_at", type=PLANNED_AT, default=None,
                     help="When the suspension should be reviewed (may lie ahead; not before the suspension; "
                          "the audit flags it after).")(command)
    return command


COMMANDS: tuple[click.Command, ...] = (
    advance_, return_,
    _status_command("suspend", "Suspend CASE (mediation, litigation, ...); its stall clock stops."),
    _status_command("resume", "Resume a suspended CASE."),
    _status_command("withdraw", "Withdraw CASE for good (已撤销); the unit may then get a new case."),
)
