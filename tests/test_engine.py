"""Tests for eightstep.engine through the library API on a real workspace: SQLite and PostgreSQL.

Dates are business dates in Asia/Shanghai; notice periods follow the official 2025 holiday calendar
(2025-10-01..08 off; Sunday 2025-09-28 and Saturday 2025-10-11 are adjusted working days).
"""

from __future__ import annotations

import hashlib
import re
import shutil
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from eightstep import engine, records
from eightstep.engine.events import GENESIS, hash_of
from eightstep.errors import BlockedError, ConflictError, InputError, NotFoundError
from eightstep.resources import builtin_dir
from eightstep.rules.consent import rule_dict
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import show
from eightstep.workflow import loader
from eightstep.workflow.loader import LoadedWorkflow
from tests.helpers.walk import (
    CID,
    T0,
    add_households,
    approve,
    doc,
    open_unit,
    satisfy,
    t,
    vote,
    walk_to,
)

pytestmark = pytest.mark.backends("sqlite", "postgresql")  # tests on a database run on both (see conftest)

WUHAN_STAGES = ["consent", "survey", "agreement", "design_notice", "joint_review", "construction", "acceptance",
                "operation"]


_REAL_PARSE = loader.parse_workflow_text
_PARSED: dict[tuple[str, str, frozenset[str] | None], LoadedWorkflow] = {}


def _parse_once(content: str, source: str, template_names: set[str] | None = None) -> LoadedWorkflow:
    key = (content, source, None if template_names is None else frozenset(template_names))
    if key not in _PARSED:
        _PARSED[key] = _REAL_PARSE(content, source, template_names)  # errors propagate and are not kept
    return _PARSED[key]


