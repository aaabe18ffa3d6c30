"""Tests for the shipped workflow files and for the problems reported on broken ones (file, line, hint)."""

from __future__ import annotations

import pickle
import re
from fractions import Fraction
from functools import cache
from pathlib import Path

import pytest

from eightstep.engine.guards import guards_of
from eightstep.errors import WorkflowError
from eightstep.resources import builtin_dir
from eightstep.workflow.checks import semantic_problems
from eightstep.workflow.loaded import Outline
from eightstep.workflow.loader import load_workflow_file
from eightstep.workflow.machine import ADVANCE, RESUME, SUSPEND, WITHDRAW, CaseMachine, mermaid, return_trigger
from eightstep.workflow.registry import WorkflowRegistry
from eightstep.workflow.schema import Workflow

SHIPPED = ("wuhan", "wuhan-2018", "guangzhou")
CANONICAL = ["consent", "survey", "agreement", "design_notice", "joint_review", "construction", "acceptance",
             "operation"]
ASCII_ID = re.compile(r"^[a-z][a-z0-9_]*$")


@cache
def shipped(workflow_id: str) -> Workflow:
    return load_workflow_file(builtin_dir("workflows") / f"{workflow_id}.yaml").definition


def wuhan_text() -> str:
    return (builtin_dir("workflows") / "wuhan.yaml").read_text(encoding="utf-8")


# --------------------------------------------------------------------------- shipped files


@pytest.mark.parametrize("workflow_id", SHIPPED)
def test_shipped_file_loads_and_passes_checks(workflow_id: str) -> None:
    path = builtin_dir("workflows") / f"{workflow_id}.yaml"
    loaded = load_workflow_file(path)
    assert loaded.id == workflow_id
    assert semantic_problems(loaded.definition) == []
    assert len(loaded.sha256) == 64
    assert WorkflowRegistry().get(workflow_id).sha256 == loaded.sha256
    assert sum(1 for s in loaded.definition.stages if s.final) == 1
    assert loaded.definition.stages[-1].final


def test_registry_knows_the_three_shipped_files() -> None:
    assert set(SHIPPED) <= set(WorkflowRegistry().paths())


@pytest.mark.parametrize(
    ("workflow_id", "stage_ids"),
    [
        pytest.param("wuhan", CANONICAL, id="wuhan-canonical-order"),
        pytest.param("wuhan-2018", ["survey", "consent", *CANONICAL[2:]], id="wuhan-2018-survey-first"),
        pytest.param("guangzhou", CANONICAL, id="guangzhou-canonical-order"),
    ],
)
def test_stage_order(workflow_id: str, stage_ids: list[str]) -> None:
    wf = shipped(workflow_id)
    assert wf.stage_ids() == stage_ids
    assert wf.initial == stage_ids[0]
    assert [wf.next_of(s) for s in stage_ids] == [*stage_ids[1:], None]


@pytest.mark.parametrize(
    ("workflow_id", "participation", "agreement", "base", "abstain"),
    [
        pytest.param("wuhan", (Fraction(2, 3), Fraction(2, 3)), (Fraction(3, 4), Fraction(3, 4)), "participants",
                     "participates", id="wuhan-2/3-take-part-3/4-agree"),
        pytest.param("wuhan-2018", None, (Fraction(2, 3), Fraction(2, 3)), "total", "participates",
                     id="wuhan-2018-2/3-of-total"),
        pytest.param("guangzhou", (Fraction(2, 3), Fraction(2, 3)), (Fraction(3, 4), Fraction(3, 4)),
                     "participants", "participates", id="guangzhou-civil-code"),
    ],
)
def test_consent_rule(workflow_id: str, participation: tuple[Fraction, Fraction] | None,
                      agreement: tuple[Fraction, Fraction], base: str, abstain: str) -> None:
    rules = {s.id: s.requires.consent for s in shipped(workflow_id).stages if s.requires.consent is not None}
    assert list(rules) == ["consent"]
    rule = rules["consent"]
    part = None if rule.participation is None else (rule.participation.area, rule.participation.headcount)
    assert part == participation
    assert (rule.agreement.area, rule.agreement.headcount) == agreement
    assert (rule.agreement_base, rule.abstain) == (base, abstain)


