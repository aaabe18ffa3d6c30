"""Semantic checks of a workflow: references, reachability, stages that cannot be left, duplicates.

They also run on a best-effort reading of a file that failed the schema (``loader``), so that one run reports
everything: there a value the schema refused may be None (or kept as written), and is skipped here; its problem
is already reported.
"""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any

from eightstep.i18n import _
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
            problems.append((("stages", at, "id"), _("duplicate stage id {stage_id!r}: each stage id once").format(
                                                       stage_id=stage_id)))

    def ref(loc: Loc, value: object, pool: dict[str, Any] | list[str], what: str, section: str) -> None:
        if isinstance(value, str) and value not in pool:
            known = ", ".join(str(k) for k in pool if isinstance(k, str)) or "none defined"
            problems.append((loc, _("{what} {value!r} is not defined under {section} (defined: {known})").format(
                                      what=what, value=value, section=section, known=known)))

    if isinstance(wf.effective_from, date) and isinstance(wf.effective_until, date) \
            and wf.effective_until < wf.effective_from:
        message = _("effective_until {until} is before effective_from {start}: the rules would never be in "
                    "force").format(until=wf.effective_until, start=wf.effective_from)
        problems.append((("effective_until",), message))
    stage_ids = [i for i in ids if isinstance(i, str)]
    for doc_id, doc in wf.documents.items():
        ref(("documents", doc_id, "issuer"), doc.issuer, wf.authorities, _("authority"), "authorities")
    for appr_id, appr in wf.approvals.items():
        ref(("approvals", appr_id, "authority"), appr.authority, wf.authorities, _("authority"), "authorities")

    policy = wf.objections
    for key in ("resolution_requires", "litigation_ends"):
        for j, kind in enumerate(getattr(policy, key)):
            ref(("objections", key, j), kind, wf.documents, _("document kind"), "documents")
    steps = [s for s in policy.steps if isinstance(s, str)]
    if steps != sorted(steps, key=MEDIATION_ORDER.index) or len(set(steps)) != len(steps):
        problems.append((("objections", "steps"), _("objections.steps must keep the order of the route, each step "
                                                    "once: {mediation_order} (leave out the steps the procedure "
                                                    "does not have)").format(
                                                      mediation_order=' -> '.join(MEDIATION_ORDER))))
    if not any(s.requires.notice is not None for s in stages):
        for i, stage in enumerate(stages):
            if stage.requires.no_open_complaints:
                message = _("no_open_complaints has no effect: a complaint is an objection lodged after the stage "
                            "with the public notice, and no stage has a notice; use no_open_objections, or give "
                            "the notice stage its notice")
                problems.append((("stages", i, "requires", "no_open_complaints"), message))
    if wf.upkeep is not None:
        ref(("upkeep", "maintenance_document"), wf.upkeep.maintenance_document, wf.documents, _("document kind"),
            "documents")
        ref(("upkeep", "inspection_document"), wf.upkeep.inspection_document, wf.documents, _("document kind"),
            "documents")
    problems.extend(_subsidy_problems(wf))
    sharing = wf.cost_sharing
    if sharing.method == "floor_coefficient":
        for floor in sharing.coefficients:
            if floor in sharing.exempt_floors:
                problems.append((("cost_sharing", "coefficients", floor), _("floor {floor} is exempt and also has "
                                                                            "a coefficient; remove one").format(
                                                                              floor=floor)))
    elif sharing.coefficients or sharing.exempt_floors:
        problems.append((("cost_sharing", "method"), _("coefficients and exempt_floors only apply to method "
                                                       "floor_coefficient, not {method}").format(
                                                         method=sharing.method)))

    for i, stage in enumerate(stages):
        base: Loc = ("stages", i)
        ref((*base, "responsible"), stage.responsible, wf.authorities, _("authority"), "authorities")
        for j, kind in enumerate(stage.requires.documents):
            ref((*base, "requires", "documents", j), kind, wf.documents, _("document kind"), "documents")
        for j, kind in enumerate(stage.requires.approvals):
            ref((*base, "requires", "approvals", j), kind, wf.approvals, _("approval kind"), "approvals")
        consent = stage.requires.consent
        if consent is not None and consent.also_required is not None:
            also = consent.also_required
            if not also.floors and also.marked is False:
                message = _("also_required names no owner: give floors: [1, 2] (the floors whose owners must agree) "
                            "or marked: true (flats marked affected in the household list)")
                problems.append(((*base, "requires", "consent", "also_required"), message))
        for j, rule in enumerate(stage.requires.order):
            kinds = {**wf.documents, **wf.approvals}
            loc = (*base, "requires", "order", j)
            for key in ("earlier", "later"):
                ref((*loc, key), getattr(rule, key), kinds, _("document or approval kind"), "documents or approvals")
            if rule.earlier == rule.later and isinstance(rule.earlier, str):
                problems.append(((*loc, "later"), _("order rule {number} of stage {stage!r} names {later!r} as both "
                                                    "earlier and later").format(
                                                      number=j + 1, stage=_name(stage, i), later=rule.later)))
            if rule.ordered is False and rule.within is None:
                message = _("order rule {number} of stage {stage!r} sets neither an order nor a time: keep "
                            "ordered: true or give within: {{days: N}}").format(number=j + 1, stage=_name(stage, i))
                problems.append(((*loc, "ordered"), message))
        if stage.requires.notice:
            ref((*base, "requires", "notice", "document"), stage.requires.notice.document, wf.documents,
                _("document kind"), "documents")
        if stage.next is not None:
            ref((*base, "next"), stage.next, stage_ids, _("stage"), "stages")
            if stage.final:
                problems.append(((*base, "final"), _("stage {stage!r} is final but names next: {next!r}; remove "
                                                     "one of them").format(
                                                       stage=_name(stage, i), next=stage.next)))
            if stage.next == stage.id:
                problems.append(((*base, "next"), _("stage {id!r} names itself as next").format(
                                                      id=stage.id)))
        earlier = [s for s in ids[:i] if isinstance(s, str)]
        for j, target in enumerate(stage.returns_to or []):
            if isinstance(target, str) and target not in earlier:
                message = _("stage {stage!r} can only return to an earlier stage; {target!r} is not one (earlier: "
                            "{earlier})").format(stage=_name(stage, i), target=target,
                                                 earlier=", ".join(earlier) or _("none"))
                problems.append(((*base, "returns_to", j), message))
        for j, item in enumerate(stage.materials):
            loc = (*base, "materials", j)
            if item.document is not None:
                ref((*loc, "document"), item.document, wf.documents, "document kind", "documents")
            elif item.approval is not None:
                ref((*loc, "approval"), item.approval, wf.approvals, "approval kind", "approvals")
            elif template_names is not None and item.form not in template_names:
                known = ", ".join(sorted(template_names)) or "none"
                problems.append(((*loc, "form"), _("form {form!r} has no template (known: {known})").format(
                    form=item.form, known=known)))
        if template_names is not None:
            for j, form in enumerate(stage.forms):
                if isinstance(form, str) and form not in template_names:
                    known = ", ".join(sorted(template_names)) or "none"
                    problems.append(((*base, "forms", j), _("form {form!r} has no template (known: {known})").format(
                                                              form=form, known=known)))
        if stage.final is False and stage.next is None and i == len(stages) - 1:
            problems.append(((*base, "id"), _("stage {stage!r} cannot be left: it is the last stage and has no "
                                              "next; mark it final: true or name its next stage").format(
                                                stage=_name(stage, i))))
    return problems + _flow_problems(stages)


