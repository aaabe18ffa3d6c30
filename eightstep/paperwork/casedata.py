"""Everything the forms of one case are built from, read on one connection at one case version.

The read is SQLAlchemy Core, not the ORM: one query for the case with its complex and workflow snapshot, then one
per table the forms use, as rows (read-only, with the models' attribute names). The same read through the ORM
(identity map, instrumented objects) took eight times as long. The case row is read first, so a change made while
the rest is read shows as a newer version than ``CaseData.version``, and the render's log refuses it.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from fractions import Fraction
from functools import cached_property
from typing import Any

from sqlalchemy import Row, Select, bindparam, select

from eightstep.engine.guards import CaseRecords, voters
from eightstep.errors import InputError, NotFoundError
from eightstep.paperwork.parties import Party, party_of
from eightstep.records.funding import E4, share_table
from eightstep.rules.consent import Voter
from eightstep.rules.money import ShareTable, room_order
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc
from eightstep.workflow.loader import LoadedWorkflow

CASES = models.Case.__table__
COMPLEXES = models.Complex.__table__
SNAPSHOTS = models.WorkflowSnapshot.__table__
HOUSEHOLDS = models.Household.__table__
AGREED = models.AgreedShare.__table__
STEPS = models.MediationStep.__table__

# The record tables the forms read (``CaseRecords`` fields); scheme choices and meetings are on no form.
FORM_RECORDS: dict[str, Any] = {
    "documents": models.Document.__table__, "approvals": models.Approval.__table__, "households": HOUSEHOLDS,
    "ballots": models.Ballot.__table__, "objections": models.Objection.__table__,
}


def _by_case(table: Any) -> Select[Any]:
    return select(table).where(table.c.case_id == bindparam("case_id")).order_by(table.c.id)


_CASE = (select(CASES, COMPLEXES.c.name.label("complex_name"), COMPLEXES.c.district, COMPLEXES.c.street,
                COMPLEXES.c.community, SNAPSHOTS.c.content.label("snapshot_content"),
                SNAPSHOTS.c.workflow_id.label("snapshot_workflow"), SNAPSHOTS.c.version.label("snapshot_version"))
         .join(COMPLEXES, COMPLEXES.c.id == CASES.c.complex_id)
         .outerjoin(SNAPSHOTS, SNAPSHOTS.c.sha256 == CASES.c.workflow_sha256)
         .where(CASES.c.id == bindparam("case_id")))
_RECORDS = {name: _by_case(table) for name, table in FORM_RECORDS.items()}
_FUNDING = select(models.Funding.__table__).where(models.Funding.__table__.c.case_id == bindparam("case_id"))
_PARTIES = _by_case(models.CaseParty.__table__)
_AGREED = (select(HOUSEHOLDS.c.room, AGREED.c.weight_e4, AGREED.c.maintenance_e4)
           .join(HOUSEHOLDS, HOUSEHOLDS.c.id == AGREED.c.household_id)
           .where(AGREED.c.case_id == bindparam("case_id")).order_by(AGREED.c.id))
_STEPS = (select(STEPS).where(STEPS.c.objection_id.in_(bindparam("ids", expanding=True)))
          .order_by(STEPS.c.at, STEPS.c.id))


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
    params = {"case_id": case_id}
    with ws.engine.connect() as conn:
        head = conn.execute(_CASE, params).first()
        if head is None:
            raise NotFoundError(f"no case {case_id!r}: `eightstep case list` shows the cases")
        if head.snapshot_content is None:
            raise NotFoundError(f"case {case_id}: its workflow snapshot {head.workflow_sha256[:12]} is missing")
        loaded = ws.workflows.from_snapshot(head.snapshot_content, head.workflow_sha256,
                                            f"{head.snapshot_workflow} {head.snapshot_version}")
        tables: dict[str, list[Row[Any]]] = {name: list(conn.execute(query, params).all())
                                             for name, query in _RECORDS.items()}
        steps: dict[int, list[models.MediationStep]] = {}
        ids = [o.id for o in tables["objections"]]
        if ids:
            for step in conn.execute(_STEPS, {"ids": ids}).all():
                steps.setdefault(step.objection_id, []).append(step)  # type: ignore[arg-type]
        shares: dict[str, Fraction] = {}
        upkeep: dict[str, Fraction] = {}
        for room, weight, maintenance in conn.execute(_AGREED, params).all():
            shares[room] = Fraction(weight, E4)
            if maintenance is not None:
                upkeep[room] = Fraction(maintenance, E4)
        funding = conn.execute(_FUNDING, params).first()
        parties = {r.role: party_of(r) for r in conn.execute(_PARTIES, params).all()}  # type: ignore[arg-type]
    place = Place(head.complex_name, head.district, head.street, head.community)
    records = CaseRecords(**tables, evidence_from=head.evidence_from)  # type: ignore[arg-type]  # rows as models
    return CaseData(case=head, complex=place, workflow=loaded, records=records, steps=steps,  # type: ignore[arg-type]
                    funding=funding, agreed=(shares, upkeep), parties=parties, calendar=ws.calendar)
