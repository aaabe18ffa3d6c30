"""Tamper evidence: edit the database and the file store behind eightstep's back, then `audit verify`."""

from __future__ import annotations

import hashlib
import json
import sqlite3
from collections.abc import Callable
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.audit.verify import verify
from eightstep.cli import main
from eightstep.engine.events import event_hash
from eightstep.store.workspace import Workspace
from eightstep.timeutil import LOCAL_TZ


def at(day: str) -> datetime:
    return datetime.combine(date.fromisoformat(day), time(10), tzinfo=LOCAL_TZ)


@pytest.fixture
def history(ws: Workspace, db_path: Path, tmp_path: Path) -> Path:
    """Two cases: A with 6 events (open, 3 documents, an approval, a suspension), B with 2 (open, a document)."""
    engine.open_case(ws, "A", complex_name="人大小区", building="3", unit="2", workflow_id="wuhan-2018",
                     at=at("2025-03-01"))
    for kind, day in (("application", "2025-03-02"), ("site_survey", "2025-03-03"), ("owner_proof", "2025-03-04")):
        path = tmp_path / f"{kind}.txt"
        path.write_text(f"A {kind}", encoding="utf-8")
        records.add_document(ws, "A", kind, path, at=at(day))
    records.add_approval(ws, "A", "feasibility", authority="江夏区行政审批局", at=at("2025-03-05"))
    engine.suspend(ws, "A", reason="调解中", at=at("2025-03-06"))
    engine.open_case(ws, "B", complex_name="人大小区", building="4", unit="1", at=at("2025-03-01"))
    path = tmp_path / "b.txt"
    path.write_text("B application", encoding="utf-8")
    records.add_document(ws, "B", "application", path, at=at("2025-03-02"))
    return db_path


def sql(db: Path, statement: str, *params: object) -> None:
    with sqlite3.connect(db) as con:
        con.execute(statement, params)
    con.close()


def stored_file(ws: Workspace, db: Path, case_id: str, kind: str) -> Path:
    with sqlite3.connect(db) as con:
        (sha,) = con.execute("SELECT sha256 FROM documents WHERE case_id = ? AND kind = ?", (case_id, kind)).fetchone()
    con.close()
    return ws.files.path_for(sha)


def forge_next(db: Path) -> None:
    """Append a well-formed 7th event to case A: right seq, right prev_hash, right hash; only the head knows."""
    with sqlite3.connect(db) as con:
        prev = con.execute("SELECT hash FROM events WHERE case_id = 'A' AND seq = 6").fetchone()[0]
        when = datetime(2025, 3, 7, 2, 0, tzinfo=LOCAL_TZ)
        digest = event_hash("A", 7, when, when, "forger", "resume", "survey", "survey", "伪造", "{}", prev)
        stamp = when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")
        con.execute("INSERT INTO events (case_id, seq, business_at, recorded_at, actor, action, from_stage, to_stage,"
                    " note, details, prev_hash, hash) VALUES ('A', 7, ?, ?, 'forger', 'resume', 'survey', 'survey',"
                    " '伪造', '{}', ?, ?)", (stamp, stamp, prev, digest))
    con.close()


def rehash(db: Path, case_id: str, seq: int) -> None:
    """Recompute one event's hash after an edit, as a forger who knows the algorithm would."""
    ws = Workspace.open(str(db))
    try:
        (event,) = [e for e in engine.history(ws, case_id) if e.seq == seq]
    finally:
        ws.dispose()
    from eightstep.engine.events import hash_of

    sql(db, "UPDATE events SET hash = ? WHERE case_id = ? AND seq = ?", hash_of(event), case_id, seq)


