"""Everything the forms of one case are built from, read in one session at one case version."""

from __future__ import annotations

from dataclasses import dataclass
from fractions import Fraction

from sqlmodel import select

from eightstep.engine import get_case, load_records, workflow_of
from eightstep.funding import load_agreed, load_funding
from eightstep.guards import CaseRecords
from eightstep.paperwork.parties import Party, load_parties
from eightstep.store import models
from eightstep.workcalendar import WorkCalendar
from eightstep.workflow.loader import LoadedWorkflow
from eightstep.workspace import Workspace


@dataclass(frozen=True)
class CaseData:
    case: models.Case
    complex: models.Complex
    workflow: LoadedWorkflow
    records: CaseRecords
    steps: dict[int, list[models.MediationStep]]
    funding: models.Funding | None
    agreed: tuple[dict[str, Fraction], dict[str, Fraction]]
    parties: dict[str, Party]
    calendar: WorkCalendar

    @property
    def version(self) -> int:
        """The case version the data was read at: a render is logged against it."""
        return self.case.version


def load_case_data(ws: Workspace, case_id: str) -> CaseData:
    with ws.session() as session:
        case = get_case(session, case_id)
        loaded = workflow_of(ws, session, case)
        complex_row = session.get(models.Complex, case.complex_id)
        assert complex_row is not None  # a foreign key
        records = load_records(session, case_id)
        ids = [o.id for o in records.objections]
        steps: dict[int, list[models.MediationStep]] = {}
        if ids:
            for step in session.exec(select(models.MediationStep).where(
                    models.MediationStep.objection_id.in_(ids))  # type: ignore[union-attr]
                    .order_by(models.MediationStep.at, models.MediationStep.id)):
                steps.setdefault(step.objection_id, []).append(step)
        return CaseData(case=case, complex=complex_row, workflow=loaded, records=records, steps=steps,
                        funding=load_funding(session, case_id), agreed=load_agreed(session, case_id),
                        parties=load_parties(session, case_id), calendar=ws.calendar)
