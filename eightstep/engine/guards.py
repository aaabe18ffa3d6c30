"""The registry of named guards. Each returns the unmet items of one kind of requirement, with a message in the
chosen language and the remedy that clears it (as data: the CLI spells it as a command); ``check`` runs all of
them, the state machine asks whether any item is left.

Each guard declares what it reads (``reads``: which record tables, and of those which kinds of rows, for a
stage's requirements), so that a check reads only that (``tables_needed``); the columns it may read are its
records' Protocols (``eightstep.engine.evidence``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from eightstep.engine.ballots import voters
from eightstep.engine.blocker import Blocker as Blocker
from eightstep.engine.blocker import before_the_stage as before_the_stage
from eightstep.engine.evidence import RECORD_TABLES, CaseRecords, ObjectionRecord
from eightstep.errors import Remedy
from eightstep.i18n import _, pick
from eightstep.rules.consent import Tally, tally
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.timeutil import as_utc, local_date, local_midnight_utc, show
from eightstep.workflow.schema import Requirements, Stage, Workflow


@dataclass
class GuardContext:
    """What the guards judge: one case's stage and records, as of ``at``.

    A guard whose answer can change with time alone, with no new record (a public notice period that ends),
    must say from when until when its answer holds with ``holds``: the blockers are cached on that promise
    (``eightstep.engine.checkcache``). Records dated after ``at`` are the other way time matters; the cache accounts
    for those itself.
    """

    workflow: Workflow
    stage: Stage
    records: CaseRecords
    at: datetime
    calendar: WorkCalendar
    _memo: dict[str, list[Blocker]] = field(default_factory=dict)
    consent_tally: Tally | None = None
    holds_from: datetime | None = None  # the guards' answers are the same for every time in [from, until)
    holds_until: datetime | None = None  # None: no bound

    def blockers(self) -> list[Blocker]:
        """Every unmet requirement of the stage, all guards evaluated (memoised)."""
        return [blocker for name in GUARDS for blocker in self.run(name)]

    def run(self, name: str) -> list[Blocker]:
        """The unmet requirements the guard ``name`` finds (memoised: the machine's condition and the
        explanation of a refusal read the same answer)."""
        found = self._memo.get(name)
        if found is None:
            found = self._memo[name] = GUARDS[name](self)
        return found

    def authority_title(self, authority_id: str) -> str:
        auth = self.workflow.authorities.get(authority_id)
        return auth.title if auth else authority_id

    def until_now(self, when: datetime) -> bool:
        return as_utc(when) <= self.at

    def counts(self, when: datetime) -> bool:
        """A piece of evidence dated ``when`` counts: by the check time, and not before a return for rework."""
        when = as_utc(when)
        since = self.records.evidence_from
        return when <= self.at and (since is None or when >= as_utc(since))

    def holds(self, *, since: datetime | None = None, until: datetime | None = None) -> None:
        """Narrow the window of times around ``at`` in which the guards' answers stay as they are now."""
        if since is not None and (self.holds_from is None or since > self.holds_from):
            self.holds_from = since
        if until is not None and (self.holds_until is None or until < self.holds_until):
            self.holds_until = until


Guard = Callable[[GuardContext], list[Blocker]]
GUARDS: dict[str, Guard] = {}

# What a guard reads for a stage with the given requirements: record table -> the kinds of rows it looks at, or
# None for every row of the case. A guard missing here gets every row of every table (slower, and still only the
# columns of its records' Protocols); tests/test_recordload.py fails until it is declared.
Reads = dict[str, frozenset[str] | None]
READS: dict[str, Callable[[Requirements], Reads]] = {}
KIND_FILTERED = frozenset({"documents", "approvals"})  # tables whose rows a read may limit to some kinds


def guard(name: str, reads: Callable[[Requirements], Reads]) -> Callable[[Guard], Guard]:
    """Register a guard under ``name``, with what it reads."""
    def register(fn: Guard) -> Guard:
        GUARDS[name] = fn
        READS[name] = reads
        return fn
    return register


def _merge(needed: Reads, table: str, kinds: frozenset[str] | None) -> None:
    """Add one guard's read of ``table`` to ``needed``: the union of the kinds, or None when any read wants all."""
    if table not in KIND_FILTERED:
        kinds = None
    if table not in needed:
        needed[table] = kinds
        return
    have = needed[table]
    needed[table] = None if have is None or kinds is None else have | kinds


def guards_of(stage: Stage) -> tuple[str, ...]:
    """The guards that apply to ``stage``: those that read something for its requirements (a guard reads nothing
    for a stage that does not require its kind of thing), and any guard that did not say what it reads. These are
    the guard conditions of an advance from the stage (``engine.checking.machine_of``)."""
    return tuple(name for name in GUARDS if READS.get(name) is None or READS[name](stage.requires))