@pytest.fixture(autouse=True)
def parse_identical_workflow_text_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Speed only: the same text from the same source is validated once per run (test_workflow_files covers the
    loader). An edited file has different text and is parsed again, so snapshot behaviour is unchanged."""
    monkeypatch.setattr(loader, "parse_workflow_text", _parse_once)


# --------------------------------------------------------------------------- helpers


def case_row(ws: Workspace, case_id: str = CID) -> models.Case:
    with ws.session() as session:
        return engine.get_case(session, case_id)


def events(ws: Workspace, case_id: str = CID) -> list[models.Event]:
    return engine.history(ws, case_id)


def kinds(blockers: list[Any]) -> list[tuple[str, str | None]]:
    return [(b.type, b.kind) for b in blockers]


def aware(value: datetime) -> datetime:
    return value if value.tzinfo else value.replace(tzinfo=UTC)


def wuhan_file_text() -> str:
    """The wuhan version in force in 2025 (when these tests open their cases): the 2024 guidance."""
    return (builtin_dir("workflows") / "wuhan@2024.yaml").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- opening cases


def test_open_case_pins_workflow_id_version_and_sha256(ws: Workspace) -> None:
    text = wuhan_file_text()
    version = re.search(r'^version: "(.+)"$', text, re.MULTILINE)
    assert version is not None
    sha = hashlib.sha256(text.encode("utf-8")).hexdigest()
    view = open_unit(ws)
    assert (view.workflow_id, view.workflow_version, view.stage, view.stage_index, view.status) == (
        "wuhan", version.group(1), "consent", 1, "active")
    row = case_row(ws)
    assert (row.workflow_id, row.workflow_version, row.workflow_sha256) == ("wuhan", version.group(1), sha)
    with ws.session() as session:
        snap = session.get(models.WorkflowSnapshot, sha)
        assert snap is not None
        assert (snap.workflow_id, snap.version, snap.content) == ("wuhan", version.group(1), text)
    [opened] = events(ws)
    assert (opened.seq, opened.action, opened.to_stage, opened.prev_hash) == (1, "open", "consent", GENESIS)
    assert '"sha256": "' + sha + '"' in opened.details


@pytest.mark.parametrize("workflow_id", ["wuhan-2018", "guangzhou"])
def test_open_case_with_another_workflow(ws: Workspace, workflow_id: str) -> None:
    view = open_unit(ws, workflow_id=workflow_id)
    first = "survey" if workflow_id == "wuhan-2018" else "consent"
    assert (view.workflow_id, view.stage) == (workflow_id, first)


def test_open_case_view_version_matches_the_stored_version(ws: Workspace) -> None:
    """The version handed back by open_case is the one a following move must pass as expected_version."""
    view = open_unit(ws)
    assert view.version == engine.show_case(ws, CID).version == case_row(ws).version


@pytest.mark.parametrize(
    ("building", "unit", "refused"),
    [
        pytest.param("3", "2", True, id="same-unit-refused"),
        pytest.param(" 3 ", "2 ", True, id="same-unit-with-spaces-refused"),
        pytest.param("3", "1", False, id="other-unit-allowed"),
        pytest.param("4", "2", False, id="other-building-allowed"),
    ],
)
def test_second_active_case_for_a_unit(ws: Workspace, building: str, unit: str, refused: bool) -> None:
    open_unit(ws)
    if refused:
        with pytest.raises(InputError, match=rf"already has an active case: {CID}\b"):
            open_unit(ws, "RD-3-2-bis", building=building, unit=unit)
        with pytest.raises(NotFoundError):
            engine.show_case(ws, "RD-3-2-bis")
    else:
        assert open_unit(ws, "RD-other", building=building, unit=unit).stage == "consent"


@pytest.mark.parametrize("suspend_first", [False, True], ids=["withdrawn-active", "withdrawn-suspended"])
def test_unit_can_be_reopened_after_withdrawal(ws: Workspace, suspend_first: bool) -> None:
    open_unit(ws)
    if suspend_first:
        engine.suspend(ws, CID, reason="调解中", at=T0 + timedelta(days=1))
        with pytest.raises(InputError, match=CID):
            open_unit(ws, "RD-3-2-new", at=T0 + timedelta(days=2))
    engine.withdraw(ws, CID, reason="业主放弃", at=T0 + timedelta(days=3))
    view = open_unit(ws, "RD-3-2-new", at=T0 + timedelta(days=4))
    assert (view.stage, view.status) == ("consent", "active")
    assert engine.show_case(ws, CID).status == "withdrawn"


@pytest.mark.parametrize(
    ("case_id", "kwargs"),
    [
        pytest.param("bad id!", {}, id="bad-case-id"),
        pytest.param("X-1", {"building": " "}, id="empty-building"),
        pytest.param("X-1", {"unit": ""}, id="empty-unit"),
    ],
)
def test_open_case_refuses_bad_input(ws: Workspace, case_id: str, kwargs: dict[str, str]) -> None:
    with pytest.raises(InputError):
        open_unit(ws, case_id, **kwargs)
    assert engine.list_cases(ws) == []


# --------------------------------------------------------------------------- check: all blockers at once


def consent_setup(ws: Workspace, *, households: bool, ballots: tuple[int, int], documents: tuple[str, ...]) -> None:
    open_unit(ws)
    if households:
        add_households(ws)
    agree, oppose = ballots
    if agree or oppose:
        vote(ws, CID, T0 + timedelta(hours=1), agree=agree, oppose=oppose)
    for kind in documents:
        doc(ws, CID, kind, T0 + timedelta(hours=2))


CONSENT_DOCS = ("application", "owner_proof", "ballot_forms")


@pytest.mark.parametrize(
    ("households", "ballots", "documents", "expected"),
    [
        pytest.param(False, (0, 0), (), [
            ("document", "application", "missing document: Application"),
            ("document", "owner_proof", "missing document: Owner ID and title proof"),
            ("document", "ballot_forms", "missing document: Signed ballot forms"),
            ("consent", None, "no households of the unit recorded yet"),
        ], id="nothing-recorded"),
        pytest.param(True, (0, 0), (), [
            ("document", "application", "Application"),
            ("document", "owner_proof", "Owner ID"),
            ("document", "ballot_forms", "ballot forms"),
            ("consent", None, "participating area 0.00 of 960.00"),
            ("consent", None, "participating owners 0 of 12"),
            ("consent", None, "no ballots counted yet"),
        ], id="households-no-ballots-no-documents"),
        pytest.param(True, (7, 0), ("application",), [
            ("document", "owner_proof", "Owner ID"),
            ("document", "ballot_forms", "ballot forms"),
            ("consent", None, "participating area 560.00 of 960.00"),
            ("consent", None, "participating owners 7 of 12"),
        ], id="7-of-12-vote-two-documents-missing"),
        pytest.param(True, (5, 3), CONSENT_DOCS, [
            ("consent", None, "agreeing area 400.00 of 640.00"),
            ("consent", None, "agreeing owners 5 of 8"),
        ], id="8-vote-5-agree"),
        pytest.param(True, (9, 1), CONSENT_DOCS, [], id="ready"),
    ],
)
def test_check_returns_all_blockers(ws: Workspace, households: bool, ballots: tuple[int, int],
                                    documents: tuple[str, ...], expected: list[tuple[str, str | None, str]]) -> None:
    consent_setup(ws, households=households, ballots=ballots, documents=documents)
    result = engine.check(ws, CID, at=T0 + timedelta(days=1))
    assert [(b.type, b.kind) for b in result.blockers] == [(ty, kind) for ty, kind, _ in expected]
    for blocker, (_, _, phrase) in zip(result.blockers, expected, strict=True):
        assert phrase in blocker.message
    assert result.ready is (not expected)
    assert (result.stage, result.next_stage, result.status) == ("consent", "survey", "active")
    assert result.as_dict()["blockers"] == [b.as_dict() for b in result.blockers]


def test_blocked_advance_raises_with_the_blockers_and_changes_nothing(ws: Workspace) -> None:
    consent_setup(ws, households=True, ballots=(7, 0), documents=("application",))
    at = T0 + timedelta(days=1)
    before_events, before_version = len(events(ws)), case_row(ws).version
    expected = engine.check(ws, CID, at=at).blockers
    with pytest.raises(BlockedError) as info:
        engine.advance(ws, CID, at=at)
    assert [b.as_dict() for b in info.value.blockers] == [b.as_dict() for b in expected]
    assert kinds(info.value.blockers) == [("document", "owner_proof"), ("document", "ballot_forms"),
                                          ("consent", None), ("consent", None)]
    row = case_row(ws)
    assert (row.stage, row.version, row.event_count, aware(row.stage_entered_at)) == (
        "consent", before_version, before_events, T0)
    assert len(events(ws)) == before_events
    assert records.consent_records(ws, CID) == []


# --------------------------------------------------------------------------- the full walk


WALK = [
    # stage, documents, approvals, ballots, day of the records, day of the advance
    ("consent", ["application", "owner_proof", "ballot_forms"], [], True, "2025-03-05", "2025-03-10"),
    ("survey", ["site_survey"], ["feasibility"], False, "2025-03-20", "2025-03-21"),
    ("agreement", ["agreement"], [], False, "2025-04-01", "2025-04-02"),
    ("design_notice", ["design_scheme", "notice_posting"], [], False, "2025-04-07", "2025-04-22"),
    ("joint_review", ["window_application"], ["joint_review"], False, "2025-05-06", "2025-05-07"),
    ("construction", ["construction_contract", "installation_notice", "works_finished"], [], False, "2025-08-01",
     "2025-08-02"),
    ("acceptance", ["completion_report", "technical_files"], ["supervisory_inspection", "use_registration"], False,
     "2025-08-20", "2025-08-21"),
]


def test_full_walk_through_the_eight_wuhan_stages(ws: Workspace) -> None:
    open_unit(ws)
    add_households(ws)
    for i, (stage, documents, approvals, ballots, on, leave) in enumerate(WALK):
        assert engine.show_case(ws, CID).stage == stage
        blockers = engine.check(ws, CID, at=t(leave)).blockers
        expected = [("document", k) for k in documents] + [("approval", k) for k in approvals]
        if ballots:
            expected += [("consent", None)] * 3  # participation area, participation heads, no ballots
        if stage == "design_notice":
            expected.append(("notice", "notice_posting"))
        assert kinds(blockers) == expected, stage
        if ballots:
            vote(ws, CID, t(on), agree=9, oppose=1)
        for kind in documents:
            doc(ws, CID, kind, t(on))
        for kind in approvals:
            approve(ws, CID, kind, t(on))
        assert engine.check(ws, CID, at=t(leave)).ready, stage
        move = engine.advance(ws, CID, at=t(leave))
        assert (move.from_stage, move.to_stage) == (stage, WUHAN_STAGES[i + 1])
        assert aware(case_row(ws).stage_entered_at) == t(leave)
    view = engine.show_case(ws, CID)
    assert (view.stage, view.stage_index, view.status) == ("operation", 8, "active")
    advances = [(e.from_stage, e.to_stage) for e in events(ws) if e.action == "advance"]
    assert advances == list(pairwise(WUHAN_STAGES))
    final = engine.check(ws, CID, at=t("2025-09-01"))
    assert final.next_stage is None
    assert final.ready is False
    assert final.complete == (not final.blockers)  # the last stage's own requirements, nothing else
    count = len(events(ws))
    with pytest.raises(InputError, match="last stage"):
        engine.advance(ws, CID, at=t("2025-09-01"))
    assert len(events(ws)) == count


@pytest.mark.parametrize(
    ("workflow_id", "base"),
    [pytest.param("wuhan-2018", "total", id="wuhan-2018"), pytest.param("guangzhou", "participants", id="guangzhou")],
)
def test_walk_through_the_other_workflows(ws: Workspace, workflow_id: str, base: str) -> None:
    open_unit(ws, workflow_id=workflow_id)
    walk_to(ws, CID, "operation", T0 + timedelta(hours=1))
    ids = ws.workflows.get(workflow_id).definition.stage_ids()
    advances = [(e.from_stage, e.to_stage) for e in events(ws) if e.action == "advance"]
    assert advances == list(pairwise(ids))
    assert len(advances) == 7
    [stored] = records.consent_records(ws, CID)
    assert (stored["stage"], stored["rule"]["agreement_base"], stored["tally"]["passed"]) == ("consent", base, True)
    with pytest.raises(InputError, match="last stage"):
        engine.advance(ws, CID, at=T0 + timedelta(days=100))


def test_consent_tally_and_rule_are_stored_when_leaving_consent(ws: Workspace) -> None:
    open_unit(ws)
    add_households(ws)
    vote(ws, CID, t("2025-03-05"), agree=9, oppose=1, abstain=1)
    for kind in CONSENT_DOCS:
        doc(ws, CID, kind, t("2025-03-05"))
    engine.advance(ws, CID, at=t("2025-03-10"))
    stored = records.consent_records(ws, CID)
    assert len(stored) == 1
    [record] = stored
    with ws.session() as session:
        rule = engine.workflow_of(ws, session, engine.get_case(session, CID)).definition.stage("consent")
    assert record["stage"] == "consent"
    assert record["at"] == t("2025-03-10")
    assert record["rule"] == rule_dict(rule.requires.consent)
    assert record["rule"]["participation"] == {"area": "2/3", "headcount": "2/3"}
    assert record["rule"]["agreement"] == {"area": "3/4", "headcount": "3/4"}
    tally = record["tally"]
    assert {k: tally[k] for k in ("households", "owners", "participants", "agree", "oppose", "abstain",
                                   "area_total", "area_participating", "area_agree", "passed")} == {
        "households": 12, "owners": 12, "participants": 11, "agree": 9, "oppose": 1, "abstain": 1,
        "area_total": "960.00", "area_participating": "880.00", "area_agree": "720.00", "passed": True}
    assert tally["rule"] == record["rule"]
    advance_event = events(ws)[-1]
    assert advance_event.action == "advance"
    assert '"passed": true' in advance_event.details
    # leaving a stage without a consent rule stores nothing more
    satisfy(ws, CID, t("2025-03-20"))
    engine.advance(ws, CID, at=t("2025-03-21"))
    assert len(records.consent_records(ws, CID)) == 1


# --------------------------------------------------------------------------- notice period


@pytest.mark.parametrize(
    ("workflow_id", "posted", "until"),
    [
        # 10 working days after 09-30: 10-09, 10-10, 10-11 (adjusted Saturday), 10-13..17, 10-20, 10-21.
        pytest.param("wuhan", "2025-09-30", "2025-10-21", id="wuhan-posted-before-national-day"),
        # 09-28 (adjusted Sunday), 09-29, 09-30, 10-09, 10-10, 10-11, 10-13..16.
        pytest.param("wuhan", "2025-09-26", "2025-10-16", id="wuhan-posted-friday-before-adjusted-sunday"),
        pytest.param("wuhan", "2025-10-03", "2025-10-21", id="wuhan-posted-on-a-holiday"),
        # 10-11 (adjusted Saturday), 10-13..17, 10-20..23.
        pytest.param("wuhan", "2025-10-10", "2025-10-23", id="wuhan-posted-friday-before-adjusted-saturday"),
        # 5 working days: 10-09, 10-10, 10-11, 10-13, 10-14.
        pytest.param("wuhan-2018", "2025-09-30", "2025-10-14", id="wuhan-2018-5-working-days"),
        # 09-28, 09-29, 09-30, 10-09, 10-10.
        pytest.param("wuhan-2018", "2025-09-26", "2025-10-10", id="wuhan-2018-over-the-adjusted-sunday"),
        pytest.param("guangzhou", "2025-09-30", "2025-10-20", id="guangzhou-20-calendar-days"),
        # The posting day is the local (Asia/Shanghai) date: 07:00 on 09-30 is still 09-29 in UTC.
        pytest.param("wuhan", "2025-09-30 07:00", "2025-10-21", id="wuhan-early-morning-counts-local-date"),
        pytest.param("wuhan", "2025-09-29 23:59", "2025-10-20", id="wuhan-late-evening-counts-local-date"),
    ],
)
def test_notice_period_over_the_national_day_holiday(ws: Workspace, workflow_id: str, posted: str,
                                                     until: str) -> None:
    open_unit(ws, workflow_id=workflow_id, at=t("2025-08-01 09:00"))
    walk_to(ws, CID, "design_notice", t("2025-08-01 10:00"))
    posted_at = t(posted if " " in posted else posted + " 10:00")
    doc(ws, CID, "design_scheme", posted_at)
    doc(ws, CID, "notice_posting", posted_at)
    end = date.fromisoformat(until)
    last_day = t(until + " 23:59")
    blockers = engine.check(ws, CID, at=last_day).blockers
    assert [(b.type, b.kind, b.until) for b in blockers] == [("notice", "notice_posting", end)]
    assert f"until {until}" in blockers[0].message
    assert blockers[0].as_dict()["until"] == until
    with pytest.raises(BlockedError) as info:
        engine.advance(ws, CID, at=last_day)
    assert [(b.type, b.until) for b in info.value.blockers] == [("notice", end)]
    next_day = t((end + timedelta(days=1)).isoformat() + " 00:00")
    assert engine.check(ws, CID, at=next_day).ready
    move = engine.advance(ws, CID, at=next_day)
    assert (move.from_stage, move.to_stage) == ("design_notice", "joint_review")


def test_reposted_notice_restarts_the_period(ws: Workspace) -> None:
    open_unit(ws, at=t("2025-08-01 09:00"))
    walk_to(ws, CID, "design_notice", t("2025-08-01 10:00"))
    doc(ws, CID, "design_scheme", t("2025-09-26 10:00"))
    doc(ws, CID, "notice_posting", t("2025-09-26 10:00"))
    doc(ws, CID, "notice_posting", t("2025-09-30 10:00"))
    [blocker] = engine.check(ws, CID, at=t("2025-10-17")).blockers
    assert (blocker.type, blocker.until) == ("notice", date(2025, 10, 21))


# --------------------------------------------------------------------------- objections


def in_design_notice_with_notice_over(ws: Workspace) -> datetime:
    """A wuhan case in design_notice, scheme posted 2025-09-01; the 10 working days end 2025-09-15."""
    open_unit(ws, at=t("2025-08-01 09:00"))
    walk_to(ws, CID, "design_notice", t("2025-08-01 10:00"))
    doc(ws, CID, "design_scheme", t("2025-09-01 10:00"))
    doc(ws, CID, "notice_posting", t("2025-09-01 10:00"))
    assert engine.check(ws, CID, at=t("2025-09-16")).ready
    return t("2025-09-16")


@pytest.mark.parametrize(
    ("written", "real_name", "room", "objector", "blocks"),
    [
        pytest.param(True, True, "201", None, True, id="written-real-name-blocks"),
        pytest.param(True, True, None, "李某（201室）", True, id="written-real-name-by-name-blocks"),
        pytest.param(False, True, "201", None, False, id="oral-does-not-block"),
        pytest.param(True, False, None, "匿名", False, id="anonymous-does-not-block"),
        pytest.param(False, False, None, "匿名", False, id="oral-anonymous-does-not-block"),
    ],
)
def test_objection_blocks_design_notice(ws: Workspace, written: bool, real_name: bool, room: str | None,
                                        objector: str | None, blocks: bool) -> None:
    at = in_design_notice_with_notice_over(ws)
    objection = records.add_objection(ws, CID, grounds="采光", room=room, objector=objector, written=written,
                                      real_name=real_name, at=t("2025-09-05 10:00"))
    assert objection.id is not None
    blockers = engine.check(ws, CID, at=at).blockers
    if not blocks:
        assert blockers == []
        return
    assert [(b.type, b.id) for b in blockers] == [("objection", objection.id)]
    assert f"#{objection.id}" in blockers[0].message
    assert blockers[0].as_dict()["id"] == objection.id
    with pytest.raises(BlockedError) as info:
        engine.advance(ws, CID, at=at)
    assert [(b.type, b.id) for b in info.value.blockers] == [("objection", objection.id)]
    records.resolve_objection(ws, CID, objection.id, outcome="加装遮阳并补偿", at=t("2025-09-16 09:00"))
    later = t("2025-09-16 10:00")
    assert engine.check(ws, CID, at=later).blockers == []
    assert engine.advance(ws, CID, at=later).to_stage == "joint_review"


def test_design_notice_reports_documents_notice_and_objection_at_once(ws: Workspace) -> None:
    open_unit(ws, at=t("2025-08-01 09:00"))
    entered = walk_to(ws, CID, "design_notice", t("2025-08-01 10:00"))
    objection = records.add_objection(ws, CID, grounds="采光", room="201", at=entered + timedelta(days=1))
    blockers = engine.check(ws, CID, at=entered + timedelta(days=2)).blockers
    assert [(b.type, b.kind, b.id) for b in blockers] == [
        ("document", "design_scheme", None), ("document", "notice_posting", None),
        ("notice", "notice_posting", None), ("objection", None, objection.id)]
    assert "has not been posted (10 working days" in blockers[2].message


def test_objection_blocks_only_while_open_as_of_at(ws: Workspace) -> None:
    in_design_notice_with_notice_over(ws)
    objection = records.add_objection(ws, CID, grounds="噪音", room="201", at=t("2025-09-16 10:00"))
    records.resolve_objection(ws, CID, objection.id or 0, outcome="协商一致", at=t("2025-09-20"))
    table = [
        ("2025-09-16 09:59", []),
        ("2025-09-16 10:00", [("objection", objection.id)]),
        ("2025-09-19 23:59", [("objection", objection.id)]),
        ("2025-09-20 00:00", []),
    ]
    for at, expected in table:
        assert [(b.type, b.id) for b in engine.check(ws, CID, at=t(at)).blockers] == expected, at


# --------------------------------------------------------------------------- approvals


@pytest.mark.parametrize(
    ("decisions", "expected"),
    [
        pytest.param([], "awaiting Feasibility opinion", id="none-yet"),
        pytest.param([("2025-03-03", True)], "was refused on 2025-03-03", id="rejected-blocks"),
        pytest.param([("2025-03-03", True), ("2025-03-06", False)], None, id="later-approval-clears"),
        pytest.param([("2025-03-03", False), ("2025-03-06", True)], "was refused on 2025-03-06",
                     id="later-rejection-blocks-again"),
        pytest.param([("2025-03-06", False), ("2025-03-03", True)], None, id="approval-dated-after-rejection-wins"),
    ],
)
def test_rejected_approval(ws: Workspace, decisions: list[tuple[str, bool]], expected: str | None) -> None:
    open_unit(ws)
    walk_to(ws, CID, "survey", t("2025-03-01 10:00"))
    doc(ws, CID, "site_survey", t("2025-03-02"))
    for day, rejected in decisions:
        approve(ws, CID, "feasibility", t(day), rejected=rejected, number=f"武审{day}")
    blockers = engine.check(ws, CID, at=t("2025-03-10")).blockers
    if expected is None:
        assert blockers == []
        return
    assert [(b.type, b.kind, b.authority) for b in blockers] == [("approval", "feasibility", "区行政审批局")]
    assert expected in blockers[0].message
    if "refused" in expected:
        assert "was refused" in blockers[0].message
        assert f"(number 武审{decisions[-1][0]})" in blockers[0].message


# --------------------------------------------------------------------------- guards as of --at


def test_guards_evaluate_as_of_at(ws: Workspace) -> None:
    open_unit(ws)
    add_households(ws)
    vote(ws, CID, t("2025-03-05"), agree=9, oppose=1)
    doc(ws, CID, "application", t("2025-03-02"))
    doc(ws, CID, "owner_proof", t("2025-03-02"))
    doc(ws, CID, "ballot_forms", t("2025-03-08 15:00"))
    table = [
        ("2025-03-04", [("document", "ballot_forms")] + [("consent", None)] * 3),
        ("2025-03-05", [("document", "ballot_forms")]),
        ("2025-03-08 14:59", [("document", "ballot_forms")]),
        ("2025-03-08 15:00", []),
    ]
    for at, expected in table:
        assert kinds(engine.check(ws, CID, at=t(at)).blockers) == expected, at
    with pytest.raises(BlockedError) as info:
        engine.advance(ws, CID, at=t("2025-03-08 14:59"))
    assert kinds(info.value.blockers) == [("document", "ballot_forms")]
    assert engine.advance(ws, CID, at=t("2025-03-08 15:00")).to_stage == "survey"


def test_ballot_changed_later_still_counts_as_of_an_earlier_at(ws: Workspace) -> None:
    """As of 03-07 room 201 had agreed; its change to 'oppose' on 03-10 must not erase that ballot for 03-07."""
    open_unit(ws)
    add_households(ws)
    vote(ws, CID, t("2025-03-05"), agree=8)  # exactly 2/3 take part, all agree
    for kind in CONSENT_DOCS:
        doc(ws, CID, kind, t("2025-03-05"))
    assert engine.check(ws, CID, at=t("2025-03-07")).blockers == []
    records.cast_vote(ws, CID, "201", "oppose", at=t("2025-03-10"))
    assert engine.check(ws, CID, at=t("2025-03-11")).blockers == []  # 7 of 8 participants agree
    now = records.vote_tally(ws, CID, at=t("2025-03-11"))
    assert (now.participants, now.agree, now.oppose) == (8, 7, 1)
    before = records.vote_tally(ws, CID, at=t("2025-03-07"))
    assert (before.participants, before.agree, before.oppose) == (8, 8, 0)
    assert engine.check(ws, CID, at=t("2025-03-07")).blockers == []


def test_approval_dated_after_at_does_not_count(ws: Workspace) -> None:
    open_unit(ws)
    walk_to(ws, CID, "survey", t("2025-03-01 10:00"))
    doc(ws, CID, "site_survey", t("2025-03-03"))
    approve(ws, CID, "feasibility", t("2025-03-10"))
    assert kinds(engine.check(ws, CID, at=t("2025-03-09")).blockers) == [("approval", "feasibility")]
    assert engine.check(ws, CID, at=t("2025-03-10")).ready


def test_advance_before_the_stage_was_entered_is_blocked(ws: Workspace) -> None:
    open_unit(ws)
    entered = walk_to(ws, CID, "survey", t("2025-03-01 10:00"))
    satisfy(ws, CID, entered - timedelta(minutes=30))  # after the opening (09:00), before the stage
    with pytest.raises(BlockedError) as blocked:
        engine.advance(ws, CID, at=entered - timedelta(hours=1))
    assert [(b.type, b.message) for b in blocked.value.blockers] == [
        ("time", f"advancing at {show(entered - timedelta(hours=1))} would be before the case entered its stage "
                 f"({show(entered)})")]
    assert engine.show_case(ws, CID).stage == "survey"


# --------------------------------------------------------------------------- return_to


@pytest.mark.parametrize(
    ("to", "reason", "error"),
    [
        pytest.param("agreement", "设计方案需调整", None, id="previous-stage"),
        pytest.param("consent", "  重新表决  ", None, id="first-stage-reason-stripped"),
        pytest.param("design_notice", "同一阶段", "can be returned to", id="same-stage-refused"),
        pytest.param("joint_review", "后面的阶段", "can be returned to", id="later-stage-refused"),
        pytest.param("nowhere", "不存在", "can be returned to", id="unknown-stage-refused"),
        pytest.param("agreement", "", "reason: is required", id="empty-reason-refused"),
        pytest.param("agreement", "   ", "reason: is required", id="blank-reason-refused"),
    ],
)
def test_return_to(ws: Workspace, to: str, reason: str, error: str | None) -> None:
    open_unit(ws)
    entered = walk_to(ws, CID, "design_notice", t("2025-03-01 10:00"))
    at = entered + timedelta(days=2)
    count = len(events(ws))
    if error is not None:
        with pytest.raises(InputError, match=re.escape(error)):
            engine.return_to(ws, CID, to, reason=reason, at=at)
        assert engine.show_case(ws, CID).stage == "design_notice"
        assert len(events(ws)) == count
        return
    move = engine.return_to(ws, CID, to, reason=reason, at=at)
    assert (move.action, move.from_stage, move.to_stage) == ("return", "design_notice", to)
    row = case_row(ws)
    assert (row.stage, aware(row.stage_entered_at), aware(row.clock_started_at)) == (to, at, at)
    last = events(ws)[-1]
    assert (last.seq, last.action, last.from_stage, last.to_stage, last.note) == (
        count + 1, "return", "design_notice", to, reason.strip())
    assert aware(last.business_at) == at


def blocker_kinds(ws: Workspace, case_id: str, at: datetime) -> list[tuple[str, str | None]]:
    return [(b.type, b.kind) for b in engine.check(ws, case_id, at=at).blockers]


def test_a_return_starts_the_evidence_afresh(ws: Workspace) -> None:
    """Returned from joint review to the design notice (the scheme must change): the old scheme, the old notice
    and the window papers no longer count; the households and the vote of the stage passed before do."""
    open_unit(ws)
    entered = walk_to(ws, CID, "joint_review", T0)
    satisfy(ws, CID, entered + timedelta(hours=1))
    back = entered + timedelta(days=1)
    assert blocker_kinds(ws, CID, back) == []
    move = engine.return_to(ws, CID, "design_notice", reason="方案需修改：改为玻璃井道", at=back)
    assert move.details == {"records": "restarted"}
    assert aware(case_row(ws).evidence_from) == back
    later = back + timedelta(hours=1)
    assert blocker_kinds(ws, CID, later) == [("document", "design_scheme"), ("document", "notice_posting"),
                                             ("notice", "notice_posting")]
    satisfy(ws, CID, later)  # the new scheme and a new posting: the notice period runs again from it
    assert blocker_kinds(ws, CID, later + timedelta(days=1)) == [("notice", "notice_posting")]
    engine.advance(ws, CID, at=later + timedelta(days=40))
    # at joint review again: the earlier window papers and approvals were before the return
    again = later + timedelta(days=41)
    wf = ws.workflows.get("wuhan").definition
    required = wf.stage("joint_review").requires
    assert blocker_kinds(ws, CID, again) == [*(("document", k) for k in required.documents),
                                             *(("approval", k) for k in required.approvals)]


def test_a_return_to_the_vote_needs_a_new_vote(ws: Workspace) -> None:
    open_unit(ws)
    entered = walk_to(ws, CID, "survey", T0)
    engine.return_to(ws, CID, "consent", reason="业主对费用分摊有异议，重新表决", at=entered + timedelta(days=1))
    kinds = blocker_kinds(ws, CID, entered + timedelta(days=2))
    assert ("consent", None) in kinds  # the households stay; their ballots before the return no longer count
    tally = records.vote_tally(ws, CID, at=entered + timedelta(days=2))
    assert (tally.participants, tally.passed) == (0, False)
    vote(ws, CID, entered + timedelta(days=3), agree=9, oppose=1)
    assert records.vote_tally(ws, CID, at=entered + timedelta(days=3)).passed


def test_a_return_that_keeps_the_records(ws: Workspace) -> None:
    open_unit(ws)
    entered = walk_to(ws, CID, "agreement", T0)
    move = engine.return_to(ws, CID, "survey", reason="补充管线单位意见", at=entered + timedelta(days=1),
                            keep_records=True)
    assert move.details == {"records": "kept"}
    assert case_row(ws).evidence_from is None
    assert blocker_kinds(ws, CID, entered + timedelta(days=2)) == []


def test_return_from_the_first_stage_is_refused(ws: Workspace) -> None:
    open_unit(ws)
    with pytest.raises(InputError, match="nothing"):
        engine.return_to(ws, CID, "consent", reason="无", at=T0 + timedelta(days=1))


# --------------------------------------------------------------------------- suspend / resume / withdraw


@pytest.mark.parametrize("action", ["suspend", "resume", "withdraw"])
@pytest.mark.parametrize("reason", ["", "   "], ids=["empty", "blank"])
def test_status_moves_need_a_reason(ws: Workspace, action: str, reason: str) -> None:
    open_unit(ws)
    if action == "resume":
        engine.suspend(ws, CID, reason="调解", at=T0 + timedelta(days=1))
    count = len(events(ws))
    with pytest.raises(InputError, match="reason: is required"):
        getattr(engine, action)(ws, CID, reason=reason, at=T0 + timedelta(days=2))
    assert len(events(ws)) == count


def test_suspended_case_cannot_advance(ws: Workspace) -> None:
    consent_setup(ws, households=True, ballots=(9, 1), documents=CONSENT_DOCS)
    engine.suspend(ws, CID, reason="低层业主诉讼", at=T0 + timedelta(days=1))
    count = len(events(ws))
    with pytest.raises(BlockedError) as info:
        engine.advance(ws, CID, at=T0 + timedelta(days=2))
    assert [b.type for b in info.value.blockers] == ["status"]
    assert "低层业主诉讼" in info.value.blockers[0].message
    assert [b.type for b in engine.check(ws, CID, at=T0 + timedelta(days=2)).blockers] == ["status"]
    assert (engine.show_case(ws, CID).stage, len(events(ws))) == ("consent", count)
    with pytest.raises(InputError, match="suspended"):
        engine.return_to(ws, CID, "consent", reason="x", at=T0 + timedelta(days=2))
    engine.resume(ws, CID, reason="和解", at=T0 + timedelta(days=3))
    assert engine.advance(ws, CID, at=T0 + timedelta(days=4)).to_stage == "survey"


@pytest.mark.parametrize(
    ("pauses", "shift"),
    [
        pytest.param([(3, 8)], timedelta(days=5), id="one-pause-of-5-days"),
        pytest.param([(1, 2), (10, 13)], timedelta(days=4), id="two-pauses-1-and-3-days"),
        pytest.param([(2, 2)], timedelta(0), id="resumed-at-once"),
    ],
)
def test_stall_clock_moves_forward_by_the_suspended_time(ws: Workspace, pauses: list[tuple[int, int]],
                                                         shift: timedelta) -> None:
    open_unit(ws)
    for start, end in pauses:
        engine.suspend(ws, CID, reason="调解中", at=T0 + timedelta(days=start))
        assert case_row(ws).status == "suspended"
        engine.resume(ws, CID, reason="调解结束", at=T0 + timedelta(days=end))
    row = case_row(ws)
    assert (row.status, row.suspended_at) == ("active", None)
    assert aware(row.clock_started_at) == T0 + shift
    assert aware(row.stage_entered_at) == T0


@pytest.mark.parametrize(
    ("status", "action", "message"),
    [
        pytest.param("active", "resume", "is active: only a suspended case can be resumed",
                     id="resume-active"),
        pytest.param("suspended", "suspend", "is suspended: only an active case can be suspended",
                     id="suspend-suspended"),
    ],
)
def test_status_move_from_the_wrong_status(ws: Workspace, status: str, action: str, message: str) -> None:
    open_unit(ws)
    if status == "suspended":
        engine.suspend(ws, CID, reason="调解", at=T0 + timedelta(days=1))
    with pytest.raises(InputError, match=message):
        getattr(engine, action)(ws, CID, reason="x", at=T0 + timedelta(days=2))


def test_suspension_dated_before_the_stage_was_entered_is_refused(ws: Workspace) -> None:
    """Like advance and return_to: a suspension cannot start before the case was in its stage (here: opened).

    Accepting it moves the stall clock past the resume time: suspended T0-10d, resumed T0+1d gives a clock
    that starts at T0+11d.
    """
    open_unit(ws)
    with pytest.raises(InputError, match="before"):
        engine.suspend(ws, CID, reason="调解", at=T0 - timedelta(days=10))
    row = case_row(ws)
    assert (row.status, row.event_count) == ("active", 1)


def test_resume_before_the_suspension_is_refused(ws: Workspace) -> None:
    open_unit(ws)
    engine.suspend(ws, CID, reason="调解", at=T0 + timedelta(days=5))
    with pytest.raises(InputError, match="before the suspension"):
        engine.resume(ws, CID, reason="x", at=T0 + timedelta(days=4))
    assert case_row(ws).status == "suspended"


@pytest.mark.parametrize(("review", "error"), [
    pytest.param(T0 + timedelta(days=5) - timedelta(minutes=1), "review_at: 2025-03-06 08:59 is before the "
                 "suspension (2025-03-06 09:00)", id="a-minute-early"),
    pytest.param(datetime(2025, 3, 20, 9, 0), "no time zone", id="naive"),
    pytest.param(T0 + timedelta(days=5), None, id="at-the-suspension"),
    pytest.param(datetime.now(UTC) + timedelta(days=60), None, id="ahead"),
])
def test_suspend_review_date(ws: Workspace, review: datetime, error: str | None) -> None:
    open_unit(ws)
    if error is not None:
        with pytest.raises(InputError, match=re.escape(error)):
            engine.suspend(ws, CID, reason="调解", at=T0 + timedelta(days=5), review_at=review)
        assert (case_row(ws).status, case_row(ws).event_count) == ("active", 1)
        return
    engine.suspend(ws, CID, reason="调解", at=T0 + timedelta(days=5), review_at=review)
    assert aware(case_row(ws).review_at or T0) == review


def test_list_cases_by_stage(ws: Workspace) -> None:
    open_unit(ws)
    assert [v.id for v in engine.list_cases(ws, stage="consent")] == [CID]
    assert engine.list_cases(ws, stage="operation") == []
    with pytest.raises(InputError) as raised:
        engine.list_cases(ws, stage="nope")
    assert str(raised.value) == ("stage: 'nope': no workflow has such a stage; known stages: "
                                 + ", ".join(WUHAN_STAGES))


AFTER_WITHDRAW: list[tuple[str, Callable[[Workspace, datetime], object]]] = [
    ("advance", lambda ws, at: engine.advance(ws, CID, at=at)),
    ("return_to", lambda ws, at: engine.return_to(ws, CID, "survey", reason="x", at=at)),
    ("suspend", lambda ws, at: engine.suspend(ws, CID, reason="x", at=at)),
    ("resume", lambda ws, at: engine.resume(ws, CID, reason="x", at=at)),
    ("withdraw", lambda ws, at: engine.withdraw(ws, CID, reason="x", at=at)),
    ("add_document", lambda ws, at: doc(ws, CID, "site_survey", at)),
    ("add_approval", lambda ws, at: approve(ws, CID, "feasibility", at)),
    ("cast_vote", lambda ws, at: records.cast_vote(ws, CID, "201", "agree", at=at)),
    ("import_votes", lambda ws, at: vote(ws, CID, at, agree=3)),
    ("add_objection", lambda ws, at: records.add_objection(ws, CID, grounds="采光", room="201", at=at)),
    ("import_households", lambda ws, at: add_households(ws, CID, at)),
]


@pytest.mark.parametrize("action", [pytest.param(fn, id=name) for name, fn in AFTER_WITHDRAW])
def test_withdraw_is_final(ws: Workspace, action: Callable[[Workspace, datetime], object]) -> None:
    open_unit(ws)
    add_households(ws)
    engine.withdraw(ws, CID, reason="业主放弃加装", at=T0 + timedelta(days=3))
    before = (len(events(ws)), case_row(ws).version)
    with pytest.raises(InputError, match="withdrawn"):
        action(ws, T0 + timedelta(days=4))
    assert (len(events(ws)), case_row(ws).version) == before
    view = engine.show_case(ws, CID)
    assert (view.status, view.status_reason, view.stage) == ("withdrawn", "业主放弃加装", "consent")
    assert engine.check(ws, CID, at=T0 + timedelta(days=4)).blockers[0].type == "status"


# --------------------------------------------------------------------------- history


def test_one_event_per_change_in_a_hash_chain(ws: Workspace) -> None:
    open_unit(ws)
    add_households(ws, at=T0 + timedelta(minutes=1))
    records.cast_vote(ws, CID, "201", "agree", at=T0 + timedelta(hours=1))
    records.cast_vote(ws, CID, "201", "oppose", at=T0 + timedelta(hours=2))
    vote(ws, CID, T0 + timedelta(hours=3), agree=9, oppose=1)
    for kind in CONSENT_DOCS:
        doc(ws, CID, kind, T0 + timedelta(hours=4))
    engine.advance(ws, CID, at=T0 + timedelta(days=1))
    approve(ws, CID, "feasibility", T0 + timedelta(days=2), rejected=True)
    engine.suspend(ws, CID, reason="调解", at=T0 + timedelta(days=3))
    engine.resume(ws, CID, reason="调解结束", at=T0 + timedelta(days=4))
    engine.return_to(ws, CID, "consent", reason="补充表决", at=T0 + timedelta(days=5))
    objection = records.add_objection(ws, CID, grounds="采光", room="202", at=T0 + timedelta(days=6))
    records.resolve_objection(ws, CID, objection.id or 0, outcome="协商一致", at=T0 + timedelta(days=7))
    engine.withdraw(ws, CID, reason="放弃", at=T0 + timedelta(days=8))
    log = events(ws)
    assert [e.action for e in log] == [
        "open", "household.import", "vote.cast", "vote.cast", "vote.import", "doc.add", "doc.add", "doc.add",
        "advance", "approval.add", "suspend", "resume", "return", "objection.add", "objection.resolve",
        "withdraw"]
    assert [e.seq for e in log] == list(range(1, len(log) + 1))
    assert log[0].prev_hash == GENESIS
    for previous, event in pairwise(log):
        assert event.prev_hash == previous.hash
    for event in log:
        assert hash_of(event) == event.hash
    row = case_row(ws)
    assert (row.event_count, row.last_hash) == (len(log), log[-1].hash)
    assert len({e.hash for e in log}) == len(log)


def test_tampered_event_no_longer_matches_its_hash(ws: Workspace) -> None:
    open_unit(ws)
    engine.suspend(ws, CID, reason="调解", at=T0 + timedelta(days=1))
    event = events(ws)[-1]
    assert hash_of(event) == event.hash
    event.note = "改过的理由"
    assert hash_of(event) != event.hash


# --------------------------------------------------------------------------- optimistic locking


EXPECTED_VERSION_MOVES: list[tuple[str, Callable[[Workspace, int], object]]] = [
    ("advance", lambda ws, v: engine.advance(ws, CID, at=T0 + timedelta(days=2), expected_version=v)),
    ("return_to", lambda ws, v: engine.return_to(ws, CID, "consent", reason="x", at=T0 + timedelta(days=2),
                                                 expected_version=v)),
]


@pytest.mark.parametrize("move", [pytest.param(fn, id=name) for name, fn in EXPECTED_VERSION_MOVES])
@pytest.mark.parametrize("offset", [-1, 1], ids=["stale", "ahead"])
def test_expected_version_mismatch_writes_nothing(ws: Workspace, move: Callable[[Workspace, int], object],
                                                  offset: int) -> None:
    open_unit(ws)
    walk_to(ws, CID, "survey", T0 + timedelta(hours=1))
    satisfy(ws, CID, T0 + timedelta(days=1, hours=1))
    current = engine.show_case(ws, CID).version
    before = (len(events(ws)), case_row(ws).stage, current)
    with pytest.raises(ConflictError, match=f"not {current + offset}"):
        move(ws, current + offset)
    assert (len(events(ws)), case_row(ws).stage, engine.show_case(ws, CID).version) == before
    move(ws, current)
    assert engine.show_case(ws, CID).version > current


# --------------------------------------------------------------------------- workflow snapshots


def test_workflow_edits_and_snapshots(tmp_path: Path, db_url: str) -> None:
    folder = tmp_path / "my-workflows"
    folder.mkdir()
    copy = folder / "wuhan.yaml"
    shutil.copyfile(builtin_dir("workflows") / "wuhan@2024.yaml", copy)  # in force in 2025
    original = copy.read_text(encoding="utf-8")

    ws, _ = Workspace.init(db_url, workflow_dirs=[folder])
    try:
        old = open_unit(ws, "OLD", unit="1", at=t("2025-08-01 09:00"))
    finally:
        ws.dispose()

    # Same version, different content: refused for a new case.
    edited = original.replace("title_en: Wuhan elevator retrofit", "title_en: Wuhan elevator retrofit (edited)", 1)
    assert edited != original
    copy.write_text(edited, encoding="utf-8")
    ws = Workspace.open(db_url, workflow_dirs=[folder])
    try:
        with pytest.raises(InputError, match="without a new version"):
            open_unit(ws, "NEW", unit="2", at=t("2025-08-01 09:00"))
        with pytest.raises(NotFoundError):
            engine.show_case(ws, "NEW")
    finally:
        ws.dispose()

    # A new version with a 5-working-day notice: new cases get it, the old case keeps its 10 days.
    old_notice = "notice: {document: notice_posting, days: 10, calendar: working}"
    assert original.count(old_notice) == 1
    bumped = original.replace(f'version: "{old.workflow_version}"', 'version: "2099.9"', 1).replace(
        old_notice, "notice: {document: notice_posting, days: 5, calendar: working}")
    copy.write_text(bumped, encoding="utf-8")
    ws = Workspace.open(db_url, workflow_dirs=[folder])
    try:
        new = open_unit(ws, "NEW", unit="2", at=t("2025-08-01 09:00"))
        assert new.workflow_version == "2099.9"
        assert engine.show_case(ws, "OLD").workflow_version == old.workflow_version
        for case_id in ("OLD", "NEW"):
            walk_to(ws, case_id, "design_notice", t("2025-08-01 10:00"))
            doc(ws, case_id, "design_scheme", t("2025-09-30 10:00"))
            doc(ws, case_id, "notice_posting", t("2025-09-30 10:00"))
        at = t("2025-10-14 12:00")
        assert [(b.type, b.until) for b in engine.check(ws, "OLD", at=at).blockers] == [
            ("notice", date(2025, 10, 21))]
        assert [(b.type, b.until) for b in engine.check(ws, "NEW", at=at).blockers] == [
            ("notice", date(2025, 10, 14))]
        assert engine.advance(ws, "NEW", at=t("2025-10-15")).to_stage == "joint_review"
        with pytest.raises(BlockedError):
            engine.advance(ws, "OLD", at=t("2025-10-15"))
        with ws.session() as session:
            assert session.get(models.WorkflowSnapshot, case_row(ws, "OLD").workflow_sha256).content == original
    finally:
        ws.dispose()
