"""The overview: typed rows, the terminal table, and the self-contained HTML page in a real headless browser."""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine
from eightstep.audit.report import Overview, OverviewRow, chinese_part, overview, render_html
from eightstep.cli import main
from eightstep.store.workspace import Workspace
from tests.helpers.walk import at, drive

AS_OF = date(2025, 11, 20)
EVIL = '<b>&"</script>'  # a complex name that must stay text everywhere


@pytest.fixture
def district(ws: Workspace, tmp_path: Path) -> Workspace:
    """人大小区: a pilot in operation, a stalled survey, a case returned to the survey, a suspended case, a
    withdrawn one; another complex (with a hostile name) under the Guangzhou rules."""
    drive(ws, "RD-3", ["2025-03-03", "2025-03-20", "2025-04-10", "2025-05-06", "2025-06-10", "2025-06-20",
                       "2025-09-25", "2025-10-10"], tmp_path, building="3")
    drive(ws, "RD-1", ["2025-04-01", "2025-04-21"], tmp_path, building="1")
    drive(ws, "RD-2", ["2025-05-06", "2025-05-20", "2025-06-05"], tmp_path, building="2")
    engine.return_to(ws, "RD-2", "survey", reason="需重新踏勘", at=at("2025-11-10"))
    drive(ws, "RD-5", ["2025-09-01", "2025-09-15", "2025-09-29"], tmp_path, building="5")
    engine.suspend(ws, "RD-5", reason="诉讼中", at=at("2025-10-09"), review_at=at("2025-12-01"))
    engine.open_case(ws, "RD-6", complex_name="人大小区", building="6", unit="1", at=at("2025-05-01"))
    engine.withdraw(ws, "RD-6", reason="业主放弃", at=at("2025-05-02"))
    drive(ws, "GZ-1", ["2025-10-09", "2025-10-10"], tmp_path, building="1", complex_name=EVIL, workflow="guangzhou")
    return ws


def rows_by_case(ov: Overview) -> dict[str, OverviewRow]:
    return {r.case: r for r in ov.rows}


def test_overview_rows(district: Workspace) -> None:
    ov = overview(district, as_of=AS_OF)
    assert [r.case for r in ov.rows] == ["GZ-1", "RD-1", "RD-2", "RD-3", "RD-5"]  # by complex, building, unit
    assert ov.withdrawn == 1
    got = {r.case: (r.track, r.days_label, r.stalled, r.status) for r in ov.rows}
    assert got == {
        # Working days after 10-10: 10-11 (adjusted Saturday), 10-13..17, 20..24, 27..31, 11-03..07, 11-10..14,
        # 11-17..20: 1 + 5 * 5 + 4 = 30.
        "GZ-1": ("●●○○○○○○ S2", "30/15 wd", True, "active"),
        "RD-1": ("●●○○○○○○ S2", "146/15 wd", True, "active"),
        "RD-2": ("●●○○○○○○ S2", "8/15 wd", False, "active"),   # returned on 11-10: its clock restarted
        "RD-3": ("●●●●●●●● S8", "41 d", False, "active"),      # operation has no stall limit
        "RD-5": ("●●●○○○○○ S3", "10/90 d", False, "suspended"),  # 09-29 to the suspension on 10-09
    }
    rows = rows_by_case(ov)
    assert rows["RD-3"].flags == ("maintenance_overdue",)
    assert rows["RD-1"].flags == ("stage_overdue",)
    assert [b.type for b in rows["RD-1"].blockers] == ["document", "approval"]
    assert rows["RD-5"].blockers[0].type == "status"
    assert rows["GZ-1"].complex == EVIL and rows["GZ-1"].workflow_id == "guangzhou"
    timeline = [(e.stage, e.index, e.action, e.at.date().isoformat()) for e in rows["RD-2"].timeline]
    assert timeline == [("consent", 1, "open", "2025-05-06"), ("survey", 2, "advance", "2025-05-20"),
                        ("agreement", 3, "advance", "2025-06-05"), ("survey", 2, "return", "2025-11-10")]
    assert [(p.start.date().isoformat(), p.end) for p in rows["RD-5"].pauses] == [("2025-10-09", None)]
    assert len(rows["RD-3"].timeline) == 8
    totals = [(t.index, t.stage, t.cases, t.stalled, t.suspended) for t in ov.totals]
    assert totals == [(2, "survey", 3, 2, 0), (3, "agreement", 1, 0, 1), (8, "operation", 1, 0, 0)]
    assert ov.stalled == 2


