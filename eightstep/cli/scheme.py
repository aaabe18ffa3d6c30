"""`eightstep scheme ...`: the elevator companies' schemes side by side (联), and the owners' choice."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.funding import amend_option, amended
from eightstep.cli.output import emit_json, table
from eightstep.cli.outputs import force_option, outputs
from eightstep.cli.params import RECORD_ID, YUAN, case_argument, json_option, recording_options
from eightstep.i18n import _


def _speed(value: str | None) -> int | None:
    """--speed 1.0 (m/s) -> 100 (cm/s)."""
    if value is None:
        return None
    from decimal import Decimal, InvalidOperation

    try:
        cms = Decimal(value.strip()) * 100
    except InvalidOperation:
        raise click.BadParameter(_("{value!r} is not a speed in m/s; write it like 1.0").format(value=value),
                                 param_hint="'--speed'") from None
    if cms != cms.to_integral_value():
        raise click.BadParameter(_("{value!r}: give the speed in m/s with at most 2 decimals").format(value=value),
                                 param_hint="'--speed'")
    return int(cms)


@click.group(cls=Group)
def scheme() -> None:
    """Elevator schemes (加梯方案): add the companies' offers, compare everyone's share, record the choice."""


@scheme.command("add")
@case_argument
@click.option("--company", required=True, help="The elevator company.")
@click.option("--price", type=YUAN, required=True, help="The scheme's total price in yuan, e.g. 480000.")
@click.option("--entry", type=click.Choice(["level", "half-floor"]), default=None,
              help="Entry: level (平层入户) or half-floor (半层入户).")
@click.option("--duration", "duration", type=click.IntRange(1, 3650), default=None, help="Construction time in days.")
@click.option("--load", "load_kg", type=click.IntRange(1, 100_000), default=None,
              help="The elevator's rated load in kg, e.g. 800.")
@click.option("--speed", "speed_cms", default=None, callback=lambda _c, _p, v: _speed(v),
              help="The elevator's rated speed in m/s, e.g. 1.0.")
@click.option("--stops", type=click.IntRange(2, 200), default=None, help="The landings the elevator serves, e.g. 7.")
@click.option("--note", default=None, help="What else sets the scheme apart (shaft, brand, warranty, ...).")
@click.option("--file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The company's proposal (stored by content hash).")
@recording_options
@click.pass_obj
def add(settings: Settings, case_id: str, company: str, price: int, entry: str | None, duration: int | None,
        load_kg: int | None, speed_cms: int | None, stops: int | None, note: str | None, file: Path | None,
        at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Record a company's scheme for CASE; the agreement and the window's papers state its elevator (entry, load,
    speed, stops)."""
    from eightstep.records.schemes import add_scheme
    from eightstep.rules.money import yuan

    view = add_scheme(settings.workspace(), case_id, company=company, price=price, entry=entry,
                      duration_days=duration, load_kg=load_kg, speed_cms=speed_cms, stops=stops, note=note,
                      file=file, at=at, actor=actor, as_role=as_role)
    click.echo(_("{case}: scheme #{id} {company}, {price} yuan").format(case=case_id, id=view.id,
                                                                        company=view.company, price=yuan(view.price)))


@scheme.command("compare")
@case_argument
@click.option("--subsidy", type=YUAN, default=None,
              help="Subsidy in yuan to compare with (default: the case's recorded funding subsidy, else 0).")
@click.option("--html", "html_file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the comparison as a self-contained HTML page.")
@force_option
@json_option
@click.pass_obj
def compare(settings: Settings, case_id: str, subsidy: int | None, html_file: Path | None, force: bool,
            as_json: bool) -> None:
    """The schemes of CASE side by side: each household's share under each, before and after the subsidy.

    Shares follow the workflow's cost-share rule, exact to the fen: every column adds up to what is shared.
    """
    from eightstep.records.schemes import ENTRIES, render_html
    from eightstep.records.schemes import compare as compare_schemes
    from eightstep.rules.money import yuan

    with outputs(settings, force) as out:
        if html_file is not None:
            out.check(html_file)
        result = compare_schemes(settings.workspace(), case_id, subsidy=subsidy)
        if html_file is not None:
            out.add(html_file, render_html(result).encode("utf-8"))
    if as_json:
        emit_json(result.as_dict())
        return
    sources = {"option": _("given"), "funding": _("the case's funding"), "none": _("none")}
    other = _("; other {amount}").format(amount=yuan(result.other)) if result.other else ""
    click.echo(_("{case}: rule {method}; subsidy {subsidy} ({source}){other}").format(
        case=case_id, method=result.method, subsidy=yuan(result.subsidy),
        source=sources.get(result.subsidy_source, result.subsidy_source), other=other) + "\n")
    table(["#", _("company"), _("price"), _("entry"), _("days"), _("chosen"), _("note")],
          [[p.scheme.id, p.scheme.company + (_(" (from {case})").format(case=p.scheme.proposed_from)
                                             if p.scheme.proposed_from else ""),
            yuan(p.scheme.price), ENTRIES[p.scheme.entry][0] if p.scheme.entry else "—",
            p.scheme.duration_days or "—", "✔ " + (p.scheme.reason or "") if p.scheme.chosen else "",
            p.scheme.note or ""] for p in result.priced])
    click.echo("")
    heads = [h for p in result.priced for h in (_("#{id} before").format(id=p.scheme.id),
                                                  _("#{id} after").format(id=p.scheme.id))]
    first = result.priced[0].before.rows
    rows = [[r.room, r.floor, r.area, *(yuan(x) for p in result.priced
                                        for x in (p.before.rows[i].share, p.after.rows[i].share))]
            for i, r in enumerate(first)]
    rows.append([_("total"), "", "",
                 *(yuan(x) for p in result.priced for x in (p.before.share_sum, p.after.share_sum))])
    table([_("room"), _("floor"), _("area m²"), *heads], rows)
    if html_file is not None:
        click.echo("\n" + _("Wrote {path}").format(path=html_file))


@scheme.command("choose")
@case_argument
@click.argument("scheme_id", metavar="ID", type=RECORD_ID)
@click.option("--reason", required=True, help="Why this scheme (the negotiation's reasons), for the record.")
@amend_option
@recording_options
@click.pass_obj
def choose(settings: Settings, case_id: str, scheme_id: int, reason: str, amend: str | None, at: datetime | None,
           actor: str | None, as_role: str | None) -> None:
    """Record the owners' choice of scheme ID; the case's funding total becomes its price (the forms use it).

    Once the owners signed the agreement (the case has left its stage), another choice needs --amend REASON.
    """
    from eightstep.records.schemes import choose as choose_scheme
    from eightstep.rules.money import yuan

    view, figures = choose_scheme(settings.workspace(), case_id, scheme_id, reason=reason, at=at, actor=actor,
                                  as_role=as_role, amend=amend)
    click.echo(_("{case}: chose #{id} {company}; funding total {total}, subsidy {subsidy}: the owners share "
                 "{shared} yuan").format(case=case_id, id=view.id, company=view.company, total=yuan(figures.total),
                                         subsidy=yuan(figures.subsidy), shared=yuan(figures.shared)))
    amended(case_id, amend)


void_command(scheme, "scheme")
