"""Remedies spelled as commands: the library says what to do as data (``Remedy(action, args)``), the CLI says it
as the exact command to type (``eightstep doc add RD-3-2 owner_proof FILE --at DATE``).

Each action has a spelling: ``{name}`` is replaced by the argument of that name (quoted when it needs quotes)
or, when the remedy does not give it, by a placeholder the user fills in (``{file}`` -> ``FILE``). An action
without a spelling reads as its dotted path with the arguments as options, so no remedy is ever lost.
"""

from __future__ import annotations

import re
from typing import Any

from eightstep.errors import Remedy

PROGRAM = "eightstep"

# action -> the command after "eightstep " (or a whole command line when it starts with "!")
SPELLINGS: dict[str, str] = {
    "install.extra": '!pip install "eightstep[{extra}]"',
    "init": "init",
    "case.open": "case open {case} --complex {complex} --building {building} --unit {unit}",
    "case.check": "case check {case}",
    "case.advance": "case advance {case}",
    "case.show": "case show {case}",
    "case.resume": "case resume {case} --reason {reason}",
    "case.list": "case list",
    "household.import": "household import {case} {file}",
    "vote.import": "vote import {case} {file}",
    "vote.cast": "vote cast {case} {room} {choice}",
    "vote.tally": "vote tally {case}",
    "doc.add": "doc add {case} {kind} {file} --at {date}",
    "approval.add": "approval add {case} {kind} --authority {authority} --at {date}",
    "objection.mediate": "objection mediate {case} {id} --step {step} --note {note}",
    "objection.resolve": "objection resolve {case} {id} --outcome {outcome}",
    "objection.list": "objection list {case}",
    "funding.set": "funding set {case} --total {amount}",
    "funding.agree": "funding agree {case} {file}",
    "scheme.add": "scheme add {case} --company {company} --price {amount}",
    "scheme.compare": "scheme compare {case}",
    "scheme.choose": "scheme choose {case} {id} --reason {reason}",
    "meeting.add": "meeting add {case} --kind {kind} --at {date} --attendees {attendees} --decision {decision}",
    "forms.party": "forms party {case} {role} --name {name}",
    "forms.list": "forms list {case}",
    "role.add": "role add {case} {role} {name}",
    "workflow.show": "workflow show {workflow}",
    "workflow.list": "workflow list",
}

_FIELD = re.compile(r"\{(\w+)\}")
_PLAIN = re.compile(r"^[\w.,:/@+=\-\u3000-\u9fff\uff00-\uffef]+$")


def quote(value: Any) -> str:
    """A value as one shell word: as it is when plain, else in double quotes (works in cmd, PowerShell, sh)."""
    text = str(value)
    if text and _PLAIN.match(text):
        return text
    return '"' + text.replace('"', '\\"') + '"'


def spell(remedy: Remedy) -> str:
    """The command line that carries out ``remedy``."""
    template = SPELLINGS.get(remedy.action)
    args = {k: v for k, v in remedy.args.items() if v is not None}
    if template is None:
        words = [PROGRAM, *remedy.action.split(".")]
        case = args.pop("case", None)
        if case is not None:
            words.append(quote(case))
        for key, value in args.items():
            words += [f"--{key.replace('_', '-')}", quote(value)]
        return " ".join(words)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return quote(args[name]) if name in args else name.upper()

    line = _FIELD.sub(fill, template)
    return line[1:] if line.startswith("!") else f"{PROGRAM} {line}"


def as_data(remedy: Remedy | None) -> dict[str, Any] | None:
    """The remedy for --json: its action and arguments, and the command spelled out."""
    if remedy is None:
        return None
    return {**remedy.as_dict(), "command": spell(remedy)}
