"""Consent what-if (推): the fewest further "agree" owners that make the vote pass, and which ones.

The unit of persuasion is the owner, as in the tally: winning an owner of two flats wins one head and both
flats' areas. An owner with no counted ballot who agrees raises the participation base as well as the
agreement; one who opposed (or abstained and takes part) only turns a "no" into a "yes". Every candidate set is
judged by ``consent.tally`` itself, so the answer is exactly what the guards will say.

Some owners must be won whatever else happens: directly affected owners the rule requires (``also_required``)
who do not agree yet, and owners whose ballots conflict (they must vote again; the plan counts them agreeing).

Search (exact): for a fixed number of owners won and a fixed split between owners who join (no counted ballot)
and owners who turn (taking part without agreeing), every condition of a rule grows with the areas won, so the
best choice is the largest owners of each group. Trying every split for k = 1, 2, ... finds the smallest k.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from typing import Any

from eightstep.rules.consent import AGREE, Tally, Voter, area_text, owner_votes, participates, tally
from eightstep.workflow.schema import ConsentRule


@dataclass(frozen=True)
class Candidate:
    """An owner not agreeing yet: what winning them adds."""

    owner_key: str
    rooms: tuple[str, ...]
    choice: str | None  # the owner's counted choice (None: absent, or conflicting ballots)
    area: int  # centi-m² of all their flats
    joining: bool  # not taking part yet: winning them raises participation too
    forced: bool = False  # must agree for the vote to pass (directly affected, or conflicting ballots)

    def as_dict(self) -> dict[str, Any]:
        return {"owner_key": self.owner_key, "rooms": list(self.rooms), "from": self.choice,
                "area": area_text(self.area), "required": self.forced}


@dataclass(frozen=True)
class WhatIf:
    passed: bool  # already passed with the ballots so far
    needed: int | None  # further owners to win; 0 when passed, None when impossible
    owners: tuple[Candidate, ...]  # whom to win (one minimal set)
    tally_now: Tally
    tally_after: Tally  # with those owners agreeing (impossible: with every candidate agreeing)

    @property
    def possible(self) -> bool:
        return self.needed is not None

    @property
    def rooms(self) -> list[str]:
        return [room for c in self.owners for room in c.rooms]

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "needed": self.needed, "rooms": self.rooms, "possible": self.possible,
                "owners": [c.as_dict() for c in self.owners],
                "tally_now": self.tally_now.as_dict(), "tally_after": self.tally_after.as_dict()}


def candidates(voters: Sequence[Voter], rule: ConsentRule, fixed: Collection[str] = ()) -> list[Candidate]:
    """Owners who do not agree yet, except those in ``fixed`` (owner keys that will not move)."""
    out = []
    for owner in owner_votes(voters, rule):
        if owner.key in fixed or owner.choice == AGREE:
            continue
        out.append(Candidate(owner.key, owner.rooms, owner.choice, owner.area_centi,
                             not participates(owner.choice, rule), owner.affected or owner.conflict))
    return out


def blocked_for_good(voters: Sequence[Voter], rule: ConsentRule, fixed: Collection[str]) -> bool:
    """An owner who must agree (directly affected, or with conflicting ballots) is among those who will not move."""
    return any(o.key in fixed and o.choice != AGREE and (o.affected or o.conflict)
               for o in owner_votes(voters, rule))


def win(voters: Sequence[Voter], owner_keys: Collection[str]) -> list[Voter]:
    """The voters with every flat of these owners agreeing (signed by every co-owner)."""
    return [replace(v, choice=AGREE, signed_by=v.co_owners or v.signed_by) if v.owner_key in owner_keys else v
            for v in voters]


_Groups = tuple[list[Candidate], list[Candidate], list[Candidate]]  # forced, joining, turning


def _groups(cands: list[Candidate], prefer: Mapping[str, int]) -> _Groups:
    """(forced, joining, turning), the last two largest first, equal areas by ``prefer`` (owner key -> rank,
    lower first), then in the order of the flats."""
    rank = {c.owner_key: prefer.get(c.owner_key, 0) for c in cands}

    def order(group: list[Candidate]) -> list[Candidate]:
        return sorted(group, key=lambda c: (-c.area, rank[c.owner_key]))  # stable: then the flats' order

    forced = [c for c in cands if c.forced]
    return (forced, order([c for c in cands if not c.forced and c.joining]),
            order([c for c in cands if not c.forced and not c.joining]))


def _sets(k: int, forced: list[Candidate], joining: list[Candidate],
          turning: list[Candidate]) -> Iterator[tuple[Candidate, ...]]:
    """Every set of k owners worth trying: the forced ones, and the largest of each group for each split."""
    rest = k - len(forced)
    for j in range(rest + 1):
        if j <= len(joining) and rest - j <= len(turning):
            yield (*forced, *joining[:j], *turning[:rest - j])


def _area_agree(t: Tally) -> int:
    return int(t.area_agree.replace(".", ""))


def _best_at(k: int, voters: Sequence[Voter], rule: ConsentRule,
             groups: _Groups) -> tuple[tuple[Candidate, ...], Tally] | None:
    """The best set of k owners that passes (most agreeing area, then fewer absent owners), or None."""
    best: tuple[tuple[int, int], tuple[Candidate, ...], Tally] | None = None
    for chosen in _sets(k, *groups):
        after = tally(win(voters, {c.owner_key for c in chosen}), rule)
        if after.passed:
            score = (-_area_agree(after), sum(1 for c in chosen if c.choice is None))
            if best is None or score < best[0]:
                best = (score, chosen, after)
    return None if best is None else (best[1], best[2])


def what_if(voters: Sequence[Voter], rule: ConsentRule, fixed: Collection[str] = (),
            prefer: Mapping[str, int] | None = None) -> WhatIf:
    """The fewest owners (not in ``fixed``) whose agreement makes ``voters`` pass ``rule``, and one such set.

    Among the minimal sets, the one with the most agreeing area is given (then: fewer absent owners); among
    owners with equal areas, those ranked lower in ``prefer`` (owner key -> rank, e.g. by canvass stance).
    """
    now = tally(voters, rule)
    if now.passed:
        return WhatIf(True, 0, (), now, now)
    cands = candidates(voters, rule, fixed)
    if not blocked_for_good(voters, rule, fixed):
        groups = _groups(cands, prefer or {})
        for k in range(max(1, len(groups[0])), len(cands) + 1):
            found = _best_at(k, voters, rule, groups)
            if found is not None:
                return WhatIf(False, k, found[0], now, found[1])
    everyone = tally(win(voters, {c.owner_key for c in cands}), rule)
    return WhatIf(False, None, tuple(cands), now, everyone)


def closeness(voters: Sequence[Voter], rule: ConsentRule) -> Fraction:
    """How near ``voters`` are to passing: the sum over the rule's conditions of how much of each is met (each
    at most 1). Used only to order households whose agreement does not change the number still needed."""
    owners = owner_votes(voters, rule)
    area_total = sum(o.area_centi for o in owners)
    area_part = sum(o.area_centi for o in owners if participates(o.choice, rule))
    area_agree = sum(o.area_centi for o in owners if o.choice == AGREE)
    heads_part = sum(1 for o in owners if participates(o.choice, rule))
    heads_agree = sum(1 for o in owners if o.choice == AGREE)

    def met(part: int, whole: int, ratio: Fraction) -> Fraction:
        return Fraction(1) if whole == 0 else min(Fraction(1), Fraction(part, whole) / ratio)

    score = Fraction(0)
    if rule.participation is not None:
        score += met(area_part, area_total, rule.participation.area)
        score += met(heads_part, len(owners), rule.participation.headcount)
    base_area, base_heads = (area_part, heads_part) if rule.agreement_base == "participants" else (
        area_total, len(owners))
    score += met(area_agree, base_area, rule.agreement.area) if base_area else Fraction(0)
    score += met(heads_agree, base_heads, rule.agreement.headcount) if base_heads else Fraction(0)
    affected = [o for o in owners if o.affected]
    if affected:
        score += Fraction(sum(1 for o in affected if o.choice == AGREE), len(affected))
    return score


@dataclass(frozen=True)
class Gain:
    """What winning one owner does: how many owners would still be needed after, and how near it gets."""

    candidate: Candidate
    needed_after: int | None
    closeness_after: Fraction
    in_plan: bool  # part of the minimal set ``what_if`` gives


def gains(voters: Sequence[Voter], rule: ConsentRule, fixed: Collection[str] = (),
          prefer: Mapping[str, int] | None = None) -> list[Gain]:
    """Each candidate owner, best first: those whose agreement leaves the fewest owners still needed, then
    those that bring the tally nearest to its thresholds (then by ``prefer``, then in the flats' order).

    Winning one owner never makes the vote harder (an agreeing owner who joins raises agreement at least as much
    as the base), so afterwards either one owner fewer is needed or the same number: only that is tested.
    """
    prefer = prefer or {}
    result = what_if(voters, rule, fixed, prefer)
    plan = {c.owner_key for c in result.owners}
    out = []
    for c in candidates(voters, rule, fixed):
        after = win(voters, {c.owner_key})
        needed_after = result.needed
        if result.needed:
            if result.needed == 1:
                fewer = tally(after, rule).passed
            else:
                groups = _groups(candidates(after, rule, fixed), prefer)
                fewer = _best_at(result.needed - 1, after, rule, groups) is not None
            needed_after = result.needed - 1 if fewer else result.needed
        out.append(Gain(c, needed_after, closeness(after, rule), c.owner_key in plan and not result.passed))
    unreachable = len(voters) + 1
    out.sort(key=lambda g: (unreachable if g.needed_after is None else g.needed_after, -g.closeness_after,
                            prefer.get(g.candidate.owner_key, 0)))
    return out
