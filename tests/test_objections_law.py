"""Objections as the procedure handles them (issue 11).

The route (DOMAIN, the Wuhan 2026 regulation): negotiation → coordination (street, community) → people's mediation
→ hearing (听证, from 2026) → litigation. Steps may be skipped; going back is refused. Litigation suspends the
case, with the review date the court gives, and it resumes once the judgment or a withdrawal is on record. A
resolution names its basis (withdrawal letter, mediation agreement, hearing decision, judgment) as a document on
record where the workflow requires it. Whether an objection lodged after the notice period blocks is the
workflow's choice; a complaint during the works is recorded, shown in the audit, and blocks the stages the
workflow names.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.audit.stalled import find
from eightstep.audit.verify import verify
from eightstep.cli import main
from eightstep.errors import InputError, WorkflowError
from eightstep.resources import builtin_dir
from eightstep.store.workspace import Workspace
from eightstep.workflow.loader import parse_workflow_text
from tests.conftest import invoke as run
from tests.helpers.walk import CID, add_households, doc, open_unit, t, walk_to
from tests.test_holidays import release_of_2025
from tests.test_permissions import CASE as PM
from tests.test_permissions import governed  # noqa: F401 - the fixture

POSTED = "2025-06-04"


def objection(ws: Workspace, day: str, grounds: str = "采光") -> int:
    found = records.add_objection(ws, CID, room="201", grounds=grounds, at=t(f"{day} 10:00"))
    assert found.id is not None
    return found.id


def objection_blockers(ws: Workspace, day: str) -> list[int | None]:
    return [b.id for b in engine.check(ws, CID, at=t(f"{day} 20:00")).blockers if b.type == "objection"]


def to_the_notice(ws: Workspace) -> Workspace:
    """A case at the design notice, the notice posted on 2025-06-04."""
    open_unit(ws, at=t("2025-03-03 09:00"))
    walk_to(ws, CID, "design_notice", t("2025-03-03 10:00"))
    doc(ws, CID, "design_scheme", t("2025-06-03 10:00"))
    doc(ws, CID, "notice_posting", t(f"{POSTED} 09:00"))
    return ws


@pytest.fixture
def noticed(ws: Workspace) -> Workspace:
    """Under the shipped wuhan rules of 2025 (the 2024 guidance)."""
    return to_the_notice(ws)


def variant(ws: Workspace, tmp_path: Path, policy: str, label: str) -> Workspace:
    """The same database with the 2024 guidance changed by one more line of its objection policy."""
    folder = tmp_path / f"wf-{label}"
    folder.mkdir()
    text = (builtin_dir("workflows") / "wuhan@2024.yaml").read_text(encoding="utf-8")
    text = text.replace("  mediation_within: {days: 15, calendar: calendar}\n",
                        f"  mediation_within: {{days: 15, calendar: calendar}}\n  {policy}\n", 1)
    (folder / "wuhan@2024.yaml").write_text(text.replace('version: "2024.2"', f'version: "2024.2-{label}"'), "utf-8")
    return Workspace.open(ws.url, workflow_dirs=[folder])


@pytest.fixture
def requiring(ws: Workspace, tmp_path: Path) -> Iterator[Workspace]:
    """A workflow whose resolutions must name their basis."""
    local = variant(ws, tmp_path, "resolution_requires: [objection_withdrawal, mediation_agreement, judgment]",
                    "basis")
    yield to_the_notice(local)
    local.dispose()


def notice_end(ws: Workspace) -> date:
    return ws.calendar.add_working_days(date.fromisoformat(POSTED), 10)


@pytest.mark.parametrize(("after_end", "late"), [(0, False), (1, True)], ids=["on-the-last-day", "the-day-after"])
def test_an_objection_after_the_notice_period_is_late(noticed: Workspace, after_end: int, late: bool) -> None:
    day = (notice_end(noticed) + timedelta(days=after_end)).isoformat()
    oid = objection(noticed, day)
    [listed] = records.list_objections(noticed, CID)
    assert (listed["late"], listed["complaint"]) == (late, False)
    assert objection_blockers(noticed, day) == [oid]  # wuhan: late objections block too (late: block)


def test_after_a_provisional_end_an_objection_is_not_taken_as_late(ws: Workspace, tmp_path: Path) -> None:
    """The notice of test_holidays: posted 2025-12-19, 10 working days, by weekends only until 2026-01-02 (2026
    not yet on file), by the official arrangement until 2026-01-05. An objection of 2026-01-03 is in time: with
    `late: record` it must still block."""
    local = variant(ws, tmp_path, "late: record", "late")
    try:
        local.calendar = release_of_2025(tmp_path)
        open_unit(local, at=t("2025-11-03 09:00"))
        walk_to(local, CID, "design_notice", t("2025-11-03 10:00"))
        doc(local, CID, "design_scheme", t("2025-12-18 10:00"))
        doc(local, CID, "notice_posting", t("2025-12-19 10:00"))
        oid = objection(local, "2026-01-03")
        assert records.list_objections(local, CID)[0]["late"] is False
        assert objection_blockers(local, "2026-01-06") == [oid]
    finally:
        local.dispose()


def test_late_record_keeps_a_late_objection_on_record_without_blocking(ws: Workspace, tmp_path: Path) -> None:
    local = to_the_notice(variant(ws, tmp_path, "late: record", "late"))
    try:
        end = notice_end(local)
        in_time = objection(local, end.isoformat())
        late = objection(local, (end + timedelta(days=1)).isoformat())
        assert objection_blockers(local, (end + timedelta(days=2)).isoformat()) == [in_time]
        assert [o["late"] for o in records.list_objections(local, CID)] == [False, True]
        assert late != in_time
    finally:
        local.dispose()


# --- complaints during the works ---------------------------------------------------------------------------

@pytest.fixture
def building(ws: Workspace) -> Workspace:
    open_unit(ws, at=t("2025-03-03 09:00"))
    walk_to(ws, CID, "construction", t("2025-03-03 10:00"))
    for kind, day in [("construction_contract", "2025-06-06"), ("installation_notice", "2025-06-13"),
                      ("works_start", "2025-06-16"), ("works_finished", "2025-10-17")]:
        doc(ws, CID, kind, t(f"{day} 10:00"))
    return ws


def test_a_complaint_during_the_works_blocks_construction_and_shows_in_the_audit(building: Workspace) -> None:
    oid = objection(building, "2025-08-01", grounds="施工噪音：夜间施工")
    [listed] = records.list_objections(building, CID)
    assert (listed["stage"], listed["complaint"]) == ("construction", True)
    assert objection_blockers(building, "2025-10-20") == [oid]  # construction: no_open_complaints
    [finding] = [f for f in find(building, as_of=date(2025, 8, 20)).findings if f.type == "objection_unmediated"]
    assert finding.subject == f"objection #{oid}"
    assert finding.message.endswith("lodged in stage construction, a complaint after the notice")
    records.mediate_objection(building, CID, oid, step="negotiation", note="施工单位调整作业时间",
                              at=t("2025-08-05 10:00"))
    doc(building, CID, "objection_withdrawal", t("2025-08-06 10:00"))
    records.resolve_objection(building, CID, oid, outcome="不再夜间施工", basis="objection_withdrawal",
                              at=t("2025-08-06 11:00"))
    assert objection_blockers(building, "2025-10-20") == []


def test_a_complaint_does_not_block_a_stage_the_workflow_does_not_name(ws: Workspace) -> None:
    open_unit(ws, at=t("2025-03-03 09:00"))
    walk_to(ws, CID, "joint_review", t("2025-03-03 10:00"))
    objection(ws, "2025-05-20", grounds="担心施工影响出行")
    assert records.list_objections(ws, CID)[0]["complaint"] is True
    assert objection_blockers(ws, "2025-05-21") == []  # joint_review: complaints do not block it


# --- the route, in order -------------------------------------------------------------------------------------

ROUTE_2024 = "negotiation -> coordination -> mediation -> litigation"


@pytest.mark.parametrize(("steps", "refused"), [
    pytest.param(["negotiation", "coordination", "mediation"], None, id="in-order"),
    pytest.param(["negotiation", "negotiation", "mediation"], None, id="a-step-repeated-then-skipping-one"),
    pytest.param(["mediation", "coordination"], "objection #{id} has reached mediation (2025-06-06 10:00): "
                 f"coordination would go back along the route {ROUTE_2024}", id="going-back-is-refused"),
    pytest.param(["hearing"], f"step 'hearing': the workflow wuhan has the steps {ROUTE_2024}",
                 id="no-hearing-under-the-2024-guidance"),
])
def test_mediation_steps_in_their_order(noticed: Workspace, steps: list[str], refused: str | None) -> None:
    oid = objection(noticed, "2025-06-05")
    *first, last = steps
    for i, step in enumerate(first):
        records.mediate_objection(noticed, CID, oid, step=step, note="记录", at=t(f"2025-06-0{6 + i} 10:00"))
    when = t(f"2025-06-{6 + len(first):02d} 10:00")
    if refused is None:
        records.mediate_objection(noticed, CID, oid, step=last, note="记录", at=when)
        assert [s["step"] for s in records.list_objections(noticed, CID)[0]["steps"]] == steps
    else:
        with pytest.raises(InputError) as error:
            records.mediate_objection(noticed, CID, oid, step=last, note="记录", at=when)
        assert str(error.value).startswith(refused.format(id=oid))


@pytest.mark.parametrize(("recorded", "refused"), [
    pytest.param([("mediation", "06-10"), ("coordination", "06-08")], None, id="a-step-recorded-late-in-its-place"),
    pytest.param([("mediation", "06-10"), ("negotiation", "06-10")], "has reached mediation",
                 id="the-same-day-after-the-mediation"),
    pytest.param([("coordination", "06-10"), ("mediation", "06-08")],
                 "mediation dated 2025-06-08 10:00 would come before the coordination of 2025-06-10 10:00",
                 id="dated-before-an-earlier-step"),
])
def test_a_step_dated_between_others_keeps_the_route(noticed: Workspace, recorded: list[tuple[str, str]],
                                                     refused: str | None) -> None:
    """The order is the order of the dates: a coordination recorded after the mediation but dated before it is in
    its place; a step dated before an earlier step of the route is not."""
    oid = objection(noticed, "2025-06-05")
    (first, on), (step, day) = recorded
    records.mediate_objection(noticed, CID, oid, step=first, note="记录", at=t(f"2025-{on} 10:00"))
    if refused is None:
        records.mediate_objection(noticed, CID, oid, step=step, note="记录", at=t(f"2025-{day} 10:00"))
        assert [s["step"] for s in records.list_objections(noticed, CID)[0]["steps"]] == ["coordination", "mediation"]
    else:
        with pytest.raises(InputError, match=refused):
            records.mediate_objection(noticed, CID, oid, step=step, note="记录", at=t(f"2025-{day} 10:00"))


def test_the_2026_regulation_has_the_hearing(ws: Workspace) -> None:
    open_unit(ws, at=t("2026-01-05 09:00"))
    add_households(ws, CID, t("2026-01-05 10:00"))
    oid = records.add_objection(ws, CID, room="201", grounds="采光", at=t("2026-01-06 10:00")).id
    records.mediate_objection(ws, CID, oid, step="hearing", note="街道组织听证", at=t("2026-01-20 10:00"))
    assert records.list_objections(ws, CID)[0]["steps"][0]["step"] == "hearing"


# --- resolutions name their basis --------------------------------------------------------------------------

def test_a_resolution_names_a_document_on_record(requiring: Workspace) -> None:
    noticed = requiring
    oid = objection(noticed, "2025-06-05")
    with pytest.raises(InputError) as missing:
        records.resolve_objection(noticed, CID, oid, outcome="已化解", at=t("2025-06-10 10:00"))
    assert str(missing.value) == (f"objection #{oid}: the resolution must name its basis, one of "
                                  "objection_withdrawal, mediation_agreement, judgment")
    assert missing.value.remedy is not None and missing.value.remedy.action == "doc.add"
    with pytest.raises(InputError, match="no Mediation agreement on record dated between 2025-06-05 10:00 and"):
        records.resolve_objection(noticed, CID, oid, outcome="调解成功", basis="mediation_agreement",
                                  at=t("2025-06-10 10:00"))
    with pytest.raises(InputError, match="basis 'site_survey': use one of"):
        records.resolve_objection(noticed, CID, oid, outcome="?", basis="site_survey", at=t("2025-06-10 10:00"))
    agreement = doc(noticed, CID, "mediation_agreement", t("2025-06-09 15:00"))
    resolved = records.resolve_objection(noticed, CID, oid, outcome="调解成功", basis="mediation_agreement",
                                         at=t("2025-06-10 10:00"))
    assert resolved.basis_document_id == agreement.id
    assert records.list_objections(noticed, CID)[0]["basis_document"] == agreement.id


def test_without_resolution_requires_the_basis_is_optional_but_checked(noticed: Workspace) -> None:
    first, second = objection(noticed, "2025-06-05"), objection(noticed, "2025-06-05", grounds="噪音")
    records.resolve_objection(noticed, CID, first, outcome="协商一致", at=t("2025-06-10 10:00"))
    with pytest.raises(InputError, match="no Withdrawal of the objection on record"):
        records.resolve_objection(noticed, CID, second, outcome="撤回", basis="objection_withdrawal",
                                  at=t("2025-06-10 10:00"))


def test_a_document_before_the_objection_is_not_its_basis(noticed: Workspace) -> None:
    doc(noticed, CID, "objection_withdrawal", t("2025-06-04 15:00"))
    oid = objection(noticed, "2025-06-05")
    with pytest.raises(InputError, match="no Withdrawal of the objection on record dated between"):
        records.resolve_objection(noticed, CID, oid, outcome="撤回", basis="objection_withdrawal",
                                  at=t("2025-06-10 10:00"))


# --- litigation ------------------------------------------------------------------------------------------------

def test_litigation_suspends_the_case_and_the_judgment_resumes_it(noticed: Workspace, db_path: Path,
                                                                   runner: CliRunner) -> None:
    oid = objection(noticed, "2025-06-05")
    records.mediate_objection(noticed, CID, oid, step="mediation", note="调解未成", at=t("2025-06-10 10:00"))
    db = ["--db", str(db_path)]
    sued = runner.invoke(main, [*db, "objection", "mediate", CID, str(oid), "--step", "litigation", "--note",
                                "201室起诉", "--review-at", "2025-09-15", "--at", "2025-06-20"])
    assert sued.exit_code == 0, sued.output
    assert sued.stdout.splitlines()[-1] == f"{CID}: suspended while the objection is in court"
    shown = engine.show_case(noticed, CID)
    assert shown.status == "suspended" and shown.status_reason == f"litigation over objection #{oid}"
    history = [e.action for e in engine.history(noticed, CID)][-2:]
    assert history == ["objection.mediate", "suspend"]
    assert json.loads(engine.history(noticed, CID)[-1].details)["review_at"] == "2025-09-15T00:00:00+08:00"

    refused = runner.invoke(main, [*db, "case", "resume", CID, "--reason", "判决", "--at", "2025-09-20"])
    assert refused.exit_code == 1
    assert (f"objection #{oid} went to court on 2025-06-20: the case resumes once the litigation has ended on "
            "record (Court judgment or ruling, Withdrawal of the objection, dated from 2025-06-20 on)"
            ) in refused.stderr
    assert f"Next: eightstep doc add {CID} judgment FILE --at DATE" in refused.stderr
    with pytest.raises(InputError, match="one of judgment, objection_withdrawal"):
        records.resolve_objection(noticed, CID, oid, outcome="判决", basis="mediation_agreement",
                                  at=t("2025-09-20 10:00"))
    doc(noticed, CID, "judgment", t("2025-09-18 10:00"))
    records.resolve_objection(noticed, CID, oid, outcome="驳回诉讼请求", basis="judgment", at=t("2025-09-19 10:00"))
    resumed = runner.invoke(main, [*db, "case", "resume", CID, "--reason", "判决已生效", "--at", "2025-09-20"])
    assert resumed.exit_code == 0, resumed.output
    assert engine.show_case(noticed, CID).status == "active"
    assert verify(noticed).ok  # the suspension written beside the step is a move like any other in the history


def test_a_withdrawal_also_ends_the_litigation(noticed: Workspace) -> None:
    oid = objection(noticed, "2025-06-05")
    records.mediate_objection(noticed, CID, oid, step="litigation", note="起诉", at=t("2025-06-20 10:00"))
    with pytest.raises(InputError, match="went to court on 2025-06-20 10:00"):
        engine.resume(noticed, CID, reason="撤诉", at=t("2025-07-01 10:00"))
    doc(noticed, CID, "objection_withdrawal", t("2025-06-30 10:00"))
    engine.resume(noticed, CID, reason="撤诉", at=t("2025-07-01 10:00"))
    assert engine.show_case(noticed, CID).status == "active"


def test_a_voided_litigation_step_no_longer_holds_the_case(noticed: Workspace) -> None:
    """A litigation step recorded by mistake and voided (records.corrections) holds the case no more."""
    oid = objection(noticed, "2025-06-05")
    records.mediate_objection(noticed, CID, oid, step="litigation", note="误录", at=t("2025-06-20 10:00"))
    (steps,) = [o["steps"] for o in records.list_objections(noticed, CID) if o["id"] == oid]
    with pytest.raises(InputError, match="went to court"):
        engine.resume(noticed, CID, reason="误录", at=t("2025-06-21 10:00"))
    records.void(noticed, CID, "mediation", steps[-1]["id"], reason="并未起诉", at=t("2025-06-21 11:00"))
    engine.resume(noticed, CID, reason="误录已作废", at=t("2025-06-22 10:00"))
    assert engine.show_case(noticed, CID).status == "active"
    assert verify(noticed).ok


def test_review_date_goes_with_litigation_only(noticed: Workspace) -> None:
    oid = objection(noticed, "2025-06-05")
    with pytest.raises(InputError, match="a review date is the court's: it goes with a litigation step only"):
        records.mediate_objection(noticed, CID, oid, step="negotiation", note="x", at=t("2025-06-06 10:00"),
                                  review_at=t("2025-09-01"))


def test_the_suspension_for_court_needs_the_right_to_suspend(
        governed: tuple[CliRunner, list[str]]) -> None:  # noqa: F811 - the fixture imported above
    """The litigation step suspends the case: under a workflow whose permissions govern case.suspend, only a role
    allowed to suspend may record it (the step alone is open to all)."""
    runner, db = governed
    oid = run(runner, *db, "objection", "add", PM, "--room", "201", "--grounds", "采光", "--at", "2025-03-03",
              "--actor", "李敏").stdout.strip()
    step = [*db, "objection", "mediate", PM, oid, "--step", "litigation", "--note", "起诉", "--at", "2025-03-04"]
    refused = run(runner, *step, "--actor", "李敏", code=1)
    assert ("case.suspend in case PM-1 is recorded by street (街道办事处); 李敏 holds none of these roles"
            in refused.output)
    assert json.loads(run(runner, *db, "objection", "list", PM, "--json").output)[0]["steps"] == []
    run(runner, *db, "role", "add", PM, "street", "赵街道", "--at", "2025-03-02")
    run(runner, *step, "--actor", "赵街道")
    assert json.loads(run(runner, *db, "case", "show", PM, "--json").output)["status"] == "suspended"


# --- workflow check ------------------------------------------------------------------------------------------

@pytest.mark.parametrize(("edits", "problem"), [
    pytest.param([("  steps: [negotiation, coordination, mediation, litigation]\n",
                   "  steps: [mediation, negotiation]\n")],
                 "objections.steps must keep the order of the route", id="steps-out-of-order"),
    pytest.param([("  mediation_within: {days: 15, calendar: calendar}\n",
                   "  mediation_within: {days: 15, calendar: calendar}\n  resolution_requires: [verdict]\n")],
                 "document kind 'verdict' is not defined under documents", id="unknown-basis-kind"),
    pytest.param([("  mediation_within: {days: 15, calendar: calendar}\n",
                   "  mediation_within: {days: 15, calendar: calendar}\n  late: maybe\n")],
                 "late", id="late-is-block-or-record"),
    pytest.param([("      notice: {document: notice_posting, days: 10, calendar: working}\n", "")],
                 "no_open_complaints has no effect", id="complaints-without-a-notice-stage"),
])
def test_workflow_check_refuses_a_bad_objection_policy(edits: list[tuple[str, str]], problem: str) -> None:
    text = (builtin_dir("workflows") / "wuhan@2024.yaml").read_text(encoding="utf-8")
    for old, new in edits:
        assert old in text
        text = text.replace(old, new, 1)
    with pytest.raises(WorkflowError) as refused:
        parse_workflow_text(text, "wuhan@2024.yaml")
    assert any(problem in p for p in refused.value.problems), refused.value.problems
