"""`eightstep case export` and `eightstep case import`: hand one case to another office or to the window."""

from __future__ import annotations

from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.base import Command
from eightstep.cli.outputs import force_option, outputs
from eightstep.cli.params import CASE, actor_option, as_option
from eightstep.i18n import _


@click.command("export", cls=Command)
@click.argument("case_id", metavar="CASE", type=CASE)
@click.option("-o", "--output", "target", required=True, type=click.Path(path_type=Path, dir_okay=False),
              help="The zip file to write.")
@click.option("--no-forms", is_flag=True, help="Leave the rendered forms out (they are logged in the history).")
@force_option
@click.pass_obj
def export(settings: Settings, case_id: str, target: Path, no_forms: bool, force: bool) -> None:
    """Write CASE's records, history, stored files and forms into one zip (for the window, or another office).

    Every form whose data is complete is rendered (HTML) and logged in the history first, so the history in the
    archive records them. `eightstep case import FILE` brings the case into another database, its history intact.
    """
    from eightstep.audit.handover import export_case

    ws = settings.workspace()
    forms: dict[str, bytes] = {}
    with outputs(settings, force) as out:
        out.check(target)  # before rendering anything
        if not no_forms:
            from eightstep.paperwork.render import Paperwork

            paperwork = Paperwork(ws)
            ready = [f.id for f in paperwork.list_forms(case_id) if not f.missing]
            if ready:
                forms = {r.filename(case_id): r.content for r in paperwork.render_many(case_id, ready, "html")}
        result = export_case(ws, case_id, target, out, forms)
    m = result.manifest
    click.echo(_("{case}: {events} events, {records} records, {files} stored files and {forms} forms -> {target} "
                 "(chain head {head})").format(case=case_id, events=m["events"], records=sum(m["rows"].values()),
                                               files=len(m["files"]), forms=len(m["forms"]), target=target,
                                               head=m["head"][:12]))


@click.command("import", cls=Command)
@click.argument("archive", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@actor_option
@as_option
@click.pass_obj
def import_(settings: Settings, archive: Path, actor: str | None, as_role: str | None) -> None:
    """Bring a case exported by `eightstep case export` into this database, then verify its history here.

    The history gets one more event, case.import, by the importing actor, naming the archive and the database
    logins that wrote the imported events where they came from (`case history` shows them). Where the case's
    workflow has permissions, the import is governed like any action (case.import, case.* or "*"): the actor
    must hold one of its roles in the case as exported (`role add` before the export)."""
    from eightstep.audit.handover import import_case
    from eightstep.audit.verify import verify

    ws = settings.workspace()
    result = import_case(ws, archive, actor=actor, as_role=as_role)
    report = verify(ws)
    mine = [p for p in report.chain_problems if p.case_id == result.case_id]
    rows = [p for p in report.record_problems if p.case_id == result.case_id]  # its rows against its history
    click.echo(_("Imported {case}: {events} events, {records} records, {files} new stored files").format(
        case=result.case_id, events=result.events, records=result.rows, files=result.files_added))
    if mine or rows:
        for p in mine:
            click.echo(_("BROKEN  case {case} event {seq}: {kind}: {message}").format(
                case=p.case_id, seq=p.seq, kind=p.kind, message=p.message))
        for rp in rows:
            click.echo(_("BROKEN  case {case} {message}").format(case=rp.case_id, message=rp.message))
        click.get_current_context().exit(1)
    click.echo(_("Verified: the history of {case} is intact.").format(case=result.case_id))
