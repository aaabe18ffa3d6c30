"""Everything the forms of one case are built from, read on one connection at one case version.

The read goes through the store's read layer (``eightstep.store.read``): the case with its complex, its workflow
snapshot, then each table the forms use, every column, as read-only rows with the tables' column names. The
case row is read first, so a change made while the rest is read shows as a newer version than
``CaseData.version``, and the render's log refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime
from fractions import Fraction
from functools import cached_property
from typing import TYPE_CHECKING, Any

from eightstep.engine.ballots import current_ballots, voters
from eightstep.engine.evidence import FullRecords
from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.paperwork import asof
from eightstep.paperwork.asof import MoneyEvent
from eightstep.paperwork.parties import Party, current
from eightstep.records.moneyview import E4, MoneyOnRecord, money_on_record, share_table
from eightstep.records.views import view
from eightstep.rules.consent import Voter
from eightstep.rules.money import ShareTable, room_order
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import plain, read
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, local_date, now_utc, show, through
from eightstep.workflow.loaded import LoadedWorkflow

if TYPE_CHECKING:
    from eightstep.store import models

# The record tables the forms read (``CaseRecords`` fields, by table name); meetings are on no form.
FORM_RECORDS = {"documents": "documents", "approvals": "approvals", "households": "households", "ballots": "ballots",
                "objections": "objections", "scheme_choices": "scheme_choices"}


def _register(dialect: str) -> Any:
    """The statement of a case's register: every role with its holder's contact (``plain.fetch`` builder)."""
    from sqlalchemy import bindparam, select

    from eightstep.store import tables

    roles, people = tables.case_roles, tables.case_people
    return (select(*read.columns(dialect, roles), *read.columns(dialect, people, ("phone", "id_number", "address")))
            .select_from(roles).join(people, people.c.id == roles.c.person_id)
            .where(roles.c.case_id == bindparam("case_id")).order_by(roles.c.since, roles.c.id))


@dataclass(frozen=True)
class Place:
    """The complex a case belongs to (what the forms print of it)."""

    name: str
    district: str | None
    street: str | None
    community: str | None


@dataclass(frozen=True)
class RotaPlan:
    """How the duty rota turns: ``every`` week or month, from ``starts_on``."""

    every: str  # week | month
    starts_on: date


@dataclass(frozen=True)
class CaseData:
    """One case's records as read-only rows (``models`` field names).

    What several forms derive from them is computed once per read (the forms of a pack or of ``render_many``
    share it); what a template gets of it is a fresh object, so nothing one template does reaches another.
    """

    case: models.Case  # with the stage and status as of ``end``
    complex: Place
    workflow: LoadedWorkflow
    records: FullRecords  # documents, approvals, households, ballots, objections, scheme choices (FORM_RECORDS)
    steps: dict[int, list[models.MediationStep]]
    funding: models.Funding | None
    agreed: tuple[dict[str, Fraction], dict[str, Fraction]]
    register: tuple[Party, ...]  # every role of the case's register, ended terms too, in the order named
    calendar: WorkCalendar
    schemes: dict[int, models.Scheme]
    money_events: tuple[MoneyEvent, ...]  # every change of the funding and shares, also those after ``end``
    end: datetime  # the records dated by this instant count (the end of the day asked for, or now)
    dated: date | None = None  # the day asked for (``--at``); None: the forms take their dates from the records
    rota_plan: RotaPlan | None = None
    money: MoneyOnRecord | None = None  # payments, subsidy, settlement, invoices, the elevator (issue 17)

    @property
    def version(self) -> int:
        """The case version the data was read at: a render is logged against it."""
        return self.case.version

    @cached_property
    def chosen_scheme(self) -> models.Scheme | None:
        """The scheme the owners chose (their latest choice by ``end``, from the evidence of the current round)."""
        choices = [c for c in self.records.scheme_choices if self.counts(c.at)]
        if not choices:
            return None
        last = max(choices, key=lambda c: (as_utc(c.at), c.id or 0))
        return self.schemes.get(last.scheme_id)

    def members(self, role: str) -> list[Party]:
        """Who holds ``role`` (owner_rep, self_management, duty_rota, ...) at ``end``, in the order named."""
        return [p for p in self.register if p.role == role and p.held_at(self.end)]

    def party(self, role: str) -> Party | None:
        """Who the forms name in ``role`` at ``end``; the agent is the owner representative unless one is named
        apart."""
        return current(list(self.register), role, self.end)

    def people(self) -> list[Party]:
        """Everyone named for the case by ``end`` (whose phone and ID number a posted paper must not show)."""
        return [p for p in self.register if as_utc(p.since) <= self.end]

    def counts(self, when: datetime) -> bool:
        """Evidence dated ``when`` counts: not before a return for rework started the evidence afresh."""
        since = self.records.evidence_from
        return since is None or as_utc(when) >= as_utc(since)

    @cached_property
    def ordered_households(self) -> tuple[models.Household, ...]:
        """The households in floor and room order (``money.room_order``)."""
        return tuple(sorted(self.records.households, key=room_order))

    @cached_property
    def last_ballots(self) -> dict[int, models.Ballot]:
        """Household id -> the ballot that counts for it: its latest cast by the form's date, from the evidence of
        the current round (as the tally counts)."""
        return current_ballots(self.records.ballots, None, self.records.evidence_from)

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
        if self.funding is None:  # callers check first; as the guard says it otherwise (not a bare AttributeError)
            return _("no funding is on record, so what each household owes is not known")
        try:
            return share_table(self.workflow.definition, self.records.households, self.funding, self.agreed)
        except InputError as exc:
            return str(exc)

    def shares_as_of(self) -> ShareTable:
        """The share table as of ``end`` (``funding shares --at``); InputError when nothing can be shared yet."""
        if self.funding is None:
            raise InputError(_("case {case} has no funding on record by {when}").format(
                case=self.case.id, when=show(self.end)), remedy=Remedy("funding.set", {"case": self.case.id}))
        if not self.records.households:
            raise InputError(_("case {case} has no households yet").format(case=self.case.id),
                             remedy=Remedy("household.import", {"case": self.case.id}))
        return self.share_table()

    def share_table(self) -> ShareTable:
        """The cost shares under the workflow's rule (funding and households must be recorded); InputError says
        why the rule does not fit the data."""
        found = self._shares
        if isinstance(found, str):
            raise InputError(found)
        return replace(found, rows=list(found.rows), exempt_floors=list(found.exempt_floors))


def load_case_data(ws: Workspace, case_id: str, at: datetime | None = None) -> CaseData:
    """The case's records for its forms; with ``at``, as they stood then (``eightstep.paperwork.asof``): a bare
    date stands for the whole of that day."""
    end = through(at) if at is not None else now_utc()
    # Now: the read layer's connection (on a SQLite file, sqlite3 without SQLAlchemy); as of a past day, the
    # history's replay (``engine.asof``) needs SQLAlchemy's.
    with ws.reading() if at is None else ws.engine.connect() as conn:
        head = read.case(conn, case_id, place=True)
        loaded = read.workflow(conn, ws.workflows, head)
        case: Any = head if at is None else asof.case_at(conn, head, end)  # type: ignore[arg-type]  # (SQLAlchemy's, with at)
        found = {name: read.records(conn, table, [case_id]).get(case_id, []) for name, table in FORM_RECORDS.items()}
        steps = read.records(conn, "mediation_steps", [o.id for o in found["objections"]], key="objection_id")
        agreed = read.records(conn, "agreed_shares", [case_id]).get(case_id, [])
        funding = read.records(conn, "funding", [case_id]).get(case_id, [None])[0]
        register = tuple(view(r, r) for r in plain.fetch(conn, "eightstep.paperwork.casedata:_register",
                                                         (plain.dialect_name(conn),), {"case_id": case_id}))
        schemes = {r.id: r for r in read.records(conn, "schemes", [case_id]).get(case_id, [])}
        plans = sorted((p for p in read.records(conn, "rota_plans", [case_id]).get(case_id, [])
                        if as_utc(p.at) <= end), key=lambda p: (as_utc(p.at), p.id))
        money_events = asof.money_history(conn, case_id)
        money = money_on_record(conn, case_id, loaded.definition)
    rooms = {h.id: h.room for h in found["households"]}
    shares: dict[str, Fraction] = {}
    upkeep: dict[str, Fraction] = {}
    for share in agreed:
        shares[rooms[share.household_id]] = Fraction(share.weight_e4, E4)
        if share.maintenance_e4 is not None:
            upkeep[rooms[share.household_id]] = Fraction(share.maintenance_e4, E4)
    place = Place(head.complex_name, head.district, head.street, head.community)
    records = FullRecords(**found, evidence_from=case.evidence_from)
    steps = {oid: sorted(rows, key=lambda s: (as_utc(s.at), s.id)) for oid, rows in steps.items()}
    money_agreed = (shares, upkeep)
    if at is not None:
        records = asof.records_at(records, end, case.evidence_from)
        steps = asof.steps_at(steps, end)
        if any(event.at > end for event in money_events):  # the money changed since: as it stood then
            funding = asof.funding_at(money_events, case_id, end)
            money_agreed = asof.agreed_at(money_events, end)
    return CaseData(case=case, complex=place, workflow=loaded, records=records, steps=steps,
                    funding=funding, agreed=money_agreed, register=register, calendar=ws.calendar,
                    schemes=schemes, money_events=money_events, end=end,
                    dated=local_date(at) if at is not None else None,
                    rota_plan=RotaPlan(plans[-1].every, plans[-1].starts_on) if plans else None, money=money)
