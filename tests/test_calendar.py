"""`eightstep calendar`: every coming deadline as an .ics file, read back with a real calendar parser
(the icalendar package), with the days the audit and the guards count, and UIDs that stay the same."""

from __future__ import annotations

import json
import shutil
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner
from icalendar import Calendar

from eightstep.audit.deadlines import Deadline
from eightstep.audit.ics import to_ics
from tests.helpers.cli import run as cli


@pytest.fixture
def db(demo_dir: Path, tmp_path: Path) -> Path:
    shutil.copytree(demo_dir, tmp_path / "demo")
    return tmp_path / "demo" / "eightstep.db"


def events(path: Path) -> dict[str, dict[str, object]]:
    cal = Calendar.from_ical(path.read_bytes())
    assert str(cal["X-WR-TIMEZONE"]) == "Asia/Shanghai"
    out = {}
    for event in cal.walk("VEVENT"):
        assert event["DTSTAMP"] and event["DTSTART"]
        out[str(event["UID"])] = {"day": event["DTSTART"].dt, "end": event["DTEND"].dt,
                                  "summary": str(event["SUMMARY"]), "sequence": int(event["SEQUENCE"]),
                                  "kind": str(event["CATEGORIES"].cats[0])}
    return out


def test_the_file_holds_every_deadline(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    out = cli(runner, db, "calendar", "-o", str(tmp_path / "all.ics")).stdout
    found = json.loads(cli(runner, db, "calendar", "--json").stdout)
    assert out == f"Wrote {tmp_path / 'all.ics'} ({len(found)} deadlines)\n"
    parsed = events(tmp_path / "all.ics")
    assert set(parsed) == {f"{d['key']}@eightstep" for d in found}
    for d in found:
        event = parsed[f"{d['key']}@eightstep"]
        assert event["day"] == date.fromisoformat(d["day"])  # an all-day event on the day
        assert (event["end"] - event["day"]).days == 1
        assert event["summary"].startswith(d["case"] + (" 人大小区" if d["case"].startswith("RD-") else " 桥头小区"))
    assert {d["kind"] for d in found} >= {"stage_limit", "maintenance_due", "inspection_request",
                                          "inspection_expires", "warranty_ends", "insurance_ends", "subsidy_due"}
    for line in (tmp_path / "all.ics").read_bytes().split(b"\r\n"):
        assert len(line) <= 75  # folded as RFC 5545 says


def test_days_are_the_audits(runner: CliRunner, db: Path) -> None:
    """A stage limit and the maintenance fall due the day the audit says they do."""
    found = {(d["case"], d["kind"]): d["day"] for d in json.loads(cli(runner, db, "calendar", "--json").stdout)}
    audit = json.loads(cli(runner, db, "audit", "stalled", "--json").stdout)
    stage = [f for f in audit if f["type"] == "stage_overdue"]
    assert stage
    for finding in stage:
        assert found[(finding["case"], "stage_limit")] == finding["due"]
    maintenance = [f for f in audit if f["type"] == "maintenance_overdue"]
    assert maintenance
    for finding in maintenance:
        assert found[(finding["case"], "maintenance_due")] == finding["due"]
    subsidy = [f for f in audit if f["type"] == "subsidy_unpaid"]
    assert subsidy
    for finding in subsidy:
        assert found[(finding["case"], "subsidy_due")] == finding["due"]


def test_a_running_notice_and_a_suspension(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    (tmp_path / "posting.jpg").write_bytes(b"photo")
    cli(runner, db, "doc", "add", "QT-2-1", "notice_posting", str(tmp_path / "posting.jpg"))  # posted again
    check = json.loads(cli(runner, db, "case", "check", "QT-2-1", "--json", code=3).stdout)
    (until,) = [b["until"] for b in check["blockers"] if b["type"] == "notice"]
    cli(runner, db, "case", "suspend", "QT-1-2", "--reason", "调解中", "--review-at", "2027-01-15")
    cli(runner, db, "calendar", "--complex", "桥头小区", "-o", str(tmp_path / "c.ics"))
    parsed = events(tmp_path / "c.ics")
    assert parsed["QT-2-1.notice_ends.design_notice@eightstep"]["day"] == date.fromisoformat(until)
    assert parsed["QT-1-2.suspension_review.suspension@eightstep"]["day"] == date(2027, 1, 15)
    assert "QT-1-2.stage_limit.design_notice@eightstep" not in parsed  # its clock stands still
    assert not any(key.startswith("RD-") for key in parsed)


def test_one_case_since_a_day_and_chinese(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    cli(runner, db, "--lang", "zh", "calendar", "--case", "rd-3-2", "--since", "2026年8月1日", "-o",
        str(tmp_path / "one.ics"))
    parsed = events(tmp_path / "one.ics")
    assert {e["kind"] for e in parsed.values()} == {"inspection_request", "inspection_expires", "warranty_ends",
                                                    "insurance_ends"}
    assert all(e["summary"].startswith("RD-3-2 ") for e in parsed.values())
    assert any("申请定期检验" in e["summary"] for e in parsed.values())


def test_a_newer_export_updates_the_same_events() -> None:
    d = Deadline("RD-1-1", "人大小区", "1栋1单元", "stage_limit", date(2026, 3, 1), "S7: stall limit ends", "x; y, z",
                 "acceptance")
    first = Calendar.from_ical(to_ics([d], name="t", now=datetime(2026, 1, 1, tzinfo=UTC)))
    moved = Deadline(**{**d.__dict__, "day": date(2026, 3, 9)})
    second = Calendar.from_ical(to_ics([moved], name="t", now=datetime(2026, 1, 2, tzinfo=UTC)))
    (a,), (b,) = first.walk("VEVENT"), second.walk("VEVENT")
    assert a["UID"] == b["UID"] == "RD-1-1.stage_limit.acceptance@eightstep"
    assert int(b["SEQUENCE"]) > int(a["SEQUENCE"])
    assert b["DTSTART"].dt == date(2026, 3, 9)
    assert str(a["DESCRIPTION"]) == "x; y, z"  # escaped and read back


def test_usage(runner: CliRunner, db: Path) -> None:
    assert "give -o FILE.ics" in cli(runner, db, "calendar", code=2).stderr
