"""`eightstep backup` and `eightstep restore`: one archive of the database and its files; restored and verified."""

from __future__ import annotations

from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.output import warn
from eightstep.cli.outputs import force_option, outputs
from eightstep.i18n import _


@click.command("backup")
@click.argument("archive", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False))
@force_option
@click.pass_obj
def backup(settings: Settings, archive: Path, force: bool) -> None:
    """Write FILE (a zip): a consistent snapshot of the database, every stored file, and a manifest.

    Safe while others work: the snapshot is the database at one moment (SQLite's online backup). On PostgreSQL
    it says how to use pg_dump instead. Restore it with `eightstep restore FILE --db NEW`.
    """
    from eightstep.store.backup import backup as make_backup

    with outputs(settings, force) as out:
        result = make_backup(settings.workspace(), archive, out)
    m = result.manifest
    for digest in result.damaged:
        warn(_("stored file {sha} no longer matches its hash: left out of the backup (see audit verify)").format(
            sha=digest[:12]))
    for digest in result.missing:
        warn(_("stored file {sha} is referred to by a record but missing from the files store").format(
            sha=digest[:12]))
    click.echo(_("Backed up {cases} cases ({events} events, schema {schema}) and {files} stored files to {archive} "
                 "(database sha256 {sha})").format(cases=m["cases"], events=m["events"], schema=m["schema_revision"],
                                                   files=len(m["files"]), archive=archive,
                                                   sha=m["database"]["sha256"][:12]))


@click.command("restore")
@click.argument("archive", metavar="FILE", type=click.Path(path_type=Path, dir_okay=False, exists=True))
@click.option("--db", "target", required=True, metavar="NEW",
              help="The new SQLite database to restore into (must not exist); its files go beside it (NEW.files, "
                   "or EIGHTSTEP_FILES).")
@click.pass_obj
def restore(settings: Settings, archive: Path, target: str) -> None:
    """Restore a backup FILE into a new database, then verify it (every hash chain and stored file).

    Exit 1 when the backup is damaged or the restored database does not verify.
    """
    from eightstep.audit.verify import verify
    from eightstep.store.backup import restore as do_restore
    from eightstep.store.workspace import Workspace

    with outputs(settings, force=False) as out:
        result = do_restore(archive, target, out)
    ws = Workspace.open(str(result.db))
    try:
        report = verify(ws)
    finally:
        ws.dispose()
    m = result.manifest
    click.echo(_("Restored {cases} cases ({events} events) of {created} into {db}, {files} stored files into "
                 "{folder}").format(cases=m["cases"], events=m["events"], created=m["created_at"], db=result.db,
                                    files=result.files_added, folder=result.files_root))
    if report.ok:
        click.echo(_("Verified: {cases} cases, {events} events, {files} stored files intact.").format(
            cases=report.cases, events=report.events, files=report.files))
        return
    click.echo(_("FAILED verification: {histories} broken histories, {files} files changed or missing (run: "
                 "eightstep --db {db} audit verify)").format(histories=len(report.chain_problems),
                                                             files=len(report.file_problems), db=result.db))
    click.get_current_context().exit(1)
