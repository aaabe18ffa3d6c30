"""The command line: parse, call one library function, print. Errors become messages and exit codes here.

Exit codes: 0 success; 1 error (unknown case, bad input); 2 usage; 3 advance refused by guards;
4 concurrent-modification conflict.
"""

from __future__ import annotations

import atexit
import gc
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eightstep import __version__
from eightstep.cli.base import LazyGroup
from eightstep.errors import BlockedError, EightstepError
from eightstep.i18n import _, choose_language, set_language

if TYPE_CHECKING:
    from collections.abc import Sequence

    from eightstep.store.outputs import Protected
    from eightstep.store.workspace import Workspace

# Each command group lives in its own module, imported only when the command runs or its help is shown.
COMMANDS = {
    "approval": "eightstep.cli.records:approval",
    "audit": "eightstep.cli.audit:audit",
    "backup": "eightstep.cli.backup:backup",
    "calendar": "eightstep.cli.calendar:calendar_",
    "canvass": "eightstep.cli.canvass:canvass",
    "case": "eightstep.cli.case:case",
    "complex": "eightstep.cli.complex:complex_",
    "doc": "eightstep.cli.records:doc",
    "elevator": "eightstep.cli.elevator:elevator",
    "forms": "eightstep.cli.forms:forms",
    "funding": "eightstep.cli.funding:funding",
    "holidays": "eightstep.cli.holidays:holidays",
    "household": "eightstep.cli.household:household",
    "meeting": "eightstep.cli.meeting:meeting",
    "objection": "eightstep.cli.records:objection",
    "report": "eightstep.cli.report:report",
    "restore": "eightstep.cli.backup:restore",
    "role": "eightstep.cli.role:role",
    "scheme": "eightstep.cli.scheme:scheme",
    "settings": "eightstep.cli.settings:settings_group",
    "subsidy": "eightstep.cli.subsidy:subsidy",
    "vote": "eightstep.cli.vote:vote",
    "workflow": "eightstep.cli.workflow:workflow",
}


class Settings:
    """Global options; the workspace is built on first use so that --help never touches a database.

    What no option or environment variable gives comes from the settings file (``eightstep.cli.settings``)."""

    def __init__(self, db: str | None, workflow_dirs: tuple[Path, ...], holiday_dirs: tuple[Path, ...]) -> None:
        self.db = db
        self.workflow_dirs = list(workflow_dirs)
        self.holiday_dirs = list(holiday_dirs)
        self._ws: Workspace | None = None
        self._saved: dict[str, str] | None = None

    def saved(self) -> dict[str, str]:
        """The settings file's values (read once)."""
        if self._saved is None:
            from eightstep.cli.settings import load

            self._saved = load()
        return self._saved

    def _where(self) -> dict[str, Any]:
        files = os.environ.get("EIGHTSTEP_FILES") or self.saved().get("files")
        return {"workflow_dirs": self.workflow_dirs, "holiday_dirs": self.holiday_dirs,
                "files": Path(files) if files else None}

    def db_setting(self) -> str | None:
        """--db, else the settings file's db (None: the default)."""
        return self._db()

    def _db(self) -> str | None:
        return self.db if self.db is not None else self.saved().get("db")

    def protected(self) -> Protected:
        """The database and its files store, which no output may touch (eightstep.store.outputs)."""
        from eightstep.store.workspace import protected_for

        return protected_for(self._db(), self._where()["files"])

    def actor(self, given: str | None) -> str | None:
        """--actor, else $EIGHTSTEP_ACTOR (the library reads it), else the settings file's actor."""
        if given or os.environ.get("EIGHTSTEP_ACTOR"):
            return given
        return self.saved().get("actor")

    def workspace(self) -> Workspace:
        if self._ws is None:
            from eightstep.store.workspace import Workspace

            self._ws = Workspace.open(self._db(), **self._where())
        return self._ws

    def init(self) -> tuple[Workspace, bool]:
        from eightstep.store.workspace import Workspace

        self._ws, fresh = Workspace.init(self._db(), **self._where())
        return self._ws, fresh

    def close(self) -> None:
        if self._ws is not None:
            for message in self._ws.calendar.warnings:
                click.echo(_("Warning: {message}").format(message=message), err=True)
            self._ws.dispose()


