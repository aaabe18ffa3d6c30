"""Semantic checks of a workflow: references, reachability, stages that cannot be left, duplicates.

They also run on a best-effort reading of a file that failed the schema (``loader``), so that one run reports
everything: there a value the schema refused may be None (or kept as written), and is skipped here; its problem
is already reported.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from eightstep.workflow.schema import MEDIATION_ORDER, Stage, Workflow

Loc = tuple[Any, ...]


def semantic_problems(wf: Workflow, template_names: set[str] | None = None) -> list[tuple[Loc, str]]:
    """Every problem found, each with the location of the offending key (for the line number)."""
    problems: list[tuple[Loc, str]] = []
    stages = list(wf.stages or [])
    ids = [s.id for s in stages]
    for stage_id, count in Counter(i for i in ids if isinstance(i, str)).items():
        if count > 1:
            at = [i for i, s in enumerate(ids) if s == stage_id][1]
            problems.append((("stages", at, "id"), f"duplicate stage id {stage_id!r}: each stage id once"))

    def ref(loc: Loc, value: object, pool: dict[str, Any] | list[str], what: str, section: str) -> None:
        if isinstance(value, str) and value not in pool:
            known = ", ".join(str(k) for k in pool if isinstance(k, str)) or "none defined"
            problems.append((loc, f"{what} {value!r} is not defined under {section} (defined: {known})"))

    if isinstance(wf.effective_from, date) and isinstance(wf.effective_until, date) \
            and wf.effective_until < wf.effective_from:
        problems.append((("effective_until",), f"effective_until {wf.effective_until} is before effective_from "
                         f"{wf.effective_from}: the rules would never be in force"))
    stage_ids = [i for i in ids if isinstance(i, str)]
    for doc_id, doc in wf.documents.items():
        ref(("documents", doc_id, "issuer"), doc.issuer, wf.authorities, "authority", "authorities")
    for appr_id, appr in wf.approvals.items():
        ref(("approvals", appr_id, "authority"), appr.authority, wf.authorities, "authority", "authorities")

    policy = wf.objections
    for key in ("resolution_requires", "litigation_ends"):
        for j, kind in enumerate(getattr(policy, key)):
            ref(("objections", key, j), kind, wf.documents, "document kind", "documents")
    steps = [s for s in policy.steps if isinstance(s, str)]
    if steps != sorted(steps, key=MEDIATION_ORDER.index) or len(set(steps)) != len(steps):
        problems.append((("objections", "steps"), "objections.steps must keep the order of the route, each step "
                         f"once: {' -> '.join(MEDIATION_ORDER)} (leave out the steps the procedure does not have)"))
    if not any(s.requires.notice is not None for s in stages):
        for i, stage in enumerate(stages):
            if stage.requires.no_open_complaints:
                problems.append((("stages", i, "requires", "no_open_complaints"), "no_open_complaints has no effect: "
                                 "a complaint is an objection lodged after the stage with the public notice, and no "
                                 "stage has a notice; use no_open_objections, or give the notice stage its notice"))
    if wf.upkeep is not None:
        ref(("upkeep", "maintenance_document"), wf.upkeep.maintenance_document, wf.documents, "document kind",
            "documents")
        ref(("upkeep", "inspection_document"), wf.upkeep.inspection_document, wf.documents, "document kind",
            "documents")
    sharing = wf.cost_sharing
    if sharing.method == "floor_coefficient":
        for floor in sharing.coefficients:
            if floor in sharing.exempt_floors:
                problems.append((("cost_sharing", "coefficients", floor), f"floor {floor} is exempt and also has a "
                                 "coefficient; remove one"))
    elif sharing.coefficients or sharing.exempt_floors:
        problems.append((("cost_sharing", "method"), f"coefficients and exempt_floors only apply to method "
                         f"floor_coefficient, not {sharing.method}"))

    for i, stage in enumerate(stages):
        base: Loc = ("stages", i)
        ref((*base, "responsible"), stage.responsible, wf.authorities, "authority", "authorities")
        for j, doc in enumerate(stage.requires.documents):
            ref((*base, "requires", "documents", j), doc, wf.documents, "document kind", "documents")
        for j, appr in enumerate(stage.requires.approvals):
            ref((*base, "requires", "approvals", j), appr, wf.approvals, "approval kind", "approvals")
        consent = stage.requires.consent
        if consent is not None and consent.also_required is not None:
            also = consent.also_required
            if not also.floors and also.marked is False:
                problems.append(((*base, "requires", "consent", "also_required"), "also_required names no owner: "
                                 "give floors: [1, 2] (the floors whose owners must agree) or marked: true (flats "
                                 "marked affected in the household list)"))
        for j, rule in enumerate(stage.requires.order):
            kinds = {**wf.documents, **wf.approvals}
            loc = (*base, "requires", "order", j)
            for key in ("earlier", "later"):
                ref((*loc, key), getattr(rule, key), kinds, "document or approval kind", "documents or approvals")
            if rule.earlier == rule.later and isinstance(rule.earlier, str):
                problems.append(((*loc, "later"), f"order rule {j + 1} of stage {_name(stage, i)!r} names "
                                 f"{rule.later!r} as both earlier and later"))
            if rule.ordered is False and rule.within is None:
                problems.append(((*loc, "ordered"), f"order rule {j + 1} of stage {_name(stage, i)!r} sets neither "
                                 "an order nor a time: keep ordered: true or give within: {days: N}"))
        if stage.requires.notice:
            ref((*base, "requires", "notice", "document"), stage.requires.notice.document, wf.documents,
                "document kind", "documents")
        if stage.next is not None:
            ref((*base, "next"), stage.next, stage_ids, "stage", "stages")
            if stage.final:
                problems.append(((*base, "final"), f"stage {_name(stage, i)!r} is final but names next: "
                                 f"{stage.next!r}; remove one of them"))
            if stage.next == stage.id:
                problems.append(((*base, "next"), f"stage {stage.id!r} names itself as next"))
        earlier = [s for s in ids[:i] if isinstance(s, str)]
        for j, target in enumerate(stage.returns_to or []):
            if isinstance(target, str) and target not in earlier:
                problems.append(((*base, "returns_to", j), f"stage {_name(stage, i)!r} can only return to an "
                                 f"earlier stage; {target!r} is not one (earlier: {', '.join(earlier) or 'none'})"))
        if template_names is not None:
            for j, form in enumerate(stage.forms):
                if isinstance(form, str) and form not in template_names:
                    known = ", ".join(sorted(template_names)) or "none"
                    problems.append(((*base, "forms", j), f"form {form!r} has no template (known: {known})"))
        if stage.final is False and stage.next is None and i == len(stages) - 1:
            problems.append(((*base, "id"), f"stage {_name(stage, i)!r} cannot be left: it is the last stage and "
                             "has no next; mark it final: true or name its next stage"))
    return problems + _flow_problems(stages)


def _name(stage: Stage, index: int) -> str:
    """The stage's id, or where it is when it has no usable one (a file read best-effort)."""
    return stage.id if isinstance(stage.id, str) else f"stages[{index}]"