@pytest.mark.parametrize(
    ("workflow_id", "days", "calendar"),
    [
        pytest.param("wuhan", 10, "working", id="wuhan-10-working-days"),
        pytest.param("wuhan-2018", 5, "working", id="wuhan-2018-5-working-days"),
        pytest.param("guangzhou", 20, "calendar", id="guangzhou-20-calendar-days"),
    ],
)
def test_notice_period(workflow_id: str, days: int, calendar: str) -> None:
    stage = shipped(workflow_id).stage("design_notice")
    notice = stage.requires.notice
    assert notice is not None
    assert (notice.document, notice.days, notice.calendar) == ("notice_posting", days, calendar)
    assert stage.requires.no_open_objections is True
    assert "notice_posting" in stage.requires.documents


@pytest.mark.parametrize(
    ("workflow_id", "approvals"),
    [
        pytest.param("wuhan", ["joint_review"], id="wuhan-joint-review-only"),
        pytest.param("wuhan-2018", ["joint_review"], id="wuhan-2018-joint-review-only"),
        pytest.param("guangzhou", ["joint_review", "planning_permit"], id="guangzhou-planning-permit"),
    ],
)
def test_joint_review_approvals(workflow_id: str, approvals: list[str]) -> None:
    wf = shipped(workflow_id)
    assert wf.stage("joint_review").requires.approvals == approvals
    assert ("planning_permit" in wf.approvals) is ("planning_permit" in approvals)


@pytest.mark.parametrize(("workflow_id", "subsidy_fen"), [
    pytest.param("wuhan", 20_000_000, id="wuhan-200000-per-elevator"),
    pytest.param("wuhan-2018", 10_000_000, id="wuhan-2018-100000-per-elevator"),
    pytest.param("guangzhou", None, id="guangzhou-no-city-subsidy"),
])
def test_subsidy_rule_and_upkeep(workflow_id: str, subsidy_fen: int | None) -> None:
    wf = shipped(workflow_id)
    if subsidy_fen is None:
        assert wf.subsidy is None
    else:
        assert wf.subsidy is not None
        assert (wf.subsidy.method, wf.subsidy.amount, wf.subsidy.payee) == ("per_unit", subsidy_fen, "agent")
        assert wf.subsidy.paid_within.days == 90
    assert wf.upkeep is not None and wf.upkeep.emergency_number == "96333"
    assert (wf.upkeep.warranty_min.days, wf.upkeep.warranty_min.calendar) == (730, "calendar")
    assert not any(s.requires.payments for s in wf.stages)  # payment before a stage: a local choice, not shipped


@pytest.mark.parametrize("workflow_id", SHIPPED)
def test_only_written_real_name_objections_count(workflow_id: str) -> None:
    assert shipped(workflow_id).objections.only_written_real_name is True


# --------------------------------------------------------------------------- the machine from the outline


@pytest.mark.parametrize("workflow_id", SHIPPED)
def test_the_outline_graph_machine_answers_every_move_but_advance_as_the_workflow_machine(workflow_id: str) -> None:
    """suspend, resume, withdraw and return build their machine from the outline (plain data, kept in the snapshot
    cache): every trigger but advance, from every stage, has the same transition with the same conditions, and the
    same stages to return to, as the machine with the guards; an advance is refused on it."""
    loaded = load_workflow_file(builtin_dir("workflows") / f"{workflow_id}.yaml")
    full = CaseMachine(loaded.definition, guards_of)
    plain = CaseMachine.of_graph(pickle.loads(pickle.dumps(loaded)).outline.graph)
    stages = loaded.definition.stage_ids()
    triggers = [SUSPEND, RESUME, WITHDRAW, *(return_trigger(s) for s in stages)]
    assert [(t, s, plain.conditions(t, s)) for t in triggers for s in stages] == \
        [(t, s, full.conditions(t, s)) for t in triggers for s in stages]
    assert any(full.conditions(return_trigger(stages[0]), s) for s in stages)
    assert [plain.return_targets(s) for s in stages] == [full.return_targets(s) for s in stages]
    assert [plain.next_stage(s) for s in stages] == [full.next_stage(s) for s in stages]
    with pytest.raises(RuntimeError):
        plain.fire(ADVANCE, object())


