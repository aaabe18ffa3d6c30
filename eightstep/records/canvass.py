"""The canvass log (推): visits and calls to households, their stance and concerns, and whom to visit next.

``canvass_list`` orders households by what their agreement would do for the vote (the what-if): first those
whose agreement leaves the fewest owners still to win, then those that bring the tally nearest to its
thresholds, then by stance (supportive, hesitant, not yet visited, opposed), then by floor and room. ``in_plan``
marks one smallest set of owners that would carry the vote (the likelier households among equals).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import select

from eightstep.engine.ballots import current_ballots, voters
from eightstep.engine.cases import load_records
from eightstep.engine.recording import recording
from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.records.votes import consent_rule
from eightstep.store import read, rows, tables
from eightstep.store.tables import not_voided
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, now_utc

if TYPE_CHECKING:  # the what-if and the rule's types only where the list is made: `canvass add` starts without them
    from eightstep.rules.consent import Voter
    from eightstep.rules.whatif import WhatIf
    from eightstep.workflow.schema import ConsentRule

STANCES: dict[str, tuple[str, str]] = {
    "supportive": ("支持", "supportive"), "hesitant": ("犹豫", "hesitant"), "opposed": ("反对", "opposed")}
STANCE_WORDS = {"supportive": "supportive", "support": "supportive", "支持": "supportive", "同意": "supportive",
                "hesitant": "hesitant", "犹豫": "hesitant", "观望": "hesitant", "undecided": "hesitant",
                "opposed": "opposed", "oppose": "opposed", "反对": "opposed"}
STANCE_RANK = {"supportive": 0, "hesitant": 1, None: 2, "opposed": 3}  # who is likeliest to agree

# kind -> (中文, English, words that name it). Chinese words match anywhere, English ones as whole words.
CONCERN_KINDS: dict[str, tuple[str, str, tuple[str, ...]]] = {
    "light": ("采光", "light", ("采光", "光线", "挡光", "遮光", "日照", "阳光", "light", "sunlight", "dark")),
    "noise": ("噪音", "noise", ("噪音", "噪声", "吵", "声音", "振动", "震动", "noise", "noisy", "vibration")),
    "cost": ("费用", "cost", ("费用", "出钱", "出资", "分摊", "价格", "贵", "钱", "补偿", "电费", "维保费", "cost",
                              "costs", "price", "fee", "fees", "pay", "money", "expensive")),
    "space": ("公共空间", "public space", ("公共空间", "占用", "绿地", "绿化", "楼道", "通道", "停车", "空间",
                                           "space", "green", "parking", "corridor")),
    "privacy": ("隐私", "privacy", ("隐私", "视线", "窥", "privacy", "overlooked")),
    "ventilation": ("通风", "ventilation", ("通风", "空气", "闷", "ventilation", "air", "airflow")),
    "safety": ("安全", "safety", ("安全", "结构", "地基", "消防", "safety", "structure", "structural", "fire")),
    "other": ("其他", "other", ()),
}


def _pattern(word: str) -> str:
    return rf"\b{re.escape(word)}\b" if word.isascii() else re.escape(word)


_MATCHERS = {kind: re.compile("|".join(_pattern(w) for w in words), re.IGNORECASE)
             for kind, (_zh, _en, words) in CONCERN_KINDS.items() if words}


def classify(text: str) -> list[str]:
    """The kinds of concern a remark names, in a fixed order; ``["other"]`` when it names none."""
    found = [kind for kind, matcher in _MATCHERS.items() if matcher.search(text)]
    return found or ["other"]


def stance_of(text: str) -> str:
    stance = STANCE_WORDS.get(text.strip().lower())
    if stance is None:
        raise InputError(_("{text!r}: use supportive (支持), hesitant (犹豫) or opposed (反对)").format(
                             text=text), field="stance")
    return stance


@dataclass(frozen=True)
class Entry:
    id: int
    room: str
    stance: str
    concern: str | None
    kinds: list[str]
    by: str | None
    at: datetime

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "room": self.room, "stance": self.stance, "concern": self.concern,
                "kinds": self.kinds, "by": self.by, "at": self.at}


def _entry(row: Any, room: str) -> Entry:
    return Entry(row.id or 0, room, row.stance, row.concern, [k for k in row.kinds.split(",") if k],
                 row.visited_by, as_utc(row.at))


def add_entry(ws: Workspace, case_id: str, room: str, *, stance: str, concern: str | None = None,
              kinds: list[str] | None = None, by: str | None = None, at: datetime | None = None,
              actor: str | None = None, as_role: str | None = None) -> Entry:
    """Log a visit or call: the household's stance and, if any, its concern (kinds classified from the text
    unless given)."""
    stance = stance_of(stance)
    concern = concern.strip() if concern and concern.strip() else None
    if kinds:
        unknown = [k for k in kinds if k not in CONCERN_KINDS]
        if unknown:
            raise InputError(_("{unknown}: use {concern_kinds}").format(
                                 unknown=', '.join(unknown), concern_kinds=', '.join(CONCERN_KINDS)), field="kind")
        kinds = list(dict.fromkeys(kinds))
    else:
        kinds = classify(concern) if concern else []
    with recording(ws, case_id, "canvass.add", at=at, actor=actor, as_role=as_role, core=True) as rec:
        flat = rec.household(room)
        row = rec.add(rows.CanvassEntry(case_id=case_id, household_id=flat.id or 0, stance=stance, concern=concern,
                                          kinds=",".join(kinds), visited_by=(by or "").strip() or rec.actor,
                                          at=rec.at, recorded_at=now_utc()), with_id=True)
        rec.details = {"room": room, "stance": stance, "concern": concern, "kinds": kinds, "by": row.visited_by}
    return _entry(row, room)


# --- the what-if of a case -------------------------------------------------------------------------------

@dataclass(frozen=True)
class CaseVoters:
    rule: ConsentRule
    voters: list[Voter]
    households: Sequence[Any]  # the read layer's household rows
    ballots: dict[int, str]  # household id -> current choice


def case_voters(ws: Workspace, case_id: str) -> CaseVoters:
    with ws.engine.connect() as conn:
        loaded = read.workflow(conn, ws.workflows, read.case(conn, case_id))
        records = load_records(conn, case_id)
    _stage, rule = consent_rule(loaded.definition)
    if not records.households:
        raise InputError(_("case {case} has no households yet").format(case=case_id),
                         remedy=Remedy("household.import", {"case": case_id}))
    ballots = {hid: b.choice for hid, b in current_ballots(records.ballots, None, records.evidence_from).items()}
    return CaseVoters(rule, voters(records, None), records.households, ballots)


def case_what_if(ws: Workspace, case_id: str, exclude: list[str] | None = None) -> WhatIf:
    """What it takes for the case's vote to pass; owners of the ``exclude`` rooms are taken as not moving."""
    from eightstep.rules.whatif import what_if

    data = case_voters(ws, case_id)
    rooms = {h.room: h for h in data.households}
    unknown = [r for r in exclude or [] if r not in rooms]
    if unknown:
        raise InputError(_("case {case} has no room {unknown}").format(
                             case=case_id, unknown=', '.join(map(repr, unknown))), field="exclude")
    return what_if(data.voters, data.rule, {rooms[r].owner_key for r in exclude or []})


