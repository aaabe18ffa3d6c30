"""`eightstep household ...`: import and list the owners of a unit."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.corrections import REASON_HELP, void_command
from eightstep.cli.output import emit_json, table, warn
from eightstep.cli.params import TABLE_FILE, case_argument, confirm, recording_options, table_input, yes_option
from eightstep.cli.sheets import one_format, table_options, write_table
from eightstep.i18n import _


@click.group(cls=Group)
def household() -> None:
    """The households (owners) of a case's stairwell unit."""


@household.command("import")
@case_argument
@click.argument("file", type=TABLE_FILE)
@click.option("--replace", is_flag=True, help="Update rooms that are already recorded instead of refusing.")
@recording_options
@yes_option
@click.pass_obj
def import_(settings: Settings, case_id: str, file: Path, replace: bool, at: datetime | None,
            actor: str | None, as_role: str | None, yes: bool) -> None:
    """Import households from CSV (UTF-8 or GB18030) or .xlsx (FILE - reads standard input).

    Header: room,floor,area,owner[,owner_key][,phone][,co_owners][,affected] or
    房号,楼层,面积,业主[,业主编号][,电话][,共有人][,直接受影响]. One owner of several flats gets the same owner_key
    and counts once, with all their flats' area. co_owners: the other names on a co-owned flat's title (李四、王五);
    affected: 是 for a flat directly affected by the elevator.
    """
    from eightstep import records

    if replace:
        confirm(_("Replace the recorded households of {case} that {file} lists?").format(case=case_id,
                                                                                     file=file.name), yes)
    from eightstep.cli.progress import progress_bars

    with table_input(file) as path, progress_bars({"rows": _("Reading rows")}) as bars:
        result = records.import_households(settings.workspace(), case_id, path, replace=replace, at=at,
                                           actor=actor, as_role=as_role, progress=bars)
    for message in result.warnings:
        warn(message)
    click.echo(_("{case}: {added} households added, {updated} updated from {file}").format(
        case=case_id, added=result.added, updated=result.updated, file=file.name))


@household.command("list")
@case_argument
@table_options
@click.pass_obj
def list_(settings: Settings, case_id: str, as_json: bool, as_csv: bool, xlsx_file: Path | None,
          force: bool) -> None:
    """List the households of CASE with their current ballot."""
    from eightstep import records

    one_format(json=as_json, csv=as_csv, xlsx=xlsx_file is not None)
    rows = records.list_households(settings.workspace(), case_id)
    if as_json:
        emit_json(rows)
        return
    columns = [("room", _("room")), ("floor", _("floor")), ("area", _("area m²")), ("owner", _("owner")),
               ("co_owners", _("co-owners")), ("affected", _("directly affected")), ("owner_key", _("owner key")),
               ("phone", _("phone")), ("vote", _("vote"))]
    if as_csv or xlsx_file:
        cells = [[Decimal(r[key]) if key == "area" else "、".join(r[key]) if key == "co_owners" else r[key]
                  for key, _label in columns] for r in rows]
        write_table(settings, columns, cells, as_csv=as_csv, xlsx_file=xlsx_file, force=force, sheet=case_id)
        return
    table([_("room"), _("floor"), _("area m²"), _("owner"), _("owner key"), _("phone"), _("vote")],
          [[r["room"], r["floor"], r["area"], "、".join([r["owner"], *r["co_owners"]]) + (" *" * r["affected"]),
            r["owner_key"], r["phone"] or "", r["vote"] or "—"] for r in rows])
    if any(r["affected"] for r in rows):
        click.echo(_("* directly affected by the elevator"))


void_command(household, "household", key="ROOM", key_type=str,
             summary="Void the household of ROOM in CASE (imported by mistake): it no longer counts in the vote or "
                     "the shares.")


@household.command("correct")
@click.argument("case_id", metavar="CASE")
@click.argument("room")
@click.option("--floor", type=int, default=None, help="The correct floor.")
@click.option("--area", default=None, help="The correct exclusive area in m², e.g. 86.50.")
@click.option("--owner", default=None, help="The correct owner's name.")
@click.option("--owner-key", default=None, help="The correct owner key (the same for every flat of one owner).")
@click.option("--phone", default=None, help="The correct phone number.")
@click.option("--reason", required=True, help=REASON_HELP)
@recording_options
@click.pass_obj
def correct(settings: Settings, case_id: str, room: str, floor: int | None, area: str | None, owner: str | None,
            owner_key: str | None, phone: str | None, reason: str, at: datetime | None, actor: str | None,
            as_role: str | None) -> None:
    """Correct what is recorded of the household of ROOM in CASE (the history keeps the old values and why)."""
    from eightstep.records.corrections import correct_household

    changes = correct_household(settings.workspace(), case_id, room, reason=reason, floor=floor, area=area,
                                owner=owner, owner_key=owner_key, phone=phone, at=at, actor=actor, as_role=as_role)
    click.echo(_("{case} room {room}: corrected {fields} ({reason})").format(
        case=case_id, room=room, fields=", ".join(sorted(changes)), reason=reason.strip()))
