"""Consent what-if (推): the fewest further "agree" owners that make the vote pass, and which ones.

The unit of persuasion is the owner, not the flat: winning an owner of two flats wins both flats' areas but one
head (Civil Code art. 278 counts heads per owner). An owner with no ballot who agrees raises the participation
base as well as the agreement; one who opposed only turns a "no" into a "yes". Every candidate set is judged by
``consent.tally`` itself, so the answer is exactly what the guards will say.

Search (exact): for a fixed number of owners won, and a fixed split between owners who had not voted (absent)
and owners who had voted against or abstained, every condition of a rule grows with the areas won, so the best
choice is the largest flats of each group. Trying every split for k = 1, 2, ... finds the smallest k. Owners
whose flats are in mixed states (one flat voted, the other not) do not fit either group; they are tried in every
combination (up to ``MAX_MIXED`` of them; beyond that they are ranked by area and ``exact`` is False). So is
an owner whose head already agrees (his latest ballot) while another of his flats does not: winning that flat adds
area but no head. The owner's head is taken from ``consent`` itself, ties of ballot times included.
"""

from __future__ import annotations

from collections.abc import Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from fractions import Fraction
from itertools import combinations
from typing import Any

from eightstep.rules.consent import ABSTAIN, AGREE, OPPOSE, Tally, Voter, _owner_choices, tally
from eightstep.workflow.schema import ConsentRule

MAX_MIXED = 6


@dataclass(frozen=True)
class Candidate:
    """An owner not (wholly) agreeing yet: what winning them adds."""

    owner_key: str
    rooms: tuple[str, ...]
    choice: str | None  # the owner's ballot for the headcount (None: absent)
    area_joining: int  # centi-m² of flats that do not take part yet (they join and agree)
    area_turning: int  # centi-m² of flats that take part without agreeing (they turn to agree)

    @property
    def area(self) -> int:
        return self.area_joining + self.area_turning

    def as_dict(self) -> dict[str, Any]:
        return {"owner_key": self.owner_key, "rooms": list(self.rooms), "from": self.choice,
                "area": f"{self.area // 100}.{self.area % 100:02d}"}


@dataclass(frozen=True)
class WhatIf:
    passed: bool  # already passed with the ballots so far
    needed: int | None  # further owners to win; 0 when passed, None when impossible
    owners: tuple[Candidate, ...]  # whom to win (one minimal set)
    tally_now: Tally
    tally_after: Tally  # with those owners agreeing (impossible: with every candidate agreeing)
    exact: bool = True

    @property
    def possible(self) -> bool:
        return self.needed is not None

    @property
    def rooms(self) -> list[str]:
        return [room for c in self.owners for room in c.rooms]

    def as_dict(self) -> dict[str, Any]:
        return {"passed": self.passed, "needed": self.needed, "rooms": self.rooms, "possible": self.possible,
                "owners": [c.as_dict() for c in self.owners], "exact": self.exact,
                "tally_now": self.tally_now.as_dict(), "tally_after": self.tally_after.as_dict()}


def _participates(choice: str | None, rule: ConsentRule) -> bool:
    return choice in (AGREE, OPPOSE) or (choice == ABSTAIN and rule.abstain == "participates")


def candidates(voters: Sequence[Voter], rule: ConsentRule, fixed: Collection[str] = ()) -> list[Candidate]:
    """Owners with a flat that does not agree yet, except those in ``fixed`` (owner keys that will not move)."""
    by_owner: dict[str, list[Voter]] = {}
    for v in voters:
        by_owner.setdefault(v.owner_key, []).append(v)
    heads, _conflicts = _owner_choices(voters)  # the head exactly as consent.tally counts it (ties included)
    out = []
    for key, flats in by_owner.items():
        if key in fixed or all(v.choice == AGREE for v in flats):
            continue
        head = heads[key]
        joining = sum(v.area_centi for v in flats if not _participates(v.choice, rule))
        turning = sum(v.area_centi for v in flats if _participates(v.choice, rule) and v.choice != AGREE)
        out.append(Candidate(key, tuple(v.room for v in flats), head, joining, turning))
    return out


def win(voters: Sequence[Voter], owner_keys: Collection[str]) -> list[Voter]:
    """The voters with every flat of these owners agreeing."""
    return [replace(v, choice=AGREE) if v.owner_key in owner_keys else v for v in voters]


_Groups = tuple[list[Candidate], list[Candidate], list[Candidate]]  # joining, turning, mixed