def test_the_outline_keeps_the_documents_that_end_a_litigation() -> None:
    base = shipped("wuhan")
    policy = base.objections.model_copy(update={"litigation_ends": list(base.documents)[:2]})
    wf = base.model_copy(update={"objections": policy})
    ends = Outline.of(wf).litigation_ends
    assert ends == tuple((k, wf.documents[k].title, wf.documents[k].title_en) for k in list(wf.documents)[:2])
    assert len(ends) == 2 and all(title for _kind, title, _en in ends)


# --------------------------------------------------------------------------- mermaid


@pytest.mark.parametrize("workflow_id", SHIPPED)
def test_mermaid_has_every_stage_with_ascii_node_ids(workflow_id: str) -> None:
    wf = shipped(workflow_id)
    text = mermaid(wf)
    lines = text.splitlines()
    assert lines[0] == "stateDiagram-v2"
    declared = [m.group(1) for line in lines if (m := re.match(r'^\s*state ".*" as (\S+)$', line))]
    assert declared == wf.stage_ids()
    node_ids: list[str] = list(declared)
    for line in lines:
        if m := re.match(r"^\s*(\S+) --> (\S+?)(?::.*)?$", line):
            node_ids.extend(n for n in m.groups() if n != "[*]")
        if m := re.match(r"^\s*note (?:right|left) of (\S+)$", line):
            node_ids.append(m.group(1))
    assert set(node_ids) == set(wf.stage_ids())
    for node in node_ids:
        assert ASCII_ID.match(node), node
    assert f"[*] --> {wf.initial}" in text
    for stage_id, nxt in zip(wf.stage_ids(), wf.stage_ids()[1:], strict=False):
        assert f"{stage_id} --> {nxt}: advance" in text
    assert f"{wf.stage_ids()[-1]} --> [*]" in text
    for stage in wf.stages:
        assert stage.title in text


# --------------------------------------------------------------------------- broken files


def line_of(text: str, needle: str, nth: int = 1) -> int:
    """The 1-based line where the ``nth`` occurrence of ``needle`` starts."""
    at = -1
    for _ in range(nth):
        at = text.index(needle, at + 1)
    return text.count("\n", 0, at) + 1


def write_edited(tmp_path: Path, edits: list[tuple[str, str]], name: str = "wuhan.yaml") -> tuple[Path, str]:
    text = wuhan_text()
    for old, new in edits:
        assert text.count(old) == 1, f"edit marker not unique in wuhan.yaml: {old!r}"
        text = text.replace(old, new)
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path, text


def problems_of(path: Path) -> list[str]:
    with pytest.raises(WorkflowError) as info:
        load_workflow_file(path)
    problems = info.value.problems
    assert problems
    assert str(info.value) == "\n".join(problems)
    for problem in problems:
        assert problem.startswith(f"{path}:"), problem
    return problems


def assert_reported(problems: list[str], path: Path, line: int, phrases: tuple[str, ...]) -> None:
    prefix = f"{path}:{line}: "
    matching = [p for p in problems if p.startswith(prefix) and all(ph in p for ph in phrases)]
    assert matching, f"no problem at line {line} with {phrases}; got:\n" + "\n".join(problems)


# Each case: edits to the text of wuhan.yaml, the text whose line the problem must name (and which occurrence),
# and phrases the problem must contain.
TITLE_LINE = "title: 武汉市既有住宅加装电梯（2026年条例）"
AGREEMENT_OWNERS = "    responsible: owners\n"
STALL_120 = "    stall_limit: {days: 120,"  # in construction only
STALL_20 = "    stall_limit: {days: 20,"  # in design_notice only
OPERATION_RESPONSIBLE = "    responsible: use_unit\n"
RETURNS_LATER = (STALL_20, "    returns_to: [construction]\n" + STALL_20)
UNKNOWN_RESPONSIBLE = (OPERATION_RESPONSIBLE, "    responsible: builder\n")

