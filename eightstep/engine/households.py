"""The households of a case as the recordings find them: on the ORM session of a recording that writes through it,
or on a Core connection (``eightstep.store.rows``: no ORM imported)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, select

from eightstep.errors import NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.rules.rooms import normal_room
from eightstep.store import rows, tables
from eightstep.store.tables import not_voided

if TYPE_CHECKING:
    from sqlmodel import Session

HOUSEHOLDS = tables.households


def households_of(db: Session | Connection, case_id: str) -> list[Any]:
    """The households of the case that count (not voided), in the order they were recorded: ORM objects of a
    session, ``rows.Household`` on a connection."""
    if isinstance(db, Connection):
        found = db.execute(select(HOUSEHOLDS).where(HOUSEHOLDS.c.case_id == case_id, not_voided(HOUSEHOLDS))
                           .order_by(HOUSEHOLDS.c.id)).mappings()
        return [rows.of(rows.Household, row) for row in found]
    from eightstep.store import models

    return list(db.scalars(select(models.Household).where(
        models.Household.case_id == case_id, not_voided(HOUSEHOLDS)).order_by(models.Household.id)))


def find_household(db: Session | Connection, case_id: str, room: str) -> Any:
    """The household of ``room`` in the case (the one lookup every record that names a room uses): an ORM object
    of a session, a ``rows.Household`` on a connection."""
    household = _household(db, case_id, room)
    if household is None:  # another spelling of the same flat: ２０１, 201室
        try:
            normal = normal_room(room)
        except ValueError:
            normal = room
        if normal != room:
            household = _household(db, case_id, normal)
    if household is None:
        raise NotFoundError(_("case {case} has no room {room!r}").format(case=case_id, room=room),
                            remedy=Remedy("household.list", {"case": case_id}))
    return household


def _household(db: Session | Connection, case_id: str, room: str) -> Any:
    if isinstance(db, Connection):
        row = db.execute(select(HOUSEHOLDS).where(HOUSEHOLDS.c.case_id == case_id, HOUSEHOLDS.c.room == room,
                                                  not_voided(HOUSEHOLDS))).mappings().first()
        return None if row is None else rows.of(rows.Household, row)
    from eightstep.store import models

    return db.scalars(select(models.Household).where(models.Household.case_id == case_id,
                                                     models.Household.room == room, not_voided(HOUSEHOLDS))).first()
