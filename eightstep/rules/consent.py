"""The owner-consent tally (Civil Code art. 278 and local variants), in exact integer arithmetic.

Areas are whole hundredths of a square metre; ratios are Fractions; "以上" includes the boundary (art. 1259),
so exactly 2/3 or exactly 3/4 passes. Headcount counts owners, not flats: one owner of several flats (same
``owner_key``) counts once, and a developer's unsold flats share one key.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from fractions import Fraction
from typing import Any

from eightstep.workflow.schema import ConsentRule

AGREE, OPPOSE, ABSTAIN = "agree", "oppose", "abstain"
CHOICES = (AGREE, OPPOSE, ABSTAIN)


@dataclass(frozen=True)
class Voter:
    room: str
    owner_key: str
    area_centi: int
    choice: str | None = None  # None: no ballot (absent)
    cast_at: datetime | None = None


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
    conflicts: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def rule_dict(rule: ConsentRule) -> dict[str, Any]:
    """The rule as plain data (ratios as "2/3"), stored with every passed tally."""
    def thr(t: Any) -> dict[str, str] | None:
        return None if t is None else {"area": str(t.area), "headcount": str(t.headcount)}

    return {"description": rule.description, "participation": thr(rule.participation),
            "agreement": thr(rule.agreement), "agreement_base": rule.agreement_base, "abstain": rule.abstain}


def meets(part: int, whole: int, ratio: Fraction) -> bool:
    """part/whole >= ratio, exactly, boundary included. Nothing meets a ratio of an empty whole."""
    return whole > 0 and part * ratio.denominator >= ratio.numerator * whole


def area_text(centi: int) -> str:
    return f"{centi // 100}.{centi % 100:02d}"


def _when(v: Voter) -> float:
    return v.cast_at.timestamp() if v.cast_at else float("-inf")


def _owner_choices(voters: Sequence[Voter]) -> tuple[dict[str, str | None], list[str]]:
    """Each owner's headcount choice: the latest ballot among their flats; disagreeing flats are reported."""
    latest: dict[str, Voter] = {}
    seen: dict[str, set[str]] = {}
    owners: dict[str, None] = {}
    for v in voters:
        owners.setdefault(v.owner_key)
        if v.choice is None:
            continue
        seen.setdefault(v.owner_key, set()).add(v.choice)
        best = latest.get(v.owner_key)
        if best is None or _when(v) >= _when(best):
            latest[v.owner_key] = v
    conflicts = [
        f"owner {key} voted differently for different flats ({', '.join(sorted(choices))}); the latest ballot "
        f"({latest[key].choice}, room {latest[key].room}) counts for the headcount"
        for key, choices in seen.items() if len(choices) > 1
    ]
    return {key: (latest[key].choice if key in latest else None) for key in owners}, conflicts


def tally(voters: Sequence[Voter], rule: ConsentRule) -> Tally:
    """Count ``voters`` (one per flat) under ``rule``. Pure: same input, same result."""
    participates = {AGREE, OPPOSE, ABSTAIN} if rule.abstain == "participates" else {AGREE, OPPOSE}
    area_total = sum(v.area_centi for v in voters)
    area_part = sum(v.area_centi for v in voters if v.choice in participates)
    area_agree = sum(v.area_centi for v in voters if v.choice == AGREE)
    by_owner, conflicts = _owner_choices(voters)
    owners = len(by_owner)
    heads_part = sum(1 for c in by_owner.values() if c in participates)
    heads = {c: sum(1 for x in by_owner.values() if x == c) for c in CHOICES}

    shortfalls: list[str] = []
    participation_met = True
    if rule.participation is not None:
        p = rule.participation
        ok_area = meets(area_part, area_total, p.area)
        ok_heads = meets(heads_part, owners, p.headcount)
        participation_met = ok_area and ok_heads
        if not ok_area:
            shortfalls.append(f"参与表决面积不足 / participating area {area_text(area_part)} of "
                              f"{area_text(area_total)} m² is below {p.area}")
        if not ok_heads:
            shortfalls.append(f"参与表决人数不足 / participating owners {heads_part} of {owners} is below "
                              f"{p.headcount}")
    a = rule.agreement
    base_area, base_heads = (area_part, heads_part) if rule.agreement_base == "participants" else (
        area_total, owners)
    base_name = "参与表决" if rule.agreement_base == "participants" else "全体"
    ok_area = meets(area_agree, base_area, a.area)
    ok_heads = meets(heads[AGREE], base_heads, a.headcount)
    agreement_met = ok_area and ok_heads
    if base_heads == 0:
        shortfalls.append("尚无有效表决票 / no ballots counted yet")
    elif not ok_area:
        shortfalls.append(f"同意面积不足（{base_name}） / agreeing area {area_text(area_agree)} of "
                          f"{area_text(base_area)} m² is below {a.area}")
    if base_heads and not ok_heads:
        shortfalls.append(f"同意人数不足（{base_name}） / agreeing owners {heads[AGREE]} of {base_heads} is below "
                          f"{a.headcount}")
    return Tally(
        households=len(voters), owners=owners, participants=heads_part, agree=heads[AGREE],
        oppose=heads[OPPOSE], abstain=heads[ABSTAIN], area_total=area_text(area_total),
        area_participating=area_text(area_part), area_agree=area_text(area_agree),
        participation_met=participation_met, agreement_met=agreement_met,
        passed=participation_met and agreement_met, rule=rule_dict(rule), shortfalls=shortfalls,
        conflicts=conflicts,
    )
