"""S4 forms: the public notice of the scheme (posted: owners' personal data masked, the objection office's public
contact in full) and the register of objections with their mediation and outcomes."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date

from eightstep.i18n import _
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.context import (
    CaseInfo,
    FormInfo,
    HouseholdRow,
    case_info,
    current_tally,
    household_rows,
    latest_document,
)
from eightstep.paperwork.forms.people import Elevator, elevator, party_needed
from eightstep.paperwork.forms.registry import form, needs_for, refuse, share_map, shares
from eightstep.paperwork.needs import Needs
from eightstep.paperwork.parties import Party
from eightstep.paperwork.privacy import mask_name
from eightstep.rules.consent import Tally
from eightstep.rules.money import ShareTable
from eightstep.timeutil import local_date
from eightstep.workflow.schema import NoticeRule, Stage


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
class Design:
    title: str
    issuer: str
    number: str | None


@dataclass(frozen=True)
class NoticeContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    period: NoticePeriod
    office: Party  # the objection office: a public contact, shown in full
    design: Design
    elevator: Elevator | None
    tally: Tally | None
    shares: ShareTable | None
    only_written_real_name: bool


def notice_stage(data: CaseData, info: FormInfo) -> Stage | None:
    """The stage whose public notice this is: the stage listing the form when it has a notice rule, else the
    first stage with one."""
    wf = data.workflow.definition
    listed = wf.stage(info.stage_id) if info.stage_id in wf.stage_positions else None
    if listed is not None and listed.requires.notice is not None:
        return listed
    return next((s for s in wf.stages if s.requires.notice is not None), None)


def _period(data: CaseData, info: FormInfo, rule: NoticeRule, needs: Needs) -> NoticePeriod | None:
    """From the posting on record; before it is recorded, planned for posting on the day asked for (``--at``)."""
    posting = latest_document(data, rule.document)
    start = local_date(posting.issued_at) if posting is not None else info.date
    if start is None:
        needs.add(_("the posting of the notice is not on record: give the day it will be posted (as the form's "
                    "date), or record the posting"), "doc.add", kind=rule.document)
        return None
    working = rule.calendar == "working"
    end = data.calendar.add_days(start, rule.days, working=working)
    provisional = tuple(data.calendar.provisional_years(start, end)) if working else ()
    return NoticePeriod(start, end, rule.days, "个工作日" if working else "日", posting is not None,
                        provisional)


def _design(data: CaseData, stage: Stage, rule: NoticeRule, needs: Needs) -> Design | None:
    """The scheme the notice announces: the first document its stage requires besides the posting itself."""
    wf = data.workflow.definition
    kinds = [k for k in stage.requires.documents if k != rule.document]
    found = None
    for kind in kinds:
        doc = latest_document(data, kind)
        spec = wf.documents[kind]
        if doc is None:
            needs.add(_("{title} ({kind}) is not on record, and the notice announces it").format(
                title=spec.title, kind=kind), "doc.add", kind=kind)
        elif found is None:
            designer = data.party("designer")
            issuer = doc.issuer or (designer.name if designer else None)
            if issuer is None:
                needs.add(_("{title} ({kind}): who made it is not on record").format(title=spec.title, kind=kind),
                          "forms.party", role="designer")
            found = Design(spec.title, issuer or "", doc.number)
    return found


def _vote_passed(data: CaseData, needs: Needs) -> Tally | None:
    found = current_tally(data)
    if found is not None and data.records.households and not found[0].passed:
        needs.add(_("the owners' vote has not passed by the form's date ({shortfalls}), and the notice states the "
                    "result").format(shortfalls="; ".join(found[0].shortfalls)), "vote.cast")
    return found[0] if found else None


@form("notice", "既有住宅加装电梯方案公示", "Public notice of the scheme (posted: private data masked)",
      public=True)
def notice(data: CaseData, info: FormInfo) -> NoticeContext:
    needs = needs_for(data, households=True)
    stage = notice_stage(data, info)
    rule = stage.requires.notice if stage is not None else None
    period = design = None
    if stage is None or rule is None:
        needs.add(_("workflow {workflow} has no public-notice rule (requires.notice) in any stage").format(
            workflow=data.workflow.id))
    else:
        design = _design(data, stage, rule, needs)
        period = _period(data, info, rule, needs)
    result = _vote_passed(data, needs)
    office = party_needed(needs, data, "objection_office", "address", "phone")
    refuse(needs, info)
    assert period is not None and design is not None and office is not None
    table = shares(needs_for(data), data) if data.funding is not None else None
    if table is not None:  # posted: the share plan keeps the rooms and amounts, not the owners' names
        table = replace(table, rows=[replace(r, owner=mask_name(r.owner) or "") for r in table.rows])
    return NoticeContext(
        form=info, case=case_info(data), households=household_rows(data, public=True, shares=share_map(table)),
        period=period, office=office, design=design, elevator=elevator(data), tally=result, shares=table,
        only_written_real_name=data.workflow.definition.objections.only_written_real_name)


STEP_TITLES = {"negotiation": "协商", "coordination": "街道社区协调", "mediation": "人民调解",
               "hearing": "听证", "litigation": "诉讼"}


@dataclass(frozen=True)
class ObjectionStepRow:
    step: str
    step_title: str
    note: str
    date: date
    actor: str


@dataclass(frozen=True)
class ObjectionRow:
    no: int
    id: int
    room: str | None
    objector: str | None
    grounds: str
    lodged_on: date
    written: bool
    real_name: bool
    counted: bool
    status_text: str
    outcome: str | None
    resolved_on: date | None
    steps: list[ObjectionStepRow] = field(default_factory=list)


@dataclass(frozen=True)
class ObjectionRegisterContext:
    form: FormInfo
    case: CaseInfo
    objections: list[ObjectionRow]
    open_count: int
    only_written_real_name: bool
    mediation_days: int
    dated: date | None  # the last entry of the register by the form's date, or --at


@form("objection_register", "既有住宅加装电梯异议登记及处理情况表", "Objection register with mediation and outcomes")
def objection_register(data: CaseData, info: FormInfo) -> ObjectionRegisterContext:
    policy = data.workflow.definition.objections
    rows = []
    entries: list[date] = []
    for i, o in enumerate(data.records.objections, 1):
        counted = not policy.only_written_real_name or (o.written and o.real_name)
        steps = [ObjectionStepRow(s.step, STEP_TITLES.get(s.step, s.step), s.note, local_date(s.at), s.actor)
                 for s in data.steps.get(o.id or -1, [])]
        resolved = local_date(o.resolved_at) if o.resolved_at else None
        entries.extend([local_date(o.lodged_at), *(s.date for s in steps), *([resolved] if resolved else [])])
        rows.append(ObjectionRow(
            no=i, id=o.id or 0, room=o.room, objector=o.objector, grounds=o.grounds, lodged_on=local_date(o.lodged_at),
            written=o.written, real_name=o.real_name, counted=counted,
            status_text="已解决" if o.status == "resolved" else "处理中", outcome=o.outcome, resolved_on=resolved,
            steps=steps))
    return ObjectionRegisterContext(info, case_info(data), rows,
                                    sum(1 for o in data.records.objections if o.status == "open"),
                                    policy.only_written_real_name, policy.mediation_within.days,
                                    info.date or (max(entries) if entries else None))
