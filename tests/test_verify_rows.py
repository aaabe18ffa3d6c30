"""Tamper evidence for the rows: every kind of direct edit of a table (sqlite3 on the file, behind eightstep's back)
is caught by `audit verify`, which rebuilds each case's rows from its history; the demo verifies clean."""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.audit.rows import ROW_TABLES
from eightstep.audit.verify import verify
from eightstep.cli import main
from eightstep.engine.facts import key_column
from eightstep.engine.recording import recording
from eightstep.errors import ConflictError
from eightstep.records import funding
from eightstep.store.workspace import Workspace
from eightstep.timeutil import LOCAL_TZ
from tests.conftest import write_households

Expected = set[tuple[str | None, str, str | None, str | None, str]]  # (case, table, row, field, kind)


@pytest.fixture(scope="module")
def checked_demo(demo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The module's copy of the demo (its file store too), with the guards' answers of every case cached; it
    verifies clean, so every test's copy starts clean."""
    folder = tmp_path_factory.mktemp("checked") / "demo"
    shutil.copytree(demo_dir, folder)
    ws = Workspace.open(str(folder / "eightstep.db"))
    try:
        ids = [c.id for c in engine.list_cases(ws)]
        engine.check_many(ws, ids, datetime(2026, 11, 30, 16, tzinfo=UTC), cache=True)
    finally:
        ws.dispose()
    report, found = problems(folder / "eightstep.db")
    assert report.ok and found == set()
    return folder


@pytest.fixture
def db(checked_demo: Path, tmp_path: Path) -> Path:
    """This test's copy of the checked demo, to edit."""
    folder = tmp_path / "demo"
    shutil.copytree(checked_demo, folder)
    return folder / "eightstep.db"


def one(db: Path, query: str, *params: object) -> Any:
    with sqlite3.connect(db) as con:
        row = con.execute(query, params).fetchone()
    con.close()
    return row[0] if row is not None and len(row) == 1 else row


def sql(db: Path, *statements: str) -> None:
    with sqlite3.connect(db) as con:  # foreign keys are off in a plain sqlite3 connection
        for statement in statements:
            con.execute(statement)
    con.close()


def problems(db: Path) -> tuple[Any, Expected]:
    ws = Workspace.open(str(db))
    try:
        report = verify(ws)
    finally:
        ws.dispose()
    return report, {(p.case_id, p.table, p.row, p.field, p.kind) for p in report.record_problems}


def first(db: Path, table: str, where: str = "1 = 1") -> tuple[int, str]:
    """(id, case id) of the first row of ``table`` matching ``where``."""
    return one(db, f"SELECT id, case_id FROM {table} WHERE {where} ORDER BY id LIMIT 1")


def edit_field(table: str, column: str, value: str, where: str = "1 = 1") -> Callable[[Path], Expected]:
    def edit(db: Path) -> Expected:
        row, case = first(db, table, where)
        sql(db, f"UPDATE {table} SET {column} = {value} WHERE id = {row}")
        return {(case, table, str(row), column, "changed")}
    return edit


def delete_row(table: str, where: str = "1 = 1") -> Callable[[Path], Expected]:
    def edit(db: Path) -> Expected:
        row, case = first(db, table, where)
        sql(db, f"DELETE FROM {table} WHERE id = {row}")
        return {(case, table, str(row), None, "missing")}
    return edit


def case_field(case: str, column: str, value: str) -> Callable[[Path], Expected]:
    def edit(db: Path) -> Expected:
        sql(db, f"UPDATE cases SET {column} = {value} WHERE id = '{case}'")
        return {(case, "cases", None, column, "changed")}
    return edit


def insert_ballot(db: Path) -> Expected:
    household, case = first(db, "households", "case_id = 'RD-4-2'")
    sql(db, "INSERT INTO ballots (case_id, household_id, choice, cast_at, recorded_at) VALUES "
            f"('{case}', {household}, 'agree', '2026-10-30 02:00:00.000000', '2026-10-30 02:00:00.000000')")
    return {(case, "ballots", str(one(db, "SELECT MAX(id) FROM ballots")), None, "unexpected")}


def move_ballot(db: Path) -> Expected:
    row, case = first(db, "ballots", "case_id = 'RD-4-2'")
    sql(db, f"UPDATE ballots SET case_id = 'RD-2-2' WHERE id = {row}")
    return {(case, "ballots", str(row), None, "missing"), ("RD-2-2", "ballots", str(row), None, "unexpected")}


def resolve_objection(db: Path) -> Expected:
    row, case = first(db, "objections", "status = 'open'")
    sql(db, f"UPDATE objections SET status = 'resolved', outcome = '已解决', resolved_at = '2026-10-30 02:00:00.000000'"
            f" WHERE id = {row}")
    return {(case, "objections", str(row), column, "changed") for column in ("status", "outcome", "resolved_at")}


def mediation_note(db: Path) -> Expected:
    step, objection = one(db, "SELECT id, objection_id FROM mediation_steps ORDER BY id LIMIT 1")
    case = one(db, "SELECT case_id FROM objections WHERE id = ?", objection)
    sql(db, f"UPDATE mediation_steps SET note = '改过' WHERE id = {step}")
    return {(case, "mediation_steps", str(step), "note", "changed")}


def funding_total(db: Path) -> Expected:
    case = one(db, "SELECT case_id FROM funding ORDER BY case_id LIMIT 1")
    sql(db, f"UPDATE funding SET total_fen = total_fen - 100 WHERE case_id = '{case}'")
    return {(case, "funding", case, "total_fen", "changed")}


def repoint_document(db: Path) -> Expected:
    row, case = first(db, "documents", "case_id = 'RD-3-2' AND kind = 'site_survey'")
    other = one(db, "SELECT sha256 FROM documents WHERE case_id = 'RD-3-2' AND kind = 'application'")
    sql(db, f"UPDATE documents SET sha256 = '{other}' WHERE id = {row}")
    return {(case, "documents", str(row), "sha256", "changed")}


def weaken_the_rule(db: Path) -> Expected:
    assert "3/4" in one(db, "SELECT content FROM workflow_snapshots")
    sql(db, "UPDATE workflow_snapshots SET content = replace(content, '3/4', '1/2')")
    cases = list(sqlite3.connect(db).execute("SELECT c.id, c.workflow_sha256 FROM cases c JOIN workflow_snapshots w "
                                             "ON w.sha256 = c.workflow_sha256 WHERE w.content LIKE '%1/2%'"))
    assert cases
    return {(case, "workflow_snapshots", sha[:12], "content", "rehashed") for case, sha in cases}


def rename_complex(db: Path) -> Expected:
    """One complex renamed: every case of it (and none of another complex) differs from its history."""
    sql(db, "UPDATE complexes SET name = '别的小区' WHERE id = (SELECT min(complex_id) FROM cases)")
    cases = [r for (r,) in sqlite3.connect(db).execute(
        "SELECT id FROM cases WHERE complex_id = (SELECT min(complex_id) FROM cases)")]
    assert cases
    return {(case, "cases", None, "complex", "changed") for case in cases}


def consent_tally(db: Path) -> Expected:
    row, case = first(db, "consent_records")
    tally = json.loads(one(db, "SELECT tally FROM consent_records WHERE id = ?", row))
    tally["agree"] = tally.get("agree", 0) + 1
    with sqlite3.connect(db) as con:
        con.execute("UPDATE consent_records SET tally = ? WHERE id = ?", (json.dumps(tally, ensure_ascii=False), row))
    con.close()
    return {(case, "consent_records", None, None, "changed")}


def facts_edited(db: Path) -> Expected:
    case, seq, n, fact = one(db, "SELECT case_id, seq, n, fact FROM event_facts WHERE fact LIKE '[\"ballots\"%' "
                                 "AND fact LIKE '%\"agree\"%' ORDER BY case_id, seq, n LIMIT 1")
    sql(db, f"UPDATE event_facts SET fact = replace(fact, '\"agree\"', '\"oppose\"') WHERE case_id = '{case}' "
            f"AND seq = {seq} AND n = {n}")
    return {(case, "event_facts", None, None, "history")} | _ballot_row_changed(db, fact)


def _ballot_row_changed(db: Path, fact: str) -> Expected:
    """The edited fact also makes its ballot disagree with the (now forged) history."""
    table, _op, key, _values = json.loads(fact)
    case = one(db, "SELECT case_id FROM ballots WHERE id = ?", key)
    return {(case, table, str(key), "choice", "changed")}


def cache_emptied(db: Path) -> Expected:
    case = one(db, "SELECT case_id FROM case_checks WHERE blockers != '[]' ORDER BY case_id LIMIT 1")
    sql(db, f"UPDATE case_checks SET blockers = '[]' WHERE case_id = '{case}'")
    return {(case, "case_checks", None, "blockers", "stale")}


def delete_case_row(db: Path) -> Expected:
    """The case row of RD-4-2 deleted (its events and rows stay): its rows belong to no case any more (its consent
    records are compared as a whole, not row by row)."""
    with sqlite3.connect(db) as con:
        rows = [(name, key) for name, table in ROW_TABLES.items() if "case_id" in table.c
                for (key,) in con.execute(f"SELECT {key_column(table)} FROM {name} WHERE case_id = 'RD-4-2'")]
    con.close()
    assert {name for name, _key in rows} >= {"households", "ballots", "documents"}
    sql(db, "DELETE FROM case_checks WHERE case_id = 'RD-4-2'", "DELETE FROM cases WHERE id = 'RD-4-2'")
    return {("RD-4-2", table, str(row), None, "unexpected") for table, row in rows}


EDITS: list[tuple[str, Callable[[Path], Expected]]] = [
    ("case-stage", case_field("RD-4-2", "stage", "'operation'")),
    ("case-status", case_field("RD-4-1", "status", "'withdrawn'")),
    ("case-clock", case_field("RD-2-1", "clock_started_at", "'2026-11-01 00:00:00.000000'")),
    ("case-evidence-from", case_field("RD-3-2", "evidence_from", "'2026-01-01 00:00:00.000000'")),
    ("case-upkeep-date", case_field("RD-3-2", "maintained_at", "NULL")),
    ("complex-renamed", rename_complex),
    ("household-area", edit_field("households", "area_centi", "area_centi + 1000")),
    ("household-owner-key", edit_field("households", "owner_key", "'P-0001'", "case_id = 'RD-3-2' AND room = '201'")),
    ("household-deleted", delete_row("households", "case_id = 'RD-4-2'")),
    ("ballot-choice", edit_field("ballots", "choice", "'oppose'", "choice = 'agree'")),
    ("ballot-date", edit_field("ballots", "cast_at", "'2024-01-01 00:00:00.000000'")),
    ("ballot-deleted", delete_row("ballots", "case_id = 'RD-4-2'")),
    ("ballot-inserted", insert_ballot),
    ("ballot-moved-to-another-case", move_ballot),
    ("document-repointed", repoint_document),
    ("document-number", edit_field("documents", "number", "'伪造〔2026〕1号'")),
    ("document-deleted", delete_row("documents", "kind = 'ballot_forms'")),
    ("approval-decision", edit_field("approvals", "decision", "'rejected'")),
    ("objection-resolved", resolve_objection),
    ("objection-deleted", delete_row("objections", "status = 'open'")),
    ("mediation-note", mediation_note),
    ("funding-total", funding_total),
    ("person-name", edit_field("case_people", "name", "'别人'")),
    ("canvass-stance", edit_field("canvass_entries", "stance", "'supportive'", "stance != 'supportive'")),
    ("scheme-price", edit_field("schemes", "price_fen", "price_fen - 1000000")),
    ("scheme-choice", edit_field("scheme_choices", "reason", "'改过的理由'")),
    ("role-name", edit_field("case_roles", "name", "'冒名'")),
    ("role-deleted", delete_row("case_roles")),
    ("meeting-decision", edit_field("meetings", "decision", "'从未决定'")),
    ("consent-record-tally", consent_tally),
    ("workflow-rule-3/4-to-1/2", weaken_the_rule),
    ("facts-edited", facts_edited),
    ("cached-answer-emptied", cache_emptied),
    ("case-row-deleted", delete_case_row),
]


@pytest.mark.parametrize("edit", [e[1] for e in EDITS], ids=[e[0] for e in EDITS])
def test_every_direct_edit_of_a_row_is_caught(db: Path, runner: CliRunner, edit: Callable[[Path], Expected]) -> None:
    expected = edit(db)  # on a copy of the demo that verifies clean (checked_demo)
    report, found = problems(db)
    assert not report.ok
    # An edit that changes what the guards say also makes the cached answer of its case stale (reported too).
    stale = {p for p in found if p[1] == "case_checks"} - expected
    assert {p[0] for p in stale} <= {p[0] for p in expected}
    assert found - stale == expected
    result = runner.invoke(main, ["--db", str(db), "audit", "verify"])
    assert result.exit_code == 1
    assert result.output.splitlines()[-1].startswith("FAILED: ")
    assert f"({len(found)} differing from their history)" in result.output.splitlines()[-1]


def test_the_report_names_case_table_row_field_and_both_values(db: Path, runner: CliRunner) -> None:
    row, case = first(db, "ballots", "choice = 'agree'")
    sql(db, f"UPDATE ballots SET choice = 'oppose' WHERE id = {row}")
    result = runner.invoke(main, ["--db", str(db), "audit", "verify"])
    assert (f'BROKEN  case {case} ballots #{row} choice: the history says "agree", the table holds "oppose"'
            in result.output.splitlines())
    data = json.loads(runner.invoke(main, ["--db", str(db), "audit", "verify", "--json"]).output)
    assert data["ok"] is False
    assert data["record_problems"] == [{
        "case": case, "table": "ballots", "row": str(row), "field": "choice", "kind": "changed",
        "expected": "agree", "actual": "oppose",
        "message": f'ballots #{row} choice: the history says "agree", the table holds "oppose"'}]


def test_a_clean_demo_verifies(db: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["--db", str(db), "audit", "verify"])
    assert result.exit_code == 0, result.output
    cases = one(db, "SELECT count(*) FROM cases")
    last = result.output.splitlines()[-1]
    assert last.startswith(f"OK: {cases} cases, ") and last.endswith("every hash chain, row and stored file is intact.")
    report, _found = problems(db)
    assert report.rows > 400 and report.cache_entries == cases


# --------------------------------------------------------------------------- the agreed share table


def test_an_edited_agreed_share_is_caught(ws: Workspace, tmp_path: Path) -> None:
    folder = tmp_path / "wf"
    folder.mkdir()
    from eightstep.resources import builtin_dir

    text = (builtin_dir("workflows") / "wuhan.yaml").read_text(encoding="utf-8").replace("id: wuhan\n", "id: agreed\n")
    import re

    text = re.sub(r"cost_sharing:.*?\n\n", "cost_sharing: {method: agreed_table}\n\n", text, flags=re.S)
    (folder / "agreed.yaml").write_text(text, encoding="utf-8")
    ws = Workspace.open(ws.url.removeprefix("sqlite:///"), workflow_dirs=[folder])
    at = datetime(2026, 3, 3, 10, tzinfo=LOCAL_TZ)  # wuhan.yaml (copied as agreed.yaml) is in force from 2026
    engine.open_case(ws, "AG-1-1", complex_name="协议小区", building="1", unit="1", workflow_id="agreed", at=at)
    records.import_households(ws, "AG-1-1", write_households(tmp_path / "o.csv", [
        ("201", 2, "80.00", "甲", ""), ("701", 7, "80.00", "乙", "")]), at=at)
    shares = tmp_path / "shares.csv"
    shares.write_text("room,share\n201,40\n701,60\n", encoding="utf-8")
    funding.agree_shares(ws, "AG-1-1", shares, at=at)
    shares.write_text("room,share\n201,30\n701,70\n", encoding="utf-8")
    funding.agree_shares(ws, "AG-1-1", shares, at=at)  # replaces the first table: its rows are dropped facts
    assert verify(ws).ok
    db = Path(ws.url.removeprefix("sqlite:///"))
    row = one(db, "SELECT id FROM agreed_shares ORDER BY id LIMIT 1")
    sql(db, f"UPDATE agreed_shares SET weight_e4 = 990000 WHERE id = {row}")
    assert {(p.case_id, p.table, p.row, p.field) for p in verify(ws).record_problems} == {
        ("AG-1-1", "agreed_shares", str(row), "weight_e4")}
    ws.dispose()


# --------------------------------------------------------------------------- files no record refers to


def test_a_lost_race_leaves_no_file_in_the_store(ws: Workspace, tmp_path: Path) -> None:
    """A `doc add` that loses the race for its case (another command changed the case between its read and its
    write) gets ConflictError, and the file it put in the store is removed again."""
    at = datetime(2025, 3, 3, 10, tzinfo=LOCAL_TZ)
    engine.open_case(ws, "LR-1-1", complex_name="竞争小区", building="1", unit="1", at=at)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF the loser's scan")
    other = Workspace.open(ws.url.removeprefix("sqlite:///"))
    try:
        with pytest.raises(ConflictError), recording(ws, "LR-1-1", "doc.add", at=at) as rec:
            digest, _size = rec.store_file(scan)
            assert ws.files.path_for(digest).exists()
            engine.suspend(other, "LR-1-1", reason="另一位干事先改了", at=at)  # the winner
    finally:
        other.dispose()
    assert not ws.files.path_for(digest).exists()
    assert [e.action for e in engine.history(ws, "LR-1-1")] == ["open", "suspend"]


def test_a_file_another_record_refers_to_is_kept(ws: Workspace, tmp_path: Path) -> None:
    at = datetime(2025, 3, 3, 10, tzinfo=LOCAL_TZ)
    engine.open_case(ws, "LR-1-1", complex_name="竞争小区", building="1", unit="1", at=at)
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF shared scan")
    with pytest.raises(RuntimeError), recording(ws, "LR-1-1", "doc.add", at=at) as rec:
        digest, _size = rec.store_file(scan)
        records.add_document(ws, "LR-1-1", "application", scan, at=at)  # the same file, recorded meanwhile
        raise RuntimeError("this one fails")
    assert ws.files.path_for(digest).exists()
    assert verify(ws).ok


def test_unreferenced_files_are_listed_not_failed(db: Path, runner: CliRunner) -> None:
    store = db.with_name(db.name + ".files")
    stray = store / "ab" / ("ab" + "0" * 62)
    stray.parent.mkdir(exist_ok=True)
    stray.write_bytes(b"left by a killed command")
    left = store / ".incoming-x1y2"
    left.write_bytes(b"half a copy")
    young = store / "cd" / ("cd" + "1" * 62)
    young.parent.mkdir(exist_ok=True)
    young.write_bytes(b"a command may be about to record it")
    old = time.time() - 3600
    os.utime(stray, (old, old))
    os.utime(left, (old, old))
    result = runner.invoke(main, ["--db", str(db), "audit", "verify"])
    assert result.exit_code == 0, result.output
    assert [line for line in result.output.splitlines() if line.startswith("UNREFERENCED")] == [
        f"UNREFERENCED  {left} (11 bytes): no record refers to it",
        f"UNREFERENCED  {stray} (24 bytes): no record refers to it"]
