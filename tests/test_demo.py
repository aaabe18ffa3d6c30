"""`eightstep demo`: the story of 人大小区 built through the library, told as the seed tells it, and a smaller
complex that gives the audit something to show."""

from __future__ import annotations

import json
from datetime import date, timedelta
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.audit import stalled as audit
from eightstep.audit.progress import progress
from eightstep.audit.report import overview
from eightstep.cli import main
from eightstep.demo import CASES, END, HELD, PILOT, PILOT_REP, RUNNING, SECOND_PILOT, build_demo
from eightstep.demo.renda import OBJECTING
from eightstep.errors import InputError
from eightstep.paperwork.render import Paperwork
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, local_date

RENDA = [c for c in CASES if c.startswith("RD-")]
STAGES = ["consent", "survey", "agreement", "design_notice", "joint_review", "construction", "acceptance",
          "operation"]
# The seed: all eight elevators of 人大小区 delivered within a year of the pilot; 桥头小区 as the audit finds it.
AT_THE_END = {**dict.fromkeys(RENDA, "operation"), "RD-4-1": "acceptance", "RD-4-2": "acceptance",
              SECOND_PILOT: "operation", RUNNING: "design_notice", HELD: "design_notice"}


def documents(ws: Workspace, case_id: str) -> list[object]:
    with ws.session() as session:
        return list(engine.load_records(session, case_id).documents)


def test_builds_both_complexes(demo: Workspace) -> None:
    views = engine.list_cases(demo)
    assert sorted(v.id for v in views) == sorted(CASES)
    assert {v.id: v.complex for v in views} == {c: "人大小区" if c.startswith("RD-") else "桥头小区" for c in CASES}
    assert all(v.status == "active" for v in views)
    for case_id in CASES:
        assert len(records.list_households(demo, case_id)) == 12


def test_the_overview_at_the_storys_end_matches_the_seed(demo: Workspace) -> None:
    """About a year after the pilot's vote, every unit of 人大小区 runs or is at acceptance: eight elevators."""
    vote = next(e for e in engine.history(demo, PILOT) if e.action == "advance" and e.from_stage == "consent")
    assert timedelta(days=330) <= END - local_date(vote.business_at) <= timedelta(days=380)
    ov = overview(demo, as_of=END)
    assert {r.case: r.stage for r in ov.rows} == AT_THE_END
    renda = [r for r in ov.rows if r.complex == "人大小区"]
    assert len(renda) == 8 and not any(r.stalled for r in renda)
    assert [r.case for r in ov.rows if r.stalled] == [HELD]
    running = next(r for r in ov.rows if r.case == RUNNING)
    assert [b.type for b in running.blockers] == ["notice"] and running.blockers[0].until > END


def test_the_audit_at_the_storys_end_shows_only_the_intended_cases(demo: Workspace) -> None:
    found = audit.find(demo, as_of=END)
    assert sorted((f.case, f.type) for f in found.findings) == sorted([(HELD, audit.STAGE_OVERDUE),
                                                                       (SECOND_PILOT, audit.SUBSIDY_UNPAID)])
    held = next(f for f in found.findings if f.case == HELD)
    assert [b.type for b in held.blockers] == ["objection"]


def test_every_stage_was_left_within_its_limit_in_renda(demo: Workspace) -> None:
    """The demo keeps its own rules: no unit of 人大小区 overstays a stage (the calendar decides working days),
    but for the one the story holds up on purpose: 4栋1单元's objection kept it in the notice stage for a month."""
    wf = demo.workflows.get("wuhan").definition
    for case_id in RENDA:
        moves = [e for e in engine.history(demo, case_id) if e.action in ("open", "advance")]
        for entered, left in pairwise(moves):
            stage = wf.stage(entered.to_stage)
            limit = stage.stall_limit
            assert limit is not None
            days = demo.calendar.days_between(local_date(entered.business_at), local_date(left.business_at),
                                              working=limit.calendar == "working")
            if (case_id, stage.id) == (OBJECTING, "design_notice"):
                assert days > limit.days  # the audit flagged it at the time
                continue
            assert days <= limit.days, (case_id, stage.id, days)