@pytest.mark.parametrize(("message", "chinese"), [
    ("缺少文件：现场踏勘记录（街道办事处） / missing document: Site survey record",
     "缺少文件：现场踏勘记录（街道办事处）"),
    ("业主表决未达标 / owner consent not reached: 参与表决面积不足 / participating area 539.38 of 1078.92 m² is "
     "below 2/3", "业主表决未达标：参与表决面积不足"),
    ("案件已暂停：诉讼中 / the case is suspended since 2025-10-05 (诉讼中): resume it first", "案件已暂停：诉讼中"),
])
def test_blockers_are_summarised_in_chinese(message: str, chinese: str) -> None:
    assert chinese_part(message) == chinese


def test_overview_as_of_ignores_later_history(district: Workspace) -> None:
    rows = rows_by_case(overview(district, as_of=date(2025, 10, 1)))
    assert set(rows) == {"RD-1", "RD-2", "RD-3", "RD-5"}  # GZ-1 was opened on 10-09
    assert [e.stage for e in rows["RD-3"].timeline] == ["consent", "survey", "agreement", "design_notice",
                                                        "joint_review", "construction", "acceptance"]
    assert rows["RD-5"].pauses == ()
    # each case as it stood then, not as it stands now
    assert {c: (r.stage, r.status) for c, r in rows.items()} == {
        "RD-1": ("survey", "active"), "RD-2": ("agreement", "active"), "RD-3": ("acceptance", "active"),
        "RD-5": ("agreement", "active")}
    assert rows["RD-3"].entered_on == date(2025, 9, 25) and rows["RD-2"].entered_on == date(2025, 6, 5)
    assert [b.type for b in rows["RD-5"].blockers] != ["status"]  # its suspension came later


def test_cli_report(district: Workspace, db_path: Path, runner: CliRunner, tmp_path: Path) -> None:
    result = runner.invoke(main, ["--db", str(db_path), "report", "--complex", "人大小区", "--as-of", "2025-11-20"])
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Overview as of 2025-11-20 · 人大小区: 4 cases, 1 stalled (1 withdrawn not shown)"
    assert lines[2].split() == ["case", "unit", "stage", "in", "stage", "first", "blockers"]
    assert lines[4].split()[:6] == ["RD-1", "人大小区", "1栋1单元", "●●○○○○○○", "S2", "survey"]
    assert "146/15 wd !" in lines[4]
    assert "missing document: Site survey record (from 街道办事处); awaiting Feasibility opinion from 区行政审批局" \
        in lines[4]
    assert "10/90 d (suspended)" in lines[7]
    assert "the case is suspended since" in lines[7] and "(诉讼中)" in lines[7]
    assert lines[8] == "" and lines[9].split() == ["stage", "cases", "stalled", "suspended"]
    assert [line.split() for line in lines[11:]] == [["S2", "survey", "现场踏勘与可行性分析", "2", "1", "0"],
                                                     ["S3", "agreement", "签订加梯协议", "1", "0", "1"],
                                                     ["S8", "operation", "运行维护管理", "1", "0", "0"]]


def test_cli_report_unknown_complex(district: Workspace, db_path: Path, runner: CliRunner) -> None:
    result = runner.invoke(main, ["--db", str(db_path), "report", "--complex", "无此小区"])
    assert (result.exit_code, result.output) == (1, "Error: no complex named '无此小区'\n"
                                                    "  Next: eightstep case list\n")
    result = runner.invoke(main, ["--db", str(db_path), "report", "--html", str(db_path.parent / "no" / "x.html")])
    assert result.exit_code == 1
    assert result.output == f"Error: no folder {db_path.parent / 'no'} to write x.html into (create it first)\n"