BROKEN = [
    pytest.param([(TITLE_LINE, TITLE_LINE.replace("title", "titel"))], ("titel:", 1),
                 ("unknown key 'titel'", "did you mean 'title'?"), id="misspelled-top-level-key"),
    pytest.param([("stall_limit: {days: 10, calendar: working}", "stall_limt: {days: 10, calendar: working}")],
                 ("stall_limt:", 1), ("unknown key 'stall_limt'", "did you mean 'stall_limit'?"),
                 id="misspelled-stage-key"),
    pytest.param([("      no_open_objections: true", "      no_open_objection: true")], ("no_open_objection:", 1),
                 ("unknown key 'no_open_objection'", "did you mean 'no_open_objections'?"),
                 id="misspelled-requires-key"),
    pytest.param([("  - id: survey\n", "  - id: consent\n")], ("  - id: consent\n", 2),
                 ("duplicate stage id 'consent'",), id="duplicate-stage-id"),
    pytest.param([("      documents: [site_survey]", "      documents: [site_surveys]")], ("[site_surveys]", 1),
                 ("document kind 'site_surveys' is not defined under documents",), id="undefined-document-kind"),
    pytest.param([("notice: {document: notice_posting,", "notice: {document: notice_post,")],
                 ("document: notice_post,", 1), ("document kind 'notice_post' is not defined under documents",),
                 id="undefined-notice-document"),
    pytest.param([("      approvals: [feasibility]", "      approvals: [feasability]")], ("[feasability]", 1),
                 ("approval kind 'feasability' is not defined under approvals",), id="undefined-approval-kind"),
    pytest.param([UNKNOWN_RESPONSIBLE],
                 ("responsible: builder", 1), ("authority 'builder' is not defined under authorities",),
                 id="undefined-authority-of-stage"),
    pytest.param([("title_en: Site survey record, issuer: street}", "title_en: Site survey record, issuer: streets}")],
                 ("issuer: streets", 1), ("authority 'streets' is not defined under authorities",),
                 id="undefined-authority-of-document"),
    pytest.param([(AGREEMENT_OWNERS, AGREEMENT_OWNERS + "    next: inspection\n")], ("    next: inspection", 1),
                 ("stage 'inspection' is not defined under stages",), id="next-names-undefined-stage"),
    pytest.param([RETURNS_LATER],
                 ("returns_to: [construction]", 1),
                 ("can only return to an earlier stage; 'construction' is not one",), id="returns-to-later-stage"),
    pytest.param([(AGREEMENT_OWNERS, AGREEMENT_OWNERS + "    next: joint_review\n")], ("  - id: design_notice", 1),
                 ("stage 'design_notice' is unreachable",), id="unreachable-stage"),
    pytest.param([("    final: true\n", "")], ("  - id: operation", 1),
                 ("stage 'operation' cannot be left", "final: true"), id="last-stage-not-final"),
    pytest.param([(STALL_120, "    next: survey\n" + STALL_120)],
                 ("    next: survey", 1), ("loops back to 'survey'",), id="next-loop"),
    pytest.param([("agreement: {area: 3/4, headcount: 3/4}", "agreement: {area: 4/3, headcount: 3/4}")],
                 ("area: 4/3", 1), ("'4/3' is not between 0 (excluded) and 1",), id="ratio-above-one"),
    pytest.param([("agreement: {area: 3/4, headcount: 3/4}", "agreement: {area: three quarters, headcount: 3/4}")],
                 ("area: three quarters", 1), ("is not a ratio", "2/3"), id="ratio-not-a-number"),
    pytest.param([('version: "2026.3"', "version: 2026.3")], ("version: 2026.3", 1),
                 ("version", 'put it in quotes, e.g. "2026.3"'), id="version-bare-number"),
    pytest.param([('version: "2026.3"', "version: 2026.10")], ("version: 2026.10", 1),
                 ("version", 'put it in quotes, e.g. "2026.10"'), id="version-bare-number-keeps-trailing-zero"),
    pytest.param([('version: "2026.3"', "version: 2026")], ("version: 2026", 1),
                 ("version", 'put it in quotes, e.g. "2026"'), id="version-bare-integer"),
    pytest.param([("region: 湖北省武汉市\n", "region: 湖北省武汉市\nregion: 武汉\n")], ("region: 武汉\n", 1),
                 ('duplicate key "region"', "each key may appear once"), id="duplicate-top-level-key"),
    pytest.param([(STALL_120, "    responsible: street\n" + STALL_120)],
                 ("    responsible: street", 1), ('duplicate key "responsible"', "each key may appear once"),
                 id="duplicate-key-in-stage"),
    pytest.param([("    title: 签订加梯协议", "    title: 签订: 加梯协议")], ("    title: 签订: 加梯协议", 1),
                 ("YAML error", "mapping values are not allowed"), id="invalid-yaml-syntax"),
    pytest.param([("id: wuhan\n", "id: Wuhan\n")], ("id: Wuhan", 1), ("'Wuhan' is not a valid id",),
                 id="upper-case-workflow-id"),
    pytest.param([("  amount: 200000\n", "  amount: 200000.005\n")], ("amount: 200000.005", 1),
                 ("at most 2 decimals",), id="subsidy-amount-below-the-fen"),
    pytest.param([("  method: per_unit\n", "  method: share_of_cost\n")], ("  method: share_of_cost", 1),
                 ("subsidy method share_of_cost needs share",), id="subsidy-share-of-cost-without-share"),
    pytest.param([("  method: per_unit\n", "  method: per_unit\n  share: 1/2\n")], ("  share: 1/2", 1),
                 ("subsidy method per_unit does not use share",), id="subsidy-share-not-used"),
    pytest.param([("  method: per_unit\n", "  method: per_flat\n")], ("  method: per_flat", 1),
                 ("per_unit", "share_of_cost"), id="subsidy-unknown-method"),
    pytest.param([('  emergency_number: "96333"', '  emergency_number: "call 96333"')],
                 ('emergency_number: "call 96333"', 1), ("emergency_number",), id="emergency-number-not-a-number"),
]