def test_no_maintenance_gap_over_15_days(demo: Workspace) -> None:
    for case_id in CASES:
        if AT_THE_END[case_id] != "operation":
            continue
        entered = next(e for e in engine.history(demo, case_id) if e.to_stage == "operation")
        kept = sorted(local_date(doc.issued_at) for doc in documents(demo, case_id)
                      if doc.kind == "maintenance_record")
        days = [local_date(entered.business_at), *kept]
        gaps = [(b - a).days for a, b in pairwise([*days, END])]
        assert max(gaps) <= 15, (case_id, gaps)


def test_pilot_went_through_all_eight_stages_in_2025(demo: Workspace) -> None:
    assert engine.show_case(demo, PILOT).stage == "operation"
    moves = [e for e in engine.history(demo, PILOT) if e.action == "advance"]
    assert [(e.from_stage, e.to_stage) for e in moves] == list(pairwise(STAGES))
    assert local_date(moves[0].business_at).year == 2025 and local_date(moves[-1].business_at) <= date(2025, 12, 31)


def test_pilot_hesitant_owner_changes_her_ballot_after_the_visit(demo: Workspace) -> None:
    from eightstep.records.meetings import list_meetings

    casts = [json.loads(e.details) for e in engine.history(demo, PILOT) if e.action == "vote.cast"]
    room_201 = [c for c in casts if c["room"] == "201"]
    assert [(c["choice"], c["previous"]) for c in room_201] == [("oppose", None), ("agree", "oppose")]
    tally = records.vote_tally(demo, PILOT)
    assert tally.passed and tally.owners == 11  # 陈国华 owns 501 and 502 and counts once
    [visit] = [m for m in list_meetings(demo, PILOT) if m.kinds == ["other"]]
    assert "参观文化路社区已建成加装电梯" in visit.decision and "周桂兰" in visit.attendees


def test_the_storys_people_and_groups(demo: Workspace) -> None:
    from eightstep.records.roles import list_roles

    roles = list_roles(demo, PILOT)
    [rep] = [r for r in roles.roles if r.role == "owner_rep"]
    assert (rep.name, rep.room) == ("王玉慧", "601") and "全职妈妈" in (rep.note or "")
    volunteers = [r for r in roles.roles if r.role == "volunteer"]
    assert len(volunteers) == 3 and all("志愿先锋服务队" in (r.note or "") for r in volunteers)
    force = {r.note for r in roles.roles if r.role == "task_force"}
    assert force == {"河头社区", "纸坊街道办事处", "江夏区行政审批局窗口"}
    sides = {r.side for r in roles.roles if r.role == "negotiator"}
    assert sides == {"high_floor", "low_floor", "community", "technician"}
    assert len([r for r in roles.roles if r.role == "self_management"]) == 4
    assert roles.rota_missing == [] and roles.households == 12  # one administrator from every household
    for case_id in CASES:
        if AT_THE_END[case_id] == "operation":
            assert list_roles(demo, case_id).rota_missing == [], case_id
            kinds = {doc.kind for doc in documents(demo, case_id)}
            assert {"operation_authorization", "usage_convention", "maintenance_contract"} <= kinds


def test_pilot_compared_three_schemes_and_chose_one(demo: Workspace) -> None:
    from eightstep.records.schemes import compare

    result = compare(demo, PILOT)
    assert [(p.scheme.company, p.scheme.price) for p in result.priced] == [
        ("湖北梯安电梯工程有限公司", 48_000_000), ("武汉升华电梯有限公司", 45_500_000),
        ("江城快速电梯科技有限公司", 69_800_000)]
    [chosen] = [p for p in result.priced if p.scheme.chosen]
    assert chosen.scheme.company == "湖北梯安电梯工程有限公司" and "协商小组" in (chosen.scheme.reason or "")
    assert all(p.scheme.file_sha256 for p in result.priced)  # each company's proposal is on file


def test_an_objection_in_renda_was_settled_by_mediation(demo: Workspace) -> None:
    [objection] = records.list_objections(demo, OBJECTING)
    assert objection["status"] == "resolved" and objection["room"] == "201"
    assert [s["step"] for s in objection["steps"]] == ["negotiation", "coordination", "mediation"]


