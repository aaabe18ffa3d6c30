"""S3 forms: the owner agreement with its cost shares, the supplementary agreement for what an amendment changed
after signing, and the per-household share certificate an owner takes to the housing provident fund."""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime

from eightstep.i18n import _
from eightstep.paperwork import asof
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.context import CaseInfo, FormInfo, HouseholdRow, case_info, household_rows, latest_document
from eightstep.paperwork.forms.money import AgreedLine, agreed_lines
from eightstep.paperwork.forms.people import Elevator, elevator, elevator_needed, party_needed
from eightstep.paperwork.forms.registry import form, needs_for, refuse, share_map, shares
from eightstep.paperwork.needs import Needs
from eightstep.paperwork.parties import Party
from eightstep.records.moneyview import AGREEMENT_FORM, agreement_signed, agreement_stage
from eightstep.rules.money import MAINTENANCE_TITLES, METHOD_TITLES, Figures, ShareTable
from eightstep.timeutil import as_utc, local_date

AGREEMENT_DOCUMENT = "agreement"  # the document kind of the signed agreement


@dataclass(frozen=True)
class Signed:
    """The signed agreement on record: its date and number (as printed on it)."""

    date: date
    number: str


@dataclass(frozen=True)
class AgreementContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    shares: ShareTable
    figures: Figures
    method_title: str
    maintenance_title: str
    coefficients: list[tuple[int, str]]  # only the floors the unit has that pay
    exempt_floors: str | None  # only the floors the unit has
    use_unit: Party
    agent: Party
    maintainer: Party | None
    elevator: Elevator
    signed: Signed | None  # the signed agreement on record by the form's date; None: to be signed by hand
    extras: list[AgreedLine]  # agreed in negotiation on top of the contract price (a glass shaft, ...)
    compensations: list[AgreedLine]  # to the households the elevator affects, shared like the cost


def _coefficients(data: CaseData, table: ShareTable) -> tuple[list[tuple[int, str]], str | None]:
    sharing = data.workflow.definition.cost_sharing
    floors = {h.floor for h in data.records.households}
    coefficients = [(f, str(c)) for f, c in sorted(sharing.coefficients.items()) if f in floors] \
        if sharing.method == "floor_coefficient" else []
    exempt = [f for f in table.exempt_floors if f in floors]
    return coefficients, "、".join(f"{f}层" for f in exempt) or None


def signed_agreement(data: CaseData) -> Signed | None:
    """The signed agreement on record by the form's date, with the number printed on it (the form's serial
    unless the clerk recorded another)."""
    doc = latest_document(data, AGREEMENT_DOCUMENT)
    if doc is None:
        return None
    return Signed(local_date(doc.issued_at), doc.number or f"{data.case.id}-{AGREEMENT_FORM}")


@form("agreement", "既有住宅加装电梯协议书", "Owner agreement with the cost-share table")
def agreement(data: CaseData, info: FormInfo) -> AgreementContext:
    needs = needs_for(data, households=True)
    table = shares(needs, data)
    use_unit = party_needed(needs, data, "use_unit", "phone", "address")
    agent = party_needed(needs, data, "agent", "phone")
    lift = elevator_needed(needs, data)
    refuse(needs, info)
    assert table is not None and use_unit is not None and agent is not None and lift is not None
    sharing = data.workflow.definition.cost_sharing
    coefficients, exempt = _coefficients(data, table)
    return AgreementContext(
        form=info, case=case_info(data), households=household_rows(data, public=info.public, shares=share_map(table)),
        shares=table, figures=table.figures, method_title=METHOD_TITLES[sharing.method],
        maintenance_title=MAINTENANCE_TITLES[sharing.maintenance], coefficients=coefficients, exempt_floors=exempt,
        use_unit=use_unit, agent=agent, maintainer=data.party("maintainer"), elevator=lift,
        signed=signed_agreement(data), extras=agreed_lines(data, "extra"),
        compensations=agreed_lines(data, "compensation"))


# --- the supplementary agreement -----------------------------------------------------------------------------

@dataclass(frozen=True)
class Amendment:
    on: date
    what: str  # 资金 | 选定方案 | 分摊比例
    reason: str


@dataclass(frozen=True)
class ShareChange:
    room: str
    floor: int
    owner: str
    before: int
    after: int

    @property
    def difference(self) -> int:
        return self.after - self.before


@dataclass(frozen=True)
class SupplementaryContext:
    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    signed: Signed
    amendments: list[Amendment]
    before: Figures
    after: Figures
    rows: list[ShareChange]
    elevator_before: Elevator | None
    elevator_after: Elevator | None
    use_unit: Party
    agent: Party


