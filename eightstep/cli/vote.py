"""`eightstep vote ...`: ballots and the consent tally."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, warn
from eightstep.cli.params import AT, TABLE_FILE, case_argument, json_option, recording_options, table_input
from eightstep.cli.sheets import Sheet, one_format, table_options, write_csv, write_xlsx, wrote
from eightstep.i18n import _, ngettext

if TYPE_CHECKING:
    from eightstep.rules.consent import Tally


@click.group(cls=Group)
def vote() -> None:
    """Owner ballots (意见征询/表决) and the consent tally."""


@vote.command("cast")
@case_argument
@click.argument("room")
@click.argument("choice", type=click.Choice(["agree", "oppose", "abstain"]))
@click.option("--signed-by", "signed_by", multiple=True, metavar="NAME",
              help="A name on the flat's title who signed the ballot (repeatable; co-owned flats).")
@recording_options
@click.pass_obj
def cast(settings: Settings, case_id: str, room: str, choice: str, signed_by: tuple[str, ...], at: datetime | None,
         actor: str | None, as_role: str | None) -> None:
    """Record ROOM's ballot; a later ballot replaces an earlier one (both stay in the history)."""
    from eightstep import records

    before = records.cast_vote(settings.workspace(), case_id, room, choice, at=at, actor=actor, as_role=as_role,
                               signed_by=signed_by or None)
    line = _("{case} room {room}: {choice} (was {before})") if before else _("{case} room {room}: {choice}")
    click.echo(line.format(case=case_id, room=room, choice=choice, before=before))


@vote.command("import")
@case_argument
@click.argument("file", type=TABLE_FILE)
@recording_options
@click.pass_obj
def import_(settings: Settings, case_id: str, file: Path, at: datetime | None, actor: str | None,
            as_role: str | None) -> None:
    """Import ballots from CSV/xlsx (FILE - reads standard input). Header: room,choice[,at][,signed_by] or
    房号,表决意见[,日期][,签字人].

    Choices: agree/同意, oppose/反对, abstain/弃权. Rows without a date take --at (default now). signed_by: the
    names on a co-owned flat's title that signed, separated by 、.
    """
    from eightstep import records

    with table_input(file) as path:
        count = records.import_votes(settings.workspace(), case_id, path, at=at, actor=actor, as_role=as_role)
    click.echo(ngettext("{case}: {count} ballot recorded from {file}", "{case}: {count} ballots recorded from {file}",
                        count).format(case=case_id, count=count, file=file.name))


@vote.command("tally")
@case_argument
@click.option("--at", type=AT, default=None,
              help="Count the ballots cast up to the end of this date, or up to this time (default: all).")
@table_options
@click.pass_obj
def tally_(settings: Settings, case_id: str, at: datetime | None, as_json: bool, as_csv: bool,
           xlsx_file: Path | None, force: bool) -> None:
    """Count the ballots under the case's consent rule (area and headcount, owners counted once).

    --csv and --xlsx give one row per owner (flats, area, choice); the workbook also has the figures."""
    from eightstep import records

    one_format(json=as_json, csv=as_csv, xlsx=xlsx_file is not None)
    t = records.vote_tally(settings.workspace(), case_id, at=at)
    if as_json:
        emit_json(t.as_dict())
    elif as_csv or xlsx_file is not None:
        _tally_sheets(settings, case_id, t, xlsx_file, force)
    else:
        print_tally(t)


def print_tally(t: Tally) -> None:
    """The tally as text: the rule, the one-owner-one-choice rule, the counts, owners of several flats."""
    from eightstep.rules.consent import owner_rule_text

    click.echo(_("rule: {description}").format(description=t.rule["description"]))
    click.echo(_("owners: {rule}").format(rule=owner_rule_text()))
    click.echo(_("households {households}, owners {owners}: participants {participants}, agree {agree}, oppose "
                 "{oppose}, abstain {abstain}").format(households=t.households, owners=t.owners,
                                                       participants=t.participants, agree=t.agree,
                                                       oppose=t.oppose, abstain=t.abstain))
    click.echo(_("area m²: total {total}, participating {participating}, agreeing {agreeing}").format(
        total=t.area_total, participating=t.area_participating, agreeing=t.area_agree))
    for owner in t.per_owner:
        if len(owner["flats"]) > 1:
            ballots = ", ".join(f"{b['room']} {b['choice']} {b['at'][:10]}" for b in owner["ballots"]) or "—"
            click.echo(_("  owner {key}: flats {flats}, {area} m², counted as {choice} (ballots: {ballots})").format(
                key=owner["key"], flats=", ".join(owner["flats"]), area=owner["area"],
                choice=owner["choice"] or _("no ballot"), ballots=ballots))
    if t.also_required_met is not None:
        click.echo(_("directly affected owners: {state}").format(
            state=_("all agree") if t.also_required_met else _("NOT all agree")))
    click.echo(_("participation {participation}; agreement {agreement}: {result}").format(
        participation=_("met") if t.participation_met else _("NOT met"),
        agreement=_("met") if t.agreement_met else _("NOT met"), result=_("PASSED") if t.passed else _("not passed")))
    for line in t.shortfalls:
        click.echo(f"  - {line}")
    for line in t.conflicts:
        warn(line)


