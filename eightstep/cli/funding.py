"""`eightstep funding ...`: the money of a case (total, subsidy, other sources, maintenance) and its share table."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import click

from eightstep.cli import Settings
from eightstep.cli.audit import as_of_option
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, table
from eightstep.cli.params import AT, TABLE_FILE, YUAN, case_argument, json_option, recording_options, table_input
from eightstep.cli.sheets import Sheet, one_format, table_options, write_csv, write_xlsx, wrote
from eightstep.i18n import N_, _

# How a payment was made, as shown (the values --way takes stay as they are typed).
WAYS = {"cash": N_("cash"), "transfer": N_("transfer"), "provident_fund": N_("housing provident fund")}


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
@case_argument
@click.option("--total", type=YUAN, default=None, help="Total construction cost in yuan, e.g. 650000.01 "
              "(required the first time).")
@click.option("--subsidy", type=YUAN, default=None, help="Government subsidy in yuan.")
@click.option("--other", type=YUAN, default=None, help="Money from other sources in yuan (needs --other-note).")
@click.option("--other-note", default=None, help="Where the other money comes from, e.g. 企业赞助.")
@click.option("--maintenance", type=YUAN, default=None, help="Yearly maintenance and running cost in yuan.")
@amend_option
@recording_options
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
@case_argument
@click.option("--at", type=AT, default=None,
              help="The shares as they stood at the end of this date, or at this time (default: now).")
@table_options
@click.pass_obj
def shares(settings: Settings, case_id: str, at: datetime | None, as_json: bool, as_csv: bool,
           xlsx_file: Path | None, force: bool) -> None:
    """Each household's share of the construction cost and of the yearly maintenance, under the workflow's rule."""
    from eightstep.records.funding import case_shares, shares_json
    from eightstep.rules.money import METHOD_TITLES, yuan

    one_format(json=as_json, csv=as_csv, xlsx=xlsx_file is not None)
    if at is not None:  # the money as it stood then comes from the case's history
        from eightstep.paperwork.casedata import load_case_data

        result = load_case_data(settings.workspace(), case_id, at).shares_as_of()
    else:
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
        elif xlsx_file is not None:
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
@case_argument
@click.argument("file", type=TABLE_FILE)
@amend_option
@recording_options
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
void_command(funding, "money_line", name="void-line",
             summary="Void a money line of CASE (its id): an extra or a compensation leaves the shares again.")
void_command(funding, "payment", name="void-payment", key="RECEIPT", key_type=str,
             summary="Void a payment of CASE, named by its receipt (serial or number): it no longer counts as paid; "
                     "the receipt's number is not given again.")
void_command(funding, "certificate", name="void-certificate", key="NUMBER", key_type=str,
             summary="Void a share certificate of CASE (its number): refused while a fund payment rests on it.")
void_command(funding, "invoice", name="void-invoice", key="NUMBER", key_type=str,
             summary="Void an invoice of CASE (its number): the settlement form no longer lists it.")
void_command(funding, "settlement", name="void-settlement", key=None,
             summary="Void the settlement of CASE that counts (the latest): its refunds and calls no longer count.")


# --- money after the agreement (issue 17) ----------------------------------------------------------------

@funding.command("line")
@case_argument
@click.argument("kind", type=click.Choice(["extra", "compensation", "change_order"]))
@click.argument("amount", type=YUAN)
@click.option("--note", "description", required=True, help="What it is for, e.g. 玻璃幕墙井道 or 补偿202室采光.")
@click.option("--room", default=None, help="compensation: the household it is paid to.")
@click.option("--meeting", "meeting_id", type=int, default=None, help="The meeting that agreed it (its id).")
@amend_option
@recording_options
@click.pass_obj
def line(settings: Settings, case_id: str, kind: str, amount: int, description: str, room: str | None,
         meeting_id: int | None, amend: str | None, at: datetime | None, actor: str | None,
         as_role: str | None) -> None:
    """Record a money line besides the price: an extra (a glass shaft) or a compensation to a household, which the
    owners share with the cost (after the agreement: --amend); or a change order during the works (a saving is
    negative: write it as -1500 after --), counted in the final settlement."""
    from eightstep.records.payments import add_line
    from eightstep.rules.money import yuan

    found = add_line(settings.workspace(), case_id, kind, amount, description, room=room, meeting_id=meeting_id,
                     at=at, actor=actor, as_role=as_role, amend=amend)
    click.echo(_("{case}: {kind} #{id} of {amount} yuan recorded ({note})").format(
        case=case_id, kind=kind, id=found.id, amount=yuan(found.amount), note=found.description))
    amended(case_id, amend)


@funding.command("pay")
@case_argument
@click.argument("room")
@click.argument("amount", type=YUAN)
@click.option("--way", type=click.Choice(["cash", "transfer", "provident_fund"]), default="transfer",
              show_default=True, help="How it was paid (provident_fund: a housing provident fund withdrawal).")
@click.option("--kind", type=click.Choice(["contribution", "refund", "compensation"]), default="contribution",
              show_default=True, help="Paid in by the household, paid back to it, or paid to it as compensation.")
@click.option("--reference", default=None, help="Bank reference or the fund's withdrawal number.")
@click.option("--received-by", default=None, help="Who took the money (收款人).")
@click.option("--note", default=None, help="A note printed on the receipt.")
@recording_options
@click.pass_obj
def pay(settings: Settings, case_id: str, room: str, amount: int, way: str, kind: str, reference: str | None,
        received_by: str | None, note: str | None, at: datetime | None, actor: str | None,
        as_role: str | None) -> None:
    """Record a payment of ROOM and give its receipt number (print the receipts with the form `receipts`)."""
    from eightstep.records.payments import record_payment
    from eightstep.rules.money import yuan

    paid = record_payment(settings.workspace(), case_id, room, amount, way=way, kind=kind, reference=reference,
                          received_by=received_by, note=note, at=at, actor=actor, as_role=as_role)
    click.echo(_("{case}: receipt {receipt}: room {room} ({owner}), {kind} {amount} yuan by {way}").format(
        case=case_id, receipt=paid.receipt, room=room, owner=paid.owner, kind=kind, amount=yuan(amount), way=way))


@funding.command("paid")
@case_argument
@as_of_option
@json_option
@click.pass_obj
def paid(settings: Settings, case_id: str, as_of: date | None, as_json: bool) -> None:
    """Who has paid what, by way, and what is outstanding (after a settlement, with its refund or call)."""
    from eightstep.records.payments import case_money
    from eightstep.rules.money import yuan

    money = case_money(settings.workspace(), case_id, as_of)
    book = money.ledger()
    if as_json:
        emit_json({"case": case_id, "as_of": as_of.isoformat() if as_of else None, **book.as_dict(),
                   "payments": [p.as_dict() for p in money.payments],
                   "certificates": [c.as_dict() for c in money.certificates],
                   "settled": money.settlement is not None})
        return
    rows = [[a.room, a.owner, yuan(a.share), yuan(a.adjustment) if a.adjustment else "", yuan(a.paid),
             ", ".join(f"{_(WAYS.get(w, w))} {yuan(v)}" for w, v in a.by_way.items()),
             yuan(a.refunded) if a.refunded else "",
             yuan(a.outstanding), f"{yuan(a.received)}/{yuan(a.receives)}" if a.receives else ""]
            for a in book.accounts]
    rows.append([_("total"), "", yuan(book.total("share")), yuan(book.total("adjustment")), yuan(book.total("paid")),
                 "", yuan(book.total("refunded")), yuan(book.total("outstanding")),
                 f"{yuan(book.total('received'))}/{yuan(book.total('receives'))}"])
    table([_("room"), _("owner"), _("share"), _("settlement"), _("paid"), _("by way"), _("refunded"), _("outstanding"),
           _("compensation")], rows)
    if money.settlement is None:
        click.echo("\n" + _("not settled yet: the outstanding amounts are the agreement's shares less payments"))


@funding.command("certificate")
@case_argument
@click.argument("room")
@click.option("--number", default=None, help="The certificate's number (default FT-CASE-NNN).")
@recording_options
@click.pass_obj
def certificate(settings: Settings, case_id: str, room: str, number: str | None, at: datetime | None,
                actor: str | None, as_role: str | None) -> None:
    """Record the share certificate (分摊费用证明) issued to ROOM for its housing provident fund withdrawal."""
    from eightstep.records.payments import issue_certificate
    from eightstep.rules.money import yuan

    cert = issue_certificate(settings.workspace(), case_id, room, number=number, at=at, actor=actor,
                             as_role=as_role)
    click.echo(_("{case}: certificate {number} for room {room} ({owner}): share {amount} yuan").format(
        case=case_id, number=cert.number, room=room, owner=cert.owner, amount=yuan(cert.amount)))


@funding.command("invoice")
@case_argument
@click.option("--number", required=True, help="The invoice's number.")
@click.option("--issuer", required=True, help="Who issued it.")
@click.option("--amount", type=YUAN, required=True, help="Its amount in yuan.")
@click.option("--note", default=None, help="What it is for.")
@recording_options
@click.pass_obj
def invoice(settings: Settings, case_id: str, number: str, issuer: str, amount: int, note: str | None,
            at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Record an invoice (发票) for the works (the settlement form lists them against the final cost)."""
    from eightstep.records.settlement import add_invoice
    from eightstep.rules.money import yuan

    found = add_invoice(settings.workspace(), case_id, number=number, issuer=issuer, amount=amount, note=note,
                        at=at, actor=actor, as_role=as_role)
    click.echo(_("{case}: invoice {number} of {issuer}, {amount} yuan").format(
        case=case_id, number=found.number, issuer=found.issuer, amount=yuan(found.amount)))


