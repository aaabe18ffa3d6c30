"""Signed events: with ``EIGHTSTEP_SIGNING_KEY`` set, every event carries an HMAC of its hash (``events.sig``), so
that a forger who rewrites a history and recomputes its hash chain cannot make it verify without the key.

``check_signatures`` reports, per case, the events that are unsigned or whose signature does not match their hash
(the first one and how many).

Events written before the key was set (or brought in by ``case import``, signed with another office's key) are
vouched for by a signed event that says so: ``audit.sign`` (``sign_unsigned``: one per case, after ``audit
verify`` found the history intact, best against an anchor kept since) or ``case.import``. As each event's hash
covers the one before it, such a signed event fixes every earlier event of its case: an unsigned event before
it is reported as covered, not as a problem; one after it (or in a case without one) is a problem. The
checkpoint is an event of its own, appended by whoever holds the key, at the time it was made: it says that the
history was signed afterwards, not that it was signed when written.
"""

from __future__ import annotations

import hmac
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from eightstep.engine.events import ENV_SIGNING_KEY, signature, signing_key
from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.store import models
from eightstep.store.workspace import Workspace

UNSIGNED = "unsigned"
FORGED = "bad_signature"
SIGN = "audit.sign"  # a checkpoint: vouches for the unsigned events before it
IMPORT = "case.import"  # the import's own event vouches for the history it brought in
VOUCHING = (SIGN, IMPORT)


@dataclass(frozen=True)
class SignatureProblem:
    case_id: str
    seq: int  # the first such event of the case
    kind: str  # unsigned | bad_signature
    count: int  # how many events of the case have this problem
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "seq": self.seq, "kind": self.kind, "count": self.count,
                "message": self.message}


@dataclass
class SignatureCheck:
    events: int = 0
    signed: int = 0
    covered: int = 0  # unsigned, but before a signed checkpoint of their case
    problems: list[SignatureProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "signed": self.signed, "covered": self.covered, "ok": self.ok,
                "problems": [p.as_dict() for p in self.problems]}


def check_signatures(ws: Workspace) -> SignatureCheck | None:
    """Every event's signature checked with the signing key; None when no key is set."""
    key = signing_key()
    if key is None:
        return None
    check = SignatureCheck()
    forged: dict[str, list[int]] = {}
    for case_id, unsigned, checkpoint in _walk(ws, key, check, forged):
        covered = [seq for seq in unsigned if checkpoint is not None and seq < checkpoint]
        check.covered += len(covered)
        pending = unsigned[len(covered):]
        if pending:
            check.problems.append(SignatureProblem(case_id, pending[0], UNSIGNED, len(pending), _(
                "{count} events are not signed (the first: event {seq}): written without the signing key, or "
                "their signatures were removed").format(count=len(pending), seq=pending[0])))
    for case_id, seqs in forged.items():
        check.problems.append(SignatureProblem(case_id, seqs[0], FORGED, len(seqs), _(
            "{count} events carry a signature that does not match them (the first: event {seq}): rewritten "
            "without the signing key").format(count=len(seqs), seq=seqs[0])))
    check.problems.sort(key=lambda p: (p.case_id, p.kind))
    return check


def _walk(ws: Workspace, key: bytes, check: SignatureCheck, forged: dict[str, list[int]]
          ) -> Iterator[tuple[str, list[int], int | None]]:
    """Per case: its unsigned events and the seq of its last validly signed checkpoint (None: none); counts
    the signed events into ``check`` and the badly signed ones into ``forged``."""
    events = models.Event.__table__
    query = select(events.c.case_id, events.c.seq, events.c.action, events.c.hash, events.c.sig).order_by(
        events.c.case_id, events.c.seq)
    current: str | None = None
    unsigned: list[int] = []
    checkpoint: int | None = None
    with ws.engine.connect() as conn:
        for row in conn.execution_options(yield_per=2000).execute(query):
            if row.case_id != current:
                if current is not None:
                    yield current, unsigned, checkpoint
                current, unsigned, checkpoint = row.case_id, [], None
            check.events += 1
            if row.sig is None:
                unsigned.append(row.seq)
            elif hmac.compare_digest(row.sig, signature(key, row.hash or "")):
                check.signed += 1
                if row.action in VOUCHING:
                    checkpoint = row.seq
            else:
                forged.setdefault(row.case_id, []).append(row.seq)
    if current is not None:
        yield current, unsigned, checkpoint


@dataclass
class Signed:
    cases: int  # cases given a checkpoint
    events: int  # unsigned events it vouches for


def sign_unsigned(ws: Workspace, *, anchor: Path | None = None, actor: str | None = None,
                  as_role: str | None = None, note: str | None = None) -> Signed:
    """Append a signed ``audit.sign`` checkpoint to every case with unsigned events after its last checkpoint,
    vouching for them. Refused without the key, and while a history is broken, a signature does not match or
    (with ``anchor``) a history differs from the anchor: a signature must not bless a damaged history. The anchor
    may be unsigned (kept from before the key was set)."""
    from eightstep.audit.anchor import UNSIGNED_ANCHOR, check_anchor
    from eightstep.audit.verify import VerifyReport, verify_chains
    from eightstep.engine.recording import recording

    if signing_key() is None:
        raise InputError(_("no signing key: set {name} to the key kept outside the database").format(
            name=ENV_SIGNING_KEY))
    report = VerifyReport(anchor=check_anchor(ws, anchor) if anchor is not None else None)
    verify_chains(ws, report)
    check = check_signatures(ws)
    assert check is not None  # the key is set
    anchored = [] if report.anchor is None else [p for p in report.anchor.problems if p.kind != UNSIGNED_ANCHOR]
    if report.chain_problems or anchored or any(p.kind != UNSIGNED for p in check.problems):
        raise InputError(_("a history is broken, a signature does not match or a history differs from the anchor: "
                           "signing now would vouch for it; find out what happened first"),
                         remedy=Remedy("audit.verify", {}))
    todo = [(p.case_id, p.seq, p.count) for p in check.problems]
    for case_id, first, count in todo:
        with recording(ws, case_id, SIGN, actor=actor, as_role=as_role, allow_withdrawn=True) as rec:
            rec.details = {"unsigned": count, "from_seq": first, "to_seq": rec.case.event_count}
            rec.note = note
    return Signed(len(todo), sum(count for _case, _first, count in todo))
