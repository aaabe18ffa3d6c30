"""The forms: one typed context and one builder per form. A builder refuses (MissingData) instead of printing blanks.

Form ids are template names without ``.html.j2``; a workflow lists the forms of each stage under ``forms:``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import date
from decimal import Decimal
from typing import Any

from eightstep.errors import InputError, Remedy
from eightstep.i18n import _, pick
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.context import (
    STEP_TITLES,
    CaseInfo,
    FormInfo,
    HouseholdRow,
    MaterialRow,
    MissingData,
    Needs,
    ObjectionRow,
    ObjectionStepRow,
    Ratio,
    RotaRow,
    case_info,
    current_tally,
    household_rows,
    local_authority,
    masked,
    materials,
    month_rota,
    percent,
)
from eightstep.paperwork.parties import Party
from eightstep.paperwork.privacy import mask_name
from eightstep.records.funding import agreement_signed, figures_of
from eightstep.rules.consent import Tally
from eightstep.rules.money import MAINTENANCE_TITLES, METHOD_TITLES, Figures, ShareTable
from eightstep.timeutil import local_date
from eightstep.workflow.schema import NoticeRule, Stage

Builder = Callable[[CaseData, FormInfo], Any]


@dataclass(frozen=True)
class FormSpec:
    id: str
    title: str
    title_en: str
    public: bool
    build: Builder


FORMS: dict[str, FormSpec] = {}


def form(form_id: str, title: str, title_en: str, *, public: bool = False) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        FORMS[form_id] = FormSpec(form_id, title, title_en, public, fn)
        return fn
    return register


def _refuse(needs: Needs, info: FormInfo, data: CaseData) -> None:
    if needs.needs:
        raise MissingData(f"{info.id} ({info.title})", data.case.id, needs.needs)


def _shares(needs: Needs, data: CaseData) -> ShareTable | None:
    """The share table, or None with the reason added to ``needs``."""
    funding = needs.funding(data)
    if funding is None or not data.records.households:
        return None
    try:
        return data.share_table()
    except InputError as exc:  # the share rule does not fit the data: say so as a missing item
        needs.add(_("cost shares cannot be computed: {reason}").format(reason=exc))
        return None


def _share_map(table: ShareTable | None) -> dict[str, tuple[int, int]] | None:
    return None if table is None else {r.room: (r.share, r.maintenance) for r in table.rows}


# --- S1 ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ApplicationContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    agent: Party | None
    addressee: str
    consent_rule: str | None


@form("application", "既有住宅加装电梯申请书", "Application by the owners")
def application(data: CaseData, info: FormInfo) -> ApplicationContext:
    needs = Needs()
    needs.households(data)
    _refuse(needs, info, data)
    case = case_info(data)
    found = current_tally(data)
    return ApplicationContext(info, case, household_rows(data, public=info.public), data.parties.get("agent"),
                              f"{case.street_office}、{case.community_committee}", found[1] if found else None)


@dataclass(frozen=True)
class BallotsContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    rule: str
    organiser: str
    method_title: str


@form("ballots", "既有住宅加装电梯意见征询表（表决票）", "Ballot forms, one per household")
def ballots(data: CaseData, info: FormInfo) -> BallotsContext:
    needs = Needs()
    needs.households(data)
    found = current_tally(data)
    if found is None:
        needs.add(_("workflow {id} has no owner-consent rule (requires.consent) in any stage").format(
            id=data.workflow.id))
    _refuse(needs, info, data)
    assert found is not None
    case = case_info(data)
    return BallotsContext(info, case, household_rows(data, public=info.public), found[1], case.community_committee,
                          METHOD_TITLES[data.workflow.definition.cost_sharing.method])


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
    agreement_base: str  # 参与表决 | 全体
    counted_on: date


@form("tally", "既有住宅加装电梯业主表决结果统计表", "Tally of the owners' vote")
def tally_form(data: CaseData, info: FormInfo) -> TallyContext:
    needs = Needs()
    needs.households(data)
    found = current_tally(data)
    if found is None:
        needs.add(_("workflow {id} has no owner-consent rule (requires.consent) in any stage").format(
            id=data.workflow.id))
    elif data.records.households and not data.records.ballots:
        needs.add(_("no ballots recorded"), Remedy("vote.import", {"case": data.case.id}))
    _refuse(needs, info, data)
    assert found is not None
    result, rule = found
    participants_base = result.rule["agreement_base"] == "participants"
    base_area = result.area_participating if participants_base else result.area_total
    base_heads = result.participants if participants_base else result.owners
    return TallyContext(
        form=info, case=case_info(data), households=household_rows(data, public=info.public), tally=result,
        rule=rule,
        area_participating=Ratio(result.area_participating, result.area_total,
                                 percent(Decimal(result.area_participating), Decimal(result.area_total))),
        heads_participating=Ratio(str(result.participants), str(result.owners),
                                  percent(result.participants, result.owners)),
        area_agree=Ratio(result.area_agree, base_area, percent(Decimal(result.area_agree), Decimal(base_area))),
        heads_agree=Ratio(str(result.agree), str(base_heads), percent(result.agree, base_heads)),
        agreement_base="参与表决" if participants_base else "全体", counted_on=info.date)


# --- S3 ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class AgreementContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    shares: ShareTable
    figures: Figures
    method_title: str
    maintenance_title: str
    coefficients: list[tuple[int, str]]
    exempt_floors: str | None
    use_unit: Party
    agent: Party | None
    maintainer: Party | None


@form("agreement", "既有住宅加装电梯协议书", "Owner agreement with the cost-share table")
def agreement(data: CaseData, info: FormInfo) -> AgreementContext:
    needs = Needs()
    needs.households(data)
    table = _shares(needs, data)
    use_unit = needs.party(data, "use_unit")
    _refuse(needs, info, data)
    assert table is not None and use_unit is not None
    sharing = data.workflow.definition.cost_sharing
    coefficients = [(f, str(c)) for f, c in sorted(sharing.coefficients.items())] \
        if sharing.method == "floor_coefficient" else []
    return AgreementContext(
        form=info, case=case_info(data), households=household_rows(data, public=info.public), shares=table,
        figures=table.figures, method_title=METHOD_TITLES[sharing.method],
        maintenance_title=MAINTENANCE_TITLES[sharing.maintenance],
        coefficients=coefficients, exempt_floors="、".join(f"{f}层" for f in table.exempt_floors) or None,
        use_unit=use_unit, agent=data.parties.get("agent"), maintainer=data.parties.get("maintainer"))


# --- S4 ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class NoticePeriod:
    start: date
    end: date
    days: int
    unit: str  # 个工作日 | 日
    posted: bool  # the posting is on record; else the dates are planned, for posting on the form's date (--at)
    provisional_years: tuple[int, ...] = ()  # years counted without official holiday data: the end is provisional

    @property
    def provisional(self) -> bool:
        return bool(self.provisional_years)


@dataclass(frozen=True)
class NoticeContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    period: NoticePeriod
    office: Party
    agent: Party | None
    designer: Party | None
    design: MaterialRow | None
    tally: Tally | None
    shares: ShareTable | None
    only_written_real_name: bool


def _notice_stage(data: CaseData, info: FormInfo) -> Stage | None:
    """The stage whose public notice this is: the stage listing the form when it has a notice rule, else the
    first stage with one."""
    wf = data.workflow.definition
    listed = wf.stage(info.stage_id) if info.stage_id in wf.stage_positions else None
    if listed is not None and listed.requires.notice is not None:
        return listed
    return next((s for s in wf.stages if s.requires.notice is not None), None)


def _notice_period(data: CaseData, info: FormInfo, rule: NoticeRule) -> NoticePeriod:
    """From the posting on record; before it is recorded, planned for posting on the form's date (``--at``)."""
    postings = [local_date(d.issued_at) for d in data.records.documents if d.kind == rule.document]
    start = max(postings) if postings else info.date
    working = rule.calendar == "working"
    end = data.calendar.add_days(start, rule.days, working=working)
    provisional = tuple(data.calendar.provisional_years(start, end)) if working else ()
    return NoticePeriod(start, end, rule.days, "个工作日" if working else "日", bool(postings), provisional)


