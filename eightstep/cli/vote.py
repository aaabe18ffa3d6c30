"""`eightstep vote ...`: ballots and the consent tally."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.output import emit_json, warn
from eightstep.cli.params import AT, actor_option, at_option, json_option


@click.group()
def vote() -> None:
    """Owner ballots (意见征询/表决) and the consent tally."""


@vote.command("cast")
@click.argument("case_id", metavar="CASE")
@click.argument("room")
@click.argument("choice", type=click.Choice(["agree", "oppose", "abstain"]))
@at_option
@actor_option
@click.pass_obj
def cast(settings: Settings, case_id: str, room: str, choice: str, at: datetime | None, actor: str | None) -> None:
    """Record ROOM's ballot; a later ballot replaces an earlier one (both stay in the history)."""
    from eightstep import records

    before = records.cast_vote(settings.workspace(), case_id, room, choice, at=at, actor=actor)
    change = f" (was {before})" if before else ""
    click.echo(f"{case_id} room {room}: {choice}{change}")


@vote.command("import")
@click.argument("case_id", metavar="CASE")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@at_option
@actor_option
@click.pass_obj
def import_(settings: Settings, case_id: str, file: Path, at: datetime | None, actor: str | None) -> None:
    """Import ballots from CSV/xlsx. Header: room,choice[,at] or 房号,表决意见[,日期].

    Choices: agree/同意, oppose/反对, abstain/弃权. Rows without a date take --at (default now).
    """
    from eightstep import records

    count = records.import_votes(settings.workspace(), case_id, file, at=at, actor=actor)
    click.echo(f"{case_id}: {count} ballots recorded from {file.name}")


@vote.command("tally")
@click.argument("case_id", metavar="CASE")
@click.option("--at", type=AT, default=None, help="Count the ballots cast up to this date (default: all).")
@json_option
@click.pass_obj
def tally_(settings: Settings, case_id: str, at: datetime | None, as_json: bool) -> None:
    """Count the ballots under the case's consent rule (area and headcount, owners counted once)."""
    from eightstep import records

    t = records.vote_tally(settings.workspace(), case_id, at=at)
    if as_json:
        emit_json(t.as_dict())
        return
    click.echo(f"rule: {t.rule['description']}")
    click.echo(f"households {t.households}, owners {t.owners}: participants {t.participants}, agree {t.agree}, "
               f"oppose {t.oppose}, abstain {t.abstain}")
    click.echo(f"area m²: total {t.area_total}, participating {t.area_participating}, agreeing {t.area_agree}")
    click.echo(f"participation {'met' if t.participation_met else 'NOT met'}; agreement "
               f"{'met' if t.agreement_met else 'NOT met'}: {'PASSED' if t.passed else 'not passed'}")
    for line in t.shortfalls:
        click.echo(f"  - {line}")
    for line in t.conflicts:
        warn(line)
