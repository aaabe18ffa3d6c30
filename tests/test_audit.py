"""The audit: stalled stages around holidays, suspended clocks, objections, upkeep, output shapes, the query plan."""

from __future__ import annotations

import codecs
import csv
import io
import json
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, i18n, records
from eightstep.audit import stalled as audit
from eightstep.cli import main
from eightstep.cli.audit import CSV_COLUMNS
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import read
from eightstep.store.workspace import Workspace
from tests.helpers.walk import at, drive

D = date.fromisoformat


def open_at(ws: Workspace, case_id: str, day: str, workflow: str = "wuhan-2018", complex_name: str = "人大小区",
            ) -> None:
    """wuhan-2018 starts with the survey stage (15 working days); wuhan with consent (60 calendar days)."""
    engine.open_case(ws, case_id, complex_name=complex_name, building=case_id, unit="1", workflow_id=workflow,
                     at=at(day))


def findings(ws: Workspace, as_of: str, kind: str | None = None, **kwargs: object) -> list[audit.Finding]:
    found = audit.find(ws, as_of=D(as_of), **kwargs).findings  # type: ignore[arg-type]
    return [f for f in found if kind is None or f.type == kind]


def one(ws: Workspace, as_of: str, kind: str, case_id: str) -> audit.Finding | None:
    matches = [f for f in findings(ws, as_of, kind) if f.case == case_id]
    assert len(matches) <= 1
    return matches[0] if matches else None


# --- counting days -----------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


@pytest.mark.parametrize("limit", [audit.Limit(15, "working"), audit.Limit(1, "working"), audit.Limit(20, "working"),
                                   audit.Limit(60, "calendar"), audit.Limit(15, "calendar")], ids=str)
@pytest.mark.parametrize("as_of", ["2025-10-08", "2025-10-09", "2025-10-28", "2025-02-05", "2026-01-04"])
def test_cutoff_agrees_with_counting_every_day(cal: WorkCalendar, limit: audit.Limit, as_of: str) -> None:
    """The SQL cutoff is exact: a start date is before it exactly when the count exceeds the limit."""
    day = D(as_of)
    cutoff = audit.limit_cutoff(cal, day, limit)
    assert cutoff is not None
    for back in range(0, 120):
        start = day - timedelta(days=back)
        over = audit.count_days(cal, start, day, limit.working) > limit.days
        assert over == (start < cutoff), (start, cutoff)


# Hand-computed around the 2025 National Day holiday: 10-01..10-08 off; Sunday 09-28 and Saturday 10-11 are
# working days (调休). Working days after Monday 09-29: 09-30 (1), 10-09 (2), 10-10 (3), 10-11 (4), 10-13..17
# (5-9), 10-20..24 (10-14), 10-27 (15), 10-28 (16). After Friday 09-26: 09-28 (1), 09-29 (2), 09-30 (3),
# 10-09 (4) ... 10-23 (15), 10-24 (16).
STALL_TABLE = [
    # workflow, entered, as_of, days in stage, days over (None: not flagged)
    ("wuhan-2018", "2025-09-29", "2025-10-08", 1, None),     # the holiday does not count
    ("wuhan-2018", "2025-09-30", "2025-10-08", 0, None),     # entered the day before the holiday
    ("wuhan-2018", "2025-09-29", "2025-10-27", 15, None),    # the 15th working day: still within the limit
    ("wuhan-2018", "2025-09-29", "2025-10-28", 16, 1),       # the day after: over by one
    ("wuhan-2018", "2025-09-26", "2025-10-08", 3, None),     # Sunday 09-28 is a working day
    ("wuhan-2018", "2025-09-26", "2025-10-23", 15, None),
    ("wuhan-2018", "2025-09-26", "2025-10-24", 16, 1),
    ("wuhan-2018", "2025-09-26", "2025-11-07", 26, 11),
    ("wuhan", "2025-08-01", "2025-09-30", 60, None),          # consent: 60 calendar days, holidays count
    ("wuhan", "2025-08-01", "2025-10-01", 61, 1),
    ("wuhan", "2025-08-01", "2025-10-08", 68, 8),
]


