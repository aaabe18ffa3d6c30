"""`eightstep demo`: the story of 人大小区 built through the library, and its overview."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from itertools import pairwise
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.audit.report import overview
from eightstep.cli import main
from eightstep.demo import HELD, PILOT, build_demo
from eightstep.errors import InputError
from eightstep.paperwork.render import Paperwork
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, local_date

CASES = [f"RD-{b}-{u}" for b in range(1, 5) for u in (1, 2)]
STAGES = ["consent", "survey", "agreement", "design_notice", "joint_review", "construction", "acceptance",
          "operation"]


def test_builds_eight_cases_across_all_stages(demo: Workspace) -> None:
    views = engine.list_cases(demo)
    assert [v.id for v in views] == CASES
    assert {v.complex for v in views} == {"人大小区"}
    assert sorted(v.stage for v in views) == sorted(STAGES)  # one unit in each stage at the end
    assert all(v.status == "active" for v in views)
    for case_id in CASES:
        assert len(records.list_households(demo, case_id)) == 12


def test_pilot_went_through_all_eight_stages_in_order(demo: Workspace) -> None:
    assert engine.show_case(demo, PILOT).stage == "operation"
    moves = [e for e in engine.history(demo, PILOT) if e.action == "advance"]
    assert [(e.from_stage, e.to_stage) for e in moves] == list(pairwise(STAGES))
    dates = [as_utc(e.business_at) for e in moves]
    assert all(a < b for a, b in pairwise(dates))
    assert local_date(dates[0]).year == 2025 and local_date(dates[-1]) <= date(2025, 12, 31)


def test_pilot_hesitant_owner_changes_her_ballot(demo: Workspace) -> None:
    casts = [json.loads(e.details) for e in engine.history(demo, PILOT) if e.action == "vote.cast"]
    room_201 = [c for c in casts if c["room"] == "201"]
    assert [(c["choice"], c["previous"]) for c in room_201] == [("oppose", None), ("agree", "oppose")]
    tally = records.vote_tally(demo, PILOT)
    assert tally.passed and tally.owners == 11  # 陈国华 owns 501 and 502 and counts once


def test_pilot_notice_period_and_objection(demo: Workspace) -> None:
    events = engine.history(demo, PILOT)
    leave = next(e for e in events if e.action == "advance" and e.from_stage == "design_notice")
    # Posted 2025-04-21; ten working days run over the May Day holiday to 2025-05-07 inclusive.
    assert demo.calendar.add_working_days(date(2025, 4, 21), 10) == date(2025, 5, 7)
    assert local_date(leave.business_at) > date(2025, 5, 7)
    [objection] = records.list_objections(demo, PILOT)
    assert objection["status"] == "resolved" and objection["room"] == "202" and "采光" in objection["grounds"]
    assert [s["step"] for s in objection["steps"]] == ["negotiation", "coordination"]


def test_business_dates_never_run_backwards_nor_past_the_limit(demo: Workspace) -> None:
    for case_id in CASES:
        dates = [as_utc(e.business_at) for e in engine.history(demo, case_id)]
        assert dates == sorted(dates), case_id
        assert local_date(dates[-1]) <= date(2026, 11, 1)


def test_held_unit_is_blocked_by_an_open_objection(demo: Workspace) -> None:
    assert engine.show_case(demo, HELD).stage == "design_notice"
    blockers = engine.check(demo, HELD).blockers
    assert [b.type for b in blockers] == ["objection"]
    [objection] = records.list_objections(demo, HELD)
    assert objection["status"] == "open" and objection["written"] and objection["real_name"]
    assert objection["steps"]


def test_a_unit_in_consent_shows_a_shortfall(demo: Workspace) -> None:
    in_consent = [v.id for v in engine.list_cases(demo, stage="consent")]
    assert in_consent
    blockers = engine.check(demo, in_consent[0]).blockers
    assert blockers and {b.type for b in blockers} == {"consent"}
    assert any(e.action == "vote.import" for e in engine.history(demo, in_consent[0]))


def test_overview_names_every_case(demo: Workspace) -> None:
    ov = overview(demo)
    assert sorted(r.case for r in ov.rows) == sorted(CASES)
    held = next(r for r in ov.rows if r.case == HELD)
    assert held.track.startswith("●●●●○○○○") and held.stage == "design_notice"
    assert any(b.type == "objection" for b in held.blockers)
    assert {t.stage: t.cases for t in ov.totals}["operation"] == 1


def test_owner_list_in_gb18030_really_is(demo_dir: Path) -> None:
    [path] = (demo_dir / "owners").glob(f"{PILOT}-*.csv")
    data = path.read_bytes()
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    assert data.decode("gb18030").startswith("房号,楼层,面积,业主,业主编号,电话")
    assert len(list((demo_dir / "owners").glob("*.csv"))) == 8
    assert any((demo_dir / "files-in" / PILOT).iterdir())


def test_deterministic_apart_from_recording_times(demo: Workspace, tmp_path: Path) -> None:
    def story(ws: Workspace) -> list[tuple[object, ...]]:
        return [(e.case_id, e.seq, as_utc(e.business_at), e.actor, e.action, e.from_stage, e.to_stage, e.note,
                 e.details) for case_id in CASES for e in engine.history(ws, case_id)]

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


def test_cli_demo(runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["demo", "--dir", "X"])
    assert result.exit_code == 0, result.output
    for case_id in CASES:
        assert case_id in result.output
    assert "S8 operation 运行维护管理" in result.output
    assert (tmp_path / "X" / "eightstep.db").is_file()

    again = runner.invoke(main, ["demo", "--dir", "X"])
    assert again.exit_code == 1
    assert "choose another one or remove it" in again.output


def test_every_form_of_the_pilot_renders(demo: Workspace) -> None:
    """The pilot went through all eight stages: each of its forms has the data it needs."""
    paperwork = Paperwork(demo)
    forms = paperwork.list_forms(PILOT)
    assert len(forms) == 10 and all(f.missing == [] for f in forms), [f.as_dict() for f in forms if f.missing]
    for form in forms:
        rendered = paperwork.render(PILOT, form.id, "html")
        assert "人大小区" in rendered.content.decode("utf-8")


# --- the community's method (issue 6) --------------------------------------------------------------------

def test_pilot_compared_three_schemes_and_chose_one(demo: Workspace) -> None:
    from eightstep.records import funding
    from eightstep.records.schemes import compare

    result = compare(demo, PILOT)
    assert [(p.scheme.company, p.scheme.price) for p in result.priced] == [
        ("湖北梯安电梯工程有限公司", 48_000_000), ("武汉升华电梯有限公司", 45_500_000),
        ("江城快速电梯科技有限公司", 69_800_000)]
    [chosen] = [p for p in result.priced if p.scheme.chosen]
    assert chosen.scheme.company == "湖北梯安电梯工程有限公司" and "协商小组" in (chosen.scheme.reason or "")
    assert all(p.scheme.file_sha256 for p in result.priced)  # each company's proposal is on file
    assert all(p.after.share_sum == p.scheme.price - 20_000_000 for p in result.priced)
    assert funding.case_shares(demo, PILOT).figures.total == 48_000_000  # the forms use the chosen price


def test_pilot_canvass_turned_the_hesitant_second_floor_owner(demo: Workspace) -> None:
    from eightstep.records.canvass import canvass_list

    events = [e for e in engine.history(demo, PILOT) if e.action in ("canvass.add", "vote.cast")]
    room_201 = [(e.action, json.loads(e.details).get("stance") or json.loads(e.details)["choice"])
                for e in events if json.loads(e.details)["room"] == "201"]
    assert room_201 == [("vote.cast", "oppose"), ("canvass.add", "hesitant"), ("canvass.add", "supportive"),
                        ("vote.cast", "agree")]
    rows = {r.room: r for r in canvass_list(demo, PILOT).rows}
    assert rows["201"].stance == "supportive" and rows["201"].concerns[0].kinds == ["noise"]
    assert rows["202"].stance == "opposed" and rows["202"].concerns[0].kinds == ["light", "ventilation"]


def test_pilot_roles_meetings_and_who_acted_in_which_role(demo: Workspace) -> None:
    from eightstep.records.meetings import list_meetings
    from eightstep.records.roles import list_roles

    roles = list_roles(demo, PILOT)
    assert [r.name for r in roles.roles if r.role == "owner_rep"] == ["李建国"]
    sides = {r.side for r in roles.roles if r.role == "negotiator"}
    assert sides == {"high_floor", "low_floor", "community", "technician"}
    assert len([r for r in roles.roles if r.role == "self_management"]) == 4
    assert roles.rota_missing == [] and roles.households == 12  # one administrator from every household
    meetings = list_meetings(demo, PILOT)
    assert [m.kinds for m in meetings] == [["brand", "budget", "cost_shares"], ["objection_remedy"]]
    events = engine.history(demo, PILOT)
    signed = next(e for e in events if e.action == "advance" and e.from_stage == "agreement")
    assert as_utc(signed.business_at) > meetings[0].held_at  # negotiated before the agreement
    choice = next(e for e in events if e.action == "scheme.choose")
    assert (choice.actor, json.loads(choice.details)["actor_role"]) == ("业主代表 李建国", "owner_rep")


def test_every_event_names_who_acted_in_which_role(demo: Workspace) -> None:
    """The officer acts as officer, each unit's representative as owner_rep: by --as where the story says so,
    else by the representative's role on record (the funding and the parties named for the forms)."""
    from eightstep.demo import OFFICER, PILOT_REP

    for case_id in CASES:
        # (the forms other tests here render are logged too, by "tester": not the story's)
        events = [e for e in engine.history(demo, case_id) if not e.action.startswith("form.")]
        roles = {(e.actor.startswith("业主代表 "), e.actor == OFFICER, json.loads(e.details).get("actor_role"))
                 for e in events}
        assert roles == {(True, False, "owner_rep"), (False, True, "officer")}, case_id
    pilot = [(e.action, e.actor, json.loads(e.details)["actor_role"]) for e in engine.history(demo, PILOT)
             if not e.action.startswith("form.")]
    assert pilot[0] == ("open", OFFICER, "officer")
    assert ("advance", PILOT_REP, "owner_rep") in pilot and ("advance", OFFICER, "officer") in pilot
    assert {r for a, _, r in pilot if a in ("funding.set", "party.set")} == {"owner_rep"}
    assert {r for a, _, r in pilot if a.startswith(("objection.", "vote.", "approval."))} == {"officer"}


