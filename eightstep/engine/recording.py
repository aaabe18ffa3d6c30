"""The one way to record something in a case: ``recording``.

Every recording command (a ballot, a document, a role, a party, a render, ...) is one transaction on one case
that ends with exactly one event of the case's hash-chained history::

    with recording(ws, case_id, "vote.cast", at=at, actor=actor, as_role=as_role) as rec:
        household = rec.household(room)
        rec.add(models.Ballot(case_id=case_id, household_id=household.id, choice=choice, cast_at=rec.at, ...))
        rec.details = {"room": room, "choice": choice}

``recording`` does once, for all of them:

* the business time (``rec.at``: the given aware time or now, never in the future), who acts (``rec.actor``:
  ``--actor``, $EIGHTSTEP_ACTOR or the login name) and in which role (``--as``, checked; else the actor's role
  on record in the case at that time, see ``engine.actors``);
* the transaction and the case's lock: the case row is read in the transaction and the event bumps its version,
  so two writers of one case collide exactly as before: one wins, the other gets ConflictError and nothing of
  theirs is written, and no event is ever duplicated. A withdrawn case is refused (``allow_withdrawn``), and so
  is a case no longer at ``expected_version``;
* the validation: ``validate`` (the caller's own check, e.g. every row of an import) runs once the case and its
  workflow are loaded, before anything is written; then a record dated before the case was opened, or before
  its last return for rework when that return restarted the records (``Case.evidence_from``), is refused with
  a message naming both dates (``too_early``; the body checks other dates of the same record with
  ``rec.dated``);
* the events: one, ``rec.action`` with ``rec.details`` and ``rec.note`` as the body left them (or several,
  ``rec.events``, for forms printed together), from the case's stage when the transaction began to its stage at
  the end (the same stage unless the body moved the case); the role is resolved once for all of them;
* the rows: what the body adds, changes or removes through ``rec.add``, ``rec.change`` and ``rec.remove`` is
  written in the same transaction (``rec.changed`` lists it, for the history's content).

Moves and the opening of a case use it the same way: ``rec.from_stage`` is None for an opening; a move sets the
case's stage in the body and the event goes from the old stage to the new one.

``record_in`` is the same without the transaction and the case read, for a case the caller has just created in
its own transaction (opening a case, the complex rollout).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, select

from eightstep.engine.actors import acting_role, checked_role
from eightstep.engine.cases import default_actor, editing
from eightstep.engine.events import append_events
from eightstep.engine.permissions import check_permission
from eightstep.errors import InputError, NotFoundError
from eightstep.i18n import _
from eightstep.rules.rooms import normal_room
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, business_time, show
from eightstep.workflow.loader import LoadedWorkflow
from eightstep.workflow.schema import Workflow

PUT = "put"  # a row written whole (added, or changed in place)
DROP = "drop"  # a row removed


def find_household(session: Session, case_id: str, room: str) -> models.Household:
    """The household of ``room`` in the case (the one lookup every record that names a room uses)."""
    household = session.exec(select(models.Household).where(
        models.Household.case_id == case_id, models.Household.room == room)).first()
    if household is None:  # another spelling of the same flat: ２０１, 201室
        try:
            normal = normal_room(room)
        except ValueError:
            normal = room
        if normal != room:
            household = session.exec(select(models.Household).where(
                models.Household.case_id == case_id, models.Household.room == normal)).first()
    if household is None:
        raise NotFoundError(f"case {case_id} has no room {room!r}: `eightstep household list {case_id}`")
    return household


def too_early(case: Any, when: datetime) -> str | None:
    """Why a record of ``case`` cannot be dated ``when`` (None: it can): before the case was opened, or before
    its last return for rework that restarted the records (``evidence_from``)."""
    when = as_utc(when)
    if when < as_utc(case.opened_at):
        return _("{when} is before case {case} was opened ({opened}): a record cannot predate its case; check "
                 "the date").format(when=show(when), case=case.id, opened=show(case.opened_at))
    if case.evidence_from is not None and when < as_utc(case.evidence_from):
        return _("{when} is before case {case} was returned for rework ({since}), when its records restarted: a "
                 "record dated before the return would not count; check the date").format(
                     when=show(when), case=case.id, since=show(case.evidence_from))
    return None


@dataclass
class Recording:
    """One recording in progress: the case, its rules, when, who, and what the event will say."""

    session: Session
    case: models.Case
    loaded: LoadedWorkflow
    action: str
    at: datetime
    actor: str
    as_role: str | None
    details: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    changed: list[tuple[str, models.Base]] = field(default_factory=list)  # (PUT | DROP, row), in order
    events: list[tuple[str, str | None, dict[str, Any]]] = field(default_factory=list)  # several, if any
    from_stage: str | None = ""  # the event's; the case's stage at the start (None: opening the case)

    def __post_init__(self) -> None:
        self.from_stage = self.case.stage

    def entries(self) -> list[tuple[str, str | None, dict[str, Any]]]:
        """The events to write: ``events`` when the body set several (forms rendered together), else one."""
        return self.events or [(self.action, self.note, self.details)]

    @property
    def case_id(self) -> str:
        return self.case.id

    @property
    def workflow(self) -> Workflow:
        return self.loaded.definition

    def dated(self, when: datetime, what: str = "at") -> datetime:
        """``when`` (aware) as UTC, refused with InputError when the case cannot have a record dated then."""
        problem = too_early(self.case, when)
        if problem is not None:
            raise InputError(f"{what}: {problem}")
        return as_utc(when)

    def household(self, room: str) -> models.Household:
        return find_household(self.session, self.case.id, room)

    def add(self, row: models.Base, *, with_id: bool = False) -> Any:
        """Stage a new row of the case; ``with_id``: write it now, so that its id is known on return (the
        database's write lock is then taken here rather than at the end)."""
        self.session.add(row)
        if with_id:
            self.session.flush()
        self.changed.append((PUT, row))
        return row

    def add_all(self, rows: list[models.Base]) -> None:
        """Stage many new rows of the case."""
        self.session.add_all(rows)
        self.changed.extend((PUT, row) for row in rows)

    def change(self, row: models.Base, **values: Any) -> Any:
        """Set ``values`` on an existing row of the case and write it."""
        for name, value in values.items():
            setattr(row, name, value)
        self.session.add(row)
        self.changed.append((PUT, row))
        return row

    def remove(self, row: models.Base) -> None:
        self.session.delete(row)
        self.changed.append((DROP, row))


@contextmanager
def record_in(session: Session, case: models.Case, loaded: LoadedWorkflow, action: str, *,
              at: datetime | None = None, actor: str | None = None, as_role: str | None = None,
              validate: Callable[[Recording], None] | None = None) -> Iterator[Recording]:
    """A recording on ``case`` in the caller's transaction ``session`` (which commits or rolls back)."""
    rec = Recording(session, case, loaded, action, business_time(at), default_actor(actor), checked_role(as_role))
    granted = check_permission(session.connection(), loaded.definition, case.id, action, rec.actor, rec.as_role,
                               rec.at)
    if validate is not None:
        validate(rec)
    rec.dated(rec.at)
    yield rec
    role = granted or acting_role(session, case.id, rec.actor, rec.as_role, rec.at)
    append_events(session, case, rec.entries(), at=rec.at, actor=rec.actor, from_stage=rec.from_stage,
                  to_stage=case.stage, role=role)
    session.flush()


@contextmanager
def recording(ws: Workspace, case_id: str, action: str, *, at: datetime | None = None, actor: str | None = None,
              as_role: str | None = None, expected_version: int | None = None, allow_withdrawn: bool = False,
              validate: Callable[[Recording], None] | None = None) -> Iterator[Recording]:
    """One transaction on one case ending with its one event (see the module's docstring)."""
    when = business_time(at)  # before the transaction: a bad time never takes the lock
    checked_role(as_role)
    with editing(ws, case_id, expected_version=expected_version, allow_withdrawn=allow_withdrawn) as (
            session, case, loaded), record_in(session, case, loaded, action, at=when, actor=actor, as_role=as_role,
                   validate=validate) as rec:
        yield rec