def test_held_unit_is_blocked_by_an_open_objection(demo: Workspace) -> None:
    assert engine.show_case(demo, HELD).stage == "design_notice"
    blockers = engine.check(demo, HELD).blockers
    assert [b.type for b in blockers] == ["objection"]
    [objection] = records.list_objections(demo, HELD)
    assert objection["status"] == "open" and objection["written"] and objection["real_name"]
    assert objection["steps"]


def test_complex_progress_at_the_end(demo: Workspace) -> None:
    from eightstep.audit.stalled import end_of

    result = progress(demo, "人大小区", at=end_of(END) - timedelta(seconds=1))
    assert (result.units, result.target, result.in_operation) == (8, 8, 6)


def test_owner_list_in_gb18030_really_is(demo_dir: Path) -> None:
    [path] = (demo_dir / "owners").glob(f"{PILOT}-*.csv")
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("gb18030").startswith("房号,楼层,面积,业主,业主编号,电话")
    assert len(list((demo_dir / "owners").glob("*.csv"))) == len(CASES)


def test_business_dates_never_run_backwards_nor_past_the_end(demo: Workspace) -> None:
    for case_id in CASES:
        dates = [as_utc(e.business_at) for e in engine.history(demo, case_id) if not e.action.startswith("form.")]
        assert dates == sorted(dates), case_id
        assert local_date(dates[-1]) <= END


def test_deterministic_apart_from_recording_times(demo: Workspace, tmp_path: Path) -> None:
    def story(ws: Workspace) -> list[tuple[object, ...]]:
        return [(e.case_id, e.seq, as_utc(e.business_at), e.actor, e.action, e.from_stage, e.to_stage, e.note,
                 e.details) for case_id in CASES for e in engine.history(ws, case_id)
                if not e.action.startswith("form.")]

    other = build_demo(tmp_path / "again")
    try:
        assert story(other) == story(demo)
    finally:
        other.dispose()


def test_refuses_a_folder_that_is_not_empty(tmp_path: Path) -> None:
    folder = tmp_path / "busy"
    folder.mkdir()
    (folder / "notes.txt").write_text("x", encoding="utf-8")
    with pytest.raises(InputError, match="choose another one or remove it"):
        build_demo(folder)
    assert [p.name for p in folder.iterdir()] == ["notes.txt"]


def test_cli_demo_prints_the_overview_as_of_the_storys_end(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["demo", "--dir", "X"])
    assert result.exit_code == 0, result.output
    assert f"Overview as of {END}: 11 cases, 1 stalled" in result.output
    for case_id in CASES:
        assert case_id in result.output
    assert f"audit stalled --as-of {END}" in result.output
    assert (tmp_path / "X" / "eightstep.db").is_file()
    again = runner.invoke(main, ["demo", "--dir", "X"])
    assert again.exit_code == 1
    assert "choose another one or remove it" in again.output


def test_every_form_of_the_pilot_renders(demo: Workspace) -> None:
    """The pilot went through all eight stages: each of its forms has the data it needs."""
    paperwork = Paperwork(demo)
    forms = [f for f in paperwork.list_forms(PILOT) if f.stages]  # (the supplementary agreement: on demand)
    assert forms and all(f.missing == [] for f in forms), [f.as_dict() for f in forms if f.missing]
    for form in forms:
        rendered = paperwork.render(PILOT, form.id, "html")
        assert "人大小区" in rendered.content.decode("utf-8")


def test_every_event_names_who_acted_in_which_role(demo: Workspace) -> None:
    """The officer acts as officer, each unit's representative as owner_rep."""
    from eightstep.demo import OFFICER

    for case_id in CASES:
        events = [e for e in engine.history(demo, case_id) if not e.action.startswith("form.")]
        roles = {(e.actor.startswith("业主代表 "), e.actor == OFFICER, json.loads(e.details).get("actor_role"))
                 for e in events}
        assert roles == {(True, False, "owner_rep"), (False, True, "officer")}, case_id
    pilot = [(e.action, e.actor, json.loads(e.details)["actor_role"]) for e in engine.history(demo, PILOT)
             if not e.action.startswith("form.")]
    assert pilot[0] == ("open", OFFICER, "officer")
    assert ("advance", PILOT_REP, "owner_rep") in pilot and ("advance", OFFICER, "officer") in pilot


