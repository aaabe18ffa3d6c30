"""Tamper evidence: recompute every case's event hash chain and re-hash every stored file (documents, scheme
proposals, meeting minutes).

Each event's hash covers all of its fields and the previous event's hash (``history.event_hash``); the case row
keeps the chain head (``event_count``, ``last_hash``). Per case, the first problem found is reported:

* ``deleted``  – a gap in ``seq`` (1..n), or the log ends before the head recorded on the case row;
* ``inserted`` – events beyond the head recorded on the case row, or events of a case that does not exist;
* ``altered``  – an event whose stored hash is not the hash of its fields, or whose ``prev_hash`` is not the
  previous event's hash (the previous event was rewritten with a fresh hash), or a head hash that differs.

A forger who rewrites an event, every later hash *and* the case row's head cannot be caught from inside the
database: only a copy of the head kept elsewhere (a printed report, a second system) can catch that.

Every file a record refers to by its SHA-256 is re-hashed once: a document's scan, a scheme's proposal
(``schemes.file_sha256``), a meeting's minutes (``meetings.file_sha256``), an approval's decision
(``approvals.file_sha256``). A changed or missing file is reported
for every record that refers to it, with its case and what it is.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Row, String, literal, null, select, type_coerce

from eightstep.audit.anchor import AnchorCheck, check_anchor
from eightstep.audit.signatures import SignatureCheck, check_signatures
from eightstep.engine.events import GENESIS, event_hash
from eightstep.i18n import _
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import show

DELETED = "deleted"
INSERTED = "inserted"
ALTERED = "altered"
_BATCH = 2000
Progress = Callable[[str, int, int], None]
"""Called as the work goes on with the phase (``"events"``, then ``"files"``), how much is done and the total."""


@dataclass(frozen=True)
class ChainProblem:
    case_id: str
    seq: int
    kind: str  # deleted | inserted | altered
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "seq": self.seq, "kind": self.kind, "message": self.message}


DOCUMENT = "document"
SCHEME = "scheme"
MEETING = "meeting"
APPROVAL = "approval"
SCHEME_FILE = "scheme_proposal"  # the ``kind`` of a scheme's file
MEETING_FILE = "meeting_minutes"  # the ``kind`` of a meeting's file


@dataclass(frozen=True)
class FileProblem:
    case_id: str
    record: str  # document | scheme | meeting | approval: the table of the record that refers to the file
    record_id: int
    kind: str  # the document or approval kind, or scheme_proposal, meeting_minutes
    original_name: str
    sha256: str
    problem: str  # "missing" or "changed (now ...)"
    about: str | None = None  # the scheme's company, the meeting's date

    @property
    def document_id(self) -> int:
        """The record's id (named for documents, which were the only files once)."""
        return self.record_id

    @property
    def what(self) -> str:
        """What the file is, for people: "document #3 site_survey", "scheme #2 proposal (湖北梯安…)", ..."""
        if self.record in (DOCUMENT, APPROVAL):
            return f"{self.record} #{self.record_id} {self.kind}"
        noun = "proposal" if self.record == SCHEME else "minutes"
        return f"{self.record} #{self.record_id} {noun}" + (f" ({self.about})" if self.about else "")

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "record": self.record, "id": self.record_id,
                "document": self.record_id if self.record == DOCUMENT else None, "kind": self.kind,
                "what": self.what, "file": self.original_name, "sha256": self.sha256, "problem": self.problem}


