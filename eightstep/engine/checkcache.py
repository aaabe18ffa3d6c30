"""The guards' blockers of a case, kept in ``case_checks`` and reused while they provably still hold.

A street office's weekly audit asks the same question of the same cases: the stalled ones are exactly those
that have not changed. ``engine.check_many(..., cache=True)`` (the audit, the overview) reads each case's entry
with the case row (``with_entries``) and reuses its blockers when

* the case is still at the ``version`` the entry was computed for (every change of a case bumps it: a new
  record, a move, a rendered form) and under the same workflow snapshot (``workflow_sha256``);
* the check time lies in ``[valid_from, valid_until)``: ``valid_from`` is the latest time of the records the
  guards read (an earlier check time would have left that record out) or later when a time-bound guard says so
  (a notice period over since), ``valid_until`` the end of a time-bound answer (a running notice period);
* its ``basis`` is today's: the same eightstep release (guards and messages), the same schema revision, the same
  holiday data and the same language of the messages.

Otherwise the guards run, and their answer is written back in a transaction of its own: best effort, since a
busy or read-only database only means that the next audit computes it again. The table is derived data:
emptying it changes nothing but speed. A data migration changes records without bumping the cases' versions, so
every upgrade of the schema empties it (``eightstep.store.migrate``; docs/migrations.md), and the schema revision
in the basis refuses an entry written under another one.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, Engine, Row, Select, and_, or_, select
from sqlalchemy.exc import DBAPIError

from eightstep import __version__
from eightstep.engine.evidence import TIME_COLUMNS, CaseRecords
from eightstep.engine.guards import Blocker, GuardContext
from eightstep.errors import Remedy
from eightstep.i18n import current_language
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import read, tables
from eightstep.store.db import BUSY_TIMEOUT_MS
from eightstep.store.migrations import HEAD
from eightstep.timeutil import as_utc
from eightstep.workflow.status import ACTIVE

_log = logging.getLogger(__name__)

CHECKS = tables.case_checks


def basis(calendar: WorkCalendar) -> str:
    """What the guards' answer depends on besides the case and its workflow snapshot: the eightstep release, the
    schema revision, the holiday data, and the language of the blockers' messages."""
    return f"eightstep {__version__}; schema {HEAD}; calendar {calendar.fingerprint}; lang {current_language()}"


def encode(blockers: Iterable[Blocker]) -> str:
    """The blockers' ``as_dict`` objects as JSON text in the form the JSON outputs write (the default separators),
    so that an output can splice it as stored (``eightstep.audit.blocked``; earlier entries are compact)."""
    return json.dumps([b.as_dict() for b in blockers], ensure_ascii=False)


def decode(text: str) -> list[Blocker]:
    out = []
    for item in json.loads(text):
        until = item.get("until")
        remedy = item.get("remedy")
        out.append(Blocker(item["type"], item["message"], kind=item.get("kind"), authority=item.get("authority"),
                           id=item.get("id"), until=date.fromisoformat(until) if until else None,
                           remedy=Remedy(remedy["action"], remedy["args"]) if remedy else None,
                           provisional=item.get("provisional", False)))
    return out


def latest_record_time(records: CaseRecords) -> datetime | None:
    """The latest of the times the guards compare with the check time, over every record they read."""
    latest: datetime | None = None
    for table, names in TIME_COLUMNS.items():
        for row in getattr(records, table):
            for name in names:
                value = getattr(row, name)
                if value is not None:
                    value = as_utc(value)
                    if latest is None or value > latest:
                        latest = value
    return latest


@dataclass(frozen=True)
class Entry:
    """One row of ``case_checks``."""

    case_id: str
    version: int
    workflow_sha256: str
    stage: str
    valid_from: datetime
    valid_until: datetime | None
    basis: str
    blockers: str

    def as_row(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__dataclass_fields__}


def entry(case: Any, ctx: GuardContext, blockers: list[Blocker], basis_: str) -> Entry | None:
    """The cache entry of the guards' answer in ``ctx`` (all guards run), or None when it cannot be reused: a
    record dated after the check time was left out, so a later check would count it."""
    since = latest_record_time(ctx.records)
    if ctx.holds_from is not None and (since is None or ctx.holds_from > since):
        since = ctx.holds_from
    since = ctx.at if since is None else since
    if since > ctx.at:
        return None
    return Entry(case.id, case.version, case.workflow_sha256, ctx.stage.id, since, ctx.holds_until, basis_,
                 encode(blockers))


