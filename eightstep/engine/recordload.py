"""The records the guards read, and nothing more, for many cases at once.

``tables_needed(stage)`` says which record tables the guards of a stage read, and which rows of them (the kinds
of documents and approvals it looks at). ``RecordLoader.load`` reads them for a batch of cases, each for its own
stage: one query per table (and set of kinds), only the columns the guards use (``GUARD_COLUMNS``), as SQLAlchemy
Core rows rather than ORM objects, and hands back each case's ``CaseRecords``. The bulk advance, the checks of
many cases (``engine.check_many``: audit, overview) and the move of one case (``engine.advance``) all read
through it.

The full records of a case, every column as ORM objects (listings, tallies, paperwork), are
``engine.load_records``.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Row, Select, Table, bindparam, select, type_coerce
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import Boolean, DateTime, String, TypeDecorator
from sqlmodel import SQLModel

from eightstep.engine import guards
from eightstep.engine.guards import CaseRecords
from eightstep.store import models
from eightstep.workflow.schema import Requirements, Stage

# The fields of ``CaseRecords``: what the guards may read.
RECORD_MODELS: dict[str, type[SQLModel]] = {
    "documents": models.Document, "approvals": models.Approval, "households": models.Household,
    "ballots": models.Ballot, "objections": models.Objection, "scheme_choices": models.SchemeChoice,
    "meetings": models.Meeting,
}
RECORD_TABLES: dict[str, Table] = {name: model.__table__ for name, model in RECORD_MODELS.items()}

# Which record tables each guard of ``guards.GUARDS`` reads for a stage, given its requirements, and which rows of
# them: the kinds it looks at, or None for every row of the case. A guard missing here gets every row of every
# table (slower, and still only the columns of GUARD_COLUMNS); tests/test_recordload.py fails until it is declared.
Reads = dict[str, frozenset[str] | None]
READS: dict[str, Callable[[Requirements], Reads]] = {
    "documents": lambda req: {"documents": frozenset(req.documents)} if req.documents else {},
    "notice": lambda req: {"documents": frozenset({req.notice.document})} if req.notice is not None else {},
    "approvals": lambda req: {"approvals": frozenset(req.approvals)} if req.approvals else {},
    "consent": lambda req: {"households": None, "ballots": None} if req.consent is not None else {},
    "objections": lambda req: {"objections": None} if req.no_open_objections else {},
    "scheme": lambda req: {"scheme_choices": None} if req.chosen_scheme else {},
    "meetings": lambda req: {"meetings": None} if req.meetings else {},
    "order": lambda req: _order_reads(req),
}


def _order_reads(req: Requirements) -> Reads:
    """The documents and approvals of the kinds a stage's order rules name."""
    kinds = frozenset(k for rule in req.order for k in (rule.earlier, rule.later))
    return {"documents": kinds, "approvals": kinds} if kinds else {}
KIND_FILTERED = frozenset({"documents", "approvals"})  # tables whose rows a read may limit to some kinds

# The columns the guards read of each record table (with case_id, to group the rows). Reading only these halves
# the cost of loading; a guard that reads another column fails loudly (AttributeError): add it here.
GUARD_COLUMNS: dict[str, tuple[str, ...]] = {
    "documents": ("id", "case_id", "kind", "issued_at"),
    "approvals": ("id", "case_id", "kind", "decision", "decided_at", "number"),
    "households": ("id", "case_id", "room", "floor", "owner", "owner_key", "area_centi", "co_owners", "affected"),
    "ballots": ("id", "case_id", "household_id", "choice", "cast_at", "signed_by"),
    "objections": ("id", "case_id", "room", "objector", "grounds", "written", "real_name", "lodged_at",
                   "resolved_at"),
    "scheme_choices": ("id", "case_id", "at"),
    "meetings": ("id", "case_id", "kinds", "held_at"),
}

# The times among GUARD_COLUMNS that the guards compare with the check time (records dated later are left out):
# what ``eightstep.engine.checkcache`` needs to know how far back a cached answer holds.
TIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "documents": ("issued_at",), "approvals": ("decided_at",), "ballots": ("cast_at",),
    "objections": ("lodged_at", "resolved_at"), "scheme_choices": ("at",), "meetings": ("held_at",),
}

Wanted = dict[tuple[str, frozenset[str] | None], list[str]]  # (table, kinds) -> the case ids to read it for
Loaded = dict[str, dict[str, list[Row[Any]]]]  # table -> case id -> its rows, in id order


def _merge(needed: Reads, table: str, kinds: frozenset[str] | None) -> None:
    """Add one guard's read of ``table`` to ``needed``: the union of the kinds, or None when any read wants all."""
    if table not in KIND_FILTERED:
        kinds = None
    if table not in needed:
        needed[table] = kinds
        return
    have = needed[table]
    needed[table] = None if have is None or kinds is None else have | kinds


def tables_needed(stage: Stage) -> Reads:
    """The record tables the guards of ``stage`` read, each with the kinds of rows they need (None: all)."""
    needed: Reads = {}
    for name in guards.GUARDS:
        reads = READS.get(name)
        wants: Reads = reads(stage.requires) if reads is not None else dict.fromkeys(RECORD_TABLES)
        for table, kinds in wants.items():
            if table in RECORD_TABLES:
                _merge(needed, table, kinds)
    return needed


