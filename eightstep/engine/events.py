"""The append-only event log and its hash chain (each event hashes the previous one of the same case)."""

from __future__ import annotations

import hashlib
import hmac
import json
import os
from collections.abc import Sequence
from datetime import datetime
from functools import cache, lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import Update, bindparam, insert, update

from eightstep.engine.actors import acting_role
from eightstep.store import tables
from eightstep.timeutil import as_utc, now_utc

if TYPE_CHECKING:  # the ORM only where a caller brings its session: a recording on Core never imports it
    from sqlmodel import Session

    from eightstep.store import models

GENESIS = "0" * 64


@lru_cache(maxsize=256)  # a batch of moves shares its two times: formatted once, not 1,000 times
def _stamp(value: datetime) -> str:
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(case_id: str, seq: int, business_at: datetime, recorded_at: datetime, actor: str, action: str,
               from_stage: str | None, to_stage: str | None, note: str | None, details: str,
               prev_hash: str, facts: str | None = None) -> str:
    """SHA-256 over a canonical JSON of every field of the event and the previous hash; ``facts`` (the count
    and digest of the rows the event wrote, ``engine.facts``) when the event has any, so that an event without
    facts hashes as every event did before they existed."""
    fields = [case_id, seq, _stamp(business_at), _stamp(recorded_at), actor, action, from_stage, to_stage, note,
              details, prev_hash]
    if facts is not None:
        fields.append(facts)
    return hashlib.sha256(_HASHED.encode(fields).encode("utf-8")).hexdigest()


# The encoders of the hashed payload and of the stored details, built once (json.dumps with options builds a new
# encoder at every call: a third of the time of encoding a consent tally)
_HASHED = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
_STORED = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str)


def hash_of(event: models.Event) -> str:
    return event_hash(event.case_id, event.seq, event.business_at, event.recorded_at, event.actor, event.action,
                      event.from_stage, event.to_stage, event.note, event.details, event.prev_hash, event.facts)


ENV_SIGNING_KEY = "EIGHTSTEP_SIGNING_KEY"


def signing_key() -> bytes | None:
    """The HMAC key held outside the database (``EIGHTSTEP_SIGNING_KEY``), or None: events are then unsigned."""
    value = os.environ.get(ENV_SIGNING_KEY, "")
    return value.encode("utf-8") if value else None


def signature(key: bytes, digest: str) -> str:
    """An event's signature: HMAC-SHA256 of its hash. Without the key nobody can sign a recomputed chain."""
    return hmac.new(key, digest.encode("ascii"), hashlib.sha256).hexdigest()


def details_text(details: dict[str, Any] | None, encoded: dict[str, str] | None = None) -> str:
    """The stored (and hashed) form of an event's details. ``encoded``: more keys whose values are already in
    that form (``json_text``), spliced in as they are: the same text as encoding them again (a consent tally,
    stored in its consent record too, is encoded once)."""
    return json_object(details or {}, encoded or {})


def json_object(plain: dict[str, Any], encoded: dict[str, str]) -> str:
    """``json_text({**plain, **encoded-values-decoded})``: ``encoded`` holds values already as ``json_text``
    writes them, spliced in at their keys' places (the runs of ``plain`` keys between them encoded at once)."""
    if not encoded:
        return json_text(plain)
    parts: list[str] = []
    run: dict[str, Any] = {}
    for key in sorted({*plain, *encoded}):
        if key in encoded:
            if run:
                parts.append(json_text(run)[1:-1])
                run = {}
            parts.append(f"{json_text(key)}: {encoded[key]}")
        else:
            run[key] = plain[key]
    if run:
        parts.append(json_text(run)[1:-1])
    return "{" + ", ".join(parts) + "}"


def json_text(value: Any) -> str:
    """``value`` as events store it: JSON with sorted keys, not ASCII-escaped."""
    return _STORED.encode(value)


def with_role(details: dict[str, Any] | None, role: str | None) -> dict[str, Any] | None:
    """``details`` with the actor's role (``actor_role``) when there is one: what ``case history`` shows."""
    return {**(details or {}), "actor_role": role} if role else details


def event_row(case_id: str, seq: int, prev_hash: str, *, at: datetime, recorded_at: datetime, actor: str,
              action: str, from_stage: str | None, to_stage: str | None, note: str | None,
              details: dict[str, Any] | None, facts: str | None = None,
              encoded: dict[str, str] | None = None) -> dict[str, Any]:
    """The columns of the event ``seq`` of a case, following ``prev_hash``, with its hash (Core inserts: the
    recording context, the bulk advance). ``facts``: the summary of the rows it wrote (``engine.facts``);
    ``encoded``: details already encoded (``details_text``)."""
    body = details_text(details, encoded)
    digest = event_hash(case_id, seq, at, recorded_at, actor, action, from_stage, to_stage, note, body, prev_hash,
                        facts)
    return {"case_id": case_id, "seq": seq, "business_at": at, "recorded_at": recorded_at, "actor": actor,
            "action": action, "from_stage": from_stage, "to_stage": to_stage, "note": note, "details": body,
            "prev_hash": prev_hash, "hash": digest, "facts": facts,
            "sig": signature(key, digest) if (key := signing_key()) else None}