@dataclass
class VerifyReport:
    cases: int = 0
    events: int = 0
    documents: int = 0
    schemes: int = 0  # schemes with a proposal file
    meetings: int = 0  # meetings with minutes
    approvals: int = 0  # approvals with their decision's file
    files: int = 0  # distinct stored files re-hashed
    chain_problems: list[ChainProblem] = field(default_factory=list)
    file_problems: list[FileProblem] = field(default_factory=list)
    anchor: AnchorCheck | None = None  # the comparison with an anchor kept elsewhere (eightstep.audit.anchor)
    signatures: SignatureCheck | None = None  # with EIGHTSTEP_SIGNING_KEY set (eightstep.audit.signatures)
    rows: int = 0  # rows compared with what their case's history says (eightstep.audit.rows)
    cache_entries: int = 0  # cached guards' answers checked afresh (eightstep.audit.cache)
    record_problems: list[Any] = field(default_factory=list)  # audit.rows.RecordProblem: rows and cache
    unreferenced_files: list[Any] = field(default_factory=list)  # audit.content.Unreferenced: listed, not a failure

    @property
    def ok(self) -> bool:
        return (not self.chain_problems and not self.file_problems and not self.record_problems
                and (self.anchor is None or self.anchor.ok) and (self.signatures is None or self.signatures.ok))

    def as_dict(self) -> dict[str, Any]:
        return {"ok": self.ok, "cases": self.cases, "events": self.events, "documents": self.documents,
                "schemes": self.schemes, "meetings": self.meetings, "approvals": self.approvals, "files": self.files,
                "chain_problems": [p.as_dict() for p in self.chain_problems],
                "file_problems": [p.as_dict() for p in self.file_problems], "rows": self.rows,
                "cache_entries": self.cache_entries,
                "record_problems": [p.as_dict() for p in self.record_problems],
                "unreferenced_files": [p.as_dict() for p in self.unreferenced_files],
                **({"anchor": self.anchor.as_dict()} if self.anchor is not None else {}),
                **({"signatures": self.signatures.as_dict()} if self.signatures is not None else {})}


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
            self.fail(seq, INSERTED, _("event {seq} belongs to case {case}, which does not exist").format(
                seq=seq, case=self.case_id))
        elif seq > self.head_count:
            self.fail(seq, INSERTED, _("event {seq} is beyond the chain head: the case records {count} events, so "
                                          "it was added outside eightstep").format(seq=seq, count=self.head_count))
        elif seq != self.expected:
            missing = f"{self.expected}" if seq == self.expected + 1 else f"{self.expected}-{seq - 1}"
            self.fail(self.expected, DELETED, _("event {missing} is missing: the log jumps from {last} to "
                                                "{seq}").format(missing=missing, last=self.expected - 1, seq=seq))
        elif row.prev_hash != self.prev:
            self.fail(seq, ALTERED, _("event {seq} does not link to event {previous}: one of them was rewritten with "
                                         "a fresh hash").format(seq=seq, previous=seq - 1) if seq > 1
                      else _("event 1 does not start the chain (its prev_hash was rewritten)"))
        else:
            try:
                actual = event_hash(row.case_id, seq, _instant(row.business_at), _instant(row.recorded_at),
                                    row.actor, row.action, row.from_stage, row.to_stage, row.note, row.details,
                                    row.prev_hash, row.facts)
            except (TypeError, ValueError):
                actual = None  # a value eightstep could never have written
            if actual != row.hash:
                self.fail(seq, ALTERED, _("event {seq} ({action}) was altered: its content no longer matches its "
                                            "hash").format(seq=seq, action=row.action))
        self.expected = seq + 1
        self.prev = row.hash

    def finish(self) -> ChainProblem | None:
        if self.problem is None and self.head_count is not None:
            last = self.expected - 1
            if last < self.head_count:
                gone = f"{last + 1}" if last + 1 == self.head_count else f"{last + 1}-{self.head_count}"
                self.fail(last + 1, DELETED, _("event {gone} is missing: the case records {count} events, the log "
                                               "ends at {last}").format(gone=gone, count=self.head_count, last=last))
            elif (self.head_hash or GENESIS) != (self.prev if last else GENESIS):
                self.fail(last, ALTERED, _("the chain head recorded on the case does not match event {last}").format(
                    last=last))
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
                   table.c.prev_hash, table.c.hash, table.c.facts).order_by(table.c.case_id, table.c.seq)
    with ws.engine.connect() as conn:
        result = conn.execution_options(yield_per=_BATCH).execute(query)
        yield from result


def verify_chains(ws: Workspace, report: VerifyReport, progress: Progress | None = None) -> None:
    cases_table = models.Case.__table__
    with ws.engine.connect() as conn:
        heads = {r.id: (r.event_count, r.last_hash) for r in conn.execute(
            select(cases_table.c.id, cases_table.c.event_count, cases_table.c.last_hash))}
    report.cases = len(heads)
    total = sum(count or 0 for count, _last in heads.values())
    seen: set[str] = set()
    chain: _Chain | None = None

    def close(current: _Chain | None) -> None:
        if current is not None and (problem := current.finish()) is not None:
            report.chain_problems.append(problem)

    for row in _events(ws):
        report.events += 1
        if progress is not None and report.events % _BATCH == 0:
            progress("events", report.events, max(total, report.events))
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
    if progress is not None:
        progress("events", report.events, max(total, report.events))


