"""Tamper evidence for the rows: each case's tables rebuilt from its history and compared, field by field.

``verify_records`` replays every case's events (``audit.projection``) and compares what they say with the rows
of ``cases`` (and the complex's name), households, ballots, documents, approvals, objections and their mediation
steps, funding, agreed shares, parties, canvass entries, schemes, scheme choices, roles, meetings and consent
records. Each difference is a ``RecordProblem`` naming the case, the table, the row and the field, with what the
history says and what the table holds: a row edited, added or deleted behind eightstep's back. Rows of a case
that does not exist are reported too. Each workflow snapshot is re-hashed (its key is the SHA-256 of its text),
and must be the one its cases were opened under.

It reads a batch of cases at a time, in one read transaction (a consistent snapshot while others write).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import BindParameter, Connection, Select, String, Table, bindparam, select, type_coerce
from sqlalchemy.types import DateTime

from eightstep.audit.projection import CONSENT_RECORDS, Projection
from eightstep.engine.facts import CASE_COLUMNS, CASE_TABLE, FACT_TABLES, key_column, stored, value_columns
from eightstep.i18n import _
from eightstep.store import models
from eightstep.store.read import batches
from eightstep.store.workspace import Workspace

EVENTS: Table = models.Event.__table__
FACTS: Table = models.EventFact.__table__
COMPLEXES: Table = models.Complex.__table__
SNAPSHOTS: Table = models.WorkflowSnapshot.__table__
OBJECTIONS: Table = models.Objection.__table__
MEDIATION = "mediation_steps"
ROW_TABLES = {name: table for name, table in FACT_TABLES.items() if name != CONSENT_RECORDS}
MISSING = "missing"  # in the history, not in the table
UNEXPECTED = "unexpected"  # in the table, not in the history
CHANGED = "changed"
REHASHED = "rehashed"  # a workflow snapshot whose text no longer hashes to its key
STALE = "stale"  # a cached guards' answer that a fresh check does not give
HISTORY = "history"  # the history itself cannot be replayed as written (its facts altered, an unreadable event)


@dataclass(frozen=True)
class RecordProblem:
    case_id: str | None
    table: str
    row: str | None  # the row's key ("12"), None for the case row itself
    field: str | None  # None: the whole row is missing or unexpected
    kind: str  # changed | missing | unexpected | rehashed | stale | history
    expected: Any = None  # what the history says
    actual: Any = None  # what the table holds

    @property
    def message(self) -> str:
        where = self.table if self.row is None else f"{self.table} #{self.row}"
        if self.kind == MISSING:
            return _("{where}: the history records it, the table has no such row (deleted)").format(where=where)
        if self.kind == UNEXPECTED:
            return _("{where}: the table holds it, the history never recorded it (added outside eightstep)").format(
                where=where)
        if self.kind == HISTORY:
            return f"{where}: {self.expected}"
        if self.kind == REHASHED:
            return _("{where}: its text no longer has the hash it is stored under (now {actual}): the rules the case "
                     "was opened under were edited").format(where=where, actual=str(self.actual)[:12])
        if self.kind == STALE:
            return _("{where}: the cached answer {actual} is not what the guards say now {expected}: an audit would "
                     "have been served it").format(where=where, actual=_short(self.actual),
                                                   expected=_short(self.expected))
        return _("{where} {field}: the history says {expected}, the table holds {actual}").format(
            where=where, field=self.field, expected=_short(self.expected), actual=_short(self.actual))

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "table": self.table, "row": self.row, "field": self.field, "kind": self.kind,
                "expected": self.expected, "actual": self.actual, "message": self.message}


def _short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, default=str)
    return text if len(text) <= 60 else text[:57] + "..."


def _raw(conn: Connection, table: Table, *extra: Any) -> list[Any]:
    """The columns of ``table`` read raw on SQLite (times as text), so that a doctored value is reported."""
    sqlite = conn.dialect.name == "sqlite"
    return [type_coerce(c, String).label(c.name) if sqlite and isinstance(c.type, DateTime) else c
            for c in table.columns] + list(extra)


@contextmanager
def snapshot(ws: Workspace) -> Iterator[Connection]:
    """A connection whose reads all see one state of the database while others write."""
    with ws.engine.connect() as conn:
        if conn.dialect.name == "postgresql":
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
        elif conn.dialect.name == "sqlite":
            conn.exec_driver_sql("BEGIN")  # a read transaction: WAL keeps its snapshot until it ends
        try:
            yield conn
        finally:
            conn.rollback()


def _by_case(conn: Connection, query: Select[Any], ids: Sequence[str]) -> dict[str, list[Any]]:
    out: dict[str, list[Any]] = {}
    for row in conn.execute(query, {"ids": ids}):
        out.setdefault(row.case_id, []).append(row)
    return out


def _queries(conn: Connection) -> dict[str, Select[Any]]:
    ids: BindParameter[Any] = bindparam("ids", expanding=True)
    queries: dict[str, Select[Any]] = {}
    for name, table in FACT_TABLES.items():
        if name == MEDIATION:
            queries[name] = (select(*_raw(conn, table, OBJECTIONS.c.case_id))
                             .join(OBJECTIONS, OBJECTIONS.c.id == table.c.objection_id)
                             .where(OBJECTIONS.c.case_id.in_(ids)))
        else:
            queries[name] = select(*_raw(conn, table)).where(table.c.case_id.in_(ids))
        queries[name] = queries[name].order_by(table.c[key_column(table)])
    queries["cases"] = (select(*_raw(conn, CASE_TABLE, CASE_TABLE.c.id.label("case_id"),
                                     COMPLEXES.c.name.label("complex_name")))
                        .outerjoin(COMPLEXES, COMPLEXES.c.id == CASE_TABLE.c.complex_id)
                        .where(CASE_TABLE.c.id.in_(ids)))
    queries["events"] = (select(EVENTS.c.case_id, EVENTS.c.seq, EVENTS.c.action,
                                type_coerce(EVENTS.c.business_at, String).label("business_at"), EVENTS.c.from_stage,
                                EVENTS.c.to_stage, EVENTS.c.note, EVENTS.c.details, EVENTS.c.facts)
                         .where(EVENTS.c.case_id.in_(ids)).order_by(EVENTS.c.case_id, EVENTS.c.seq))
    queries["facts"] = (select(FACTS.c.case_id, FACTS.c.seq, FACTS.c.fact).where(FACTS.c.case_id.in_(ids))
                        .order_by(FACTS.c.case_id, FACTS.c.seq, FACTS.c.n))
    return queries


def verify_records(ws: Workspace) -> tuple[int, list[RecordProblem]]:
    """(rows compared, every difference between the rows and the history), case by case."""
    problems: list[RecordProblem] = []
    compared = 0
    with snapshot(ws) as conn:
        case_ids: list[str] = sorted(conn.execute(select(CASE_TABLE.c.id)).scalars())
        queries = _queries(conn)
        stray_steps = {row.id: row for row in conn.execute(_stray_steps(conn))}  # their objection is gone
        for ids in batches(case_ids):  # the library's one batch size (store/read.py BATCH)
            read = {name: _by_case(conn, query, ids) for name, query in queries.items()}
            for case_id in ids:
                projection = replay(case_id, read["events"].get(case_id, []), read["facts"].get(case_id, []))
                claimed = [stray_steps.pop(key) for key in projection.rows.get(MEDIATION, {}) if key in stray_steps]
                read[MEDIATION].setdefault(case_id, []).extend(claimed)
                compared += _compare(projection, read, problems)
        problems.extend(_orphans(conn, set(stray_steps)))
        problems.extend(_snapshots(conn))
    return compared, problems


def replay(case_id: str, events: list[Any], facts: list[Any]) -> Projection:
    """The projection of one case from its events and their facts (rows of ``events`` and ``event_facts``)."""
    by_seq: dict[int, list[str]] = {}
    for fact in facts:
        by_seq.setdefault(fact.seq, []).append(fact.fact)
    projection = Projection(case_id)
    for event in events:
        projection.apply(event, by_seq.pop(event.seq, []))
    for seq in sorted(by_seq):
        projection.problems.append(_("rows of event {seq}, which does not exist").format(seq=seq))
    return projection


def _compare(projection: Projection, read: dict[str, dict[str, list[Any]]], out: list[RecordProblem]) -> int:
    case_id = projection.case_id
    for problem in projection.problems:
        out.append(RecordProblem(case_id, "event_facts", None, None, HISTORY, problem, None))
    compared = 0
    (case_row,) = read["cases"][case_id]
    actual_case = {name: stored(CASE_TABLE, name, getattr(case_row, name)) for name in CASE_COLUMNS}
    actual_case["complex"] = case_row.complex_name
    for name in ("complex", *CASE_COLUMNS):
        if projection.case.get(name) != actual_case[name]:
            out.append(RecordProblem(case_id, "cases", None, name, CHANGED, projection.case.get(name),
                                     actual_case[name]))
    for name, table in ROW_TABLES.items():
        expected = projection.rows.get(name, {})
        actual = {getattr(r, key_column(table)): r for r in read[name].get(case_id, [])}
        for key in sorted(set(expected) | set(actual), key=str):
            compared += 1
            if key not in actual:
                out.append(RecordProblem(case_id, name, str(key), None, MISSING))
            elif key not in expected:
                out.append(RecordProblem(case_id, name, str(key), None, UNEXPECTED))
            else:
                for column in value_columns(table):
                    have = stored(table, column, getattr(actual[key], column))
                    want = expected[key].get(column, added_later(table, column))
                    if have != want:
                        out.append(RecordProblem(case_id, name, str(key), column, CHANGED, want, have))
    consent = FACT_TABLES[CONSENT_RECORDS]
    actual_consent = [(r.stage, stored(consent, "at", r.at), _json(r.rule), _json(r.tally))
                      for r in read[CONSENT_RECORDS].get(case_id, [])]
    if actual_consent != projection.consent:
        out.append(RecordProblem(case_id, CONSENT_RECORDS, None, None, CHANGED,
                                 [c[:2] for c in projection.consent], [c[:2] for c in actual_consent]))
    return compared + 1


def added_later(table: Table, column: str) -> Any:
    """What a fact written before ``column`` existed stands for: the value the migration that added the column
    gave every existing row (its server default, as the column's scalar default), else None."""
    col = table.c[column]
    if col.server_default is not None and col.default is not None and col.default.is_scalar:
        return col.default.arg  # type: ignore[attr-defined]  # is_scalar: it has .arg
    return None


def _json(text: str | None) -> Any:
    try:
        return json.loads(text) if text is not None else None
    except ValueError:
        return text


def _stray_steps(conn: Connection) -> Select[Any]:
    """Mediation steps whose objection does not exist (it was deleted behind eightstep's back)."""
    steps = FACT_TABLES[MEDIATION]
    return (select(*_raw(conn, steps)).outerjoin(OBJECTIONS, OBJECTIONS.c.id == steps.c.objection_id)
            .where(OBJECTIONS.c.id.is_(None)))


def _orphans(conn: Connection, stray_steps: set[int]) -> Iterator[RecordProblem]:
    """Rows whose case does not exist (its case row deleted, or the rows made up), and mediation steps of no
    objection that no case's history claims."""
    for name, table in ROW_TABLES.items():
        if name == MEDIATION:
            continue
        query = (select(table.c.case_id, table.c[key_column(table)].label("key"))
                 .outerjoin(CASE_TABLE, CASE_TABLE.c.id == table.c.case_id).where(CASE_TABLE.c.id.is_(None))
                 .order_by(table.c[key_column(table)]))
        for row in conn.execute(query):
            yield RecordProblem(row.case_id, name, str(row.key), None, UNEXPECTED)
    steps = FACT_TABLES[MEDIATION]
    query = (select(steps.c.id, OBJECTIONS.c.case_id).join(OBJECTIONS, OBJECTIONS.c.id == steps.c.objection_id)
             .outerjoin(CASE_TABLE, CASE_TABLE.c.id == OBJECTIONS.c.case_id).where(CASE_TABLE.c.id.is_(None)))
    for row in conn.execute(query):
        yield RecordProblem(row.case_id, MEDIATION, str(row.id), None, UNEXPECTED)
    for step in sorted(stray_steps):
        yield RecordProblem(None, MEDIATION, str(step), None, UNEXPECTED)


def _snapshots(conn: Connection) -> Iterator[RecordProblem]:
    """Each workflow snapshot's text must hash to its key; each case's snapshot must exist."""
    used: dict[str, list[str]] = {}
    for row in conn.execute(select(CASE_TABLE.c.id, CASE_TABLE.c.workflow_sha256).order_by(CASE_TABLE.c.id)):
        used.setdefault(row.workflow_sha256, []).append(row.id)  # by name: an unpacked Row is typed object
    for row in conn.execute(select(SNAPSHOTS.c.sha256, SNAPSHOTS.c.content).order_by(SNAPSHOTS.c.sha256)):
        actual = hashlib.sha256((row.content or "").encode("utf-8")).hexdigest()
        for case_id in used.pop(row.sha256, [None]):
            if actual != row.sha256:
                yield RecordProblem(case_id, "workflow_snapshots", row.sha256[:12], "content", REHASHED,
                                    row.sha256, actual)
    for sha, cases in used.items():
        for case_id in cases:
            yield RecordProblem(case_id, "workflow_snapshots", sha[:12], None, MISSING)