# --- the list --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Row:
    rank: int | None  # None: already agrees (nothing to win)
    room: str
    floor: int
    owner: str
    ballot: str | None
    stance: str | None
    stance_at: datetime | None
    visits: int
    concerns: list[Entry]  # entries with a concern, newest first
    in_plan: bool
    needed_after: int | None

    def as_dict(self) -> dict[str, Any]:
        return {"rank": self.rank, "room": self.room, "floor": self.floor, "owner": self.owner,
                "ballot": self.ballot, "stance": self.stance, "stance_at": self.stance_at, "visits": self.visits,
                "in_plan": self.in_plan, "needed_after": self.needed_after,
                "concerns": [{"id": e.id, "at": e.at, "kinds": e.kinds, "text": e.concern, "by": e.by}
                             for e in self.concerns]}


@dataclass(frozen=True)
class ConcernSummary:
    kind: str
    title: str
    households: int  # raised it at some time
    open: int  # ... and are not supportive at their latest visit
    floors: dict[int, int]  # floor -> households that raised it

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "title": self.title, "households": self.households, "open": self.open,
                "floors": {str(f): n for f, n in sorted(self.floors.items())}}


@dataclass(frozen=True)
class CanvassList:
    case_id: str
    whatif: WhatIf
    rows: list[Row]
    concerns: list[ConcernSummary]

    def as_dict(self) -> dict[str, Any]:
        return {"case": self.case_id, "passed": self.whatif.passed, "needed": self.whatif.needed,
                "plan": self.whatif.rooms, "households": [r.as_dict() for r in self.rows],
                "concerns": [c.as_dict() for c in self.concerns]}


