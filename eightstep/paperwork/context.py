"""The typed pieces every form context is made of, and the helpers that build them from a case's records.

Templates see these dataclasses as they are (attribute access in the sandbox). Documents posted in public get
masked copies (see ``privacy``): a template cannot print what its context does not hold.
"""

from __future__ import annotations

from dataclasses import dataclass, fields, replace
from datetime import date
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING, Any

from eightstep.engine.ballots import title_names
from eightstep.paperwork import privacy
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.parties import Party
from eightstep.rules.consent import AGREE, OPPOSE, Tally, tally
from eightstep.store.read import CaseIdentity, unit_label
from eightstep.timeutil import as_utc, local_date

if TYPE_CHECKING:
    from eightstep.store import models

CHOICE_TEXT = {AGREE: "同意", OPPOSE: "反对", "abstain": "弃权", None: "未表决"}


@dataclass(frozen=True)
class FormInfo:
    id: str
    title: str
    title_en: str
    public: bool  # posted in public: phone and ID numbers are masked
    stage_id: str | None
    stage_title: str | None
    date: date | None  # the day asked for (--at); None: the dates come from the records, or are left blank
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
    stage_id: str  # the stage as of the form's date
    stage_title: str
    households: int
    owners: int
    top_floor: int
    floors: list[int]  # the floors the unit's flats are on, lowest first
    area_total_centi: int


@dataclass(frozen=True)
class HouseholdRow:
    no: int
    room: str
    floor: int
    area_centi: int
    owner: str
    owner_key: str
    phone: str | None
    choice: str | None
    choice_text: str
    cast_on: date | None
    share: int | None = None  # fen, when a share table is known
    maintenance: int | None = None
    co_owners: tuple[str, ...] = ()  # the other names on the flat's title (each signs its ballot); not when public


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
        return "0.00%"
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
    floors = sorted({h.floor for h in households})
    return CaseInfo(
        id=c.id, complex=cx.name, district=cx.district, street=cx.street, community=cx.community,
        building=c.building, unit=c.unit, place=place, address=prefix + place, street_office=street_office,
        community_committee=committee, workflow_id=wf.id, workflow_version=wf.version, workflow_title=wf.title,
        region=wf.region, basis=[c.text() for c in wf.basis], stage_id=c.stage, stage_title=wf.stage(c.stage).title,
        households=len(households), owners=len({h.owner_key for h in households}),
        top_floor=max(floors, default=0), floors=floors, area_total_centi=sum(h.area_centi for h in households),
    )


def local_authority(title: str, data: CaseData) -> str:
    """Generic titles made local: 本单元业主 -> 人大小区3栋2单元全体业主, 区行政审批局 -> 江夏区行政审批局,
    街道办事处 -> 纸坊街道办事处, 社区居民委员会 -> 河头社区居民委员会 (when the complex records its district,
    street and community)."""
    cx = data.complex
    if title == "本单元业主":
        return f"{cx.name}{data.case.building}栋{data.case.unit}单元全体业主"
    if cx.district and title.startswith("区") and cx.district.endswith("区"):
        return cx.district + title[1:]
    if cx.street and title == "街道办事处":
        return f"{cx.street}办事处"
    if cx.community and title.startswith("社区居民委员会"):
        return cx.community + title.removeprefix("社区")
    return title


def household_rows(data: CaseData, *, public: bool, shares: dict[str, tuple[int, int]] | None = None
                   ) -> list[HouseholdRow]:
    """Every household in floor and room order, with its ballot as of the form's date; masked when ``public``."""
    ballots = data.last_ballots
    rows = []
    for i, h in enumerate(data.ordered_households, 1):
        ballot = ballots.get(h.id or -1)
        choice = ballot.choice if ballot else None
        share, upkeep = (shares or {}).get(h.room, (None, None))
        rows.append(HouseholdRow(
            no=i, room=h.room, floor=h.floor, area_centi=h.area_centi,
            owner=privacy.mask_name(h.owner) or "" if public else h.owner, owner_key=h.owner_key,
            phone=privacy.mask_phone(h.phone) if public else h.phone,
            choice=choice, choice_text=CHOICE_TEXT[choice], cast_on=local_date(ballot.cast_at) if ballot else None,
            share=share, maintenance=upkeep,
            co_owners=() if public else title_names(h.owner, getattr(h, "co_owners", None))[1:]))
    return rows


def masked(party: Party | None) -> Party | None:
    if party is None:
        return None
    return replace(party, phone=privacy.mask_phone(party.phone), id_number=privacy.mask_id(party.id_number))


def secrets(data: CaseData, public_contacts: tuple[str, ...] = ()) -> list[str]:
    """Every personal phone and ID number on record for the case: none may appear in full on a public document.
    ``public_contacts``: an office's public phone, which the notice shows in full."""
    found = [h.phone for h in data.records.households if h.phone]
    for party in data.people():
        found.extend(v for v in (party.phone, party.id_number) if v)
    return [s for s in found if s not in public_contacts]


def current_tally(data: CaseData) -> tuple[Tally, str] | None:
    """The tally of the ballots counted by the form's date under the case's consent rule, and the rule's text
    (None: no rule)."""
    for stage in data.workflow.definition.stages:
        rule = stage.requires.consent
        if rule is not None:
            return tally(data.voters, rule), rule.description
    return None


def close_of_vote(data: CaseData) -> date | None:
    """The day of the last ballot the tally counts (None: no ballot)."""
    cast = [as_utc(b.cast_at) for b in data.last_ballots.values()]
    return local_date(max(cast)) if cast else None


def latest_document(data: CaseData, kind: str) -> models.Document | None:
    """The latest document of ``kind`` on record by the form's date."""
    docs = data.documents_by_kind.get(kind, ())
    return docs[-1] if docs else None


def dated_by_record(data: CaseData, kind: str) -> date | None:
    """A form that records a signed paper: the paper's date once it is on record, else the day asked for
    (``--at``), else None (the date is written by hand)."""
    doc = latest_document(data, kind)
    return local_date(doc.issued_at) if doc is not None else data.dated