def append_event(session: Session, case: models.Case, *, at: datetime, actor: str, action: str,
                 from_stage: str | None = None, to_stage: str | None = None, note: str | None = None,
                 details: dict[str, Any] | None = None, role: str | None = None) -> dict[str, Any]:
    """Add the next event of ``case`` and move the case's chain head, in the transaction of ``session``.

    ``role`` is the role the actor acts in (officer, owner_rep, negotiator, ...: a command's ``--as``); when it
    is None, the actor's role on record in the case at ``at`` (``actors.acting_role``). Kept, when there is one,
    as ``details["actor_role"]``, so every event names it. (``engine.recording`` is the way to record: it calls
    ``append_events``.)
    """
    acting = acting_role(session, case.id, actor, role, at)
    return append_events(session, case, [(action, note, details)], at=at, actor=actor, from_stage=from_stage,
                         to_stage=to_stage, role=acting)[0]


def append_events(session: Session, case: models.Case, entries: Sequence[tuple[str, str | None, dict[str, Any] | None]],
                  *, at: datetime, actor: str, from_stage: str | None, to_stage: str | None,
                  role: str | None, facts: str | None = None) -> list[dict[str, Any]]:
    """Add the next events of ``case``, one per (action, note, details), all at ``at`` by ``actor`` acting as
    ``role`` (already resolved: kept as ``details["actor_role"]`` when not None); returns their columns. The
    first event gets ``facts`` (the summary of the rows the recording wrote).

    The case row (its new chain head) is written first, with the compare-and-set on its version that makes
    concurrent writers collide: one wins, the other gets a conflict (StaleDataError, ConflictError in
    ``Workspace.writing``) before any event of its own is written, so no event is ever duplicated. The events
    themselves are Core inserts (an ORM ``Event`` costs a millisecond to build).
    """
    rows = chain_rows(case, entries, at=at, actor=actor, from_stage=from_stage, to_stage=to_stage, role=role,
                      facts=facts)
    session.add(case)
    session.flush()
    session.execute(insert(EVENTS), rows)
    return rows


def chain_rows(case: Any, entries: Sequence[tuple[str, str | None, dict[str, Any] | None]], *, at: datetime,
               actor: str, from_stage: str | None, to_stage: str | None, role: str | None,
               facts: str | None = None) -> list[dict[str, Any]]:
    """The next events of ``case`` (``append_events``), each following the one before; moves the case's chain
    head (``event_count``, ``last_hash``) to the last."""
    recorded = now_utc()
    rows: list[dict[str, Any]] = []
    for action, note, details in entries:
        row = event_row(case.id, case.event_count + 1, case.last_hash or GENESIS, at=at, recorded_at=recorded,
                        actor=actor, action=action, from_stage=from_stage, to_stage=to_stage, note=note,
                        details=with_role(details, role), facts=None if rows else facts)
        rows.append(row)
        case.event_count, case.last_hash = row["seq"], row["hash"]
    return rows


EVENTS = tables.events


def move_rows(case: Any, action: str, sets: dict[str, Any], *, at: datetime, recorded_at: datetime, actor: str,
              note: str | None, details: dict[str, Any] | None, role: str | None,
              encoded: dict[str, str] | None = None) -> tuple[dict[str, Any], dict[str, Any]]:
    """What a move of ``case`` (its row as read) writes: the parameters of ``cas_statement(tuple(sets))`` and its
    event, the next link of the case's chain, from its stage to ``sets["stage"]`` (else the same stage). One
    move (``recording``) or a batch of them (the bulk advance, executemany). ``encoded``: details already
    encoded (``events.details_text``)."""
    event = event_row(case.id, case.event_count + 1, case.last_hash or GENESIS, at=at, recorded_at=recorded_at,
                      actor=actor, action=action, from_stage=case.stage, to_stage=sets.get("stage", case.stage),
                      note=note, details=with_role(details, role), encoded=encoded)
    cas = {"b_id": case.id, "b_seen": case.version, "b_seq": event["seq"], "b_hash": event["hash"],
           "b_version": case.version + 1, **{f"b_{name}": value for name, value in sets.items()}}
    return cas, event


@cache
def cas_statement(columns: tuple[str, ...]) -> Update:
    """The compare-and-set write of a move: ``columns`` of the case row (bound as ``b_<column>``) and its new chain
    head and version, matching only while the case is still at the version that was read."""
    cases = tables.cases
    return (update(cases).where(cases.c.id == bindparam("b_id"), cases.c.version == bindparam("b_seen"))
            .values(event_count=bindparam("b_seq"), last_hash=bindparam("b_hash"), version=bindparam("b_version"),
                    **{name: bindparam(f"b_{name}") for name in columns}))
