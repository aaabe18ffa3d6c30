"""Formats officers use: .xlsx workbooks opened with openpyxl, CSV for Excel, report --json, approval list,
case history that fits a terminal, shell completion of case ids, kinds and form names; no spreadsheet cell is
ever read as a formula."""

from __future__ import annotations

import csv
import io
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from openpyxl import load_workbook

from eightstep.cells import neutralise
from eightstep.cli import main
from eightstep.cli.output import table
from tests.helpers.cli import run as cli


@pytest.fixture
def db(demo_dir: Path, tmp_path: Path) -> Path:
    shutil.copytree(demo_dir, tmp_path / "demo")
    return tmp_path / "demo" / "eightstep.db"


def rows_of(path: Path) -> dict[str, list[list[object]]]:
    book = load_workbook(path)
    return {sheet.title: [[cell.value for cell in row] for row in sheet.iter_rows()] for sheet in book.worksheets}


@pytest.mark.parametrize("command", [
    ["case", "list"], ["household", "list", "RD-3-2"], ["funding", "shares", "RD-3-2"], ["vote", "tally", "RD-4-2"],
    ["audit", "stalled", "--as-of", "2026-12-01"], ["report", "--as-of", "2026-12-01"],
], ids=lambda c: " ".join(c[:2]))
def test_xlsx_and_csv_hold_the_same_rows(runner: CliRunner, db: Path, tmp_path: Path, command: list[str]) -> None:
    out = cli(runner, db, *command, "--xlsx", str(tmp_path / "t.xlsx")).stdout
    assert out.startswith(f"Wrote {tmp_path / 't.xlsx'}")
    sheets = rows_of(tmp_path / "t.xlsx")
    first = next(iter(sheets.values()))
    raw = cli(runner, db, *command, "--csv").stdout_bytes
    assert raw.startswith(b"\xef\xbb\xbf") and b"\r\n" in raw  # UTF-8 with its mark, CRLF: as Excel wants
    parsed = list(csv.reader(io.StringIO(raw.decode("utf-8-sig"))))
    assert len(parsed) == len(first) > 1  # a header and the same rows
    for sheet_row, csv_row in zip(first[1:], parsed[1:], strict=True):
        assert ("" if sheet_row[1] is None else str(sheet_row[1])) == csv_row[1]


