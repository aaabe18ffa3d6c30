"""The read layer (eightstep.store.read): cases by ids and columns, one parsed workflow per snapshot hash, records
of many cases at once; and the one schema it reads (eightstep.store.tables), which the ORM classes only map."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import update

from eightstep import engine, records
from eightstep.engine.checking import GuardReader
from eightstep.errors import NotFoundError
from eightstep.store import models, read, tables
from eightstep.store.workspace import Workspace
from eightstep.timeutil import parse_at
from tests.conftest import write_households

pytestmark = pytest.mark.backends("sqlite", "postgresql")

OPENED = parse_at("2025-03-01")


def open_three(ws: Workspace) -> list[str]:
    ids = ["R-3", "R-1", "R-2"]
    for number, case_id in enumerate(ids, 1):
        engine.open_case(ws, case_id, complex_name="人大小区", building="1", unit=str(number), at=OPENED)
    return ids


def test_cases_come_in_the_order_asked_with_the_columns_asked(ws: Workspace) -> None:
    ids = open_three(ws)
    with ws.engine.connect() as conn:
        rows = read.cases(conn, [*ids, ids[0]], ("id", "stage", "opened_at"), place=True)
    assert [r.id for r in rows] == ids
    assert set(rows[0]._fields) == {"id", "stage", "opened_at", *read.PLACE_COLUMNS}
    assert rows[1].complex_name == "人大小区" and rows[1].stage == "consent"
    assert rows[2].opened_at == OPENED and rows[2].opened_at.tzinfo is not None  # aware on every database


def test_a_missing_case_is_named_in_any_batch(monkeypatch: pytest.MonkeyPatch, ws: Workspace) -> None:
    ids = open_three(ws)
    monkeypatch.setattr(read, "BATCH", 2)
    with ws.engine.connect() as conn, pytest.raises(NotFoundError, match="no case 'R-9'"):
        read.cases(conn, [*ids, "R-9"])


def test_one_parsed_workflow_per_snapshot_hash(ws: Workspace) -> None:
    ids = open_three(ws)
    with ws.engine.connect() as conn:
        row = read.case(conn, ids[0])
        first = read.workflow(conn, ws.workflows, row)
    with ws.engine.begin() as conn:  # the stored text changes behind the workspace's back: it is not read again
        conn.execute(update(tables.workflow_snapshots).values(content="not: a workflow"))
    with ws.engine.connect() as conn:
        assert read.workflows(conn, ws.workflows, [row.workflow_sha256]) == {row.workflow_sha256: first}
        assert read.workflow(conn, ws.workflows, read.case(conn, ids[1])) is first
    assert first.label == "wuhan 2024.2" == engine.show_case(ws, ids[0]).workflow_label  # in force when opened


def test_records_of_many_cases_by_kind_and_columns(ws: Workspace, tmp_path: Path) -> None:
    ids = open_three(ws)
    for case_id in ids[:2]:
        records.import_households(ws, case_id, write_households(tmp_path / f"{case_id}.csv"))
    proof = tmp_path / "proof.pdf"
    proof.write_bytes(b"%PDF-1.4 proof")
    records.add_document(ws, ids[0], "owner_proof", proof, at=parse_at("2025-03-02"))
    records.add_document(ws, ids[0], "application", proof, at=parse_at("2025-03-03"))
    with ws.engine.connect() as conn:
        homes = read.records(conn, tables.households, ids, names=("id", "case_id", "room"))
        docs = read.records(conn, tables.documents, ids, kinds=["application"])
        late = read.records(conn, tables.documents, ids, where=(tables.documents.c.issued_at > parse_at("2025-03-02"),))
    assert set(homes) == set(ids[:2]) and len(homes[ids[0]]) == 12
    assert homes[ids[0]][0]._fields == ("id", "case_id", "room")
    assert [d.kind for d in docs[ids[0]]] == ["application"] and set(docs[ids[0]][0]._fields) == set(
        tables.documents.c.keys())
    assert [d.kind for d in late[ids[0]]] == ["application"]
    assert docs[ids[0]][0].issued_at == datetime(2025, 3, 2, 16, tzinfo=UTC)  # 2025-03-03 in Asia/Shanghai


def test_records_grouped_by_case_keep_each_cases_order(ws: Workspace, tmp_path: Path) -> None:
    """A batch's read ordered by case first (SQLite reads the case_id index in order, no sort) gives each case its
    records in the same order as before (the primary key, or the order asked): what the guards and forms rely
    on (the first or latest document of a kind, the order of the owners and ballots)."""
    ids = open_three(ws)
    proof = tmp_path / "proof.pdf"
    proof.write_bytes(b"%PDF-1.4 proof")
    for day, case_id in enumerate(["R-3", "R-1", "R-3", "R-2", "R-1", "R-3", "R-2"], 2):  # ids interleave cases
        records.add_document(ws, case_id, "owner_proof" if day % 2 else "application", proof,
                             at=parse_at(f"2025-03-{21 - day:02d}"))
    for case_id in ("R-2", "R-3"):
        records.import_households(ws, case_id, write_households(tmp_path / f"{case_id}.csv"))
    with ws.engine.connect() as conn:
        for table, kinds, order in ((tables.documents, None, None), (tables.documents, ["application"], None),
                                    (tables.documents, None, "issued_at"), (tables.households, None, None)):
            plain = read.records(conn, table, ids, kinds=kinds, order=order)
            grouped = read.records(conn, table, ids, kinds=kinds, order=order, grouped=True)
            assert grouped == plain and list(grouped) == sorted(plain)
            for rows in grouped.values():
                key = [getattr(r, order or "id") for r in rows]
                assert key == sorted(key)
        docs = read.records(conn, tables.documents, ids, grouped=True)
        assert [len(docs[case_id]) for case_id in ("R-1", "R-2", "R-3")] == [2, 2, 3]
        assert [d.issued_at.day for d in docs["R-3"]] == [18, 16, 13]  # id order, not date order
        homes = GuardReader().load(conn, [(row, read.workflow(conn, ws.workflows, row).definition.stage(row.stage))
                                           for row in read.cases(conn, ids)])
    assert [d.id for d in homes["R-3"].documents] == [d.id for d in docs["R-3"]]
    assert [h.room for h in homes["R-2"].households] == [f"{f}0{n}" for f in range(2, 8) for n in (1, 2)]


def test_every_table_has_its_orm_class_with_the_columns_as_attributes() -> None:
    classes = [c for c in vars(models).values() if isinstance(c, type) and issubclass(c, models.Base)
               and c is not models.Base]
    assert sorted(c.__table__.name for c in classes) == sorted(tables.metadata.tables)
    for cls in classes:
        assert set(cls.__mapper__.columns.keys()) == set(cls.__table__.c.keys()), cls.__name__


def test_a_new_row_starts_with_its_columns_defaults() -> None:
    case = models.Case(id="X")
    assert (case.status, case.event_count, case.last_hash, case.review_at) == ("active", 0, "", None)
    with pytest.raises(TypeError, match="'nope' is not a column of Objection"):
        models.Objection(nope=1)


def test_reading_needs_neither_the_orm_nor_pydantic() -> None:
    probe = ("import sys, eightstep.store.read, eightstep.engine.views\n"
             "print(sorted({m.split('.')[0] for m in sys.modules if m.startswith(('sqlmodel', 'pydantic',"
             " 'sqlalchemy.orm', 'eightstep.store.models'))}))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True, timeout=60)
    assert done.stdout.strip() == "[]"
