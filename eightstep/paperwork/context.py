"""The typed pieces every form context is made of, and the helpers that build them from a case's records.

Templates see these dataclasses as they are (attribute access in the sandbox). Documents posted in public get
masked copies (see ``privacy``): a template cannot print what its context does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from eightstep.errors import InputError, Remedy
from eightstep.i18n import _, pick
from eightstep.paperwork import privacy
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.parties import ROLES, Party
from eightstep.rules.consent import AGREE, OPPOSE, Tally, tally
from eightstep.store import models
from eightstep.store.read import CaseIdentity, unit_label
from eightstep.timeutil import local_date

CHOICE_TEXT = {AGREE: "同意", OPPOSE: "反对", "abstain": "弃权", None: "未表决"}


@dataclass(frozen=True)
class Need:
    """One gap in a form's data, and what fills it (the CLI spells the remedy as a command)."""

    message: str
    remedy: Remedy | None = None

    def __str__(self) -> str:
        return self.message


class MissingData(InputError):
    """A form whose data is incomplete: ``needs`` lists every gap with what to do about it (``missing``: their
    messages). ``sections`` is (headline, needs) per form, so that a refusal of several forms keeps them apart."""

    def __init__(self, form: str, case_id: str, needs: list[Need]) -> None:
        self.needs = needs
        self.missing = [n.message for n in needs]
        self.sections = [(_("cannot render {form} for case {case}: its data is incomplete:").format(
            form=form, case=case_id), needs)]
        super().__init__(_sections_text(self.sections))

    @classmethod
    def joined(cls, refusals: list[MissingData]) -> MissingData:
        """One refusal for several forms (a pack), each form's gaps under its own headline."""
        joined = refusals[0]
        joined.sections = [s for r in refusals for s in r.sections]
        joined.needs = [n for r in refusals for n in r.needs]
        joined.missing = [n.message for n in joined.needs]
        joined.args = (_sections_text(joined.sections),)
        return joined


def _sections_text(sections: list[tuple[str, list[Need]]]) -> str:
    return "\n".join(headline + "".join(f"\n  - {n.message}" for n in needs) for headline, needs in sections)


class Needs:
    """Collects what a form lacks, so that one refusal lists every gap at once."""

    def __init__(self) -> None:
        self.needs: list[Need] = []

    @property
    def missing(self) -> list[str]:
        return [n.message for n in self.needs]

    def add(self, message: str, remedy: Remedy | None = None) -> None:
        self.needs.append(Need(message, remedy))

    def party(self, data: CaseData, role: str) -> Party | None:
        party = data.parties.get(role)
        if party is None:
            self.add(_("{title} is not named").format(title=pick(ROLES[role][0], ROLES[role][1])),
                     Remedy("forms.party", {"case": data.case.id, "role": role}))
        return party

    def households(self, data: CaseData) -> None:
        if not data.records.households:
            self.add(_("no households"), Remedy("household.import", {"case": data.case.id}))

    def funding(self, data: CaseData) -> models.Funding | None:
        if data.funding is None:
            self.add(_("funding is not set"), Remedy("funding.set", {"case": data.case.id}))
        return data.funding


@dataclass(frozen=True)
class FormInfo:
    id: str
    title: str
    title_en: str
    public: bool  # posted in public: phone and ID numbers are masked
    stage_id: str | None
    stage_title: str | None
    date: date  # the date the form is dated
    serial: str  # printed as 编号


@dataclass(frozen=True)
class CaseInfo(CaseIdentity):
    district: str | None
    street: str | None
    community: str | None
    place: str  # 人大小区3栋2单元
    address: str  # with district, street and community when known
    street_office: str
    community_committee: str
    workflow_title: str
    region: str
    basis: list[str]
    stage_id: str
    stage_title: str
    households: int
    owners: int
    top_floor: int
    area_total_centi: int


@dataclass(frozen=True)
class HouseholdRow:
    no: int
    room: str
    floor: int
    area_centi: int
    owner: str
    phone: str | None
    choice: str | None
    choice_text: str
    cast_on: date | None
    share: int | None = None  # fen, when a share table is known
    maintenance: int | None = None


@dataclass(frozen=True)
class MaterialRow:
    """One line of a checklist: a required document or approval and what is on record for it."""

    no: int
    type: str  # 文件 | 审批
    kind: str
    title: str
    stage_title: str
    due: bool  # required by this form's stage or an earlier one
    present: bool
    issuer: str | None = None
    number: str | None = None
    date: date | None = None
    short_hash: str | None = None
    count: int = 0

    @property
    def status(self) -> str:
        if self.present:
            return "已备"
        return "缺" if self.due else "后续阶段"


@dataclass(frozen=True)
class Ratio:
    part: str
    whole: str
    percent: str  # for people: 83.33%


def as_context(obj: Any) -> dict[str, Any]:
    """A context dataclass as the template's top-level names (one level; nested objects stay typed)."""
    return {f.name: getattr(obj, f.name) for f in fields(obj)}