TAMPERING: list[tuple[str, Callable[[Path], None], str, int, str]] = [
    ("update-note", lambda db: sql(db, "UPDATE events SET note = '改过' WHERE case_id = 'A' AND seq = 3"),
     "altered", 3, "event 3 (doc.add) was altered"),
    ("update-business-date", lambda db: sql(db, "UPDATE events SET business_at = '2025-01-01 02:00:00.000000' "
                                                "WHERE case_id = 'A' AND seq = 5"),
     "altered", 5, "event 5 (approval.add) was altered"),
    ("update-and-rehash", lambda db: (sql(db, "UPDATE events SET actor = '某人' WHERE case_id = 'A' AND seq = 2"),
                                      rehash(db, "A", 2)),
     "altered", 3, "event 3 does not link to event 2"),
    ("delete-middle", lambda db: sql(db, "DELETE FROM events WHERE case_id = 'A' AND seq = 4"),
     "deleted", 4, "event 4 is missing: the log jumps from 3 to 5"),
    ("delete-middle-and-renumber", lambda db: (sql(db, "DELETE FROM events WHERE case_id = 'A' AND seq = 4"),
                                               sql(db, "UPDATE events SET seq = seq - 1 WHERE case_id = 'A' "
                                                       "AND seq > 4")),
     "altered", 4, "event 4 does not link to event 3"),
    ("delete-last", lambda db: sql(db, "DELETE FROM events WHERE case_id = 'A' AND seq = 6"),
     "deleted", 6, "event 6 is missing: the case records 6 events, the log ends at 5"),
    ("delete-all", lambda db: sql(db, "DELETE FROM events WHERE case_id = 'A'"),
     "deleted", 1, "event 1-6 is missing: the case records 6 events, the log ends at 0"),
    ("insert-forged", forge_next, "inserted", 7, "event 7 is beyond the chain head: the case records 6 events"),
    ("insert-garbage", lambda db: sql(db, "INSERT INTO events (case_id, seq, business_at, recorded_at, actor, "
                                          "action, details, prev_hash, hash) VALUES ('A', 9, '2025-03-09', "
                                          "'2025-03-09', 'x', 'advance', '{}', 'x', 'x')"),
     "inserted", 9, "event 9 is beyond the chain head"),
    ("unreadable-date", lambda db: sql(db, "UPDATE events SET recorded_at = 'yesterday' WHERE case_id = 'A' "
                                           "AND seq = 2"),
     "altered", 2, "event 2 (doc.add) was altered"),
    ("rewind-head", lambda db: sql(db, "UPDATE cases SET last_hash = 'f00' WHERE id = 'A'"),
     "altered", 6, "the chain head recorded on the case does not match event 6"),
]


@pytest.mark.parametrize(("tamper", "kind", "seq", "message"), [t[1:] for t in TAMPERING],
                         ids=[t[0] for t in TAMPERING])
def test_tampered_history_is_caught(ws: Workspace, history: Path, runner: CliRunner,
                                    tamper: Callable[[Path], None], kind: str, seq: int, message: str) -> None:
    assert verify(ws).ok
    tamper(history)
    report = verify(ws)
    assert not report.ok
    assert [(p.case_id, p.kind, p.seq) for p in report.chain_problems] == [("A", kind, seq)]  # B is intact
    assert report.chain_problems[0].message.startswith(message)
    result = runner.invoke(main, ["--db", str(history), "audit", "verify"])
    assert result.exit_code == 1
    assert f"BROKEN  case A event {seq}: {kind}: {message}" in result.output
    assert result.output.splitlines()[-1].startswith("FAILED: 2 cases, ")
    assert result.output.splitlines()[-1].endswith("; 1 case histories broken, 0 files changed or missing.")


def test_events_of_a_deleted_case(ws: Workspace, history: Path) -> None:
    with sqlite3.connect(history) as con:  # foreign keys are off in a plain sqlite3 connection
        con.execute("DELETE FROM cases WHERE id = 'B'")
    con.close()
    problems = verify(ws).chain_problems
    assert [(p.case_id, p.kind, p.seq) for p in problems] == [("B", "inserted", 1)]
    assert problems[0].message == "event 1 belongs to case B, which does not exist"


def test_changed_file_is_caught(ws: Workspace, history: Path, runner: CliRunner) -> None:
    target = stored_file(ws, history, "A", "site_survey")
    target.chmod(0o644)  # stored files are read-only
    target.write_bytes(b"A site_survey, doctored")
    report = verify(ws)
    assert report.chain_problems == []
    assert [(p.case_id, p.kind, p.original_name) for p in report.file_problems] == [("A", "site_survey",
                                                                                     "site_survey.txt")]
    assert report.file_problems[0].problem.startswith("changed (now ")
    result = runner.invoke(main, ["--db", str(history), "audit", "verify"])
    assert result.exit_code == 1
    doc_id = report.file_problems[0].document_id
    now = hashlib.sha256(b"A site_survey, doctored").hexdigest()[:12]
    assert result.output.splitlines() == [
        f"BROKEN  case A document #{doc_id} site_survey (site_survey.txt, {target.name[:12]}): file changed "
        f"(now {now})",
        "FAILED: 2 cases, 8 events, 7 rows, 4 documents (4 stored files) checked; 0 case histories broken, 1 files "
        "changed or missing."]


