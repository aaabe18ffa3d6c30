"""The content of the history: every row a recording writes is a fact of its event.

A fact is one row as written: ``[table, op, key, values]`` as canonical JSON (``fact_text``), where ``op`` is
``put`` (the whole row: added, or changed in place), ``set`` (some columns of the case row) or ``drop`` (the row
removed), ``key`` its primary key and ``values`` every other column but ``case_id``, times as UTC text
(``stamp``). The facts of an event are stored in ``event_facts`` (one row each, numbered from 0) and their
count and digest are in the event (``Event.facts``: ``{"count":n,"sha256":"..."}``), so the event's hash
covers them: the rows of a case are a projection of its history (``eightstep.audit.projection``).

The format is a promise to every database ever written: facts are read back by ``audit verify`` for as long as
the history is kept. Never change how a value is written here; a new column of a fact table is read as NULL in
the facts written before it (see docs/migrations.md).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import Boolean, Date, DateTime, Table

from eightstep.store import tables
from eightstep.timeutil import as_utc

PUT = "put"
SET = "set"
DROP = "drop"

# The tables whose rows are facts of the history: every table of a case (a ``case_id`` column), and mediation
# steps, which belong to their objection's case; not the case row itself (its columns below), nor the history and
# the guards' cache. (``tables`` defines every table, whichever module holds its columns; not the ORM classes.)
NOT_FACTS = frozenset({"cases", "case_checks", "events", "event_facts"})
FACT_TABLES: dict[str, Table] = {
    table.name: table for table in tables.metadata.sorted_tables
    if table.name not in NOT_FACTS and ("case_id" in table.c or table.name == "mediation_steps")}
CASES = "cases"
CASE_TABLE: Table = tables.cases
# The case row's columns that say what the case is and where it stands (its chain head and lock counter are the
# chain's business, its complex is compared by name).
CASE_COLUMNS = ("building", "unit", "workflow_id", "workflow_version", "workflow_sha256", "stage", "status",
                "status_reason", "review_at", "opened_at", "stage_entered_at", "clock_started_at", "suspended_at",
                "maintained_at", "inspected_at", "evidence_from")


def table_of(name: str) -> Table:
    return CASE_TABLE if name == CASES else FACT_TABLES[name]


def key_column(table: Table) -> str:
    (column,) = table.primary_key.columns
    return column.name


def value_columns(table: Table) -> list[str]:
    """The columns a fact of ``table`` carries: all but its key and ``case_id``."""
    if table is CASE_TABLE:
        return list(CASE_COLUMNS)
    key = key_column(table)
    return [c.name for c in table.columns if c.name not in (key, "case_id")]


def stamp(value: datetime) -> str:
    """A time as a fact holds it: UTC, microseconds, ``Z``."""
    return as_utc(value).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def canonical(value: Any) -> Any:
    """A column value as a fact holds it (JSON: text, integers, booleans, null; times as ``stamp``, days as
    ISO dates)."""
    if isinstance(value, datetime):
        return stamp(value)
    if isinstance(value, date):
        return value.isoformat()
    return value


def stored(table: Table, column: str, value: Any) -> Any:
    """A value as read raw from the database (times as text on SQLite, booleans as 0/1) in the form of a fact;
    a value eightstep could never have written stays as it is, to be reported."""
    kind = table.c[column].type
    if value is None:
        return None
    if isinstance(kind, DateTime):
        if isinstance(value, datetime):
            return stamp(value)
        try:
            parsed = datetime.fromisoformat(str(value))
        except ValueError:
            return value
        return stamp(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))
    if isinstance(kind, Boolean) and value in (0, 1):
        return bool(value)
    if isinstance(kind, Date) and isinstance(value, date):
        return value.isoformat()
    return value


def image(table: Table, row: Any) -> dict[str, Any]:
    """The values of a row (an ORM object or a mapping) that a fact carries."""
    get = row.get if isinstance(row, Mapping) else lambda name: getattr(row, name)
    return {name: canonical(get(name)) for name in value_columns(table)}


def fact_text(table: str, op: str, key: Any, values: dict[str, Any] | None) -> str:
    return json.dumps([table, op, key, values], ensure_ascii=False, sort_keys=True, separators=(",", ":"))


class Digest:
    """The digest of the facts of one event in order (SHA-256 over each fact's text and a newline), taken as they
    are written: a large import writes its facts in chunks."""

    def __init__(self) -> None:
        self._hash = hashlib.sha256()
        self.count = 0

    def add(self, text: str) -> None:
        self._hash.update(text.encode("utf-8"))
        self._hash.update(b"\n")
        self.count += 1

    def summary(self) -> str:
        """What the event holds (``Event.facts``, hashed with it): ``{"count":n,"sha256":"..."}``."""
        return json.dumps({"count": self.count, "sha256": self._hash.hexdigest()}, sort_keys=True,
                          separators=(",", ":"))


def parse(text: str) -> tuple[str, str, Any, dict[str, Any] | None]:
    table, op, key, values = json.loads(text)
    return table, op, key, values
