"""Objections in court: a litigation step suspends the case, and the case resumes only once the litigation has
ended on record (a document of a kind the workflow's ``objections.litigation_ends`` names, such as the judgment
or a withdrawal, dated on or after the litigation step)."""

from __future__ import annotations

from datetime import datetime

from sqlmodel import Session, col, select

from eightstep.errors import Remedy
from eightstep.i18n import _, pick
from eightstep.store import models
from eightstep.timeutil import as_utc, show
from eightstep.workflow.schema import Workflow


def litigation_steps(session: Session, case_id: str, at: datetime) -> list[tuple[models.Objection, datetime]]:
    """Each objection of the case taken to court by ``at``, with the time of its (first) litigation step."""
    rows = session.exec(select(models.Objection, models.MediationStep.at)
                        .join(models.MediationStep, col(models.MediationStep.objection_id) == col(models.Objection.id))
                        .where(models.Objection.case_id == case_id, models.MediationStep.step == "litigation",
                               models.not_voided(models.Objection.__table__),
                               models.not_voided(models.MediationStep.__table__))
                        .order_by(col(models.MediationStep.at)))
    first: dict[int, tuple[models.Objection, datetime]] = {}
    for objection, when in rows:
        if as_utc(when) <= at:
            first.setdefault(objection.id or 0, (objection, as_utc(when)))
    return list(first.values())


def litigation_pending(session: Session, case_id: str, wf: Workflow, at: datetime) -> tuple[str, Remedy] | None:
    """Why the case may not resume at ``at`` (an objection in court without its end on record), or None."""
    ends = wf.objections.litigation_ends
    if not ends:
        return None
    for objection, since in litigation_steps(session, case_id, at):
        ended = session.exec(select(models.Document.id).where(
            models.Document.case_id == case_id, col(models.Document.kind).in_(ends),
            models.Document.issued_at >= since, models.Document.issued_at <= at,
            models.not_voided(models.Document.__table__))).first()
        if ended is None:
            titles = ", ".join(pick(wf.documents[k].title, wf.documents[k].title_en) for k in ends)
            return (_("objection #{id} went to court on {since}: the case resumes once the litigation has ended on "
                      "record ({titles}, dated from {since} on)").format(id=objection.id, since=show(since),
                                                                        titles=titles),
                    Remedy("doc.add", {"case": case_id, "kind": ends[0]}))
    return None