def test_missing_file_is_caught(ws: Workspace, history: Path, runner: CliRunner) -> None:
    stored_file(ws, history, "B", "application").unlink()
    report = verify(ws)
    assert [(p.case_id, p.kind, p.problem) for p in report.file_problems] == [("B", "application", "missing")]
    result = runner.invoke(main, ["--db", str(history), "audit", "verify", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert data["ok"] is False
    assert data["file_problems"][0]["case"] == "B" and data["file_problems"][0]["problem"] == "missing"


def test_intact_history(ws: Workspace, history: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["--db", str(history), "audit", "verify"])
    assert (result.exit_code, result.output) == (
        0, "OK: 2 cases, 8 events, 7 rows, 4 documents (4 stored files) checked; every hash chain, row and stored "
           "file is intact.\n")
    data = json.loads(runner.invoke(main, ["--db", str(history), "audit", "verify", "--json"]).output)
    assert data == {"ok": True, "cases": 2, "events": 8, "documents": 4, "schemes": 0, "meetings": 0, "approvals": 0,
                    "files": 4, "chain_problems": [], "file_problems": [], "rows": 7, "cache_entries": 0,
                    "record_problems": [], "unreferenced_files": []}


@pytest.fixture
def proposals(ws: Workspace, history: Path, tmp_path: Path) -> dict[str, Path]:
    """Case A also has two schemes with proposal files and a meeting with minutes; a scheme and a meeting
    without a file; and case B a scheme whose proposal is the same file as A's first (stored once)."""
    from eightstep.records.meetings import add_meeting
    from eightstep.records.schemes import add_scheme

    files = {}
    for name, text in (("proposal-a", "梯安方案"), ("proposal-b", "升华方案"), ("minutes", "协商小组会议纪要")):
        files[name] = tmp_path / f"{name}.txt"
        files[name].write_text(text, encoding="utf-8")
    add_scheme(ws, "A", company="湖北梯安", price=48_000_000, file=files["proposal-a"], at=at("2025-03-02"))
    add_scheme(ws, "A", company="升华电梯", price=45_500_000, file=files["proposal-b"], at=at("2025-03-02"))
    add_scheme(ws, "A", company="口头报价", price=70_000_000, at=at("2025-03-02"))
    add_meeting(ws, "A", at=at("2025-03-03"), attendees=["李建国"], decision="选定梯安", file=files["minutes"])
    add_meeting(ws, "A", at=at("2025-03-04"), attendees=["李建国"], decision="无纪要")
    add_scheme(ws, "B", company="湖北梯安", price=48_000_000, file=files["proposal-a"], at=at("2025-03-02"))
    return {name: ws.files.path_for(sha256_of(path)) for name, path in files.items()}


def sha256_of(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_intact_proposals_and_minutes(ws: Workspace, proposals: dict[str, Path]) -> None:
    report = verify(ws)
    assert report.ok
    assert (report.documents, report.schemes, report.meetings, report.files) == (4, 3, 1, 7)


def test_changed_proposal_and_missing_minutes_are_caught(ws: Workspace, history: Path, runner: CliRunner,
                                                         proposals: dict[str, Path]) -> None:
    proposals["proposal-a"].chmod(0o644)  # stored files are read-only
    proposals["proposal-a"].write_text("梯安方案（改过的报价）", encoding="utf-8")
    proposals["minutes"].unlink()
    report = verify(ws)
    assert report.chain_problems == []
    assert [(p.case_id, p.record, p.record_id, p.kind, p.original_name, p.problem.split()[0])
            for p in report.file_problems] == [
        ("A", "scheme", 1, "scheme_proposal", "proposal-a.txt", "changed"),
        ("A", "meeting", 1, "meeting_minutes", "minutes.txt", "missing"),
        ("B", "scheme", 4, "scheme_proposal", "proposal-a.txt", "changed")]  # the same file, for each record
    assert [p.what for p in report.file_problems] == [
        "scheme #1 proposal (湖北梯安)", "meeting #1 minutes (2025-03-03 10:00)", "scheme #4 proposal (湖北梯安)"]
    result = runner.invoke(main, ["--db", str(history), "audit", "verify", "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert (data["ok"], data["schemes"], data["meetings"]) == (False, 3, 1)
    assert data["file_problems"][1] == {
        "case": "A", "record": "meeting", "id": 1, "document": None, "kind": "meeting_minutes",
        "what": "meeting #1 minutes (2025-03-03 10:00)", "file": "minutes.txt",
        "sha256": proposals["minutes"].name, "problem": "missing"}
    text = runner.invoke(main, ["--db", str(history), "audit", "verify"])
    assert text.exit_code == 1
    sha_a, sha_minutes = proposals["proposal-a"].name[:12], proposals["minutes"].name[:12]
    now = hashlib.sha256("梯安方案（改过的报价）".encode()).hexdigest()[:12]
    assert text.output.splitlines() == [
        f"BROKEN  case A scheme #1 proposal (湖北梯安) (proposal-a.txt, {sha_a}): file changed (now {now})",
        f"BROKEN  case A meeting #1 minutes (2025-03-03 10:00) (minutes.txt, {sha_minutes}): file missing",
        f"BROKEN  case B scheme #4 proposal (湖北梯安) (proposal-a.txt, {sha_a}): file changed (now {now})",
        "FAILED: 2 cases, 14 events, 13 rows, 4 documents (7 stored files) checked; 0 case histories broken, 3 "
        "files changed or missing."]


def test_empty_database(ws: Workspace, db_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["--db", str(db_path), "audit", "verify"])
    assert result.exit_code == 0 and result.output.startswith("OK: 0 cases, 0 events")
