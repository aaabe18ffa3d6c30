"""The command line: parse, call one library function, print. Errors become messages and exit codes here.

Exit codes: 0 success; 1 error (unknown case, bad input); 2 usage; 3 advance refused by guards;
4 concurrent-modification conflict.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eightstep import __version__
from eightstep.errors import BlockedError, EightstepError

if TYPE_CHECKING:
    from eightstep.store.workspace import Workspace


class Settings:
    """Global options; the workspace is built on first use so that --help never touches a database."""

    def __init__(self, db: str | None, workflow_dirs: tuple[Path, ...], holiday_dirs: tuple[Path, ...]) -> None:
        self.db = db
        self.workflow_dirs = list(workflow_dirs)
        self.holiday_dirs = list(holiday_dirs)
        self._ws: Workspace | None = None

    def workspace(self) -> Workspace:
        if self._ws is None:
            from eightstep.store.workspace import Workspace

            self._ws = Workspace.open(self.db, workflow_dirs=self.workflow_dirs, holiday_dirs=self.holiday_dirs)
        return self._ws

    def init(self) -> tuple[Workspace, bool]:
        from eightstep.store.workspace import Workspace

        self._ws, fresh = Workspace.init(self.db, workflow_dirs=self.workflow_dirs, holiday_dirs=self.holiday_dirs)
        return self._ws, fresh

    def close(self) -> None:
        if self._ws is not None:
            for message in self._ws.calendar.warnings:
                click.echo(f"Warning: {message}", err=True)
            self._ws.dispose()


class EightstepGroup(click.Group):
    """The root group: the one place where library errors become messages and exit codes."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BlockedError as exc:
            from eightstep.cli.output import emit_json

            if ctx.meta.get("json"):
                emit_json({"error": str(exc), "blockers": [b.as_dict() for b in exc.blockers]})
            click.echo(f"Blocked: {exc}", err=True)
            for blocker in exc.blockers:
                click.echo(f"  [{blocker.type}] {blocker.message}", err=True)
            ctx.exit(exc.exit_code)
        except EightstepError as exc:
            click.echo(f"Error: {exc}", err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=EightstepGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eightstep")
@click.option("--db", metavar="PATH_OR_URL", envvar="EIGHTSTEP_DB",
              help="SQLite file or SQLAlchemy URL (default: ./eightstep.db; env EIGHTSTEP_DB).")
@click.option("--workflows", "workflow_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Extra folder of workflow files, searched before the built-in ones (env EIGHTSTEP_WORKFLOWS).")
@click.option("--holidays", "holiday_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder of holiday data files (<year>.yaml) for years the calendar package does not know "
                   "(env EIGHTSTEP_HOLIDAYS; also ./holidays beside the database).")
@click.pass_context
def main(ctx: click.Context, db: str | None, workflow_dirs: tuple[Path, ...], holiday_dirs: tuple[Path, ...]) -> None:
    """eightstep: run elevator-retrofit cases (加装电梯) through the eight-step method.

    One case is one stairwell unit (单元). Open it, import its owners, record votes, documents, approvals
    and objections, ask `case check` what still blocks it, and `case advance` it stage by stage.
    """
    settings = Settings(db, workflow_dirs, holiday_dirs)
    ctx.obj = settings
    ctx.call_on_close(settings.close)


@main.command()
@click.pass_obj
def init(settings: Settings) -> None:
    """Create the database, or upgrade an existing one to this eightstep's schema (safe to repeat)."""
    ws, _fresh = settings.init()
    change = ws.schema_change
    assert change is not None
    if change.fresh:
        click.echo(f"Created {ws.where}")
        return
    if change.recorded:
        click.echo(f"Recorded {ws.where} as schema revision {change.before} (it was made before eightstep had "
                   "migrations)")
    if change.before != change.after:
        click.echo(f"Upgraded {ws.where} from schema revision {change.before} to {change.after}")
    elif not change.recorded:
        click.echo(f"Already initialised: {ws.where} (schema revision {change.after})")


@main.command()
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False), default="eightstep-demo",
              show_default=True, help="Folder for the demo database and its files (must be new or empty).")
def demo(folder: Path) -> None:
    """Build the story of 人大小区 (8 units, the pilot through all eight stages) and print its overview."""
    from eightstep.audit.report import overview
    from eightstep.cli.report import print_overview
    from eightstep.demo import build_demo

    ws = build_demo(folder)
    try:
        print_overview(overview(ws))
        db = os.path.relpath(ws.where)
        click.echo(f"\nDatabase: {ws.where}\nTry: eightstep --db {db} case check RD-4-1\n"
                   f"     eightstep --db {db} case history RD-3-2\n     eightstep --db {db} audit stalled\n"
                   f"     eightstep --db {db} canvass list RD-4-2\n     eightstep --db {db} scheme compare RD-3-2\n"
                   f"     eightstep --db {db} complex progress 人大小区")
    finally:
        ws.dispose()


def _register() -> None:
    from eightstep.cli import case, household, records, vote, workflow

    main.add_command(case.case)
    main.add_command(workflow.workflow)
    main.add_command(household.household)
    main.add_command(vote.vote)
    main.add_command(records.doc)
    main.add_command(records.approval)
    main.add_command(records.objection)

    from eightstep.cli import forms, funding

    main.add_command(forms.forms)
    main.add_command(funding.funding)

    from eightstep.cli import audit, report

    main.add_command(audit.audit)
    main.add_command(report.report)

    from eightstep.cli import canvass, meeting, role, scheme
    from eightstep.cli import complex as complex_cli

    main.add_command(canvass.canvass)
    main.add_command(scheme.scheme)
    main.add_command(role.role)
    main.add_command(meeting.meeting)
    main.add_command(complex_cli.complex_)


_register()
