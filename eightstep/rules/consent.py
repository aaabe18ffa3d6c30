"""The owner-consent tally (Civil Code art. 278 and local variants), in exact integer arithmetic.

Counted per owner, not per flat (the ballot reads 面积按其专有部分面积合计): an owner of several flats in the unit
(one ``owner_key``) takes part once, with the area of all their flats, and makes one choice; a developer's
unsold flats share one key. A co-owned flat (several names on one title) is one household with one key, so it
counts once; a ballot signed by any co-owner counts for it unless the rule says every co-owner must sign.

One owner, one choice (``OWNER_RULE``): the owner's latest counted ballot, whichever of their flats it was
recorded for, is their choice for all their flats. Ballots of one owner recorded for the same moment that
disagree cannot be ordered: the tally names the conflict and does not pass until a new ballot settles it.

Areas are whole hundredths of a square metre; ratios are Fractions. "以上" includes the boundary (art. 1259), so
exactly 2/3 or exactly 3/4 passes; a ratio written ">1/2" (过半数) must be exceeded.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, fields
from datetime import datetime
from fractions import Fraction
from functools import cached_property
from json.encoder import encode_basestring
from typing import TYPE_CHECKING, Any, TypeVar

from eightstep.i18n import _
from eightstep.timeutil import iso_local, show
from eightstep.workflow.ratio import Above

if TYPE_CHECKING:  # the rule's fields only: `vote tally` passes the plain copy kept with the workflow's outline
    from eightstep.workflow.schema import AffectedOwners, ConsentRule

AGREE, OPPOSE, ABSTAIN = "agree", "oppose", "abstain"
CHOICES = (AGREE, OPPOSE, ABSTAIN)
_T = TypeVar("_T")
OWNER_RULE = "latest"  # the id of the one-owner-one-choice rule, reported with every tally


def owner_rule_text() -> str:
    return _("each owner counts once with all their flats; the owner's latest ballot counts for all of them")


@dataclass(frozen=True)
class Voter:
    """One flat and its current ballot (None: no ballot)."""

    room: str
    owner_key: str
    area_centi: int
    choice: str | None = None
    cast_at: datetime | None = None
    floor: int | None = None
    affected: bool = False  # marked as directly affected by the elevator (e.g. the flat faces the shaft)
    co_owners: tuple[str, ...] = ()  # every name on the title when the flat is co-owned
    signed_by: tuple[str, ...] | None = None  # who signed the ballot (None: not recorded)

    @classmethod
    def quick(cls, room: str, owner_key: str, area_centi: int, choice: str | None, cast_at: datetime | None,
              floor: int | None, affected: bool, co_owners: tuple[str, ...], signed_by: tuple[str, ...] | None
              ) -> Voter:
        """``Voter(...)`` with every field given, built without the frozen dataclass's ``__init__`` (which sets
        each field through ``object.__setattr__``: four times slower); a district's tallies build a million."""
        return _frozen(cls, {"room": room, "owner_key": owner_key, "area_centi": area_centi, "choice": choice,
                             "cast_at": cast_at, "floor": floor, "affected": affected, "co_owners": co_owners,
                             "signed_by": signed_by})


def _frozen(cls: type[_T], values: dict[str, Any]) -> _T:
    """An instance of the frozen dataclass ``cls`` holding ``values`` (every field), without its ``__init__``."""
    instance = object.__new__(cls)
    instance.__dict__.update(values)
    return instance


