"""The cached blockers (``case_checks``) give exactly the answer of the guards, and only while it holds.

The decisive test: on the demo's eight cases, for check times across the year of the story, the cached answer
(computed once, then read back) equals the guards' own answer, blocker for blocker. The others show that an
entry is reused at all (a changed entry shows through), and that it is not reused after the case changed,
before a record it counted, after a running notice period has ended, or with other holiday data.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import delete, select, text, update

from eightstep import engine, records
from eightstep.audit import stalled as audit
from eightstep.demo import END, HELD, PILOT
from eightstep.engine import CheckResult, checkcache
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, local_midnight_utc
from tests.helpers.revisions import one_more_revision

CHECKS = models.CaseCheck.__table__
D = date.fromisoformat


def at(day: str, hour: int = 10) -> datetime:
    return local_midnight_utc(D(day)) + timedelta(hours=hour)


@pytest.fixture
def demo(demo_dir: Path, tmp_path: Path) -> Iterator[Workspace]:
    """A private copy of the demo database (the tests write cache entries and records)."""
    db = tmp_path / "demo.db"
    db.write_bytes((demo_dir / "eightstep.db").read_bytes())
    ws = Workspace.open(str(db))
    yield ws
    ws.dispose()


def case_ids(ws: Workspace) -> list[str]:
    with ws.engine.connect() as conn:
        return list(conn.execute(select(models.Case.__table__.c.id).order_by("id")).scalars())


def answers(results: dict[str, CheckResult]) -> dict[str, list[dict[str, object]]]:
    return {case_id: [b.as_dict() for b in result.blockers] for case_id, result in results.items()}


def entries(ws: Workspace) -> dict[str, dict[str, object]]:
    with ws.engine.connect() as conn:
        return {row.case_id: row._asdict() for row in conn.execute(select(CHECKS))}


def set_entry(ws: Workspace, case_id: str, **values: object) -> None:
    with ws.engine.begin() as conn:
        assert conn.execute(update(CHECKS).where(CHECKS.c.case_id == case_id).values(**values)).rowcount == 1


MARKER = [{"type": "document", "message": "从缓存读出 / read from the cache", "kind": "marker"}]


# --- the cached answer is the guards' answer ---------------------------------------------------------------

CHECK_DAYS = ["2025-03-01", "2025-04-15", "2025-06-01", "2025-07-20", "2025-09-30", "2025-10-09", "2025-12-31",
              "2026-03-01", "2026-06-30", "2026-09-01", "2026-10-20", "2026-11-30"]


@pytest.mark.parametrize("day", CHECK_DAYS)
def test_the_cached_answer_is_the_guards_answer(demo: Workspace, day: str) -> None:
    ids = case_ids(demo)
    when = audit.check_time(D(day))
    live = engine.check_many(demo, ids, at=when)
    first = engine.check_many(demo, ids, at=when, cache=True)  # computes and keeps
    stored = entries(demo)
    again = engine.check_many(demo, ids, at=when, cache=True)  # reads what it kept
    assert answers(first) == answers(live)
    assert answers(again) == answers(live)
    assert len(ids) == 11  # 人大小区 and 桥头小区
    assert set(stored) <= set(ids)
    if D(day) > END:  # after the demo's last record: every case's answer counts all of its records
        assert set(stored) == set(ids)
    for row in stored.values():
        assert as_utc(row["valid_from"]) <= when
        assert row["valid_until"] is None or when < as_utc(row["valid_until"])


def test_an_entry_that_holds_is_what_the_check_returns(demo: Workspace) -> None:
    when = audit.check_time(D("2026-11-30"))
    engine.check_many(demo, [HELD], at=when, cache=True)
    set_entry(demo, HELD, blockers=json.dumps(MARKER, ensure_ascii=False))
    cached = engine.check_many(demo, [HELD], at=when, cache=True)[HELD]
    assert [b.kind for b in cached.blockers] == ["marker"]
    assert [b.kind for b in engine.check(demo, HELD, at=when).blockers] != ["marker"]  # without the cache


# --- and only while it holds -------------------------------------------------------------------------------

def test_a_change_of_the_case_makes_its_entry_stale(demo: Workspace, tmp_path: Path) -> None:
    when = audit.check_time(D("2026-11-30"))
    engine.check_many(demo, [HELD], at=when, cache=True)
    set_entry(demo, HELD, blockers=json.dumps(MARKER, ensure_ascii=False))
    view = engine.show_case(demo, HELD)
    scan = tmp_path / "note.pdf"
    scan.write_bytes(b"%PDF note")
    records.add_document(demo, HELD, "design_scheme", scan, at=at("2026-11-02"))
    after = engine.check_many(demo, [HELD], at=when, cache=True)[HELD]
    assert "marker" not in [b.kind for b in after.blockers]
    assert answers({HELD: after}) == answers({HELD: engine.check(demo, HELD, at=when)})
    assert entries(demo)[HELD]["version"] == view.version + 1  # the new answer is kept for the new version


def test_an_entry_is_not_used_before_the_records_it_counted(demo: Workspace) -> None:
    late = audit.check_time(D("2026-11-30"))
    engine.check_many(demo, [PILOT], at=late, cache=True)
    valid_from = as_utc(entries(demo)[PILOT]["valid_from"])
    set_entry(demo, PILOT, blockers=json.dumps(MARKER, ensure_ascii=False))
    before = valid_from - timedelta(seconds=1)
    early = engine.check_many(demo, [PILOT], at=before, cache=True)[PILOT]
    assert "marker" not in [b.kind for b in early.blockers]
    assert answers({PILOT: early}) == answers({PILOT: engine.check(demo, PILOT, at=before)})


def test_no_entry_when_a_record_is_dated_after_the_check_time(demo: Workspace) -> None:
    """The pilot's records run to 2026; checked as of 2025-03-01 its later records are left out."""
    engine.check_many(demo, [PILOT], at=audit.check_time(D("2025-03-01")), cache=True)
    assert PILOT not in entries(demo)


