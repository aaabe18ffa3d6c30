"""The small family of exceptions the library raises; the CLI turns each into a message and an exit code."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Remedy:
    """What clears a blocker or an error, as data: the library names the action and its arguments, and only the
    CLI spells it as a command (``doc.add`` with ``{"case": "RD-3-2", "kind": "owner_proof"}`` becomes
    ``eightstep doc add RD-3-2 owner_proof FILE --at DATE``). ``action`` is a stable id that scripts may read."""

    action: str
    args: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {"action": self.action, "args": dict(self.args)}


class EightstepError(Exception):
    """Base class: a failure the user can act on. ``exit_code`` is what the CLI exits with; ``remedy``, when
    there is one, says what to do next; ``field``, when the message is about one input, names the parameter
    (``"reason"``, ``"review_at"``): the message then reads ``reason: ...``, and the CLI names its own option
    instead (``--reason: ...``), so that no library message spells a CLI flag."""

    exit_code = 1

    def __init__(self, *args: object, remedy: Remedy | None = None, field: str | None = None) -> None:
        super().__init__(*args)
        self.remedy = remedy
        self.field = field

    @property
    def detail(self) -> str:
        """The message without the name of the field it is about."""
        return super().__str__()

    def __str__(self) -> str:
        return f"{self.field}: {self.detail}" if self.field else self.detail


class InputError(EightstepError):
    """Bad input from the user: a value, a file or a row. The message says what and where."""


class NotFoundError(EightstepError):
    """An unknown case, workflow, household, objection, ..."""


class WorkflowError(EightstepError):
    """A workflow file that does not pass validation. ``problems`` lists every one of them."""

    def __init__(self, problems: list[str]) -> None:
        self.problems = problems
        super().__init__("\n".join(problems))


class BlockedError(EightstepError):
    """A move refused by the guards of the current stage; ``blockers`` lists everything still missing."""

    exit_code = 3

    def __init__(self, message: str, blockers: list[Any], case: str | None = None) -> None:
        self.blockers = blockers
        self.case = case  # the case refused, which the blockers' remedies are about
        super().__init__(message)


class ConflictError(EightstepError):
    """Somebody else changed the case between our read and our write: nothing was written."""

    exit_code = 4
