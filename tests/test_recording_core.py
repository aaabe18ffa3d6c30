"""Recordings on Core write what the ORM wrote (issue 15, start-up of the recording commands).

Casting a ballot, importing ballots, logging a canvass visit, adding a document, an approval, a meeting or an
objection record their rows through Core (``recording(..., core=True)``, rows of ``eightstep.store.rows``) so that
these commands never import the ORM. The same story is recorded in two databases at the same frozen clock: once by
the library, once by the recording bodies as they were written with ORM objects (kept here as the reference).
Every row, every fact and every event, hash included, must be the same, byte for byte.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from eightstep import engine, records, timeutil
from eightstep.audit.verify import verify
from eightstep.engine.ballots import current_ballots
from eightstep.engine.recording import recording
from eightstep.records import canvass, meetings
from eightstep.records.canvass import classify
from eightstep.records.objections import lodged_late
from eightstep.records.votes import import_votes
from eightstep.store import models, tables
from eightstep.store.workspace import Workspace
from tests.conftest import write_households

pytestmark = pytest.mark.backends("sqlite", "postgresql")

CASE = "CORE-1"
FROZEN = datetime(2025, 4, 1, 8, 0, tzinfo=UTC)
COMPARED = ("cases", "households", "ballots", "documents", "approvals", "canvass_entries", "meetings", "objections",
            "events", "event_facts")
MINUTES = {"kinds": ["cost_shares", "brand"], "attendees": ["李建国", "周桂兰"], "decision": "按楼层分摊"}


def t(day: int, hour: int = 9) -> datetime:
    return datetime(2025, 3, day, hour, tzinfo=UTC)


@pytest.fixture
def frozen(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """``now_utc`` at one instant in every eightstep module that imported it (``recorded_at`` of rows and events)."""
    real = timeutil.now_utc
    for name, module in list(sys.modules.items()):
        if name.startswith("eightstep") and getattr(module, "now_utc", None) is real:
            monkeypatch.setattr(module, "now_utc", lambda: FROZEN)
    yield


def opened(ws: Workspace, tmp_path: Path) -> Path:
    engine.open_case(ws, CASE, complex_name="核心小区", building="1", unit="1", at=t(1))
    records.import_households(ws, CASE, write_households(tmp_path / "owners.csv"), at=t(1, 10))
    scan = tmp_path / "scan.pdf"
    scan.write_bytes(b"%PDF-1.4 core")
    votes = tmp_path / "votes.csv"
    votes.write_text("room,choice,at\n401,agree,2025-03-06\n402,oppose,2025-03-06\n", encoding="utf-8")
    return scan


def by_the_library(ws: Workspace, scan: Path) -> None:
    records.cast_vote(ws, CASE, "201", "agree", at=t(2))
    records.cast_vote(ws, CASE, "201", "oppose", at=t(3))  # replaces the first: "previous" in the event
    canvass.add_entry(ws, CASE, "301", stance="hesitant", concern="噪音太大", at=t(4))
    records.add_document(ws, CASE, "application", scan, at=t(5), number="A-1")
    records.add_document(ws, CASE, "maintenance_record", scan, at=t(5, 11))  # moves maintained_at on the case
    records.add_approval(ws, CASE, "feasibility", authority="区审批局", at=t(5, 12), file=scan, note="同意")
    import_votes(ws, CASE, scan.parent / "votes.csv")
    meetings.add_meeting(ws, CASE, at=t(7), attendees=["李建国,周桂兰"], decision=" 按楼层分摊 ",
                         kinds=["cost_shares", "brand"], file=scan)
    records.add_objection(ws, CASE, grounds=" 采光 ", room="201", objector="业主201", written=False, at=t(8))


def the_orm_way(ws: Workspace, scan: Path) -> None:
    """The same records as the recording bodies wrote them with ORM objects (before they were on Core)."""
    def ballot(room: str, choice: str, at: datetime, rec: Any) -> str | None:
        household = rec.household(room)
        earlier = rec.session.scalars(select(models.Ballot).where(models.Ballot.household_id == household.id,
                                                                  models.not_voided(tables.ballots))).all()
        before = current_ballots(list(earlier), None, rec.case.evidence_from).get(household.id)
        rec.add(models.Ballot(case_id=CASE, household_id=household.id, choice=choice, cast_at=at,
                              recorded_at=timeutil.now_utc(), signed_by=None))
        return before.choice if before else None

    for choice, day in (("agree", 2), ("oppose", 3)):
        with recording(ws, CASE, "vote.cast", at=t(day)) as rec:
            before = ballot("201", choice, rec.at, rec)
            rec.details = {"room": "201", "choice": choice, "previous": before}
    with recording(ws, CASE, "canvass.add", at=t(4)) as rec:
        flat = rec.household("301")
        row = rec.add(models.CanvassEntry(case_id=CASE, household_id=flat.id, stance="hesitant", concern="噪音太大",
                                          kinds=",".join(classify("噪音太大")), visited_by=rec.actor, at=rec.at,
                                          recorded_at=timeutil.now_utc()), with_id=True)
        rec.details = {"room": "301", "stance": "hesitant", "concern": "噪音太大", "kinds": classify("噪音太大"),
                       "by": row.visited_by}
    for kind, at, number in (("application", t(5), "A-1"), ("maintenance_record", t(5, 11), None)):
        with recording(ws, CASE, "doc.add", at=at) as rec:
            digest, size = rec.store_file(scan)
            issuer = rec.workflow.authorities[rec.workflow.documents[kind].issuer].title
            rec.add(models.Document(case_id=CASE, kind=kind, stage=rec.case.stage, issued_at=rec.at, issuer=issuer,
                                    number=number, original_name=scan.name, sha256=digest, size=size,
                                    recorded_at=timeutil.now_utc()))
            if kind == "maintenance_record":
                rec.case.maintained_at = rec.at
            rec.details = {"kind": kind, "file": scan.name, "sha256": digest, "number": number, "issuer": issuer}
    with recording(ws, CASE, "approval.add", at=t(5, 12)) as rec:
        digest = rec.store_file(scan)[0]
        rec.add(models.Approval(case_id=CASE, kind="feasibility", authority="区审批局", decision="approved",
                                decided_at=rec.at, number=None, note="同意", recorded_at=timeutil.now_utc(),
                                file_name=scan.name, file_sha256=digest))
        rec.details = {"kind": "feasibility", "authority": "区审批局", "decision": "approved", "number": None,
                       "file": scan.name, "sha256": digest}
    when = datetime(2025, 3, 5, 16, tzinfo=UTC)  # 2025-03-06 in Shanghai
    with recording(ws, CASE, "vote.import", at=when) as rec:
        for room, choice in (("401", "agree"), ("402", "oppose")):
            ballot(room, choice, when, rec)
        rec.details = {"file": "votes.csv", "ballots": 2, "agree": 1, "oppose": 1, "abstain": 0}
    with recording(ws, CASE, "meeting.add", at=t(7)) as rec:
        digest = rec.store_file(scan)[0]
        meeting = rec.add(models.Meeting(case_id=CASE, kinds="cost_shares,brand", held_at=rec.at,
                                         attendees=json.dumps(MINUTES["attendees"], ensure_ascii=False),
                                         decision="按楼层分摊", file_name=scan.name, file_sha256=digest,
                                         actor=rec.actor, recorded_at=timeutil.now_utc()), with_id=True)
        rec.details = {"meeting": meeting.id, **MINUTES, "file": scan.name, "sha256": digest}
    with recording(ws, CASE, "objection.add", at=t(8)) as rec:
        rec.household("201")
        late = lodged_late(rec, ws.calendar)
        objection = rec.add(models.Objection(case_id=CASE, room="201", objector="业主201", grounds="采光",
                                             written=False, real_name=True, stage=rec.case.stage, lodged_at=rec.at,
                                             late=late), with_id=True)
        rec.details = {"objection": objection.id, "room": "201", "objector": "业主201", "grounds": "采光",
                       "written": False, "real_name": True, "late": late}


def contents(ws: Workspace) -> dict[str, list[tuple[Any, ...]]]:
    with ws.engine.connect() as conn:
        return {name: [tuple(row) for row in conn.execute(text(f"SELECT * FROM {name} ORDER BY 1, 2"))]
                for name in COMPARED}


def test_the_same_rows_facts_and_events_as_the_orm_wrote(frozen: None, ws: Workspace, new_db_url: Any,
                                                         tmp_path: Path) -> None:
    scan = opened(ws, tmp_path)
    by_the_library(ws, scan)
    reference = Workspace.init(new_db_url("reference"), files=tmp_path / "reference-files")[0]
    try:
        opened(reference, tmp_path)
        the_orm_way(reference, scan)
        ours, theirs = contents(ws), contents(reference)
    finally:
        reference.dispose()
    assert [len(ours[name]) for name in COMPARED] == [len(theirs[name]) for name in COMPARED]
    for name in COMPARED:
        differing = [(ours_row, row) for ours_row, row in zip(ours[name], theirs[name], strict=True) if ours_row != row]
        assert not differing, (name, differing[:2])
    assert len(ours["events"]) == 11 and len(ours["ballots"]) == 4 and len(ours["objections"]) == 1
    facts = [json.loads(row[-1]) for row in ours["event_facts"]]
    assert ["cases", "set", CASE, {"maintained_at": "2025-03-05T11:00:00.000000Z"}] in facts


def test_a_recording_on_core_does_not_need_the_orm(frozen: None, ws: Workspace, tmp_path: Path) -> None:
    scan = opened(ws, tmp_path)
    doc = records.add_document(ws, CASE, "application", scan, at=t(5))
    assert (doc.kind, doc.stage, doc.original_name, doc.size) == ("application", "consent", "scan.pdf", 13)
    assert doc.id is not None and doc.recorded_at == FROZEN
    with ws.engine.connect() as conn:
        stored = conn.execute(select(tables.documents).where(tables.documents.c.id == doc.id)).one()
    assert (stored.kind, stored.sha256, stored.issuer) == (doc.kind, doc.sha256, doc.issuer)
    assert verify(ws).ok
