"""A case's records as they stood at a past moment: what a form dated that day may state.

A form states the case as it stood on its date: only the records dated by then (ballots cast, documents issued,
approvals decided, objections lodged and, if by then, resolved; roles held) and the case's stage and status then,
replayed from its history by ``eightstep.engine.asof`` exactly as the audit's ``--as-of`` does. Money changes in
place (the funding row, the agreed share table), so its past values come from the history: every ``funding.set``,
``scheme.choose``, ``funding.agree``, money-line (``funding.extra``, ``funding.compensation``) and money-line void
(``funding.void-line``) event carries the figures or the table it recorded.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any, TypeVar, cast

from eightstep.engine.evidence import FullRecords
from eightstep.errors import NotFoundError
from eightstep.i18n import _
from eightstep.rules.money import parse_yuan
from eightstep.store import plain
from eightstep.timeutil import as_utc, show

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from eightstep.store import models
    from eightstep.store.plain import PlainReader

Row = TypeVar("Row")  # a record row of some table

MONEY_ACTIONS = ("funding.set", "scheme.choose", "funding.agree", "funding.extra", "funding.compensation",
                 "funding.void-line",  # a voided extra or compensation: the figures without it
                 "funding.void")  # a voided funding: what was set before it counts nowhere


def _money(dialect: str) -> Any:
    """The statement of a case's money events (``plain.fetch`` builder: SQLAlchemy only when it is compiled)."""
    from sqlalchemy import bindparam, select

    from eightstep.store import read, tables

    events = tables.events
    return (select(*read.columns(dialect, events, ("seq", "business_at", "action", "details")))
            .where(events.c.case_id == bindparam("case_id"), events.c.action.in_(MONEY_ACTIONS))
            .order_by(events.c.seq))


@dataclass(frozen=True)
class MoneyEvent:
    """One change of the case's money on record: the figures it set, or the agreed table, and an amendment's
    reason when it changed a signed agreement."""

    at: datetime
    seq: int
    action: str
    funding: dict[str, Any] | None  # Figures.as_dict() of the event
    agreed: tuple[dict[str, Fraction], dict[str, Fraction]] | None
    amend: str | None
    details: dict[str, Any]


def money_history(conn: Connection | PlainReader, case_id: str) -> tuple[MoneyEvent, ...]:
    """The case's money events in business-time order (then history order)."""
    out = []
    for row in plain.fetch(conn, "eightstep.paperwork.asof:_money", (plain.dialect_name(conn),),
                           {"case_id": case_id}):
        details = json.loads(row.details or "{}")
        agreed = None
        if row.action == "funding.agree":
            shares = {room: Fraction(value) for room, value in (details.get("shares") or {}).items()}
            upkeep = {room: Fraction(value) for room, value in (details.get("maintenance") or {}).items()
                      if value is not None}
            agreed = (shares, upkeep)
        out.append(MoneyEvent(as_utc(row.business_at), row.seq, row.action, details.get("funding"), agreed,
                              details.get("amend"), details))
    return tuple(sorted(out, key=lambda e: (e.at, e.seq)))


def funding_row(case_id: str, figures: dict[str, Any], at: datetime) -> models.Funding:
    """A funding row (``models.Funding`` field names: it stands in for one) from an event's figures."""
    return cast("models.Funding", SimpleNamespace(case_id=case_id, total_fen=parse_yuan(figures["total"]),
                           subsidy_fen=parse_yuan(figures["subsidy"]), other_fen=parse_yuan(figures["other"]),
                           other_note=figures.get("other_note"),
                           maintenance_fen=parse_yuan(figures["maintenance_per_year"]), set_at=at,
                           extras_fen=parse_yuan(figures.get("extras", "0")),
                           compensation_fen=parse_yuan(figures.get("compensation", "0"))))


def funding_at(history: tuple[MoneyEvent, ...], case_id: str, end: datetime) -> models.Funding | None:
    """The funding on record at ``end`` (None: none was set by then), without the extras and compensation voided
    since (a voided record counts nowhere, also on a form dated before its void). A voided funding (`funding
    void`) takes every figure set before it along: only what was set after the latest void counts."""
    voided = max((e.seq for e in history if e.action == "funding.void"), default=None)
    last = None
    for event in history:
        if event.at <= end and event.funding is not None and (voided is None or event.seq > voided):
            last = event
    if last is None or not last.funding:
        return None
    row = funding_row(case_id, last.funding, last.at)
    added = {e.details.get("line_id"): e for e in history if e.action in ("funding.extra", "funding.compensation")}
    for void in history:
        line = added.get(void.details.get("id")) if void.action == "funding.void-line" else None
        if line is not None and (line.at, line.seq) <= (last.at, last.seq) < (void.at, void.seq):
            column = "extras_fen" if line.action == "funding.extra" else "compensation_fen"
            setattr(row, column, getattr(row, column) - parse_yuan(line.details["amount"]))
    return row


def agreed_at(history: tuple[MoneyEvent, ...], end: datetime
              ) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    """The owners' agreed share table on record at ``end`` (empty: none yet)."""
    found: tuple[dict[str, Fraction], dict[str, Fraction]] = ({}, {})
    for event in history:
        if event.at <= end and event.agreed is not None:
            found = event.agreed
    return found


def _row(row: Row, **changes: Any) -> Row:
    """A copy of ``row`` with ``changes``, standing in for it (the same attribute names)."""
    values = row._asdict() if hasattr(row, "_asdict") else dict(vars(row))
    return cast(Row, SimpleNamespace(**{**values, **changes}))


def _dated(rows: Sequence[Row], column: str, end: datetime) -> list[Row]:
    return [r for r in rows if as_utc(getattr(r, column)) <= end]


def objections_at(rows: Sequence[models.Objection], end: datetime) -> list[models.Objection]:
    """The objections lodged by ``end``, each resolved only if it was resolved by then."""
    out: list[models.Objection] = []
    for o in _dated(rows, "lodged_at", end):
        if o.resolved_at is not None and as_utc(o.resolved_at) > end:
            o = _row(o, status="open", outcome=None, resolved_at=None)
        out.append(o)
    return out


def records_at(records: FullRecords, end: datetime, evidence_from: datetime | None) -> FullRecords:
    """The records dated by ``end``; households are the unit's flats and always stand."""
    return FullRecords(
        documents=_dated(records.documents, "issued_at", end), approvals=_dated(records.approvals, "decided_at", end),
        households=list(records.households), ballots=_dated(records.ballots, "cast_at", end),
        objections=objections_at(records.objections, end),
        scheme_choices=_dated(records.scheme_choices, "at", end), meetings=_dated(records.meetings, "held_at", end),
        evidence_from=evidence_from)


def case_at(conn: Connection, case: Any, end: datetime) -> Any:
    """The case row with its stage and status as they stood at ``end`` (replayed from its history)."""
    from eightstep.engine import asof

    states = asof.states_at(conn, [case.id], end)
    state = states.get(case.id)
    if state is None:
        raise NotFoundError(_("case {case} was not opened yet at {when}").format(case=case.id, when=show(end)))
    return asof.as_then(case._asdict() if hasattr(case, "_asdict") else dict(vars(case)), state)


def steps_at(steps: dict[int, list[Any]], end: datetime) -> dict[int, list[Any]]:
    return {oid: _dated(rows, "at", end) for oid, rows in steps.items()}
