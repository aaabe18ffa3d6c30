"""A case's rows replayed from its history: what every table should hold for it.

The history of a case is its events in order. The moves (open, advance, return, suspend, resume, withdraw) say
where the case stands, the same way ``engine.asof`` replays them; an advance out of a consent stage carries the
tally its consent record keeps; every other recording carries the rows it wrote as facts
(``eightstep.engine.facts``), whose count and digest the event holds (``Event.facts``). A ``checkpoint`` event
(written by the upgrade to revision 0010 for the cases that existed then, whose older events carry no facts) and
a ``case.import`` (a case handed over from another database, its rows under new ids) hold every row of the case
as it stood (``engine.checkpoint``): the replay starts again from them.

``Projection.apply`` takes the events one by one (with their facts), so a case is replayed in one pass over its
history, in memory proportional to the case's own rows.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from eightstep.engine import asof
from eightstep.engine.checkpoint import RESTARTS
from eightstep.engine.facts import CASES, DROP, PUT, SET, Digest, canonical, parse
from eightstep.i18n import _

CONSENT_RECORDS = "consent_records"


def _instant(value: datetime | str) -> datetime:
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=UTC)


@dataclass
class Projection:
    """The rows one case should have: ``case`` (the case row's columns and its complex by name), ``rows`` (table
    -> key -> values) and ``consent`` (the consent records, in order, as (stage, at, rule, tally)); ``problems``
    says which events' facts do not match their digest."""

    case_id: str
    case: dict[str, Any] = field(default_factory=dict)
    rows: dict[str, dict[Any, dict[str, Any]]] = field(default_factory=dict)
    consent: list[tuple[Any, ...]] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)
    _state: asof.State | None = None

    def apply(self, event: Any, facts: list[str]) -> None:
        """One event (a row of ``events``: seq, action, business_at, from_stage, to_stage, note, details, facts)
        and the texts of its facts in order."""
        try:
            details = json.loads(event.details or "{}")
            at = _instant(event.business_at)
        except (ValueError, TypeError):
            self.problems.append(_("event {seq} ({action}) cannot be read: it was left out of the replay").format(
                seq=event.seq, action=event.action))
            return
        self._check(event, facts)
        if event.action in ("open", "advance", "return") and not event.to_stage:
            self.problems.append(_("event {seq} ({action}) names no stage: it was left out of the replay").format(
                seq=event.seq, action=event.action))
        elif event.action in RESTARTS:
            self.case, self.rows, self.consent, self._state = {}, {}, [], None
        elif event.action in asof.MOVES:
            self._move(event, at, details)
        for text in facts:
            self._fact(*parse(text))

    def _check(self, event: Any, facts: list[str]) -> None:
        if event.facts is None and not facts:
            return
        digest = Digest()
        for text in facts:
            digest.add(text)
        if digest.summary() != event.facts:
            self.problems.append(_("event {seq} ({action}): its rows ({count}) do not match what the event "
                                   "recorded of them ({summary}): they were altered, added or deleted").format(
                seq=event.seq, action=event.action, count=len(facts), summary=event.facts or "none"))

    def _move(self, event: Any, at: datetime, details: dict[str, Any]) -> None:
        self._state = asof.apply(self._state, event.action, at, event.to_stage, event.note, details)
        if event.action == "open":
            workflow = details.get("workflow") or {}
            self.case.update({"complex": details.get("complex"), "building": details.get("building"),
                              "unit": details.get("unit"), "workflow_id": workflow.get("id"),
                              "workflow_version": workflow.get("version"), "workflow_sha256": workflow.get("sha256"),
                              "maintained_at": None, "inspected_at": None})
        if self._state is not None:
            state = self._state
            self.case.update({"stage": state.stage, "status": state.status, "status_reason": state.status_reason,
                              "stage_entered_at": canonical(state.stage_entered_at),
                              "clock_started_at": canonical(state.clock_started_at),
                              "suspended_at": canonical(state.suspended_at), "review_at": canonical(state.review_at),
                              "evidence_from": canonical(state.evidence_from)})
            if event.action == "open":
                self.case["opened_at"] = canonical(at)
        consent = details.get("consent")
        if event.action == "advance" and consent is not None:
            self.consent.append((event.from_stage, canonical(at), consent.get("rule"), consent))

    def _fact(self, table: str, op: str, key: Any, values: dict[str, Any] | None) -> None:
        if table == CASES:
            self.case.update(values or {})
            if op == PUT:  # a checkpoint: the state the moves continue from
                self._state = _state_of(self.case)
        elif table == CONSENT_RECORDS and op == PUT:
            values = values or {}
            self.consent.append((values.get("stage"), values.get("at"), json.loads(values.get("rule") or "null"),
                                 json.loads(values.get("tally") or "null")))
        elif op == PUT:
            self.rows.setdefault(table, {})[key] = dict(values or {})
        elif op == SET:
            self.rows.setdefault(table, {}).setdefault(key, {}).update(values or {})
        elif op == DROP:
            self.rows.get(table, {}).pop(key, None)


def _state_of(case: dict[str, Any]) -> asof.State | None:
    """The replay state of a case row held by a checkpoint."""
    def when(name: str) -> datetime | None:
        value = case.get(name)
        return None if value is None else _instant(value.replace("Z", "+00:00"))

    entered, clock = when("stage_entered_at"), when("clock_started_at")
    if case.get("stage") is None or entered is None or clock is None:
        return None
    return asof.State(case["stage"], case.get("status") or "active", case.get("status_reason"), entered, clock,
                      when("suspended_at"), when("review_at"), when("evidence_from"))
