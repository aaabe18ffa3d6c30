"""The peer engine: the same eight-stage procedure in SpiffWorkflow (BPMN), N instances against eightstep's N cases.

Both engines drive each instance from the first stage to the last (seven moves), and persist its state in SQLite
after every move (WAL, synchronous=NORMAL, as eightstep sets it); each move starts from the stored state, as
a request of a web application would:

* eightstep: ``engine.advance`` per move: read the case and its records, run the guards (exact vote tally,
  working-day notice period, documents, approvals, objections), let the stage machine move it, write the case
  row, its hash-chained event and (leaving consent) its consent record. The records each stage requires are
  in the database beforehand (bulk-inserted, not timed).
* SpiffWorkflow: per move, load the instance's JSON, deserialize it (``BpmnWorkflowSerializer``), put the
  stage's records into the ready user task's data, run the task and the engine steps (the gateway after the
  task evaluates the stage's requirements: ``bench/eight_steps.bpmn``), serialize, write the JSON back.
  Its gateways check summary counts (participants, agree) where eightstep recomputes the tally from ballots.

``spiff_in_memory`` is the same without the reload: the workflow object stays in memory between moves (a
single long-running process), only the serialization and the write remain.
"""

from __future__ import annotations

import random
import sqlite3
import time
from datetime import timedelta
from pathlib import Path
from typing import Any

from bench.generate import insert_rows
from bench.synth import OFFICER, REF_DAY, CaseFactory, Chain, Rows, local
from eightstep import engine
from eightstep.store import models
from eightstep.store.workspace import Workspace

BPMN = Path(__file__).with_name("eight_steps.bpmn")
PROCESS = "eight_steps"
AT = local(REF_DAY, 18)


# --- eightstep -------------------------------------------------------------------------------------------

def prepare_eightstep(db: Path, n: int, seed: int = 7) -> list[str]:
    """N cases at the first stage, every record of every stage already there (bulk-inserted)."""
    ws, _ = Workspace.init(str(db))
    loaded = ws.workflows.get("wuhan")
    wf = loaded.definition
    factory = CaseFactory(wf, loaded.sha256, random.Random(seed))
    rows = Rows()
    opened_day = REF_DAY - timedelta(days=120)
    first = wf.initial
    for i in range(n):
        case_id = f"P{i + 1:06d}"
        chain = Chain(case_id)
        chain.add(local(opened_day, 9), "open", None, first, OFFICER, {"complex": "对照小区", "building": str(i + 1),
                                                                       "unit": "1"})
        households = factory.households(rows, case_id)
        chain.add(local(opened_day, 10), "household.import", first, first, OFFICER,
                  {"added": len(households), "file": "业主名册.csv", "updated": 0})
        factory.ballots(rows, case_id, households, opened_day, opened_day + timedelta(days=10), chain, enough=True)
        for stage in wf.stages:
            for kind in stage.requires.documents:
                factory.document(rows, case_id, kind, stage.id, factory.when(opened_day, opened_day + timedelta(30)),
                                 None)
            for kind in stage.requires.approvals:
                factory.approval(rows, case_id, kind, factory.when(opened_day, opened_day + timedelta(30)),
                                 "approved")
        rows.events.extend(chain.rows(factory.ids))
        rows.cases.append(factory.case_row(case_id, 1, i + 1, 1, first, local(opened_day, 9), local(opened_day, 9),
                                           chain))
    complex_row = {"id": 1, "name": "对照小区", "district": None, "street": None, "community": None,
                   "created_at": local(opened_day, 9)}
    with ws.session() as session:
        engine.snapshot(session, loaded)
        insert_rows(session, [complex_row], rows)
        session.commit()
    ws.dispose()
    return [c["id"] for c in rows.cases]


def drive_eightstep(db: Path, ids: list[str]) -> dict[str, Any]:
    ws = Workspace.open(str(db))
    moves = len(ws.workflows.get("wuhan").definition.stages) - 1
    started = time.perf_counter()
    for case_id in ids:
        for _ in range(moves):
            engine.advance(ws, case_id, at=AT, actor="bench")
    seconds = time.perf_counter() - started
    with ws.session() as session:
        final = {session.get(models.Case, cid).stage for cid in ids}  # type: ignore[union-attr]
    ws.dispose()
    return {"seconds": seconds, "moves": moves * len(ids), "final_stages": sorted(final)}


# --- SpiffWorkflow ---------------------------------------------------------------------------------------

def stage_data(wf_stages: list[Any]) -> list[dict[str, Any]]:
    """What each stage's user task is given: the records that stage produced (documents and approvals accumulate,
    as Spiff carries task data on to the next task)."""
    out = []
    for stage in wf_stages:
        data: dict[str, Any] = {"documents": list(stage.requires.documents),
                                "approvals": list(stage.requires.approvals)}
        if stage.requires.consent is not None:
            data.update(owners=12, participants=12, agree=11)
        if stage.requires.notice is not None:
            data.update(notice_over=True, open_objections=0)
        out.append(data)
    return out


def _merge(task_data: dict[str, Any], new: dict[str, Any]) -> None:
    for key, value in new.items():
        if isinstance(value, list):
            task_data[key] = [*task_data.get(key, []), *value]
        else:
            task_data[key] = value


def drive_spiff(db: Path, n: int, *, reload: bool = True) -> dict[str, Any]:
    from SpiffWorkflow.bpmn import BpmnWorkflow
    from SpiffWorkflow.bpmn.parser import BpmnParser
    from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
    from SpiffWorkflow.util.task import TaskState

    from eightstep.workflow.registry import WorkflowRegistry

    stages = WorkflowRegistry().get("wuhan").definition.stages
    data = stage_data(stages)
    parser = BpmnParser()
    parser.add_bpmn_file(str(BPMN))
    spec = parser.get_spec(PROCESS)
    serializer = BpmnWorkflowSerializer()
    conn = sqlite3.connect(db)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("CREATE TABLE instances (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
    for i in range(n):
        workflow = BpmnWorkflow(spec)
        workflow.do_engine_steps()
        conn.execute("INSERT INTO instances (id, state) VALUES (?, ?)", (i + 1, serializer.serialize_json(workflow)))
    conn.commit()
    started = time.perf_counter()
    final = set()
    for i in range(1, n + 1):
        workflow = None
        for index in range(len(stages) - 1):
            if reload or workflow is None:
                (state,) = conn.execute("SELECT state FROM instances WHERE id = ?", (i,)).fetchone()
                workflow = serializer.deserialize_json(state)
            task = workflow.get_next_task(state=TaskState.READY, manual=True)
            assert task is not None and task.task_spec.name == stages[index].id, task
            _merge(task.data, data[index])
            task.run()
            workflow.do_engine_steps()
            conn.execute("UPDATE instances SET state = ? WHERE id = ?", (serializer.serialize_json(workflow), i))
            conn.commit()
        assert workflow is not None
        last = workflow.get_next_task(state=TaskState.READY, manual=True)
        final.add(last.task_spec.name if last else None)
    seconds = time.perf_counter() - started
    size = conn.execute("SELECT avg(length(state)) FROM instances").fetchone()[0]
    conn.close()
    return {"seconds": seconds, "moves": (len(stages) - 1) * n, "final_stages": sorted(final),
            "state_bytes": round(size or 0)}
