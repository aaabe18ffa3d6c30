"""Semantic checks of a schema-valid workflow: references, reachability, stages that cannot be left."""

from __future__ import annotations

from collections import Counter
from typing import Any

from eightstep.workflow.schema import Workflow

Loc = tuple[Any, ...]


def semantic_problems(wf: Workflow, template_names: set[str] | None = None) -> list[tuple[Loc, str]]:
    """Every problem found, each with the location of the offending key (for the line number)."""
    problems: list[tuple[Loc, str]] = []
    ids = wf.stage_ids()
    for stage_id, count in Counter(ids).items():
        if count > 1:
            at = [i for i, s in enumerate(ids) if s == stage_id][1]
            problems.append((("stages", at, "id"), f"duplicate stage id {stage_id!r}: each stage id once"))

    def ref(loc: Loc, value: str, pool: dict[str, Any] | list[str], what: str, section: str) -> None:
        if value not in pool:
            known = ", ".join(pool) or "none defined"
            problems.append((loc, f"{what} {value!r} is not defined under {section} (defined: {known})"))

    for doc_id, doc in wf.documents.items():
        ref(("documents", doc_id, "issuer"), doc.issuer, wf.authorities, "authority", "authorities")
    for appr_id, appr in wf.approvals.items():
        ref(("approvals", appr_id, "authority"), appr.authority, wf.authorities, "authority", "authorities")

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

    for i, stage in enumerate(wf.stages):
        base: Loc = ("stages", i)
        ref((*base, "responsible"), stage.responsible, wf.authorities, "authority", "authorities")
        for j, doc in enumerate(stage.requires.documents):
            ref((*base, "requires", "documents", j), doc, wf.documents, "document kind", "documents")
        for j, appr in enumerate(stage.requires.approvals):
            ref((*base, "requires", "approvals", j), appr, wf.approvals, "approval kind", "approvals")
        if stage.requires.notice:
            ref((*base, "requires", "notice", "document"), stage.requires.notice.document, wf.documents,
                "document kind", "documents")
        if stage.next is not None:
            ref((*base, "next"), stage.next, ids, "stage", "stages")
            if stage.final:
                problems.append(((*base, "final"), f"stage {stage.id!r} is final but names next: "
                                 f"{stage.next!r}; remove one of them"))
            if stage.next == stage.id:
                problems.append(((*base, "next"), f"stage {stage.id!r} names itself as next"))
        for j, target in enumerate(stage.returns_to or []):
            if target not in ids[:i]:
                problems.append(((*base, "returns_to", j), f"stage {stage.id!r} can only return to an "
                                 f"earlier stage; {target!r} is not one (earlier: {', '.join(ids[:i]) or 'none'})"))
        if template_names is not None:
            for j, form in enumerate(stage.forms):
                if form not in template_names:
                    known = ", ".join(sorted(template_names)) or "none"
                    problems.append(((*base, "forms", j), f"form {form!r} has no template (known: {known})"))
        if not stage.final and stage.next is None and i == len(wf.stages) - 1:
            problems.append(((*base, "id"), f"stage {stage.id!r} cannot be left: it is the last stage and has "
                             "no next; mark it final: true or name its next stage"))
    return problems + _flow_problems(wf)


def _flow_problems(wf: Workflow) -> list[tuple[Loc, str]]:
    """Unreachable stages and ``next`` chains that never reach a final stage (checked once refs are sound)."""
    problems: list[tuple[Loc, str]] = []
    index = {s.id: i for i, s in enumerate(wf.stages)}
    if not any(s.final for s in wf.stages):
        problems.append((("stages",), "no stage is final: mark the last stage of the procedure final: true"))
    reached: list[str] = []
    current: str | None = wf.initial
    while current is not None and current in index and current not in reached:
        reached.append(current)
        current = wf.next_of(current)
    if current is not None and current in reached:
        closing = wf.stages[index[reached[-1]]]
        key = "next" if closing.next is not None else "id"
        problems.append((("stages", index[closing.id], key), f"the advance chain loops back to {current!r} "
                         f"({' -> '.join([*reached, current])}): a case there can never finish; point next of "
                         f"{closing.id!r} forward"))
    for stage in wf.stages:
        if stage.id not in reached:
            problems.append((("stages", index[stage.id], "id"), f"stage {stage.id!r} is unreachable from the "
                             f"initial stage {wf.initial!r}: no advance leads to it; give an earlier stage "
                             f"next: {stage.id} or remove it"))
    return problems
