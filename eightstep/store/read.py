"""The read layer: every read of cases, workflow snapshots and records goes through here, on SQLAlchemy Core.

* ``cases(conn, ids, names)``: the rows of some cases, in the order asked, with the columns asked (and the
  case's complex with ``place``); ``case_query`` is the same select for a filter instead of ids.
* ``workflows(conn, registry, hashes)``: the stored workflow snapshots, each parsed once per content hash (the
  registry remembers them; a snapshot's text is read from the database only the first time).
* ``records(conn, table, ids)``: the rows of a record table for many cases (or objections) at once, with the
  columns and kinds asked, in id order. The guards (``eightstep.engine.checking``), the forms
  (``eightstep.paperwork.casedata``) and the audit read their records through it.

Rows are read-only, with the tables' column names as attributes; times are aware UTC datetimes on every
database (SQLite stores them without an offset: ``columns`` reads them back as UTC). Nothing here needs the ORM
classes of ``eightstep.store.models`` or pydantic. ``conn`` is SQLAlchemy's connection, or on a SQLite file the
``PlainReader`` of ``Workspace.reading`` (``eightstep.store.plain``: the same statements, compiled once and run
without importing SQLAlchemy; a table may then be given by its name). ``BATCH`` is the one batch size of the
library: ids per ``IN (...)`` list and cases per batch of a check, an audit or a bulk advance.
"""

from __future__ import annotations

from collections import namedtuple
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

from eightstep.errors import NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.store import plain
from eightstep.store.plain import PlainReader, dialect_name
from eightstep.store.plain import parse_stored as parse_stored  # SQLite's stored times, read as aware UTC
from eightstep.workflow.label import workflow_label

if TYPE_CHECKING:
    from sqlalchemy import Connection, Row, Select, Table
    from sqlalchemy.sql.elements import ColumnElement

    from eightstep.workflow.loaded import LoadedWorkflow
    from eightstep.workflow.registry import WorkflowRegistry

BATCH = 500  # ids per IN (...) list; cases per batch of a check, an audit, a bulk advance

T = TypeVar("T")


def batches(items: Sequence[T]) -> Iterator[Sequence[T]]:
    """``items`` in slices of ``BATCH`` (read when called: a test may lower it)."""
    size = BATCH
    for start in range(0, len(items), size):
        yield items[start:start + size]


# --- columns ---------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def _stored_utc() -> Any:
    """The type of a time as SQLite stores it (UTC, no offset) read as an aware UTC datetime.

    The guards compare times with ``as_utc``, which costs ten times more on a naive datetime (``replace``) than on
    an aware one; parsing the stored text with its offset costs no more than SQLAlchemy's own parsing.
    """
    from sqlalchemy.types import String, TypeDecorator

    class StoredUTC(TypeDecorator[datetime]):
        impl = String
        cache_ok = True
        plain_reader = "utc"  # how eightstep.store.plain reads it: parse_stored

        def process_result_value(self, value: Any, dialect: Any) -> datetime | None:
            return parse_stored(value)

    return StoredUTC()


def columns(dialect: str, table: Table, names: Iterable[str] | None = None) -> list[ColumnElement[Any]]:
    """``names`` of ``table`` (None: all) for a Core select; on SQLite its times are read as aware UTC."""
    from sqlalchemy import DateTime, type_coerce

    chosen: list[ColumnElement[Any]] = [table.c[n] for n in names] if names is not None else list(table.c)
    if dialect != "sqlite":
        return chosen
    return [type_coerce(c, _stored_utc()).label(c.name) if isinstance(c.type, DateTime) else c for c in chosen]


def table_named(name: str) -> Table:
    """The table called ``name`` (every table module's tables are in the one ``metadata``)."""
    from eightstep.store import money_tables, people_tables, tables  # noqa: F401  (their tables, registered)

    return tables.metadata.tables[name]


# --- cases -----------------------------------------------------------------------------------------------

PLACE_COLUMNS = ("complex_name", "district", "street", "community")  # with ``place``: the case's complex


@dataclass(frozen=True)
class CaseIdentity:
    """What names a case to people, shared by every view of a case (``engine.CaseView``, the audit's findings,
    the overview's rows, the forms' ``CaseInfo``)."""

    id: str
    complex: str
    building: str
    unit: str
    workflow_id: str
    workflow_version: str

    @property
    def workflow_label(self) -> str:
        return workflow_label(self.workflow_id, self.workflow_version)

    @property
    def unit_label(self) -> str:
        return unit_label(self.building, self.unit)

    def identity_dict(self, id_key: str = "id") -> dict[str, Any]:
        """The identity's part of a view's JSON (``id_key``: what the view calls the case id)."""
        return {id_key: self.id, "complex": self.complex, "building": self.building, "unit": self.unit,
                "workflow": {"id": self.workflow_id, "version": self.workflow_version}}


