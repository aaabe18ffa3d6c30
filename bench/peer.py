"""The peer engine: the same eight-stage procedure in SpiffWorkflow (BPMN), N instances against eightstep's N cases.

Both engines drive every instance from the first stage to the last (seven moves each) and persist its state in
SQLite (WAL, synchronous=NORMAL, as eightstep sets it). Two ways, each engine measured the same way:

**One move per transaction, the state loaded afresh** (what an office does all day: a request, a move, a
commit):

* eightstep: ``engine.advance`` per move: read the case and its records, run the guards (exact vote tally,
  working-day notice period, documents, approvals, objections), let the stage machine move it, write the case
  row, its hash-chained event and (leaving consent) its consent record, commit. The records each stage requires
  are in the database beforehand (bulk-inserted, not timed).
* SpiffWorkflow (``reload``): per move, read the instance's JSON, deserialize it (``BpmnWorkflowSerializer``),
  put the stage's records into the ready user task's data, run the task and the engine steps (the gateway after
  the task evaluates the stage's requirements: ``bench/eight_steps.bpmn``), serialize, write the JSON back,
  commit. Its gateways compare summary counts (participants, agree) where eightstep recomputes the tally from
  the ballots.
* SpiffWorkflow (``memory``), for reference: the workflow object kept in memory between the moves of an
  instance (read once per instance), serialized and committed after every move: what ENGINEERING.md's
  1,300-1,430 persisted steps/s measured. It is not the same way as eightstep's (nothing is read per move).

**Batched** (many instances per transaction):

* eightstep: the bulk advance (``engine.bulk``, batches of 500 cases per transaction), run seven times.
* SpiffWorkflow (``batched``): per round and batch of 500 instances, read their JSON in one query, deserialize,
  run each one's task and engine steps, serialize, write them back with one ``executemany``, commit.
"""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path
from typing import Any

from bench.bulk_bench import AT
from bench.bulk_bench import advance as bulk_advance
from bench.generate import insert_rows, snapshot_row
from bench.synth import OFFICER, REF_DAY, CaseFactory, Chain, Rows, day_number, in_legal_order, local, stored
from eightstep import engine
from eightstep.store.workspace import Workspace
from eightstep.workflow.registry import WorkflowRegistry

BPMN = Path(__file__).with_name("eight_steps.bpmn")
PROCESS = "eight_steps"
BATCH = 500  # instances per transaction when batched: the bulk advance's batch
MODES = ("reload", "memory", "batched")


# --- eightstep -------------------------------------------------------------------------------------------

def prepare_eightstep(db: Path, n: int, seed: int = 7) -> list[str]:
    """N cases at the first stage, every record of every stage already there (bulk-inserted)."""
    ws, _ = Workspace.init(str(db))
    ws.dispose()
    loaded = WorkflowRegistry().get("wuhan")
    wf = loaded.definition
    factory = CaseFactory(wf, loaded.sha256, random.Random(seed))
    rows = Rows()
    opened_day = day_number(REF_DAY) - 120
    first = wf.initial
    rows.complexes.append((1, "对照小区", None, None, None, stored(local(opened_day, 9))))
    for i in range(n):
        case_id = f"P{i + 1:06d}"
        chain = Chain(case_id)
        chain.add(local(opened_day, 9), "open", None, first, OFFICER, {"complex": "对照小区", "building": str(i + 1),
                                                                       "unit": "1"})
        households = factory.households(rows, case_id)
        chain.add(local(opened_day, 10), "household.import", first, first, OFFICER,
                  {"added": len(households), "file": "业主名册.csv", "updated": 0})
        factory.ballots(rows, case_id, households, opened_day, opened_day + 10, chain, enough=True)
        for stage in wf.stages:
            times = in_legal_order(stage, {kind: factory.when(opened_day, opened_day + 30)
                                           for kind in [*stage.requires.documents, *stage.requires.approvals]})
            for kind in stage.requires.documents:
                factory.document(rows, case_id, kind, stage.id, times[kind], None)
            for kind in stage.requires.approvals:
                factory.approval(rows, case_id, kind, times[kind], "approved")
        chain.write(rows.events, factory.ids)
        rows.cases.append(factory.case_row(case_id, 1, i + 1, 1, first, local(opened_day, 9), local(opened_day, 9),
                                           chain))
    with sqlite3.connect(db) as conn:
        snapshot_row(conn, loaded)
        insert_rows(conn, rows)
    conn.close()
    return [c[0] for c in rows.cases]


def _final_stages(db: Path) -> list[str]:
    with sqlite3.connect(db) as conn:
        final = sorted(stage for (stage,) in conn.execute("SELECT DISTINCT stage FROM cases"))
    conn.close()
    return final


