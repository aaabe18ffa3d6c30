"""Signed events: with ``EIGHTSTEP_SIGNING_KEY`` set, every event carries an HMAC of its hash (``events.sig``), so
that a forger who rewrites a history and recomputes its hash chain cannot make it verify without the key.

``check_signatures`` reports, per case, the events that are unsigned or whose signature does not match their hash
(the first one and how many). Events written before the key was set are unsigned: set the key from the first
day, or take the database's word up to an anchor (``eightstep.audit.anchor``) and sign from then on.
"""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from eightstep.engine.events import signature, signing_key
from eightstep.i18n import _
from eightstep.store import models
from eightstep.store.workspace import Workspace

UNSIGNED = "unsigned"
FORGED = "bad_signature"


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
    problems: list[SignatureProblem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"events": self.events, "signed": self.signed, "ok": self.ok,
                "problems": [p.as_dict() for p in self.problems]}


def check_signatures(ws: Workspace) -> SignatureCheck | None:
    """Every event's signature checked with the signing key; None when no key is set."""
    key = signing_key()
    if key is None:
        return None
    check = SignatureCheck()
    found: dict[tuple[str, str], list[int]] = {}  # (case, kind) -> seqs
    events = models.Event.__table__
    query = select(events.c.case_id, events.c.seq, events.c.hash, events.c.sig).order_by(events.c.case_id,
                                                                                        events.c.seq)
    with ws.engine.connect() as conn:
        for row in conn.execution_options(yield_per=2000).execute(query):
            check.events += 1
            if row.sig is None:
                found.setdefault((row.case_id, UNSIGNED), []).append(row.seq)
            elif hmac.compare_digest(row.sig, signature(key, row.hash or "")):
                check.signed += 1
            else:
                found.setdefault((row.case_id, FORGED), []).append(row.seq)
    for (case_id, kind), seqs in sorted(found.items()):
        if kind == UNSIGNED:
            message = _("{count} events are not signed (the first: event {seq}): written without the signing key, "
                        "or their signatures were removed").format(count=len(seqs), seq=seqs[0])
        else:
            message = _("{count} events carry a signature that does not match them (the first: event {seq}): "
                        "rewritten without the signing key").format(count=len(seqs), seq=seqs[0])
        check.problems.append(SignatureProblem(case_id, seqs[0], kind, len(seqs), message))
    return check
