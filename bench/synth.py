"""One synthetic case of the wuhan workflow: where it stands, since when, and every row that says so.

Pure Python, no database: :class:`CaseFactory` turns a seeded random generator into the rows of one case
(households, ballots, documents, approvals, objections, mediation steps, consent record, events with a valid
hash chain, and the case row itself), as tuples in the column order of :data:`COLUMNS`, times already written as
the database stores them. ``bench.generate`` writes them in bulk. Built for speed (1M cases, 50M rows, in
minutes): times are whole minutes since :data:`EPOCH` until they are written, from precomputed day and clock
strings; the JSON encoders are built once.

The spread (documented in docs/benchmarks.md):

* stages: 22 % consent, 8 % survey, 12 % agreement, 8 % design and notice, 6 % joint review, 10 %
  construction, 5 % acceptance, 29 % in operation;
* status: 96 % active, 2.5 % suspended (half of them past their review date), 1.5 % withdrawn;
* time in the current stage: uniform within the stage's stall limit for most cases, 1.1-3x the limit for
  ``stalled_share`` of them (default 5 %);
* the current stage's requirements are all met for ``ready_share`` of the cases (default 35 %; the rest miss
  some of them: a document, an approval, ballots, a notice still running, an open objection);
* 12-24 households per unit (6-8 floors above the ground floor, 2-3 flats a floor), ballots for every case
  that reached or passed the vote, the documents and approvals of every stage passed, a few objections at the
  notice stage, the latest maintenance record and periodic inspection of each elevator in operation;
* events: open, household import, vote import, suspend/withdraw, and one advance per stage passed (consent
  with its tally), hashed exactly as ``eightstep.engine.events`` does.
"""

from __future__ import annotations

import hashlib
import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from json.encoder import encode_basestring
from typing import Any

from bench.fasttally import FastTally
from eightstep.engine.events import GENESIS
from eightstep.rules.consent import Voter, tally
from eightstep.workflow.schema import Stage, Workflow

REF_DAY = date(2026, 10, 30)  # the as-of date of every generated database: nothing happens after it
EPOCH = date(2000, 1, 1)  # synthetic times are whole minutes (UTC) since its midnight UTC
EPOCH_UTC = datetime(EPOCH.year, EPOCH.month, EPOCH.day, tzinfo=UTC)
SHANGHAI_MINUTES = 8 * 60  # Asia/Shanghai has no daylight saving: local = UTC + 8 h
OFFICER = "社区干事 bench"

STAGE_SHARES = {"consent": 22, "survey": 8, "agreement": 12, "design_notice": 8, "joint_review": 6,
                "construction": 10, "acceptance": 5, "operation": 29}
READY_SHARE = 0.35
SUSPENDED_SHARE = 0.025
WITHDRAWN_SHARE = 0.015
OBJECTION_SHARE = 0.12  # of cases at the notice stage
MAINTENANCE_LATE_SHARE = 0.04
DISTRICTS = ("江岸区", "江汉区", "硚口区", "汉阳区", "武昌区", "青山区", "洪山区", "东西湖区", "蔡甸区", "江夏区",
             "黄陂区", "新洲区", "汉南区")
STEMS = ("幸福", "和平", "人大", "建设", "工农", "红旗", "友谊", "钢花", "水果湖", "东亭", "车辆厂", "中南",
         "铁机", "青和", "南湖", "紫阳", "民主", "长江", "汉阳造", "航空路")
SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = ("建华", "秀英", "桂兰", "德明", "志强", "玉珍", "国庆", "春梅", "文斌", "淑芬", "红霞", "立新", "美华")
NAMES = tuple(s + g for s in SURNAMES for g in GIVEN)