def tables_needed(stage: Stage) -> Reads:
    """The record tables the guards of ``stage`` read, each with the kinds of rows they need (None: all)."""
    needed: Reads = {}
    for name in GUARDS:
        reads = READS.get(name)
        wants: Reads = reads(stage.requires) if reads is not None else dict.fromkeys(RECORD_TABLES)
        for table, kinds in wants.items():
            if table in RECORD_TABLES:
                _merge(needed, table, kinds)
    return needed


@guard("documents", reads=lambda req: {"documents": frozenset(req.documents)} if req.documents else {})
def documents_present(ctx: GuardContext) -> list[Blocker]:
    have = {d.kind for d in ctx.records.documents if ctx.counts(d.issued_at)}
    out = []
    for kind in ctx.stage.requires.documents:
        if kind not in have:
            doc = ctx.workflow.documents[kind]
            issuer = ctx.authority_title(doc.issuer)
            out.append(Blocker("document", _("missing document: {title} (from {issuer})").format(
                title=pick(doc.title, doc.title_en), issuer=issuer), kind=kind, authority=issuer,
                remedy=Remedy("doc.add", {"kind": kind})))
    return out


@guard("approvals", reads=lambda req: {"approvals": frozenset(req.approvals)} if req.approvals else {})
def approvals_granted(ctx: GuardContext) -> list[Blocker]:
    out = []
    for kind in ctx.stage.requires.approvals:
        spec = ctx.workflow.approvals[kind]
        authority = ctx.authority_title(spec.authority)
        decisions = sorted((a for a in ctx.records.approvals if a.kind == kind and ctx.counts(a.decided_at)),
                           key=lambda a: (as_utc(a.decided_at), a.id or 0))
        remedy = Remedy("approval.add", {"kind": kind, "authority": authority})
        title = pick(spec.title, spec.title_en)
        if not decisions:
            out.append(Blocker("approval", _("awaiting {title} from {authority}").format(
                title=title, authority=authority), kind=kind, authority=authority, remedy=remedy))
        elif decisions[-1].decision != "approved":
            last = decisions[-1]
            message = (_("{title} was refused on {date} (number {number}): apply again") if last.number
                       else _("{title} was refused on {date}: apply again"))
            out.append(Blocker("approval", message.format(title=title, date=show(last.decided_at),
                                                          number=last.number),
                               kind=kind, authority=authority, remedy=remedy))
    return out


@guard("consent", reads=lambda req: {"households": None, "ballots": None} if req.consent is not None else {})
def consent_reached(ctx: GuardContext) -> list[Blocker]:
    rule = ctx.stage.requires.consent
    if rule is None:
        return []
    if not ctx.records.households:
        return [Blocker("consent", _("no households of the unit recorded yet"),
                        remedy=Remedy("household.import", {}))]
    result = tally(voters(ctx.records, ctx.at), rule)
    ctx.consent_tally = result
    if result.passed:
        return []
    return [Blocker("consent", _("owner consent not reached: {shortfall}").format(shortfall=s),
                    remedy=Remedy("vote.import", {})) for s in result.shortfalls]


def notice_end(ctx: GuardContext, posted: date) -> date:
    rule = ctx.stage.requires.notice
    assert rule is not None
    return ctx.calendar.add_days(posted, rule.days, working=rule.calendar == "working")


def provisional_note(years: list[int]) -> str:
    """What a date counted across ``years`` (without official holiday data) is, said after it."""
    return _("provisional: {years} counted with weekends only until the State Council's holiday arrangement "
             "for it is added").format(years=", ".join(map(str, years)))


@guard("notice", reads=lambda req: {"documents": frozenset({req.notice.document})} if req.notice is not None else {})
def notice_period_over(ctx: GuardContext) -> list[Blocker]:
    rule = ctx.stage.requires.notice
    if rule is None:
        return []
    postings = [d for d in ctx.records.documents if d.kind == rule.document and ctx.counts(d.issued_at)]
    working = rule.calendar == "working"
    if not postings:
        doc = ctx.workflow.documents[rule.document]
        message = (_("the public notice has not been posted ({days} working days from the date of '{title}')")
                   if working else _("the public notice has not been posted ({days} days from the date of "
                                     "'{title}')"))
        return [Blocker("notice", message.format(days=rule.days, title=pick(doc.title, doc.title_en)),
                        kind=rule.document, remedy=Remedy("doc.add", {"kind": rule.document}))]
    posted = max(local_date(d.issued_at) for d in postings)  # a re-posted notice restarts the period
    end = notice_end(ctx, posted)
    years = ctx.calendar.provisional_years(posted, end) if working else []
    over_from = local_midnight_utc(end + timedelta(days=1))  # the notice period is over from this instant
    if local_date(ctx.at) > end:
        ctx.holds(since=over_from)
        if not years:
            return []
        # A period that ends only by a provisional count may not have run its legal length: it does not end a
        # notice until the year's arrangement is on file (the calendar's data is part of the cache's basis).
        return [Blocker("notice", _("the public notice posted on {posted} ends on {end} only by a provisional "
                                    "count ({note}); add the year's holiday arrangement to confirm the end").format(
            posted=posted, end=end, note=provisional_note(years)), kind=rule.document, until=end, provisional=True)]
    ctx.holds(until=over_from)
    message = (_("the public notice posted on {posted} runs {days} working days, until {end} inclusive") if working
               else _("the public notice posted on {posted} runs {days} days, until {end} inclusive"))
    message = message.format(posted=posted, days=rule.days, end=end)
    if years:
        message += f" ({provisional_note(years)})"
    return [Blocker("notice", message, kind=rule.document, until=end, provisional=bool(years),
                    remedy=Remedy("case.advance", {"at": (end + timedelta(days=1)).isoformat()}))]