def test_other_units_were_rolled_out_from_the_pilot_without_its_votes(demo: Workspace) -> None:
    from eightstep.records.schemes import compare

    pilot_rooms_voted = {json.loads(e.details)["room"] for e in engine.history(demo, PILOT)
                         if e.action == "vote.cast"}
    assert len(pilot_rooms_voted) == 12
    for case_id in CASES:
        if case_id == PILOT:
            continue
        events = engine.history(demo, case_id)
        opened = json.loads(events[0].details)
        assert events[0].action == "open" and opened["rollout"]["from"] == PILOT
        assert opened["rollout"]["proposal"]["company"] == "湖北梯安电梯工程有限公司"
        assert not any(e.action == "vote.cast" for e in events)  # only the unit's own imported ballots
        [priced] = compare(demo, case_id).priced
        assert priced.scheme.proposed_from == PILOT
        stage = engine.show_case(demo, case_id).stage
        assert priced.scheme.chosen is (STAGES.index(stage) > STAGES.index("agreement"))


def test_complex_progress_and_the_canvass_of_the_unit_still_voting(demo: Workspace) -> None:
    from eightstep.audit.progress import progress
    from eightstep.records.canvass import canvass_list

    result = progress(demo, "人大小区", at=as_utc(datetime(2026, 11, 1, tzinfo=UTC)))
    assert (result.units, result.target, result.in_operation) == (8, 8, 1)
    assert result.last_unit is not None and result.last_unit > date(2026, 11, 1)
    assert all(e.basis == "observed" for e in result.expected)  # every stage was passed at least once
    voting = canvass_list(demo, "RD-4-2")
    assert voting.whatif.needed and not voting.whatif.passed
    assert voting.rows[0].rank == 1 and voting.rows[0].needed_after == voting.whatif.needed - 1
    assert {c.kind for c in voting.concerns} >= {"noise", "cost", "light"}
