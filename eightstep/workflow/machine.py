"""The case machine of a workflow version: one ``transitions`` machine that owns the stage graph and the status.

States are the workflow's stages (the model's ``stage``); the transitions, with their triggers:

* ``advance``: from each stage that has a next stage, to it (a final stage has none);
* ``return_to_<stage>``: from each stage to each earlier stage it may be returned to (驳回);
* ``suspend``, ``resume``, ``withdraw``: from every stage to itself (internal: the stage stays), each moving the
  model's ``status`` along ``STATUS_MOVES``.

Every transition carries named conditions, checked in order on the model the trigger is fired on: ``status``
(the status the move starts from, ``STATUS_MOVES``) is the machine's own; the others the model answers with
``model.allows(name)`` (the engine's ``engine.position.Position``: the case is active, the move is not dated
before the case entered its stage, each guard of the stage). A trigger the stage has no transition for raises
``Unavailable``; one whose condition fails returns False and moves nothing, and ``conditions(trigger, stage)``
names what was asked, so that the model can say why. The machine is built once per workflow version
(``engine.checking.machine_of``) and never holds a model: rows are fired on and left unattached.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any, Protocol, cast

from transitions import EventData, Machine, MachineError

from eightstep.workflow.loaded import Graph, graph_of
from eightstep.workflow.status import ACTIVE, SUSPENDED, WITHDRAWN

ADVANCE = "advance"
SUSPEND, RESUME, WITHDRAW = "suspend", "resume", "withdraw"
RETURN_PREFIX = "return_to_"
STAGE_ATTRIBUTE = "stage"

if TYPE_CHECKING:
    from eightstep.workflow.schema import Stage, Workflow

# The status moves: trigger -> (the statuses it starts from, the status it leads to).
STATUS_MOVES: dict[str, tuple[tuple[str, ...], str]] = {
    SUSPEND: ((ACTIVE,), SUSPENDED),
    RESUME: ((SUSPENDED,), ACTIVE),
    WITHDRAW: ((ACTIVE, SUSPENDED), WITHDRAWN),
}

# The conditions every move carries besides the guards (which only an advance has), in the order checked.
ACTIVE_CONDITION, TIME_CONDITION, STATUS_CONDITION, AFTER_SUSPENSION = "active", "in_stage", "status", "resumed_after"
MOVE_CONDITIONS: dict[str, tuple[str, ...]] = {
    ADVANCE: (ACTIVE_CONDITION, TIME_CONDITION),
    RETURN_PREFIX: (ACTIVE_CONDITION, TIME_CONDITION),
    SUSPEND: (STATUS_CONDITION, TIME_CONDITION),
    RESUME: (STATUS_CONDITION, TIME_CONDITION, AFTER_SUSPENSION),
    WITHDRAW: (STATUS_CONDITION, TIME_CONDITION),
}


class Unavailable(Exception):
    """The stage has no transition for the trigger (a final stage's advance, a return to a stage not allowed)."""


def return_trigger(stage_id: str) -> str:
    return f"{RETURN_PREFIX}{stage_id}"


class _Model(Protocol):
    """What the machine's conditions ask of a model (transitions types ``EventData.model`` as ``object``)."""

    status: str

    def allows(self, name: str) -> bool: ...


def _model(event: EventData) -> _Model:
    return cast(_Model, event.model)


class _Named:
    """A condition of the machine, known by its name (``CaseMachine.conditions``)."""

    name: str


def _name_of(condition: object) -> str:
    """The name of one of the machine's conditions (every condition it holds is ``_Named``)."""
    assert isinstance(condition, _Named), condition
    return condition.name


class _Asks(_Named):
    """A named condition the model answers (``model.allows(name)``)."""

    def __init__(self, name: str) -> None:
        self.name = name

    def __call__(self, event: EventData) -> bool:
        return bool(_model(event).allows(self.name))


class _StatusFrom(_Named):
    """The machine's own condition of a status move: the model's status is one it starts from."""

    name = STATUS_CONDITION

    def __init__(self, sources: tuple[str, ...]) -> None:
        self.sources = sources

    def __call__(self, event: EventData) -> bool:
        return _model(event).status in self.sources


def _set_status(status: str) -> Callable[[EventData], None]:
    def after(event: EventData) -> None:
        _model(event).status = status
    return after


class CaseMachine:
    """The transitions of one workflow version (see the module doc); ``guards(stage)`` names the guard
    conditions an advance from that stage carries, after the move's own. ``CaseMachine.of_graph`` builds the same
    machine from the outline's plain graph without the guards, for the moves that run none (it fires no advance)."""

    workflow: Workflow  # the definition (not on a machine built from the graph)

    def __init__(self, wf: Workflow, guards: Callable[[Stage], Sequence[str]]) -> None:
        self.workflow = wf
        self._build(graph_of(wf), {stage.id: tuple(guards(stage)) for stage in wf.stages})

    @classmethod
    def of_graph(cls, graph: Graph) -> CaseMachine:
        """The machine of the stage graph ``graph`` (``workflow.loaded.Outline.graph``) without the guards: every
        return and status move is the one of the workflow's machine; an advance is refused (its guards are not
        here)."""
        machine = cls.__new__(cls)
        machine._build(graph, None)
        return machine

    def _build(self, graph: Graph, guards: dict[str, tuple[str, ...]] | None) -> None:
        self.guarded = guards is not None
        stages = [stage for stage, _next, _returns in graph]
        self.machine = Machine(model=None, states=stages, initial=stages[0], auto_transitions=False,
                               send_event=True, model_attribute=STAGE_ATTRIBUTE)
        for stage, nxt, returns in graph:
            if nxt is not None:
                self._add(ADVANCE, stage, nxt, [*MOVE_CONDITIONS[ADVANCE], *(guards or {}).get(stage, ())])
            for target in returns:
                self._add(return_trigger(target), stage, target, MOVE_CONDITIONS[RETURN_PREFIX])
        for trigger, (sources, status) in STATUS_MOVES.items():
            names = MOVE_CONDITIONS[trigger]
            conditions: list[Any] = [_StatusFrom(sources) if n == STATUS_CONDITION else _Asks(n) for n in names]
            self.machine.add_transition(trigger, [*stages], None, conditions=conditions, after=_set_status(status))
        # What the engine asks of every case (the stage an advance leads to, the conditions of a move), read off
        # the transitions once.
        self._next = {s: str(t.dest) for s in stages for t in self.machine.get_transitions(ADVANCE, source=s)}
        self._asks: dict[tuple[str, str], tuple[str, ...]] = {}

    def _add(self, trigger: str, source: str, dest: str, names: Sequence[str]) -> None:
        self.machine.add_transition(trigger, source, dest, conditions=[_Asks(n) for n in names])

    def fire(self, trigger: str, model: Any) -> bool:
        """Fire ``trigger`` on ``model`` (its ``stage`` and ``status`` move when it passes): True when it did,
        False when a condition refused; ``Unavailable`` when the model's stage has no such transition."""
        if trigger == ADVANCE and not self.guarded:
            raise RuntimeError("an advance is fired on the workflow's machine with its guards (engine.machine_of)")
        event = self.machine.events.get(trigger)
        if event is None:
            raise Unavailable(trigger)
        try:
            return bool(event.trigger(model))
        except MachineError:
            raise Unavailable(trigger) from None

    def conditions(self, trigger: str, stage: str) -> tuple[str, ...]:
        """The names of the conditions of ``trigger`` from ``stage``, in order (empty: no such transition)."""
        key = (trigger, stage)
        if key not in self._asks:
            found = self.machine.get_transitions(trigger, source=stage) if trigger in self.machine.events else []
            self._asks[key] = tuple(_name_of(c.func) for c in found[0].conditions) if found else ()
        return self._asks[key]

    def next_stage(self, stage: str) -> str | None:
        """Where ``advance`` leads from ``stage`` (None: a final stage)."""
        return self._next.get(stage)

    def return_targets(self, stage: str) -> list[str]:
        """The stages a case in ``stage`` may be returned to, in workflow order."""
        found = {str(t.dest) for event in self.machine.events.values() if event.name.startswith(RETURN_PREFIX)
                 for t in event.transitions.get(stage, [])}
        return [s for s in self.machine.states if s in found]

    def final_stages(self) -> list[str]:
        return [s for s in self.machine.states if self.next_stage(s) is None]


def mermaid(wf: Workflow) -> str:
    """A Mermaid state diagram of the workflow's case machine: ASCII ids, Chinese and English titles in the
    labels."""
    machine = CaseMachine(wf, lambda stage: ())
    lines = ["stateDiagram-v2", f"    %% {wf.id} {wf.version}: {wf.title}"]
    for i, stage in enumerate(wf.stages, 1):
        lines.append(f'    state "S{i} {stage.title}<br/>{stage.title_en}" as {stage.id}')
    lines.append(f"    [*] --> {wf.initial}")
    for stage in wf.stages:
        nxt = machine.next_stage(stage.id)
        if nxt is not None:
            lines.append(f"    {stage.id} --> {nxt}: advance")
        else:
            lines.append(f"    {stage.id} --> [*]")
    # Returns (驳回) are drawn to the stage just before; a note says when any earlier stage is allowed too.
    open_returns = []
    for stage in wf.stages:
        targets = machine.return_targets(stage.id)
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
