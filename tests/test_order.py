"""The order and clocks the Special Equipment Safety Law sets, as the shipped Wuhan workflow states them.

- art. 23: the installer notifies the special-equipment authority in writing **before** works start;
- art. 25: the supervisory inspection before the elevator is handed over (and the use registration rests on it);
- art. 33: use registration before use, or within 30 days of entering use;
- art. 24: the technical files handed to the user within 30 days of acceptance.
Days are Asia/Shanghai days; a period does not count its first day and ends at 24:00 of its last (Civil Code
arts. 201, 203). Each rule is tested on both sides of its boundary.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine
from eightstep.cli import main
from eightstep.engine.order import case_notes
from eightstep.resources import builtin_dir
from eightstep.store.workspace import Workspace
from eightstep.workflow.loader import parse_workflow_text
from tests.helpers.walk import CID, approve, doc, open_unit, t, walk_to

NOTICE = "特种设备安装改造修理告知书"


def order_messages(ws: Workspace, day: str) -> list[str]:
    return [b.message for b in engine.check(ws, CID, at=t(f"{day} 20:00")).blockers if b.type == "order"]


@pytest.fixture
def building(ws: Workspace) -> Workspace:
    """A case in construction (entered in April 2025); the contract is signed."""
    open_unit(ws, at=t("2025-03-03 09:00"))
    walk_to(ws, CID, "construction", t("2025-03-03 10:00"))
    doc(ws, CID, "construction_contract", t("2025-06-06 10:00"))
    return ws


# (id, records as (kind, day), the day checked, the order blockers expected (substrings))
ARTICLE_23 = [
    ("works start the day before the notice", [("installation_notice", "2025-06-13"), ("works_start", "2025-06-12")],
     "2025-06-20", [f"out of order: 开工记录（进场施工） is dated 2025-06-12, before {NOTICE} (2025-06-13): "
                    "《中华人民共和国特种设备安全法》第二十三条 requires"]),
    ("works start the day of the notice", [("installation_notice", "2025-06-13"), ("works_start", "2025-06-13")],
     "2025-06-20", []),
    ("works start the day after the notice", [("installation_notice", "2025-06-13"), ("works_start", "2025-06-14")],
     "2025-06-20", []),
    ("works finished without any notice", [("works_start", "2025-06-16"), ("works_finished", "2025-10-17")],
     "2025-10-18", [f"开工记录（进场施工） is on record (2025-06-16) but {NOTICE} is not",
                    f"施工完成报告 is on record (2025-10-17) but {NOTICE} is not"]),
    ("a notice filed after the works finished does not put them in order",
     [("works_finished", "2025-10-17"), ("installation_notice", "2025-10-18")], "2025-10-20",
     [f"out of order: 施工完成报告 is dated 2025-10-17, before {NOTICE} (2025-10-18)"]),
    ("a notice dated later than the check time does not count yet",
     [("installation_notice", "2025-06-13"), ("works_start", "2025-06-16")], "2025-06-12", []),
]


@pytest.mark.parametrize(("records", "day", "expected"), [c[1:] for c in ARTICLE_23], ids=[c[0] for c in ARTICLE_23])
def test_installation_notice_before_the_works(building: Workspace, records: list[tuple[str, str]], day: str,
                                              expected: list[str]) -> None:
    for kind, when in records:
        doc(building, CID, kind, t(f"{when} 10:00"))
    found = order_messages(building, day)
    assert len(found) == len(expected), found
    for needle, message in zip(expected, found, strict=True):
        assert needle in message


@pytest.fixture
def accepting(ws: Workspace) -> Workspace:
    """A case in acceptance (entered in April 2025)."""
    open_unit(ws, at=t("2025-03-03 09:00"))
    walk_to(ws, CID, "acceptance", t("2025-03-03 10:00"))
    return ws


# (id, records as (kind, day[, "rejected"]), the day checked, order blockers expected (substrings))
ACCEPTANCE = [
    ("registered the day before the inspection passed",
     [("supervisory_inspection", "2025-10-28"), ("use_registration", "2025-10-27")], "2025-10-29",
     ["out of order: 特种设备使用登记证 is dated 2025-10-27, before 电梯监督检验合格报告 (2025-10-28)"]),
    ("registered the day the inspection passed",
     [("supervisory_inspection", "2025-10-28"), ("use_registration", "2025-10-28")], "2025-10-29", []),
    ("a refused inspection is not a passed one",
     [("supervisory_inspection", "2025-10-20", "rejected"), ("use_registration", "2025-10-25"),
      ("supervisory_inspection", "2025-10-28")], "2025-10-29",
     ["out of order: 特种设备使用登记证 is dated 2025-10-25, before 电梯监督检验合格报告 (2025-10-28)"]),
    ("put into use before the inspection passed",
     [("put_into_use", "2025-10-26"), ("supervisory_inspection", "2025-10-28")], "2025-10-29",
     ["out of order: 电梯投入使用记录 is dated 2025-10-26, before 电梯监督检验合格报告 (2025-10-28)"]),
    ("in use since 11-01, not registered: the 30th day (12-01) is still within",
     [("supervisory_inspection", "2025-10-28"), ("put_into_use", "2025-11-01")], "2025-12-01", []),
    ("in use since 11-01, not registered: overdue from 12-02",
     [("supervisory_inspection", "2025-10-28"), ("put_into_use", "2025-11-01")], "2025-12-02",
     ["overdue: 特种设备使用登记证 was due by 2025-12-01, 30 days after 电梯投入使用记录 (2025-11-01) "
      "(《中华人民共和国特种设备安全法》第三十三条)"]),
    ("registered before use: no clock",
     [("supervisory_inspection", "2025-10-28"), ("use_registration", "2025-11-07"), ("put_into_use", "2025-11-12")],
     "2026-02-01", []),
    ("accepted 10-31, technical files not handed over: the 30th day (11-30) is still within",
     [("completion_report", "2025-10-31")], "2025-11-30", []),
    ("accepted 10-31, technical files not handed over: overdue from 12-01",
     [("completion_report", "2025-10-31")], "2025-12-01",
     ["overdue: 电梯技术资料移交记录 was due by 2025-11-30, 30 days after 竣工验收报告 (2025-10-31) "
      "(《中华人民共和国特种设备安全法》第二十四条)"]),
    ("technical files handed over before acceptance: no clock",
     [("technical_files", "2025-10-20"), ("completion_report", "2025-10-31")], "2025-12-31", []),
]


def record(ws: Workspace, kind: str, day: str, *flags: str) -> None:
    when = t(f"{day} 10:00")
    if kind in ("supervisory_inspection", "use_registration"):
        approve(ws, CID, kind, when, rejected="rejected" in flags)
    else:
        doc(ws, CID, kind, when)


@pytest.mark.parametrize(("records", "day", "expected"), [c[1:] for c in ACCEPTANCE], ids=[c[0] for c in ACCEPTANCE])
def test_acceptance_order_and_clocks(accepting: Workspace, records: list[tuple[str, ...]], day: str,
                                     expected: list[str]) -> None:
    for kind, when, *flags in records:
        record(accepting, kind, when, *flags)
    found = order_messages(accepting, day)
    assert len(found) == len(expected), found
    for needle, message in zip(expected, found, strict=True):
        assert needle in message


@pytest.mark.parametrize(("registered", "late"), [("2025-12-01", False), ("2025-12-02", True)],
                         ids=["registered-on-the-30th-day", "registered-on-the-31st-day"])
def test_a_late_registration_is_kept_and_noted(accepting: Workspace, registered: str, late: bool) -> None:
    for kind, day in [("supervisory_inspection", "2025-10-28"), ("put_into_use", "2025-11-01"),
                      ("use_registration", registered)]:
        record(accepting, kind, day)
    assert order_messages(accepting, "2025-12-05") == []  # it happened: nothing to do that would put it right
    notes = case_notes(accepting, CID, at=t("2025-12-05 20:00"))
    expected = (f"late: 特种设备使用登记证 is dated {registered}, after 2025-12-01, the end of the 30 days from "
                "电梯投入使用记录 (2025-11-01) that 《中华人民共和国特种设备安全法》第三十三条 allows; it is kept on "
                "record")
    assert notes == ([expected] if late else [])


def test_a_record_of_a_later_stage_is_kept_and_mentioned(ws: Workspace, db_path: Path, runner: CliRunner) -> None:
    """A joint review opinion (S5) recorded while the case is still at the vote (S1)."""
    open_unit(ws, at=t("2025-03-03 09:00"))
    approve(ws, CID, "joint_review", t("2025-03-05 10:00"))
    expected = ("联合审查意见 (2025-03-05) belongs to S5 joint_review 窗口申报与联合审查, a later stage: it is kept on "
                "record and counts when the case gets there")
    assert case_notes(ws, CID) == [expected]
    text = runner.invoke(main, ["--db", str(db_path), "case", "check", CID])
    assert text.exit_code == 3 and f"  note: {expected}" in text.stdout.splitlines()
    data = json.loads(runner.invoke(main, ["--db", str(db_path), "case", "check", CID, "--json"]).stdout)
    assert data["notes"] == [expected]


# --- the rules as data -------------------------------------------------------------------------------------

def _with_order(rule: str) -> str:
    text = (builtin_dir("workflows") / "wuhan.yaml").read_text(encoding="utf-8")
    marker = "      order:                            # the written notice comes before any work on site\n"
    assert text.count(marker) == 1
    return text.replace(marker, marker + f"        - {rule}\n")


@pytest.mark.parametrize(("rule", "problem"), [
    ("{earlier: installation_notise, later: works_start, basis: x}", "document or approval kind "
     "'installation_notise' is not defined under documents or approvals"),
    ("{earlier: works_start, later: works_start, basis: x}", "names 'works_start' as both earlier and later"),
    ("{earlier: works_start, later: works_finished, ordered: false, basis: x}", "sets neither an order nor a time"),
    ("{earlier: works_start, later: works_finished}", "missing key stages[5].requires.order[0].basis"),
])
def test_workflow_check_refuses_a_bad_order_rule(rule: str, problem: str) -> None:
    from eightstep.errors import WorkflowError

    with pytest.raises(WorkflowError) as refused:
        parse_workflow_text(_with_order(rule), "wuhan.yaml")
    assert any(problem in p for p in refused.value.problems), refused.value.problems


def test_the_shipped_workflows_state_the_special_equipment_law() -> None:
    for name in ("wuhan.yaml", "wuhan@2024.yaml", "wuhan-2018.yaml", "guangzhou.yaml"):
        wf = parse_workflow_text((builtin_dir("workflows") / name).read_text(encoding="utf-8"), name).definition
        rules = {(r.earlier, r.later, r.ordered, r.within.days if r.within else None)
                 for s in wf.stages for r in s.requires.order}
        assert rules == {("installation_notice", "works_start", True, None),
                         ("installation_notice", "works_finished", True, None),
                         ("supervisory_inspection", "put_into_use", True, None),
                         ("supervisory_inspection", "use_registration", True, None),
                         ("put_into_use", "use_registration", False, 30),
                         ("completion_report", "technical_files", False, 30)}, name
