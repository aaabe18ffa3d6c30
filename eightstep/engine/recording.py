"""The one way to record something in a case: ``recording``.

Every recording command (a ballot, a document, a role, a party, a render, ...) is one transaction on one case
that ends with exactly one event of the case's hash-chained history::

    with recording(ws, case_id, "vote.cast", at=at, actor=actor, as_role=as_role, core=True) as rec:
        household = rec.household(room)
        rec.add(rows.Ballot(case_id=case_id, household_id=household.id, choice=choice, cast_at=rec.at, ...))
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

With ``core=True`` (ballots, canvass visits, documents, approvals, meetings, objections: issue 15) it is on Core
too: the body adds rows of ``eightstep.store.rows``, written with Core when added; ``rec.case`` is a ``rows.Case``
whose changed columns are written compare-and-set with the event. The same rows, facts and events as the ORM's
(tests/test_recording_core.py), without importing sqlalchemy.orm, sqlmodel or the model classes.

``record_in`` is the same without the transaction and the case read, for a case the caller has just created in
its own transaction (opening a case, the complex rollout: ``rec.from_stage`` None) or has just written (a case
brought in by ``case import``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, Table, delete, insert, update

from eightstep.engine.actors import acting_role, checked_role
from eightstep.engine.cases import default_actor, editing, editing_on_core, too_early
from eightstep.engine.events import EVENTS, append_events, cas_statement, chain_rows, move_rows
from eightstep.engine.facts import CASE_TABLE, CASES, DROP, PUT, SET, Digest, fact_text, image, key_column
from eightstep.engine.households import find_household, households_of
from eightstep.engine.permissions import check_permission
from eightstep.errors import ConflictError, InputError, Remedy
from eightstep.i18n import _
from eightstep.store import rows, tables
from eightstep.store.files import FILE_REFERENCES, BlobStore, drop_unreferenced
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, business_time, now_utc
from eightstep.workflow.loaded import LoadedWorkflow

if TYPE_CHECKING:  # the ORM only for the recordings that write ORM objects (``core=False``): start-up, issue 15
    from sqlmodel import Session

    from eightstep.workflow.schema import Workflow

__all__ = ["FILE_REFERENCES", "Recording", "drop_unreferenced", "find_household", "households_of", "record_in",
           "recording", "too_early"]

FACTS = tables.event_facts
FACT_CHUNK = 2000  # facts held before they are written (a large import streams them)
_INSERT_EVENT = insert(EVENTS)


@dataclass
class Recording:
    """One recording in progress: the case, its rules, when, who, and what the event will say."""

    db: Session | Connection  # the transaction: an ORM session; on Core (a move, ``core=True``) a connection
    case: Any  # models.Case; on Core a rows.Case (a move: the case row as read)
    loaded: LoadedWorkflow
    action: str
    at: datetime
    actor: str
    as_role: str | None
    details: dict[str, Any] = field(default_factory=dict)
    note: str | None = None
    changed: list[tuple[str, Any]] = field(default_factory=list)  # (PUT | DROP, row), in order
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
    _session: Session | None = None  # an ORM session on the Core connection, made when asked
    _case_row: dict[str, Any] = field(default_factory=dict)  # on Core: the case row's columns as read

    def __post_init__(self) -> None:
        self.from_stage = self.case.stage
        self._seq = self.case.event_count + 1
        if self.move is None:
            self._case_before = image(CASE_TABLE, self.case)
            if self.on_core:
                self._case_row = {c.key: getattr(self.case, c.key) for c in CASE_TABLE.columns}

    @property
    def on_core(self) -> bool:
        """The transaction is a Core connection (a move; a recording with ``core=True``): rows of
        ``eightstep.store.rows`` are written with Core statements, without the ORM."""
        return isinstance(self.db, Connection)

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
        """The transaction's ORM session (on Core, one is made on the connection when first asked: a recording on
        Core that still writes an ORM object)."""
        if not isinstance(self.db, Connection):
            return self.db
        if self._session is None:
            from sqlmodel import Session

            self._session = Session(bind=self.db)
        return self._session

    @property
    def conn(self) -> Connection:
        """The transaction's connection."""
        return self.db if isinstance(self.db, Connection) else self.db.connection()

    def execute(self, statement: Any, params: Any = None) -> Any:
        """Run a Core statement in the transaction: through the ORM session when there is one (its pending rows
        are written first, as its own queries do), else on the connection."""
        return (self.db if self._session is None else self._session).execute(statement, params)

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

    def household(self, room: str) -> Any:
        """The household of ``room`` (``households.find_household``): a ``rows.Household`` on Core."""
        return find_household(self.db if self._session is None else self._session, self.case.id, room)

    def add(self, row: Any, *, with_id: bool = False) -> Any:
        """Stage a new row of the case (an ORM object; on Core a ``rows.Row``, written now, its id filled in);
        ``with_id``: write it now, so that its id is known on return (the database's write lock is then taken here
        rather than at the end)."""
        if isinstance(row, rows.Row):
            self._insert(row)
        else:
            self.session.add(row)
            if with_id:
                self.session.flush()
        self.changed.append((PUT, row))
        return row

    def add_all(self, new: list[Any]) -> None:
        """Stage many new rows of the case."""
        for row in new:
            self.add(row)

    def change(self, row: Any, **values: Any) -> Any:
        """Set ``values`` on an existing row of the case and write it (the case row itself is written at the end,
        with the event)."""
        for name, value in values.items():
            setattr(row, name, value)
        if isinstance(row, rows.Row):
            if row is not self.case:
                table, key = row.__table__, row.key_column()
                self.execute(update(table).where(table.c[key] == getattr(row, key)).values(values))
        else:
            self.session.add(row)
        self.changed.append((PUT, row))
        return row

    def remove(self, row: Any) -> None:
        if isinstance(row, rows.Row):
            table, key = row.__table__, row.key_column()
            self.execute(delete(table).where(table.c[key] == getattr(row, key)))
        else:
            self.session.delete(row)
        self.changed.append((DROP, row))

    def _insert(self, row: rows.Row) -> None:
        """Write a new ``rows.Row`` with Core; its key, when the database gives it, is set on it."""
        if not self.on_core:
            raise RuntimeError("rows.Row is written on Core: open the recording with core=True")
        result = self.execute(insert(row.__table__).values(row.values()))
        key = row.key_column()
        if getattr(row, key) is None:
            setattr(row, key, result.inserted_primary_key[0])

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
            self.execute(insert(FACTS), [
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
        if self._session is not None or not self.on_core:
            self.session.flush()  # the staged rows get their ids
        self.write_facts(self._staged_facts())
        role = granted or acting_role(self.conn, self.case.id, self.actor, self.as_role, self.at)
        facts = self.digest.summary() if self.digest.count else None
        if self.on_core:
            self._append_on_core(role, facts)
        else:
            append_events(self.session, self.case, self.entries(), at=self.at, actor=self.actor,
                          from_stage=self.from_stage, to_stage=self.case.stage, role=role, facts=facts)
        self._flush_facts()

    def _append_on_core(self, role: str | None, facts: str | None) -> None:
        """``events.append_events`` on Core: the case row's changed columns and its new chain head written
        compare-and-set on the version read (what the ORM's version counter does), then the events."""
        case = self.case
        seen = case.version
        events = chain_rows(case, self.entries(), at=self.at, actor=self.actor, from_stage=self.from_stage,
                            to_stage=case.stage, role=role, facts=facts)
        sets = {name: getattr(case, name) for name, value in self._case_row.items()
                if name not in _CHAIN and getattr(case, name) != value}
        # The ORM wrote a case row the body changed twice (its columns, then the chain head), each write counting on
        # ``version``: the same count here, so that ``expected_version`` means what it did.
        version = seen + (2 if sets else 1)
        cas = {"b_id": case.id, "b_seen": seen, "b_seq": case.event_count, "b_hash": case.last_hash,
               "b_version": version, **{f"b_{name}": value for name, value in sets.items()}}
        if self.execute(cas_statement(tuple(sets)), cas).rowcount != 1:
            raise _lost_race(case.id)
        case.version = version
        self.execute(_INSERT_EVENT, events)

    def _finish_move(self, granted: str | None) -> None:
        """A move: the case row (compare-and-set on the version read), its event, then the rows of ``also``."""
        conn = self.conn
        role = granted or acting_role(conn, self.case.id, self.actor, self.as_role, self.at)
        ((action, note, details),) = self.entries()
        cas, event = move_rows(self.case, action, self.sets, at=self.at, recorded_at=now_utc(), actor=self.actor,
                               note=note, details=details, role=role)
        if conn.execute(cas_statement(tuple(self.sets)), cas).rowcount != 1:
            raise _lost_race(self.case.id)
        conn.execute(_INSERT_EVENT, event)
        for table, values in self.after:
            conn.execute(insert(table), values)


_CHAIN = frozenset({"event_count", "last_hash", "version"})  # the case row's columns the events themselves set


def _lost_race(case_id: str) -> ConflictError:
    return ConflictError(_("case {case} was changed by someone else while this command ran; nothing was written. "
                           "Look at the case and try again").format(case=case_id),
                         remedy=Remedy("case.show", {"case": case_id}))


@contextmanager
def record_in(db: Session | Connection, case: Any, loaded: LoadedWorkflow, action: str, *,
              at: datetime | None = None, actor: str | None = None, as_role: str | None = None,
              validate: Callable[[Recording], None] | None = None, move: str | None = None) -> Iterator[Recording]:
    """A recording on ``case`` in the caller's transaction ``db`` (which commits or rolls back): an ORM session, or
    a Core connection (a move; ``case`` a ``rows.Case`` otherwise)."""
    rec = Recording(db, case, loaded, action, business_time(at), default_actor(actor), checked_role(as_role),
                    move=move)
    granted = check_permission(rec.conn, loaded, case.id, action, rec.actor, rec.as_role, rec.at)
    if validate is not None:
        validate(rec)
    if move is None:  # a move's time is the case machine's to judge (before its stage: a refusal of the move)
        rec.dated(rec.at)
    yield rec
    rec._finish(granted)


@contextmanager
def recording(ws: Workspace, case_id: str, action: str, *, at: datetime | None = None, actor: str | None = None,
              as_role: str | None = None, expected_version: int | None = None, allow_withdrawn: bool = False,
              validate: Callable[[Recording], None] | None = None, move: str | None = None,
              core: bool = False) -> Iterator[Recording]:
    """One transaction on one case ending with its one event (see the module's docstring); ``move``: a move of the
    case, the action of its event; ``core``: the body writes ``eightstep.store.rows`` rows, on a Core transaction
    (no ORM imported)."""
    when = business_time(at)  # before the transaction: a bad time never takes the lock
    checked_role(as_role)
    created: list[str] = []
    opened: AbstractContextManager[tuple[Any, Any, LoadedWorkflow]]
    if move is not None or core:  # a move is never of a withdrawn case
        opened = editing_on_core(ws, case_id, expected_version=expected_version,
                                 allow_withdrawn=allow_withdrawn and move is None, move=move is not None)
    else:
        opened = editing(ws, case_id, expected_version=expected_version, allow_withdrawn=allow_withdrawn)
    try:
        with opened as (db, case, loaded), record_in(db, case, loaded, action, at=when, actor=actor,
                                                          as_role=as_role, validate=validate, move=move) as rec:
            rec.store, rec.created = ws.files, created
            yield rec
    except BaseException:
        drop_unreferenced(ws, created)
        raise