def _tally_sheets(settings: Settings, case_id: str, t: Tally, xlsx_file: Path | None, force: bool) -> None:
    """The tally as rows: one per owner (CSV: to standard output), and in the workbook its figures too."""
    owners = [[o["key"], " ".join(o["flats"]), Decimal(str(o["area"])), o["choice"] or ""] for o in t.per_owner]
    if xlsx_file is None:
        write_csv(["owner_key", "flats", "area", "choice"], owners)
        return
    data = t.as_dict()
    figures = [("households", _("households")), ("owners", _("owners")), ("participants", _("participants")),
               ("agree", _("agree")), ("oppose", _("oppose")), ("abstain", _("abstain")),
               ("area_total", _("area m², total")), ("area_participating", _("area m², participating")),
               ("area_agree", _("area m², agreeing")), ("participation_met", _("participation met")),
               ("agreement_met", _("agreement met")), ("passed", _("passed"))]
    shown = [[label, Decimal(str(data[key])) if key.startswith("area") else data[key]] for key, label in figures]
    shown.append([_("rule"), data["rule"]["description"]])
    sheets = [Sheet(_("owners"), [_("owner key"), _("flats"), _("area m²"), _("choice")], owners),
              Sheet(_("tally"), [_("figure"), _("value")], shown)]
    write_xlsx(settings, xlsx_file, sheets, force=force)
    wrote(xlsx_file, len(owners))


@vote.command("whatif")
@case_argument
@click.option("--exclude", multiple=True, metavar="ROOM",
              help="A room whose owner will not change their ballot (repeatable): plan without them.")
@json_option
@click.pass_obj
def whatif(settings: Settings, case_id: str, exclude: tuple[str, ...], as_json: bool) -> None:
    """What it takes to pass: the fewest further owners who must agree, and which rooms.

    Area and headcount together, owners counted once (an owner of two flats wins both areas but one head); an
    absent owner who agrees also raises the participation base, an opposing one does not. Exact: every
    candidate is judged by the same tally as the guards.
    """
    from eightstep.records.canvass import case_what_if

    result = case_what_if(settings.workspace(), case_id, list(exclude))
    if as_json:
        emit_json(result.as_dict())
        return
    after = result.tally_after
    if result.passed:
        click.echo(_("{case}: already passed ({agree} of {participants} participating owners agree, area {area} of "
                     "{participating} m²)").format(case=case_id, agree=after.agree, participants=after.participants,
                                                   area=after.area_agree, participating=after.area_participating))
        return
    if result.needed is None:  # not possible
        click.echo(_("{case}: cannot pass even if every remaining owner agrees (without {rooms}):").format(
            case=case_id, rooms=", ".join(exclude)) if exclude else
            _("{case}: cannot pass even if every remaining owner agrees:").format(case=case_id))
        for line in after.shortfalls:
            click.echo(f"  - {line}")
        return
    click.echo(ngettext("{case}: {count} more owner must agree:", "{case}: {count} more owners must agree:",
                        result.needed).format(case=case_id, count=result.needed))
    for c in result.owners:
        was = _("no ballot") if c.choice is None else c.choice
        must = _(", must agree in any case") if c.forced else ""
        click.echo(_("  rooms {rooms} ({was} -> agree, {area} m²{must})").format(
            rooms=", ".join(c.rooms), was=was, area=c.as_dict()["area"], must=must))
    click.echo(_("then: {agree} of {participants} participating owners agree ({owners} owners), area {area} of "
                 "{participating} m² (total {total})").format(
        agree=after.agree, participants=after.participants, owners=after.owners, area=after.area_agree,
        participating=after.area_participating, total=after.area_total))


void_command(vote, "ballot", key="ROOM", key_type=str,
             summary="Void the current ballot of ROOM in CASE (recorded for the wrong flat, or never cast): the "
                     "household's earlier ballot, if any, counts again.")
