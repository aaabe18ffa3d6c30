"""`eightstep case export` and `eightstep case import`: hand one case to another office or to the window."""

from __future__ import annotations

from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.outputs import force_option, outputs


@click.command("export")
@click.argument("case_id", metavar="CASE")
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
    click.echo(f"{case_id}: {m['events']} events, {sum(m['rows'].values())} records, {len(m['files'])} stored files "
               f"and {len(m['forms'])} forms -> {target} (chain head {m['head'][:12]})")


@click.command("import")
@click.argument("archive", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.pass_obj
def import_(settings: Settings, archive: Path) -> None:
    """Bring a case exported by `eightstep case export` into this database, then verify its history here."""
    from eightstep.audit.handover import import_case
    from eightstep.audit.verify import verify

    ws = settings.workspace()
    result = import_case(ws, archive)
    report = verify(ws)
    mine = [p for p in report.chain_problems if p.case_id == result.case_id]
    click.echo(f"Imported {result.case_id}: {result.events} events, {result.rows} records, {result.files_added} new "
               "stored files")
    if mine:
        for p in mine:
            click.echo(f"BROKEN  case {p.case_id} event {p.seq}: {p.kind}: {p.message}")
        click.get_current_context().exit(1)
    click.echo(f"Verified: the history of {result.case_id} is intact.")