@funding.command("settle")
@case_argument
@click.option("--note", default=None, help="A note kept with the settlement.")
@recording_options
@json_option
@click.pass_obj
def settle_(settings: Settings, case_id: str, note: str | None, at: datetime | None, actor: str | None,
            as_role: str | None, as_json: bool) -> None:
    """Record the final settlement: contract price, change orders, final cost, the subsidy paid; the difference
    from the agreement goes back to each household by the same share rule (a refund, or a call)."""
    from eightstep.records.settlement import settle_case
    from eightstep.rules.money import yuan

    result = settle_case(settings.workspace(), case_id, note=note, at=at, actor=actor, as_role=as_role)
    if as_json:
        emit_json(result.as_dict())
        return
    f = result.final
    click.echo(_("{case}: contract {contract} + changes {changes} = final cost {cost}; + compensation "
                 "{compensation} - subsidy {subsidy} - other {other} = {shared} yuan shared (the agreement shared "
                 "{planned})").format(case=case_id, contract=yuan(f.contract), changes=yuan(f.changes),
                                      cost=yuan(f.final_cost), compensation=yuan(f.compensation),
                                      subsidy=yuan(f.subsidy), other=yuan(f.other), shared=yuan(f.shared),
                                      planned=yuan(result.planned)))
    what = _("refund") if result.difference < 0 else _("call")
    table([_("room"), what], [[room, yuan(abs(v))] for room, v in result.adjustments.items() if v])