ENTRY_COLUMNS = ("version", "workflow_sha256", "valid_from", "valid_until", "basis", "blockers")


def with_entries(query: Select[Any], dialect: str) -> Select[Any]:
    """``query`` on cases with each case's entry joined (columns ``check_version``, ``check_valid_from``, ...)."""
    columns = [c.label(f"check_{c.name}") for c in read.columns(dialect, CHECKS, ENTRY_COLUMNS)]
    return query.add_columns(*columns).outerjoin(CHECKS, CHECKS.c.case_id == tables.cases.c.id)


def holds(row: Row[Any], at: datetime, basis_: str) -> bool:
    """Whether the entry of a case row read ``with_entries`` holds at ``at`` (see the module's docstring)."""
    if (row.check_version != row.version or row.check_workflow_sha256 != row.workflow_sha256
            or row.check_basis != basis_):
        return False
    return not (at < as_utc(row.check_valid_from) or (row.check_valid_until is not None
                                                      and at >= as_utc(row.check_valid_until)))


def cached_blockers(row: Row[Any], at: datetime, basis_: str) -> list[Blocker] | None:
    """The cached blockers of a case row read ``with_entries``, if they hold at ``at``; None: run the guards."""
    return decode(row.check_blockers) if holds(row, at, basis_) else None


def kept(conn: Connection, case_ids: list[str], at: datetime, basis_: str) -> dict[str, tuple[bool, str]]:
    """Case id -> (whether the case is active and in its stage by ``at``, its kept blockers as stored:
    ``encode``'s JSON text) for the cases among ``case_ids`` whose entry holds at ``at`` (``holds``, asked in
    SQL); the others are not in the answer (run the guards). No ``Blocker`` is built and no time is parsed:
    what a city's audit written as JSON needs. (Without the first, the machine's own conditions of an advance
    block the case too: ``engine.position``.)"""
    cases = tables.cases
    at = as_utc(at)
    plain = and_(cases.c.status == ACTIVE, cases.c.stage_entered_at <= at)
    query = (select(cases.c.id, plain.label("plain"), CHECKS.c.blockers)
             .join_from(cases, CHECKS, CHECKS.c.case_id == cases.c.id)
             .where(cases.c.id.in_(case_ids), CHECKS.c.version == cases.c.version,
                    CHECKS.c.workflow_sha256 == cases.c.workflow_sha256, CHECKS.c.basis == basis_,
                    CHECKS.c.valid_from <= at, or_(CHECKS.c.valid_until.is_(None), CHECKS.c.valid_until > at)))
    return {row.id: (bool(row.plain), row.blockers) for row in conn.execute(query)}


CACHE_BUSY_TIMEOUT_MS = 200  # a cache write waits this long for another writer (a command's writes wait 10 s)


def write(engine: Engine, entries: list[Entry]) -> bool:
    """Insert or replace ``entries`` in one transaction; False (and nothing written) when the database would not
    take them (busy with another writer, read-only, no privilege): they are computed again next time. On SQLite
    it waits for another writer only ``CACHE_BUSY_TIMEOUT_MS``: an audit never queues behind a bulk advance."""
    if not entries:
        return True
    dialect = engine.dialect.name
    if dialect not in ("postgresql", "sqlite"):
        return False
    if dialect == "postgresql":  # each dialect's module imported only by the database that needs it
        from sqlalchemy.dialects.postgresql import insert
    else:
        from sqlalchemy.dialects.sqlite import insert  # type: ignore[assignment]  # the same upsert API
    statement = insert(CHECKS)
    statement = statement.on_conflict_do_update(
        index_elements=[CHECKS.c.case_id],
        set_={c.name: statement.excluded[c.name] for c in CHECKS.c if c.name != "case_id"})
    try:
        with engine.begin() as conn:
            if dialect == "sqlite":
                conn.exec_driver_sql(f"PRAGMA busy_timeout = {CACHE_BUSY_TIMEOUT_MS}")
            try:
                conn.execute(statement, [e.as_row() for e in entries])
            finally:
                if dialect == "sqlite":
                    conn.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    except DBAPIError as exc:
        _log.info("case checks not cached (%s): they are computed again next time", exc.orig)
        return False
    return True