@pytest.mark.parametrize(("workflow", "entered", "as_of", "days", "over"), STALL_TABLE,
                         ids=[f"{r[0]}-{r[1]}-asof-{r[2]}" for r in STALL_TABLE])
def test_stall_around_national_day(ws: Workspace, workflow: str, entered: str, as_of: str, days: int,
                                   over: int | None) -> None:
    open_at(ws, "C1", entered, workflow)
    found = one(ws, as_of, audit.STAGE_OVERDUE, "C1")
    if over is None:
        assert found is None
        return
    assert found is not None
    assert (found.days_in_stage, found.days_over, found.entered_on, found.since) == (days, over, D(entered),
                                                                                     D(entered))
    assert found.limit == (audit.Limit(15, "working") if workflow == "wuhan-2018" else audit.Limit(60, "calendar"))
    assert found.days_in_stage_unit == found.limit.calendar
    assert audit.count_days(ws.calendar, found.due, D(as_of), found.limit.working) == over


def test_stage_entered_by_advance_counts_from_the_advance(ws: Workspace, tmp_path: Path) -> None:
    drive(ws, "RD-1", ["2025-09-01", "2025-09-29"], tmp_path)  # consent -> survey on Monday 09-29
    assert one(ws, "2025-10-27", audit.STAGE_OVERDUE, "RD-1") is None
    found = one(ws, "2025-10-28", audit.STAGE_OVERDUE, "RD-1")
    assert found is not None
    assert (found.stage, found.stage_index, found.stage_title) == ("survey", 2, "现场踏勘与可行性分析")
    assert (found.days_in_stage, found.days_over, found.due) == (16, 1, D("2025-10-27"))
    # Nothing recorded for the survey: the missing approval names who the case waits on.
    assert [b.type for b in found.blockers] == ["document", "approval"]
    assert found.waiting_on == "区行政审批局"


def test_waiting_on_is_the_responsible_party_without_a_missing_approval(ws: Workspace, tmp_path: Path) -> None:
    drive(ws, "RD-1", ["2025-01-02", "2025-01-03", "2025-01-06"], tmp_path)  # in agreement (owners, 90 days)
    found = one(ws, "2025-06-01", audit.STAGE_OVERDUE, "RD-1")
    assert found is not None
    assert found.waiting_on == "本单元业主"
    assert [b.kind for b in found.blockers] == ["agreement"]


def test_suspended_time_does_not_count(ws: Workspace) -> None:
    open_at(ws, "S1", "2025-09-01")  # survey, 15 working days
    engine.suspend(ws, "S1", reason="调解中", at=at("2025-09-03"), review_at=at("2025-09-20"))
    # While suspended: no stall, but the review date is watched (the review day itself is not yet past).
    assert findings(ws, "2025-09-20") == []
    review = one(ws, "2025-09-25", audit.SUSPENSION_REVIEW_OVERDUE, "S1")
    assert review is not None
    assert (review.since, review.due, review.days_over, review.limit) == (D("2025-09-03"), D("2025-09-20"), 5, None)
    assert review.days_in_stage == 2  # 09-02 and 09-03; the clock stands still while suspended
    assert review.blockers[0].type == "status"
    engine.resume(ws, "S1", reason="调解完成", at=at("2025-10-13"))
    # 40 days suspended: the clock now starts on Saturday 10-11 (a working day). Working days after it:
    # 10-13..17 (1-5), 10-20..24 (6-10), 10-27..31 (11-15), 11-03 (16).
    assert findings(ws, "2025-10-31") == []
    found = one(ws, "2025-11-03", audit.STAGE_OVERDUE, "S1")
    assert found is not None
    assert (found.entered_on, found.since, found.days_in_stage, found.days_over) == (
        D("2025-09-01"), D("2025-10-11"), 16, 1)


