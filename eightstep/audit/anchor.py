"""Anchors: the chain heads of every case, kept outside the database, so that a rewritten history is caught.

A forger with write access to the database can rewrite an event, recompute every later hash and the case's
head, or delete a case with all its rows: the database alone then looks intact. An anchor taken earlier and
kept elsewhere (printed, mailed to the district, on another machine) holds, per case, the number of events and
the hash of the last one, and a digest of all of them. ``check_anchor`` compares the database with it:

* ``deleted_case`` – a case of the anchor is gone;
* ``truncated``    – a case has fewer events than the anchor recorded;
* ``rewritten``    – the event the anchor recorded as a case's head has another hash now (the chain was
  recomputed since);
* ``anchor``       – the anchor file itself does not add up (its digest, or its signature with the signing key).

Events appended since the anchor are normal work and not reported. With ``EIGHTSTEP_SIGNING_KEY`` set, the
anchor carries an HMAC of its digest, so that an anchor cannot be forged to match a rewritten database either.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from eightstep import __version__
from eightstep.engine.events import signing_key
from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import iso_local, now_utc

FORMAT = "eightstep-anchor/1"
DELETED_CASE = "deleted_case"
TRUNCATED = "truncated"
REWRITTEN = "rewritten"
ANCHOR = "anchor"
UNSIGNED_ANCHOR = "unsigned_anchor"  # kept from before the key: fine to sign against (audit sign), not to verify


def heads_digest(heads: dict[str, dict[str, Any]]) -> str:
    """SHA-256 of the canonical JSON of the heads (sorted by case)."""
    text = json.dumps(heads, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _signature(key: bytes, digest: str) -> str:
    return hmac.new(key, f"{FORMAT}:{digest}".encode(), hashlib.sha256).hexdigest()


def chain_heads(ws: Workspace) -> dict[str, dict[str, Any]]:
    """Per case, its number of events and the hash of its last event, read from the events themselves."""
    events = models.Event.__table__
    last = select(events.c.case_id, func.max(events.c.seq).label("seq")).group_by(events.c.case_id).subquery()
    query = (select(events.c.case_id, events.c.seq, events.c.hash)
             .join(last, (last.c.case_id == events.c.case_id) & (last.c.seq == events.c.seq))
             .order_by(events.c.case_id))
    with ws.engine.connect() as conn:
        return {r.case_id: {"events": r.seq, "head": r.hash} for r in conn.execute(query)}


def make_anchor(ws: Workspace, *, at: datetime | None = None) -> dict[str, Any]:
    """The anchor of the database as it is now (a JSON-ready dict)."""
    heads = chain_heads(ws)
    digest = heads_digest(heads)
    anchor: dict[str, Any] = {"format": FORMAT, "created_at": iso_local(at or now_utc()), "database": ws.where,
                              "generator": f"eightstep {__version__}", "cases": len(heads),
                              "events": sum(h["events"] for h in heads.values()), "digest": digest}
    key = signing_key()
    if key is not None:
        anchor["signature"] = {"hmac_sha256": _signature(key, digest)}
    anchor["heads"] = heads
    return anchor


def anchor_text(anchor: dict[str, Any]) -> str:
    """The anchor as JSON that prints well: its summary first, then one line per case."""
    def line(value: Any) -> str:
        return json.dumps(value, ensure_ascii=False, sort_keys=True)

    summary = [f" {line(k)}: {line(v)}" for k, v in anchor.items() if k != "heads"]
    heads = [f"  {line(k)}: {line(v)}" for k, v in sorted(anchor["heads"].items())]
    return "{\n" + ",\n".join([*summary, ' "heads": {' + ("\n" + ",\n".join(heads) + "\n " if heads else "") + "}"]) \
        + "\n}\n"


@dataclass(frozen=True)
class AnchorProblem:
    case_id: str | None
    kind: str  # deleted_case | truncated | rewritten | anchor
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "kind": self.kind, "message": self.message}


@dataclass
class AnchorCheck:
    file: str
    created_at: str
    cases: int  # cases in the anchor
    signed: bool  # the anchor's signature was checked with the signing key
    problems: list[AnchorProblem] = field(default_factory=list)
    new_cases: int = 0  # cases opened since the anchor

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"file": self.file, "created_at": self.created_at, "cases": self.cases, "signed": self.signed,
                "new_cases": self.new_cases, "ok": self.ok, "problems": [p.as_dict() for p in self.problems]}


def read_anchor(path: Path) -> dict[str, Any]:
    """The anchor in ``path``, checked for shape (not yet against the database)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError(_("anchor {path}: cannot read it ({reason})").format(path=path, reason=exc.strerror or exc)) \
            from None
    except (UnicodeDecodeError, json.JSONDecodeError):
        raise InputError(_("anchor {path}: not an anchor file written by eightstep (not JSON)").format(path=path)) \
            from None
    heads = data.get("heads") if isinstance(data, dict) else None
    if not isinstance(data, dict) or data.get("format") != FORMAT or not isinstance(heads, dict) or not all(
            isinstance(k, str) and isinstance(v, dict) and isinstance(v.get("events"), int)
            and isinstance(v.get("head"), str) for k, v in heads.items()):
        raise InputError(_("anchor {path}: not an anchor file written by eightstep ({format} expected)").format(
            path=path, format=FORMAT))
    return data


def check_anchor(ws: Workspace, path: Path) -> AnchorCheck:
    """Compare the database with the anchor in ``path``: every problem found, case by case."""
    anchor = read_anchor(path)
    heads: dict[str, dict[str, Any]] = anchor["heads"]
    check = AnchorCheck(str(path), str(anchor.get("created_at", "?")), len(heads), False)
    if heads_digest(heads) != anchor.get("digest"):
        check.problems.append(AnchorProblem(None, ANCHOR, _("the anchor's heads do not match its digest: the anchor "
                                                            "file was edited")))
    key = signing_key()
    signature = (anchor.get("signature") or {}).get("hmac_sha256") if isinstance(anchor.get("signature"), dict) \
        else None
    if key is not None and signature is not None:
        check.signed = True
        if not hmac.compare_digest(signature, _signature(key, str(anchor.get("digest")))):
            check.problems.append(AnchorProblem(None, ANCHOR, _("the anchor's signature does not match the signing "
                                                                "key: the anchor was forged or signed with another "
                                                                "key")))
    elif key is not None:
        check.problems.append(AnchorProblem(None, UNSIGNED_ANCHOR, _(
            "the anchor is not signed, but a signing key is set: it may have been replaced")))
    now = chain_heads(ws)
    events = models.Event.__table__
    with ws.engine.connect() as conn:
        for case_id, then in sorted(heads.items()):
            current = now.get(case_id)
            if current is None:
                check.problems.append(AnchorProblem(case_id, DELETED_CASE, _(
                    "case {case} is gone: the anchor recorded {count} events of it").format(
                        case=case_id, count=then["events"])))
                continue
            if current["events"] < then["events"]:
                check.problems.append(AnchorProblem(case_id, TRUNCATED, _(
                    "case {case} has {now} events, the anchor recorded {then}: its history was cut short").format(
                        case=case_id, now=current["events"], then=then["events"])))
                continue
            stored = conn.execute(select(events.c.hash).where(events.c.case_id == case_id,
                                                              events.c.seq == then["events"])).scalar()
            if stored != then["head"]:
                check.problems.append(AnchorProblem(case_id, REWRITTEN, _(
                    "case {case}: event {seq} is not the one the anchor recorded: its history was rewritten "
                    "since").format(case=case_id, seq=then["events"])))
    check.new_cases = len(set(now) - set(heads))
    return check