def _flow_problems(stages: list[Stage]) -> list[tuple[Loc, str]]:
    """Unreachable stages and ``next`` chains that never reach a final stage, followed by position (so that a
    stage without a usable id, or a duplicate id, still has its place in the chain)."""
    problems: list[tuple[Loc, str]] = []
    if not stages:
        return problems
    if all(s.final is False for s in stages):  # None: a refused value, unknown
        problems.append((("stages",), "no stage is final: mark the last stage of the procedure final: true"))
    position: dict[str, int] = {}
    for i, s in enumerate(stages):
        if isinstance(s.id, str):
            position.setdefault(s.id, i)

    def after(i: int) -> int | None:
        stage = stages[i]
        if stage.final is not False:  # final, or unknown (a refused value): the chain is not followed on
            return None
        if isinstance(stage.next, str):
            return position.get(stage.next)  # an undefined next is reported as a reference
        return i + 1 if i + 1 < len(stages) else None

    reached: list[int] = []
    current: int | None = 0
    while current is not None and current not in reached:
        reached.append(current)
        current = after(current)
    if current is not None:
        closing = stages[reached[-1]]
        key = "next" if closing.next is not None else "id"
        chain = " -> ".join(_name(stages[i], i) for i in [*reached, current])
        problems.append((("stages", reached[-1], key), f"the advance chain loops back to "
                         f"{_name(stages[current], current)!r} ({chain}): a case there can never finish; point "
                         f"next of {_name(closing, reached[-1])!r} forward"))
    initial = _name(stages[0], 0)
    for i, stage in enumerate(stages):
        if i not in reached and isinstance(stage.id, str):
            problems.append((("stages", i, "id"), f"stage {stage.id!r} is unreachable from the initial stage "
                             f"{initial!r}: no advance leads to it; give an earlier stage next: {stage.id} or "
                             "remove it"))
    return problems
