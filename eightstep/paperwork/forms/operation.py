"""S8 forms: the usage convention with the self-management group and the duty rota as recorded, and the owners'
authorisation of the property company."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

from eightstep.i18n import _
from eightstep.paperwork.casedata import CaseData, RotaPlan
from eightstep.paperwork.context import CaseInfo, FormInfo, HouseholdRow, case_info, dated_by_record, household_rows
from eightstep.paperwork.forms.people import party_needed
from eightstep.paperwork.forms.registry import form, needs_for, refuse
from eightstep.paperwork.needs import Needs
from eightstep.paperwork.parties import Party
from eightstep.records.moneyview import figures_of
from eightstep.rules.money import Figures, room_order

EVERY_TITLES = {"week": "周", "month": "月"}


@dataclass(frozen=True)
class Turn:
    no: int
    period: str  # 2025年12月 | 2025年11月24日至11月30日
    rooms: str  # 501、502: an owner of several flats takes one turn
    name: str  # who serves


def _period(plan: RotaPlan, index: int) -> str:
    if plan.every == "month":
        month = plan.starts_on.month - 1 + index
        return f"{plan.starts_on.year + month // 12}年{month % 12 + 1}月"
    start = plan.starts_on + timedelta(days=7 * index)
    end = start + timedelta(days=6)
    return f"{start.year}年{start.month}月{start.day}日至{end.month}月{end.day}日"


def turns(data: CaseData, plan: RotaPlan) -> list[Turn]:
    """The recorded duty rota: one turn per owner, in the order the members were named."""
    owner_of = {h.room: h.owner_key for h in data.records.households}
    rooms_of: dict[str, list[str]] = {}
    for h in sorted(data.records.households, key=room_order):
        rooms_of.setdefault(h.owner_key, []).append(h.room)
    out: list[Turn] = []
    seen: set[str] = set()
    for member in data.members("duty_rota"):
        key = owner_of.get(member.room or "", member.room or member.name)
        if key in seen:
            continue
        seen.add(key)
        rooms = rooms_of.get(key, [member.room or ""])
        out.append(Turn(len(out) + 1, _period(plan, len(out)), "、".join(rooms), member.name))
    return out


def _rota_needed(needs: Needs, data: CaseData) -> RotaPlan | None:
    if not data.members("duty_rota"):
        needs.add(_("no duty rota members are named: one from every household"), "role.add", role="duty_rota")
    if not data.members("self_management"):
        needs.add(_("no elevator self-management group is named"), "role.add", role="self_management")
    if data.rota_plan is None:
        needs.add(_("the duty rota's turns (weekly or monthly, from which day) are not recorded"), "role.rota")
    return data.rota_plan


@dataclass(frozen=True)
class ConventionContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    use_unit: Party
    safety_manager: Party
    maintainer: Party | None
    group: list[Party]
    turns: list[Turn]
    every: str  # 周 | 月
    starts_on: date
    emergency_phone: str
    maintenance_every: int | None
    figures: Figures | None
    dated: date | None  # the convention on record, or --at; None: written by hand


@form("usage_convention", "电梯使用公约", "Elevator usage convention with the self-management group and duty rota")
def usage_convention(data: CaseData, info: FormInfo) -> ConventionContext:
    needs = needs_for(data, households=True)
    use_unit = party_needed(needs, data, "use_unit", "phone")
    manager = party_needed(needs, data, "safety_manager", "phone")
    plan = _rota_needed(needs, data)
    wf = data.workflow.definition
    phone = needs.value(wf.upkeep.emergency_number if wf.upkeep else None,
                        _("workflow {workflow} gives no elevator emergency number (upkeep.emergency_number)")
                        .format(workflow=wf.id))
    refuse(needs, info)
    assert use_unit is not None and manager is not None and plan is not None and phone is not None
    upkeep = wf.upkeep
    return ConventionContext(
        form=info, case=case_info(data), households=household_rows(data, public=info.public), use_unit=use_unit,
        safety_manager=manager, maintainer=data.party("maintainer"), group=data.members("self_management"),
        turns=turns(data, plan), every=EVERY_TITLES[plan.every], starts_on=plan.starts_on, emergency_phone=phone,
        maintenance_every=upkeep.maintenance_every.days if upkeep else None,
        figures=figures_of(data.funding) if data.funding else None, dated=dated_by_record(data, "usage_convention"))


@dataclass(frozen=True)
class AuthorizationContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    property: Party
    maintainer: Party | None
    use_unit: Party | None
    agent: Party | None
    dated: date | None  # the authorisation on record, or --at; None: written by hand


@form("operation_authorization", "电梯运营管理授权委托书", "The owners' authorisation of the property company")
def operation_authorization(data: CaseData, info: FormInfo) -> AuthorizationContext:
    needs = needs_for(data, households=True)
    company = party_needed(needs, data, "property", "phone", "address")
    refuse(needs, info)
    assert company is not None
    return AuthorizationContext(
        form=info, case=case_info(data), households=household_rows(data, public=info.public), property=company,
        maintainer=data.party("maintainer"), use_unit=data.party("use_unit"), agent=data.party("agent"),
        dated=dated_by_record(data, "operation_authorization"))