def _file_rows(conn: Connection) -> Iterator[tuple[str, Row[Any]]]:
    """(record, row) of every record that refers to a stored file: each row has id, case_id, kind, name, sha256
    and about."""
    docs = models.Document.__table__
    yield from ((DOCUMENT, r) for r in conn.execute(
        select(docs.c.id, docs.c.case_id, docs.c.kind, docs.c.original_name.label("name"), docs.c.sha256,
               null().label("about")).order_by(docs.c.case_id, docs.c.id)))
    schemes = models.Scheme.__table__
    yield from ((SCHEME, r) for r in conn.execute(
        select(schemes.c.id, schemes.c.case_id, literal(SCHEME_FILE).label("kind"), schemes.c.file_name.label("name"),
               schemes.c.file_sha256.label("sha256"), schemes.c.company.label("about"))
        .where(schemes.c.file_sha256.is_not(None)).order_by(schemes.c.case_id, schemes.c.id)))
    meetings = models.Meeting.__table__
    yield from ((MEETING, r) for r in conn.execute(
        select(meetings.c.id, meetings.c.case_id, literal(MEETING_FILE).label("kind"),
               meetings.c.file_name.label("name"), meetings.c.file_sha256.label("sha256"),
               meetings.c.held_at.label("about"))
        .where(meetings.c.file_sha256.is_not(None)).order_by(meetings.c.case_id, meetings.c.id)))
    approvals = models.Approval.__table__
    yield from ((APPROVAL, r) for r in conn.execute(
        select(approvals.c.id, approvals.c.case_id, approvals.c.kind, approvals.c.file_name.label("name"),
               approvals.c.file_sha256.label("sha256"), approvals.c.authority.label("about"))
        .where(approvals.c.file_sha256.is_not(None)).order_by(approvals.c.case_id, approvals.c.id)))


_RECORD_ORDER = {DOCUMENT: 0, SCHEME: 1, MEETING: 2, APPROVAL: 3}


def verify_files(ws: Workspace, report: VerifyReport, progress: Progress | None = None) -> None:
    """Re-hash each stored file once, and report it for every record (document, scheme, meeting) referring to it."""
    verdicts: dict[str, str | None] = {}
    counts = {DOCUMENT: 0, SCHEME: 0, MEETING: 0, APPROVAL: 0}
    with ws.engine.connect() as conn:
        total = sum(1 for _row in _file_rows(conn)) if progress is not None else 0
        for done, (record, row) in enumerate(_file_rows(conn), 1):
            if progress is not None and (done % 100 == 0 or done == total):
                progress("files", done, total)
            counts[record] += 1
            if row.sha256 not in verdicts:
                verdicts[row.sha256] = ws.files.verify(row.sha256)
            problem = verdicts[row.sha256]
            if problem is not None:
                about = show(row.about) if isinstance(row.about, datetime) else row.about
                report.file_problems.append(FileProblem(row.case_id, record, row.id, row.kind, row.name or "",
                                                        row.sha256, problem, about))
    report.documents, report.schemes, report.meetings = counts[DOCUMENT], counts[SCHEME], counts[MEETING]
    report.approvals = counts[APPROVAL]
    report.files = len(verdicts)
    report.file_problems.sort(key=lambda p: (p.case_id, _RECORD_ORDER[p.record], p.record_id))


def verify(ws: Workspace, *, anchor: Path | None = None, progress: Progress | None = None) -> VerifyReport:
    """Check every case's history, every stored file (documents, scheme proposals, meeting minutes) and every
    case's rows against its history, and with ``anchor`` compare the chain heads with an anchor file kept
    elsewhere; ``report.ok`` is False when anything is broken."""
    from eightstep.audit.content import verify_content

    report = VerifyReport()
    if anchor is not None:
        report.anchor = check_anchor(ws, anchor)  # first: a bad anchor file is refused before the long checks
    report.signatures = check_signatures(ws)
    verify_chains(ws, report, progress)
    verify_files(ws, report, progress)
    verify_content(ws, report)  # the rows against the history, the guards' cache, unreferenced files
    return report