@pytest.mark.parametrize(("edits", "where", "phrases"), BROKEN)
def test_broken_file_reports_file_line_and_hint(tmp_path: Path, edits: list[tuple[str, str]], where: tuple[str, int],
                                                 phrases: tuple[str, ...]) -> None:
    path, text = write_edited(tmp_path, edits)
    assert_reported(problems_of(path), path, line_of(text, *where), phrases)


def test_id_different_from_file_name(tmp_path: Path) -> None:
    path, text = write_edited(tmp_path, [], name="wuhan-copy.yaml")
    problems = problems_of(path)
    assert_reported(problems, path, line_of(text, "id: wuhan\n"),
                    ("id 'wuhan' differs from the file name 'wuhan-copy.yaml'",))


def test_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "nowhere.yaml"
    assert problems_of(path) == [f"{path}: no such file"]


# Several problems in one file: each (edit, where, phrases) must be reported, all in one WorkflowError.
SCHEMA_TITEL = ((TITLE_LINE, TITLE_LINE.replace("title", "titel")), ("titel:", 1), ("did you mean 'title'?",))
SCHEMA_VERSION = (('version: "2026.3"', "version: 2026.3"), ("version: 2026.3", 1), ("put it in quotes",))
SCHEMA_RATIO = (("agreement: {area: 3/4, headcount: 3/4}", "agreement: {area: 4/3, headcount: 3/4}"),
                ("area: 4/3", 1), ("'4/3' is not between",))
SCHEMA_STALL = (("stall_limit: {days: 10, calendar: working}", "stall_limt: {days: 10, calendar: working}"),
                ("stall_limt:", 1), ("did you mean 'stall_limit'?",))
REF_DOC = (("      documents: [site_survey]", "      documents: [site_surveys]"), ("[site_surveys]", 1),
           ("document kind 'site_surveys'",))
REF_APPROVAL = (("      approvals: [feasibility]", "      approvals: [feasability]"), ("[feasability]", 1),
                ("approval kind 'feasability'",))