def percent(part: Decimal | int, whole: Decimal | int) -> str:
    if not whole:
        return "—"
    value = (Decimal(part) * 100 / Decimal(whole)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    return f"{value}%"


def case_info(data: CaseData) -> CaseInfo:
    c, cx, wf = data.case, data.complex, data.workflow.definition
    households = data.records.households
    place = cx.name + unit_label(c.building, c.unit)
    prefix = "".join(p for p in (cx.district, cx.street, cx.community) if p)
    authority = wf.authorities
    street_office = f"{cx.street}办事处" if cx.street else (authority["street"].title if "street" in authority
                                                          else "街道办事处")
    committee = f"{cx.community}居民委员会" if cx.community else (authority["community"].title
                                                               if "community" in authority else "社区居民委员会")
    return CaseInfo(
        id=c.id, complex=cx.name, district=cx.district, street=cx.street, community=cx.community,
        building=c.building, unit=c.unit, place=place, address=prefix + place, street_office=street_office,
        community_committee=committee, workflow_id=wf.id, workflow_version=wf.version, workflow_title=wf.title,
        region=wf.region, basis=[c.text() for c in wf.basis], stage_id=c.stage, stage_title=wf.stage(c.stage).title,
        households=len(households), owners=len({h.owner_key for h in households}),
        top_floor=max((h.floor for h in households), default=0),
        area_total_centi=sum(h.area_centi for h in households),
    )


def local_authority(title: str, data: CaseData) -> str:
    """Generic titles made local: 区行政审批局 -> 江夏区行政审批局, 街道办事处 -> 纸坊街道办事处, 社区居民委员会 ->
    河头社区居民委员会 (when the complex records its district, street and community)."""
    cx = data.complex
    if cx.district and title.startswith("区") and cx.district.endswith("区"):
        return cx.district + title[1:]
    if cx.street and title == "街道办事处":
        return f"{cx.street}办事处"
    if cx.community and title.startswith("社区居民委员会"):
        return cx.community + title.removeprefix("社区")
    return title


def household_rows(data: CaseData, *, public: bool, shares: dict[str, tuple[int, int]] | None = None
                   ) -> list[HouseholdRow]:
    """Every household in floor and room order, with its current ballot; masked when ``public``."""
    ballots = data.last_ballots
    rows = []
    for i, h in enumerate(data.ordered_households, 1):
        ballot = ballots.get(h.id or -1)
        choice = ballot.choice if ballot else None
        share, upkeep = (shares or {}).get(h.room, (None, None))
        rows.append(HouseholdRow(
            no=i, room=h.room, floor=h.floor, area_centi=h.area_centi,
            owner=privacy.mask_name(h.owner) or "" if public else h.owner,
            phone=privacy.mask_phone(h.phone) if public else h.phone,
            choice=choice, choice_text=CHOICE_TEXT[choice], cast_on=local_date(ballot.cast_at) if ballot else None,
            share=share, maintenance=upkeep))
    return rows


def masked(party: Party | None) -> Party | None:
    if party is None:
        return None
    return replace(party, phone=privacy.mask_phone(party.phone), id_number=privacy.mask_id(party.id_number))


def secrets(data: CaseData) -> list[str]:
    """Every phone and ID number on record for the case: none may appear in full on a public document."""
    found = [h.phone for h in data.records.households if h.phone]
    for party in data.parties.values():
        found.extend(v for v in (party.phone, party.id_number) if v)
    return found


def current_tally(data: CaseData) -> tuple[Tally, str] | None:
    """The tally of every recorded ballot under the case's consent rule, and the rule's text (None: no rule)."""
    for stage in data.workflow.definition.stages:
        rule = stage.requires.consent
        if rule is not None:
            return tally(data.voters, rule), rule.description
    return None


def stage_index(data: CaseData, stage_id: str | None) -> int:
    ids = data.workflow.definition.stage_ids()
    return ids.index(stage_id) if stage_id in ids else len(ids) - 1


def materials(data: CaseData, up_to: str | None, only: str | None = None) -> list[MaterialRow]:
    """The required documents and approvals of every stage (or of ``only`` that stage), latest record of each.

    Items of stages after ``up_to`` are listed as not yet due.
    """
    wf = data.workflow.definition
    limit = stage_index(data, up_to)
    rows: list[MaterialRow] = []
    seen: set[tuple[str, str]] = set()
    for index, stage in enumerate(wf.stages):
        if only is not None and stage.id != only:
            continue
        for kind in stage.requires.documents:
            if ("doc", kind) in seen:
                continue
            seen.add(("doc", kind))
            docs = data.documents_by_kind.get(kind, ())
            spec = wf.documents[kind]
            last = docs[-1] if docs else None
            rows.append(MaterialRow(
                no=len(rows) + 1, type="文件", kind=kind, title=spec.title, stage_title=stage.title,
                due=index <= limit, present=last is not None,
                issuer=last.issuer if last else local_authority(wf.authorities[spec.issuer].title, data),
                number=last.number if last else None, date=local_date(last.issued_at) if last else None,
                short_hash=last.sha256[:8] if last else None, count=len(docs)))
        for kind in stage.requires.approvals:
            if ("approval", kind) in seen:
                continue
            seen.add(("approval", kind))
            approved = data.approved_by_kind.get(kind, ())
            spec_a = wf.approvals[kind]
            last_a = approved[-1] if approved else None
            rows.append(MaterialRow(
                no=len(rows) + 1, type="审批", kind=kind, title=spec_a.title, stage_title=stage.title,
                due=index <= limit, present=last_a is not None,
                issuer=last_a.authority if last_a else local_authority(wf.authorities[spec_a.authority].title, data),
                number=last_a.number if last_a else None,
                date=local_date(last_a.decided_at) if last_a else None, count=len(approved)))
    return rows


@dataclass(frozen=True)
class RotaRow:
    period: str  # 2026年1月
    room: str
    owner: str


def month_rota(data: CaseData, start: date, public: bool = False) -> list[RotaRow]:
    """A duty administrator (轮值管理员) each month, one household after another, from ``start``'s month."""
    rows = []
    year, month = start.year, start.month
    for h in data.ordered_households:
        owner = privacy.mask_name(h.owner) or "" if public else h.owner
        rows.append(RotaRow(f"{year}年{month}月", h.room, owner))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return rows


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


STEP_TITLES = {"negotiation": "协商", "coordination": "街道社区协调", "mediation": "人民调解",
               "hearing": "听证", "litigation": "诉讼"}