@dataclass(frozen=True)
class OwnerVote:
    """One owner as the tally counts them: all their flats, one choice."""

    key: str
    rooms: tuple[str, ...]
    area_centi: int
    choice: str | None  # None: no counted ballot, or an unsettled conflict
    ballots: tuple[Voter, ...]  # their flats that have a ballot, oldest first
    counted: tuple[Voter, ...]  # ... of those, the ballots that count (signatures)
    affected: bool
    conflict: bool = False  # latest ballots of the same moment disagree

    def as_dict(self) -> dict[str, Any]:
        every = len(self.counted) == len(self.ballots)  # the counted ones are some of the ballots
        counted = set() if every else {id(v) for v in self.counted}
        return {"key": self.key, "flats": list(self.rooms), "area": area_text(self.area_centi),
                "choice": self.choice, "conflict": self.conflict, "affected": self.affected,
                "ballots": [{"room": v.room, "choice": v.choice, "at": iso_local(v.cast_at),
                             "counted": every or id(v) in counted} for v in self.ballots]}

    def json_text(self) -> str:
        """``as_dict()`` as JSON with sorted keys, not ASCII-escaped (``json.dumps(..., ensure_ascii=False,
        sort_keys=True)``: the same text), written directly: what an advance out of the vote stores."""
        if len(self.ballots) == 1 and len(self.counted) == 1:  # the usual owner: one ballot, counted
            v = self.ballots[0]
            ballots = (f'{{"at": {_json(iso_local(v.cast_at))}, "choice": {_json(v.choice)}, "counted": true, '
                       f'"room": {_json(v.room)}}}')
        else:
            every = len(self.counted) == len(self.ballots)
            counted = set() if every else {id(v) for v in self.counted}
            ballots = ", ".join(
                f'{{"at": {_json(iso_local(v.cast_at))}, "choice": {_json(v.choice)}, '
                f'"counted": {_json(every or id(v) in counted)}, "room": {_json(v.room)}}}' for v in self.ballots)
        flats = _json(self.rooms[0]) if len(self.rooms) == 1 else ", ".join(map(_json, self.rooms))
        return (f'{{"affected": {"true" if self.affected else "false"}, "area": "{area_text(self.area_centi)}", '
                f'"ballots": [{ballots}], "choice": {_json(self.choice)}, '
                f'"conflict": {"true" if self.conflict else "false"}, "flats": [{flats}], "key": {_json(self.key)}}}')


def _json(value: str | bool | None) -> str:
    """A string, a bool or None as JSON (strings not ASCII-escaped)."""
    if value is None:
        return "null"
    if value is True:
        return "true"
    if value is False:
        return "false"
    return encode_basestring(value)


@dataclass(frozen=True)
class Tally:
    households: int
    owners: int
    participants: int
    agree: int
    oppose: int
    abstain: int
    area_total: str
    area_participating: str
    area_agree: str
    participation_met: bool
    agreement_met: bool
    passed: bool
    rule: dict[str, Any]
    shortfalls: list[str] = field(default_factory=list)
    conflicts: list[str] = field(default_factory=list)  # notes: disagreeing ballots of one owner, how settled
    also_required_met: bool | None = None  # None: the rule names no directly affected owners
    owner_rule: str = OWNER_RULE
    owner_votes: tuple[OwnerVote, ...] = ()  # each owner as counted, in the report's order

    @cached_property
    def per_owner(self) -> list[dict[str, Any]]:
        """The per-owner report: ``OwnerVote.as_dict()`` of each owner (built when first asked: a guard that only
        needs to know whether the vote passed never builds it)."""
        return [o.as_dict() for o in self.owner_votes]

    def per_owner_json(self) -> str:
        """``per_owner`` as JSON with sorted keys, not ASCII-escaped (the same text as encoding it), written
        directly from the owners."""
        return "[" + ", ".join(o.json_text() for o in self.owner_votes) + "]"

    def as_dict(self, report: bool = True) -> dict[str, Any]:
        """The tally as plain data with lists and dicts of its own (``TALLY_KEYS``: what ``dataclasses.asdict``
        gave when the per-owner report was a field, without its generic deep copy). ``report``: with the
        per-owner report (False: without it, to be added as ``per_owner_json()``)."""
        data = {name: _copied(getattr(self, name)) for name in _SCALAR_KEYS}
        if report:
            data["per_owner"] = _copied(self.per_owner)
        return data


# The keys of ``Tally.as_dict()``, in its order: the fields, then the per-owner report instead of the owners
_SCALAR_KEYS = tuple(f.name for f in fields(Tally) if f.name != "owner_votes")
TALLY_KEYS = (*_SCALAR_KEYS, "per_owner")


def _copied(value: Any) -> Any:
    """A copy of plain data (dicts and lists of them; the rest is immutable and shared)."""
    if type(value) is dict:
        return {key: _copied(item) for key, item in value.items()}
    if type(value) is list:
        return [_copied(item) for item in value]
    return value


def rule_dict(rule: ConsentRule) -> dict[str, Any]:
    """The rule as plain data (ratios as "2/3" or ">1/2"), stored with every passed tally."""
    def thr(t: Any) -> dict[str, str] | None:
        return None if t is None else {"area": str(t.area), "headcount": str(t.headcount)}

    data: dict[str, Any] = {"description": rule.description, "participation": thr(rule.participation),
                            "agreement": thr(rule.agreement), "agreement_base": rule.agreement_base,
                            "abstain": rule.abstain, "co_owners": rule.co_owners}
    if rule.also_required is not None:
        data["also_required"] = rule.also_required.model_dump(mode="json")
    return data