def unit_label(building: str, unit: str) -> str:
    """How people name a stairwell unit: ``3栋2单元``."""
    return f"{building}栋{unit}单元"


def no_case(case_id: str) -> NotFoundError:
    return NotFoundError(_("no case {case!r}").format(case=case_id), remedy=Remedy("case.list", {}))


@lru_cache(maxsize=64)
def case_query(dialect: str, names: tuple[str, ...] | None = None, *, place: bool = False) -> Select[Any]:
    """The columns ``names`` of cases (None: all; with ``place``: ``PLACE_COLUMNS`` of its complex), to be
    filtered."""
    from sqlalchemy import select

    from eightstep.store.tables import cases, complexes

    query = select(*columns(dialect, cases, names))
    if place:
        query = query.add_columns(complexes.c.name.label("complex_name"), complexes.c.district,
                                  complexes.c.street, complexes.c.community
                                  ).join(complexes, complexes.c.id == cases.c.complex_id)
    return query


_READ = "eightstep.store.read:"  # this module's statement builders, for ``plain.fetch``


def cases(conn: Connection | PlainReader, ids: Sequence[str], names: tuple[str, ...] | None = None, *,
          place: bool = False, extend: Callable[[Select[Any]], Select[Any]] | None = None) -> list[Row[Any]]:
    """The rows of the cases ``ids`` in that order (each once), ``BATCH`` ids per query; NotFoundError names the
    first missing. ``extend`` adds to the select (e.g. the check cache's entries joined; SQLAlchemy only)."""
    unique = list(dict.fromkeys(ids))
    found: dict[str, Row[Any]] = {}
    for chunk in batches(unique):
        if extend is None:
            rows = plain.fetch(conn, _READ + "_by_ids", (dialect_name(conn), names, place), {"ids": list(chunk)})
        else:
            rows = list(conn.execute(extend(_by_ids(dialect_name(conn), names, place)),  # type: ignore[union-attr]
                                     {"ids": list(chunk)}))
        found.update((row.id, row) for row in rows)
    for case_id in unique:
        if case_id not in found:
            raise no_case(case_id)
    return [found[case_id] for case_id in unique]


@lru_cache(maxsize=64)
def _by_ids(dialect: str, names: tuple[str, ...] | None, place: bool) -> Select[Any]:
    from sqlalchemy import bindparam

    from eightstep.store.tables import cases

    return case_query(dialect, names, place=place).where(cases.c.id.in_(bindparam("ids", expanding=True)))


def case(conn: Connection | PlainReader, case_id: str, names: tuple[str, ...] | None = None, *,
         place: bool = False) -> Row[Any]:
    """The row of one case (``cases`` of one id, by a statement of its own: every move and check reads one)."""
    rows = plain.fetch(conn, _READ + "_by_id", (dialect_name(conn), names, place), {"id": case_id})
    if not rows:
        raise no_case(case_id)
    return rows[0]


@lru_cache(maxsize=64)
def _by_id(dialect: str, names: tuple[str, ...] | None, place: bool) -> Select[Any]:
    from sqlalchemy import bindparam

    from eightstep.store.tables import cases

    return case_query(dialect, names, place=place).where(cases.c.id == bindparam("id"))


def complex_id(conn: Connection | PlainReader, name: str) -> int:
    """The id of the complex called ``name``; NotFoundError when there is none."""
    found = plain.fetch(conn, _READ + "_complex_by_name", (), {"name": name})
    if not found:
        raise NotFoundError(_("no complex named {name!r}").format(name=name), remedy=Remedy("case.list"))
    return int(found[0].id)


def _complex_by_name() -> Select[Any]:
    from sqlalchemy import bindparam, select

    from eightstep.store.tables import complexes

    return select(complexes.c.id).where(complexes.c.name == bindparam("name"))


def complex_names(conn: Connection | PlainReader, ids: Collection[int]) -> dict[int, str]:
    """Complex id -> name, for ``ids``."""
    out: dict[int, str] = {}
    for chunk in batches(sorted(ids)):
        out.update((r.id, r.name) for r in plain.fetch(conn, _READ + "_complexes_by_id", (), {"ids": list(chunk)}))
    return out


def _complexes_by_id() -> Select[Any]:
    from sqlalchemy import bindparam, select

    from eightstep.store.tables import complexes

    return select(complexes.c.id, complexes.c.name).where(complexes.c.id.in_(bindparam("ids", expanding=True)))


