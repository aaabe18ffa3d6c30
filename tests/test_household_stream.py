"""`household import` of a large file: bounded memory, all or nothing, every problem named by line."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from eightstep import engine, records
from eightstep.audit.verify import verify
from eightstep.errors import InputError
from eightstep.store.workspace import Workspace
from eightstep.timeutil import parse_at

pytestmark = pytest.mark.backends("sqlite", "postgresql")

CASE = "BIG-1"


def owners(path: Path, n: int, *, last: str | None = None, repeat: tuple[int, int] | None = None) -> Path:
    """``n`` households (room, floor, area, owner, owner_key, phone); ``last`` replaces the last line; ``repeat``
    (i, j) gives row j the room of row i."""
    with path.open("w", encoding="utf-8") as f:
        f.write("房号,楼层,面积,业主,业主编号,电话\n")
        for i in range(n):
            room = f"{(repeat[0] if repeat and i == repeat[1] else i) + 1000}"
            line = f"{room},{1 + i % 30},{60 + i % 90}.{i % 100:02d},业主{i:06d},K{i:06d},139{i:08d}\n"
            f.write(last + "\n" if last is not None and i == n - 1 else line)
    return path


@pytest.fixture
def case(ws: Workspace) -> Workspace:
    engine.open_case(ws, CASE, complex_name="大小区", building="1", unit="1", at=parse_at("2025-03-01"))
    return ws


def households(ws: Workspace) -> int:
    with ws.session() as session:
        return len(engine.load_records(session, CASE).households)


def test_a_bad_last_row_of_a_large_file_writes_nothing(case: Workspace, tmp_path: Path) -> None:
    path = owners(tmp_path / "o.csv", 5000, last="9999,七,80.00,业主,,")
    events = len(engine.history(case, CASE))
    with pytest.raises(InputError) as caught:
        records.import_households(case, CASE, path)
    assert str(caught.value).startswith(f"{path}:5001: field 'floor': '七' is not a whole number")
    assert households(case) == 0 and len(engine.history(case, CASE)) == events


def test_a_room_twice_far_apart_is_named_by_both_lines(case: Workspace, tmp_path: Path) -> None:
    path = owners(tmp_path / "o.csv", 5000, repeat=(10, 4000))
    with pytest.raises(InputError, match=rf"^{path}:4002: room '1010' appears twice \(first on line 12\)$"):
        records.import_households(case, CASE, path)
    assert households(case) == 0


def test_a_large_import_is_written_whole_with_its_history(case: Workspace, tmp_path: Path) -> None:
    result = records.import_households(case, CASE, owners(tmp_path / "o.csv", 5000))
    assert (result.added, result.updated, result.warnings) == (5000, 0, [])
    again = records.import_households(case, CASE, owners(tmp_path / "o.csv", 5000), replace=True)
    assert (again.added, again.updated) == (0, 5000)
    assert households(case) == 5000
    assert verify(case).ok


def test_memory_stays_bounded(case: Workspace, db_url: str, tmp_path: Path) -> None:
    """50,000 rows in a separate process: its peak resident memory stays under 100 MB (it was about 250 MB
    before the import streamed; at 200,000 rows it was 957 MB and is about 78 MB now)."""
    path = owners(tmp_path / "o.csv", 50_000)
    case.dispose()
    done = subprocess.run([sys.executable, "-c", PEAK, "--db", db_url, "household", "import", CASE, str(path)],
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert "50000 households added" in done.stdout
    peak_mb = int(done.stderr.split("PEAK ")[-1]) / 1024
    assert peak_mb < 100, f"peak {peak_mb:.0f} MB"


# The CLI in this process, then its own peak resident memory in kB on stderr: VmHWM of the process (ru_maxrss
# would count the parent it was forked from: Linux keeps the larger of the two across exec).
PEAK = """import re, runpy, sys
sys.argv = ["eightstep", *sys.argv[1:]]
try:
    runpy.run_module("eightstep", run_name="__main__")
finally:
    with open("/proc/self/status", encoding="ascii") as status:
        print("PEAK", re.search(r"VmHWM:\\s+(\\d+) kB", status.read()).group(1), file=sys.stderr)
"""