def _announced(data: CaseData, stage: Stage, rule: NoticeRule, needs: Needs) -> list[str]:
    """What the notice announces and must have on record: the documents its stage requires besides the posting
    itself (the design scheme), and the owners' consent when the workflow has a consent rule."""
    wf = data.workflow.definition
    kinds = [k for k in stage.requires.documents if k != rule.document]
    for kind in kinds:
        if kind not in data.documents_by_kind:
            spec = wf.documents[kind]
            needs.add(_("{title} is not on record, and the notice announces it").format(
                title=pick(spec.title, spec.title_en)), Remedy("doc.add", {"case": data.case.id, "kind": kind}))
    found = current_tally(data)
    if found is not None and data.records.households and not found[0].passed:
        result = found[0]
        needs.add(_("the owners' vote has not passed ({shortfalls}), and the notice states the result: record the "
                    "ballots and check the tally").format(shortfalls="; ".join(result.shortfalls)),
                  Remedy("vote.tally", {"case": data.case.id}))
    return kinds


@form("notice", "既有住宅加装电梯方案公示", "Public notice of the scheme (posted: private data masked)",
      public=True)
def notice(data: CaseData, info: FormInfo) -> NoticeContext:
    needs = Needs()
    needs.households(data)
    stage = _notice_stage(data, info)
    rule = stage.requires.notice if stage is not None else None
    announced: list[str] = []
    if stage is None or rule is None:
        needs.add(_("workflow {id} has no public-notice rule (requires.notice) in any stage").format(
            id=data.workflow.id))
    else:
        announced = _announced(data, stage, rule, needs)
    office = data.parties.get("objection_office")
    if office is None and data.complex.community:
        office = Party("objection_office", "异议受理处", case_info(data).community_committee)
    if office is None:
        needs.add(_("nobody is named to receive objections (or give the complex its community)"),
                  Remedy("forms.party", {"case": data.case.id, "role": "objection_office"}))
    _refuse(needs, info, data)
    assert rule is not None and office is not None
    period = _notice_period(data, info, rule)
    table = _shares(Needs(), data) if data.funding is not None and data.records.households else None
    if table is not None:  # posted: the share plan keeps the rooms and amounts, not the owners' names
        table = replace(table, rows=[replace(r, owner=mask_name(r.owner) or "") for r in table.rows])
    present = {m.kind: m for m in materials(data, info.stage_id) if m.present}
    first = "design_scheme" if "design_scheme" in announced else (announced[0] if announced else None)
    found = current_tally(data)
    return NoticeContext(
        form=info, case=case_info(data), households=household_rows(data, public=True, shares=_share_map(table)),
        period=period, office=masked(office) or office, agent=masked(data.parties.get("agent")),
        designer=masked(data.parties.get("designer")), design=present.get(first) if first else None,
        tally=found[0] if found else None, shares=table,
        only_written_real_name=data.workflow.definition.objections.only_written_real_name)


