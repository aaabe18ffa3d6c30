"""Holidays: a date is never printed wrong silently (issue 11).

The State Council publishes each year's arrangement (with 调休) late in the year before; until it is on file, a
date counted in working days across that year is provisional and shown as such: in `case check` (and its JSON),
the audit and the notice form. A notice period that ends only by such a count does not end the stage.

The scenario: an eightstep release that knows the years up to 2025 (as a release of late 2025 would), a notice of
10 working days posted on Friday 2025-12-19. Counted with weekends only it ends on Friday 2026-01-02; under the
State Council's 2026 arrangement (元旦 01-01 to 01-03 off, Sunday 01-04 a working day) it ends on 2026-01-05.
"""

from __future__ import annotations

import json
import re
import shutil
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine
from eightstep.audit.stalled import find
from eightstep.cli import main
from eightstep.paperwork.parties import set_party
from eightstep.paperwork.render import Paperwork
from eightstep.rules.workcalendar import PACKAGE_DIR, WorkCalendar
from eightstep.store.workspace import Workspace
from tests.helpers.walk import doc, open_unit, t, walk_to

WEEKENDS_ONLY_END = date(2026, 1, 2)
OFFICIAL_END = date(2026, 1, 5)
NOTE_ZH = "暂按周末计算，待国务院公布该年节假日安排后确认"


def release_of_2025(tmp_path: Path, user_dirs: tuple[Path, ...] = ()) -> WorkCalendar:
    """The calendar of a release that ships the years to 2025, without a newer chinesecalendar to fall back on."""
    shipped = tmp_path / "shipped-2025"
    if not shipped.exists():
        shipped.mkdir()
        for path in PACKAGE_DIR.glob("*.yaml"):
            if int(path.stem) <= 2025:
                shutil.copy(path, shipped / path.name)
    return WorkCalendar(user_dirs, shipped=shipped, calendar_package=False)


@pytest.fixture
def posted(ws: Workspace, tmp_path: Path) -> Workspace:
    """A case at the design notice, the notice posted on 2025-12-19, under the release of 2025."""
    ws.calendar = release_of_2025(tmp_path)
    open_unit(ws, at=t("2025-11-03 09:00"))
    walk_to(ws, "RD-3-2", "design_notice", t("2025-11-03 10:00"))
    doc(ws, "RD-3-2", "design_scheme", t("2025-12-18 10:00"))
    doc(ws, "RD-3-2", "notice_posting", t("2025-12-19 10:00"))
    return ws


def notice_blockers(ws: Workspace, day: str) -> list[dict[str, object]]:
    return [b.as_dict() for b in engine.check(ws, "RD-3-2", at=t(f"{day} 12:00")).blockers if b.type == "notice"]


def test_a_notice_running_into_a_year_without_data_is_provisional(posted: Workspace) -> None:
    [blocker] = notice_blockers(posted, "2025-12-30")
    assert blocker["until"] == WEEKENDS_ONLY_END.isoformat() and blocker["provisional"] is True
    assert blocker["message"] == (
        "the public notice posted on 2025-12-19 runs 10 working days, until 2026-01-02 inclusive (provisional: "
        "2026 counted with weekends only until the State Council's holiday arrangement for it is added)")


def test_a_provisional_end_does_not_end_the_stage(posted: Workspace) -> None:
    """On 2026-01-03 the weekends-only count has ended, the real one has not: the case stays."""
    [blocker] = notice_blockers(posted, "2026-01-03")
    assert blocker["provisional"] is True
    assert "ends on 2026-01-02 only by a provisional count" in str(blocker["message"])
    assert not engine.check(posted, "RD-3-2", at=t("2026-01-03 12:00")).ready


def test_the_official_arrangement_gives_the_real_end(posted: Workspace, tmp_path: Path) -> None:
    holidays = tmp_path / "holidays"
    holidays.mkdir()
    shutil.copy(PACKAGE_DIR / "2026.yaml", holidays / "2026.yaml")  # the State Council's 2026 arrangement
    posted.calendar = release_of_2025(tmp_path, (holidays,))
    [blocker] = notice_blockers(posted, "2026-01-05")
    assert blocker["until"] == OFFICIAL_END.isoformat() and "provisional" not in blocker
    assert notice_blockers(posted, "2026-01-06") == []


def test_the_notice_form_says_the_end_is_provisional(posted: Workspace) -> None:
    set_party(posted, "RD-3-2", "objection_office", name="河头社区居委会", address="纸坊街道河头社区",
              phone="027-87654321", at=t("2025-12-19 10:00"))
    html = Paperwork(posted).render("RD-3-2", "notice", "html", at=t("2025-12-30 09:00")).content.decode("utf-8")
    text = re.sub(r"<[^>]+>", "", html)
    assert f"至 2026年1月2日 止（2026年节假日安排尚未公布，此日期{NOTE_ZH}）" in text