def test_xlsx_keeps_numbers_as_numbers(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    cli(runner, db, "funding", "shares", "RD-3-2", "--xlsx", str(tmp_path / "f.xlsx"))
    (rows,) = rows_of(tmp_path / "f.xlsx").values()
    header, body, total = rows[0], rows[1:-1], rows[-1]
    assert header[0] == "room"
    shares = [r[5] for r in body]
    assert all(isinstance(v, (int, float)) for v in shares)
    assert round(sum(shares), 2) == total[5]
    assert isinstance(body[0][2], float)  # area m²


def test_xlsx_headers_follow_the_language(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    cli(runner, db, "--lang", "zh", "household", "list", "RD-3-2", "--xlsx", str(tmp_path / "h.xlsx"))
    (rows,) = rows_of(tmp_path / "h.xlsx").values()
    assert rows[0][0] == "房号"
    raw = cli(runner, db, "--lang", "zh", "household", "list", "RD-3-2", "--csv").stdout
    assert raw.lstrip("\ufeff").startswith("room,floor,area,owner")  # CSV: stable column ids for scripts


def test_one_format_at_a_time(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    err = cli(runner, db, "case", "list", "--json", "--xlsx", str(tmp_path / "x.xlsx"), code=2).stderr
    assert "choose one of --json, --xlsx" in err
    assert not (tmp_path / "x.xlsx").exists()


@pytest.mark.parametrize("value", ["=HYPERLINK(\"http://x\",\"y\")", "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"])
def test_formulas_are_neutralised(value: str) -> None:
    assert neutralise(value) == "'" + value
    assert neutralise(12) == 12 and neutralise(-3) == -3 and neutralise("王") == "王"


def test_no_formula_reaches_a_file(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    """An owner named like a formula in an imported list stays text in every export."""
    owners = tmp_path / "owners.csv"
    owners.write_text("room,floor,area,owner\n201,2,80,=cmd|' /C calc'!A0\n301,3,80,@SUM(1+1)\n", encoding="utf-8")
    cli(runner, db, "case", "open", "JX-1-1", "--complex", "幸福小区", "--building", "1", "--unit", "1")
    cli(runner, db, "household", "import", "JX-1-1", str(owners))
    cli(runner, db, "household", "list", "JX-1-1", "--xlsx", str(tmp_path / "h.xlsx"))
    book = load_workbook(tmp_path / "h.xlsx")
    owners_cells = [row[3] for row in book.active.iter_rows(min_row=2)]
    assert [c.value for c in owners_cells] == ["'=cmd|' /C calc'!A0", "'@SUM(1+1)"]
    assert all(c.data_type == "s" for c in owners_cells)
    text = cli(runner, db, "household", "list", "JX-1-1", "--csv").stdout
    assert "'=cmd|" in text and "'@SUM" in text


def test_report_json(runner: CliRunner, db: Path) -> None:
    data = json.loads(cli(runner, db, "report", "--as-of", "2026-12-01", "--json").stdout)
    assert data["as_of"] == "2026-12-01"
    assert {c["case"] for c in data["cases"]} >= {"RD-3-2", "RD-4-1"}
    assert sum(t["cases"] for t in data["totals"]) == len(data["cases"])


def test_approval_list(runner: CliRunner, db: Path) -> None:
    rows = json.loads(cli(runner, db, "approval", "list", "RD-3-2", "--json").stdout)
    assert [r["kind"] for r in rows][:2] == ["feasibility", "joint_review"]
    assert all(r["decision"] == "approved" and r["at"].endswith("+08:00") for r in rows)
    assert "江夏区行政审批局" in cli(runner, db, "approval", "list", "RD-3-2").stdout


def test_table_fits_a_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    from eightstep.cli.output import width

    note = "井道正对201室客厅窗，担心运行噪音；协商后调整窗位并加装遮阳，低层住户同意。" * 2
    table(["#", "action", "note"], [[1, "objection.add", note], [2, "advance", "ok"]], fit=60)
    lines = capsys.readouterr().out.splitlines()
    assert all(width(line) <= 60 for line in lines)
    assert "".join(line.strip() for line in lines[2:]).count("低层住户同意") == 2


def complete(runner: CliRunner, line: str) -> list[str]:
    words = line.split(" ")
    result = runner.invoke(main, [], prog_name="eightstep", env={
        "_EIGHTSTEP_COMPLETE": "bash_complete", "COMP_WORDS": line, "COMP_CWORD": str(len(words) - 1)})
    return [item.split(",", 1)[1] for item in result.stdout.splitlines() if item]


def test_shell_completion(runner: CliRunner, db: Path) -> None:
    assert complete(runner, f"eightstep --db {db} case check RD-3") == ["RD-3-1", "RD-3-2"]
    assert complete(runner, f"eightstep --db {db} doc add RD-3-2 construction_c") == ["construction_contract"]
    assert "feasibility" in complete(runner, f"eightstep --db {db} approval add RD-3-1 f")
    assert complete(runner, f"eightstep --db {db} forms render RD-3-2 agr") == ["agreement"]
    assert complete(runner, f"eightstep --db {db} case return RD-3-2 --to con") == ["consent", "construction"]
    assert complete(runner, "eightstep --db /nonexistent/x.db case check R") == []  # no database: nothing


def test_imports_read_standard_input(runner: CliRunner, tmp_path: Path) -> None:
    """`-` reads the table from standard input, CSV or .xlsx (told apart by content); messages name `-`."""
    from openpyxl import Workbook

    db = tmp_path / "s.db"
    cli(runner, db, "init")
    cli(runner, db, "case", "open", "JX-1-1", "--complex", "幸福小区", "--building", "1", "--unit", "1")
    csv_bytes = "房号,楼层,面积,业主\n201,2,80,王一\n301,3,80,王二\n".encode("gb18030")
    result = runner.invoke(main, ["--db", str(db), "household", "import", "JX-1-1", "-"], input=csv_bytes)
    assert result.exit_code == 0, result.output
    assert result.stdout == "JX-1-1: 2 households added, 0 updated from -\n"
    book = Workbook()
    book.active.append(["room", "choice"])
    book.active.append(["201", "同意"])
    data = io.BytesIO()
    book.save(data)
    result = runner.invoke(main, ["--db", str(db), "vote", "import", "JX-1-1", "-"], input=data.getvalue())
    assert result.exit_code == 0, result.output
    assert json.loads(cli(runner, db, "household", "list", "JX-1-1", "--json").stdout)[0]["vote"] == "agree"
    bad = runner.invoke(main, ["--db", str(db), "vote", "import", "JX-1-1", "-"], input=b"room,choice\n999,agree\n")
    assert bad.exit_code == 1
    assert bad.stderr.startswith("Error: -:2: ") and "/tmp" not in bad.stderr