def placed_at(ws: Workspace, case_id: str, complex_name: str, stage: str, *, opened: str, entered: str) -> None:
    """A wuhan case put straight at ``stage`` (what happened before is not what these tests are about)."""
    engine.open_case(ws, case_id, complex_name=complex_name, building="1", unit="1", at=at(opened))
    with ws.engine.begin() as conn:
        conn.execute(update(models.Case.__table__).where(models.Case.__table__.c.id == case_id).values(
            stage=stage, stage_entered_at=at(entered), clock_started_at=at(entered)))


def notice_case(ws: Workspace, folder: Path) -> tuple[str, date]:
    """A wuhan case at design_notice with the notice posted on Friday 2025-09-26: 10 working days over the
    National Day holiday (10-01..08 off; Sunday 09-28 and Saturday 10-11 worked): 09-28..30, 10-09..11, 10-13..16,
    so the period ends on 2025-10-16."""
    placed_at(ws, "N-1", "通知小区", "design_notice", opened="2025-09-01", entered="2025-09-20")
    posting = folder / "posting.jpg"
    posting.write_bytes(b"photo")
    records.add_document(ws, "N-1", "notice_posting", posting, at=at("2025-09-26"))
    return "N-1", D("2025-10-16")


def notice_blockers(result: CheckResult) -> list[str]:
    return [b.message for b in result.blockers if b.type == "notice"]


def test_a_running_notice_entry_ends_with_the_notice(demo: Workspace, tmp_path: Path) -> None:
    case_id, end = notice_case(demo, tmp_path)
    during = audit.check_time(D("2025-10-09"))
    first = engine.check_many(demo, [case_id], at=during, cache=True)[case_id]
    assert len(notice_blockers(first)) == 1 and str(end) in notice_blockers(first)[0]
    row = entries(demo)[case_id]
    assert as_utc(row["valid_until"]) == local_midnight_utc(end + timedelta(days=1))
    assert notice_blockers(engine.check_many(demo, [case_id], at=audit.check_time(end), cache=True)[case_id])
    after = engine.check_many(demo, [case_id], at=audit.check_time(end + timedelta(days=1)), cache=True)[case_id]
    assert notice_blockers(after) == []
    # the answer after the notice holds from its end on, not before
    row = entries(demo)[case_id]
    assert as_utc(row["valid_from"]) == local_midnight_utc(end + timedelta(days=1))
    assert row["valid_until"] is None
    assert notice_blockers(engine.check_many(demo, [case_id], at=during, cache=True)[case_id])


def test_other_holiday_data_makes_every_entry_stale(demo: Workspace, tmp_path: Path) -> None:
    ids = case_ids(demo)
    when = audit.check_time(D("2026-11-30"))
    engine.check_many(demo, ids, at=when, cache=True)
    with demo.engine.begin() as conn:
        conn.execute(update(CHECKS).values(blockers=json.dumps(MARKER, ensure_ascii=False)))
    holidays = tmp_path / "holidays"  # beside the database: read by every workspace opened on it from now on
    holidays.mkdir()
    (holidays / "2030.yaml").write_text("year: 2030\nsource: test\nholidays: [2030-01-01, 2030-02-02..2030-02-05, "
                                        "2030-05-01..2030-05-02, 2030-10-01..2030-10-03]\nworkdays: []\n",
                                        encoding="utf-8")
    other = Workspace.open(demo.url)
    try:
        assert other.calendar.fingerprint != demo.calendar.fingerprint
        results = engine.check_many(other, ids, at=when, cache=True)
        assert all("marker" not in [b.kind for b in r.blockers] for r in results.values())
    finally:
        other.dispose()
    # and the entries now carry the basis they were computed on
    assert {row["basis"] for row in entries(demo).values()} == {checkcache.basis(other.calendar)}