# The columns each table is written with, in the order of the factory's tuples.
COLUMNS: dict[str, tuple[str, ...]] = {
    "complexes": ("id", "name", "district", "street", "community", "created_at"),
    "cases": ("id", "complex_id", "building", "unit", "workflow_id", "workflow_version", "workflow_sha256",
              "stage", "status", "status_reason", "review_at", "opened_at", "stage_entered_at",
              "clock_started_at", "suspended_at", "event_count", "last_hash", "version", "maintained_at",
              "inspected_at", "evidence_from"),
    "households": ("id", "case_id", "room", "floor", "area_centi", "owner", "owner_key", "phone"),
    "ballots": ("id", "case_id", "household_id", "choice", "cast_at", "recorded_at"),
    "documents": ("id", "case_id", "kind", "stage", "issued_at", "issuer", "number", "original_name", "sha256",
                  "size", "recorded_at"),
    "approvals": ("id", "case_id", "kind", "authority", "decision", "decided_at", "number", "note",
                  "recorded_at"),
    "objections": ("id", "case_id", "room", "objector", "grounds", "written", "real_name", "stage", "status",
                   "lodged_at", "outcome", "resolved_at"),
    "mediation_steps": ("id", "objection_id", "step", "note", "at", "actor"),
    "consent_records": ("id", "case_id", "stage", "at", "rule", "tally"),
    "events": ("id", "case_id", "seq", "business_at", "recorded_at", "actor", "action", "from_stage", "to_stage",
               "note", "details", "prev_hash", "hash"),
}
TABLES = tuple(COLUMNS)  # in foreign-key order

# -- times: whole minutes since EPOCH (UTC) ------------------------------------------------------------------

_DAYS = [(EPOCH + timedelta(days=d)).isoformat() for d in range(12_000)]  # 2000-01-01 .. 2032
_CLOCK = [f" {m // 60:02d}:{m % 60:02d}:00.000000" for m in range(1440)]  # as SQLAlchemy stores a DateTime
_CLOCK_Z = [f"T{m // 60:02d}:{m % 60:02d}:00.000000Z" for m in range(1440)]  # as eightstep.engine.events hashes
_CLOCK_LOCAL = [f"T{m // 60:02d}:{m % 60:02d}:00+08:00" for m in range(1440)]  # as timeutil.iso_local writes


def in_legal_order(stage: Any, times: dict[str, int]) -> dict[str, int]:
    """``times`` (record kind -> minutes) moved so that the stage's order rules hold: a later record (works
    finished, use registration) is never dated before the record the law puts first."""
    for _pass in stage.requires.order:
        for rule in stage.requires.order:
            if rule.ordered and rule.earlier in times and rule.later in times:
                times[rule.later] = max(times[rule.later], times[rule.earlier])
    return times


def day_number(day: date) -> int:
    return (day - EPOCH).days


def local(day: int, hour: int, minute: int = 0) -> int:
    """Day number ``day`` at ``hour:minute`` Asia/Shanghai, in minutes (UTC)."""
    return day * 1440 + hour * 60 + minute - SHANGHAI_MINUTES