# --- workflow snapshots ----------------------------------------------------------------------------------

def workflows(conn: Connection | PlainReader, registry: WorkflowRegistry,
              hashes: Iterable[str] | None = None) -> dict[str, LoadedWorkflow]:
    """Content hash -> the stored workflow snapshot's rules, for ``hashes`` (None: every stored snapshot).

    Each snapshot is parsed once per registry (a workspace): only the hashes it has not met yet are read.
    A hash with no stored snapshot is left out (``workflow`` says so for one case)."""
    out: dict[str, LoadedWorkflow] = {}
    if hashes is None:
        rows: Iterable[Any] = plain.fetch(conn, _READ + "_snapshots", (False,))
    else:
        wanted = set(hashes)
        for sha in wanted:
            known = registry.known(sha)
            if known is not None:
                out[sha] = known
        missing = sorted(wanted - out.keys())
        rows = [r for chunk in batches(missing)
                for r in plain.fetch(conn, _READ + "_snapshots", (True,), {"hashes": list(chunk)})]
    for r in rows:
        out[r.sha256] = registry.from_snapshot(r.content, r.sha256, r.workflow_id, r.version)
    return out


@lru_cache(maxsize=2)
def _snapshots(chosen: bool) -> Select[Any]:
    """The stored workflow snapshots (``chosen``: those of the content hashes ``hashes``)."""
    from sqlalchemy import bindparam, select

    from eightstep.store.tables import workflow_snapshots as snapshots

    query = select(snapshots.c.sha256, snapshots.c.workflow_id, snapshots.c.version, snapshots.c.content)
    return query.where(snapshots.c.sha256.in_(bindparam("hashes", expanding=True))) if chosen else query


def workflow(conn: Connection | PlainReader, registry: WorkflowRegistry, case_row: Any) -> LoadedWorkflow:
    """The rules ``case_row`` (anything with ``id`` and ``workflow_sha256``) was opened under."""
    found = workflows(conn, registry, [case_row.workflow_sha256]).get(case_row.workflow_sha256)
    if found is None:
        raise NotFoundError(_("case {case}: its workflow snapshot {sha} is missing").format(
            case=case_row.id, sha=case_row.workflow_sha256[:12]))
    return found


# --- records ---------------------------------------------------------------------------------------------

def records(conn: Connection | PlainReader, table: Table | str, ids: Collection[Any], *, key: str = "case_id",
            names: tuple[str, ...] | None = None, kinds: Collection[str] | None = None,
            where: tuple[ColumnElement[bool], ...] = (), order: str | None = None,
            voided: bool = False, grouped: bool = False) -> dict[Any, list[Any]]:
    """Key -> its rows of ``table`` (``names`` columns, None: all; with ``kinds``, only rows of those kinds; only
    those matching ``where`` too), for the ``key`` values ``ids`` (case ids, or objection ids of mediation
    steps), each key's rows ordered by ``order`` (default: the primary key). A voided record
    (``records.corrections``) counts nowhere: it is left out unless ``voided``. ``table``: the Table, or its name.
    ``grouped``: the statement orders by ``key`` first (the same lists; the keys come in their sorted order), so
    that SQLite reads the key's index in its order instead of sorting the rows of many keys in a temporary B-tree
    (the batches of a bulk advance)."""
    out: dict[Any, list[Any]] = {}
    if not ids:
        return out
    if isinstance(conn, PlainReader):
        return _plain_records(conn, table if isinstance(table, str) else table.name, ids, key, names, kinds, where,
                              order, voided, grouped)
    if isinstance(table, str):
        table = table_named(table)
    order = order or _primary_key(table)
    wanted = names if names is not None else _all_columns(table)
    kind_list = tuple(sorted(kinds)) if kinds is not None else None
    sqlite = conn.dialect.name == "sqlite"
    for chunk in batches(sorted(set(ids)) if len(ids) > 1 else list(ids)):
        if sqlite and not where:
            rows = _sqlite_rows(conn, table, key, wanted, list(chunk), kind_list, order, voided, grouped)
        else:
            query = _query(conn.dialect.name, table, key, wanted, kind_list, order, voided, grouped)
            rows = list(conn.execute(query.where(*where) if where else query, {"ids": list(chunk)}))
        for row in rows:
            out.setdefault(getattr(row, key), []).append(row)
    return out


@lru_cache(maxsize=64)
def _primary_key(table: Table) -> str:
    return next(iter(table.primary_key.columns)).name


@lru_cache(maxsize=64)
def _all_columns(table: Table) -> tuple[str, ...]:
    return tuple(table.c.keys())


