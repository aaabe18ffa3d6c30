"""The paperwork's read (Core rows) and its history entries (Core statements), on SQLite and on PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from eightstep import engine, records
from eightstep.audit.verify import VerifyReport, verify_chains
from eightstep.errors import ConflictError, InputError, NotFoundError
from eightstep.paperwork.casedata import load_case_data
from eightstep.paperwork.parties import set_party
from eightstep.paperwork.render import Paperwork
from eightstep.records import funding
from eightstep.store.workspace import Workspace
from eightstep.timeutil import parse_at

pytestmark = pytest.mark.backends("sqlite", "postgresql")

CASE = "HT-2-1"


@pytest.fixture
def voted(ws: Workspace, tmp_path: Path) -> Workspace:
    """Six flats on floors 2-4, five ballots (one changed), an objection with a mediation step."""
    engine.open_case(ws, CASE, complex_name="河头小区", building="2", unit="1", district="江夏区",
                     street="纸坊街道", community="河头社区", at=parse_at("2025-03-03"))
    rows = ["room,floor,area,owner,phone"] + [f"{f}0{n},{f},{80 + n}.50,业主{f}0{n},1390000{f}0{n}"
                                              for f in (2, 3, 4) for n in (1, 2)]
    (tmp_path / "h.csv").write_text("\n".join(rows) + "\n", encoding="utf-8")
    records.import_households(ws, CASE, tmp_path / "h.csv", at=parse_at("2025-03-04"))
    for room in ("201", "202", "301", "302", "401"):
        records.cast_vote(ws, CASE, room, "agree", at=parse_at("2025-03-10"))
    records.cast_vote(ws, CASE, "202", "oppose", at=parse_at("2025-03-11"))
    objection = records.add_objection(ws, CASE, grounds="噪音", room="201", at=parse_at("2025-03-12"))
    records.mediate_objection(ws, CASE, objection.id or 0, step="negotiation", note="协商", at=parse_at("2025-03-13"))
    funding.set_funding(ws, CASE, total=30_000_000, subsidy=10_000_000, maintenance=300_000,
                        at=parse_at("2025-03-13"))  # the budget the ballots state
    return ws


def test_the_read_holds_every_record_the_forms_use(voted: Workspace) -> None:
    data = load_case_data(voted, CASE)
    assert data.version == engine.show_case(voted, CASE).version
    assert (data.case.id, data.case.stage, data.case.building, data.case.unit) == (CASE, "consent", "2", "1")
    assert (data.complex.name, data.complex.district, data.complex.street, data.complex.community) == (
        "河头小区", "江夏区", "纸坊街道", "河头社区")
    assert [h.room for h in data.ordered_households] == ["201", "202", "301", "302", "401", "402"]
    assert [b.choice for b in data.records.ballots] == ["agree"] * 5 + ["oppose"]
    by_room = {h.id: h.room for h in data.records.households}
    assert {by_room[k]: b.choice for k, b in data.last_ballots.items()} == {
        "201": "agree", "202": "oppose", "301": "agree", "302": "agree", "401": "agree"}
    assert [o.grounds for o in data.records.objections] == ["噪音"]
    assert [(s.step, s.note) for s in data.steps[data.records.objections[0].id]] == [("negotiation", "协商")]
    assert data.funding is not None and data.agreed == ({}, {}) and data.register == ()
    tally = Paperwork(voted).render(CASE, "tally", at=parse_at("2025-03-20")).content.decode("utf-8")
    assert "业主202" in tally and "反对" in tally
    with pytest.raises(NotFoundError, match="no case 'nope'"):
        load_case_data(voted, "nope")


def test_forms_rendered_together_are_each_logged_in_one_transaction(voted: Workspace, tmp_path: Path) -> None:
    before = engine.show_case(voted, CASE).version
    count = len(engine.history(voted, CASE))
    results = Paperwork(voted).render_many(CASE, ["application", "tally"], at=parse_at("2025-03-20"),
                                           actor="社区干事", folder=tmp_path / "out")
    history = engine.history(voted, CASE)
    assert [(e.seq, e.action, e.actor, e.from_stage, e.to_stage) for e in history[count:]] == [
        (count + 1, "form.render", "社区干事", "consent", "consent"),
        (count + 2, "form.render", "社区干事", "consent", "consent")]
    for event, result in zip(history[count:], results, strict=True):
        assert json.loads(event.details) == result.record(f"{CASE}-{result.form}.html")
        assert (tmp_path / "out" / f"{CASE}-{result.form}.html").read_bytes() == result.content
    assert engine.show_case(voted, CASE).version == before + 1
    report = VerifyReport()
    verify_chains(voted, report)
    assert report.chain_problems == [] and report.events == len(history)
    # The case moves on as usual after the paperwork's entries.
    set_party(voted, CASE, "agent", name="业主401")
    assert engine.history(voted, CASE)[-1].seq == count + 3


def test_the_paperworks_entries_name_the_actors_role(voted: Workspace, tmp_path: Path) -> None:
    """Like every event, each render and pack names the role the actor acts in (``details["actor_role"]``): the one
    given, else the actor's role on record in the case at the time; looked up once per call, not per form."""
    from sqlalchemy import event

    from eightstep.records.roles import add_role

    add_role(voted, CASE, "owner_rep", "业主401", room="401", phone="13900000401", id_number="420115195501011234",
             address="401室", at=parse_at("2025-03-15 10:00"))
    statements: list[str] = []

    def seen(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        statements.append(statement)

    event.listen(voted.engine, "before_cursor_execute", seen)
    try:
        results = Paperwork(voted).render_many(CASE, ["application", "tally", "ballots"],
                                               at=parse_at("2025-03-20"), actor="业主401", folder=tmp_path / "rep")
    finally:
        event.remove(voted.engine, "before_cursor_execute", seen)
    # One read of the register (with the case's records), one lookup of the actor's role for all the forms.
    assert len([s for s in statements if "case_roles" in s]) == 2
    Paperwork(voted).render_many(CASE, ["tally", "ballots"], at=parse_at("2025-03-20"), actor="王敏",
                                 as_role="officer", folder=tmp_path / "officer")
    Paperwork(voted).render(CASE, "tally", at=parse_at("2025-03-15 09:00"), actor="业主401",
                            output=tmp_path / "early.html")  # before 业主401 was named
    Paperwork(voted).pack(CASE, tmp_path / "pack", stage="consent", fmt="html", at=parse_at("2025-03-21"),
                          actor="业主401")
    history = engine.history(voted, CASE)[-7:]
    assert [(e.action, e.actor, json.loads(e.details).get("actor_role")) for e in history] == [
        ("form.render", "业主401", "owner_rep"), ("form.render", "业主401", "owner_rep"),
        ("form.render", "业主401", "owner_rep"), ("form.render", "王敏", "officer"),
        ("form.render", "王敏", "officer"), ("form.render", "业主401", None), ("form.pack", "业主401", "owner_rep")]
    assert "actor_role" not in json.loads(history[5].details)
    for event_, result in zip(history[:3], results, strict=True):  # the same record, with the role beside it
        assert json.loads(event_.details) == {**result.record(f"{CASE}-{result.form}.html"), "actor_role": "owner_rep"}
    report = VerifyReport()
    verify_chains(voted, report)
    assert report.chain_problems == []  # the role is hashed with the rest of the event


def test_a_bad_role_writes_nothing(voted: Workspace, tmp_path: Path) -> None:
    count = len(engine.history(voted, CASE))
    with pytest.raises(InputError, match="as_role: give the role the actor acts in, in at most 40 characters"):
        Paperwork(voted).render_many(CASE, ["application", "tally"], as_role=" ", folder=tmp_path / "out")
    with pytest.raises(InputError, match="as_role: give the role the actor acts in"):
        Paperwork(voted).pack(CASE, tmp_path / "pack", stage="consent", fmt="html", as_role="x" * 41)
    assert len(engine.history(voted, CASE)) == count
    assert list(tmp_path.glob("out/*")) == [] and list(tmp_path.glob("pack/*")) == []  # files removed again


def test_a_render_of_records_read_before_a_change_conflicts(voted: Workspace, tmp_path: Path) -> None:
    data = load_case_data(voted, CASE)
    records.cast_vote(voted, CASE, "402", "agree", at=parse_at("2025-03-14"))  # someone else, meanwhile
    count = len(engine.history(voted, CASE))
    with pytest.raises(ConflictError, match=f"case {CASE} is at version {data.version + 1}, not {data.version}: it "
                                            "was changed by someone else; nothing was written"):
        Paperwork(voted)._log(CASE, data.version, parse_at("2025-03-20"), None, [("form.render", {"form": "tally"})])
    assert len(engine.history(voted, CASE)) == count
    engine.withdraw(voted, CASE, reason="业主放弃")  # what is printed for a withdrawn case is still recorded
    Paperwork(voted).render(CASE, "tally", output=tmp_path / "tally.html")
    assert engine.history(voted, CASE)[-1].action == "form.render"
    with pytest.raises(InputError, match="format 'doc': use html or pdf"):
        Paperwork(voted).render_many(CASE, ["tally"], "doc")