def _subsidy_problems(wf: Workflow) -> list[tuple[Loc, str]]:
    """The subsidy rule names the figure its method needs, and no figure it does not use."""
    rule = wf.subsidy
    if rule is None or not isinstance(rule.method, str):
        return []
    if rule.method == "share_of_cost":
        needed, unused = "share", "amount"
    else:
        needed, unused = "amount", "share"
    problems: list[tuple[Loc, str]] = []
    if getattr(rule, needed) is None:
        problems.append((("subsidy", "method"), _("subsidy method {method} needs {field}: add it under subsidy")
                         .format(method=rule.method, field=needed)))
    if getattr(rule, unused) is not None:
        problems.append((("subsidy", unused), _("subsidy method {method} does not use {field}; remove it")
                         .format(method=rule.method, field=unused)))
    return problems


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
        problems.append((("stages",), _("no stage is final: mark the last stage of the procedure final: true")))
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
        message = _("the advance chain loops back to {stage!r} ({chain}): a case there can never finish; point "
                    "next of {closing!r} forward").format(stage=_name(stages[current], current), chain=chain,
                                                          closing=_name(closing, reached[-1]))
        problems.append((("stages", reached[-1], key), message))
    initial = _name(stages[0], 0)
    for i, stage in enumerate(stages):
        if i not in reached and isinstance(stage.id, str):
            problems.append((("stages", i, "id"), _("stage {id!r} is unreachable from the initial stage "
                                                    "{initial!r}: no advance leads to it; give an earlier stage "
                                                    "next: {id} or remove it").format(
                                                      id=stage.id, initial=initial)))
    return problems
