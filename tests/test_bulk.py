"""`case advance --all-ready`: every ready case moves, each atomically, with the right history; the rest is reported.

The district below: R-1 ready in consent, R-2 ready in survey, B-1 blocked in consent, S-1 ready but suspended
(not considered), F-1 ready in another complex (幸福小区).
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlmodel import select

from eightstep import engine, records
from eightstep.audit.verify import verify
from eightstep.engine import bulk
from eightstep.errors import NotFoundError
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, parse_at
from tests.conftest import write_households
from tests.helpers.cli import run

OPENED = "2025-03-01"
AT = parse_at("2025-03-10 17:00")
ROOMS = [f"{floor}0{flat}" for floor in range(2, 8) for flat in (1, 2)]


def satisfy(ws: Workspace, case_id: str, folder: Path, *, consent: bool = True) -> None:
    """Record what the case's current stage requires (documents, approvals, and for consent the vote)."""
    view = engine.show_case(ws, case_id)
    req = ws.workflows.get("wuhan").definition.stage(view.stage).requires
    when = parse_at("2025-03-03")
    if req.consent is not None and consent:
        records.import_households(ws, case_id, write_households(folder / f"{case_id}.csv"), at=when)
        votes = folder / f"{case_id}-votes.csv"
        votes.write_text("room,choice,at\n" + "".join(f"{r},agree,2025-03-03\n" for r in ROOMS), encoding="utf-8")
        records.import_votes(ws, case_id, votes)
    scan = folder / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 scan")
    for kind in req.documents:
        records.add_document(ws, case_id, kind, scan, at=when)
    for kind in req.approvals:
        records.add_approval(ws, case_id, kind, authority="区行政审批局", at=when)


def open_case(ws: Workspace, case_id: str, complex_name: str = "人大小区") -> None:
    engine.open_case(ws, case_id, complex_name=complex_name, building=case_id, unit="1", at=parse_at(OPENED))


@pytest.fixture
def district(ws: Workspace, tmp_path: Path) -> Workspace:
    for case_id in ("R-1", "R-2", "B-1", "S-1"):
        open_case(ws, case_id)
    open_case(ws, "F-1", "幸福小区")
    for case_id in ("R-1", "R-2", "S-1", "F-1"):
        satisfy(ws, case_id, tmp_path)
    engine.advance(ws, "R-2", at=parse_at("2025-03-05"))
    satisfy(ws, "R-2", tmp_path)
    engine.suspend(ws, "S-1", reason="业主诉讼", at=parse_at("2025-03-06"))
    return ws


def outcomes(report: bulk.BulkReport) -> dict[str, tuple[str, str, str | None]]:
    return {r.case_id: (r.outcome, r.from_stage, r.to_stage) for r in report.results}