def test_cli_report_html_is_self_contained(district: Workspace, db_path: Path, runner: CliRunner,
                                           tmp_path: Path) -> None:
    page = tmp_path / "overview.html"
    result = runner.invoke(main, ["--db", str(db_path), "report", "--as-of", "2025-11-20", "--html", str(page)])
    assert result.exit_code == 0, result.output
    assert result.output.endswith(f"Wrote {page}\n")
    html = page.read_text(encoding="utf-8")
    assert ('<meta http-equiv="Content-Security-Policy" content="default-src \'none\'; style-src \'unsafe-inline\'; '
            'script-src \'unsafe-inline\'; img-src data:">') in html
    assert not re.search(r"https?:|//[a-z]", html, re.IGNORECASE)  # no URL of any kind
    assert not re.search(r"\b(src|href|srcset|action)\s*=", html, re.IGNORECASE)
    assert "@import" not in html and "url(" not in html.replace("url(#hatch)", "")
    # The hostile name is text in the table and inert in the embedded data.
    assert "&lt;b&gt;&amp;&#34;&lt;/script&gt;" in html
    assert EVIL not in html


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def chromium(tmp_path: Path, *args: str) -> str:
    profile = tmp_path / f"profile-{len(list(tmp_path.glob('profile-*')))}"
    assert CHROMIUM, "this test needs Debian's chromium: scripts/test.sh installs it (apt-get install chromium)"
    command = [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
               "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
               f"--user-data-dir={profile}", *args]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=True)
    return done.stdout


def test_html_page_in_headless_chromium(district: Workspace, tmp_path: Path) -> None:
    ov = overview(district, as_of=AS_OF)
    page = tmp_path / "overview.html"
    page.write_text(render_html(ov), encoding="utf-8")
    segments = sum(len(r.timeline) for r in ov.rows)
    static = page.read_text(encoding="utf-8")
    svg_tag = re.search(r'<svg id="timeline"[^>]*>', static)
    assert svg_tag and "data-drawn" not in svg_tag.group(0) and 'class="seg"' not in static  # drawn by the script

    dom = chromium(tmp_path, "--dump-dom", page.as_uri())
    # The script ran and drew every stage segment of every case, and each row of the chart.
    assert re.search(rf'<svg id="timeline"[^>]* data-drawn="{segments}"', dom)
    assert len(re.findall(r'<rect class="seg"', dom)) == segments == 2 + 2 + 4 + 8 + 3
    chart_rows = re.findall(r'<g class="row( stalled)?" data-case="([^"]+)"', dom)
    assert [(case, bool(stalled)) for stalled, case in chart_rows] == [
        ("GZ-1", True), ("RD-1", True), ("RD-2", False), ("RD-3", False), ("RD-5", False)]
    assert len(re.findall(r'<rect class="pause"', dom)) == 1
    assert dom.count('class="swatch"') == 8  # the legend, built by the script
    assert '<tr class="stalled" data-case="RD-1">' in dom
    # Nothing was fetched, and nothing was even attempted (the CSP would have reported it).
    html_tag = re.search(r"<html[^>]*>", dom)
    assert html_tag and html_tag.group(0) == '<html lang="zh-CN" data-resources="0">'  # no data-csp-violations

    shot = tmp_path / "overview.png"
    chromium(tmp_path, "--hide-scrollbars", "--window-size=1280,1000", f"--screenshot={shot}", page.as_uri())
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000

    # The detector works: the same page with one outside image records the blocked attempt.
    leaky = tmp_path / "leaky.html"
    leaky.write_text(page.read_text(encoding="utf-8").replace("<h1>", '<img src="https://example.com/x.png"><h1>'),
                     encoding="utf-8")
    dom = chromium(tmp_path, "--dump-dom", leaky.as_uri())
    html_tag = re.search(r"<html[^>]*>", dom)
    assert html_tag and 'data-csp-violations="https://example.com/x.png"' in html_tag.group(0)
