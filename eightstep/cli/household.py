"""`eightstep household ...`: import and list the owners of a unit."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.output import emit_json, table, warn
from eightstep.cli.params import actor_option, as_option, at_option, json_option


@click.group(cls=Group)
def household() -> None:
    """The households (owners) of a case's stairwell unit."""


@household.command("import")
@click.argument("case_id", metavar="CASE")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@click.option("--replace", is_flag=True, help="Update rooms that are already recorded instead of refusing.")
@at_option
@actor_option
@as_option
@click.pass_obj
def import_(settings: Settings, case_id: str, file: Path, replace: bool, at: datetime | None,
            actor: str | None, as_role: str | None) -> None:
    """Import households from CSV (UTF-8 or GB18030) or .xlsx.

    Header: room,floor,area,owner[,owner_key][,phone] or 房号,楼层,面积,业主[,业主编号][,电话].
    One owner of several flats gets the same owner_key and counts once in the headcount.
    """
    from eightstep import records

    result = records.import_households(settings.workspace(), case_id, file, replace=replace, at=at, actor=actor,
                                       as_role=as_role)
    for message in result.warnings:
        warn(message)
    click.echo(f"{case_id}: {result.added} households added, {result.updated} updated from {file.name}")


@household.command("list")
@click.argument("case_id", metavar="CASE")
@json_option
@click.pass_obj
def list_(settings: Settings, case_id: str, as_json: bool) -> None:
    """List the households of CASE with their current ballot."""
    from eightstep import records

    rows = records.list_households(settings.workspace(), case_id)
    if as_json:
        emit_json(rows)
        return
    table(["room", "floor", "area m²", "owner", "owner key", "phone", "vote"],
          [[r["room"], r["floor"], r["area"], r["owner"], r["owner_key"], r["phone"] or "", r["vote"] or "—"]
           for r in rows])
