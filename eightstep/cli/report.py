"""`eightstep report`: one row per case on the eight-step track, totals per stage, optionally an HTML page."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING

import click

from eightstep.cli import Settings
from eightstep.cli.audit import as_of_option
from eightstep.cli.base import Command
from eightstep.cli.output import table
from eightstep.errors import InputError

if TYPE_CHECKING:
    from eightstep.audit.report import Overview


@click.command("report", cls=Command)
@click.option("--complex", "complex_name", default=None, help="Only this complex (小区).")
@as_of_option
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write a self-contained HTML page (table, totals and a timeline chart; no network "
                   "resources) to this file.")
@click.pass_obj
def report(settings: Settings, complex_name: str | None, as_of: date | None, html_file: Path | None) -> None:
    """Overview: each case's stage on the track, days in stage (against the limit), first blockers; totals.

    Days in stage exclude suspended time and are counted in working days when the stage limit is in working
    days ("16/15 wd": 16 working days against a limit of 15). Stalled cases are marked with "!".
    """
    from eightstep.audit.report import overview, render_html

    ov = overview(settings.workspace(), complex_name=complex_name, as_of=as_of)
    print_overview(ov)
    if html_file is not None:
        try:
            html_file.write_text(render_html(ov), encoding="utf-8")
        except OSError as exc:
            raise InputError(f"--html: cannot write {html_file}: {exc.strerror or exc}") from None
        click.echo(f"\nWrote {html_file}")


def print_overview(ov: Overview) -> None:
    """The overview as terminal tables (also printed by `eightstep demo`)."""
    from eightstep.audit.report import blocker_summary

    scope = f" · {ov.complex}" if ov.complex else ""
    click.echo(f"Overview as of {ov.as_of}{scope}: {len(ov.rows)} cases, {ov.stalled} stalled"
               + (f" ({ov.withdrawn} withdrawn not shown)" if ov.withdrawn else ""))
    if not ov.rows:
        return
    click.echo()
    table(["case", "unit", "stage", "in stage", "first blockers"],
          [[r.case, f"{r.complex} {r.unit_label}", f"{r.track} {r.stage}",
            r.days_label + (" !" if r.stalled else "") + (" (suspended)" if r.status == "suspended" else ""),
            blocker_summary(r.blockers) or "—"] for r in ov.rows])
    click.echo()
    table(["stage", "cases", "stalled", "suspended"],
          [[f"S{t.index} {t.stage} {t.title}", t.cases, t.stalled, t.suspended] for t in ov.totals])