def counted_objection(ctx: GuardContext, obj: ObjectionRecord) -> bool:
    if ctx.workflow.objections.only_written_real_name and not (obj.written and obj.real_name):
        return False
    return ctx.until_now(obj.lodged_at)


def open_as_of(obj: ObjectionRecord, at: datetime) -> bool:
    return obj.resolved_at is None or as_utc(obj.resolved_at) > at


def is_complaint(wf: Workflow, stage_id: str) -> bool:
    """An objection lodged in ``stage_id`` comes after the public notice (a complaint about the works): the
    stage lies after the workflow's first stage with a notice."""
    notice = next((i for i, s in enumerate(wf.stages) if s.requires.notice is not None), None)
    position = wf.stage_positions.get(stage_id)
    return notice is not None and position is not None and position > notice


def blocks_here(ctx: GuardContext, obj: ObjectionRecord) -> bool:
    """The open objection blocks this stage: a notice objection where open objections block (a late one only
    when the workflow says late ones block), a complaint where open complaints block."""
    if is_complaint(ctx.workflow, obj.stage):
        return ctx.stage.requires.no_open_complaints
    if obj.late and ctx.workflow.objections.late == "record":
        return False
    return ctx.stage.requires.no_open_objections


@guard("objections", reads=lambda req: {"objections": None} if req.no_open_objections or req.no_open_complaints
       else {})
def no_open_objections(ctx: GuardContext) -> list[Blocker]:
    if not (ctx.stage.requires.no_open_objections or ctx.stage.requires.no_open_complaints):
        return []
    out = []
    for obj in ctx.records.objections:
        if counted_objection(ctx, obj) and open_as_of(obj, ctx.at) and blocks_here(ctx, obj):
            who = (_("room {room}").format(room=obj.room) if obj.room
                   else obj.objector or _("anonymous"))
            out.append(Blocker("objection", _("open objection #{id} from {who} ({grounds}), lodged {lodged}").format(
                id=obj.id, who=who, grounds=obj.grounds, lodged=show(obj.lodged_at)), id=obj.id,
                remedy=Remedy("objection.resolve", {"id": obj.id})))
    return out


MEETING_KINDS: dict[str, tuple[str, str]] = {
    "brand": ("电梯品牌", "the elevator brand"),
    "budget": ("预算", "the budget"),
    "cost_shares": ("费用分摊", "the cost shares"),
    "objection_remedy": ("异议化解方案", "a remedy for an objection"),
    "other": ("其他事项", "other matters"),
}  # (Chinese, English): data both ways, as the workflow's titles


@guard("scheme", reads=lambda req: {"scheme_choices": None} if req.chosen_scheme else {})
def scheme_chosen(ctx: GuardContext) -> list[Blocker]:
    if not ctx.stage.requires.chosen_scheme:
        return []
    if any(ctx.counts(c.at) for c in ctx.records.scheme_choices):
        return []
    return [Blocker("scheme", _("no elevator scheme chosen yet: compare the companies' schemes, then record the "
                              "owners' choice"), remedy=Remedy("scheme.choose", {}))]


@guard("meetings", reads=lambda req: {"meetings": None} if req.meetings else {})
def meetings_held(ctx: GuardContext) -> list[Blocker]:
    out = []
    for kind in ctx.stage.requires.meetings:
        held = [m for m in ctx.records.meetings if kind in m.kinds.split(",") and ctx.counts(m.held_at)]
        if not held:
            title, title_en = MEETING_KINDS[kind]
            out.append(Blocker("meeting", _("no meeting on record deciding {what}").format(
                what=pick(title, title_en)), kind=kind, remedy=Remedy("meeting.add", {"kind": kind})))
    return out


# Guards in their own modules register themselves after the ones above, in this order (the order of the blockers).
# isort: off
from eightstep.engine import payguard as _payguard  # noqa: E402, F401
from eightstep.engine import order as _order  # noqa: E402, F401
# isort: on
