"""The one recording context (``engine.recording``): one transaction and one event per command, and no record
dated before its case was opened or before the return for rework that restarted its records (issue 11)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.cli import main
from eightstep.engine.recording import recording
from eightstep.errors import ConflictError, InputError
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import LOCAL_TZ
from tests.conftest import write_households

pytestmark = pytest.mark.backends("sqlite", "postgresql")

CASE = "JX-5-1"


def t(text: str) -> datetime:
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ).astimezone(UTC)


@pytest.fixture
def case(ws: Workspace, tmp_path: Path) -> Workspace:
    """A wuhan case opened 2025-03-01 09:00 with 12 households."""
    engine.open_case(ws, CASE, complex_name="幸福小区", building="5", unit="1", at=t("2025-03-01 09:00"))
    records.import_households(ws, CASE, write_households(tmp_path / "owners.csv"), at=t("2025-03-01 10:00"))
    return ws


def event_count(ws: Workspace) -> int:
    return len(engine.history(ws, CASE))


def ballots(ws: Workspace) -> list[str]:
    with ws.session() as session:
        return [b.choice for b in engine.load_records(session, CASE).ballots]


def test_a_ballot_dated_before_the_case_was_opened_is_refused(case: Workspace) -> None:
    """Issue 11: a ballot dated 2024-01-01 on a case opened 2025-03-01 was accepted."""
    before = event_count(case)
    with pytest.raises(InputError, match=r"at: 2024-01-01 is before case JX-5-1 was opened \(2025-03-01 09:00\): a "
                                         "record cannot predate its case"):
        records.cast_vote(case, CASE, "201", "agree", at=t("2024-01-01"))
    assert ballots(case) == [] and event_count(case) == before
    records.cast_vote(case, CASE, "201", "agree", at=t("2025-03-01 09:00"))  # the very moment it opened is fine
    assert ballots(case) == ["agree"]


def test_the_cli_refuses_it_with_a_message(case: Workspace, db_url: str, runner: CliRunner) -> None:
    result = runner.invoke(main, ["--db", db_url, "vote", "cast", CASE, "201", "agree", "--at", "2024-01-01"])
    assert result.exit_code == 1
    assert "2024-01-01 is before case JX-5-1 was opened (2025-03-01 09:00)" in result.output
    assert "Traceback" not in result.output


def test_an_import_names_every_row_dated_too_early_and_writes_nothing(case: Workspace, tmp_path: Path) -> None:
    votes = tmp_path / "votes.csv"
    votes.write_text("room,choice,at\n201,agree,2025-03-02\n202,agree,2024-12-31\n301,oppose,2025-02-28\n",
                     encoding="utf-8")
    before = event_count(case)
    with pytest.raises(InputError) as caught:
        records.import_votes(case, CASE, votes)
    lines = str(caught.value).splitlines()
    assert [line.split(": ")[0] for line in lines] == [f"{votes}:3", f"{votes}:4"]
    assert "2024-12-31 is before case JX-5-1 was opened" in lines[0]
    assert ballots(case) == [] and event_count(case) == before


@pytest.mark.parametrize("record", ["document", "approval", "objection", "canvass", "role", "meeting", "scheme",
                                    "funding", "party"])
def test_every_kind_of_record_is_refused_before_the_opening(case: Workspace, tmp_path: Path, record: str) -> None:
    from eightstep.paperwork.parties import set_party
    from eightstep.records import canvass, funding, meetings, roles, schemes

    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF scan")
    early = t("2025-02-28 18:00")
    calls = {
        "document": lambda: records.add_document(case, CASE, "application", scan, at=early),
        "approval": lambda: records.add_approval(case, CASE, "feasibility", authority="区审批局", at=early),
        "objection": lambda: records.add_objection(case, CASE, grounds="采光", room="201", at=early),
        "canvass": lambda: canvass.add_entry(case, CASE, "201", stance="hesitant", at=early),
        "role": lambda: roles.add_role(case, CASE, "owner_rep", "李建国", room="701", at=early),
        "meeting": lambda: meetings.add_meeting(case, CASE, at=early, attendees=["李建国"], decision="开会"),
        "scheme": lambda: schemes.add_scheme(case, CASE, company="梯安", price=48_000_000, at=early),
        "funding": lambda: funding.set_funding(case, CASE, total=48_000_000, at=early),
        "party": lambda: set_party(case, CASE, "agent", name="李建国", at=early),
    }
    before = event_count(case)
    with pytest.raises(InputError, match="is before case JX-5-1 was opened"):
        calls[record]()
    assert event_count(case) == before


def test_records_dated_before_a_return_that_restarted_them_are_refused(case: Workspace, tmp_path: Path) -> None:
    """After a return for rework, evidence dated before it would not count: it is refused, not silently ignored."""
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF scan")
    with case.engine.begin() as conn:  # put it at the survey stage (how it got there is not tested here)
        conn.execute(models.Case.__table__.update().where(models.Case.__table__.c.id == CASE).values(
            stage="survey", stage_entered_at=t("2025-03-10"), clock_started_at=t("2025-03-10")))
    engine.return_to(case, CASE, "consent", reason="表决票缺签名", at=t("2025-03-20"))
    with pytest.raises(InputError, match=r"2025-03-15 is before case JX-5-1 was returned for rework \(2025-03-20\)"):
        records.add_document(case, CASE, "application", scan, at=t("2025-03-15"))
    records.add_document(case, CASE, "application", scan, at=t("2025-03-20"))


def test_a_return_that_kept_the_records_refuses_nothing_after_the_opening(case: Workspace, tmp_path: Path) -> None:
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF scan")
    with case.engine.begin() as conn:
        conn.execute(models.Case.__table__.update().where(models.Case.__table__.c.id == CASE).values(
            stage="survey", stage_entered_at=t("2025-03-10"), clock_started_at=t("2025-03-10")))
    engine.return_to(case, CASE, "consent", reason="补一份材料", at=t("2025-03-20"), keep_records=True)
    records.add_document(case, CASE, "application", scan, at=t("2025-03-15"))


def test_one_transaction_one_event_and_nothing_on_failure(case: Workspace) -> None:
    before = event_count(case)
    with pytest.raises(RuntimeError), recording(case, CASE, "test.fail", at=t("2025-03-02")) as rec:
        rec.add(models.Ballot(case_id=CASE, household_id=rec.household("201").id, choice="agree",
                              cast_at=rec.at, recorded_at=rec.at), with_id=True)
        raise RuntimeError("the body failed")
    assert ballots(case) == [] and event_count(case) == before
    with recording(case, CASE, "test.ok", at=t("2025-03-02"), actor="李敏", as_role="officer") as rec:
        rec.add(models.Ballot(case_id=CASE, household_id=rec.household("201").id, choice="agree", cast_at=rec.at,
                              recorded_at=rec.at))
        rec.details = {"room": "201"}
    (event,) = engine.history(case, CASE)[before:]
    assert (event.action, event.actor, event.from_stage, event.to_stage) == ("test.ok", "李敏", "consent", "consent")
    assert event.details == '{"actor_role": "officer", "room": "201"}'
    assert ballots(case) == ["agree"]


def test_a_stale_expected_version_is_a_conflict(case: Workspace) -> None:
    version = engine.show_case(case, CASE).version
    records.cast_vote(case, CASE, "201", "agree", at=t("2025-03-02"))
    with pytest.raises(ConflictError, match="nothing was written"), recording(case, CASE, "test.stale",
                                                                               expected_version=version):
        pass