WHAT = {"funding.set": "资金构成", "scheme.choose": "选定方案", "funding.agree": "分摊比例",
        "funding.extra": "协商增加项目", "funding.compensation": "对受影响业主的补偿"}


def _amendments(data: CaseData, signed_at: datetime) -> list[asof.MoneyEvent]:
    return [e for e in data.money_events if e.amend and as_utc(signed_at) <= e.at <= data.end]


@form("supplementary_agreement", "既有住宅加装电梯补充协议", "Supplementary agreement: what an amendment changed")
def supplementary_agreement(data: CaseData, info: FormInfo) -> SupplementaryContext:
    needs = needs_for(data, households=True)
    wf = data.workflow.definition
    doc = latest_document(data, AGREEMENT_DOCUMENT)
    signed = signed_agreement(data)
    changes: list[asof.MoneyEvent] = []
    if agreement_signed(wf, data.case.stage) is None or doc is None or signed is None:
        stage = agreement_stage(wf)
        needs.add(_("the agreement is not signed yet (the case has not left stage {stage}, or the signed agreement "
                    "is not on record): print the agreement itself").format(stage=stage.id if stage else "?"))
    else:
        changes = _amendments(data, doc.issued_at)
        if not changes:
            needs.add(_("nothing of the signed agreement was amended by the form's date: a supplementary agreement "
                        "records what an amendment changed"))
    after = shares(needs, data)
    use_unit = party_needed(needs, data, "use_unit", "phone", "address")
    agent = party_needed(needs, data, "agent", "phone")
    refuse(needs, info)
    assert after is not None and signed is not None and use_unit is not None and agent is not None
    first = changes[0]
    before_data = _before(data, first)
    before = before_data.share_table()
    old = {r.room: r.share for r in before.rows}
    rows = [ShareChange(r.room, r.floor, r.owner, old.get(r.room, 0), r.share) for r in after.rows]
    return SupplementaryContext(
        form=info, case=case_info(data), households=household_rows(data, public=info.public), signed=signed,
        amendments=[Amendment(local_date(e.at), WHAT.get(e.action, e.action), e.amend or "") for e in changes],
        before=before.figures, after=after.figures, rows=rows, elevator_before=elevator(before_data),
        elevator_after=elevator(data), use_unit=use_unit, agent=agent)


def _before(data: CaseData, first: asof.MoneyEvent) -> CaseData:
    """The case's money and scheme choice as signed: just before the first amendment."""
    earlier = [e for e in data.money_events if (e.at, e.seq) < (first.at, first.seq)]
    end = first.at
    funding = asof.funding_at(tuple(earlier), data.case.id, end)
    choices = [c for c in data.records.scheme_choices if as_utc(c.at) < end]
    records = replace(data.records, scheme_choices=choices)
    return replace(data, funding=funding, agreed=asof.agreed_at(tuple(earlier), end), records=records)


# --- the share certificate -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class CertificateRow:
    household: HouseholdRow
    share: int  # fen, after subsidy and other money: what the owner pays
    number: str | None = None  # the certificate on record (``funding certificate``): its number and day
    issued: date | None = None


@dataclass(frozen=True)
class CertificateContext:
    form: FormInfo
    case: CaseInfo
    rows: list[CertificateRow]  # the certificates on record by the form's date; else every household that pays
    figures: Figures
    signed: Signed
    issuer: str
    use_unit: Party


def _signed_needed(needs: Needs, data: CaseData) -> Signed | None:
    found = signed_agreement(data)
    if found is None:
        needs.add(_("the signed agreement is not on record: the certificate cites its date and number"),
                  "doc.add", kind=AGREEMENT_DOCUMENT)
    return found


@form("share_certificate", "既有住宅加装电梯分摊费用证明", "Each household's share, for the housing provident fund")
def share_certificate(data: CaseData, info: FormInfo) -> CertificateContext:
    needs = needs_for(data, households=True)
    table = shares(needs, data)
    signed = _signed_needed(needs, data)
    use_unit = party_needed(needs, data, "use_unit")
    refuse(needs, info)
    assert table is not None and signed is not None and use_unit is not None
    rows_by_room = {h.room: h for h in household_rows(data, public=False, shares=share_map(table))}
    issued = {c.room: c for c in data.money.as_of(local_date(data.end)).money.certificates} if data.money else {}
    if issued:  # the certificates on record: the paper the fund receives is the one recorded
        rows = [CertificateRow(rows_by_room[r.room], issued[r.room].amount, issued[r.room].number,
                               issued[r.room].on) for r in table.rows if r.room in issued]
    else:
        rows = [CertificateRow(rows_by_room[r.room], r.share) for r in table.rows if r.share > 0]
    case = case_info(data)
    return CertificateContext(info, case, rows, table.figures, signed, case.community_committee, use_unit)