@dataclass(frozen=True)
class ObjectionRegisterContext:
    form: FormInfo
    case: CaseInfo
    objections: list[ObjectionRow]
    open_count: int
    only_written_real_name: bool
    mediation_days: int


@form("objection_register", "既有住宅加装电梯异议登记及处理情况表", "Objection register with mediation and outcomes")
def objection_register(data: CaseData, info: FormInfo) -> ObjectionRegisterContext:
    policy = data.workflow.definition.objections
    rows = []
    for i, o in enumerate(data.records.objections, 1):
        counted = not policy.only_written_real_name or (o.written and o.real_name)
        steps = [ObjectionStepRow(s.step, STEP_TITLES.get(s.step, s.step), s.note, local_date(s.at), s.actor)
                 for s in data.steps.get(o.id or -1, [])]
        rows.append(ObjectionRow(
            no=i, id=o.id or 0, room=o.room, objector=o.objector, grounds=o.grounds, lodged_on=local_date(o.lodged_at),
            written=o.written, real_name=o.real_name, counted=counted,
            status_text="已解决" if o.status == "resolved" else "处理中", outcome=o.outcome,
            resolved_on=local_date(o.resolved_at) if o.resolved_at else None, steps=steps))
    return ObjectionRegisterContext(info, case_info(data), rows,
                                    sum(1 for o in data.records.objections if o.status == "open"),
                                    policy.only_written_real_name, policy.mediation_within.days)


# --- S5 ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JointReviewContext:
    form: FormInfo
    case: CaseInfo
    addressee: str
    agent: Party
    designer: Party | None
    installer: Party | None
    tally: Tally | None
    figures: Figures | None
    materials: list[MaterialRow]
    present: int
    missing: int


@form("joint_review", "既有住宅加装电梯联合审查申请表（附材料清单）", "Window application with the checklist")
def joint_review(data: CaseData, info: FormInfo) -> JointReviewContext:
    needs = Needs()
    needs.households(data)
    agent = needs.party(data, "agent")
    _refuse(needs, info, data)
    assert agent is not None
    wf = data.workflow.definition
    stage = wf.stage(info.stage_id) if info.stage_id in wf.stage_ids() else None
    authority = stage.responsible if stage else "district_approval"
    addressee = local_authority(wf.authorities[authority].title if authority in wf.authorities else "区行政审批局",
                                data)
    rows = materials(data, info.stage_id)
    due = [m for m in rows if m.due]
    found = current_tally(data)
    return JointReviewContext(
        form=info, case=case_info(data), addressee=addressee, agent=agent, designer=data.parties.get("designer"),
        installer=data.parties.get("installer"), tally=found[0] if found else None,
        figures=figures_of(data.funding) if data.funding else None,
        materials=rows, present=sum(1 for m in due if m.present), missing=sum(1 for m in due if not m.present))


