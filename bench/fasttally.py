"""The owner-consent tally of a synthetic vote, fast, and checked against eightstep's own.

``eightstep.rules.consent.tally`` builds a dataclass per flat and per owner and the per-owner report with local
times: right for an office, but most of the generator's time when it runs a million times. The synthetic units
have the simple shape (one flat per owner, nobody co-owning, no directly affected owners), for which the count
is plain sums; :class:`FastTally` computes it, and the tally's dict (what the advance event and the consent record
store) for a vote that passed, with eightstep's own ``meets``, ``participates``, ``rule_dict`` and ``Tally``.

Every ``CHECK_EVERY``-th vote, and every vote of another shape (a shared owner), goes through the real ``tally``;
the fast answer is compared with it, and on any difference the worker says so once and uses the real tally
from then on (slower, never wrong). ``tests/test_bench_smoke.py`` requires the two to agree.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from typing import Any

from eightstep.rules.consent import (
    AGREE,
    OPPOSE,
    TALLY_KEYS,
    Tally,
    Voter,
    area_text,
    meets,
    participates,
    rule_dict,
    tally,
)
from eightstep.workflow.schema import ConsentRule

CHECK_EVERY = 64
_SORTED = json.JSONEncoder(ensure_ascii=False, sort_keys=True).encode

Flat = tuple[int, str, int, str, int]  # (household id, room, area_centi, owner_key, floor)


class FastTally:
    def __init__(self, rule: ConsentRule) -> None:
        self.rule = rule
        self.rule_data = rule_dict(rule)
        self.simple_rule = rule.also_required is None
        self.fields = TALLY_KEYS
        self.calls = 0
        self.trusted = True
        self.owners_json: tuple[str, str] | None = None  # per_owner of the last fast answer as JSON: (plain, sorted)

    def __call__(self, flats: Sequence[Flat], ballots: dict[int, tuple[str, int]], local_iso: Any,
                 aware: Any) -> tuple[bool, dict[str, Any] | None]:
        """(passed, the tally's dict when passed) of ``ballots`` (household id -> choice, cast time in minutes);
        ``local_iso`` writes a time as the tally reports it, ``aware`` makes it a datetime."""
        self.calls += 1
        self.owners_json = None
        keys = {f[3] for f in flats}
        simple = self.trusted and self.simple_rule and len(keys) == len(flats)
        if not simple or self.calls % CHECK_EVERY == 0:
            real = self.real(flats, ballots, aware)
            if simple:
                fast = self.fast(flats, ballots, local_iso)
                if fast != (real.passed, self._dict(real) if real.passed else None) or (
                        real.passed and self.owners_json != (json.dumps(fast[1]["per_owner"], ensure_ascii=False),
                                                             _SORTED(fast[1]["per_owner"]))):
                    print("bench: the fast tally differs from eightstep's; using eightstep's from now on",
                          file=sys.stderr)
                    self.trusted = False
                self.owners_json = None
            return real.passed, self._dict(real) if real.passed else None
        return self.fast(flats, ballots, local_iso, report=False)

    def real(self, flats: Sequence[Flat], ballots: dict[int, tuple[str, int]], aware: Any) -> Tally:
        voters = []
        for hid, room, area, key, floor in flats:
            cast = ballots.get(hid)
            voters.append(Voter(room, key, area, cast[0], aware(cast[1]), floor) if cast else
                          Voter(room, key, area, floor=floor))
        return tally(voters, self.rule)

    @staticmethod
    def _dict(result: Tally) -> dict[str, Any]:
        return {name: getattr(result, name) for name in TALLY_KEYS}  # Tally.as_dict(), without its deep copies

    def fast(self, flats: Sequence[Flat], ballots: dict[int, tuple[str, int]], local_iso: Any, *,
             report: bool = True) -> tuple[bool, dict[str, Any] | None]:
        """``report``: the per-owner report also as dicts (else ``per_owner`` is None: the caller writes the tally
        from :attr:`owners_json`, the same report as JSON)."""
        rule = self.rule
        area_total = area_part = area_agree = heads_part = 0
        heads = {AGREE: 0, OPPOSE: 0, "abstain": 0}
        for hid, _room, area, _key, _floor in flats:
            area_total += area
            cast = ballots.get(hid)
            if cast is None:
                continue
            choice = cast[0]
            heads[choice] += 1
            if participates(choice, rule):
                area_part += area
                heads_part += 1
            if choice == AGREE:
                area_agree += area
        owners = len(flats)
        participation_met = True
        if rule.participation is not None:
            participation_met = (meets(area_part, area_total, rule.participation.area)
                                 and meets(heads_part, owners, rule.participation.headcount))
        base_area, base_heads = ((area_part, heads_part) if rule.agreement_base == "participants"
                                 else (area_total, owners))
        agreement_met = (meets(area_agree, base_area, rule.agreement.area)
                         and meets(heads[AGREE], base_heads, rule.agreement.headcount))
        passed = participation_met and agreement_met and base_heads > 0
        if not passed:
            return False, None
        per_owner: list[dict[str, Any]] | None = [] if report else None
        plain, ordered = [], []
        for hid, room, area, key, _floor in sorted(flats, key=_FLAT_ORDER):
            cast = ballots.get(hid)
            area_str = _AREA_TEXT[area] if area < _AREA_CACHED else area_text(area)
            if cast is None:
                if per_owner is not None:
                    per_owner.append({"key": key, "flats": [room], "area": area_str, "choice": None,
                                      "conflict": False, "affected": False, "ballots": []})
                plain.append(f'{{"key": "{key}", "flats": ["{room}"], "area": "{area_str}", "choice": null, '
                             f'"conflict": false, "affected": false, "ballots": []}}')
                ordered.append(f'{{"affected": false, "area": "{area_str}", "ballots": [], "choice": null, '
                               f'"conflict": false, "flats": ["{room}"], "key": "{key}"}}')
                continue
            choice, at = cast[0], local_iso(cast[1])
            if per_owner is not None:
                per_owner.append({"key": key, "flats": [room], "area": area_str, "choice": choice,
                                  "conflict": False, "affected": False,
                                  "ballots": [{"room": room, "choice": choice, "at": at, "counted": True}]})
            plain.append(f'{{"key": "{key}", "flats": ["{room}"], "area": "{area_str}", "choice": "{choice}", '
                         f'"conflict": false, "affected": false, "ballots": [{{"room": "{room}", "choice": '
                         f'"{choice}", "at": "{at}", "counted": true}}]}}')
            ordered.append(f'{{"affected": false, "area": "{area_str}", "ballots": [{{"at": "{at}", "choice": '
                           f'"{choice}", "counted": true, "room": "{room}"}}], "choice": "{choice}", '
                           f'"conflict": false, "flats": ["{room}"], "key": "{key}"}}')
        # per_owner as json.dumps writes it, in the dict's order and with sorted keys (rooms, keys, areas, choices
        # and times of the synthetic units need no escaping)
        self.owners_json = ("[" + ", ".join(plain) + "]", "[" + ", ".join(ordered) + "]")
        values = {"households": len(flats), "owners": owners, "participants": heads_part, "agree": heads[AGREE],
                  "oppose": heads[OPPOSE], "abstain": heads["abstain"], "area_total": area_text(area_total),
                  "area_participating": area_text(area_part), "area_agree": area_text(area_agree),
                  "participation_met": participation_met, "agreement_met": agreement_met, "passed": True,
                  "rule": self.rule_data, "shortfalls": [], "conflicts": [], "also_required_met": None,
                  "per_owner": per_owner}
        return True, {name: values.get(name, getattr(_DEFAULTS, name, None)) for name in self.fields}


def _flat_order(flat: Flat) -> tuple[int, int, str]:
    return flat[4], len(flat[1]), flat[1]


_FLAT_ORDER = _flat_order  # rules.consent.flat_order on the flat tuples (every synthetic flat has a floor)
_AREA_CACHED = 20_000
_AREA_TEXT = [area_text(centi) for centi in range(_AREA_CACHED)]  # a flat's area as the tally writes it
_DEFAULTS = Tally(0, 0, 0, 0, 0, 0, "", "", "", False, False, False, {})  # fields the fast path does not set