class _StoredUTC(TypeDecorator[datetime]):
    """A time as SQLite stores it (UTC, no offset) read as an aware UTC datetime.

    The guards compare times with ``as_utc``, which costs ten times more on a naive datetime (``replace``) than on
    an aware one; parsing the stored text with its offset costs no more than SQLAlchemy's own parsing.
    """

    impl = String
    cache_ok = True

    def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if len(value) == 26:  # 2025-03-01 09:30:00.000000, as SQLAlchemy writes it
            return datetime.fromisoformat(value + "+00:00")
        parsed = datetime.fromisoformat(value)
        return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def light_columns(dialect: str, table: Table, names: tuple[str, ...]) -> list[ColumnElement[Any]]:
    """``names`` of ``table`` for a Core select; on SQLite its times are read as aware UTC datetimes."""
    columns: list[ColumnElement[Any]] = [table.c[n] for n in names]
    if dialect != "sqlite":
        return columns
    return [type_coerce(c, _StoredUTC()).label(c.name) if isinstance(c.type, DateTime) else c for c in columns]


@lru_cache(maxsize=256)
def _query(dialect: str, name: str, kinds: frozenset[str] | None) -> Select[Any]:
    """The rows of table ``name`` (of ``kinds``) of the cases bound to ``case_ids``: built once, reused."""
    table = RECORD_TABLES[name]
    query = select(*light_columns(dialect, table, GUARD_COLUMNS[name])).where(
        table.c.case_id.in_(bindparam("case_ids", expanding=True)))
    if kinds is not None:
        query = query.where(table.c.kind.in_(sorted(kinds)))
    return query.order_by(table.c.id)


def load_rows(conn: Connection, wanted: Wanted) -> Loaded:
    """Table -> case id -> rows, for the case ids each (table, kinds) is wanted for: one query per entry."""
    out: Loaded = {name: {} for name in RECORD_TABLES}
    sqlite = conn.dialect.name == "sqlite"
    for (name, kinds), ids in wanted.items():
        grouped = out[name]
        rows = _sqlite_rows(conn, name, kinds, ids) if sqlite else conn.execute(
            _query(conn.dialect.name, name, kinds), {"case_ids": ids}).all()
        for row in rows:
            grouped.setdefault(row.case_id, []).append(row)
    return out


# SQLite: the same rows read through the driver's own cursor, as named tuples with the columns' Python types
# (aware UTC times, bools). A district's bulk advance reads some 700,000 rows; SQLAlchemy's result rows cost
# about as much again as reading them.
_ROW_TYPES = {name: namedtuple(f"{name}_row", columns) for name, columns in GUARD_COLUMNS.items()}  # type: ignore[misc]


def _converters(name: str) -> tuple[tuple[int, Callable[[Any], Any]], ...]:
    table = RECORD_TABLES[name]
    out: list[tuple[int, Callable[[Any], Any]]] = []
    for i, column in enumerate(GUARD_COLUMNS[name]):
        kind = table.c[column].type
        if isinstance(kind, DateTime):
            out.append((i, _parse_stored))
        elif isinstance(kind, Boolean):
            out.append((i, _parse_bool))
    return tuple(out)


def _parse_stored(value: str | None) -> datetime | None:
    return _STORED_UTC.process_result_value(value, None)


def _parse_bool(value: int | None) -> bool | None:
    return None if value is None else bool(value)


_STORED_UTC = _StoredUTC()
_CONVERTERS = {name: _converters(name) for name in GUARD_COLUMNS}


def _sqlite_rows(conn: Connection, name: str, kinds: frozenset[str] | None, ids: list[str]) -> list[Any]:
    table = RECORD_TABLES[name]
    sql = (f"SELECT {', '.join(GUARD_COLUMNS[name])} FROM {table.name} "
           f"WHERE case_id IN ({', '.join('?' * len(ids))})")
    params: list[str] = list(ids)
    if kinds is not None:
        sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
        params.extend(sorted(kinds))
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]  # in conn's transaction
    try:
        raw = cursor.execute(sql + " ORDER BY id", params).fetchall()
    finally:
        cursor.close()
    make, converters = _ROW_TYPES[name]._make, _CONVERTERS[name]
    if not converters:
        return [make(r) for r in raw]
    out = []
    for r in raw:
        values = list(r)
        for i, convert in converters:
            values[i] = convert(values[i])
        out.append(make(values))
    return out


def records_of(loaded: Loaded, case_id: str, evidence_from: datetime | None = None) -> CaseRecords:
    """The ``CaseRecords`` of one case out of ``load_rows``' result (empty lists for the tables not read)."""
    return CaseRecords(**{name: rows.get(case_id, []) for name, rows in loaded.items()}, evidence_from=evidence_from)


@dataclass
class RecordLoader:
    """Reads the guards' records of batches of cases; remembers ``tables_needed`` of each stage it met."""

    _needed: dict[tuple[str, str], Reads] = field(default_factory=dict)  # (workflow sha256, stage id) -> reads

    def needed(self, workflow_sha256: str, stage: Stage) -> Reads:
        key = (workflow_sha256, stage.id)
        if key not in self._needed:
            self._needed[key] = tables_needed(stage)
        return self._needed[key]

    def load(self, conn: Connection, cases: Iterable[tuple[Any, Stage]]) -> dict[str, CaseRecords]:
        """Case id -> its records, for each (case, stage): one query per table needed. A case is anything with
        ``id``, ``workflow_sha256`` and ``evidence_from`` (a row of ``cases`` or a ``Case``)."""
        wanted: Wanted = {}
        since: dict[str, datetime | None] = {}
        for case, stage in cases:
            since[case.id] = case.evidence_from
            for read in self.needed(case.workflow_sha256, stage).items():
                wanted.setdefault(read, []).append(case.id)
        loaded = load_rows(conn, wanted)
        return {case_id: records_of(loaded, case_id, evidence_from) for case_id, evidence_from in since.items()}