def meets(part: int, whole: int, ratio: Fraction) -> bool:
    """part/whole reaches ``ratio`` exactly (boundary included; an ``Above`` ratio must be exceeded). Nothing meets
    a ratio of an empty whole."""
    if whole <= 0:
        return False
    if isinstance(ratio, Above):
        return part * ratio.denominator > ratio.numerator * whole
    return part * ratio.denominator >= ratio.numerator * whole


def area_text(centi: int) -> str:
    return f"{centi // 100}.{centi % 100:02d}"


def participates(choice: str | None, rule: ConsentRule) -> bool:
    return choice in (AGREE, OPPOSE) or (choice == ABSTAIN and rule.abstain == "participates")


def signed_enough(v: Voter, rule: ConsentRule) -> bool:
    """The ballot counts under the rule's co-owner requirement."""
    if rule.co_owners == "any" or len(v.co_owners) < 2:
        return True
    return v.signed_by is not None and set(v.co_owners) <= set(v.signed_by)


def is_affected(v: Voter, spec: AffectedOwners | None) -> bool:
    if spec is None:
        return False
    return (spec.marked and v.affected) or (v.floor is not None and v.floor in spec.floors)


def flat_order(v: Voter) -> tuple[Any, ...]:
    """Flats by floor, then room number ("201" before "1001"): the same order whatever order they came in."""
    return (v.floor is None, v.floor or 0, len(v.room), v.room)


def owner_votes(voters: Sequence[Voter], rule: ConsentRule) -> list[OwnerVote]:
    """Each owner in the order of their first flat (``flat_order``), with their one choice (``OWNER_RULE``)."""
    flats: dict[str, list[Voter]] = {}
    for v in sorted(voters, key=flat_order):
        mine = flats.get(v.owner_key)
        if mine is None:
            flats[v.owner_key] = [v]
        else:
            mine.append(v)
    spec = rule.also_required
    out = []
    for key, mine in flats.items():
        if len(mine) == 1:  # the usual owner, of one flat: at most one ballot, nothing to order or settle
            v = mine[0]
            cast: tuple[Voter, ...] = () if v.choice is None else (v,)
            counted = cast if not cast or signed_enough(v, rule) else ()
            out.append(_frozen(OwnerVote, {"key": key, "rooms": (v.room,), "area_centi": v.area_centi,
                                           "choice": v.choice if counted else None, "ballots": cast,
                                           "counted": counted, "affected": is_affected(v, spec),
                                           "conflict": False}))
            continue
        ordered = sorted((v for v in mine if v.choice is not None),
                         key=lambda v: (v.cast_at is not None, v.cast_at or datetime.min, v.room))
        counted = tuple(v for v in ordered if signed_enough(v, rule))
        choice: str | None = None
        conflict = False
        if counted:
            last = counted[-1].cast_at
            latest = {v.choice for v in counted if v.cast_at == last}
            conflict = len(latest) > 1
            choice = None if conflict else counted[-1].choice
        out.append(OwnerVote(key, tuple(v.room for v in mine), sum(v.area_centi for v in mine), choice,
                             tuple(ordered), counted, any(is_affected(v, spec) for v in mine), conflict))
    return out


def _notes(owner: OwnerVote) -> tuple[list[str], list[str]]:
    """(shortfalls, notes) about one owner's ballots: conflicts, uncounted signatures, disagreements settled."""
    shortfalls: list[str] = []
    notes: list[str] = []
    if len(owner.ballots) < 2 and len(owner.counted) == len(owner.ballots):
        return shortfalls, notes  # one ballot that counts (or none): nothing to say
    uncounted = [v for v in owner.ballots if v not in owner.counted]
    for v in uncounted:
        signers = "、".join(v.signed_by or ()) or _("nobody recorded")
        notes.append(_("room {room}: the ballot of {at} is not counted: signed by {signers}, but every co-owner "
                       "({names}) must sign").format(room=v.room, at=show(v.cast_at) if v.cast_at else "—",
                                                     signers=signers, names="、".join(v.co_owners)))
    if owner.conflict:
        last = owner.counted[-1].cast_at
        same = ", ".join(f"{v.room} {v.choice}" for v in owner.counted if v.cast_at == last)
        shortfalls.append(_("owner {key}: the ballots dated {at} disagree ({ballots}); one owner has one choice: "
                            "record the owner's ballot again").format(
            key=owner.key, at=show(last) if last else "—", ballots=same))
    elif len({v.choice for v in owner.counted}) > 1:
        latest = owner.counted[-1]
        notes.append(_("owner {key} voted differently for different flats ({choices}); the latest ballot "
                       "({choice}, room {room}) counts for all their flats ({rooms})").format(
            key=owner.key, choices=", ".join(sorted({str(v.choice) for v in owner.counted})),
            choice=latest.choice, room=latest.room, rooms=", ".join(owner.rooms)))
    return shortfalls, notes