def stored(minutes: int) -> str:
    """A time as the database stores it (SQLAlchemy's DateTime on SQLite: UTC, no offset)."""
    return _DAYS[minutes // 1440] + _CLOCK[minutes % 1440]


def local_iso(minutes: int) -> str:
    """A time as eightstep reports it in Asia/Shanghai (``timeutil.iso_local``)."""
    here = minutes + SHANGHAI_MINUTES
    return _DAYS[here // 1440] + _CLOCK_LOCAL[here % 1440]


def stamp(minutes: int) -> str:
    """A time as ``eightstep.engine.events`` hashes it."""
    return _DAYS[minutes // 1440] + _CLOCK_Z[minutes % 1440]


def aware(minutes: int) -> datetime:
    return EPOCH_UTC + timedelta(minutes=minutes)


def stored_time(at: datetime) -> str:
    """An aware datetime as the database stores it."""
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


_DETAILS = json.JSONEncoder(ensure_ascii=False, sort_keys=True, default=str).encode  # engine.events.details_text
_str = encode_basestring  # a str as json.dumps(..., ensure_ascii=False) writes it
_TEXTS: dict[str | None, str] = {None: "null"}


def _text(value: str | None) -> str:
    """A str or None as JSON, remembered (actors, actions, stages and notes repeat)."""
    out = _TEXTS.get(value)
    if out is None:
        out = _TEXTS[value] = _str(value)  # type: ignore[arg-type]
    return out


_RULE = "@rule@"  # stands for the consent rule while a tally is encoded
_RULE_JSON = json.dumps(_RULE)
_OWNERS = "@per_owner@"  # stands for the per-owner report while a tally is encoded
_OWNERS_JSON = json.dumps(_OWNERS)


def _template(encode: Any, keys: list[str]) -> str:
    """``encode`` of a dict with ``keys`` as a ``str.format`` template with one field per key (the values are
    filled in already encoded)."""
    text = encode({key: f"@{key}@" for key in keys}).replace("{", "{{").replace("}", "}}")
    for key in keys:
        text = text.replace(json.dumps(f"@{key}@"), "{" + key + "}", 1)
    return text


def _scalar(value: Any) -> str:
    """A value of a tally (a number, a text, a flag, None or an empty list) as JSON."""
    if value is True:
        return "true"
    if value is False:
        return "false"
    if value is None:
        return "null"
    if type(value) is int:
        return str(value)
    if type(value) is str:
        return _str(value)
    if value == []:
        return "[]"
    raise TypeError(f"not a scalar of a tally: {value!r}")


def details_json(details: dict[str, Any]) -> str:
    """The event details exactly as ``eightstep.engine.events`` stores them."""
    return _DETAILS(details)


@dataclass
class Ids:
    """Explicit primary keys, so that ballots can name their households without reading them back."""

    household: int = 0
    ballot: int = 0
    document: int = 0
    approval: int = 0
    objection: int = 0
    mediation: int = 0
    consent: int = 0
    event: int = 0

    def next(self, name: str) -> int:
        value = getattr(self, name) + 1
        setattr(self, name, value)
        return value


@dataclass
class Rows:
    """The rows of a chunk of cases, one list of tuples per table (columns: :data:`COLUMNS`)."""

    complexes: list[tuple[Any, ...]] = field(default_factory=list)
    cases: list[tuple[Any, ...]] = field(default_factory=list)
    households: list[tuple[Any, ...]] = field(default_factory=list)
    ballots: list[tuple[Any, ...]] = field(default_factory=list)
    documents: list[tuple[Any, ...]] = field(default_factory=list)
    approvals: list[tuple[Any, ...]] = field(default_factory=list)
    objections: list[tuple[Any, ...]] = field(default_factory=list)
    mediation_steps: list[tuple[Any, ...]] = field(default_factory=list)
    consent_records: list[tuple[Any, ...]] = field(default_factory=list)
    events: list[tuple[Any, ...]] = field(default_factory=list)

    def count(self) -> int:
        return sum(len(v) for v in vars(self).values())


def limit_days(stage: Stage) -> int:
    """The stage's stall limit in (approximate) calendar days; working days x 1.45."""
    if stage.stall_limit is None:
        return 400
    factor = 1.45 if stage.stall_limit.calendar == "working" else 1.0
    return max(1, round(stage.stall_limit.days * factor))


class CaseFactory:
    """Makes the rows of one case after another, from one seeded random generator (deterministic)."""

    def __init__(self, wf: Workflow, sha256: str, rng: random.Random, *, stalled_share: float = 0.05,
                 ready_share: float = READY_SHARE, ref_day: date = REF_DAY) -> None:
        self.wf = wf
        self.sha256 = sha256
        self.rng = rng
        self.stalled_share = stalled_share
        self.ready_share = ready_share
        self.ref = day_number(ref_day)
        self.ids = Ids()
        self.stage_ids = wf.stage_ids()
        self.stage_weights = [STAGE_SHARES.get(s, 1) for s in self.stage_ids]
        self.stages = [wf.stage(s) for s in self.stage_ids]
        self.limits = [limit_days(s) for s in self.stages]
        self.authority = {k: wf.authorities[spec.authority].title for k, spec in wf.approvals.items()}
        rule = self.stages[0].requires.consent
        assert rule is not None, "the first stage of the workflow takes the vote"
        self.rule = rule
        self.workflow_json = _DETAILS({"id": wf.id, "version": wf.version, "sha256": sha256})
        rule_dict = tally([Voter("101", "k", 1, floor=1)], rule).rule
        self.tally = FastTally(rule)
        self.rule_json = (json.dumps(rule_dict, ensure_ascii=False), _DETAILS(rule_dict))  # as stored, as hashed
        fields = self.tally.fields  # a fast tally's dict has the keys in this order
        self.tally_templates = (_template(lambda d: _DETAILS({"consent": d}), fields),
                                _template(lambda d: json.dumps(d, ensure_ascii=False), fields))
        self.upkeep_dates: dict[str, tuple[str | None, str | None]] = {}  # case id -> maintained_at, inspected_at

    # -- randomness ------------------------------------------------------------------------------------

    def hex(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def when(self, start: int, end: int) -> int:
        """A working-hours moment (09:00-17:00 local) on a day in [start, end] (end >= start), in minutes."""
        r = self.rng.random
        span = end - start + 1 if end > start else 1
        return start * 1440 - SHANGHAI_MINUTES + int(r() * span) * 1440 + 540 + int(r() * 480)

    def person(self) -> str:
        return NAMES[int(self.rng.random() * len(NAMES))]

    # -- one case --------------------------------------------------------------------------------------

    def case(self, rows: Rows, case_id: str, complex_id: int, complex_name: str, building: int, unit: int,
             stage_id: str | None = None, ready: bool | None = None, age: int | None = None) -> None:
        """Append the rows of one case to ``rows``. ``stage_id``/``ready``/``age`` fix what is random."""
        rng = self.rng
        stage_id = stage_id or rng.choices(self.stage_ids, self.stage_weights)[0]
        index = self.stage_ids.index(stage_id)
        final = index == len(self.stage_ids) - 1
        if age is None:
            limit = self.limits[index]
            stalled = not final and rng.random() < self.stalled_share
            age = round(limit * (rng.uniform(1.1, 3.0) if stalled else rng.uniform(0.0, 0.95)))
            if final:
                age = rng.randint(5, 1300)
        ready = rng.random() < self.ready_share if ready is None else ready
        notice = self.stages[index].requires.notice
        if ready and notice is not None:
            age = max(age, 18)  # a stage whose requirements are all met has had its notice run
        # Entry days of every stage up to the current one, walking back from the current entry.
        entries = [self.ref - age]
        for earlier in range(index - 1, -1, -1):
            spent = round(self.limits[earlier] * rng.uniform(0.3, 0.9))
            if self.stage_ids[earlier] == "design_notice":
                spent = max(spent, 18)  # the 10-working-day notice must have run
            entries.insert(0, entries[0] - max(spent, 2))
        opened = local(entries[0], 9)
        chain = Chain(case_id)
        # details_json({"building": ..., "complex": ..., "unit": ..., "workflow": {...}}), written out
        chain.add(opened, "open", None, self.stage_ids[0], OFFICER, {},
                  body=f'{{"building": "{building}", "complex": {_str(complex_name)}, "unit": "{unit}", '
                       f'"workflow": {self.workflow_json}}}')
        households = self.households(rows, case_id)
        chain.add(local(entries[0], 10), "household.import", self.stage_ids[0], self.stage_ids[0], OFFICER, {},
                  body=f'{{"added": {len(households)}, "file": "业主名册.csv", "updated": 0}}')
        for i in range(index + 1):
            sid = self.stage_ids[i]
            start = entries[i]
            current = i == index
            end = self.ref if current else entries[i + 1]
            leave = None if current else local(end, 17)
            self.stage_records(rows, case_id, self.stages[i], start, end, households, chain,
                               met=ready or not current, current=current, leave=leave)
            if leave is not None:
                details: dict[str, Any] = {}
                body = None
                if chain.tally is not None:
                    body, tally_json = self.tally_json(chain.tally, chain.owners_json)
                    rows.consent_records.append((self.ids.next("consent"), case_id, sid, stored(leave),
                                                 self.rule_json[0], tally_json))
                    chain.tally = None
                chain.add(leave, "advance", sid, self.stage_ids[i + 1], OFFICER, details, body=body)
        status, reason, suspended_at, review_at = self.status(final, entries[-1], chain, stage_id)
        chain.write(rows.events, self.ids)
        entered = local(entries[-1], 17) if index else opened
        rows.cases.append(self.case_row(case_id, complex_id, building, unit, stage_id, opened, entered, chain,
                                        status=status, reason=reason, suspended_at=suspended_at,
                                        review_at=review_at))

    def tally_json(self, result: dict[str, Any], owners: tuple[str, str] | None) -> tuple[str, str]:
        """(the advance event's details, the consent record's tally) of a passed tally, as ``json.dumps`` writes
        them; the rule (the same for every case) encoded once, the per-owner report as the fast tally wrote it
        (``owners``: plain and with sorted keys), if it did (then the rest is written into templates)."""
        if owners is not None:
            values = {key: _scalar(value) for key, value in result.items() if key not in ("rule", "per_owner")}
            return (self.tally_templates[0].format(rule=self.rule_json[1], per_owner=owners[1], **values),
                    self.tally_templates[1].format(rule=self.rule_json[0], per_owner=owners[0], **values))
        short = {**result, "rule": _RULE, "per_owner": _OWNERS}
        details = _DETAILS({"consent": short}).replace(_RULE_JSON, self.rule_json[1], 1)
        record = json.dumps(short, ensure_ascii=False).replace(_RULE_JSON, self.rule_json[0], 1)
        plain, ordered = owners if owners else (json.dumps(result["per_owner"], ensure_ascii=False),
                                                _DETAILS(result["per_owner"]))
        return details.replace(_OWNERS_JSON, ordered, 1), record.replace(_OWNERS_JSON, plain, 1)

    def case_row(self, case_id: str, complex_id: int, building: int, unit: int, stage_id: str, opened: int,
                 entered: int, chain: Chain, *, status: str = "active", reason: str | None = None,
                 suspended_at: int | None = None, review_at: int | None = None) -> tuple[Any, ...]:
        """The case row; ``chain`` has been written (its head and length are the case's)."""
        maintained, inspected = self.upkeep_dates.pop(case_id, (None, None))
        return (case_id, complex_id, str(building), str(unit), self.wf.id, self.wf.version, self.sha256,
                stage_id, status, reason, None if review_at is None else stored(review_at), stored(opened),
                stored(entered), stored(entered), None if suspended_at is None else stored(suspended_at),
                chain.seq, chain.head,
                chain.seq + 1,  # the ORM's counter: 1 on insert, +1 with every event
                maintained, inspected, None)

    def status(self, final: bool, entered: int, chain: Chain, stage_id: str
               ) -> tuple[str, str | None, int | None, int | None]:
        roll = self.rng.random()
        if final or roll >= SUSPENDED_SHARE + WITHDRAWN_SHARE:
            return "active", None, None, None
        last_day = min(max(entered, self.ref - self.rng.randint(1, 200)), self.ref)
        when = local(last_day, 18)
        if roll < SUSPENDED_SHARE:
            review = local(last_day + self.rng.randint(20, 120), 9)
            chain.add(when, "suspend", stage_id, stage_id, OFFICER,
                      {"review_at": aware(review).isoformat(), "status": {"from": "active", "to": "suspended"}},
                      note="业主诉讼，待判决")
            return "suspended", "业主诉讼，待判决", when, review
        chain.add(when, "withdraw", stage_id, stage_id, OFFICER, {"status": {"from": "active", "to": "withdrawn"}},
                  note="业主放弃加装")
        return "withdrawn", "业主放弃加装", None, None

    def households(self, rows: Rows, case_id: str) -> list[tuple[int, str, int, str, int]]:
        """12-24 flats: (id, room, area_centi, owner_key, floor)."""
        rng = self.rng
        r = rng.random
        floors = rng.randint(6, 8)
        per_floor = rng.choice((2, 2, 3)) if floors * 3 <= 24 else 2
        out = []
        shared = r() < 0.05  # one owner holds two flats
        append = rows.households.append
        hid = self.ids.household
        for floor in range(2, floors + 2):
            for flat in range(1, per_floor + 1):
                hid += 1
                room = f"{floor}0{flat}"
                key = "P-shared" if shared and floor == 5 else "room:" + room
                area = 6500 + int(r() * 5500)
                out.append((hid, room, area, key, floor))
                append((hid, case_id, room, floor, area, NAMES[int(r() * len(NAMES))], key,
                        f"139{rng.getrandbits(26):08d}" if r() < 0.3 else None))
        self.ids.household = hid
        return out

    # -- the requirements of one stage -----------------------------------------------------------------

    def stage_records(self, rows: Rows, case_id: str, stage: Stage, start: int, end: int,
                      households: list[tuple[int, str, int, str, int]], chain: Chain, *, met: bool, current: bool,
                      leave: int | None) -> None:
        """The records that (when ``met``) satisfy the stage's guards, dated within [start, end] (day numbers)."""
        req = stage.requires
        kinds = list(req.documents)
        approvals = req.approvals
        missing: set[str] = set()
        if not met:
            pool = [*kinds, *approvals] + (["consent"] if req.consent else []) + (
                ["objection"] if req.no_open_objections else [])
            missing = set(self.rng.sample(pool, self.rng.randint(1, max(1, len(pool) // 2))))
        last = end if current else end - 1
        last = max(last, start)
        if req.consent is not None:
            self.ballots(rows, case_id, households, start, last, chain, enough="consent" not in missing)
        if req.notice is not None and req.notice.document in kinds:
            kinds.remove(req.notice.document)
            if req.notice.document not in missing:
                posted = min(start + 1, last)
                self.document(rows, case_id, req.notice.document, stage.id, local(posted, 9), leave)
        times = in_legal_order(stage, {kind: self.when(start, last) for kind in [*kinds, *approvals]
                                       if kind not in missing})
        for kind in kinds:
            if kind not in missing:
                self.document(rows, case_id, kind, stage.id, times[kind], leave)
        for kind in approvals:
            if kind in missing:
                if self.rng.random() < 0.15:  # refused: a new application is needed
                    self.approval(rows, case_id, kind, self.when(start, last), "rejected")
                continue
            self.approval(rows, case_id, kind, times[kind], "approved")
        if req.no_open_objections and ("objection" in missing or self.rng.random() < OBJECTION_SHARE):
            self.objection(rows, case_id, households, stage.id, start, last, open_="objection" in missing)
        if stage.id == "operation":
            self.upkeep(rows, case_id, start)

    def document(self, rows: Rows, case_id: str, kind: str, stage_id: str, issued: int, leave: int | None) -> None:
        if leave is not None and issued > leave:
            issued = leave - 60
        ids = self.ids
        ids.document += 1
        rows.documents.append((ids.document, case_id, kind, stage_id, stored(issued), None, None, kind + ".pdf",
                               f"{self.rng.getrandbits(256):064x}", 20_000 + int(self.rng.random() * 1_980_000),
                               stored(issued + 30)))

    def approval(self, rows: Rows, case_id: str, kind: str, decided: int, decision: str) -> None:
        rows.approvals.append((self.ids.next("approval"), case_id, kind, self.authority[kind], decision,
                               stored(decided), f"审批〔{_DAYS[decided // 1440][:4]}〕{self.rng.randint(1, 999)}号",
                               None, stored(decided + 30)))

    def ballots(self, rows: Rows, case_id: str, households: list[tuple[int, str, int, str, int]], start: int,
                last: int, chain: Chain, *, enough: bool) -> None:
        """Ballots of the vote; ``enough``: the rule passes (re-drawn until it does)."""
        r = self.rng.random
        base = start * 1440 - SHANGHAI_MINUTES + 540  # self.when(start, last), written out
        span = last - start + 1 if last > start else 1
        for attempt in range(20):
            turnout = 0.85 + 0.15 * r() if enough else 0.1 + 0.5 * r()
            cast: dict[int, tuple[str, int]] = {}
            for hid, _room, _area, _key, _floor in households:
                if r() >= turnout:
                    continue
                roll = r()
                choice = "agree" if enough and attempt > 10 else (
                    "agree" if roll < 0.88 else "oppose" if roll < 0.95 else "abstain")
                cast[hid] = (choice, base + int(r() * span) * 1440 + int(r() * 480))
            passed, result = self.tally(households, cast, local_iso, aware)
            if passed == enough:
                break
        chain.owners_json = self.tally.owners_json if result is not None else None
        append = rows.ballots.append
        ballot = self.ids.ballot
        days, clock = _DAYS, _CLOCK
        for hid, (choice, when) in cast.items():
            ballot += 1
            recorded = when + 120
            append((ballot, case_id, hid, choice, days[when // 1440] + clock[when % 1440],
                    days[recorded // 1440] + clock[recorded % 1440]))
        self.ids.ballot = ballot
        if cast:
            chain.add(max(when for _choice, when in cast.values()), "vote.import", self.stage_ids[0],
                      self.stage_ids[0], OFFICER, {}, body=f'{{"ballots": {len(cast)}, "file": "表决结果汇总.csv"}}')
        chain.tally = result

    def objection(self, rows: Rows, case_id: str, households: list[tuple[int, str, int, str, int]], stage_id: str,
                  start: int, last: int, *, open_: bool) -> None:
        oid = self.ids.next("objection")
        lodged = self.when(start, last)
        by = local(last, 17)  # nothing is dated after the stage's last day (after REF_DAY for the current stage)
        resolved = None if open_ else min(lodged + self.rng.randint(1, 10) * 1440, by)
        rows.objections.append((
            oid, case_id, self.rng.choice(households)[1], self.person(), "采光受影响", 1, 1, stage_id,
            "open" if open_ else "resolved", stored(lodged), None if open_ else "协商一致，给予采光补偿",
            None if resolved is None else stored(resolved)))
        if not open_ or self.rng.random() < 0.6:  # a mediation step was recorded
            rows.mediation_steps.append((self.ids.next("mediation"), oid, "negotiation", "社区组织协商",
                                         stored(min(lodged + self.rng.randint(1, 12) * 1440, by)), OFFICER))

    def upkeep(self, rows: Rows, case_id: str, start: int) -> None:
        """The latest maintenance record and periodic inspection of an elevator in operation."""
        late = self.rng.random() < MAINTENANCE_LATE_SHARE
        back = self.rng.randint(16, 90) if late else self.rng.randint(0, 14)
        day = max(start, self.ref - back)
        self.document(rows, case_id, "maintenance_record", "operation", local(day, 10), None)
        maintained, inspected = stored(local(day, 10)), None  # as records.add_document keeps them on the case
        running = self.ref - start
        if running > 300 and self.rng.random() < 0.97:
            day = max(start, self.ref - self.rng.randint(0, min(running, 400) - 30))
            self.document(rows, case_id, "periodic_inspection", "operation", local(day, 14), None)
            inspected = stored(local(day, 14))
        self.upkeep_dates[case_id] = (maintained, inspected)


class Chain:
    """A case's events and their hash chain, hashed exactly as ``eightstep.engine.events.event_hash`` does."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.seq = 0
        self.head = ""
        self.tally: dict[str, Any] | None = None  # the vote's passed tally, until the case leaves the stage
        self.owners_json: tuple[str, str] | None = None  # its per-owner report as JSON, when the fast tally wrote it
        self.pending: list[tuple[int, int, str, str | None, str | None, str, str, str | None]] = []

    def add(self, at: int, action: str, from_stage: str | None, to_stage: str | None, actor: str,
            details: dict[str, Any], note: str | None = None, body: str | None = None) -> None:
        """One event; ``body``: its details already encoded (else encoded from ``details``)."""
        self.pending.append((at, len(self.pending), action, from_stage, to_stage, actor,
                             body or (_DETAILS(details) if details else "{}"), note))

    def write(self, out: list[tuple[Any, ...]], ids: Ids) -> None:
        """Append the events in business-time order (stable) to ``out``, numbered and chained."""
        prev = GENESIS
        case_id = self.case_id
        head = _str(case_id)
        event_id = ids.event
        seq = self.seq
        days, clock, clock_z, text, sha256 = _DAYS, _CLOCK, _CLOCK_Z, _text, hashlib.sha256
        append = out.append
        for at, _order, action, from_stage, to_stage, actor, body, note in sorted(self.pending):
            seq += 1
            event_id += 1
            day, minute = divmod(at, 1440)
            r_day, r_minute = divmod(at + 5, 1440)  # recorded five minutes after it happened
            # json.dumps([...], ensure_ascii=False, separators=(",", ":")) of engine.events.event_hash, written out
            payload = (f'[{head},{seq},"{days[day]}{clock_z[minute]}","{days[r_day]}{clock_z[r_minute]}",'
                       f'{text(actor)},{text(action)},{text(from_stage)},{text(to_stage)},{text(note)},{_str(body)},'
                       f'"{prev}"]')
            digest = sha256(payload.encode()).hexdigest()
            append((event_id, case_id, seq, days[day] + clock[minute], days[r_day] + clock[r_minute], actor, action,
                    from_stage, to_stage, note, body, prev, digest))
            prev = digest
        ids.event = event_id
        self.seq = seq
        self.head = prev
        self.pending = []
