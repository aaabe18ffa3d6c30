"""Everything the forms of one case are built from, read on one connection at one case version.

The read goes through the store's read layer (``eightstep.store.read``): the case with its complex, its workflow
snapshot, then each table the forms use, every column, as read-only rows with the tables' column names. The
case row is read first, so a change made while the rest is read shows as a newer version than
``CaseData.version``, and the render's log refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING

from eightstep.engine.evidence import CaseRecords
from eightstep.engine.guards import voters
from eightstep.errors import InputError
from eightstep.paperwork.parties import Party, party_of
from eightstep.records.funding import E4, share_table
from eightstep.records.moneyview import MoneyOnRecord, money_on_record
from eightstep.rules.consent import Voter
from eightstep.rules.money import ShareTable, room_order
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import read, tables
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc
from eightstep.workflow.loader import LoadedWorkflow

if TYPE_CHECKING:
    from eightstep.store import models

# The record tables the forms read (``CaseRecords`` fields); scheme choices and meetings are on no form.
FORM_RECORDS = {"documents": tables.documents, "approvals": tables.approvals, "households": tables.households,
                "ballots": tables.ballots, "objections": tables.objections}


@dataclass(frozen=True)
class Place:
    """The complex a case belongs to (what the forms print of it)."""

    name: str
    district: str | None
    street: str | None
    community: str | None


@dataclass(frozen=True)
class CaseData:
    """One case's records as read-only rows (``models`` field names).

    What several forms derive from them is computed once per read (the forms of a pack or of ``render_many``
    share it); what a template gets of it is a fresh object, so nothing one template does reaches another.
    """

    case: models.Case
    complex: Place
    workflow: LoadedWorkflow
    records: CaseRecords  # documents, approvals, households, ballots, objections (FORM_RECORDS)
    steps: dict[int, list[models.MediationStep]]
    funding: models.Funding | None
    agreed: tuple[dict[str, Fraction], dict[str, Fraction]]
    parties: dict[str, Party]
    calendar: WorkCalendar
    money: MoneyOnRecord | None = None  # payments, subsidy, settlement, invoices, the elevator (issue 17)

    @property
    def version(self) -> int:
        """The case version the data was read at: a render is logged against it."""
        return self.case.version

    @cached_property
    def ordered_households(self) -> tuple[models.Household, ...]:
        """The households in floor and room order (``money.room_order``)."""
        return tuple(sorted(self.records.households, key=room_order))

    @cached_property
    def last_ballots(self) -> dict[int, models.Ballot]:
        """Household id -> its last recorded ballot (in id order)."""
        return {b.household_id: b for b in self.records.ballots}

    @cached_property
    def voters(self) -> tuple[Voter, ...]:
        """One voter per household with its ballot (every ballot recorded): what a tally counts."""
        return tuple(voters(self.records, None))

    @cached_property
    def documents_by_kind(self) -> dict[str, tuple[models.Document, ...]]:
        """Kind -> its documents, in the order they were issued (then recorded)."""
        grouped: dict[str, list[models.Document]] = {}
        for d in sorted(self.records.documents, key=lambda d: (as_utc(d.issued_at), d.id or 0)):
            grouped.setdefault(d.kind, []).append(d)
        return {kind: tuple(docs) for kind, docs in grouped.items()}

    @cached_property
    def approved_by_kind(self) -> dict[str, tuple[models.Approval, ...]]:
        """Kind -> its approvals that were granted, in the order they were decided (then recorded)."""
        grouped: dict[str, list[models.Approval]] = {}
        for a in sorted((a for a in self.records.approvals if a.decision == "approved"),
                        key=lambda a: (as_utc(a.decided_at), a.id or 0)):
            grouped.setdefault(a.kind, []).append(a)
        return {kind: tuple(found) for kind, found in grouped.items()}

    @cached_property
    def _shares(self) -> ShareTable | str:
        try:
            return share_table(self.workflow.definition, self.records.households, self.funding,  # type: ignore[arg-type]
                               self.agreed)
        except InputError as exc:
            return str(exc)

    def share_table(self) -> ShareTable:
        """The cost shares under the workflow's rule (funding and households must be recorded); InputError says
        why the rule does not fit the data."""
        found = self._shares
        if isinstance(found, str):
            raise InputError(found)
        return replace(found, rows=list(found.rows), exempt_floors=list(found.exempt_floors))


def load_case_data(ws: Workspace, case_id: str) -> CaseData:
    with ws.engine.connect() as conn:
        head = read.case(conn, case_id, place=True)
        loaded = read.workflow(conn, ws.workflows, head)
        found = {name: read.records(conn, table, [case_id]).get(case_id, []) for name, table in FORM_RECORDS.items()}
        steps = read.records(conn, tables.mediation_steps, [o.id for o in found["objections"]], key="objection_id")
        agreed = read.records(conn, tables.agreed_shares, [case_id]).get(case_id, [])
        funding = read.records(conn, tables.funding, [case_id]).get(case_id, [None])[0]
        parties = {r.role: party_of(r) for r in read.records(conn, tables.case_parties, [case_id]).get(case_id, [])}
    with ws.session() as session:
        money = money_on_record(session, case_id, loaded.definition)
    rooms = {h.id: h.room for h in found["households"]}
    shares: dict[str, Fraction] = {}
    upkeep: dict[str, Fraction] = {}
    for share in agreed:
        shares[rooms[share.household_id]] = Fraction(share.weight_e4, E4)
        if share.maintenance_e4 is not None:
            upkeep[rooms[share.household_id]] = Fraction(share.maintenance_e4, E4)
    place = Place(head.complex_name, head.district, head.street, head.community)
    records = CaseRecords(**found, evidence_from=head.evidence_from)
    return CaseData(case=head, complex=place, workflow=loaded, records=records,
                    steps={oid: sorted(rows, key=lambda s: (as_utc(s.at), s.id)) for oid, rows in steps.items()},
                    funding=funding, agreed=(shares, upkeep), parties=parties, calendar=ws.calendar, money=money)