def canvass_list(ws: Workspace, case_id: str) -> CanvassList:
    """Every household, the ones to visit first on top, with its latest stance and its concerns; and the
    concerns by kind and floor (what the negotiation must answer)."""
    from eightstep.rules.money import room_order
    from eightstep.rules.whatif import gains, what_if

    data = case_voters(ws, case_id)
    entries_table = tables.canvass_entries
    with ws.engine.connect() as conn:
        logged = conn.execute(select(entries_table).where(entries_table.c.case_id == case_id,
                                                          not_voided(entries_table))
                              .order_by(entries_table.c.at, entries_table.c.id)).all()
    by_id = {h.id: h for h in data.households}
    entries: dict[str, list[Entry]] = {}
    for row in logged:
        room = by_id[row.household_id].room
        entries.setdefault(room, []).append(_entry(row, room))
    latest = {room: items[-1] for room, items in entries.items()}

    def owner_stance(rooms: tuple[str, ...]) -> str | None:
        seen = [latest[r] for r in rooms if r in latest]
        return max(seen, key=lambda e: (e.at, e.id)).stance if seen else None

    place = {h.room: room_order(h) for h in data.households}
    owner_rooms: dict[str, list[str]] = {}
    for h in data.households:
        owner_rooms.setdefault(h.owner_key, []).append(h.room)
    prefer = {key: STANCE_RANK[owner_stance(tuple(rooms))] for key, rooms in owner_rooms.items()}
    result = what_if(data.voters, data.rule, prefer=prefer)
    unreachable = len(data.voters) + 1
    ranked = sorted(gains(data.voters, data.rule, prefer=prefer), key=lambda g: (
        unreachable if g.needed_after is None else g.needed_after, -g.closeness_after, prefer[g.candidate.owner_key],
        min(place[r] for r in g.candidate.rooms)))
    order: dict[str, tuple[int, bool, int | None]] = {}
    for number, gain in enumerate(ranked, start=1):
        for room in gain.candidate.rooms:
            order[room] = (number, gain.in_plan, gain.needed_after)
    out = []
    for h in data.households:
        rank, in_plan, needed_after = order.get(h.room, (None, False, None))
        mine = entries.get(h.room, [])
        out.append(Row(rank, h.room, h.floor, h.owner, data.ballots.get(h.id or -1), mine[-1].stance if mine else None,
                       mine[-1].at if mine else None, len(mine), [e for e in reversed(mine) if e.concern or e.kinds],
                       in_plan, needed_after))
    out.sort(key=lambda r: (r.rank is None, r.rank or 0, place[r.room]))
    return CanvassList(case_id, result, out, _summary(data.households, entries))


def _summary(households: Sequence[Any], entries: dict[str, list[Entry]]) -> list[ConcernSummary]:
    floors = {h.room: h.floor for h in households}
    out = []
    for kind, (title, _en, _words) in CONCERN_KINDS.items():
        rooms = [room for room, items in entries.items() if any(kind in e.kinds for e in items)]
        if not rooms:
            continue
        by_floor: dict[int, int] = {}
        for room in rooms:
            by_floor[floors[room]] = by_floor.get(floors[room], 0) + 1
        still = sum(1 for room in rooms if entries[room][-1].stance != "supportive")
        out.append(ConcernSummary(kind, title, len(rooms), still, by_floor))
    out.sort(key=lambda c: (-c.open, -c.households, list(CONCERN_KINDS).index(c.kind)))
    return out
