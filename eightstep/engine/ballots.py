"""The households as voters: each household's ballot as of a date, and the names on its title. The consent guard
tallies them (``eightstep.rules.consent``); the records and forms that show a vote read them the same way."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TypeVar

from eightstep.engine.evidence import BallotRecord, CaseRecords
from eightstep.rules.consent import Voter
from eightstep.timeutil import as_utc

Ballot = TypeVar("Ballot", bound=BallotRecord)  # a ballot row: the guards' light one, or every column


def current_ballots(ballots: Sequence[Ballot], at: datetime | None,
                    since: datetime | None = None) -> dict[int, Ballot]:
    """Household id -> its latest ballot cast by ``at`` (None: the latest of all), not before ``since`` (a
    return to the vote: the ballots of the earlier vote no longer count)."""
    latest: dict[int, Ballot] = {}
    since = as_utc(since) if since is not None else None
    for b in sorted(ballots, key=lambda b: (as_utc(b.cast_at), b.id or 0)):
        cast = as_utc(b.cast_at)
        if (at is None or cast <= at) and (since is None or cast >= since):
            latest[b.household_id] = b
    return latest


def title_names(owner: str, co_owners: str | None) -> tuple[str, ...]:
    """Every name on a flat's title: the owner, then the co-owners (``co_owners``: their JSON list)."""
    return (owner, *json.loads(co_owners)) if co_owners else (owner,)


def voters(records: CaseRecords, at: datetime | None) -> list[Voter]:
    """One voter per household with its ballot as of ``at`` (None: every ballot), from ``evidence_from`` on."""
    ballots = current_ballots(records.ballots, at, records.evidence_from)
    out = []
    for h in records.households:
        b = ballots.get(h.id or -1)
        names = title_names(h.owner, h.co_owners)
        signed = tuple(json.loads(b.signed_by)) if b is not None and b.signed_by else None
        out.append(Voter.quick(h.room, h.owner_key, h.area_centi, b.choice if b else None,
                               as_utc(b.cast_at) if b else None, h.floor, bool(h.affected),
                               names if len(names) > 1 else (), signed))
    return out
