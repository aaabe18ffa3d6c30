"""Free text that may hold personal data (objection grounds, reasons) is masked wherever it leaves the office:
the audit's CSV and JSON and the report's HTML page; the officer's own terminal shows it as recorded."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep.audit.redact import Redactor
from tests.conftest import invoke, write_households

CASE = "MK-1"
GROUNDS = "业主201王建国反对，电话13912345678，身份证420102195501011234，座机027-87654321"


run = invoke


@pytest.fixture
def objected(runner: CliRunner, tmp_path: Path, from_template: Callable[[Path | str], Path]) -> CliRunner:
    rows = [("201", 2, "80.00", "王建国", ""), ("202", 2, "80.00", "李四", "")]
    from_template("eightstep.db")
    run(runner, "init")
    run(runner, "case", "open", CASE, "--complex", "隐私小区", "--building", "1", "--unit", "1", "--at", "2025-03-01")
    run(runner, "household", "import", CASE, str(write_households(tmp_path / "h.csv", rows)), "--at", "2025-03-02")
    run(runner, "objection", "add", CASE, "--room", "201", "--grounds", GROUNDS, "--at", "2025-03-03")
    return runner


def shown(text: str) -> None:
    for secret in ("王建国", "13912345678", "420102195501011234", "87654321"):
        assert secret not in text, secret


def test_audit_csv_and_json_mask_free_text(objected: CliRunner) -> None:
    terminal = run(objected, "audit", "stalled", "--as-of", "2025-06-01").output
    assert "王建国" in terminal  # the officer's own screen
    csv_out = run(objected, "audit", "stalled", "--as-of", "2025-06-01", "--csv").stdout_bytes.decode("utf-8-sig")
    json_out = run(objected, "audit", "stalled", "--as-of", "2025-06-01", "--json").output
    for text in (csv_out, json_out):
        shown(text)
        assert "王**" in text and "139******78" in text
    findings = json.loads(json_out)
    assert {f["type"] for f in findings} >= {"objection_unmediated"}


def test_report_html_masks_free_text(objected: CliRunner) -> None:
    run(objected, "case", "suspend", CASE, "--reason", GROUNDS, "--at", "2025-03-04")
    assert "王建国" in run(objected, "report", "--html", "page.html").output  # the terminal: as recorded
    page = Path("page.html").read_text(encoding="utf-8")
    assert "(业主201王**反对" in page  # the suspension reason, in the blocker
    shown(page)


def test_report_json_csv_and_xlsx_mask_free_text(objected: CliRunner) -> None:
    from openpyxl import load_workbook

    run(objected, "case", "suspend", CASE, "--reason", GROUNDS, "--at", "2025-03-04")
    json_out = run(objected, "report", "--json").output
    csv_out = run(objected, "report", "--csv").stdout_bytes.decode("utf-8-sig")
    run(objected, "report", "--xlsx", "report.xlsx")
    book = load_workbook("report.xlsx", read_only=True)
    xlsx_out = "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row)
    for text in (json_out, csv_out, xlsx_out):
        shown(text)
        assert "王**反对" in text and "139******78" in text
    assert "王建国" in run(objected, "report").output  # the terminal: as recorded


def test_audit_xlsx_masks_free_text(objected: CliRunner) -> None:
    from openpyxl import load_workbook

    run(objected, "audit", "stalled", "--as-of", "2025-06-01", "--xlsx", "audit.xlsx")
    book = load_workbook("audit.xlsx", read_only=True)
    text = "\n".join(str(v) for ws in book.worksheets for row in ws.iter_rows(values_only=True) for v in row)
    shown(text)
    assert "王**" in text


def test_the_redactor() -> None:
    r = Redactor({"C": {"王建国", "13900001111", "李"}})
    assert r.text("C", "王建国说13900001111不对") == "王**说***********不对"
    assert r.text("C", "李说") == "李说"  # one character is no name to mask
    assert r.text("other", "电话 +86 139-1234-5678") == "电话 +86 1**-****-**78"
    assert r.text("C", "2025-03-01 提出，共12户") == "2025-03-01 提出，共12户"
    assert r.text("C", None) is None


def test_only_what_a_person_typed_is_masked() -> None:
    from eightstep.engine.guards import Blocker

    r = Redactor({"C": {"王建国"}})
    built = Blocker("document", "missing document: 王建国 13912345678")  # built by eightstep: left as it is
    typed = Blocker("objection", "open objection #1 from 王建国 (13912345678)")
    unknown = Blocker("a type added later", "王建国")  # masked until it is declared generated
    assert r.blockers("C", (built,)) == (built,)
    out = r.blockers("C", (built, typed, unknown))
    assert out[0] is built
    assert [b.message for b in out[1:]] == ["open objection #1 from 王** (139******78)", "王**"]
