"""``audit stalled --json`` (the blockers kept in ``case_checks`` used as stored, ``audit.stalled.stream_json``)
writes, byte for byte, what the findings computed from scratch give: ``find`` with the cache emptied, masked
by ``redact_findings``, each ``Finding.as_dict`` encoded as the CLI encodes a list. Cold, warm, after changes
(a stale entry never leaks) and from entries stored in the earlier compact form."""

from __future__ import annotations

import json
import shutil
from datetime import date
from pathlib import Path

from click.testing import CliRunner
from sqlalchemy import delete, select, update

from eightstep import engine, records
from eightstep.audit import stalled as audit
from eightstep.audit.redact import redact_findings
from eightstep.store import tables
from eightstep.store.workspace import Workspace
from tests.helpers.walk import at

DAYS = ("2025-10-28", "2026-06-01")


def scratch(ws: Workspace, day: str) -> str:
    """The JSON of the audit computed with no kept answer, as ``emit_json_list`` writes it."""
    with ws.engine.begin() as conn:
        conn.execute(delete(tables.case_checks))
    found = redact_findings(ws, audit.find(ws, as_of=date.fromisoformat(day)).findings)
    encode = json.JSONEncoder(ensure_ascii=False).encode
    return "[\n" + ",\n".join(encode(f.as_dict()) for f in found) + "\n]\n" if found else "[]\n"


def cli(runner: CliRunner, db: Path, day: str) -> str:
    from eightstep.cli import main

    result = runner.invoke(main, ["--db", str(db), "audit", "stalled", "--as-of", day, "--json"],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.stdout


def kept(ws: Workspace) -> int:
    with ws.engine.connect() as conn:
        return len(conn.execute(select(tables.case_checks.c.case_id)).all())


def test_json_is_the_audit_from_scratch(demo_dir: Path, tmp_path: Path, runner: CliRunner) -> None:
    folder = tmp_path / "demo"
    shutil.copytree(demo_dir, folder)
    db = folder / "eightstep.db"
    ws = Workspace.open(str(db))
    try:
        # a suspended case (its status blocker, masked) and a phone number in what a person typed
        engine.suspend(ws, "QT-2-1", reason="业主王某 13912345678 起诉", at=at("2025-09-01"))
        for day in DAYS:
            expected = scratch(ws, day)
            assert cli(runner, db, day) == expected  # cold: every case checked by the engine
            assert kept(ws) > 0
            assert cli(runner, db, day) == expected  # warm: the kept answers used as stored
        assert '"type": "status"' in expected and "139******78" in expected

        # changes after the answers were kept: each changed case's entry no longer holds
        engine.resume(ws, "QT-2-1", reason="调解完成", at=at("2025-09-20"))
        engine.suspend(ws, "QT-1-2", reason="等待诉讼结果", at=at("2026-02-01"))
        scan = tmp_path / "technical-files.pdf"
        scan.write_bytes(b"%PDF-1.4 technical files")
        records.add_document(ws, "RD-4-1", "technical_files", scan, at=at("2026-03-01"))  # one blocker less
        warm = [cli(runner, db, day) for day in DAYS]  # before ``scratch`` empties the kept answers
        assert warm == [scratch(ws, day) for day in DAYS]
        assert '"type": "status"' in warm[-1]
        # RD-4-1 no longer misses it (its document blocker, that remedy, the order blocker): 6 -> 3
        assert (expected.count('"kind": "technical_files"'), warm[-1].count('"kind": "technical_files"')) == (6, 3)

        # entries kept in the earlier compact form (``separators=(",", ":")``) give the same text
        cli(runner, db, DAYS[-1])
        with ws.engine.begin() as conn:
            for case_id, text in conn.execute(select(tables.case_checks.c.case_id, tables.case_checks.c.blockers)):
                compact = json.dumps(json.loads(text), ensure_ascii=False, separators=(",", ":"))
                conn.execute(update(tables.case_checks).where(tables.case_checks.c.case_id == case_id)
                             .values(blockers=compact))
        assert cli(runner, db, DAYS[-1]) == scratch(ws, DAYS[-1])
    finally:
        ws.dispose()
