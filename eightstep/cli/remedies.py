"""Remedies spelled as commands: the library says what to do as data (``Remedy(action, args)``), the CLI says it
as the exact command to type (``eightstep doc add RD-3-2 owner_proof FILE --at DATE``).

Each action has a spelling: ``{name}`` is replaced by the argument of that name (quoted when it needs quotes)
or, when the remedy does not give it, by a placeholder the user fills in (``{file}`` -> ``FILE``). An action
without a spelling reads as its dotted path with the arguments as options, so no remedy is ever lost.
"""

from __future__ import annotations

import re
from typing import Any

import click

from eightstep.errors import Remedy
from eightstep.i18n import _, ngettext

PROGRAM = "eightstep"

# action -> the command after "eightstep " (or a whole command line when it starts with "!")
SPELLINGS: dict[str, str] = {
    "install.extra": '!pip install "eightstep[{extra}]"',
    "init": "init",
    "case.open": "case open {case} --complex {complex} --building {building} --unit {unit}",
    "case.check": "case check {case}",
    "case.advance": "case advance {case} --at {at}",
    "case.show": "case show {case}",
    "case.resume": "case resume {case} --reason {reason}",
    "case.list": "case list",
    "case.return": "case return {case} --to {to} --reason {reason}",
    "household.list": "household list {case}",
    "household.import": "household import {case} {file}",
    "household.replace": "household import {case} {file} --replace",
    "vote.import": "vote import {case} {file}",
    "vote.cast": "vote cast {case} {room} {choice}",
    "vote.tally": "vote tally {case}",
    "doc.add": "doc add {case} {kind} {file} --at {date}",
    "approval.add": "approval add {case} {kind} --authority {authority} --at {date}",
    "objection.mediate": "objection mediate {case} {id} --step {step} --note {note}",
    "objection.resolve": "objection resolve {case} {id} --outcome {outcome}",
    "objection.add": "objection add {case} --room {room} --grounds {grounds}",
    "objection.list": "objection list {case}",
    "funding.set": "funding set {case} --total {amount}",
    "funding.agree": "funding agree {case} {file}",
    "funding.subsidy": "funding set {case} --subsidy {amount}",
    "funding.subsidy_amend": "funding set {case} --subsidy {amount} --amend {reason}",
    "funding.pay": "funding pay {case} {room} {amount}",
    "funding.certificate": "funding certificate {case} {room}",
    "subsidy.apply": "subsidy apply {case} --to {office} --account {account}",
    "subsidy.pay": "subsidy pay {case} {amount} --payer {payer} --account {account}",
    "scheme.add": "scheme add {case} --company {company} --price {amount}",
    "scheme.compare": "scheme compare {case}",
    "scheme.choose": "scheme choose {case} {id} --reason {reason}",
    "meeting.add": "meeting add {case} --kind {kind} --at {date} --attendees {attendees} --decision {decision}",
    "forms.party": "forms party {case} {role} --name {name}",
    "forms.list": "forms list {case}",
    "forms.render": "forms render {case} {form}",
    "role.add": "role add {case} {role} {name}",
    "role.contact": "role contact {case} {name} --{field} {value}",
    "role.rota": "role rota {case} --every {every} --from {date}",
    "workflow.show": "workflow show {workflow}",
    "workflow.list": "workflow list",
}

# Where one step is usually preceded by another, both are shown (the first is what the remedy's action needs).
BEFORE: dict[str, str] = {
    "objection.resolve": "objection.mediate",
    "scheme.choose": "scheme.add",
}

_FIELD = re.compile(r"\{(\w+)\}")
_PLAIN = re.compile(r"^[\w.,:/@+=\-\u3000-\u9fff\uff00-\uffef]+$")


def quote(value: Any) -> str:
    """A value as one shell word: as it is when plain, else in double quotes (works in cmd, PowerShell, sh)."""
    text = str(value)
    if text and _PLAIN.match(text):
        return text
    return '"' + text.replace('"', '\\"') + '"'


