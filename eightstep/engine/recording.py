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
* the rows and the history's content: what the body adds, changes or removes through ``rec.add``,
  ``rec.change`` and ``rec.remove`` is written in the same transaction, and each such row, whole, becomes a
  fact of the event (``engine.facts``: stored in ``event_facts``, their count and digest hashed with the event),
  as do the columns of the case row the body changed; rows written with Core statements (a large import) give
  their facts with ``rec.write_facts``. So the rows of a case are a projection of its history
  (``audit.projection``);
* the file store: ``rec.store_file`` copies a file in; should the recording fail (a lost race), a file it was
  the first to store is removed again unless another record refers to it.

The moves of a case (``engine.moves``: advance, return, suspend, resume, withdraw) are recordings too, with
``move`` naming the event (``recording(ws, case_id, "case.return", move="return", ...)``), on a Core transaction:
``rec.case`` is the case row as read, the body says what the move changes of it with ``rec.set`` and which rows
follow the event with ``rec.also`` (an advance's consent record); the case machine judges the time (a move dated
before its stage was entered is its refusal, not ``too_early``); the row is written compare-and-set on its version
(``events.move_rows``, shared with the bulk advance). A move changes the case row only, which
``audit.projection`` replays from the event itself, so its event carries no facts.

``record_in`` is the same without the transaction and the case read, for a case the caller has just created in
its own transaction (opening a case, the complex rollout: ``rec.from_stage`` None) or has just written (a case
brought in by ``case import``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Table, insert
from sqlmodel import Session, select

from eightstep.engine.actors import acting_role, checked_role
from eightstep.engine.cases import default_actor, editing, refuse_stale_or_withdrawn
from eightstep.engine.events import EVENTS, append_events, cas_statement, move_rows
from eightstep.engine.facts import CASE_TABLE, CASES, DROP, PUT, SET, Digest, fact_text, image, key_column
from eightstep.engine.permissions import check_permission
from eightstep.errors import ConflictError, InputError, NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.rules.rooms import normal_room
from eightstep.store import models, read, tables
from eightstep.store.files import FILE_COLUMNS, BlobStore
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, business_time, now_utc, show
from eightstep.workflow.loaded import LoadedWorkflow
from eightstep.workflow.schema import Workflow

FACTS = tables.event_facts
HOUSEHOLDS = tables.households
FACT_CHUNK = 2000  # facts held before they are written (a large import streams them)
_INSERT_EVENT = insert(EVENTS)


def households_of(session: Session, case_id: str) -> list[models.Household]:
    """The households of the case that count (not voided), in the order they were recorded."""
    return list(session.exec(select(models.Household).where(
        models.Household.case_id == case_id, models.not_voided(HOUSEHOLDS)).order_by(models.Household.id)))


def find_household(session: Session, case_id: str, room: str) -> models.Household:
    """The household of ``room`` in the case (the one lookup every record that names a room uses)."""
    household = session.exec(select(models.Household).where(
        models.Household.case_id == case_id, models.Household.room == room, models.not_voided(HOUSEHOLDS))).first()
    if household is None:  # another spelling of the same flat: ２０１, 201室
        try:
            normal = normal_room(room)
        except ValueError:
            normal = room
        if normal != room:
            household = session.exec(select(models.Household).where(
                models.Household.case_id == case_id, models.Household.room == normal,
                models.not_voided(HOUSEHOLDS))).first()
    if household is None:
        raise NotFoundError(_("case {case} has no room {room!r}").format(case=case_id, room=room),
                            remedy=Remedy("household.list", {"case": case_id}))
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

    db: Session | Connection  # the transaction: an ORM session; for a move, a Core connection
    case: Any  # models.Case; for a move, the case row as read (Core)
    loaded: LoadedWorkflow
    action: str
    at: datetime
    actor: str
    as_role: str | None
    details: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    changed: list[tuple[str, models.Base]] = field(default_factory=list)  # (PUT | DROP, row), in order
    events: list[tuple[str, str | None, dict[str, Any] | None]] = field(default_factory=list)  # several, if any
    from_stage: str | None = ""  # the event's; the case's stage at the start (None: opening the case)
    digest: Digest = field(default_factory=Digest)  # of the facts written so far
    _pending: list[str] = field(default_factory=list)
    _written: int = 0
    _seq: int = 0  # the (first) event's seq: the facts are its
    _case_before: dict[str, Any] = field(default_factory=dict)
    store: BlobStore | None = None  # the file store (``store_file``)
    created: list[str] = field(default_factory=list)  # files this recording put in the store first
    move: str | None = None  # a move of the case (engine.moves): its event's action
    sets: dict[str, Any] = field(default_factory=dict)  # what a move changes of the case row
    after: list[tuple[Table, dict[str, Any]]] = field(default_factory=list)  # rows a move writes after its event
    _session: Session | None = None  # a move's ORM session on its connection, made when asked

    def __post_init__(self) -> None:
        self.from_stage = self.case.stage
        self._seq = self.case.event_count + 1
        if self.move is None:
            self._case_before = image(CASE_TABLE, self.case)

    def entries(self) -> list[tuple[str, str | None, dict[str, Any] | None]]:
        """The events to write: ``events`` when the body set several (forms rendered together), else one."""
        return self.events or [(self.move or self.action, self.note, self.details)]

    def set(self, **columns: Any) -> None:
        """A move: set these columns of the case row (written with the event, compare-and-set on its version)."""
        self.sets.update(columns)

    def also(self, table: Table, values: dict[str, Any]) -> None:
        """A move: write this row after the event (an advance's consent record)."""
        self.after.append((table, values))

    @property
    def stage(self) -> str:
        """The case's stage as it will be at the end of the recording."""
        return str(self.sets.get("stage", self.case.stage))

    @property
    def version(self) -> int:
        """The case's version after the recording (pass it as ``expected_version`` to the next one)."""
        return int(self.case.version) + (1 if self.move is not None else 0)

    @property
    def session(self) -> Session:
        """The transaction's ORM session (a move's is made on its connection when first asked: a resume's litigation
        check)."""
        if isinstance(self.db, Session):
            return self.db
        if self._session is None:
            self._session = Session(bind=self.db)
        return self._session

    @property
    def conn(self) -> Connection:
        """The transaction's connection."""
        return self.db if isinstance(self.db, Connection) else self.db.connection()

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

    def store_file(self, path: Path) -> tuple[str, int]:
        """Copy ``path`` into the file store; (its SHA-256, its size). Should the recording fail, a file it was the
        first to store is removed again unless another record refers to it by then."""
        if self.store is None:
            raise RuntimeError("store_file needs the recording's workspace (use `recording`)")
        digest, size, created = self.store.add(path)
        if created:
            self.created.append(digest)
        return digest, size

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

    # --- the facts: what the history keeps of the rows written ------------------------------------------

    def write_facts(self, texts: list[str]) -> None:
        """Facts of this recording's event (``engine.facts.fact_text``) in order: for rows written with Core
        statements (a large import), in chunks; the rows staged with ``add``/``change``/``remove`` and the
        changes of the case row become facts by themselves at the end."""
        for text in texts:
            self.digest.add(text)
        self._pending.extend(texts)
        if len(self._pending) >= FACT_CHUNK:
            self._flush_facts()

    def _flush_facts(self) -> None:
        if self._pending:
            self.session.execute(insert(FACTS), [
                {"case_id": self.case.id, "seq": self._seq, "n": self._written + i, "fact": text}
                for i, text in enumerate(self._pending)])
            self._written += len(self._pending)
            self._pending = []

    def _staged_facts(self) -> list[str]:
        """The rows staged through ``rec`` and the columns of the case row that changed, as facts."""
        texts = []
        for op, row in self.changed:
            table = row.__table__
            key = getattr(row, key_column(table))
            texts.append(fact_text(table.name, op, key, image(table, row) if op == PUT else None))
        after = image(CASE_TABLE, self.case)
        moved = {name: value for name, value in after.items() if self._case_before.get(name) != value}
        if moved:
            texts.append(fact_text(CASES, SET, self.case.id, moved))
        return texts

    def _finish(self, granted: str | None) -> None:
        """Write the facts and the event(s); the facts' count and digest go in the (first) event. ``granted``: the
        role the permission check found the actor acting in (None: their role on record)."""
        if self.move is not None:
            self._finish_move(granted)
            return
        self.session.flush()  # the staged rows get their ids
        self.write_facts(self._staged_facts())
        role = granted or acting_role(self.conn, self.case.id, self.actor, self.as_role, self.at)
        append_events(self.session, self.case, self.entries(), at=self.at, actor=self.actor,
                      from_stage=self.from_stage, to_stage=self.case.stage, role=role,
                      facts=self.digest.summary() if self.digest.count else None)
        self._flush_facts()

    def _finish_move(self, granted: str | None) -> None:
        """A move: the case row (compare-and-set on the version read), its event, then the rows of ``also``."""
        conn = self.conn
        role = granted or acting_role(conn, self.case.id, self.actor, self.as_role, self.at)
        ((action, note, details),) = self.entries()
        cas, event = move_rows(self.case, action, self.sets, at=self.at, recorded_at=now_utc(), actor=self.actor,
                               note=note, details=details, role=role)
        if conn.execute(cas_statement(tuple(self.sets)), cas).rowcount != 1:
            raise ConflictError(_("case {case} was changed by someone else while this command ran; nothing was "
                                  "written. Look at the case and try again").format(case=self.case.id),
                                remedy=Remedy("case.show", {"case": self.case.id}))
        conn.execute(_INSERT_EVENT, event)
        for table, values in self.after:
            conn.execute(insert(table), values)


@contextmanager
def record_in(db: Session | Connection, case: Any, loaded: LoadedWorkflow, action: str, *,
              at: datetime | None = None, actor: str | None = None, as_role: str | None = None,
              validate: Callable[[Recording], None] | None = None, move: str | None = None) -> Iterator[Recording]:
    """A recording on ``case`` in the caller's transaction ``db`` (which commits or rolls back): an ORM session, or
    for a move a Core connection."""
    rec = Recording(db, case, loaded, action, business_time(at), default_actor(actor), checked_role(as_role),
                    move=move)
    granted = check_permission(rec.conn, loaded.definition, case.id, action, rec.actor, rec.as_role,
                               rec.at)
    if validate is not None:
        validate(rec)
    if move is None:  # a move's time is the case machine's to judge (before its stage: a refusal of the move)
        rec.dated(rec.at)
    yield rec
    rec._finish(granted)


@contextmanager
def recording(ws: Workspace, case_id: str, action: str, *, at: datetime | None = None, actor: str | None = None,
              as_role: str | None = None, expected_version: int | None = None, allow_withdrawn: bool = False,
              validate: Callable[[Recording], None] | None = None, move: str | None = None) -> Iterator[Recording]:
    """One transaction on one case ending with its one event (see the module's docstring); ``move``: a move of the
    case, the action of its event."""
    when = business_time(at)  # before the transaction: a bad time never takes the lock
    checked_role(as_role)
    created: list[str] = []
    opened = _moving(ws, case_id, expected_version) if move is not None else editing(
        ws, case_id, expected_version=expected_version, allow_withdrawn=allow_withdrawn)
    try:
        with opened as (db, case, loaded), record_in(db, case, loaded, action, at=when, actor=actor,
                                                          as_role=as_role, validate=validate, move=move) as rec:
            rec.store, rec.created = ws.files, created
            yield rec
    except BaseException:
        drop_unreferenced(ws, created)
        raise


@contextmanager
def _moving(ws: Workspace, case_id: str, expected_version: int | None
            ) -> Iterator[tuple[Connection, Any, LoadedWorkflow]]:
    """``editing`` for a move, on Core without the ORM: the case row as read (a move writes it with
    ``cas_statement``)."""
    with ws.transaction() as conn:  # a busy database or a duplicate event becomes ConflictError there
        case = read.case(conn, case_id)
        refuse_stale_or_withdrawn(case, expected_version)
        yield conn, case, read.workflow(conn, ws.workflows, case)


# Where records refer to stored files by their SHA-256.
FILE_REFERENCES = tuple((tables.metadata.tables[table], column) for table, column in FILE_COLUMNS)


def referenced(conn: Connection, digests: list[str]) -> set[str]:
    """Which of ``digests`` a record refers to."""
    found: set[str] = set()
    for table, column in FILE_REFERENCES:
        found.update(conn.execute(select(table.c[column]).where(table.c[column].in_(digests))).scalars())
    return found


def drop_unreferenced(ws: Workspace, digests: list[str]) -> None:
    """Remove from the file store what a failed recording put there first, unless a record refers to it (another
    command that stored the same file at the same moment and won)."""
    if not digests:
        return
    with ws.engine.connect() as conn:
        keep = referenced(conn, digests)
    for digest in digests:
        if digest not in keep:
            ws.files.remove(digest)
