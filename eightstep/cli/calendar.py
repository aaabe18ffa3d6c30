"""`eightstep calendar`: the cases' deadlines as an .ics file for Outlook or a phone calendar."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.audit import DATE
from eightstep.cli.base import Command
from eightstep.cli.output import emit_json
from eightstep.cli.outputs import force_option, outputs
from eightstep.cli.params import CASE, json_option
from eightstep.i18n import _, ngettext


@click.command("calendar", cls=Command)
@click.option("--complex", "complex_name", default=None, help="Only the cases of this complex (小区).")
@click.option("--case", "case_id", type=CASE, default=None, help="Only this case.")
@click.option("--since", type=DATE, default=None,
              help="Only deadlines on or after this date (default: all, overdue ones included).")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default=None,
              help="The .ics file to write (- for standard output).")
@json_option
@force_option
@click.pass_obj
def calendar_(settings: Settings, complex_name: str | None, case_id: str | None, since: date | None,
              output: Path | None, as_json: bool, force: bool) -> None:
    """The deadlines of the cases as calendar events: stall limits of the stages, the end of public notices,
    suspension reviews, maintenance and periodic inspection due dates, the end of the elevator's warranty and
    insurance, and the day a subsidy applied for is due to be paid.

    Each is an all-day event on its day (Asia/Shanghai) with a stable id, so importing a newer file into Outlook
    or a phone calendar updates the events instead of duplicating them.
    """
    from eightstep.audit.deadlines import deadlines
    from eightstep.audit.ics import to_ics
    from eightstep.timeutil import now_utc

    if output is None and not as_json:
        raise click.UsageError(_("give -o FILE.ics (or --json)"))
    found = deadlines(settings.workspace(), complex_name=complex_name, case_id=case_id, since=since)
    if as_json:
        emit_json([d.as_dict() for d in found])
        return
    assert output is not None
    name = " ".join(["eightstep", *(x for x in (complex_name, case_id) if x)])
    text = to_ics(found, name=name, now=now_utc())
    if str(output) == "-":
        click.echo(text.encode("utf-8"), nl=False)
        return
    with outputs(settings, force) as out:  # never over the database, an existing file only with --force
        out.add(output, text.encode("utf-8"))
    click.echo(ngettext("Wrote {path} ({count} deadline)", "Wrote {path} ({count} deadlines)", len(found))
               .format(path=output, count=len(found)))