def spell(remedy: Remedy, case: str | None = None) -> str:
    """The command line that carries out ``remedy`` (``case``: the case it is about, when its args lack it)."""
    args = {k: v for k, v in remedy.args.items() if v is not None}
    if case is not None:
        args.setdefault("case", case)
    template = SPELLINGS.get(remedy.action)
    if template is None:
        words = [PROGRAM, *remedy.action.split(".")]
        case_arg = args.pop("case", None)
        if case_arg is not None:
            words.append(quote(case_arg))
        for key, value in args.items():
            words += [f"--{key.replace('_', '-')}", quote(value)]
        return " ".join(words)

    def fill(match: re.Match[str]) -> str:
        name = match.group(1)
        return quote(args[name]) if name in args else name.upper()

    # an argument the spelling does not mention is left out; a placeholder the remedy does not fill is in capitals
    line = _FIELD.sub(fill, template)
    return line[1:] if line.startswith("!") else f"{PROGRAM} {line}"


def spell_all(remedy: Remedy, case: str | None = None) -> list[str]:
    """The commands to show for ``remedy``: the step usually taken first (if any), then the remedy's own."""
    first = BEFORE.get(remedy.action)
    steps = [Remedy(first, remedy.args)] if first else []
    return [spell(step, case) for step in [*steps, remedy]]


def as_data(remedy: Remedy | None, case: str | None = None) -> dict[str, Any] | None:
    """The remedy for --json: its action and arguments (with the case), the command spelled out, and ``steps``:
    the commands to run in order (the usual prior step first, where there is one; the command last)."""
    if remedy is None:
        return None
    args = dict(remedy.args)
    if case is not None:
        args.setdefault("case", case)
    return {"action": remedy.action, "args": args, "command": spell(remedy, case), "steps": spell_all(remedy, case)}


def blocker_data(blocker: Any, case: str | None) -> dict[str, Any]:
    """A blocker for --json, its remedy completed with the case and the command."""
    data = blocker.as_dict()
    if blocker.remedy is not None:
        data["remedy"] = as_data(blocker.remedy, case)
    return data


def type_label(kind: str) -> str:
    """The blocker type as shown to people (the JSON keeps the type id)."""
    labels = {"document": _("document"), "approval": _("approval"), "consent": _("consent"),
              "notice": _("notice"), "objection": _("objection"), "scheme": _("scheme"),
              "meeting": _("meeting"), "status": _("status"), "time": _("time"),
              "permission": _("permission"), "order": _("procedure"), "payment": _("payment"),
              "final": _("final stage")}
    return labels.get(kind, kind)


def print_needs(needs: Any, *, err: bool = False, indent: str = "  ") -> None:
    """What forms lack (paperwork's ``Need``: message and remedy), each with the command that fills it."""
    for need in needs:
        click.echo(f"{indent}- {need.message}", err=err)
        for command in spell_all(need.remedy) if need.remedy is not None else []:
            click.echo(f"{indent}  → {command}", err=err)


def needs_data(needs: Any, case: str | None) -> list[dict[str, Any]]:
    """Needs for --json: the message and the remedy (action, args, command)."""
    return [{"message": n.message, "remedy": as_data(n.remedy, case)} for n in needs]


def print_blockers(blockers: Any, case: str | None, *, err: bool = False, indent: str = "  ") -> None:
    """Each blocker on a line, and under it the command that clears it."""
    items = [(b, spell_all(b.remedy, case) if b.remedy is not None else []) for b in blockers]
    for i, (blocker, commands) in enumerate(items):
        click.echo(f"{indent}[{type_label(blocker.type)}] {blocker.message}", err=err)
        if i + 1 < len(items) and commands and items[i + 1][1] == commands:
            continue  # the next blocker has the same remedy (two shortfalls of one vote): show it once, after both
        for command in commands:
            click.echo(f"{indent}  → {command}", err=err)


def check_data(result: Any) -> dict[str, Any]:
    """``case check --json``: the engine's answer, each remedy completed with the case and its command."""
    data = result.as_dict()
    data["case"] = result.case_id
    data["blockers"] = [blocker_data(b, result.case_id) for b in result.blockers]
    return data


def print_check(result: Any) -> None:
    """``case check`` (and what the new stage needs after ``case advance``): ready, complete or the blockers."""
    head = f"{result.case_id}: {result.stage} {result.stage_title}"
    if result.ready:
        click.echo(_("{head}: ready to advance to {next}").format(head=head, next=result.next_stage))
    elif result.complete:
        click.echo(_("{head}: complete (the final stage, nothing missing)").format(head=head))
    else:
        click.echo(ngettext("{head}: blocked by {count}", "{head}: blocked by {count}", len(result.blockers))
                   .format(head=head, count=len(result.blockers)))
        print_blockers(result.blockers, result.case_id)
