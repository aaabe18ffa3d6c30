"""One ``transitions`` machine per workflow version; rows are driven without being attached to it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from transitions import Machine

from eightstep.workflow.schema import Workflow

ADVANCE = "advance"
STAGE_ATTRIBUTE = "stage"


def return_trigger(stage_id: str) -> str:
    return f"return_to_{stage_id}"


def build_machine(wf: Workflow, condition: Callable[[Any], bool]) -> Machine:
    """The stage machine of ``wf``: ``advance`` guarded by ``condition``, ``return_to_<stage>`` unguarded.

    ``condition`` receives the transitions EventData; the engine passes the guard context as a keyword
    argument of the trigger, so the same guards serve ``check`` (all blockers) and the machine (yes/no).
    """
    machine = Machine(
        model=None,
        states=wf.stage_ids(),
        initial=wf.initial,
        auto_transitions=False,
        send_event=True,
        model_attribute=STAGE_ATTRIBUTE,
    )
    for stage in wf.stages:
        nxt = wf.next_of(stage.id)
        if nxt is not None:
            machine.add_transition(ADVANCE, stage.id, nxt, conditions=[condition])
        for target in wf.return_targets(stage.id):
            machine.add_transition(return_trigger(target), stage.id, target)
    return machine


def mermaid(wf: Workflow) -> str:
    """A Mermaid state diagram: ASCII ids, Chinese and English titles in the labels."""
    lines = ["stateDiagram-v2", f"    %% {wf.id} {wf.version}: {wf.title}"]
    for i, stage in enumerate(wf.stages, 1):
        lines.append(f'    state "S{i} {stage.title}<br/>{stage.title_en}" as {stage.id}')
    lines.append(f"    [*] --> {wf.initial}")
    for stage in wf.stages:
        nxt = wf.next_of(stage.id)
        if nxt is not None:
            lines.append(f"    {stage.id} --> {nxt}: advance")
        if stage.final:
            lines.append(f"    {stage.id} --> [*]")
    # Returns (驳回) are drawn to the stage just before; a note says when any earlier stage is allowed too.
    open_returns = []
    for stage in wf.stages:
        targets = wf.return_targets(stage.id)
        if targets:
            lines.append(f"    {stage.id} --> {targets[-1]}: return")
        if stage.returns_to is None and len(targets) > 1:
            open_returns.append(stage.id)
        elif len(targets) > 1:
            lines.extend(f"    {stage.id} --> {t}: return" for t in targets[:-1])
    if open_returns:
        lines.append(f"    note right of {open_returns[-1]}")
        lines.append(f"        return may go to any earlier stage from: {', '.join(open_returns)}")
        lines.append("    end note")
    return "\n".join(lines) + "\n"