def dump(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        return list(conn.iterdump())


def events(ws: Workspace, case_id: str) -> list[models.Event]:
    return engine.history(ws, case_id)


# --- the library -----------------------------------------------------------------------------------------

def test_ready_cases_advance_and_the_rest_is_reported(district: Workspace) -> None:
    report = bulk.advance_all_ready(district, at=AT, actor="街道 批量", note="月度推进")
    assert outcomes(report) == {
        "B-1": ("blocked", "consent", None),
        "F-1": ("advanced", "consent", "survey"),
        "R-1": ("advanced", "consent", "survey"),
        "R-2": ("advanced", "survey", "agreement"),
    }
    assert report.totals == {"advanced": 3, "blocked": 1, "conflict": 0, "cases": 4}
    assert [r.case_id for r in report.results] == sorted(r.case_id for r in report.results)
    for case_id, stage in (("R-1", "survey"), ("R-2", "agreement"), ("F-1", "survey"), ("B-1", "consent"),
                           ("S-1", "consent")):
        view = engine.show_case(district, case_id)
        assert view.stage == stage
        if case_id in ("R-1", "R-2", "F-1"):
            assert view.stage_entered_at == AT
            assert view.version == next(r.version for r in report.results if r.case_id == case_id)
            last = events(district, case_id)[-1]
            assert (last.action, last.actor, last.note, as_utc(last.business_at)) == (
                "advance", "街道 批量", "月度推进", AT)
    assert verify(district).ok, "every hash chain (and stored file) must still verify"
    assert len(district.machines) == 1, "one machine per workflow snapshot, not per case"


def test_blocked_case_carries_the_same_blockers_as_case_check(district: Workspace) -> None:
    expected = engine.check(district, "B-1", at=AT).blockers
    report = bulk.advance_all_ready(district, at=AT)
    blocked = next(r for r in report.results if r.case_id == "B-1")
    assert list(blocked.blockers) == expected
    assert {b.type for b in expected} == {"document", "consent"}
    assert blocked.as_dict()["blockers"] == [b.as_dict() for b in expected]


def test_consent_leaves_its_record_like_a_single_advance(ws: Workspace, tmp_path: Path) -> None:
    """Twin cases: one advanced alone, one in bulk. Same event details, same consent record."""
    for case_id in ("T-1", "T-2"):
        open_case(ws, case_id)
        satisfy(ws, case_id, tmp_path)
    engine.advance(ws, "T-1", at=AT, actor="甲", note="n")
    bulk.advance_all_ready(ws, at=AT, actor="甲", note="n")
    one, many = events(ws, "T-1")[-1], events(ws, "T-2")[-1]
    for name in ("seq", "business_at", "actor", "action", "from_stage", "to_stage", "note", "details"):
        assert getattr(one, name) == getattr(many, name), name
    assert json.loads(many.details)["consent"]["passed"] is True
    with ws.session() as session:
        rows = {r.case_id: r for r in session.exec(select(models.ConsentRecord))}
    assert set(rows) == {"T-1", "T-2"}
    assert (rows["T-1"].stage, rows["T-1"].rule, rows["T-1"].tally) == (rows["T-2"].stage, rows["T-2"].rule,
                                                                        rows["T-2"].tally)
    with ws.session() as session:
        a, b = session.get(models.Case, "T-1"), session.get(models.Case, "T-2")
        assert a is not None and b is not None
        assert (a.stage, a.event_count, a.version, a.stage_entered_at, a.clock_started_at) == (
            b.stage, b.event_count, b.version, b.stage_entered_at, b.clock_started_at)
    assert verify(ws).ok


def test_dry_run_writes_nothing(district: Workspace, db_path: Path) -> None:
    before = dump(db_path)
    report = bulk.advance_all_ready(district, at=AT, dry_run=True)
    assert outcomes(report)["R-1"] == ("ready", "consent", "survey")
    assert report.totals == {"ready": 3, "blocked": 1, "cases": 4}
    assert dump(db_path) == before


def test_complex_filter(district: Workspace) -> None:
    report = bulk.advance_all_ready(district, at=AT, complex_name="幸福小区")
    assert outcomes(report) == {"F-1": ("advanced", "consent", "survey")}
    assert engine.show_case(district, "R-1").stage == "consent"
    with pytest.raises(NotFoundError, match="no complex named '无此小区'"):
        bulk.advance_all_ready(district, at=AT, complex_name="无此小区")


def test_batches_of_one_give_the_same_result(district: Workspace) -> None:
    assert bulk.count_candidates(district) == 4  # not S-1 (suspended)
    pages = list(bulk.iter_advance_all_ready(district, at=AT, batch_size=1))
    assert [len(p) for p in pages] == [1, 1, 1, 1]
    assert [(r.case_id, r.outcome) for p in pages for r in p] == [
        ("B-1", "blocked"), ("F-1", "advanced"), ("R-1", "advanced"), ("R-2", "advanced")]


def test_too_early_is_a_blocker(district: Workspace) -> None:
    report = bulk.advance_all_ready(district, at=parse_at("2025-03-04"))
    r2 = next(r for r in report.results if r.case_id == "R-2")
    assert r2.outcome == "blocked"
    assert [b.type for b in r2.blockers] == ["time"]
    assert "before the case entered its stage" in r2.blockers[0].message


def test_final_and_suspended_cases_are_not_considered(district: Workspace) -> None:
    report = bulk.advance_all_ready(district, at=AT)
    assert "S-1" not in outcomes(report)


# --- a real conflict: another writer between the batch's read and its write -----------------------------

def change_between_read_and_write(monkeypatch: pytest.MonkeyPatch, db: Path, change: Callable[[Workspace], Any]
                                  ) -> None:
    """Before the first batch is written, ``change`` runs on a second connection (its own workspace)."""
    original = bulk.write_batch
    done: list[bool] = []

    def racing(*args: Any, **kwargs: Any) -> dict[str, int]:
        if not done:
            other = Workspace.open(str(db))
            try:
                change(other)
            finally:
                other.dispose()
            done.append(True)
        return original(*args, **kwargs)

    monkeypatch.setattr(bulk, "write_batch", racing)


def test_a_case_changed_meanwhile_is_a_conflict_and_the_others_advance(
        monkeypatch: pytest.MonkeyPatch, district: Workspace, db_path: Path, tmp_path: Path) -> None:
    note = tmp_path / "note.pdf"
    note.write_bytes(b"%PDF-1.4 late")
    change_between_read_and_write(monkeypatch, db_path, lambda other: records.add_document(
        other, "R-1", "agent_authorization", note, at=parse_at("2025-03-09")))
    report = bulk.advance_all_ready(district, at=AT)
    assert outcomes(report) == {
        "B-1": ("blocked", "consent", None),
        "F-1": ("advanced", "consent", "survey"),
        "R-1": ("conflict", "consent", "survey"),
        "R-2": ("advanced", "survey", "agreement"),
    }
    assert report.totals["conflict"] == 1
    r1 = engine.show_case(district, "R-1")
    assert r1.stage == "consent", "the conflicting case keeps the other writer's state"
    assert [e.action for e in events(district, "R-1")][-1] == "doc.add"
    with district.session() as session:
        assert session.exec(select(models.ConsentRecord).where(models.ConsentRecord.case_id == "R-1")).first() is None
    assert verify(district).ok
    again = bulk.advance_all_ready(district, at=AT)  # run again: it moves now
    assert outcomes(again)["R-1"] == ("advanced", "consent", "survey")
    assert verify(district).ok


# --- the command line ------------------------------------------------------------------------------------

def cli(runner: CliRunner, db: Path, *args: str) -> Any:
    return run(runner, db, "case", "advance", *args, code=None)


@pytest.mark.parametrize(("args", "message"), [
    (["R-1", "--all-ready"], "give either CASE or --all-ready, not both"),
    ([], "missing CASE (or --all-ready to advance every ready case)"),
    (["R-1", "--dry-run"], "--dry-run: only with --all-ready"),
    (["R-1", "--complex", "人大小区", "--json"], "--complex, --json: only with --all-ready"),
], ids=["both", "neither", "dry-run-without-all", "complex-json-without-all"])
def test_cli_usage_errors(runner: CliRunner, district: Workspace, db_path: Path, args: list[str],
                          message: str) -> None:
    before = dump(db_path)
    result = cli(runner, db_path, *args)
    assert result.exit_code == 2
    assert message in result.stderr
    assert dump(db_path) == before


def test_cli_text(runner: CliRunner, district: Workspace, db_path: Path) -> None:
    result = cli(runner, db_path, "--all-ready", "--at", "2025-03-10 17:00")
    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"B-1: blocked in consent by {len(engine.check(district, 'B-1').blockers)}"
    assert lines[1].startswith("  [document] ")
    assert "F-1: advanced consent -> survey" in lines
    assert "R-2: advanced survey -> agreement" in lines
    assert lines[-1] == "Advanced 3, blocked 1, conflicts 0 (4 active cases considered)."


def test_cli_dry_run_and_complex(runner: CliRunner, district: Workspace, db_path: Path) -> None:
    before = dump(db_path)
    result = cli(runner, db_path, "--all-ready", "--dry-run", "--complex", "幸福小区", "--at", "2025-03-10 17:00")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.splitlines() == [
        "F-1: would advance consent -> survey",
        "Would advance 1, blocked 0 (1 active case considered); nothing was written (dry run)."]
    assert dump(db_path) == before


def test_cli_json(runner: CliRunner, district: Workspace, db_path: Path) -> None:
    result = cli(runner, db_path, "--all-ready", "--json", "--at", "2025-03-10 17:00")
    assert result.exit_code == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["totals"] == {"advanced": 3, "blocked": 1, "conflict": 0, "cases": 4}
    assert data["dry_run"] is False
    by_case = {r["case"]: r for r in data["results"]}
    assert by_case["R-1"] == {"case": "R-1", "outcome": "advanced", "from": "consent", "to": "survey",
                              "version": by_case["R-1"]["version"]}
    assert by_case["B-1"]["outcome"] == "blocked"
    assert {b["type"] for b in by_case["B-1"]["blockers"]} == {"document", "consent"}


def test_cli_conflict_exits_4(monkeypatch: pytest.MonkeyPatch, runner: CliRunner, district: Workspace,
                              db_path: Path) -> None:
    change_between_read_and_write(monkeypatch, db_path, lambda other: engine.suspend(
        other, "F-1", reason="暂停", at=parse_at("2025-03-09")))
    result = cli(runner, db_path, "--all-ready", "--at", "2025-03-10 17:00")
    assert result.exit_code == 4
    assert "F-1: conflict: changed by someone else meanwhile; left in consent" in result.stdout
    assert result.stdout.splitlines()[-1] == "Advanced 2, blocked 1, conflicts 1 (4 active cases considered)."


def test_cli_progress_bar_on_a_terminal(monkeypatch: pytest.MonkeyPatch, runner: CliRunner, district: Workspace,
                                        db_path: Path) -> None:
    from eightstep.cli import moves  # the case group's moves (advance --all-ready)

    monkeypatch.setattr(moves, "_is_terminal", lambda: True)
    result = cli(runner, db_path, "--all-ready", "--at", "2025-03-10 17:00")
    assert result.exit_code == 0, result.stderr
    assert "Advancing" in result.stdout
    assert "R-1: advanced consent -> survey" in result.stdout
    assert result.stdout.splitlines()[-1] == "Advanced 3, blocked 1, conflicts 0 (4 active cases considered)."


def test_single_case_advance_still_works(runner: CliRunner, district: Workspace, db_path: Path) -> None:
    result = cli(runner, db_path, "R-1", "--at", "2025-03-10 17:00")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("R-1: consent -> survey\n  consent recorded: ")
    assert engine.show_case(district, "R-1").stage_entered_at == datetime.fromisoformat("2025-03-10T09:00:00+00:00")