def test_emptying_the_table_changes_nothing_but_speed(demo: Workspace) -> None:
    ids = case_ids(demo)
    when = audit.check_time(D("2025-12-31"))
    kept = answers(engine.check_many(demo, ids, at=when, cache=True))
    with demo.engine.begin() as conn:
        conn.execute(delete(CHECKS))
    assert answers(engine.check_many(demo, ids, at=when, cache=True)) == kept


def test_a_database_that_will_not_take_the_entries_still_answers(demo: Workspace) -> None:
    with demo.engine.begin() as conn:
        conn.execute(text("DROP TABLE case_checks"))
        conn.execute(text("CREATE TABLE case_checks (case_id VARCHAR(64) PRIMARY KEY, version INTEGER, "
                          "stage VARCHAR, valid_from DATETIME, valid_until DATETIME, basis VARCHAR, blockers TEXT, "
                          "workflow_sha256 VARCHAR(64), "
                          "CHECK (0))"))  # refuses every row
    ids = case_ids(demo)
    when = audit.check_time(D("2025-12-31"))
    assert answers(engine.check_many(demo, ids, at=when, cache=True)) == answers(engine.check_many(demo, ids,
                                                                                                   at=when))
    assert entries(demo) == {}


def test_a_busy_database_gets_no_entries_and_the_same_answers(demo: Workspace) -> None:
    """Another writer holds SQLite's write lock: the answers are the guards' own, nothing is cached, and the
    check does not fail (a cache write is given up, not waited for like a command's own writes)."""
    ids = case_ids(demo)
    when = audit.check_time(D("2025-12-31"))
    live = answers(engine.check_many(demo, ids, at=when))
    other = sqlite3.connect(demo.url.removeprefix("sqlite:///"), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        assert answers(engine.check_many(demo, ids, at=when, cache=True)) == live
        other.execute("ROLLBACK")
    finally:
        other.close()
    assert entries(demo) == {}


# --- and never across a data migration ---------------------------------------------------------------------

def test_a_data_migration_never_leaves_an_old_answer_in_the_cache(ws: Workspace, tmp_path: Path,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    """A revision that changes records without bumping the cases' versions (here: it turns an approval into a
    refusal) runs under a filled cache: the upgrade empties the cache, and an entry of the old revision put back
    is still not reused (the schema revision is part of its basis)."""
    placed_at(ws, "M-1", "迁移小区", "survey", opened="2025-03-01", entered="2025-03-02")
    survey = tmp_path / "survey.pdf"
    survey.write_bytes(b"%PDF survey")
    records.add_document(ws, "M-1", "site_survey", survey, at=at("2025-03-05"))
    records.add_approval(ws, "M-1", "feasibility", authority="江夏区", at=at("2025-03-06"))
    when = audit.check_time(D("2025-03-12"))
    assert engine.check_many(ws, ["M-1"], at=when, cache=True)["M-1"].ready
    kept = entries(ws)["M-1"]
    assert kept["version"] == engine.show_case(ws, "M-1").version

    new = one_more_revision(  # the data migration
        tmp_path, monkeypatch, """op.execute(sa.text("UPDATE approvals SET decision = 'rejected' WHERE kind = """
        """'feasibility'"))""", "the feasibility opinions on record were refused after all", heads=(checkcache,))
    upgraded, _ = Workspace.init(ws.url)
    try:
        assert upgraded.schema_change is not None and upgraded.schema_change.after == new
        assert engine.show_case(upgraded, "M-1").version == kept["version"]  # the migration bumped no version
        assert entries(upgraded) == {}  # emptied by the upgrade
        after = engine.check_many(upgraded, ["M-1"], at=when, cache=True)["M-1"]
        assert [(b.type, b.kind) for b in after.blockers] == [("approval", "feasibility")]
        assert answers({"M-1": after}) == answers({"M-1": engine.check(upgraded, "M-1", at=when)})
        with upgraded.engine.begin() as conn:  # the old answer put back, as it was kept before the upgrade
            conn.execute(update(CHECKS).where(CHECKS.c.case_id == "M-1").values(
                blockers=kept["blockers"], basis=kept["basis"], valid_from=kept["valid_from"],
                valid_until=kept["valid_until"]))
        again = engine.check_many(upgraded, ["M-1"], at=when, cache=True)["M-1"]
        assert [(b.type, b.kind) for b in again.blockers] == [("approval", "feasibility")]
    finally:
        upgraded.dispose()