def tally(voters: Sequence[Voter], rule: ConsentRule) -> Tally:
    """Count ``voters`` (one per flat) under ``rule``, per owner. Pure: same input, same result."""
    owners = owner_votes(voters, rule)
    counting = (AGREE, OPPOSE, ABSTAIN) if rule.abstain == "participates" else (AGREE, OPPOSE)
    area_total = area_part = area_agree = heads_part = 0
    heads = dict.fromkeys(CHOICES, 0)
    shortfalls: list[str] = []
    notes: list[str] = []
    for owner in owners:  # one pass: the sums, the heads, and what each owner's ballots call for
        area_total += owner.area_centi
        choice = owner.choice
        if choice in heads:
            heads[choice] += 1
        if choice in counting:  # participates(choice, rule)
            area_part += owner.area_centi
            heads_part += 1
        if choice == AGREE:
            area_agree += owner.area_centi
        owner_shortfalls, owner_notes = _notes(owner)
        shortfalls += owner_shortfalls
        notes += owner_notes
    participation_met = True
    if rule.participation is not None:
        p = rule.participation
        ok_area = meets(area_part, area_total, p.area)
        ok_heads = meets(heads_part, len(owners), p.headcount)
        participation_met = ok_area and ok_heads
        if not ok_area:
            shortfalls.append(_("participating area {part} of {total} m² is below {ratio}").format(
                part=area_text(area_part), total=area_text(area_total), ratio=p.area))
        if not ok_heads:
            shortfalls.append(_("participating owners {part} of {total} is below {ratio}").format(
                part=heads_part, total=len(owners), ratio=p.headcount))
    a = rule.agreement
    of_participants = rule.agreement_base == "participants"
    base_area, base_heads = (area_part, heads_part) if of_participants else (area_total, len(owners))
    ok_area = meets(area_agree, base_area, a.area)
    ok_heads = meets(heads[AGREE], base_heads, a.headcount)
    agreement_met = ok_area and ok_heads
    if base_heads == 0:
        shortfalls.append(_("no ballots counted yet"))
    else:
        if not ok_area:
            text = (_("agreeing area {part} of {total} m² is below {ratio} of the participants") if of_participants
                    else _("agreeing area {part} of {total} m² is below {ratio} of the whole unit"))
            shortfalls.append(text.format(part=area_text(area_agree), total=area_text(base_area), ratio=a.area))
        if not ok_heads:
            text = (_("agreeing owners {part} of {total} is below {ratio} of the participants") if of_participants
                    else _("agreeing owners {part} of {total} is below {ratio} of the whole unit"))
            shortfalls.append(text.format(part=heads[AGREE], total=base_heads, ratio=a.headcount))
    also_met = _also_required(owners, rule, shortfalls)
    conflicts = any(o.conflict for o in owners)
    return Tally(
        households=len(voters), owners=len(owners), participants=heads_part, agree=heads[AGREE],
        oppose=heads[OPPOSE], abstain=heads[ABSTAIN], area_total=area_text(area_total),
        area_participating=area_text(area_part), area_agree=area_text(area_agree),
        participation_met=participation_met, agreement_met=agreement_met,
        passed=participation_met and agreement_met and also_met is not False and not conflicts,
        rule=rule_dict(rule), shortfalls=shortfalls, conflicts=notes, also_required_met=also_met,
        owner_votes=tuple(owners),
    )


def _also_required(owners: list[OwnerVote], rule: ConsentRule, shortfalls: list[str]) -> bool | None:
    """Every directly affected owner agrees (None: the rule names none); appends who does not yet."""
    spec = rule.also_required
    if spec is None:
        return None
    missing = [o for o in owners if o.affected and o.choice != AGREE]
    if missing:
        who = ", ".join(f"{'/'.join(o.rooms)} ({o.choice or _('no ballot')})" for o in missing)
        shortfalls.append(_("directly affected owners must agree ({description}): not yet {owners}").format(
            description=spec.description, owners=who))
    return not missing