def test_a_suspension_without_review_date_is_flagged_after_the_workflow_limit(ws: Workspace) -> None:
    """wuhan: suspension.review_within defaults to 90 calendar days."""
    open_at(ws, "S2", "2025-09-01")
    engine.suspend(ws, "S2", reason="诉讼", at=at("2025-09-03"))
    assert one(ws, "2025-12-02", audit.SUSPENSION_REVIEW_OVERDUE, "S2") is None  # day 90
    late = one(ws, "2025-12-03", audit.SUSPENSION_REVIEW_OVERDUE, "S2")
    assert late is not None
    assert (late.since, late.due, late.days_over, late.limit) == (D("2025-09-03"), D("2025-12-02"), 1,
                                                                  audit.Limit(90, "calendar"))
    assert late.message.endswith("with no review date: 91 days (limit 90 days)")  # one language per message
    i18n.set_language("zh")
    late = one(ws, "2025-12-03", audit.SUSPENSION_REVIEW_OVERDUE, "S2")
    assert late is not None and late.message.endswith("未定复查日期，已 91 天（时限 90 天）")
    assert "review" not in late.message


def test_withdrawn_cases_are_not_audited(ws: Workspace) -> None:
    open_at(ws, "W1", "2025-01-02")
    engine.withdraw(ws, "W1", reason="业主放弃", at=at("2025-01-03"))
    assert findings(ws, "2025-12-01") == []


# --- objections --------------------------------------------------------------------------------------------

def test_objection_without_mediation(ws: Workspace) -> None:
    open_at(ws, "OB", "2025-08-01", workflow="wuhan")
    obj = records.add_objection(ws, "OB", grounds="采光", objector="张三", at=at("2025-08-05"))
    records.add_objection(ws, "OB", grounds="噪音", objector="匿名", written=False, at=at("2025-08-05"))
    assert findings(ws, "2025-08-20", audit.OBJECTION_UNMEDIATED) == []  # 15 days: within the limit
    stale = findings(ws, "2025-08-21", audit.OBJECTION_UNMEDIATED)
    assert [(f.case, f.subject, f.since, f.days_over) for f in stale] == [
        ("OB", f"objection #{obj.id}", D("2025-08-05"), 1)]  # the oral objection does not count in Wuhan
    assert stale[0].limit == audit.Limit(15, "calendar")
    assert stale[0].waiting_on == "社区居民委员会"
    records.mediate_objection(ws, "OB", obj.id or 0, step="negotiation", note="上门沟通", at=at("2025-08-25"))
    assert findings(ws, "2025-08-30", audit.OBJECTION_UNMEDIATED) == []
    # A past audit still sees what was true then: the step came later.
    assert len(findings(ws, "2025-08-24", audit.OBJECTION_UNMEDIATED)) == 1


def test_resolved_objection_is_not_flagged(ws: Workspace) -> None:
    open_at(ws, "OB", "2025-08-01", workflow="wuhan")
    obj = records.add_objection(ws, "OB", grounds="费用", objector="李四", at=at("2025-08-05"))
    records.resolve_objection(ws, "OB", obj.id or 0, outcome="撤回", at=at("2025-08-10"))
    assert findings(ws, "2025-09-30", audit.OBJECTION_UNMEDIATED) == []
    assert len(findings(ws, "2025-08-25", audit.OBJECTION_UNMEDIATED)) == 0  # resolved before the limit ran out


# --- operation: maintenance and periodic inspection -------------------------------------------------------

ALL_STAGES = ["2025-01-02", "2025-01-03", "2025-01-06", "2025-01-07", "2025-02-10", "2025-02-11", "2025-03-03",
              "2025-03-04"]  # ends in operation on 2025-03-04


def document(ws: Workspace, case_id: str, kind: str, day: str, folder: Path) -> None:
    path = folder / f"{kind}-{day}.txt"
    path.write_text(f"{kind} {day}", encoding="utf-8")
    records.add_document(ws, case_id, kind, path, at=at(day))