REF_AUTHORITY = (UNKNOWN_RESPONSIBLE, ("responsible: builder", 1),
                 ("authority 'builder'",))
REF_RETURN = (RETURNS_LATER,
              ("returns_to: [construction]", 1), ("'construction' is not one",))
FLOW_UNREACHABLE = ((AGREEMENT_OWNERS, AGREEMENT_OWNERS + "    next: joint_review\n"), ("  - id: design_notice", 1),
                    ("stage 'design_notice' is unreachable",))


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param([SCHEMA_TITEL, SCHEMA_VERSION, SCHEMA_RATIO, SCHEMA_STALL], id="four-schema-problems"),
        pytest.param([REF_DOC, REF_APPROVAL, REF_AUTHORITY, REF_RETURN], id="four-reference-problems"),
        pytest.param([SCHEMA_TITEL, REF_DOC], id="schema-problem-and-reference-problem"),
        pytest.param([REF_DOC, FLOW_UNREACHABLE], id="reference-problem-and-unreachable-stage"),
    ],
)
def test_several_problems_are_all_reported_at_once(tmp_path: Path, parts: list[tuple]) -> None:
    path, text = write_edited(tmp_path, [edit for edit, _, _ in parts])
    problems = problems_of(path)
    for _, where, phrases in parts:
        assert_reported(problems, path, line_of(text, *where), phrases)


# A value the schema refuses does not stop the reference and reachability checks (issue 2): one run lists every
# problem, each with its line, each once.
VALUE_CALENDAR = (("stall_limit: {days: 15, calendar: working}", "stall_limit: {days: 15, calendar: workin}"),
                  ("calendar: workin", 1), ("stages[1].stall_limit.calendar", "'calendar' or 'working'"))
VALUE_DAYS = (("stall_limit: {days: 60, calendar: calendar}", "stall_limit: {days: -3, calendar: calendar}"),
              ("days: -3", 1), ("stages[0].stall_limit.days", "greater than 0"))
VALUE_FORMS_TYPE = (("    forms: [agreement]", "    forms: agreement"), ("forms: agreement", 1),
                    ("stages[2].forms", "valid list"))
REF_NOTICE = (("notice: {document: notice_posting,", "notice: {document: notice_post,"), ("document: notice_post,", 1),
              ("document kind 'notice_post' is not defined",))
REF_NEXT = ((STALL_120, "    next: inspection\n" + STALL_120), ("    next: inspection", 1),
            ("stage 'inspection' is not defined under stages",))


@pytest.mark.parametrize(
    "parts",
    [
        pytest.param([VALUE_CALENDAR, VALUE_DAYS, VALUE_FORMS_TYPE, SCHEMA_VERSION, SCHEMA_RATIO,
                      REF_DOC, REF_APPROVAL, REF_AUTHORITY, REF_NOTICE, REF_RETURN, FLOW_UNREACHABLE],
                     id="five-value-errors-and-six-reference-and-flow-problems"),
        pytest.param([VALUE_CALENDAR, REF_DOC], id="bad-calendar-and-undefined-document"),
        pytest.param([SCHEMA_TITEL, VALUE_DAYS, REF_APPROVAL, REF_NEXT],
                     id="unknown-key-value-error-and-references"),
    ],
)
def test_value_errors_do_not_hide_reference_problems(tmp_path: Path, parts: list[tuple]) -> None:
    path, text = write_edited(tmp_path, [edit for edit, _, _ in parts])
    problems = problems_of(path)
    for _, where, phrases in parts:
        assert_reported(problems, path, line_of(text, *where), phrases)
    # Each problem once, nothing else: the next stage after an undefined `next` is not reached either, so with
    # REF_NEXT the stages after construction are reported unreachable too.
    extra = 2 if REF_NEXT in parts else 0
    assert len(problems) == len(parts) + extra, "\n".join(problems)
    lines = [int(p[len(str(path)) + 1:].split(":", 1)[0]) for p in problems]
    assert lines == sorted(lines), "problems are listed in the order of the file"