# --- S7 ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class CompletionContext:
    form: FormInfo
    case: CaseInfo
    addressee: str
    figures: Figures
    use_unit: Party
    agent: Party | None
    installer: Party | None
    materials: list[MaterialRow]
    completed_on: date | None
    money: Any  # paperwork.moneyforms.CompletionMoney: payee, account, final cost, invoices, registration code


@form("completion_subsidy", "既有住宅加装电梯竣工验收及补贴申请表", "Completion and subsidy application")
def completion_subsidy(data: CaseData, info: FormInfo) -> CompletionContext:
    needs = Needs()
    needs.households(data)
    funding = needs.funding(data)
    if funding is not None and funding.subsidy_fen <= 0:
        signed = agreement_signed(data.workflow.definition, data.case.stage) is not None
        needs.add(_("the subsidy applied for is 0 (the owners' shares on the signed agreement change with it)")
                  if signed else _("the subsidy applied for is 0"),
                  Remedy("funding.subsidy_amend" if signed else "funding.subsidy", {"case": data.case.id}))
    use_unit = needs.party(data, "use_unit")
    from eightstep.paperwork.moneyforms import completion_money  # (it registers forms with this module's @form)

    money = completion_money(data, info, needs)
    _refuse(needs, info, data)
    assert funding is not None and use_unit is not None and money is not None
    rows = materials(data, info.stage_id, only=info.stage_id) if info.stage_id else []
    completion = [m.date for m in rows if m.kind == "completion_report" and m.date]
    window = data.workflow.definition.authorities.get("district_approval")
    addressee = local_authority(window.title, data) if window else "区既有住宅加装电梯工作主管部门"
    return CompletionContext(
        form=info, case=case_info(data), addressee=addressee,
        figures=figures_of(funding), use_unit=use_unit, agent=data.parties.get("agent"),
        installer=data.parties.get("installer"), materials=rows, completed_on=completion[0] if completion else None,
        money=money)


# --- S8 ----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ConventionContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    use_unit: Party
    maintainer: Party | None
    rota: list[RotaRow]
    maintenance_every: int | None
    figures: Figures | None


@form("usage_convention", "电梯使用公约", "Elevator usage convention with the duty rota")
def usage_convention(data: CaseData, info: FormInfo) -> ConventionContext:
    needs = Needs()
    needs.households(data)
    use_unit = needs.party(data, "use_unit")
    _refuse(needs, info, data)
    assert use_unit is not None
    upkeep = data.workflow.definition.upkeep
    return ConventionContext(
        form=info, case=case_info(data), households=household_rows(data, public=info.public), use_unit=use_unit,
        maintainer=data.parties.get("maintainer"), rota=month_rota(data, info.date),
        maintenance_every=upkeep.maintenance_every.days if upkeep else None,
        figures=figures_of(data.funding) if data.funding else None)


@dataclass(frozen=True)
class AuthorizationContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    property: Party
    maintainer: Party | None
    use_unit: Party | None
    agent: Party | None


@form("operation_authorization", "电梯运营管理授权委托书", "The owners' authorisation of the property company")
def operation_authorization(data: CaseData, info: FormInfo) -> AuthorizationContext:
    needs = Needs()
    needs.households(data)
    company = needs.party(data, "property")
    _refuse(needs, info, data)
    assert company is not None
    return AuthorizationContext(
        form=info, case=case_info(data), households=household_rows(data, public=info.public), property=company,
        maintainer=data.parties.get("maintainer"), use_unit=data.parties.get("use_unit"),
        agent=data.parties.get("agent"))


# --- templates without a builder (a user's own forms) ------------------------------------------------------

@dataclass(frozen=True)
class GenericContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    parties: dict[str, Party]
    shares: ShareTable | None
    materials: list[MaterialRow]


def generic(data: CaseData, info: FormInfo) -> GenericContext:
    table = _shares(Needs(), data) if data.funding and data.records.households else None
    return GenericContext(info, case_info(data), household_rows(data, public=False, shares=_share_map(table)),
                          dict(data.parties), table, materials(data, info.stage_id))
