"""Masking free text that leaves the office: objection grounds, suspension reasons and notes may name owners or
hold their phone or ID numbers. Outputs meant for others (the audit's CSV and JSON, the report's HTML page) pass
their texts through a :class:`Redactor`; the terminal, the officer's own screen, and the window's own papers
(the forms) do not.

What is masked: the names, phone and ID numbers that the case's own records hold (owners, objectors, parties,
roles: the people a text about this case is likely to name), then anything shaped like a mobile or landline
number, a resident ID number or a long run of digits. A name keeps its first character (李**), a number its
first and last digits.

Only texts that can hold what a person typed are masked. A finding or blocker whose type is in
``GENERATED_FINDINGS`` or ``GENERATED_BLOCKERS`` has a message built by eightstep from workflow data (titles,
authorities), dates and counts only: it is left as it is, and its case's names are not even read. Every other
type (objections, suspensions, consent shortfalls naming owners, payments naming owners, insurers, any type
added later) is masked: a new type is masked until it is added to those sets.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from eightstep.store import tables
from eightstep.store.workspace import Workspace

if TYPE_CHECKING:
    from eightstep.audit.report import Overview
    from eightstep.audit.stalled import Finding
    from eightstep.engine.guards import Blocker

_NUMBERS = re.compile("|".join((  # one pattern, compiled once; at each place the first alternative that matches
    r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])",  # resident ID number
    r"(?<!\d)(?:\+?86[\s-]?)?1[3-9]\d(?:[\s-]?\d{4}){2}(?!\d)",  # mobile
    r"(?<!\d)\(?0\d{2,3}\)?[\s-]?\d{7,8}(?!\d)",  # landline with area code
    r"(?<!\d)\d{7,}(?!\d)",  # any other long number
)))
# Types whose messages eightstep builds from workflow data, dates and counts only (nothing a person typed).
GENERATED_FINDINGS = frozenset(("stage_overdue", "maintenance_overdue", "inspection_due", "inspection_overdue",
                                "subsidy_unpaid", "warranty_ending"))
GENERATED_BLOCKERS = frozenset(("document", "approval", "notice", "scheme", "meeting", "time", "order", "final"))
_MIN_NAME = 2  # a one-character "name" would mask ordinary words


def _mask_digits(match: re.Match[str]) -> str:
    text = match.group(0)
    digits = [i for i, ch in enumerate(text) if ch.isdigit()]
    keep = set(digits[:3] + digits[-2:]) if len(digits) > 6 else set()
    return "".join(ch if (i in keep or not ch.isdigit()) else "*" for i, ch in enumerate(text))


def mask_name(name: str) -> str:
    return name[0] + "*" * (len(name) - 1)


class Redactor:
    """Masks personal data in texts about given cases (see the module's docstring)."""

    def __init__(self, known: dict[str, set[str]]) -> None:
        self._known = {case: sorted((k for k in names if len(k) >= _MIN_NAME), key=len, reverse=True)
                       for case, names in known.items()}

    @classmethod
    def for_cases(cls, ws: Workspace, case_ids: Iterable[str]) -> Redactor:
        """The names and numbers on record in ``case_ids`` (a few queries, whatever the number of cases)."""
        wanted = sorted(set(case_ids))
        known: dict[str, set[str]] = defaultdict(set)
        sources = ((tables.households, ("owner", "phone")), (tables.objections, ("objector",)),
                   (tables.case_people, ("name", "phone", "id_number")), (tables.case_roles, ("name",)))
        if not wanted:
            return cls({})
        with ws.engine.connect() as conn:
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                for table, columns in sources:
                    query = select(table.c.case_id, *(table.c[c] for c in columns)).where(table.c.case_id.in_(chunk))
                    for row in conn.execute(query):
                        known[row[0]].update(v for v in row[1:] if v)
        return cls(dict(known))

    def text(self, case_id: str | None, text: str | None) -> str | None:
        """``text`` with the case's names and numbers, and anything shaped like a number of a person, masked."""
        if not text:
            return text
        for value in self._known.get(case_id or "", ()):
            if value in text:
                text = text.replace(value, mask_name(value) if not value[:1].isdigit() else "*" * len(value))
        return _NUMBERS.sub(_mask_digits, text)

    def blockers(self, case_id: str, blockers: tuple[Blocker, ...]) -> tuple[Blocker, ...]:
        """``blockers`` with the messages that can hold typed text masked (the same tuple if none can)."""
        if all(b.type in GENERATED_BLOCKERS for b in blockers):
            return blockers
        return tuple(b if b.type in GENERATED_BLOCKERS else replace(b, message=self.text(case_id, b.message) or "")
                     for b in blockers)

    def finding(self, f: Finding) -> Finding:
        """``f`` with its message (unless generated) and its blockers masked; ``f`` itself when nothing can hold
        typed text."""
        blockers = self.blockers(f.case, f.blockers)
        if f.type in GENERATED_FINDINGS:
            return f if blockers is f.blockers else replace(f, blockers=blockers)
        return replace(f, message=self.text(f.case, f.message) or "", blockers=blockers)


    def item(self, item: dict[str, Any]) -> dict[str, Any]:
        """``finding`` on a finding's JSON object (``Finding.as_dict``), in place; its blockers' list is replaced
        (not changed: findings of one case share it) when one of them is masked."""
        case, blockers = item["case"], item["blockers"]
        if any(b["type"] not in GENERATED_BLOCKERS for b in blockers):
            item["blockers"] = [b if b["type"] in GENERATED_BLOCKERS
                                else {**b, "message": self.text(case, b["message"]) or ""} for b in blockers]
        if item["type"] not in GENERATED_FINDINGS:
            item["message"] = self.text(case, item["message"]) or ""
        return item


def typed(f: Finding) -> bool:
    """Whether ``f`` has a text that can hold what a person typed (so its case's names are needed)."""
    return f.type not in GENERATED_FINDINGS or any(b.type not in GENERATED_BLOCKERS for b in f.blockers)


def redact_findings(ws: Workspace, findings: list[Finding]) -> list[Finding]:
    """The audit's findings with their messages and blockers masked, for the CSV and JSON outputs."""
    return list(iter_redacted(ws, findings))


def redact_chunk(ws: Workspace, findings: Sequence[Finding]) -> list[Finding]:
    """``findings`` masked; the names on record are read only for the cases of those that hold typed text."""
    redactor = Redactor.for_cases(ws, (f.case for f in findings if typed(f)))
    return [redactor.finding(f) for f in findings]


def redact_items(ws: Workspace, items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``redact_chunk`` on findings' JSON objects (``stalled.stream_json``), in place."""
    redactor = Redactor.for_cases(ws, (i["case"] for i in items if i["type"] not in GENERATED_FINDINGS
                                       or any(b["type"] not in GENERATED_BLOCKERS for b in i["blockers"])))
    return [redactor.item(i) for i in items]


def iter_redacted(ws: Workspace, findings: Sequence[Finding], chunk: int = 500) -> Iterator[Finding]:
    """``redact_findings`` a few hundred at a time, in order: the names on record are read for one chunk of
    findings at a time, so a city's audit never holds every case's names at once."""
    for start in range(0, len(findings), chunk):
        yield from redact_chunk(ws, findings[start:start + chunk])


def redact_overview(ws: Workspace, ov: Overview) -> Overview:
    """The overview with its blockers masked, for the HTML page."""
    redactor = Redactor.for_cases(ws, (r.case for r in ov.rows
                                       if any(b.type not in GENERATED_BLOCKERS for b in r.blockers)))
    return replace(ov, rows=[replace(r, blockers=redactor.blockers(r.case, tuple(r.blockers))) for r in ov.rows])