@pytest.mark.parametrize(
    ("edits", "where", "phrases"),
    [
        pytest.param([(OPERATION_RESPONSIBLE, "    responsible: Use_Unit\n")], ("responsible: Use_Unit", 1),
                     ("'Use_Unit' is not a valid id",), id="invalid-id-is-not-also-undefined"),
        pytest.param([("    final: true\n", "    final: maybe\n")], ("final: maybe", 1),
                     ("stages[7].final", "valid boolean"), id="refused-final-is-not-also-cannot-be-left"),
        pytest.param([("  - id: agreement\n", "  - id: Agreement\n")], ("id: Agreement", 1),
                     ("'Agreement' is not a valid id",), id="invalid-stage-id-still-names-its-stage"),
    ],
)
def test_a_refused_value_is_reported_once(tmp_path: Path, edits: list[tuple[str, str]], where: tuple[str, int],
                                          phrases: tuple[str, ...]) -> None:
    path, text = write_edited(tmp_path, edits)
    problems = problems_of(path)
    assert_reported(problems, path, line_of(text, *where), phrases)
    assert len(problems) == 1, "\n".join(problems)


def test_an_invalid_stage_id_still_resolves_the_references_to_it(tmp_path: Path) -> None:
    path, text = write_edited(tmp_path, [("  - id: agreement\n", "  - id: Agreement\n"),
                                         (AGREEMENT_OWNERS, AGREEMENT_OWNERS + "    next: Design\n"),
                                         ("  - id: design_notice\n", "  - id: Design\n"),
                                         RETURNS_LATER])
    problems = problems_of(path)
    assert_reported(problems, path, line_of(text, "id: Agreement"), ("'Agreement' is not a valid id",))
    assert_reported(problems, path, line_of(text, "id: Design\n"), ("'Design' is not a valid id",))
    assert_reported(problems, path, line_of(text, "next: Design"), ("'Design' is not a valid id",))
    assert_reported(problems, path, line_of(text, "returns_to: [construction]"), ("'construction' is not one",))
    # `next: Design` reaches the stage called Design: nothing is unreachable.
    assert len(problems) == 4, "\n".join(problems)


def test_value_errors_and_the_file_name_are_reported_together(tmp_path: Path) -> None:
    path, text = write_edited(tmp_path, [VALUE_CALENDAR[0], REF_DOC[0]], name="wuhan-copy.yaml")
    problems = problems_of(path)
    assert_reported(problems, path, line_of(text, "calendar: workin"), ("'calendar' or 'working'",))
    assert_reported(problems, path, line_of(text, "[site_surveys]"), ("document kind 'site_surveys'",))
    assert_reported(problems, path, line_of(text, "id: wuhan\n"), ("differs from the file name",))
    assert len(problems) == 3


def test_a_stage_that_is_not_a_mapping_keeps_its_place(tmp_path: Path) -> None:
    path, text = write_edited(tmp_path, [("  - id: survey\n", "  - just a note\n  - id: survey\n"),
                                         REF_APPROVAL[0]])
    problems = problems_of(path)
    assert_reported(problems, path, line_of(text, "  - just a note"), ("stages[1]", "valid dictionary"))
    assert_reported(problems, path, line_of(text, "[feasability]"), ("approval kind 'feasability'",))
    assert len(problems) == 2, "\n".join(problems)


def test_workflow_check_lists_value_and_reference_problems_in_one_run(tmp_path: Path) -> None:
    from click.testing import CliRunner

    from eightstep.cli import main

    parts = [VALUE_CALENDAR, SCHEMA_VERSION, REF_DOC, REF_AUTHORITY, FLOW_UNREACHABLE]
    path, text = write_edited(tmp_path, [edit for edit, _, _ in parts])
    result = CliRunner().invoke(main, ["workflow", "check", str(path)])
    assert result.exit_code == 1
    lines = result.stderr.splitlines()
    assert lines[-1] == "1 of 1 file(s) have problems"
    assert len(lines) == len(parts) + 1, result.stderr
    for _, where, phrases in parts:
        assert_reported(lines, path, line_of(text, *where), phrases)
