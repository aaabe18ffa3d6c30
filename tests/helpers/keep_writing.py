"""Write to an eightstep database without pause until told to stop: the other process of a backup test.

    python keep_writing.py DB STOP_FILE READY_FILE

Opens cases KW-1, KW-2, ... and for each suspends, resumes and attaches a small document (a new stored file),
one transaction each, until STOP_FILE exists; touches READY_FILE after the first case; prints how many
transactions it committed.
"""

from __future__ import annotations

import sys
from pathlib import Path

from eightstep import engine, records
from eightstep.errors import ConflictError
from eightstep.store.workspace import Workspace


def main(db: str, stop: Path, ready: Path) -> int:
    ws = Workspace.open(db)
    done = 0
    n = 0
    scratch = Path(db).with_name("keep-writing.pdf")
    try:
        while not stop.exists():
            n += 1
            case_id = f"KW-{n}"
            try:
                engine.open_case(ws, case_id, complex_name="写入小区", building=str(n), unit="1")
                engine.suspend(ws, case_id, reason="测试")
                engine.resume(ws, case_id, reason="测试")
                scratch.write_bytes(f"%PDF-1.4 scan {n}".encode())
                records.add_document(ws, case_id, "application", scratch)
                done += 4
            except ConflictError:
                continue
            if n == 1:
                ready.write_text("ready", encoding="utf-8")
    finally:
        ws.dispose()
    print(done)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], Path(sys.argv[2]), Path(sys.argv[3])))
