"""Each input that once ended in a traceback (found by fuzzing) now ends in a message, and input that would let
one flat count as two, or a formula run in Excel, is refused or neutralised."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep.cells import neutralise
from eightstep.cli.sheets import csv_text
from eightstep.records.tabular import TableError, parse_room, read_table
from eightstep.timeutil import latest
from tests.conftest import invoke, write_households

CASE = "BI-1-1"


run = invoke


@pytest.fixture
def case(runner: CliRunner, tmp_path: Path, from_template: Callable[[Path | str], Path]) -> CliRunner:
    from_template("eightstep.db")
    run(runner, "init")
    run(runner, "case", "open", CASE, "--complex", "坏小区", "--building", "1", "--unit", "1", "--at", "2025-03-01")
    run(runner, "household", "import", CASE, str(write_households(tmp_path / "h.csv")), "--at", "2025-03-02")
    return runner


@pytest.mark.parametrize("at", ["0001-01-01", "0001-01-01 03:00", "1948-12-31"])
def test_dates_before_1949(case: CliRunner, at: str) -> None:
    result = run(case, "vote", "cast", CASE, "201", "agree", "--at", at, code=2)
    assert f"--at: {at.split()[0]} is before 1949-01-01; check the year" in result.output


def test_dates_years_ahead(case: CliRunner) -> None:
    result = run(case, "audit", "stalled", "--as-of", "9999-12-31", code=2)
    assert f"--as-of: 9999-12-31 is more than 5 years ahead (after {latest()}); check the year" in result.output
    result = run(case, "report", "--as-of", "9999-12-31", code=2)
    assert "is more than 5 years ahead" in result.output
    result = run(case, "case", "suspend", CASE, "--reason", "x", "--review-at", "9999-12-31", code=2)
    assert "--review-at: 9999-12-31 is more than 5 years ahead" in result.output


def test_ballot_dates_in_a_file(case: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "v.csv").write_text("room,choice,at\n201,agree,0001-01-01 01:00\n", encoding="utf-8")
    result = run(case, "vote", "import", CASE, str(tmp_path / "v.csv"), code=1)
    assert "field 'at': 0001-01-01 is before 1949-01-01; check the year" in result.output


def test_record_ids_beyond_sqlite_integers(case: CliRunner) -> None:
    result = run(case, "objection", "resolve", CASE, str(2**80), "--outcome", "x", code=2)
    assert "is not in the range 1<=x<=9223372036854775807" in result.output


def test_amounts_of_thousands_of_digits(case: CliRunner) -> None:
    result = run(case, "funding", "set", CASE, "--total", "9" * 5000, code=2)
    assert "(5000 characters)' is more than 100,000,000.00 yuan; check the amount" in result.output


@pytest.mark.parametrize("db", ["foo://bar", "mysql2://x@y/z"])
def test_unknown_database_urls(runner: CliRunner, db: str) -> None:
    result = run(runner, "--db", db, "case", "list", code=1)
    assert "is not a kind of database eightstep knows" in result.output


@pytest.mark.parametrize(("value", "why"), [(".nan", "nan"), (".inf", "inf"), ("1e999", "inf")])
def test_workflow_coefficients_that_are_not_numbers(runner: CliRunner, tmp_path: Path, value: str, why: str) -> None:
    from eightstep.resources import builtin_dir

    text = (builtin_dir("workflows") / "wuhan.yaml").read_text(encoding="utf-8").replace("3: 0.7", f"3: {value}", 1)
    (tmp_path / "wuhan.yaml").write_text(text, encoding="utf-8")
    result = run(runner, "workflow", "check", str(tmp_path / "wuhan.yaml"), code=1)
    assert f"cost_sharing.coefficients[3]: {why}: use a number from 0 to 100, such as 0.8 or 1.2" in result.output


def test_a_workflow_nested_5000_deep(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "deep.yaml").write_text("id: deep\nstages: " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    result = run(runner, "workflow", "check", str(tmp_path / "deep.yaml"), code=1)
    assert "deep.yaml: nested too deeply to be a workflow" in result.output


@pytest.mark.parametrize(("option", "value"), [("--complex", "人大\n小区"), ("--building", "3\x00"),
                                               ("--unit", "2\u200b1"), ("--complex", "x" * 101)])
def test_names_with_control_characters(runner: CliRunner, option: str, value: str) -> None:
    run(runner, "init")
    args = {"--complex": "小区", "--building": "1", "--unit": "1", option: value}
    result = run(runner, "case", "open", "CC-1", *(x for kv in args.items() for x in kv), code=1)
    assert f"{option}: {value[:80]!r}: use at most 100 characters without control characters" in result.output


def test_a_case_id_with_a_newline(runner: CliRunner) -> None:
    run(runner, "init")
    result = run(runner, "case", "open", "CC-1\n", "--complex", "小区", "--building", "1", "--unit", "1", code=1)
    assert "case id 'CC-1\\n': use up to 64 letters, digits" in result.output


def test_three_spellings_of_one_flat_are_one_flat(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("房号,楼层,面积,业主\n201,2,80.00,甲\n２０１,2,80.00,乙\n201室,2,80.00,丙\n",
                                     encoding="utf-8")
    run(runner, "init")
    run(runner, "case", "open", CASE, "--complex", "小区", "--building", "1", "--unit", "1")
    result = run(runner, "household", "import", CASE, str(tmp_path / "h.csv"), code=1)
    assert "h.csv:3: room '201' appears twice (first on line 2)" in result.output
    assert "h.csv:4: room '201' appears twice (first on line 2)" in result.output
    assert [parse_room(r) for r in ("201", "２０１", "201室", "0201")] == ["201", "201", "201", "0201"]


def test_phone_numbers_keep_their_area_code(tmp_path: Path) -> None:
    from eightstep.records.households import HOUSEHOLD_COLUMNS

    (tmp_path / "h.csv").write_text("room,floor,area,owner,phone\n201,2,80,甲,+86-27-8765-4321\n"
                                     "202,2,80,乙,(027)87654321\n301,3,80,丙,0086 139 1234 5678\n", encoding="utf-8")
    phones = [r.values["phone"] for r in read_table(tmp_path / "h.csv", HOUSEHOLD_COLUMNS)]
    assert phones == ["+86-27-8765-4321", "(027)87654321", "0086 139 1234 5678"]  # as entered, area code kept
    (tmp_path / "bad.csv").write_text("room,floor,area,owner\n\x01,2,80,甲\n", encoding="utf-8")
    with pytest.raises(TableError, match="is not a room name"):
        read_table(tmp_path / "bad.csv", HOUSEHOLD_COLUMNS)


# --- spreadsheets --------------------------------------------------------------------------------------------

FORMULA = "=1+2+cmd|' /C calc'!A0"


def test_cells_that_excel_would_run_are_neutralised() -> None:
    for bad in (FORMULA, "+1", "-1+1", "@SUM(A1)", "\tx", "\rx"):
        assert neutralise(bad) == "'" + bad
    assert neutralise(-5) == -5 and neutralise("安全") == "安全" and neutralise(None) is None
    rows = list(csv.reader(io.StringIO(csv_text(["a", "=b"], [[FORMULA, 3, None]]))))
    assert rows == [["a", "'=b"], ["'" + FORMULA, "3", ""]]


def test_audit_csv_neutralises_a_formula_in_a_complex_name(runner: CliRunner) -> None:
    run(runner, "init")
    run(runner, "case", "open", "XL-1", "--complex", FORMULA, "--building", "1", "--unit", "1", "--at", "2025-01-02")
    out = run(runner, "audit", "stalled", "--as-of", "2025-06-01", "--csv").stdout_bytes.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [r["complex"] for r in rows] == ["'" + FORMULA]
    assert FORMULA not in out.replace("'" + FORMULA, "")


# --- user templates ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("body", "message"), [
    ("{{ 'x' * 10**9 }}", "repeating a text or list 1000000000 times makes 1000000000 items, more than a form needs"),
    ("{{ 10**9 * 'x' }}", "more than a form needs"),
    ("{{ [1] * 2000000 }}", "more than a form needs"),
    ("{{ 9 ** 99999999 }}", "9 ** 99999999 is a number too large for a form"),
    ("{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}", "the template calls itself without end"),
])
def test_user_templates_are_bounded(case: CliRunner, tmp_path: Path, body: str, message: str) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "tally.html.j2").write_text(body, encoding="utf-8")
    run(case, "vote", "cast", CASE, "201", "agree", "--at", "2025-03-03")
    result = run(case, "forms", "render", CASE, "tally", "-o", "-", "--templates", str(mine), code=1)
    assert "tally.html.j2" in result.output and message in result.output


def test_a_render_past_its_time_is_stopped(case: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eightstep import sandboxlimits

    monkeypatch.setattr(sandboxlimits, "RENDER_SECONDS", 0.2)
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "tally.html.j2").write_text("{% for i in range(99999) %}{% for j in range(99999) %}{% endfor %}"
                                        "{% endfor %}", encoding="utf-8")
    run(case, "vote", "cast", CASE, "201", "agree", "--at", "2025-03-03")
    result = run(case, "forms", "render", CASE, "tally", "-o", "-", "--templates", str(mine), code=1)
    assert "the template ran longer than 0.2 seconds; a form needs far less" in result.output


def test_a_room_named_another_way_is_the_same_flat(case: CliRunner, tmp_path: Path) -> None:
    run(case, "vote", "cast", CASE, "２０１", "agree", "--at", "2025-03-03")
    run(case, "vote", "cast", CASE, "202室", "oppose", "--at", "2025-03-03")
    tally = json.loads(run(case, "vote", "tally", CASE, "--json").output)
    assert (tally["agree"], tally["oppose"]) == (1, 1)
    assert "case BI-1-1 has no room '2O1'" in run(case, "vote", "cast", CASE, "2O1", "agree", code=1).output


def test_a_leading_zero_is_a_warning(runner: CliRunner, tmp_path: Path) -> None:
    (tmp_path / "h.csv").write_text("room,floor,area,owner\n0201,2,80.00,甲\n202,2,80.00,乙\n", encoding="utf-8")
    run(runner, "init")
    run(runner, "case", "open", CASE, "--complex", "小区", "--building", "1", "--unit", "1")
    result = run(runner, "household", "import", CASE, str(tmp_path / "h.csv"))
    assert "room '0201' has a leading zero: if it is flat 201, write it so" in result.output


def test_offices_apart_need_postgresql(runner: CliRunner, tmp_path: Path) -> None:
    """init --separate-offices on a SQLite file: a message, and no database made (PostgreSQL: test_postgres)."""
    for switch in ("--separate-offices", "--shared-offices"):
        result = invoke(runner, "--db", str(tmp_path / "x.db"), "init", switch, code=1)
        assert "keeping offices apart needs PostgreSQL" in result.output
    assert list(tmp_path.iterdir()) == []
