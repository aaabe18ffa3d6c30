"""Objections in court: a litigation step suspends the case, and the case resumes only once the litigation has
ended on record (a document of a kind the workflow's ``objections.litigation_ends`` names, such as the judgment
or a withdrawal, dated on or after the litigation step)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import Connection, select

from eightstep.errors import Remedy
from eightstep.i18n import _, pick
from eightstep.store import tables
from eightstep.store.tables import not_voided
from eightstep.timeutil import as_utc, show

OBJECTIONS, STEPS, DOCUMENTS = tables.objections, tables.mediation_steps, tables.documents


def litigation_steps(conn: Connection, case_id: str, at: datetime) -> list[tuple[int, datetime]]:
    """Each objection of the case taken to court by ``at`` (its id), with the time of its (first) litigation step."""
    rows = conn.execute(select(OBJECTIONS.c.id, STEPS.c.at)
                        .join(STEPS, STEPS.c.objection_id == OBJECTIONS.c.id)
                        .where(OBJECTIONS.c.case_id == case_id, STEPS.c.step == "litigation",
                               not_voided(OBJECTIONS), not_voided(STEPS))
                        .order_by(STEPS.c.at))
    first: dict[int, tuple[int, datetime]] = {}
    for row in rows:
        objection, when = row.id, row.at
        if as_utc(when) <= at:
            first.setdefault(objection or 0, (objection, as_utc(when)))
    return list(first.values())


def litigation_pending(conn: Connection, case_id: str, litigation_ends: Sequence[tuple[str, str, str]],
                       at: datetime) -> tuple[str, Remedy] | None:
    """Why the case may not resume at ``at`` (an objection in court without its end on record), or None.
    ``litigation_ends``: the document kinds that end a litigation, with their titles (the workflow's outline)."""
    ends = [kind for kind, _title, _title_en in litigation_ends]
    if not ends:
        return None
    for objection, since in litigation_steps(conn, case_id, at):
        ended = conn.execute(select(DOCUMENTS.c.id).where(
            DOCUMENTS.c.case_id == case_id, DOCUMENTS.c.kind.in_(ends),
            DOCUMENTS.c.issued_at >= since, DOCUMENTS.c.issued_at <= at,
            not_voided(DOCUMENTS))).first()
        if ended is None:
            titles = ", ".join(pick(title, title_en) for _kind, title, title_en in litigation_ends)
            return (_("objection #{id} went to court on {since}: the case resumes once the litigation has ended on "
                      "record ({titles}, dated from {since} on)").format(id=objection, since=show(since),
                                                                        titles=titles),
                    Remedy("doc.add", {"case": case_id, "kind": ends[0]}))
    return None