def test_the_audit_flags_a_provisional_count(posted: Workspace) -> None:
    """design_notice allows 20 working days from 2025-11-06: counted into 2026 with weekends only."""
    result = find(posted, as_of=date(2026, 1, 10))
    [finding] = [f for f in result.findings if f.case == "RD-3-2"]
    assert finding.type == "stage_overdue" and finding.provisional is True
    assert finding.as_dict()["provisional"] is True
    assert find(posted, as_of=date(2025, 12, 31)).findings[0].provisional is False  # all within 2025


# --- the command line --------------------------------------------------------------------------------------

ESTIMATE_2026 = """\
year: 2026
provisional: true
source: 示例（非官方）
holidays: [2026-01-01, 2026-02-16..2026-02-19, 2026-05-01..2026-05-02, 2026-10-01..2026-10-03]
"""


def test_case_check_json_flags_a_provisional_date(posted: Workspace, db_path: Path, tmp_path: Path,
                                                 runner: CliRunner) -> None:
    """A user's estimate for 2026 (`provisional: true`) keeps the dates counted across 2026 provisional."""
    folder = tmp_path / "estimates"
    folder.mkdir()
    (folder / "2026.yaml").write_text(ESTIMATE_2026, encoding="utf-8")
    args = ["--db", str(db_path), "--holidays", str(folder), "case", "check", "RD-3-2", "--at", "2025-12-30"]
    data = json.loads(runner.invoke(main, [*args, "--json"]).stdout)
    [notice] = [b for b in data["blockers"] if b["type"] == "notice"]
    assert notice["provisional"] is True and notice["until"] == "2026-01-05"  # the estimate has 01-01 off
    text = runner.invoke(main, args)
    assert text.exit_code == 3 and "(provisional: 2026 counted with weekends only" in text.stdout


def test_holidays_show(runner: CliRunner) -> None:
    shown = runner.invoke(main, ["holidays", "show", "2026"])
    assert shown.exit_code == 0, shown.output
    assert shown.stdout.splitlines()[:2] == [
        f"2026: official, from {PACKAGE_DIR / '2026.yaml'}",
        "source: 国务院办公厅关于2026年部分节假日安排的通知（chinesecalendar 1.11.0 转录）"]
    assert "holidays: 2026-01-01..2026-01-03, 2026-02-15..2026-02-23," in shown.stdout
    data = json.loads(runner.invoke(main, ["holidays", "show", "2030", "--json"]).stdout)
    assert (data["status"], data["holidays"]) == ("missing", [])
    assert data["statutory"]["2030-02-02"] == "除夕" and data["statutory"]["2030-05-02"] == "劳动节"


def readme_sample(tmp_path: Path) -> Path:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Working days and holidays", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    path = tmp_path / "2027.yaml"
    path.write_text(block.group(1), encoding="utf-8")
    return path


def test_the_readme_sample_is_valid_and_not_official(runner: CliRunner, tmp_path: Path) -> None:
    path = readme_sample(tmp_path)
    checked = runner.invoke(main, ["holidays", "check", str(path)])
    assert checked.exit_code == 0, checked.output
    # the 13 statutory days of the revised rules (元旦 1, 春节 4 from 除夕, 清明 1, 劳动节 2, 端午 1, 中秋 1, 国庆 3)
    assert checked.stdout == f"{path}: ok (2027, provisional: 13 holidays, 0 adjusted working days)\n"
    text = path.read_text(encoding="utf-8")
    assert "2027-02-05" in text and "2027-05-01..2027-05-02" in text  # 除夕 and 5月2日
    assert "非官方" in text


def test_holidays_check_reports_every_problem(runner: CliRunner, tmp_path: Path) -> None:
    bad = tmp_path / "2027.yaml"
    bad.write_text("year: 2027\nholidays:\n  - 2027-02-30\n  - 2027-05-01\nworkdays:\n  - 2027-09-27\n",
                   encoding="utf-8")
    good = PACKAGE_DIR / "2025.yaml"
    result = runner.invoke(main, ["holidays", "check", str(good), str(bad)])
    assert result.exit_code == 1
    assert result.stdout == f"{good}: ok (2025, official: 28 holidays, 5 adjusted working days)\n"
    assert result.stderr.splitlines() == [
        f"{bad}:3: malformed date '2027-02-30'; write it as YYYY-MM-DD, e.g. 2027-01-01",
        f"{bad}:6: 2027-09-27 in 'workdays' is a weekday; 'workdays' lists only weekend days that are working days "
        "(调休上班); remove it",
        "1 of 2 file(s) have problems"]


def test_the_calendar_export_marks_a_provisional_deadline(posted: Workspace) -> None:
    from eightstep.audit.deadlines import NOTICE_ENDS, deadlines

    [notice] = [d for d in deadlines(posted, case_id="RD-3-2") if d.kind == NOTICE_ENDS]
    assert (notice.day, notice.provisional, notice.as_dict()["provisional"]) == (WEEKENDS_ONLY_END, True, True)
    assert notice.detail.endswith("(provisional: counted with weekends only for a year without official holiday "
                                  "data)")
