"""A record cannot predate its case, nor the last return that restarted the records (issue 11; the recording
context refuses it). From the issue: a ballot dated 2024-01-01 on a case opened 2025-03-01 must be refused, not
counted."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

import pytest

from eightstep import engine, records
from eightstep.audit.verify import verify
from eightstep.engine import bulk
from eightstep.engine.checking import check_many
from eightstep.errors import BlockedError, InputError
from eightstep.store.workspace import Workspace
from eightstep.timeutil import show
from tests.helpers.walk import CID, add_households, approve, doc, open_unit, satisfy, t, walk_to

Record = Callable[[Workspace, datetime], object]
RECORDS: dict[str, Record] = {
    "ballot": lambda ws, at: records.cast_vote(ws, CID, "201", "agree", at=at),
    "document": lambda ws, at: doc(ws, CID, "application", at),
    "approval": lambda ws, at: approve(ws, CID, "feasibility", at),
    "objection": lambda ws, at: records.add_objection(ws, CID, room="201", grounds="采光", at=at),
}


@pytest.fixture
def opened(ws: Workspace) -> Workspace:
    open_unit(ws, at=t("2025-03-01 09:00"))
    add_households(ws, CID, t("2025-03-01 09:30"))
    return ws


@pytest.mark.parametrize("kind", list(RECORDS))
@pytest.mark.parametrize(("when", "refused"), [("2024-01-01 10:00", True), ("2025-03-01 08:59", True),
                                               ("2025-03-01 09:00", False), ("2025-03-02 10:00", False)],
                         ids=["a-year-before", "a-minute-before", "the-opening-minute", "the-day-after"])
def test_a_record_before_the_case_was_opened_is_refused(opened: Workspace, kind: str, when: str,
                                                         refused: bool) -> None:
    record = RECORDS[kind]
    if refused:
        with pytest.raises(InputError, match="before case RD-3-2 was opened"):
            record(opened, t(when))
    else:
        record(opened, t(when))


def test_the_ballot_of_the_issue_is_not_counted(opened: Workspace) -> None:
    with pytest.raises(InputError):
        records.cast_vote(opened, CID, "201", "agree", at=t("2024-01-01 10:00"))
    assert records.vote_tally(opened, CID).participants == 0


@pytest.mark.parametrize(("when", "refused"), [("2025-03-09 12:00", True), ("2025-03-10 12:00", False)],
                         ids=["before-the-return", "after-the-return"])
def test_a_record_before_the_last_return_is_refused(opened: Workspace, when: str, refused: bool) -> None:
    walk_to(opened, CID, "survey", t("2025-03-02 10:00"))
    engine.return_to(opened, CID, "consent", reason="重新表决", at=t("2025-03-10 09:00"))
    if refused:
        with pytest.raises(InputError, match="before case RD-3-2 was returned for rework"):
            records.cast_vote(opened, CID, "202", "agree", at=t(when))
    else:
        records.cast_vote(opened, CID, "202", "agree", at=t(when))


@pytest.mark.parametrize("minutes", [-1, 0], ids=["a-minute-before-the-stage", "the-minute-it-was-entered"])
def test_case_advance_answers_a_date_before_the_stage_as_the_bulk_advance(opened: Workspace, minutes: int) -> None:
    """One rule for both: a date before the case entered its stage is a "time" blocker (exit 3), not an error."""
    entered = walk_to(opened, CID, "survey", t("2025-03-02 10:00"))
    satisfy(opened, CID, t("2025-03-02 09:30"))
    at = entered + timedelta(minutes=minutes)
    [from_bulk] = bulk.advance_all_ready(opened, at=at, dry_run=True).results
    if minutes < 0:
        with pytest.raises(BlockedError) as blocked:
            engine.advance(opened, CID, at=at)
        assert from_bulk.outcome == "blocked"
        assert [(b.type, b.message) for b in blocked.value.blockers] == [
            (b.type, b.message) for b in from_bulk.blockers] == [
            ("time", f"advancing at {show(at)} would be before the case entered its stage ({show(entered)})")]
    else:
        assert from_bulk.outcome == "ready"
        assert engine.advance(opened, CID, at=at).to_stage == "agreement"


def test_a_cached_check_before_the_stage_verifies(opened: Workspace) -> None:
    """A check dated before the case entered its stage is blocked by that ("time", a condition of the move) and by
    the guards; only the guards' answer is cached, and audit verify checks it afresh without counting the time."""
    entered = walk_to(opened, CID, "survey", t("2025-03-02 10:00"))
    result = check_many(opened, [CID], entered - timedelta(hours=1), cache=True)[CID]
    assert [b.type for b in result.blockers] == ["time", "document", "approval"]
    assert verify(opened).ok
