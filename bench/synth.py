"""One synthetic case of the wuhan workflow: where it stands, since when, and every row that says so.

Pure Python, no database: :class:`CaseFactory` turns a seeded random generator into the rows of one case
(households, ballots, documents, approvals, objections, mediation steps, consent record, events with a valid
hash chain, and the case row itself). ``bench.generate`` writes them in bulk.

The spread (documented in docs/benchmarks.md):

* stages: 22 % consent, 8 % survey, 12 % agreement, 8 % design and notice, 6 % joint review, 10 %
  construction, 5 % acceptance, 29 % in operation;
* status: 96 % active, 2.5 % suspended (half of them past their review date), 1.5 % withdrawn;
* time in the current stage: uniform within the stage's stall limit for most cases, 1.1-3x the limit for
  ``stalled_share`` of them (default 5 %);
* the current stage's requirements are all met for 35 % of the cases (the rest miss some of them: a document,
  an approval, ballots, a notice still running, an open objection);
* 12-24 households per unit (6-8 floors above the ground floor, 2-3 flats a floor), ballots for every case
  that reached or passed the vote, the documents and approvals of every stage passed, a few objections at the
  notice stage, the latest maintenance record and periodic inspection of each elevator in operation;
* events: open, household import, suspend/withdraw, and one advance per stage passed (consent with its
  tally), hashed exactly as ``eightstep.engine.events`` does.
"""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

from eightstep.engine.events import GENESIS, event_hash
from eightstep.rules.consent import Voter, tally
from eightstep.workflow.schema import Stage, Workflow

REF_DAY = date(2026, 10, 30)  # the as-of date of every generated database: nothing happens after it
SHANGHAI = timedelta(hours=8)  # Asia/Shanghai has no daylight saving: local = UTC + 8 h
OFFICER = "社区干事 bench"
ACTOR_REP = "业主代表 bench"

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


def local(day: date, hour: int, minute: int = 0) -> datetime:
    """``day`` at ``hour:minute`` Asia/Shanghai, as an aware UTC datetime."""
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=UTC) - SHANGHAI


