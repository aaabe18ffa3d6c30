"""The guards' record loader reads only what the guards read, and the guards decide exactly as on every record.

The decisive test compares, on the demo's eight cases, every stage of every built-in workflow (and a stage that
requires everything a stage can), the blockers and the tally computed from the pruned light rows with those
computed from every record of the case with every column. A guard that reads a table, a kind of row or a column
it did not declare (``eightstep.engine.guards.READS``, the Protocols of ``eightstep.engine.evidence``) makes it
fail.
"""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta
from types import SimpleNamespace

import pytest
from sqlalchemy import select

from eightstep import engine
from eightstep.engine import evidence, guards
from eightstep.engine.checking import GuardReader
from eightstep.engine.evidence import CaseRecords
from eightstep.engine.guards import GUARDS, MEETING_KINDS, Blocker, GuardContext, guards_of, tables_needed
from eightstep.errors import NotFoundError
from eightstep.rules.consent import Tally
from eightstep.store import models, read
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc
from eightstep.workflow.schema import PaymentRule, Requirements, Stage, Workflow


def everything(wf: Workflow) -> Stage:
    """A stage of ``wf`` that requires every kind of thing a stage can require, so that every guard reads."""
    consent = next(s.requires.consent for s in wf.stages if s.requires.consent is not None)
    notice = next(s.requires.notice for s in wf.stages if s.requires.notice is not None)
    requires = Requirements(documents=list(wf.documents), approvals=list(wf.approvals), consent=consent,
                            notice=notice, no_open_objections=True, chosen_scheme=True, meetings=list(MEETING_KINDS),
                            payments=PaymentRule())
    return wf.stages[0].model_copy(update={"id": "everything", "requires": requires})


def blockers_and_tally(wf: Workflow, stage: Stage, records: CaseRecords, at: datetime, ws: Workspace
                       ) -> tuple[list[Blocker], Tally | None]:
    ctx = GuardContext(workflow=wf, stage=stage, records=records, at=at, calendar=ws.calendar)
    return list(ctx.blockers()), ctx.consent_tally


# --- what is read ----------------------------------------------------------------------------------------

def test_every_guard_declares_what_it_reads() -> None:
    assert set(GUARDS) <= set(guards.READS), "declare in guards.READS what the new guard reads"
    assert set(evidence.RECORD_TABLES) == {f.name for f in fields(CaseRecords)} - {"evidence_from"}
    assert set(evidence.GUARD_COLUMNS) == set(evidence.RECORD_TABLES)


def test_only_the_tables_the_guards_read_are_loaded(demo: Workspace) -> None:
    wf = demo.workflows.get("wuhan").definition
    assert tables_needed(wf.stage("survey")) == {"documents": {"site_survey"}, "approvals": {"feasibility"}}
    assert tables_needed(wf.stage("consent")) == {
        "documents": {"application", "owner_proof", "ballot_forms"}, "households": None, "ballots": None}
    assert tables_needed(wf.stage("design_notice")) == {
        "documents": {"design_scheme", "notice_posting"}, "objections": None}
    assert set(tables_needed(everything(wf))) == set(evidence.RECORD_TABLES)


def test_a_guard_it_does_not_know_gets_every_row_of_every_table(monkeypatch: pytest.MonkeyPatch,
                                                                 demo: Workspace) -> None:
    survey = demo.workflows.get("wuhan").definition.stage("survey")
    monkeypatch.setitem(GUARDS, "novel", lambda ctx: [])
    assert tables_needed(survey) == dict.fromkeys(evidence.RECORD_TABLES)


def test_the_pruned_records_decide_as_every_record_does(demo: Workspace) -> None:
    """Every demo case, every stage of every built-in workflow, at every moment a demo case advanced."""
    workflows = [demo.workflows.get(workflow_id).definition for workflow_id in demo.workflows.paths()]
    stages = [(wf, stage) for wf in workflows for stage in [*wf.stages, everything(wf)]]
    with demo.session() as session:
        case_ids = list(session.exec(select(models.Case.id)).scalars())
        moments = sorted({as_utc(at) for at in session.exec(
            select(models.Event.business_at).where(models.Event.action == "advance")).scalars()})
        full = {case_id: engine.load_records(session, case_id) for case_id in case_ids}
    moments.append(moments[-1] + timedelta(days=400))
    compared = 0
    with demo.engine.connect() as conn:
        for number, (wf, stage) in enumerate(stages):
            pruned = GuardReader().load(conn, [(SimpleNamespace(id=case_id, workflow_sha256=f"wf{number}",
                                                                 evidence_from=full[case_id].evidence_from), stage)
                                                for case_id in case_ids])
            for case_id in case_ids:
                for at in moments:
                    expected = blockers_and_tally(wf, stage, full[case_id], at, demo)
                    assert blockers_and_tally(wf, stage, pruned[case_id], at, demo) == expected, (
                        wf.id, stage.id, case_id, at)
                    compared += 1
    assert len(workflows) >= 3 and len(case_ids) == 11 and compared > 5000


def test_a_guard_that_reads_nothing_for_a_stage_finds_nothing_there(demo: Workspace) -> None:
    """An advance's conditions in the case machine are the guards that read something for the stage
    (``guards.guards_of``): any other guard must find nothing there, or the machine and ``case check`` would
    disagree. Every stage of every built-in workflow, every demo case, at every moment a demo case advanced."""
    workflows = [demo.workflows.get(workflow_id).definition for workflow_id in demo.workflows.paths()]
    with demo.session() as session:
        case_ids = list(session.exec(select(models.Case.id)).scalars())
        moments = sorted({as_utc(at) for at in session.exec(
            select(models.Event.business_at).where(models.Event.action == "advance")).scalars()})
        full = {case_id: engine.load_records(session, case_id) for case_id in case_ids}
    asked = 0
    for wf in workflows:
        for stage in wf.stages:
            others = [name for name in GUARDS if name not in guards_of(stage)]
            for case_id in case_ids:
                for at in moments:
                    ctx = GuardContext(workflow=wf, stage=stage, records=full[case_id], at=at, calendar=demo.calendar)
                    assert {name: GUARDS[name](ctx) for name in others} == {name: [] for name in others}, (
                        wf.id, stage.id, case_id, at)
                    asked += len(others)
    assert asked > 1000


# --- check_many, batch by batch --------------------------------------------------------------------------

def test_check_many_gives_the_same_results_in_any_batch_size(monkeypatch: pytest.MonkeyPatch,
                                                             demo: Workspace) -> None:
    ids = [v.id for v in engine.list_cases(demo)]
    at = datetime.fromisoformat("2026-10-30T18:00:00+08:00")
    whole = engine.check_many(demo, [*ids, ids[0]], at=at)
    monkeypatch.setattr(read, "BATCH", 3)
    batched = engine.check_many(demo, list(reversed(ids)), at=at)
    assert list(whole) == ids
    assert list(batched) == list(reversed(ids))
    assert batched == whole
    assert {r.case_id: r for r in (engine.check(demo, case_id, at=at) for case_id in ids)} == whole
    assert any(r.blockers for r in whole.values()) and any(r.stage == "operation" for r in whole.values())


def test_check_many_names_a_missing_case_in_a_later_batch(monkeypatch: pytest.MonkeyPatch, demo: Workspace) -> None:
    ids = [v.id for v in engine.list_cases(demo)]
    monkeypatch.setattr(read, "BATCH", 3)
    with pytest.raises(NotFoundError, match="no case 'RD-9-9'"):
        engine.check_many(demo, [*ids, "RD-9-9"])