@lru_cache(maxsize=256)
def _query(dialect: str, table: Table, key: str, names: tuple[str, ...], kinds: tuple[str, ...] | None,
           order: str, voided: bool = False, grouped: bool = False) -> Select[Any]:
    from sqlalchemy import bindparam, select

    from eightstep.store import tables

    query = select(*columns(dialect, table, names)).where(table.c[key].in_(bindparam("ids", expanding=True)))
    if not voided:
        query = query.where(tables.not_voided(table))
    if kinds is not None:
        query = query.where(table.c.kind.in_(kinds))
    return query.order_by(*(table.c[name] for name in _ordering(key, order, grouped)))


def _ordering(key: str, order: str, grouped: bool) -> tuple[str, ...]:
    """The columns of ORDER BY: ``order``, after ``key`` when ``grouped``."""
    return (key, order) if grouped and order != key else (order,)


def _plain_records(conn: PlainReader, table: str, ids: Collection[Any], key: str, names: tuple[str, ...] | None,
                   kinds: Collection[str] | None, where: tuple[Any, ...], order: str | None,
                   voided: bool, grouped: bool = False) -> dict[Any, list[Any]]:
    """``records`` through a ``PlainReader`` (the statements of ``_query``)."""
    if where:
        raise TypeError("records(where=...) needs SQLAlchemy's connection")
    out: dict[Any, list[Any]] = {}
    kind_list = tuple(sorted(kinds)) if kinds is not None else None
    if kind_list == ():  # kind IN (): no row
        return out
    for chunk in batches(sorted(set(ids)) if len(ids) > 1 else list(ids)):
        for row in conn.fetch(_READ + "_records_query", ("sqlite", table, key, names, kind_list, order, voided,
                                                                grouped),
                              {"ids": list(chunk)}):
            out.setdefault(getattr(row, key), []).append(row)
    return out


def _records_query(dialect: str, name: str, key: str, names: tuple[str, ...] | None, kinds: tuple[str, ...] | None,
                   order: str | None, voided: bool, grouped: bool = False) -> Select[Any]:
    table = table_named(name)
    return _query(dialect, table, key, names if names is not None else _all_columns(table), kinds,
                  order or _primary_key(table), voided, grouped)


# SQLite: the same rows read through the driver's own cursor, as named tuples with the columns' Python types
# (aware UTC times, dates, bools). A district's bulk advance reads some 700,000 rows; SQLAlchemy's result rows cost
# about as much again as reading them.

@lru_cache(maxsize=256)
def _row_type(table: Table, names: tuple[str, ...]) -> tuple[Any, tuple[tuple[int, Callable[[Any], Any]], ...]]:
    """The named tuple of ``names`` of ``table`` and the converters of its columns (position, function)."""
    from sqlalchemy.types import Boolean, Date, DateTime

    converters: list[tuple[int, Callable[[Any], Any]]] = []
    for i, name in enumerate(names):
        kind = table.c[name].type
        if isinstance(kind, DateTime):
            converters.append((i, parse_stored))
        elif isinstance(kind, Boolean):
            converters.append((i, plain.to_bool))
        elif isinstance(kind, Date):
            converters.append((i, plain.to_date))
    return namedtuple(f"{table.name}_row", names), tuple(converters)


def sqlite_rows(conn: Connection, table: Table, names: tuple[str, ...], tail: str, params: list[Any]) -> list[Any]:
    """SQLite: the rows of ``SELECT names FROM table tail`` (``tail``: WHERE ..., with ``?`` for ``params``) read
    through the driver's cursor in ``conn``'s transaction, typed as SQLAlchemy types them (as ``records``)."""
    cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]  # in conn's transaction
    try:
        raw = cursor.execute(f"SELECT {', '.join(names)} FROM {table.name} {tail}", params).fetchall()
    finally:
        cursor.close()
    row_type, converters = _row_type(table, names)
    return plain.made(raw, row_type._make, converters)


def _sqlite_rows(conn: Connection, table: Table, key: str, names: tuple[str, ...], ids: list[Any],
                 kinds: tuple[str, ...] | None, order: str, voided: bool = False, grouped: bool = False) -> list[Any]:
    sql = f"WHERE {key} IN ({', '.join('?' * len(ids))})"
    params: list[Any] = list(ids)
    if not voided and "voided_at" in table.c:
        sql += " AND voided_at IS NULL"
    if kinds is not None:
        sql += f" AND kind IN ({', '.join('?' * len(kinds))})"
        params.extend(kinds)
    return sqlite_rows(conn, table, names, f"{sql} ORDER BY {', '.join(_ordering(key, order, grouped))}", params)

