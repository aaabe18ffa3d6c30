"""`eightstep report`: one row per case on the eight-step track, totals per stage, optionally an HTML page."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from eightstep.cli import Settings
from eightstep.cli.audit import as_of_option
from eightstep.cli.base import Command
from eightstep.cli.output import emit_json, table
from eightstep.cli.outputs import outputs
from eightstep.cli.sheets import Sheet, one_format, table_options, write_csv, wrote, xlsx_bytes
from eightstep.i18n import N_, _

if TYPE_CHECKING:
    from eightstep.audit.report import Overview


@click.command("report", cls=Command)
@click.option("--complex", "complex_name", default=None, help="Only this complex (小区).")
@as_of_option
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write a self-contained HTML page (table, totals and a timeline chart; no network "
                   "resources) to this file.")
@table_options
@click.pass_obj
def report(settings: Settings, complex_name: str | None, as_of: date | None, html_file: Path | None,
           as_json: bool, as_csv: bool, xlsx_file: Path | None, force: bool) -> None:
    """Overview: each case's stage on the track, days in stage (against the limit), first blockers; totals.

    Days in stage exclude suspended time and are counted in working days when the stage limit is in working
    days ("16/15 wd": 16 working days against a limit of 15). Stalled cases are marked with "!".
    """
    from eightstep.audit.report import overview, render_html

    one_format(json=as_json, csv=as_csv, xlsx=xlsx_file is not None)
    with outputs(settings, force) as out:
        for target in (html_file, xlsx_file):
            if target is not None:
                out.check(target)  # before the work, not after it
        ov = overview(settings.workspace(), complex_name=complex_name, as_of=as_of)
        shared = ov
        if html_file is not None or as_json or as_csv or xlsx_file is not None:
            from eightstep.audit.redact import redact_overview

            shared = redact_overview(settings.workspace(), ov)  # for others: names, phone and ID numbers masked
        if html_file is not None:
            out.add(html_file, render_html(shared).encode("utf-8"))
        if xlsx_file is not None:
            out.add(xlsx_file, xlsx_bytes([
                Sheet(_("cases"), [_(label) for _key, label in ROW_COLUMNS], row_cells(shared)),
                Sheet(_("stages"), [_("stage"), _("title"), _("cases"), _("stalled"), _("suspended")],
                      [[f"S{t.index} {t.stage}", t.title, t.cases, t.stalled, t.suspended] for t in ov.totals])]))
    if as_json:
        emit_json({"as_of": shared.as_of.isoformat(), "complex": shared.complex, "stalled": shared.stalled,
                   "withdrawn": shared.withdrawn, "cases": [r.as_dict() for r in shared.rows],
                   "totals": [vars(t) for t in shared.totals]})
    elif as_csv:
        write_csv([key for key, _label in ROW_COLUMNS], row_cells(shared))
    elif xlsx_file is not None:
        wrote(xlsx_file, len(ov.rows))
    else:
        print_overview(ov)
    if html_file is not None and not (as_json or as_csv):
        click.echo("\n" + _("Wrote {path}").format(path=html_file))


ROW_COLUMNS = [("case", N_("case")), ("complex", N_("complex")), ("building", N_("building")),
               ("unit", N_("unit")), ("stage_index", N_("stage no.")), ("stage", N_("stage")),
               ("stage_title", N_("stage title")), ("status", N_("status")),
               ("entered_on", N_("in stage since")), ("days_in_stage", N_("days in stage")),
               ("limit_days", N_("limit (days)")), ("limit_calendar", N_("limit counted in")),
               ("stalled", N_("stalled")), ("blockers", N_("blockers"))]


def row_cells(ov: Overview) -> list[list[object]]:
    return [[r.case, r.complex, r.building, r.unit, r.stage_index, r.stage, r.stage_title, r.status, r.entered_on,
             r.days_in_stage, r.limit.days if r.limit else None, r.limit.calendar if r.limit else None,
             "!" if r.stalled else "", "\n".join(b.message for b in r.blockers)] for r in ov.rows]


def print_overview(ov: Overview) -> None:
    """The overview as terminal tables (also printed by `eightstep demo`)."""
    from eightstep.audit.report import blocker_summary

    scope = f" · {ov.complex}" if ov.complex else ""
    line = _("Overview as of {day}{scope}: {cases} cases, {stalled} stalled").format(
        day=ov.as_of, scope=scope, cases=len(ov.rows), stalled=ov.stalled)
    if ov.withdrawn:
        line += " " + _("({count} withdrawn not shown)").format(count=ov.withdrawn)
    click.echo(line)
    if not ov.rows:
        return
    click.echo()
    table([_("case"), _("unit"), _("stage"), _("in stage"), _("first blockers")],
          [[r.case, f"{r.complex} {r.unit_label}", f"{r.track} {r.stage}",
            r.days_label + (" !" if r.stalled else "") + (" " + _("(suspended)") if r.status == "suspended" else ""),
            blocker_summary(r.blockers) or "—"] for r in ov.rows])
    click.echo()
    table([_("stage"), _("cases"), _("stalled"), _("suspended")],
          [[f"S{t.index} {t.stage} {t.title}", t.cases, t.stalled, t.suspended] for t in ov.totals])
