"""What the case machine moves (``Position``), and its answers to the machine's conditions.

The machine of a workflow version (``eightstep.workflow.machine.CaseMachine``) decides every move of a case:
advance, return, suspend, resume, withdraw. It is fired on a ``Position``: the case's stage and status, the
moment of the move and, for an advance, the guards of the stage. Each condition the machine asks is answered
here by name (``CONDITIONS``), as the list of what stands in the way (``Blocker``s): empty, the condition holds.
When the machine refuses, ``refusal`` says why with the same answers: for an advance every guard that fails (the
blockers a user acts on), for any move the first other condition that failed.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from eightstep.engine.blocker import Blocker, before_the_stage
from eightstep.errors import Remedy
from eightstep.i18n import N_, _
from eightstep.nouns import status_name
from eightstep.timeutil import as_utc, show
from eightstep.workflow.machine import (
    ACTIVE_CONDITION,
    ADVANCE,
    AFTER_SUSPENSION,
    RESUME,
    STATUS_CONDITION,
    STATUS_MOVES,
    SUSPEND,
    TIME_CONDITION,
    WITHDRAW,
    CaseMachine,
)
from eightstep.workflow.status import ACTIVE, SUSPENDED, WITHDRAWN

if TYPE_CHECKING:  # the guards need the workflow schema: a move that runs none imports neither
    from eightstep.engine.guards import GuardContext


@dataclass(slots=True)
class Position:
    """A case as the machine sees it. ``case`` is its row (or ORM object) as read: what the messages name."""

    case: Any
    move: str  # the trigger being fired
    at: datetime
    stage: str
    status: str
    guards: GuardContext | None = None  # an advance's: the guards of the stage, with the records they read
    _answers: dict[str, list[Blocker]] | None = None

    @classmethod
    def of(cls, case: Any, move: str, at: datetime, guards: GuardContext | None = None) -> Position:
        return cls(case, move, at, case.stage, case.status, guards)

    def problems(self, name: str) -> list[Blocker]:
        """What stands in the way of condition ``name`` (memoised: the machine and the explanation share it)."""
        answers = self._answers
        if answers is None:
            answers = self._answers = {}
        found = answers.get(name)
        if found is None:
            condition = CONDITIONS.get(name)
            found = answers[name] = condition(self) if condition is not None else self._guard(name)
        return found

    def allows(self, name: str) -> bool:
        return not self.problems(name)

    def _guard(self, name: str) -> list[Blocker]:
        assert self.guards is not None, f"the guard {name!r} is asked without the guards' records"
        return self.guards.run(name)

    def refusal(self, machine: CaseMachine) -> list[Blocker]:
        """Why the machine refused ``move``: the first condition that failed other than a guard, else every guard
        that failed (all the blockers of the stage)."""
        found: list[Blocker] = []
        for name in machine.conditions(self.move, self.case.stage):
            problems = self.problems(name)
            if problems and name in CONDITIONS:  # the machine's own, not a guard
                return problems
            found.extend(problems)
        return found


def status_blocker(case: Any) -> Blocker | None:
    """What the case's status says against leaving its stage (None: active)."""
    if case.status == SUSPENDED:
        return Blocker("status", _("the case is suspended since {date} ({reason}): resume it first").format(
            date=show(case.suspended_at), reason=case.status_reason), remedy=Remedy("case.resume", {}))
    if case.status == WITHDRAWN:
        return Blocker("status", _("the case was withdrawn ({reason})").format(reason=case.status_reason))
    return None


def _active(p: Position) -> list[Blocker]:
    if p.status == ACTIVE:
        return []
    if p.move == ADVANCE:
        blocker = status_blocker(p.case)
        return [blocker] if blocker else []
    return [Blocker("status", _("case {case} is {status}: resume it before returning it").format(
        case=p.case.id, status=p.status))]


def _in_stage(p: Position) -> list[Blocker]:
    if p.move == ADVANCE:  # the advance's blocker is the guards' (engine.blocker.before_the_stage)
        early = before_the_stage(p.case.stage_entered_at, p.at)
        return [early] if early is not None else []
    entered = as_utc(p.case.stage_entered_at)
    if p.at >= entered:
        return []
    message = _EARLY.get(p.move, _EARLY_RETURN)
    return [Blocker("time", _(message).format(at=show(p.at), entered=show(entered)))]


# What any other move dated before the case entered its stage is told (the messages of the old hand checks).
_EARLY_RETURN = N_("returning at {at} would be before the case entered its stage ({entered})")
_EARLY = {
    SUSPEND: N_("suspending at {at} would be before the case entered its stage ({entered})"),
    RESUME: N_("resuming at {at} would be before the case entered its stage ({entered})"),
    WITHDRAW: N_("withdrawing at {at} would be before the case entered its stage ({entered})"),
}


# Why a status move is refused, by move (the status said in the reader's language: ``nouns.status_name``).
_WRONG_STATUS = {
    SUSPEND: N_("case {case} is {status}: only an active case can be suspended"),
    RESUME: N_("case {case} is {status}: only a suspended case can be resumed"),
    WITHDRAW: N_("case {case} is {status}: it cannot be withdrawn again"),
}


def _status(p: Position) -> list[Blocker]:
    if p.status in STATUS_MOVES[p.move][0]:
        return []
    return [Blocker("status", _(_WRONG_STATUS[p.move]).format(case=p.case.id, status=status_name(p.status)))]


def _resumed_after(p: Position) -> list[Blocker]:
    since = p.case.suspended_at
    if since is None or p.at >= as_utc(since):
        return []
    return [Blocker("time", _("resuming at {at} is before the suspension ({since})").format(
        at=show(p.at), since=show(since)))]


CONDITIONS: dict[str, Callable[[Position], list[Blocker]]] = {
    ACTIVE_CONDITION: _active, TIME_CONDITION: _in_stage, STATUS_CONDITION: _status, AFTER_SUSPENSION: _resumed_after,
}
