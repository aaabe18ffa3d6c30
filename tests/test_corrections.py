"""Corrections that never erase: every kind of record voided (a role ended, a household corrected) by an appended
event with a reason; the row stays, the history says what was wrong and who corrected it, and the guards,
tallies, what-if, forms, listings and audit leave the voided record out."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.audit.verify import verify
from eightstep.errors import InputError, NotFoundError
from eightstep.store.workspace import Workspace
from tests.conftest import write_households
from tests.helpers import cli
from tests.test_recording import CASE, t


@pytest.fixture
def case(ws: Workspace, tmp_path: Path) -> Workspace:
    """A wuhan case at consent: 12 households, 9 agree, 1 opposes; the application on file."""
    engine.open_case(ws, CASE, complex_name="幸福小区", building="5", unit="1", at=t("2025-03-01"))
    records.import_households(ws, CASE, write_households(tmp_path / "owners.csv"), at=t("2025-03-01"))
    votes = tmp_path / "votes.csv"
    rooms = [f"{f}0{k}" for f in range(2, 8) for k in (1, 2)]
    votes.write_text("room,choice,at\n" + "".join(f"{r},{'oppose' if r == '702' else 'agree'},2025-03-02\n"
                                                  for r in rooms[2:]), encoding="utf-8")
    records.import_votes(ws, CASE, votes)
    scan = tmp_path / "application.pdf"
    scan.write_bytes(b"%PDF application")
    records.add_document(ws, CASE, "application", scan, at=t("2025-03-03"))
    return ws


def run(runner: CliRunner, ws: Workspace, *args: str, code: int = 0) -> str:
    return cli.run(runner, ws.url.removeprefix("sqlite:///"), *args, code=code).output


def blockers(ws: Workspace) -> list[tuple[str, str | None]]:
    return [(b.type, b.kind) for b in engine.check(ws, CASE, at=t("2025-03-10")).blockers]


def last_event(ws: Workspace) -> Any:
    return engine.history(ws, CASE)[-1]


def column(ws: Workspace, query: str) -> list[Any]:
    with sqlite3.connect(ws.url.removeprefix("sqlite:///")) as con:
        rows = con.execute(query).fetchall()
    con.close()
    return rows


def test_a_voided_document_no_longer_counts_and_its_row_stays(case: Workspace, runner: CliRunner) -> None:
    assert ("document", "application") not in blockers(case)
    (doc_id,) = [d["id"] for d in json.loads(run(runner, case, "doc", "list", CASE, "--json"))]
    out = run(runner, case, "doc", "void", CASE, str(doc_id), "--reason", "扫描件是别的单元的", "--actor", "李敏",
              "--at", "2025-03-05")
    assert out == f"{CASE}: document #{doc_id} voided (扫描件是别的单元的)\n"
    assert ("document", "application") in blockers(case)
    # also as of a day before the void: a void says the record was wrong, not that it stopped counting then
    earlier = engine.check(case, CASE, at=t("2025-03-04")).blockers
    assert ("document", "application") in [(b.type, b.kind) for b in earlier]
    assert json.loads(run(runner, case, "doc", "list", CASE, "--json")) == []
    event = last_event(case)
    assert (event.action, event.actor, event.note) == ("doc.void", "李敏", "扫描件是别的单元的")
    details = json.loads(event.details)
    assert details["record"] == "document" and details["id"] == doc_id
    assert details["was"]["kind"] == "application" and details["was"]["original_name"] == "application.pdf"
    assert column(case, f"SELECT kind, void_reason FROM documents WHERE id = {doc_id}") == [
        ("application", "扫描件是别的单元的")]
    assert verify(case).ok
    again = run(runner, case, "doc", "void", CASE, str(doc_id), "--reason", "再来一次", code=1)
    assert f"case {CASE} has no document #{doc_id} that counts" in again


def test_a_reason_is_required(case: Workspace, runner: CliRunner) -> None:
    assert "Missing option '--reason'" in run(runner, case, "doc", "void", CASE, "1", code=2)
    with pytest.raises(InputError, match="a reason is required"):
        records.void(case, CASE, "document", 1, reason="  ")


def test_a_voided_ballot_leaves_the_tally(case: Workspace, runner: CliRunner) -> None:
    before = records.vote_tally(case, CASE)
    run(runner, case, "vote", "void", CASE, "702", "--reason", "702室从未投票，录入错误")
    after = records.vote_tally(case, CASE)
    assert (after.participants, after.oppose) == (before.participants - 1, before.oppose - 1)
    assert [h["vote"] for h in records.list_households(case, CASE) if h["room"] == "702"] == [None]
    assert verify(case).ok


def test_an_earlier_ballot_counts_again_when_the_later_one_is_voided(case: Workspace) -> None:
    records.cast_vote(case, CASE, "301", "oppose", at=t("2025-03-04"))
    assert [h["vote"] for h in records.list_households(case, CASE) if h["room"] == "301"] == ["oppose"]
    records.void(case, CASE, "ballot", "301", reason="记错了房号")
    assert [h["vote"] for h in records.list_households(case, CASE) if h["room"] == "301"] == ["agree"]


def test_a_household_voided_and_one_corrected(case: Workspace, runner: CliRunner) -> None:
    total = records.vote_tally(case, CASE)
    run(runner, case, "household", "void", CASE, "201", "--reason", "201室不在本单元")
    assert "201" not in [h["room"] for h in records.list_households(case, CASE)]
    assert records.vote_tally(case, CASE).owners == total.owners - 1
    out = run(runner, case, "household", "correct", CASE, "202", "--area", "86.50", "--owner", "王芳",
              "--reason", "按不动产登记簿更正")
    assert out == f"{CASE} room 202: corrected area_centi, owner (按不动产登记簿更正)\n"
    (row,) = [h for h in records.list_households(case, CASE) if h["room"] == "202"]
    assert (row["area"], row["owner"]) == ("86.50", "王芳")
    event = last_event(case)
    assert (event.action, event.note) == ("household.correct", "按不动产登记簿更正")
    assert json.loads(event.details)["changes"] == {"area_centi": [8000, 8650], "owner": ["业主202", "王芳"]}
    assert "nothing to correct" in run(runner, case, "household", "correct", CASE, "202", "--owner", "王芳",
                                       "--reason", "x", code=1)
    assert "the area given" in run(runner, case, "household", "correct", CASE, "202", "--area", "-3", "--reason", "x",
                           code=1)
    assert verify(case).ok


def test_objection_step_meeting_scheme_role_canvass_party_funding(case: Workspace, runner: CliRunner,
                                                                  tmp_path: Path) -> None:
    from eightstep.paperwork.parties import list_parties, set_party
    from eightstep.records import canvass, funding, meetings, roles, schemes

    objection = records.add_objection(case, CASE, grounds="采光", room="201", at=t("2025-03-04"))
    step = records.mediate_objection(case, CASE, objection.id, step="negotiation", note="约谈",
                                     at=t("2025-03-05"))
    meeting = meetings.add_meeting(case, CASE, at=t("2025-03-05"), attendees=["李建国"], decision="选梯安")
    first = schemes.add_scheme(case, CASE, company="梯安", price=48_000_000, at=t("2025-03-05"))
    second = schemes.add_scheme(case, CASE, company="升华", price=45_500_000, at=t("2025-03-05"))
    schemes.choose(case, CASE, first.id, reason="价格合适", at=t("2025-03-06"))
    role = roles.add_role(case, CASE, "owner_rep", "李建国", room="701", at=t("2025-03-02"))
    entry = canvass.add_entry(case, CASE, "302", stance="hesitant", concern="费用", at=t("2025-03-03"))
    set_party(case, CASE, "agent", name="李建国", at=t("2025-03-03"))
    funding.set_funding(case, CASE, total=48_000_000, at=t("2025-03-06"))

    run(runner, case, "objection", "void-step", CASE, str(step.id), "--reason", "记在了别的异议下")
    assert records.list_objections(case, CASE)[0]["steps"] == []
    run(runner, case, "objection", "void", CASE, str(objection.id), "--reason", "口头提出，未书面登记")
    assert records.list_objections(case, CASE) == []
    run(runner, case, "meeting", "void", CASE, str(meeting.id), "--reason", "会议未召开")
    assert meetings.list_meetings(case, CASE) == []
    refused = run(runner, case, "scheme", "void", CASE, str(first.id), "--reason", "撤回", code=1)
    assert "is the owners' current choice" in refused
    run(runner, case, "scheme", "void", CASE, str(second.id), "--reason", "公司撤回报价")
    assert [p.scheme.id for p in schemes.compare(case, CASE).priced] == [first.id]
    out = run(runner, case, "role", "end", CASE, str(role.id), "--reason", "业主代表换届", "--at", "2025-03-08")
    assert out == f"{CASE}: role #{role.id} ended (业主代表换届)\n"
    terms = {r.role: r.until for r in roles.list_roles(case, CASE).roles}  # the register lists ended terms too
    assert terms["owner_rep"] is not None and terms["agent"] is None
    with case.session() as session:  # held until it ended
        assert roles.recorded_role(session, CASE, "李建国", t("2025-03-07")) == "owner_rep"
        assert roles.recorded_role(session, CASE, "李建国", t("2025-03-09")) == "agent"  # still the agent
    run(runner, case, "canvass", "void", CASE, str(entry.id), "--reason", "走访记录重复")
    assert [r.visits for r in canvass.canvass_list(case, CASE).rows if r.room == "302"] == [0]
    run(runner, case, "forms", "party-void", CASE, "agent", "--reason", "委托书未签")
    assert list_parties(case, CASE) == []
    run(runner, case, "funding", "void", CASE, "--reason", "总价录错")
    assert "has no funding yet" in run(runner, case, "funding", "shares", CASE, code=1)
    actions = [e.action for e in engine.history(case, CASE)][-8:]
    assert actions == ["objection.void-step", "objection.void", "meeting.void", "scheme.void", "role.end",
                       "canvass.void", "party.void", "funding.void"]
    assert verify(case).ok
    # named again after a void: the party and the funding start afresh
    set_party(case, CASE, "agent", name="周桂兰", at=t("2025-03-09"))
    assert [p.name for p in list_parties(case, CASE)] == ["周桂兰"]
    with pytest.raises(InputError, match=r"total: case .* has no funding yet: give the total cost"):
        funding.set_funding(case, CASE, subsidy=1, at=t("2025-03-09"))
    assert funding.set_funding(case, CASE, total=45_500_000, at=t("2025-03-09")).total == 45_500_000
    assert verify(case).ok


def test_a_role_cannot_end_before_it_began(case: Workspace) -> None:
    from eightstep.records import roles

    role = roles.add_role(case, CASE, "owner_rep", "李建国", room="701", at=t("2025-03-05"))
    with pytest.raises(InputError, match="before it began"):
        records.void(case, CASE, "role", role.id, reason="换届", at=t("2025-03-04"))


def test_an_approval_voided(case: Workspace, runner: CliRunner) -> None:
    approval = records.add_approval(case, CASE, "feasibility", authority="江夏区行政审批局", at=t("2025-03-04"))
    listed = json.loads(run(runner, case, "approval", "list", CASE, "--json"))
    assert [a["id"] for a in listed] == [approval.id]
    run(runner, case, "approval", "void", CASE, str(approval.id), "--reason", "文号属于另一个单元")
    assert json.loads(run(runner, case, "approval", "list", CASE, "--json")) == []
    with pytest.raises(NotFoundError, match="that counts"):
        records.void(case, CASE, "approval", approval.id, reason="再次")


def test_undoing_a_void_behind_eightsteps_back_is_caught(case: Workspace, runner: CliRunner) -> None:
    (doc_id,) = [d["id"] for d in json.loads(run(runner, case, "doc", "list", CASE, "--json"))]
    records.void(case, CASE, "document", doc_id, reason="错了")
    with sqlite3.connect(case.url.removeprefix("sqlite:///")) as con:
        con.execute("UPDATE documents SET voided_at = NULL, void_reason = NULL")
    con.close()
    found = {(p.table, p.field) for p in verify(case).record_problems}
    assert found == {("documents", "voided_at"), ("documents", "void_reason")}


def test_every_kind_voided_in_the_demo_still_verifies(demo_dir: Path, tmp_path: Path, runner: CliRunner) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(demo_dir, folder)
    ws = Workspace.open(str(folder / "eightstep.db"))
    try:
        def first(table: str, where: str = "1 = 1") -> tuple[Any, str]:
            return column(ws, f"SELECT id, case_id FROM {table} WHERE {where} ORDER BY id LIMIT 1")[0]

        for kind, table, where in (("document", "documents", "1 = 1"), ("approval", "approvals", "1 = 1"),
                                   ("objection", "objections", "status = 'open'"),
                                   ("meeting", "meetings", "1 = 1"), ("canvass", "canvass_entries", "1 = 1"),
                                   ("role", "case_roles", "role = 'volunteer' OR role = 'duty_rota'")):
            key, case_id = first(table, where)
            records.void(ws, case_id, kind, key, reason="演示更正")
        records.void(ws, "RD-4-2", "ballot", column(ws, "SELECT h.room FROM ballots b JOIN households h ON "
                                                        "h.id = b.household_id WHERE b.case_id = 'RD-4-2'")[0][0],
                     reason="演示更正")
        records.correct_household(ws, "RD-3-2", "202", phone="13900000000", reason="演示更正")
        report = verify(ws)
        assert report.ok, [p.message for p in report.record_problems]
        assert "OK:" in run(runner, ws, "audit", "verify")
        assert run(runner, ws, "audit", "stalled", "--as-of", "2026-11-30")
    finally:
        ws.dispose()