def _split(cands: list[Candidate], rule: ConsentRule, prefer: Mapping[str, int]) -> _Groups:
    """(joining, turning, mixed): owners who only join, owners who only turn, and the rest; the first two largest
    first, equal areas by ``prefer`` (owner key -> rank, lower first), then in the order of the flats."""
    joining = [c for c in cands if not _participates(c.choice, rule) and c.area_turning == 0]
    turning = [c for c in cands if _participates(c.choice, rule) and c.choice != AGREE and c.area_joining == 0]
    plain = {c.owner_key for c in joining + turning}
    mixed = [c for c in cands if c.owner_key not in plain]
    rank = {c.owner_key: prefer.get(c.owner_key, 0) for c in cands}
    joining.sort(key=lambda c: (-c.area_joining, rank[c.owner_key]))  # stable: then the flats' order
    turning.sort(key=lambda c: (-c.area_turning, rank[c.owner_key]))
    mixed.sort(key=lambda c: (-c.area, rank[c.owner_key]))
    return joining, turning, mixed


def _sets(k: int, joining: list[Candidate], turning: list[Candidate],
          mixed: list[Candidate]) -> Iterator[tuple[Candidate, ...]]:
    """Every set of k owners worth trying: the largest of each plain group for each split, with each
    combination of mixed owners."""
    for m in range(min(k, len(mixed)) + 1):
        for chosen in combinations(mixed, m):
            rest = k - m
            for j in range(rest + 1):
                if j <= len(joining) and rest - j <= len(turning):
                    yield (*chosen, *joining[:j], *turning[:rest - j])


def _area_agree(t: Tally) -> int:
    return int(t.area_agree.replace(".", ""))


def _prepare(voters: Sequence[Voter], rule: ConsentRule, fixed: Collection[str],
             prefer: Mapping[str, int]) -> tuple[list[Candidate], _Groups, bool]:
    """The candidates, their groups, and whether the search over them is exact."""
    cands = candidates(voters, rule, fixed)
    joining, turning, mixed = _split(cands, rule, prefer)
    exact = len(mixed) <= MAX_MIXED
    if not exact:  # too many to combine: rank them with the owners who turn (largest first)
        turning = sorted(turning + mixed, key=lambda c: -c.area)
        mixed = []
    return cands, (joining, turning, mixed), exact


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
    cands, groups, exact = _prepare(voters, rule, fixed, prefer or {})
    for k in range(1, len(cands) + 1):
        found = _best_at(k, voters, rule, groups)
        if found is not None:
            return WhatIf(False, k, found[0], now, found[1], exact)
    everyone = tally(win(voters, {c.owner_key for c in cands}), rule)
    return WhatIf(False, None, tuple(cands), now, everyone, exact)


def closeness(voters: Sequence[Voter], rule: ConsentRule) -> Fraction:
    """How near ``voters`` are to passing: the sum over the rule's conditions of how much of each is met (each
    at most 1). Used only to order households whose agreement does not change the number still needed."""
    heads, _conflicts = _owner_choices(voters)
    area_total = sum(v.area_centi for v in voters)
    area_part = sum(v.area_centi for v in voters if _participates(v.choice, rule))
    area_agree = sum(v.area_centi for v in voters if v.choice == AGREE)
    owners = len(heads)
    heads_part = sum(1 for c in heads.values() if _participates(c, rule))
    heads_agree = sum(1 for c in heads.values() if c == AGREE)

    def met(part: int, whole: int, ratio: Fraction) -> Fraction:
        return Fraction(1) if whole == 0 else min(Fraction(1), Fraction(part, whole) / ratio)

    score = Fraction(0)
    if rule.participation is not None:
        score += met(area_part, area_total, rule.participation.area)
        score += met(heads_part, owners, rule.participation.headcount)
    base_area, base_heads = (area_part, heads_part) if rule.agreement_base == "participants" else (
        area_total, owners)
    score += met(area_agree, base_area, rule.agreement.area) if base_area else Fraction(0)
    score += met(heads_agree, base_heads, rule.agreement.headcount) if base_heads else Fraction(0)
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
                fewer = _best_at(result.needed - 1, after, rule, _prepare(after, rule, fixed, prefer)[1]) is not None
            needed_after = result.needed - 1 if fewer else result.needed
        out.append(Gain(c, needed_after, closeness(after, rule), c.owner_key in plan and not result.passed))
    unreachable = len(voters) + 1
    out.sort(key=lambda g: (unreachable if g.needed_after is None else g.needed_after, -g.closeness_after,
                            prefer.get(g.candidate.owner_key, 0)))
    return out
