"""`eightstep funding ...`: the money of a case (total, subsidy, other sources, maintenance) and its share table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, table
from eightstep.cli.outputs import force_option
from eightstep.cli.params import CASE, TABLE_FILE, actor_option, as_option, at_option, json_option, table_input
from eightstep.cli.sheets import Sheet, csv_option, one_format, write_csv, write_xlsx, wrote, xlsx_option
from eightstep.i18n import _


class YuanType(click.ParamType):
    """An amount in yuan with at most 2 decimals (650000 or 650000.01), converted to integer fen."""

    name = "AMOUNT"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        from eightstep.errors import InputError
        from eightstep.rules.money import parse_yuan

        try:
            return parse_yuan(value, field=f"--{param.name}" if param and param.name else "amount")
        except InputError as exc:
            self.fail(str(exc), param, ctx)


YUAN = YuanType()


def amend_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--amend", "amend", default=None, metavar="REASON",
                        help="After the owners signed the agreement (the case has left its stage): change the cost "
                             "shares anyway, for this reason (recorded in the history). A changed agreement is a "
                             "new agreement: print it again and have it signed.")(fn)


def amended(case_id: str, amend: str | None) -> None:
    """After an amending command: what the officer does next."""
    if amend is not None:
        from eightstep.cli.remedies import spell
        from eightstep.errors import Remedy

        click.echo(_("{case}: the signed agreement changes ({reason}): print it again, have it signed and record "
                     "it:").format(case=case_id, reason=amend.strip()))
        for remedy in (Remedy("forms.render", {"case": case_id, "form": "agreement"}),
                       Remedy("doc.add", {"case": case_id, "kind": "agreement"})):
            click.echo(f"  → {spell(remedy)}")


@click.group(cls=Group)
def funding() -> None:
    """The money of a case and each household's share (in yuan, exact to the fen)."""


@funding.command("set")
@click.argument("case_id", metavar="CASE", type=CASE)
@click.option("--total", type=YUAN, default=None, help="Total construction cost in yuan, e.g. 650000.01 "
              "(required the first time).")
@click.option("--subsidy", type=YUAN, default=None, help="Government subsidy in yuan.")
@click.option("--other", type=YUAN, default=None, help="Money from other sources in yuan (needs --other-note).")
@click.option("--other-note", default=None, help="Where the other money comes from, e.g. 企业赞助.")
@click.option("--maintenance", type=YUAN, default=None, help="Yearly maintenance and running cost in yuan.")
@amend_option
@at_option
@actor_option
@as_option
@click.pass_obj
def set_(settings: Settings, case_id: str, total: int | None, subsidy: int | None, other: int | None,
         other_note: str | None, maintenance: int | None, amend: str | None, at: datetime | None,
         actor: str | None, as_role: str | None) -> None:
    """Record the money of CASE. Options left out keep their recorded value.

    The owners share total - subsidy - other sources; the yearly maintenance is shared on its own. Once the
    owners signed the agreement (the case has left its stage), a change needs --amend REASON.
    """
    from eightstep.records.funding import set_funding
    from eightstep.rules.money import yuan

    f = set_funding(settings.workspace(), case_id, total=total, subsidy=subsidy, other=other, other_note=other_note,
                    maintenance=maintenance, at=at, actor=actor, as_role=as_role, amend=amend)
    click.echo(_("{case}: total {total}, subsidy {subsidy}, other {other}; the owners share {shared} yuan; "
                 "maintenance {maintenance} yuan a year").format(
        case=case_id, total=yuan(f.total), subsidy=yuan(f.subsidy), other=yuan(f.other), shared=yuan(f.shared),
        maintenance=yuan(f.maintenance)))
    amended(case_id, amend)


@funding.command("shares")
@click.argument("case_id", metavar="CASE", type=CASE)
@json_option
@csv_option
@xlsx_option
@force_option
@click.pass_obj
def shares(settings: Settings, case_id: str, as_json: bool, as_csv: bool, xlsx_file: Path | None,
           force: bool) -> None:
    """Each household's share of the construction cost and of the yearly maintenance, under the workflow's rule."""
    from eightstep.records.funding import case_shares, shares_json
    from eightstep.rules.money import METHOD_TITLES, yuan

    one_format(json=as_json, csv=as_csv, xlsx=xlsx_file is not None)
    result = case_shares(settings.workspace(), case_id)
    if as_json:
        emit_json(shares_json(result))
        return
    if as_csv or xlsx_file is not None:
        cells = [[r.room, r.floor, Decimal(r.area_centi) / 100, r.owner, "exempt" if r.exempt else r.coefficient,
                  Decimal(r.share) / 100, Decimal(r.maintenance) / 100] for r in result.rows]
        cells.append(["total", None, None, None, None, Decimal(result.share_sum) / 100,
                      Decimal(result.maintenance_sum) / 100])
        if as_csv:
            write_csv(["room", "floor", "area", "owner", "coefficient", "share_yuan", "maintenance_yuan"], cells)
        else:
            headers = [_("room"), _("floor"), _("area m²"), _("owner"), _("coefficient"), _("share (yuan)"),
                       _("maintenance a year (yuan)")]
            write_xlsx(settings, xlsx_file, [Sheet(case_id, headers, cells)], force=force)
            wrote(xlsx_file, len(result.rows))
        return
    f = result.figures
    click.echo(_("{case}: total {total} - subsidy {subsidy} - other {other} = {shared} yuan shared; maintenance "
                 "{maintenance} yuan a year").format(
        case=case_id, total=yuan(f.total), subsidy=yuan(f.subsidy), other=yuan(f.other), shared=yuan(f.shared),
        maintenance=yuan(f.maintenance)))
    exempt = _(", exempt floors {floors}").format(floors=", ".join(map(str, result.exempt_floors))) \
        if result.exempt_floors else ""
    click.echo(_("rule: {method} ({title}){exempt}; maintenance: {maintenance}").format(
        method=result.method, title=METHOD_TITLES[result.method], exempt=exempt,
        maintenance=result.maintenance_method) + "\n")
    rows = [[r.room, r.floor, r.area, r.owner, _("exempt") if r.exempt else (r.coefficient or "—"), yuan(r.share),
             yuan(r.maintenance)] for r in result.rows]
    rows.append([_("total"), "", "", "", "", yuan(result.share_sum), yuan(result.maintenance_sum)])
    table([_("room"), _("floor"), _("area m²"), _("owner"), _("coefficient"), _("share"), _("maintenance/yr")], rows)


@funding.command("agree")
@click.argument("case_id", metavar="CASE", type=CASE)
@click.argument("file", type=TABLE_FILE)
@amend_option
@at_option
@actor_option
@as_option
@click.pass_obj
def agree(settings: Settings, case_id: str, file: Path, amend: str | None, at: datetime | None,
          actor: str | None, as_role: str | None) -> None:
    """Record the owners' own share table from CSV/xlsx: room,share[,maintenance] (proportions, not amounts).

    Only for workflows whose cost_sharing.method is agreed_table; every household needs a row. Once the owners
    signed the agreement (the case has left its stage), it needs --amend REASON.
    """
    from eightstep.records.funding import agree_shares

    with table_input(file) as path:
        rows = agree_shares(settings.workspace(), case_id, path, at=at, actor=actor, as_role=as_role, amend=amend)
    click.echo(_("{case}: agreed shares recorded for {count} households from {file}").format(
        case=case_id, count=len(rows), file=file.name))
    amended(case_id, amend)


void_command(funding, "funding", key=None,
             summary="Void the funding of CASE (recorded by mistake): the forms have no figures until it is set again.")
