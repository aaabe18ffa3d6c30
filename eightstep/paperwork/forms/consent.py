"""S1 forms: the owners' application, one ballot per household, and the tally of the vote."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal

from eightstep.i18n import _
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.context import (
    CHOICE_TEXT,
    CaseInfo,
    FormInfo,
    HouseholdRow,
    Ratio,
    case_info,
    close_of_vote,
    current_tally,
    dated_by_record,
    household_rows,
    percent,
)
from eightstep.paperwork.forms.people import Elevator, elevator, party_needed
from eightstep.paperwork.forms.registry import form, households_needed, needs_for, refuse, share_map, shares
from eightstep.paperwork.needs import Needs
from eightstep.paperwork.parties import Party
from eightstep.records.moneyview import figures_of
from eightstep.rules.consent import Tally, area_text
from eightstep.rules.money import METHOD_TITLES, Figures


@dataclass(frozen=True)
class ApplicationContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    agent: Party | None
    addressee: str
    consent_rule: str | None
    dated: date | None  # the application on record, or --at; None: written by hand


@form("application", "既有住宅加装电梯申请书", "Application by the owners")
def application(data: CaseData, info: FormInfo) -> ApplicationContext:
    needs = needs_for(data, households=True)
    agent = None
    if data.party("agent") is not None:  # an agent acts for the owners: the window needs how to reach them
        agent = party_needed(needs, data, "agent", "phone", "id_number", "address")
    refuse(needs, info)
    case = case_info(data)
    found = current_tally(data)
    return ApplicationContext(info, case, household_rows(data, public=info.public), agent,
                              f"{case.street_office}、{case.community_committee}", found[1] if found else None,
                              dated_by_record(data, "application"))


def _vote_needed(needs: Needs, data: CaseData) -> tuple[Tally, str] | None:
    """The households and the case's consent rule (with the tally by the form's date), or gaps."""
    households_needed(needs, data)
    found = current_tally(data)
    if found is None:
        needs.add(_("workflow {workflow} has no owner-consent rule (requires.consent) in any stage").format(
            workflow=data.workflow.id))
    return found


@dataclass(frozen=True)
class BallotsContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]  # each with its estimated share
    rule: str
    organiser: str
    method_title: str
    elevator: Elevator | None  # the chosen scheme; None: the vote is on the budget
    figures: Figures


@form("ballots", "既有住宅加装电梯意见征询表（表决票）", "Ballot forms, one per household")
def ballots(data: CaseData, info: FormInfo) -> BallotsContext:
    needs = needs_for(data)
    found = _vote_needed(needs, data)
    table = None
    if data.funding is None:
        needs.add(_("neither a chosen scheme nor a budget is on record: the ballot states the elevator's cost and "
                    "each flat's estimated share"), "funding.set")
    else:
        table = shares(needs, data)
    refuse(needs, info)
    assert found is not None and table is not None and data.funding is not None
    case = case_info(data)
    return BallotsContext(info, case, household_rows(data, public=info.public, shares=share_map(table)), found[1],
                          case.community_committee, METHOD_TITLES[data.workflow.definition.cost_sharing.method],
                          elevator(data), figures_of(data.funding))


@dataclass(frozen=True)
class TallyContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    tally: Tally
    rule: str
    area_participating: Ratio
    heads_participating: Ratio
    area_agree: Ratio
    heads_agree: Ratio
    area_oppose: Ratio
    area_abstain: Ratio
    area_absent: Ratio
    heads_oppose: Ratio
    heads_abstain: Ratio
    heads_absent: Ratio
    agreement_base: str  # 参与表决 | 全体
    counted_on: date


def _area_of(result: Tally, choice: str | None) -> int:
    """The area (centi-m²) of the owners whose counted choice is ``choice`` (None: no ballot counted), all their
    flats together, as the tally counts them."""
    return sum(int(Decimal(o["area"]) * 100) for o in result.per_owner if o["choice"] == choice)


def _owner_rows(data: CaseData, result: Tally, public: bool) -> list[HouseholdRow]:
    """Each flat with its owner's counted choice: an owner of several flats has one choice for all of them."""
    by_key = {o["key"]: o for o in result.per_owner}
    rows = []
    for row in household_rows(data, public=public):
        owner = by_key.get(row.owner_key)
        choice = owner["choice"] if owner else None
        counted = [b for b in (owner["ballots"] if owner else []) if b["counted"]]
        cast_on = date.fromisoformat(counted[-1]["at"][:10]) if choice and counted and counted[-1]["at"] else None
        rows.append(replace(row, choice=choice, choice_text=CHOICE_TEXT.get(choice, "未表决"), cast_on=cast_on))
    return rows


@form("tally", "既有住宅加装电梯业主表决结果统计表", "Tally of the owners' vote")
def tally_form(data: CaseData, info: FormInfo) -> TallyContext:
    needs = needs_for(data)
    found = _vote_needed(needs, data)
    if found is not None and data.records.households and not data.last_ballots:
        needs.add(_("no ballots are recorded by the form's date"), "vote.import")
    refuse(needs, info)
    assert found is not None
    result, rule = found
    closed = close_of_vote(data)
    assert closed is not None
    participants_base = result.rule["agreement_base"] == "participants"
    base_area = result.area_participating if participants_base else result.area_total
    base_heads = result.participants if participants_base else result.owners
    total = Decimal(result.area_total)

    def area(centi: int) -> Ratio:
        return Ratio(area_text(centi), result.area_total, percent(Decimal(centi) / 100, total))

    def heads(n: int) -> Ratio:
        return Ratio(str(n), str(result.owners), percent(n, result.owners))

    return TallyContext(
        form=info, case=case_info(data), households=_owner_rows(data, result, info.public), tally=result,
        rule=rule,
        area_participating=Ratio(result.area_participating, result.area_total,
                                 percent(Decimal(result.area_participating), total)),
        heads_participating=Ratio(str(result.participants), str(result.owners),
                                  percent(result.participants, result.owners)),
        area_agree=Ratio(result.area_agree, base_area, percent(Decimal(result.area_agree), Decimal(base_area))),
        heads_agree=Ratio(str(result.agree), str(base_heads), percent(result.agree, base_heads)),
        area_oppose=area(_area_of(result, "oppose")), area_abstain=area(_area_of(result, "abstain")),
        area_absent=area(_area_of(result, None)), heads_oppose=heads(result.oppose),
        heads_abstain=heads(result.abstain),
        heads_absent=heads(result.owners - result.agree - result.oppose - result.abstain),
        agreement_base="参与表决" if participants_base else "全体", counted_on=info.date or closed)