def _option_value(argv: list[str], name: str) -> str | None:
    """The value of ``name`` in ``argv`` (``--lang zh`` or ``--lang=zh``), read before click parses."""
    for i, arg in enumerate(argv):
        if arg == "--":
            break
        if arg == name and i + 1 < len(argv):
            return argv[i + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def _saved_language() -> str | None:
    from eightstep.cli.settings import load

    try:
        return load().get("lang")
    except EightstepError:
        return None  # a broken settings file is reported when a command needs it


class EightstepGroup(LazyGroup):
    """The root group: chooses the language and fits the output streams before parsing, and is the one place
    where library errors become messages and exit codes."""

    def main(self, args: Sequence[str] | None = None, prog_name: str | None = None,  # click's Command.main
             complete_var: str | None = None, standalone_mode: bool = True, **extra: Any) -> Any:
        from eightstep.cli.output import fit_streams

        fit_streams()
        # At exit Python's last garbage collection walks every object the command's imports made (some 70,000):
        # about a sixth of a read command's CPU time. Frozen (by this exit handler), they are left to the process's
        # end; nothing of eightstep's is finalised there (the workspace is closed with the command's context).
        atexit.unregister(gc.freeze)
        atexit.register(gc.freeze)
        argv = list(sys.argv[1:] if args is None else args)
        set_language(choose_language(_option_value(argv, "--lang"), _saved_language()))
        return super().main(argv, prog_name=prog_name, complete_var=complete_var, standalone_mode=standalone_mode,
                            **extra)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except BlockedError as exc:
            from eightstep.cli.output import emit_json
            from eightstep.cli.remedies import blocker_data, print_blockers

            if ctx.meta.get("json"):
                emit_json({"error": str(exc), "blockers": [blocker_data(b, exc.case) for b in exc.blockers]})
            click.echo(_("Blocked: {message}").format(message=exc), err=True)
            print_blockers(exc.blockers, exc.case, err=True)
            ctx.exit(exc.exit_code)
        except EightstepError as exc:
            message = str(exc)
            if exc.field:
                from eightstep.cli.base import field_label

                label = field_label([ctx.meta.get("eightstep.command"), self], exc.field)
                message = _("{field}: {message}").format(field=label, message=exc.detail)
            sections = getattr(exc, "sections", None)  # incomplete forms: each gap with the command that fills it
            if sections:
                from eightstep.cli.remedies import print_needs

                for headline, needs in sections:
                    click.echo(_("Error: {message}").format(message=headline), err=True)
                    print_needs(needs, err=True)
                ctx.exit(exc.exit_code)
            click.echo(_("Error: {message}").format(message=message), err=True)
            if exc.remedy is not None:
                from eightstep.cli.remedies import spell_all

                for command in spell_all(exc.remedy):
                    click.echo("  " + _("Next: {command}").format(command=command), err=True)
            ctx.exit(exc.exit_code)


@click.group(cls=EightstepGroup, lazy=COMMANDS, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="eightstep", help="Show the version and exit.")
@click.option("--db", metavar="PATH_OR_URL", envvar="EIGHTSTEP_DB",
              help="SQLite file or SQLAlchemy URL (default: the settings file's db, else ./eightstep.db; env "
                   "EIGHTSTEP_DB).")
@click.option("--workflows", "workflow_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Extra folder of workflow files, searched before the built-in ones (env EIGHTSTEP_WORKFLOWS).")
@click.option("--holidays", "holiday_dirs", multiple=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder of holiday data files (<year>.yaml) for years eightstep does not ship, or to correct "
                   "one (env EIGHTSTEP_HOLIDAYS; also ./holidays beside the database).")
@click.option("--lang", type=click.Choice(["zh", "en"]), expose_value=False,
              help="Language of messages and help: zh (中文) or en (default: env EIGHTSTEP_LANG, the settings "
                   "file's lang, else the system's language).")
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
@click.option("--separate-offices/--shared-offices", "separate", default=None,
              help="PostgreSQL, as the tables' owner: keep the offices apart (each login sees and changes only the "
                   "cases of its complexes: row-level security), or let every office see every case again.")
@click.pass_obj
def init(settings: Settings, separate: bool | None) -> None:
    """Create the database, or upgrade an existing one to this eightstep's schema (safe to repeat)."""
    if separate is not None:
        from eightstep.store.offices import needs_server

        needs_server(settings.db_setting())
    ws, _fresh = settings.init()
    change = ws.schema_change
    assert change is not None
    _init_message(ws, change)
    if separate is not None:
        _offices(ws, separate)


def _offices(ws: Workspace, separate: bool) -> None:
    from eightstep.store import offices

    if separate:
        count = offices.separate(ws.engine)
        click.echo(_("Offices kept apart: each login sees and changes only the cases of its complexes ({count} "
                     "tables under row-level security).").format(count=count))
    else:
        offices.share(ws.engine)
        click.echo(_("Offices share every case again (row-level security off)."))


def _init_message(ws: Workspace, change: Any) -> None:
    if change.fresh:
        click.echo(_("Created {where}").format(where=ws.where))
        return
    if change.recorded:
        click.echo(_("Recorded {where} as schema revision {revision} (it was made before eightstep had "
                     "migrations)").format(where=ws.where, revision=change.before))
    if change.before != change.after:
        click.echo(_("Upgraded {where} from schema revision {before} to {after}").format(
            where=ws.where, before=change.before, after=change.after))
    elif not change.recorded:
        click.echo(_("Already initialised: {where} (schema revision {revision})").format(
            where=ws.where, revision=change.after))


@main.command()
@click.option("--dir", "folder", type=click.Path(path_type=Path, file_okay=False), default="eightstep-demo",
              show_default=True, help="Folder for the demo database and its files (must be new or empty; created "
                                      "in a folder that exists).")
@click.pass_obj
def demo(settings: Settings, folder: Path) -> None:
    """Build the story of 人大小区 (8 units, the pilot through all eight stages, all eight elevators delivered
    within about a year) and a smaller complex with stalled units; print the overview as of the story's end."""
    from eightstep.audit.report import overview
    from eightstep.cli.outputs import protected
    from eightstep.cli.report import print_overview
    from eightstep.demo import END, HELD, PILOT, RENDA, SECOND_PILOT, build_demo

    ws = build_demo(folder, protected(settings))
    try:
        click.echo(_("The story ends on {end}, about a year after the pilot's vote: every unit of {complex} is in "
                     "operation or at acceptance. The overview as of that day:\n").format(end=END,
                                                                                        complex=RENDA.complex))
        print_overview(overview(ws, as_of=END))
        db = os.path.relpath(ws.where)
        click.echo("\n" + _("Records stop at the story's end: judged today, the elevators would show their "
                            "maintenance overdue. Look at the story as of {end}:").format(end=END))
        tries = [f"audit stalled --as-of {END}", f"case history {PILOT}", f"case check {HELD}",
                 f"funding paid {PILOT}", f"subsidy show {SECOND_PILOT}", f"elevator show {PILOT}",
                 f"scheme compare {PILOT}", f"complex progress {RENDA.complex} --at {END}"]
        click.echo(_("Database: {where}").format(where=ws.where))
        click.echo(_("Try:") + "".join(f"\n  eightstep --db {db} {command}" for command in tries))
    finally:
        ws.dispose()
