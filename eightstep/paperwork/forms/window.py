"""S5 and S7 forms: the window application with the checklist of everything handed in, and the completion and
subsidy application with the completion file."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from eightstep.i18n import _
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.context import (
    CaseInfo,
    FormInfo,
    case_info,
    current_tally,
    dated_by_record,
    latest_document,
    local_authority,
)
from eightstep.paperwork.forms.money import CompletionMoney, completion_money
from eightstep.paperwork.forms.people import Elevator, elevator_needed, party_needed
from eightstep.paperwork.forms.registry import FORMS, form, needs_for, refuse
from eightstep.paperwork.materials import MaterialRow, checklist
from eightstep.paperwork.needs import Needs
from eightstep.paperwork.parties import Party
from eightstep.records.moneyview import figures_of
from eightstep.rules.consent import Tally
from eightstep.rules.money import Figures
from eightstep.timeutil import local_date
from eightstep.workflow.schema import Stage


def form_stage(data: CaseData, info: FormInfo) -> Stage:
    wf = data.workflow.definition
    return wf.stage(info.stage_id) if info.stage_id in wf.stage_positions else wf.stage(data.case.stage)


def window_checklist(data: CaseData, info: FormInfo, needs: Needs) -> list[MaterialRow]:
    """The stage's checklist; every paper it names must be on record (a gap each)."""
    return checklist(data, form_stage(data, info), {k: v.title for k, v in FORMS.items()}, needs)


def _designer(data: CaseData, needs: Needs) -> str | None:
    """Who made the design scheme: the scheme on record names it, else the named design unit."""
    doc = latest_document(data, "design_scheme")
    party = data.party("designer")
    name = (doc.issuer if doc is not None else None) or (party.name if party else None)
    if name is None:
        needs.add(_("the design unit is not on record"), "forms.party", role="designer")
    return name


@dataclass(frozen=True)
class JointReviewContext:
    form: FormInfo
    case: CaseInfo
    addressee: str
    agent: Party
    designer: str
    elevator: Elevator
    tally: Tally | None
    figures: Figures | None
    materials: list[MaterialRow]
    dated: date | None  # the window application on record, or --at; None: written by hand


@form("joint_review", "既有住宅加装电梯联合审查申请表（附材料清单）", "Window application with the checklist")
def joint_review(data: CaseData, info: FormInfo) -> JointReviewContext:
    needs = needs_for(data, households=True)
    agent = party_needed(needs, data, "agent", "phone", "id_number", "address")
    designer = _designer(data, needs)
    lift = elevator_needed(needs, data)
    rows = window_checklist(data, info, needs)
    refuse(needs, info)
    assert agent is not None and designer is not None and lift is not None
    wf = data.workflow.definition
    stage = form_stage(data, info)
    addressee = local_authority(wf.authorities[stage.responsible].title, data)
    found = current_tally(data)
    return JointReviewContext(
        form=info, case=case_info(data), addressee=addressee, agent=agent, designer=designer, elevator=lift,
        tally=found[0] if found else None, figures=figures_of(data.funding) if data.funding else None,
        materials=rows, dated=dated_by_record(data, "window_application"))


@dataclass(frozen=True)
class CompletionContext:
    form: FormInfo
    case: CaseInfo
    addressee: str
    figures: Figures
    use_unit: Party
    agent: Party
    elevator: Elevator
    materials: list[MaterialRow]
    completed_on: date
    money: CompletionMoney  # payee, account, the budget against the final cost, invoices, registration code


@form("completion_subsidy", "既有住宅加装电梯竣工验收及补贴申请表", "Completion and subsidy application")
def completion_subsidy(data: CaseData, info: FormInfo) -> CompletionContext:
    needs = needs_for(data, households=True)
    if data.funding is not None and data.funding.subsidy_fen <= 0:
        needs.add(_("the subsidy applied for is 0"), "funding.set", subsidy=None)
    money = completion_money(data, needs)
    use_unit = party_needed(needs, data, "use_unit", "phone", "address")
    agent = party_needed(needs, data, "agent", "phone")
    lift = elevator_needed(needs, data)
    rows = window_checklist(data, info, needs)
    report = latest_document(data, "completion_report")
    if report is None and "completion_report" not in {r.kind for r in rows}:
        needs.add(_("the completion acceptance report is not on record"), "doc.add", kind="completion_report")
    refuse(needs, info)
    assert data.funding is not None and use_unit is not None and agent is not None and lift is not None
    assert report is not None and money is not None
    window = data.workflow.definition.authorities.get("district_approval")
    addressee = local_authority(window.title, data) if window else "区既有住宅加装电梯工作主管部门"
    return CompletionContext(
        form=info, case=case_info(data), addressee=addressee, figures=figures_of(data.funding), use_unit=use_unit,
        agent=agent, elevator=lift, materials=rows, completed_on=local_date(report.issued_at), money=money)
