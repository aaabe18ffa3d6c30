"""`eightstep holidays ...`: the holiday data the working days are counted with."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eightstep.cli import Settings
from eightstep.cli.output import emit_json
from eightstep.cli.params import json_option
from eightstep.i18n import _

if TYPE_CHECKING:
    from eightstep.rules.workcalendar import WorkCalendar


@click.group()
def holidays() -> None:
    """Holiday data (法定节假日及调休) for counting working days."""


def _calendar(settings: Settings) -> WorkCalendar:
    from eightstep.rules.workcalendar import WorkCalendar
    from eightstep.store.workspace import holiday_folders

    return WorkCalendar(holiday_folders(settings.db_setting(), settings.holiday_dirs))


def _ranges(days: list[date]) -> list[str]:
    """Consecutive days as ``A..B`` ranges."""
    groups: list[list[date]] = []
    for d in sorted(days):
        if groups and d - groups[-1][-1] == timedelta(days=1):
            groups[-1].append(d)
        else:
            groups.append([d])
    return [g[0].isoformat() if len(g) == 1 else f"{g[0].isoformat()}..{g[-1].isoformat()}" for g in groups]


@holidays.command("show")
@click.argument("year", type=click.IntRange(1, 9999))
@json_option
@click.pass_obj
def show(settings: Settings, year: int, as_json: bool) -> None:
    """The holidays and adjusted working weekends of YEAR, and where they come from."""
    from eightstep.rules.workcalendar import statutory_days

    data = _calendar(settings).year_data(year, warn=False)
    statutory = statutory_days(year)
    status = "missing" if data is None else "provisional" if data.provisional else "official"
    if as_json:
        out: dict[str, Any] = {"year": year, "status": status, "file": data.source if data else None,
                               "source": data.note if data else None,
                               "holidays": sorted(data.holidays) if data else [],
                               "workdays": sorted(data.workdays) if data else [],
                               "statutory": {d.isoformat(): name for d, name in statutory.items()}}
        emit_json(out)
        return
    if data is None:
        click.echo(_("{year}: no holiday data. Working days are counted with weekends only, and every date counted "
                     "across {year} is provisional until the State Council's arrangement is added as "
                     "holidays/{year}.yaml").format(year=year))
    else:
        click.echo(_("{year}: {status}, from {file}").format(
            year=year, status=_("provisional (an estimate)") if data.provisional else _("official"),
            file=data.source))
        if data.note:
            click.echo(_("source: {source}").format(source=data.note))
        click.echo(_("holidays: {days}").format(days=", ".join(_ranges(sorted(data.holidays))) or "—"))
        click.echo(_("adjusted working days: {days}").format(
            days=", ".join(d.isoformat() for d in sorted(data.workdays)) or "—"))
    if statutory:
        click.echo(_("statutory holidays by law (every arrangement gives them): {days}").format(
            days=", ".join(f"{d.isoformat()} {name}" for d, name in statutory.items())))


@holidays.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
def check(files: tuple[Path, ...]) -> None:
    """Validate holiday data files; report every problem with file and line. Exit 1 on any problem."""
    from eightstep.rules.workcalendar import HolidayDataError, load_year_file

    failed = 0
    for path in files:
        try:
            data = load_year_file(path)
        except HolidayDataError as exc:
            failed += 1
            for problem in exc.problems:
                click.echo(problem, err=True)
            continue
        kind = _("provisional") if data.provisional else _("official")
        click.echo(_("{file}: ok ({year}, {kind}: {holidays} holidays, {workdays} adjusted working days)").format(
            file=path, year=data.year, kind=kind, holidays=len(data.holidays), workdays=len(data.workdays)))
    if failed:
        click.echo(_("{failed} of {count} file(s) have problems").format(failed=failed, count=len(files)), err=True)
        click.get_current_context().exit(1)