def test_other_units_were_rolled_out_from_their_pilot_without_its_votes(demo: Workspace) -> None:
    for case_id in CASES:
        if case_id in (PILOT, SECOND_PILOT):
            continue
        events = engine.history(demo, case_id)
        opened = json.loads(events[0].details)
        assert events[0].action == "open" and opened["rollout"]["from"] in (PILOT, SECOND_PILOT)
        assert not any(e.action == "vote.cast" for e in events)  # only the unit's own imported ballots


# --- the money and the elevators (issue 17) ------------------------------------------------------------------

def test_the_pilots_money_agrees_to_the_fen(demo: Workspace) -> None:
    """The glass shaft and the compensation to 202 are money lines of the agreement; every household paid its
    share (402 and 701 from the housing provident fund, against their certificates); the subsidy came within the
    limit; the settlement paid back the change orders' 1,800 yuan by the same shares."""
    from eightstep.records.payments import case_money
    from eightstep.records.settlement import load_invoices
    from eightstep.records.subsidy import subsidy_view

    money = case_money(demo, PILOT)
    assert [(line.kind, line.amount, line.room) for line in money.lines] == [
        ("extra", 1_800_000, None), ("compensation", 800_000, "202"), ("change_order", 320_000, None),
        ("change_order", -500_000, None)]
    table = money.table()
    assert (table.figures.cost, table.figures.shared, table.share_sum) == (49_800_000, 30_600_000, 30_600_000)
    book = money.ledger()
    assert all(a.outstanding == 0 and a.compensation_outstanding == 0 for a in book.accounts)
    assert book.account("202").received == 800_000
    assert sum(money.adjustments().values()) == -180_000 == -book.total("refunded")
    assert book.total("net_paid") == 30_600_000 - 180_000
    fund = {p.room: p.on for p in money.payments if p.way == "provident_fund"}
    assert set(fund) == {"402", "701"}
    for cert in money.certificates:
        assert cert.on < fund[cert.room] and cert.amount == book.account(cert.room).share
    assert sum(book.by_way().values()) == book.total("paid")
    with demo.session() as session:
        [invoice] = load_invoices(session, PILOT)
    assert invoice.amount == 49_620_000 == money.figures.cost + money.changes()
    status = subsidy_view(demo, PILOT).status
    assert status.state == "paid" and status.paid == 20_000_000 and (status.paid_on - status.applied_on).days <= 90


def test_every_unit_paid_its_shares_and_the_supplementary_agreement_counted(demo: Workspace) -> None:
    from eightstep.records.payments import case_money

    for case_id in CASES:
        book = case_money(demo, case_id, END).ledger()
        assert book.total("outstanding") == 0, case_id
    objecting = case_money(demo, OBJECTING)
    assert [(line.kind, line.amount, line.room) for line in objecting.lines] == [
        ("extra", 300_000, None), ("compensation", 500_000, "201")]
    amended = [json.loads(e.details) for e in engine.history(demo, OBJECTING) if e.action == "funding.compensation"]
    assert amended and "补充协议" in amended[0]["amend"]


def test_every_elevator_in_operation_has_its_record_and_insurance(demo: Workspace) -> None:
    from eightstep.records.elevator import elevator_view

    for case_id in CASES:
        view = elevator_view(demo, case_id)
        if AT_THE_END[case_id] != "operation":
            assert view.elevator is None, case_id
            continue
        e = view.elevator
        assert e is not None and e.registration_code.startswith("梯11鄂A")
        assert (e.warranty_until - e.warranty_from).days >= 729
        assert any(p.starts <= END <= p.ends for p in view.policies), case_id
    pilot = elevator_view(demo, PILOT)
    assert [i.kind for i in pilot.incidents] == ["entrapment"]
    assert [r.cost for r in pilot.repairs] == [0, 68_000] and sum(pilot.repairs[1].shares.values()) == 68_000