def test_maintenance_overdue(ws: Workspace, tmp_path: Path) -> None:
    drive(ws, "OP", ALL_STAGES, tmp_path)
    assert findings(ws, "2025-03-19") == []  # 15 days after entering operation
    missing = one(ws, "2025-03-20", audit.MAINTENANCE_OVERDUE, "OP")
    assert missing is not None
    assert (missing.since, missing.due, missing.days_over, missing.waiting_on) == (
        D("2025-03-04"), D("2025-03-19"), 1, "电梯维保单位")
    assert missing.message == "no Maintenance record since 2025-03-04: 16 days ago, due every 15 days"
    document(ws, "OP", "maintenance_record", "2025-03-18", tmp_path)
    document(ws, "OP", "maintenance_record", "2025-04-01", tmp_path)
    assert one(ws, "2025-04-16", audit.MAINTENANCE_OVERDUE, "OP") is None
    late = one(ws, "2025-04-20", audit.MAINTENANCE_OVERDUE, "OP")
    assert late is not None and (late.since, late.days_over) == (D("2025-04-01"), 4)
    # As of 03-31 the record of 04-01 did not exist yet: the one of 03-18 counts, 13 days old.
    assert one(ws, "2025-03-31", audit.MAINTENANCE_OVERDUE, "OP") is None
    assert one(ws, "2025-04-03", audit.MAINTENANCE_OVERDUE, "OP") is None


def test_periodic_inspection_due_and_overdue(ws: Workspace, tmp_path: Path) -> None:
    drive(ws, "OP", ALL_STAGES, tmp_path)
    # Before the first periodic inspection the certificate counts from entering operation (2025-03-04):
    # it expires 365 days later, on 2026-03-04; the request is due 30 days before, from 2026-02-02.
    assert one(ws, "2026-02-01", audit.INSPECTION_DUE, "OP") is None
    due = one(ws, "2026-02-02", audit.INSPECTION_DUE, "OP")
    assert due is not None
    assert (due.since, due.due, due.days_over, due.waiting_on) == (D("2025-03-04"), D("2026-03-04"), -30,
                                                                   "使用管理单位")
    last_day = one(ws, "2026-03-04", audit.INSPECTION_DUE, "OP")
    assert last_day is not None and last_day.days_over == 0
    overdue = one(ws, "2026-03-05", audit.INSPECTION_OVERDUE, "OP")
    assert overdue is not None and overdue.days_over == 1
    assert one(ws, "2026-03-05", audit.INSPECTION_DUE, "OP") is None
    # An inspection report renews it for a year from its date.
    document(ws, "OP", "periodic_inspection", "2026-03-10", tmp_path)
    assert one(ws, "2026-04-01", audit.INSPECTION_OVERDUE, "OP") is None
    assert one(ws, "2026-04-01", audit.INSPECTION_DUE, "OP") is None
    assert one(ws, "2026-03-09", audit.INSPECTION_OVERDUE, "OP") is not None  # the report did not exist yet


# --- several workflows, complexes, order -------------------------------------------------------------------

def test_each_workflow_keeps_its_own_limits(ws: Workspace, tmp_path: Path) -> None:
    """Wuhan's joint review allows 10 working days, Guangzhou's 15: one query, a cutoff per workflow."""
    days = ["2025-03-03", "2025-03-04", "2025-03-05", "2025-03-06", "2025-04-01"]  # joint_review from 04-01
    drive(ws, "WH", days, tmp_path)
    drive(ws, "GZ", days, tmp_path, complex_name="越秀小区", workflow="guangzhou")
    # Working days after Tuesday 04-01: 04-02, 04-03 (1-2), Qingming 04-04..06 off, 04-07..11 (3-7),
    # 04-14..16 (8-10), 04-17 (11) ... 04-22 (14), 04-23 (15), 04-24 (16).
    wh = one(ws, "2025-04-17", audit.STAGE_OVERDUE, "WH")
    assert wh is not None and (wh.stage, wh.days_in_stage, wh.days_over) == ("joint_review", 11, 1)
    assert one(ws, "2025-04-17", audit.STAGE_OVERDUE, "GZ") is None
    gz = one(ws, "2025-04-24", audit.STAGE_OVERDUE, "GZ")
    assert gz is not None and (gz.complex, gz.workflow_id, gz.days_in_stage, gz.days_over) == (
        "越秀小区", "guangzhou", 16, 1)
    assert gz.limit == audit.Limit(15, "working")
    # --complex narrows the audit to one complex.
    assert {f.case for f in findings(ws, "2025-04-24", complex_name="越秀小区")} == {"GZ"}


