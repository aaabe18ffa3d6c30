"""Tamper evidence: recompute every case's event hash chain and re-hash every stored document file.

Each event's hash covers all of its fields and the previous event's hash (``history.event_hash``); the case row
keeps the chain head (``event_count``, ``last_hash``). Per case, the first problem found is reported:

* ``deleted``  – a gap in ``seq`` (1..n), or the log ends before the head recorded on the case row;
* ``inserted`` – events beyond the head recorded on the case row, or events of a case that does not exist;
* ``altered``  – an event whose stored hash is not the hash of its fields, or whose ``prev_hash`` is not the
  previous event's hash (the previous event was rewritten with a fresh hash), or a head hash that differs.

A forger who rewrites an event, every later hash *and* the case row's head cannot be caught from inside the
database: only a copy of the head kept elsewhere (a printed report, a second system) can catch that.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import String, select, type_coerce

from eightstep.history import GENESIS, event_hash
from eightstep.store import models
from eightstep.workspace import Workspace

DELETED = "deleted"
INSERTED = "inserted"
ALTERED = "altered"
_BATCH = 2000


@dataclass(frozen=True)
class ChainProblem:
    case_id: str
    seq: int
    kind: str  # deleted | inserted | altered
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "seq": self.seq, "kind": self.kind, "message": self.message}


@dataclass(frozen=True)
class FileProblem:
    case_id: str
    document_id: int
    kind: str
    original_name: str
    sha256: str
    problem: str  # "missing" or "changed (now ...)"

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "document": self.document_id, "kind": self.kind,
                "file": self.original_name, "sha256": self.sha256, "problem": self.problem}


@dataclass
class VerifyReport:
    cases: int = 0
    events: int = 0
    documents: int = 0
    files: int = 0
    chain_problems: list[ChainProblem] = field(default_factory=list)
    file_problems: list[FileProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.chain_problems and not self.file_problems

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events, "documents": self.documents,
                "files": self.files, "chain_problems": [p.as_dict() for p in self.chain_problems],
                "file_problems": [p.as_dict() for p in self.file_problems]}


class _Chain:
    """Walks one case's events in ``seq`` order and remembers the first problem."""

    def __init__(self, case_id: str, head_count: int | None, head_hash: str | None) -> None:
        self.case_id = case_id
        self.head_count = head_count  # None: no case row
        self.head_hash = head_hash
        self.expected = 1
        self.prev = GENESIS
        self.problem: ChainProblem | None = None

    def fail(self, seq: int, kind: str, message: str) -> None:
        if self.problem is None:
            self.problem = ChainProblem(self.case_id, seq, kind, message)

    def feed(self, row: Any) -> None:
        if self.problem is not None:
            return
        seq = row.seq
        if self.head_count is None:
            self.fail(seq, INSERTED, f"event {seq} belongs to case {self.case_id}, which does not exist")
        elif seq > self.head_count:
            self.fail(seq, INSERTED, f"event {seq} is beyond the chain head: the case records {self.head_count} "
                      "events, so it was added outside eightstep")
        elif seq != self.expected:
            missing = f"{self.expected}" if seq == self.expected + 1 else f"{self.expected}-{seq - 1}"
            self.fail(self.expected, DELETED, f"event {missing} is missing: the log jumps from "
                      f"{self.expected - 1} to {seq}")
        elif row.prev_hash != self.prev:
            self.fail(seq, ALTERED, f"event {seq} does not link to event {seq - 1}: one of them was rewritten "
                      "with a fresh hash" if seq > 1 else "event 1 does not start the chain (its prev_hash was "
                      "rewritten)")
        else:
            try:
                actual = event_hash(row.case_id, seq, _instant(row.business_at), _instant(row.recorded_at),
                                    row.actor, row.action, row.from_stage, row.to_stage, row.note, row.details,
                                    row.prev_hash)
            except (TypeError, ValueError):
                actual = None  # a value eightstep could never have written
            if actual != row.hash:
                self.fail(seq, ALTERED, f"event {seq} ({row.action}) was altered: its content no longer matches "
                          "its hash")
        self.expected = seq + 1
        self.prev = row.hash

    def finish(self) -> ChainProblem | None:
        if self.problem is None and self.head_count is not None:
            last = self.expected - 1
            if last < self.head_count:
                gone = f"{last + 1}" if last + 1 == self.head_count else f"{last + 1}-{self.head_count}"
                self.fail(last + 1, DELETED, f"event {gone} is missing: the case records {self.head_count} events, "
                          f"the log ends at {last}")
            elif (self.head_hash or GENESIS) != (self.prev if last else GENESIS):
                self.fail(last, ALTERED, f"the chain head recorded on the case does not match event {last}")
        return self.problem


def _instant(value: datetime | str) -> datetime:
    """A stored time: read raw (as text on SQLite) so that a doctored value is reported, not a crash."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def _events(ws: Workspace) -> Iterator[Any]:
    """Every event, case by case in ``seq`` order, streamed in batches (never the whole log in memory)."""
    table = models.Event.__table__
    query = select(table.c.case_id, table.c.seq, type_coerce(table.c.business_at, String).label("business_at"),
                   type_coerce(table.c.recorded_at, String).label("recorded_at"), table.c.actor,
                   table.c.action, table.c.from_stage, table.c.to_stage, table.c.note, table.c.details,
                   table.c.prev_hash, table.c.hash).order_by(table.c.case_id, table.c.seq)
    with ws.engine.connect() as conn:
        result = conn.execution_options(yield_per=_BATCH).execute(query)
        yield from result


def verify_chains(ws: Workspace, report: VerifyReport) -> None:
    cases_table = models.Case.__table__
    with ws.engine.connect() as conn:
        heads = {r.id: (r.event_count, r.last_hash) for r in conn.execute(
            select(cases_table.c.id, cases_table.c.event_count, cases_table.c.last_hash))}
    report.cases = len(heads)
    seen: set[str] = set()
    chain: _Chain | None = None

    def close(current: _Chain | None) -> None:
        if current is not None and (problem := current.finish()) is not None:
            report.chain_problems.append(problem)

    for row in _events(ws):
        report.events += 1
        if chain is None or row.case_id != chain.case_id:
            close(chain)
            seen.add(row.case_id)
            count, last = heads.get(row.case_id, (None, None))
            chain = _Chain(row.case_id, count, last)
        chain.feed(row)
    close(chain)
    for case_id in sorted(set(heads) - seen):  # cases whose every event was deleted
        close(_Chain(case_id, *heads[case_id]))
    report.chain_problems.sort(key=lambda p: (p.case_id, p.seq))


def verify_files(ws: Workspace, report: VerifyReport) -> None:
    """Re-hash each stored file once, and report it for every document that refers to it."""
    table = models.Document.__table__
    verdicts: dict[str, str | None] = {}
    with ws.engine.connect() as conn:
        rows = conn.execute(select(table.c.id, table.c.case_id, table.c.kind, table.c.original_name,
                                   table.c.sha256).order_by(table.c.case_id, table.c.id))
        for row in rows:
            report.documents += 1
            if row.sha256 not in verdicts:
                verdicts[row.sha256] = ws.files.verify(row.sha256)
            problem = verdicts[row.sha256]
            if problem is not None:
                report.file_problems.append(FileProblem(row.case_id, row.id, row.kind, row.original_name,
                                                        row.sha256, problem))
    report.files = len(verdicts)


def verify(ws: Workspace) -> VerifyReport:
    """Check every case's history and every stored file; ``report.ok`` is False when anything is broken."""
    report = VerifyReport()
    verify_chains(ws, report)
    verify_files(ws, report)
    return report