def drive_eightstep(db: Path, ids: list[str]) -> dict[str, Any]:
    """One move per transaction: ``engine.advance`` (reads the case afresh, judges, writes, commits)."""
    ws = Workspace.open(str(db))
    moves = len(ws.workflows.get("wuhan").definition.stages) - 1
    started, cpu = time.perf_counter(), time.process_time()
    for case_id in ids:
        for _ in range(moves):
            engine.advance(ws, case_id, at=AT, actor="bench")
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    ws.dispose()
    return {"seconds": seconds, "loop_cpu_seconds": cpu, "moves": moves * len(ids), "final_stages": _final_stages(db)}


def drive_eightstep_batched(db: Path, n: int) -> dict[str, Any]:
    """Batched: the bulk advance, once per stage (every case moves each time)."""
    moves = len(WorkflowRegistry().get("wuhan").definition.stages) - 1
    cpu = time.process_time()
    result = bulk_advance(str(db), dry_run=False, rounds=moves)
    cpu = time.process_time() - cpu
    assert result["advanced"] == moves * n, result
    return {"seconds": result["seconds"], "loop_cpu_seconds": cpu, "moves": result["advanced"],
            "final_stages": _final_stages(db)}


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


class _Spiff:
    """The BPMN spec, the serializer and the stored instances of one run."""

    def __init__(self, db: Path, n: int) -> None:
        from SpiffWorkflow.bpmn import BpmnWorkflow
        from SpiffWorkflow.bpmn.parser import BpmnParser
        from SpiffWorkflow.bpmn.serializer import BpmnWorkflowSerializer
        from SpiffWorkflow.util.task import TaskState

        self.ready = TaskState.READY
        self.stages = WorkflowRegistry().get("wuhan").definition.stages
        self.data = stage_data(self.stages)
        parser = BpmnParser()
        parser.add_bpmn_file(str(BPMN))
        spec = parser.get_spec(PROCESS)
        self.serializer = BpmnWorkflowSerializer()
        self.conn = conn = sqlite3.connect(db)
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("CREATE TABLE instances (id INTEGER PRIMARY KEY, state TEXT NOT NULL)")
        for i in range(n):
            workflow = BpmnWorkflow(spec)
            workflow.do_engine_steps()
            conn.execute("INSERT INTO instances (id, state) VALUES (?, ?)", (i + 1, self.serializer.serialize_json(
                workflow)))
        conn.commit()

    def load(self, instance: int) -> Any:
        (state,) = self.conn.execute("SELECT state FROM instances WHERE id = ?", (instance,)).fetchone()
        return self.serializer.deserialize_json(state)

    def step(self, workflow: Any, index: int) -> str:
        """Run stage ``index``'s user task and the engine steps after it; the new state as JSON."""
        task = workflow.get_next_task(state=self.ready, manual=True)
        assert task is not None and task.task_spec.name == self.stages[index].id, task
        _merge(task.data, self.data[index])
        task.run()
        workflow.do_engine_steps()
        return self.serializer.serialize_json(workflow)

    def save(self, instance: int, state: str) -> None:
        self.conn.execute("UPDATE instances SET state = ? WHERE id = ?", (state, instance))
        self.conn.commit()

    def final_stage(self, workflow: Any) -> str | None:
        last = workflow.get_next_task(state=self.ready, manual=True)
        return last.task_spec.name if last else None


def drive_spiff(db: Path, n: int, *, mode: str = "reload") -> dict[str, Any]:
    """N instances through the seven moves; ``mode``: reload, memory or batched (see the module doc)."""
    spiff = _Spiff(db, n)
    moves = len(spiff.stages) - 1
    final: set[str | None] = set()
    started, cpu = time.perf_counter(), time.process_time()
    if mode == "batched":
        for index in range(moves):
            for first in range(1, n + 1, BATCH):
                rows = spiff.conn.execute("SELECT id, state FROM instances WHERE id BETWEEN ? AND ? ORDER BY id",
                                          (first, first + BATCH - 1)).fetchall()
                states = []
                for instance, state in rows:
                    workflow = spiff.serializer.deserialize_json(state)
                    states.append((spiff.step(workflow, index), instance))
                    if index == moves - 1:
                        final.add(spiff.final_stage(workflow))
                spiff.conn.executemany("UPDATE instances SET state = ? WHERE id = ?", states)
                spiff.conn.commit()
    else:
        for instance in range(1, n + 1):
            workflow = None
            for index in range(moves):
                if mode == "reload" or workflow is None:
                    workflow = spiff.load(instance)
                spiff.save(instance, spiff.step(workflow, index))
            final.add(spiff.final_stage(workflow))
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    size = spiff.conn.execute("SELECT avg(length(state)) FROM instances").fetchone()[0]
    spiff.conn.close()
    return {"seconds": seconds, "loop_cpu_seconds": cpu, "moves": moves * n,
            "final_stages": sorted(s or "" for s in final),
            "state_bytes": round(size or 0), "mode": mode}