def test_most_overdue_first(ws: Workspace) -> None:
    open_at(ws, "A", "2025-09-29")
    open_at(ws, "B", "2025-09-01")
    open_at(ws, "C", "2025-08-01", workflow="wuhan")
    found = findings(ws, "2025-11-03")
    # C: 94 calendar days against 60; B: 41 working days against 15; A: 20 working days against 15.
    assert [(f.case, f.days_over) for f in found] == [("C", 34), ("B", 26), ("A", 5)]


def test_unknown_complex(ws: Workspace) -> None:
    from eightstep.errors import NotFoundError

    with pytest.raises(NotFoundError, match="no complex named '无此小区'"):
        audit.find(ws, as_of=D("2025-01-01"), complex_name="无此小区")


def test_stall_query_uses_the_index(ws: Workspace, tmp_path: Path) -> None:
    """EXPLAIN QUERY PLAN: one range search on ix_cases_stage_clock per OR term, no table scan.

    Seen with SQLite 3.x: ``MULTI-INDEX OR`` then, per term, ``SEARCH cases USING INDEX ix_cases_stage_clock
    (stage=? AND clock_started_at<?)``. (With --complex, the planner searches ix_cases_complex_id instead.)
    """
    open_at(ws, "A", "2025-09-29")
    open_at(ws, "G", "2025-09-29", workflow="guangzhou")
    with ws.engine.connect() as conn:
        scope = audit.AuditScope(ws, conn, D("2025-10-28"), None, read.workflows(conn, ws.workflows))
        query = audit.stall_query(scope)
        sql = str(query.compile(dialect=ws.engine.dialect, compile_kwargs={"literal_binds": True}))
        plan = [row[-1] for row in conn.exec_driver_sql("EXPLAIN QUERY PLAN " + sql)]
        terms = len(audit.stall_terms(scope))
    assert "MULTI-INDEX OR" in plan
    searches = [p for p in plan if p.startswith("SEARCH")]
    assert len(searches) == terms == 7 + 7  # two workflows, seven stages with a limit each
    assert all("USING INDEX ix_cases_stage_clock (stage=? AND clock_started_at<?)" in s for s in searches)
    assert not any(p.startswith("SCAN cases") for p in plan)


# --- the command line --------------------------------------------------------------------------------------

@pytest.fixture
def audited(ws: Workspace, db_path: Path) -> Path:
    open_at(ws, "A-1", "2025-09-29")                        # survey, 1 working day over on 10-28
    open_at(ws, "B-1", "2025-08-01", workflow="wuhan")      # consent, 28 days over on 10-28
    records.add_objection(ws, "B-1", grounds="采光", objector="王五", at=at("2025-09-01"))
    open_at(ws, "C-1", "2025-10-20")                        # fine
    return db_path


