"""Progress on a terminal for long work: the library reports (phase, done, total), the CLI draws a bar per phase
on standard error when it is a terminal, and nothing otherwise."""

from __future__ import annotations

import contextlib
import io
import shutil
from pathlib import Path

import pytest

from eightstep.audit.verify import verify
from eightstep.cli.progress import progress_bars
from eightstep.errors import InputError
from eightstep.paperwork.render import Paperwork
from eightstep.store.workspace import Workspace


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_a_bar_per_phase_on_a_terminal_and_none_elsewhere() -> None:
    screen = Terminal()
    with progress_bars({"events": "Checking histories", "files": "Checking stored files"}, file=screen) as bars:
        assert bars is not None
        for done in (2000, 4000, 5000):
            bars("events", done, 5000)
        bars("files", 3, 3)
    text = screen.getvalue()
    assert "Checking histories" in text and "Checking stored files" in text and "100%" in text
    with progress_bars({"events": "x"}, file=io.StringIO()) as none:
        assert none is None


def test_verify_reports_its_progress(demo: Workspace) -> None:
    calls: list[tuple[str, int, int]] = []
    report = verify(demo, progress=lambda phase, done, total: calls.append((phase, done, total)))
    assert report.ok
    events = [c for c in calls if c[0] == "events"]
    assert events[-1] == ("events", report.events, report.events)
    files = [c for c in calls if c[0] == "files"]
    assert files[-1][1] == files[-1][2] == report.documents + report.schemes + report.meetings
    assert [c[0] for c in calls] == sorted(c[0] for c in calls)  # the events first, then the files


def test_a_pack_reports_each_form(demo_dir: Path, tmp_path: Path) -> None:
    shutil.copytree(demo_dir, tmp_path / "demo")
    ws = Workspace.open(str(tmp_path / "demo" / "eightstep.db"))
    try:
        with ws.engine.connect() as conn:
            case = conn.exec_driver_sql("SELECT id FROM cases ORDER BY id").scalar()
        calls: list[tuple[str, int, int]] = []
        with contextlib.suppress(InputError):  # an incomplete form refuses the pack after every form was tried
            Paperwork(ws).pack(case, tmp_path / "pack", fmt="html", progress=lambda *c: calls.append(c))
        assert calls and [c[1] for c in calls] == list(range(1, calls[0][2] + 1))
        assert {c[0] for c in calls} == {"forms"}
    finally:
        ws.dispose()


def test_a_count_when_the_total_is_not_known() -> None:
    screen = Terminal()
    with progress_bars({"rows": "Reading rows"}, file=screen) as bars:
        assert bars is not None
        bars("rows", 2000, 0)
        bars("rows", 4000, 0)
    assert screen.getvalue() == "\rReading rows: 2000\rReading rows: 4000\n"


def test_a_large_household_import_reports_the_rows_read(ws: Workspace, tmp_path: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    from eightstep import engine, records
    from eightstep.records import householdimport
    from tests.conftest import write_households

    monkeypatch.setattr(householdimport, "CHUNK", 2)  # a chunk of two rows instead of 2,000: the same code path
    engine.open_case(ws, "PG-1-1", complex_name="进度小区", building="1", unit="1")
    rows = [(f"{f}0{u}", f, "80.00", f"业主{f}0{u}", "") for f in range(2, 5) for u in (1, 2)]
    calls: list[tuple[str, int, int]] = []
    result = records.import_households(ws, "PG-1-1", write_households(tmp_path / "h.csv", rows),
                                       progress=lambda *c: calls.append(c))
    assert result.added == 6
    assert calls == [("rows", 2, 0), ("rows", 4, 0), ("rows", 6, 0)]