def details_json(details: dict[str, Any]) -> str:
    """The event details exactly as ``eightstep.engine.events.append_event`` stores them."""
    return json.dumps(details, ensure_ascii=False, sort_keys=True, default=str)


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
    """The rows of a chunk of cases, one list of dicts per table, in foreign-key order."""

    cases: list[dict[str, Any]] = field(default_factory=list)
    households: list[dict[str, Any]] = field(default_factory=list)
    ballots: list[dict[str, Any]] = field(default_factory=list)
    documents: list[dict[str, Any]] = field(default_factory=list)
    approvals: list[dict[str, Any]] = field(default_factory=list)
    objections: list[dict[str, Any]] = field(default_factory=list)
    mediation_steps: list[dict[str, Any]] = field(default_factory=list)
    consent_records: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)

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
                 ref_day: date = REF_DAY) -> None:
        self.wf = wf
        self.sha256 = sha256
        self.rng = rng
        self.stalled_share = stalled_share
        self.ref_day = ref_day
        self.ids = Ids()
        self.stage_ids = wf.stage_ids()
        self.stage_weights = [STAGE_SHARES.get(s, 1) for s in self.stage_ids]
        self.rule_json = ""
        self.upkeep_dates: dict[str, dict[str, datetime]] = {}  # case id -> Case.maintained_at / inspected_at

    # -- randomness ------------------------------------------------------------------------------------

    def hex(self) -> str:
        return f"{self.rng.getrandbits(256):064x}"

    def when(self, start: date, end: date) -> datetime:
        """A working-hours moment (09:00-17:00) on a day in [start, end] (end >= start)."""
        span = max(0, (end - start).days) + 1
        offset = int(self.rng.random() * span) * 1440 + 540 + int(self.rng.random() * 480)
        return local(start, 0) + timedelta(minutes=offset)

    def person(self) -> str:
        return self.rng.choice(SURNAMES) + self.rng.choice(GIVEN)

    # -- one case --------------------------------------------------------------------------------------

    def case(self, rows: Rows, case_id: str, complex_id: int, complex_name: str, building: int, unit: int,
             stage_id: str | None = None, ready: bool | None = None, age: int | None = None) -> None:
        """Append the rows of one case to ``rows``. ``stage_id``/``ready``/``age`` fix what is random."""
        rng = self.rng
        stage_id = stage_id or rng.choices(self.stage_ids, self.stage_weights)[0]
        index = self.stage_ids.index(stage_id)
        stage = self.wf.stage(stage_id)
        final = self.wf.next_of(stage_id) is None
        if age is None:
            limit = limit_days(stage)
            stalled = not final and rng.random() < self.stalled_share
            age = round(limit * (rng.uniform(1.1, 3.0) if stalled else rng.uniform(0.0, 0.95)))
            if final:
                age = rng.randint(5, 1300)
        ready = rng.random() < READY_SHARE if ready is None else ready
        # Entry days of every stage up to the current one, walking back from the current entry.
        entries = [self.ref_day - timedelta(days=age)]
        for earlier in reversed(self.stage_ids[:index]):
            spent = round(limit_days(self.wf.stage(earlier)) * rng.uniform(0.3, 0.9))
            if earlier == "design_notice":
                spent = max(spent, 18)  # the 10-working-day notice must have run
            entries.insert(0, entries[0] - timedelta(days=max(spent, 2)))
        opened = local(entries[0], 9)
        chain = Chain(case_id)
        chain.add(opened, "open", None, self.stage_ids[0], OFFICER,
                  {"building": str(building), "complex": complex_name, "unit": str(unit),
                   "workflow": {"id": self.wf.id, "version": self.wf.version, "sha256": self.sha256}})
        households = self.households(rows, case_id)
        chain.add(local(entries[0], 10), "household.import", self.stage_ids[0], self.stage_ids[0], OFFICER,
                  {"added": len(households), "file": "业主名册.csv", "updated": 0})
        for i, sid in enumerate(self.stage_ids[: index + 1]):
            start = entries[i]
            current = i == index
            end = self.ref_day if current else entries[i + 1]
            leave = None if current else local(end, 17)
            self.stage_records(rows, case_id, self.wf.stage(sid), start, end, households, chain,
                               met=ready or not current, current=current, leave=leave)
            if leave is not None:
                nxt = self.stage_ids[i + 1]
                details: dict[str, Any] = {}
                if chain.tally is not None:
                    details["consent"] = chain.tally
                    rows.consent_records.append({
                        "id": self.ids.next("consent"), "case_id": case_id, "stage": sid, "at": leave,
                        "rule": json.dumps(chain.tally["rule"], ensure_ascii=False),
                        "tally": json.dumps(chain.tally, ensure_ascii=False)})
                    chain.tally = None
                chain.add(leave, "advance", sid, nxt, OFFICER, details)
        status, reason, suspended_at, review_at = self.status(final, entries[-1], chain, stage_id)
        rows.events.extend(chain.rows(self.ids))
        entered = local(entries[-1], 17) if index else opened
        rows.cases.append(self.case_row(case_id, complex_id, building, unit, stage_id, opened, entered, chain,
                                        status=status, reason=reason, suspended_at=suspended_at,
                                        review_at=review_at))

    def case_row(self, case_id: str, complex_id: int, building: int, unit: int, stage_id: str, opened: datetime,
                 entered: datetime, chain: Chain, *, status: str = "active", reason: str | None = None,
                 suspended_at: datetime | None = None, review_at: datetime | None = None) -> dict[str, Any]:
        """The case row; ``chain`` has been written (its head and length are the case's)."""
        return {
            "id": case_id, "complex_id": complex_id, "building": str(building), "unit": str(unit),
            "workflow_id": self.wf.id, "workflow_version": self.wf.version, "workflow_sha256": self.sha256,
            "stage": stage_id, "status": status, "status_reason": reason, "review_at": review_at,
            "opened_at": opened, "stage_entered_at": entered, "clock_started_at": entered,
            "suspended_at": suspended_at, "event_count": chain.seq, "last_hash": chain.head,
            "version": chain.seq + 1,  # the ORM's counter: 1 on insert, +1 with every event
            "maintained_at": None, "inspected_at": None, **self.upkeep_dates.pop(case_id, {}), "evidence_from": None,
        }

    def status(self, final: bool, entered: date, chain: Chain, stage_id: str
               ) -> tuple[str, str | None, datetime | None, datetime | None]:
        roll = self.rng.random()
        if final or roll >= SUSPENDED_SHARE + WITHDRAWN_SHARE:
            return "active", None, None, None
        last_day = max(entered, self.ref_day - timedelta(days=self.rng.randint(1, 200)))
        if last_day > self.ref_day:
            last_day = self.ref_day
        when = local(last_day, 18)
        if roll < SUSPENDED_SHARE:
            review = local(last_day + timedelta(days=self.rng.randint(20, 120)), 9)
            chain.add(when, "suspend", stage_id, stage_id, OFFICER,
                      {"review_at": review.isoformat(), "status": {"from": "active", "to": "suspended"}},
                      note="业主诉讼，待判决")
            return "suspended", "业主诉讼，待判决", when, review
        chain.add(when, "withdraw", stage_id, stage_id, OFFICER, {"status": {"from": "active", "to": "withdrawn"}},
                  note="业主放弃加装")
        return "withdrawn", "业主放弃加装", None, None

    def households(self, rows: Rows, case_id: str) -> list[tuple[int, str, int, str]]:
        """12-24 flats: (id, room, area_centi, owner_key)."""
        floors = self.rng.randint(6, 8)
        per_floor = self.rng.choice((2, 2, 3)) if floors * 3 <= 24 else 2
        out = []
        shared = self.rng.random() < 0.05  # one owner holds two flats
        for floor in range(2, floors + 2):
            for flat in range(1, per_floor + 1):
                hid = self.ids.next("household")
                room = f"{floor}0{flat}"
                key = f"room:{room}"
                if shared and floor == 5:
                    key = "P-shared"
                area = 6500 + int(self.rng.random() * 5500)
                out.append((hid, room, area, key))
                rows.households.append({"id": hid, "case_id": case_id, "room": room, "floor": floor,
                                        "area_centi": area, "owner": self.person(), "owner_key": key,
                                        "phone": f"139{self.rng.getrandbits(26):08d}"
                                        if self.rng.random() < 0.3 else None})
        return out

    # -- the requirements of one stage -----------------------------------------------------------------

    def stage_records(self, rows: Rows, case_id: str, stage: Stage, start: date, end: date,
                      households: list[tuple[int, str, int, str]], chain: Chain, *, met: bool, current: bool,
                      leave: datetime | None) -> None:
        """The records that (when ``met``) satisfy the stage's guards, dated within [start, end]."""
        req = stage.requires
        kinds = list(req.documents)
        approvals = list(req.approvals)
        missing: set[str] = set()
        if not met:
            pool = [*kinds, *approvals] + (["consent"] if req.consent else []) + (
                ["objection"] if req.no_open_objections else [])
            missing = set(self.rng.sample(pool, self.rng.randint(1, max(1, len(pool) // 2))))
        last = end if current else end - timedelta(days=1)
        last = max(last, start)
        if req.consent is not None:
            self.ballots(rows, case_id, households, start, last, chain, enough="consent" not in missing)
        if req.notice is not None and req.notice.document in kinds:
            kinds.remove(req.notice.document)
            if req.notice.document not in missing:
                posted = min(start + timedelta(days=1), last)
                self.document(rows, case_id, req.notice.document, stage.id, local(posted, 9), leave)
        for kind in kinds:
            if kind not in missing:
                self.document(rows, case_id, kind, stage.id, self.when(start, last), leave)
        for kind in approvals:
            if kind in missing:
                if self.rng.random() < 0.15:  # refused: a new application is needed
                    self.approval(rows, case_id, kind, self.when(start, last), "rejected")
                continue
            self.approval(rows, case_id, kind, self.when(start, last), "approved")
        if req.no_open_objections and ("objection" in missing or self.rng.random() < OBJECTION_SHARE):
            self.objection(rows, case_id, households, stage.id, start, last, open_="objection" in missing)
        if stage.id == "operation":
            self.upkeep(rows, case_id, start)

    def document(self, rows: Rows, case_id: str, kind: str, stage_id: str, issued: datetime,
                 leave: datetime | None) -> None:
        if leave is not None and issued > leave:
            issued = leave - timedelta(hours=1)
        rows.documents.append({
            "id": self.ids.next("document"), "case_id": case_id, "kind": kind, "stage": stage_id,
            "issued_at": issued, "issuer": None, "number": None, "original_name": f"{kind}.pdf",
            "sha256": self.hex(), "size": self.rng.randint(20_000, 2_000_000),
            "recorded_at": issued + timedelta(minutes=30)})

    def approval(self, rows: Rows, case_id: str, kind: str, decided: datetime, decision: str) -> None:
        spec = self.wf.approvals[kind]
        rows.approvals.append({
            "id": self.ids.next("approval"), "case_id": case_id, "kind": kind,
            "authority": self.wf.authorities[spec.authority].title, "decision": decision, "decided_at": decided,
            "number": f"审批〔{decided.year}〕{self.rng.randint(1, 999)}号", "note": None,
            "recorded_at": decided + timedelta(minutes=30)})

    def ballots(self, rows: Rows, case_id: str, households: list[tuple[int, str, int, str]], start: date,
                last: date, chain: Chain, *, enough: bool) -> None:
        """Ballots of the vote; ``enough``: the rule passes (re-drawn until it does)."""
        rule = self.wf.stage(self.stage_ids[0]).requires.consent
        assert rule is not None
        for attempt in range(20):
            turnout = self.rng.uniform(0.85, 1.0) if enough else self.rng.uniform(0.1, 0.6)
            cast = []
            for hid, room, area, key in households:
                if self.rng.random() >= turnout:
                    continue
                roll = self.rng.random()
                choice = "agree" if enough and attempt > 10 else (
                    "agree" if roll < 0.88 else "oppose" if roll < 0.95 else "abstain")
                cast.append((hid, room, area, key, choice, self.when(start, last)))
            by_id = {c[0]: c for c in cast}
            voters = [Voter(room, key, area, by_id[hid][4] if hid in by_id else None,
                            by_id[hid][5] if hid in by_id else None) for hid, room, area, key in households]
            result = tally(voters, rule)
            if result.passed == enough:
                break
        for hid, _room, _area, _key, choice, when in cast:
            rows.ballots.append({"id": self.ids.next("ballot"), "case_id": case_id, "household_id": hid,
                                 "choice": choice, "cast_at": when, "recorded_at": when + timedelta(hours=2)})
        if cast:
            chain.add(max(c[5] for c in cast), "vote.import", self.stage_ids[0], self.stage_ids[0], OFFICER,
                      {"ballots": len(cast), "file": "表决结果汇总.csv"})
        chain.tally = dict(vars(result)) if result.passed else None  # what Tally.as_dict() gives, without deep copies

    def objection(self, rows: Rows, case_id: str, households: list[tuple[int, str, int, str]], stage_id: str,
                  start: date, last: date, *, open_: bool) -> None:
        oid = self.ids.next("objection")
        lodged = self.when(start, last)
        resolved = None if open_ else lodged + timedelta(days=self.rng.randint(1, 10))
        rows.objections.append({
            "id": oid, "case_id": case_id, "room": self.rng.choice(households)[1], "objector": self.person(),
            "grounds": "采光受影响", "written": True, "real_name": True, "stage": stage_id,
            "status": "open" if open_ else "resolved", "lodged_at": lodged,
            "outcome": None if open_ else "协商一致，给予采光补偿", "resolved_at": resolved})
        if not open_ or self.rng.random() < 0.6:  # a mediation step was recorded
            rows.mediation_steps.append({"id": self.ids.next("mediation"), "objection_id": oid,
                                         "step": "negotiation", "note": "社区组织协商", "actor": OFFICER,
                                         "at": lodged + timedelta(days=self.rng.randint(1, 12))})

    def upkeep(self, rows: Rows, case_id: str, start: date) -> None:
        """The latest maintenance record and periodic inspection of an elevator in operation."""
        late = self.rng.random() < MAINTENANCE_LATE_SHARE
        back = self.rng.randint(16, 90) if late else self.rng.randint(0, 14)
        day = max(start, self.ref_day - timedelta(days=back))
        self.document(rows, case_id, "maintenance_record", "operation", local(day, 10), None)
        dates = self.upkeep_dates[case_id] = {"maintained_at": local(day, 10)}  # as records.add_document keeps
        running = (self.ref_day - start).days
        if running > 300 and self.rng.random() < 0.97:
            day = max(start, self.ref_day - timedelta(days=self.rng.randint(0, min(running, 400) - 30)))
            self.document(rows, case_id, "periodic_inspection", "operation", local(day, 14), None)
            dates["inspected_at"] = local(day, 14)


class Chain:
    """A case's events and their hash chain, hashed exactly as ``eightstep.engine.events.append_event`` does."""

    def __init__(self, case_id: str) -> None:
        self.case_id = case_id
        self.seq = 0
        self.head = ""
        self.tally: dict[str, Any] | None = None
        self.pending: list[dict[str, Any]] = []

    def add(self, at: datetime, action: str, from_stage: str | None, to_stage: str | None, actor: str,
            details: dict[str, Any], note: str | None = None) -> None:
        self.pending.append({"at": at, "action": action, "from": from_stage, "to": to_stage, "actor": actor,
                             "details": details, "note": note})

    def rows(self, ids: Ids) -> list[dict[str, Any]]:
        """The events in business-time order (stable), numbered and chained."""
        out = []
        prev = GENESIS
        for e in sorted(self.pending, key=lambda e: e["at"]):
            self.seq += 1
            recorded = e["at"] + timedelta(minutes=5)
            body = details_json(e["details"])
            digest = event_hash(self.case_id, self.seq, e["at"], recorded, e["actor"], e["action"], e["from"],
                                e["to"], e["note"], body, prev)
            out.append({"id": ids.next("event"), "case_id": self.case_id, "seq": self.seq, "business_at": e["at"],
                        "recorded_at": recorded, "actor": e["actor"], "action": e["action"],
                        "from_stage": e["from"], "to_stage": e["to"], "note": e["note"], "details": body,
                        "prev_hash": prev, "hash": digest})
            prev = digest
        self.head = prev
        self.pending = []
        return out