def run(runner: CliRunner, db: Path, *args: str) -> tuple[int, str, bytes]:
    result = runner.invoke(main, ["--db", str(db), "audit", "stalled", *args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result.exit_code, result.stdout, result.stdout_bytes


def test_cli_text(runner: CliRunner, audited: Path) -> None:
    code, out, _ = run(runner, audited, "--as-of", "2025-10-28")
    assert code == 0
    lines = out.splitlines()
    assert lines[0] == "Audit as of 2025-10-28 (Asia/Shanghai): 3 findings"
    assert lines[2].split() == ["over", "type", "case", "unit", "stage", "since", "limit", "waiting", "on"]
    assert [line.split()[:3] for line in lines[4:7]] == [["+42", "objection_unmediated", "B-1"],
                                                         ["+28", "stage_overdue", "B-1"],
                                                         ["+1", "stage_overdue", "A-1"]]
    assert "    [approval] awaiting Feasibility opinion from 区行政审批局" in lines


def test_cli_nothing_found_exits_0(runner: CliRunner, audited: Path) -> None:
    assert run(runner, audited, "--as-of", "2025-09-15")[:2] == (0, "Audit as of 2025-09-15 (Asia/Shanghai): "
                                                                    "0 findings\n")
    code, out, _ = run(runner, audited, "--as-of", "2025-09-15", "--json")
    assert (code, json.loads(out)) == (0, [])


def test_cli_json_shape(runner: CliRunner, audited: Path) -> None:
    code, out, _ = run(runner, audited, "--as-of", "2025-10-28", "--json")
    assert code == 0
    data = json.loads(out)
    assert [(d["type"], d["case"]) for d in data] == [("objection_unmediated", "B-1"), ("stage_overdue", "B-1"),
                                                       ("stage_overdue", "A-1")]
    a1 = data[2]
    assert set(a1) == {"type", "case", "complex", "building", "unit", "workflow", "stage", "stage_index",
                       "stage_title", "status", "entered_on", "days_in_stage", "days_in_stage_unit", "limit",
                       "since", "due", "days_over", "waiting_on", "subject", "message", "blockers", "provisional"}
    assert a1["provisional"] is False
    assert {k: a1[k] for k in ("case", "complex", "stage", "stage_title", "entered_on", "days_in_stage", "limit",
                               "days_over", "due", "waiting_on")} == {
        "case": "A-1", "complex": "人大小区", "stage": "survey", "stage_title": "可行性分析",
        "entered_on": "2025-09-29", "days_in_stage": 16, "limit": {"days": 15, "calendar": "working"},
        "days_over": 1, "due": "2025-10-27", "waiting_on": "区行政审批局"}
    assert a1["workflow"] == {"id": "wuhan-2018", "version": "2018.3"}
    assert [b["type"] for b in a1["blockers"]] == ["document", "document", "approval"]
    assert a1["blockers"][2] == {
        "type": "approval", "kind": "feasibility", "authority": "区行政审批局",
        "message": "awaiting Feasibility opinion from 区行政审批局",
        "remedy": {"action": "approval.add", "args": {"kind": "feasibility", "authority": "区行政审批局"}}}


def test_cli_csv_shape(runner: CliRunner, audited: Path) -> None:
    code, out, raw = run(runner, audited, "--as-of", "2025-10-28", "--csv")
    assert code == 0, out
    assert raw.startswith(codecs.BOM_UTF8)  # Excel on Chinese Windows needs it to read UTF-8
    text = raw.decode("utf-8-sig")
    assert "\r\n" in text
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == CSV_COLUMNS
    assert len(rows) == 4
    row = dict(zip(rows[0], rows[3], strict=True))
    assert (row["type"], row["case"], row["stage_title"], row["days_in_stage"], row["limit_days"],
            row["limit_calendar"], row["days_over"], row["waiting_on"]) == (
        "stage_overdue", "A-1", "可行性分析", "16", "15", "working", "1", "区行政审批局")
    assert "awaiting Feasibility opinion from 区行政审批局" in row["blockers"]


def test_cli_as_of_is_reproducible(runner: CliRunner, audited: Path, ws: Workspace) -> None:
    first = run(runner, audited, "--as-of", "2025-10-28", "--json")[1]
    # Later records do not change a past audit.
    records.mediate_objection(ws, "B-1", 1, step="negotiation", note="协商", at=at("2025-11-02"))
    open_at(ws, "D-1", "2025-11-01")
    assert run(runner, audited, "--as-of", "2025-10-28", "--json")[1] == first
    assert run(runner, audited, "--as-of", "2025/10/28", "--json")[1] == first
    later = json.loads(run(runner, audited, "--as-of", "2025-11-05", "--json")[1])
    assert "objection_unmediated" not in {d["type"] for d in later}


def test_a_past_audit_stays_the_same_when_the_cases_move_on(ws: Workspace, tmp_path: Path) -> None:
    """Cases judged as they stood on the audit date: moves, records and resolutions after it change nothing."""
    open_at(ws, "A", "2025-09-01")                      # survey, far over its 15 working days on 10-28
    open_at(ws, "B", "2025-08-01", workflow="wuhan")   # consent, 28 days over
    open_at(ws, "C", "2025-10-20")                      # within its limit
    objection = records.add_objection(ws, "B", grounds="采光", objector="王五", at=at("2025-09-01"))
    drive(ws, "OP", ALL_STAGES, tmp_path)               # in operation since 2025-03-04, never maintained
    engine.suspend(ws, "OP", reason="维保单位更换", at=at("2025-09-15"), review_at=at("2025-10-15"))
    day = D("2025-10-28")
    before = [f.as_dict() for f in audit.find(ws, as_of=day).findings]
    assert {(f["case"], f["type"]) for f in before} == {
        ("A", audit.STAGE_OVERDUE), ("B", audit.STAGE_OVERDUE), ("B", audit.OBJECTION_UNMEDIATED),
        ("OP", audit.SUSPENSION_REVIEW_OVERDUE)}
    # what happened after the audit date
    survey = ws.workflows.get("wuhan-2018").definition.stage("survey").requires
    for kind in survey.documents:
        document(ws, "A", kind, "2025-11-04", tmp_path)
    for kind in survey.approvals:
        records.add_approval(ws, "A", kind, authority="江夏区行政审批局", at=at("2025-11-04"))
    engine.advance(ws, "A", at=at("2025-11-05"))
    engine.suspend(ws, "B", reason="诉讼", at=at("2025-11-01"))
    records.mediate_objection(ws, "B", objection.id, step="negotiation", note="协商", at=at("2025-11-02"))
    records.resolve_objection(ws, "B", objection.id, outcome="给予补偿", at=at("2025-11-03"))
    engine.withdraw(ws, "C", reason="业主放弃", at=at("2025-11-04"))
    engine.resume(ws, "OP", reason="新维保单位", at=at("2025-11-05"))
    document(ws, "OP", "maintenance_record", "2025-11-06", tmp_path)
    assert [f.as_dict() for f in audit.find(ws, as_of=day).findings] == before
    # and today's audit sees today's state
    now = {(f.case, f.type) for f in audit.find(ws, as_of=D("2025-11-20")).findings}
    assert ("A", audit.STAGE_OVERDUE) not in now and ("B", audit.OBJECTION_UNMEDIATED) not in now
    assert ("OP", audit.SUSPENSION_REVIEW_OVERDUE) not in now


def test_cli_options(runner: CliRunner, audited: Path) -> None:
    result = runner.invoke(main, ["--db", str(audited), "audit", "stalled", "--json", "--csv"])
    assert result.exit_code == 2 and "choose one of --json, --csv" in result.output
    result = runner.invoke(main, ["--db", str(audited), "audit", "stalled", "--as-of", "2025-13-01"])
    assert result.exit_code == 2 and "'2025-13-01' is not a date" in result.output
    result = runner.invoke(main, ["--db", str(audited), "audit", "stalled", "--complex", "无此小区"])
    assert (result.exit_code, result.output) == (1, "Error: no complex named '无此小区'\n"
                                                    "  Next: eightstep case list\n")
    help_text = runner.invoke(main, ["audit", "stalled", "--help"]).output
    assert "UTF-8 with a byte-order mark" in " ".join(help_text.split()) and "Excel" in help_text


def test_cli_default_and_future_as_of(runner: CliRunner, audited: Path) -> None:
    code, out, _ = run(runner, audited)
    assert code == 0
    assert out.startswith(f"Audit as of {audit.today()} (Asia/Shanghai): ")
    # A date ahead shows what will be overdue by then (blockers as of now: no record can be dated later).
    ahead = (audit.today() + timedelta(days=3)).isoformat()
    code, out, _ = run(runner, audited, "--as-of", ahead, "--json")
    assert code == 0
    assert {d["case"] for d in json.loads(out)} == {"A-1", "B-1", "C-1"}


def test_streamed_findings_are_the_found_ones(ws: Workspace, audited: Path) -> None:
    """``stream`` (blockers a chunk at a time, what the JSON and CSV outputs use) gives what ``find`` gives."""
    whole = [f.as_dict() for f in audit.find(ws, as_of=D("2025-10-28")).findings]
    result, blocked = audit.stream(ws, as_of=D("2025-10-28"), chunk=1)
    assert [f.blockers for f in result.findings] == [(), (), ()]  # not yet: they come with the stream
    assert [f.as_dict() for f in blocked] == whole
    assert result.findings == []  # taken out as they were streamed: nothing left holding their blockers
    assert result.cases_checked == 2 and any(f["blockers"] for f in whole)
