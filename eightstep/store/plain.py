"""Reading a SQLite file without importing SQLAlchemy (start-up: SQLAlchemy costs about 0.2 s of every command).

The read path's statements are still defined once, in SQLAlchemy Core. Each is named by its *builder*, a function
given as ``"module:function"`` and the plain, hashable arguments it is called with, that returns the same
statement for the same arguments (values change only through the ``bindparam``s passed when it runs). A
``PlainReader`` compiles a statement the first time it meets it (with the engine's own SQLite dialect, which
imports SQLAlchemy once) and keeps, in the cache folder, what running it takes: the SQL text, the order of its
parameters (the statement's own constants already processed as SQLAlchemy would bind them) and how each column of
its rows is read back. Later runs execute that text through the stdlib ``sqlite3`` driver.

Exact by construction: a column is read back with the very function SQLAlchemy uses for its type (none for texts
and integers; ``date.fromisoformat`` for dates, ``bool`` for booleans, ``parse_stored`` for the read layer's times);
a statement with any other kind of column, or a parameter SQLAlchemy would convert, is refused when compiled (a
mistake of the code, found by the tests that run every plain statement both ways). Rows are named tuples with
the columns' keys, like SQLAlchemy's rows.

The cache file is named by SQLAlchemy's version, the schema's revision and the size and time of the code that
builds statements (``eightstep.store`` and each builder's module): another install, or an edited checkout, never
reads an entry it did not write. A missing, damaged or foreign file is compiled again; one that cannot be written is
not. ``EIGHTSTEP_CACHE_DIR=off`` turns the cache, and with it this path, off (reads then use SQLAlchemy).
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import pickle
import re
import sqlite3
from collections import namedtuple
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eightstep.cachedir import cache_dir

if TYPE_CHECKING:
    from sqlalchemy import Connection, Dialect

FORMAT = 2  # of an entry; a change to what an entry holds changes this
_POSTCOMPILE = re.compile(r"__\[POSTCOMPILE_(\w+)\]")


def parse_stored(value: str | None) -> datetime | None:
    """A time stored by SQLite (``2025-03-01 09:30:00.000000``, UTC) as an aware UTC datetime."""
    if value is None:
        return None
    if len(value) == 26:  # 2025-03-01 09:30:00.000000, as SQLAlchemy writes it
        return datetime.fromisoformat(value + "+00:00")
    parsed = datetime.fromisoformat(value)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def made(raw: list[Any], make: Callable[[Any], Any],
         converters: Sequence[tuple[int, Callable[[Any], Any]]]) -> list[Any]:
    """Rows of the driver's tuples ``raw``: each column at a converter's position converted, then ``make``."""
    if not converters:
        return [make(r) for r in raw]
    out = []
    for r in raw:
        values = list(r)
        for i, convert in converters:
            values[i] = convert(values[i])
        out.append(make(values))
    return out


def to_date(value: str | None) -> date | None:  # SQLAlchemy's str_to_date (SQLite DATE)
    return None if value is None else date.fromisoformat(value)


def to_bool(value: int | None) -> bool | None:  # SQLAlchemy's int_to_boolean (SQLite BOOLEAN)
    return None if value is None else bool(value)


READERS: dict[str, Callable[[Any], Any]] = {"utc": parse_stored, "date": to_date, "bool": to_bool}

_STORED = "%(year)04d-%(month)02d-%(day)02d %(hour)02d:%(minute)02d:%(second)02d.%(microsecond)06d"


def write_stored(value: date | None) -> str | None:
    """A time (or a date, at midnight) as SQLAlchemy's SQLite DATETIME binds it: its own fields, offset ignored."""
    if value is None:
        return None
    if isinstance(value, datetime):
        return _STORED % {"year": value.year, "month": value.month, "day": value.day, "hour": value.hour,
                          "minute": value.minute, "second": value.second, "microsecond": value.microsecond}
    if isinstance(value, date):
        return _STORED % {"year": value.year, "month": value.month, "day": value.day, "hour": 0, "minute": 0,
                          "second": 0, "microsecond": 0}
    raise TypeError("SQLite DateTime type only accepts Python datetime and date objects as input.")


WRITERS: dict[str, Callable[[Any], Any]] = {"datetime": write_stored}


def _writer(kind: Any, dialect: Dialect) -> str:
    """How a runtime parameter of ``kind`` is bound (SQLite's DATETIME with its default storage format only)."""
    from sqlalchemy.dialects.sqlite.base import DATETIME

    impl = kind.dialect_impl(dialect)
    if type(impl) is DATETIME and impl._storage_format == _STORED and impl._reg is None:
        return "datetime"
    raise TypeError(f"a parameter of type {kind!r} is converted by SQLAlchemy in a way a plain statement does not know")


# --- compiling (SQLAlchemy imported here only) ---------------------------------------------------------------

def build(ref: str, args: tuple[Any, ...]) -> Any:
    """The Core statement the builder ``ref`` (``module:function``) returns for ``args``."""
    module, name = ref.split(":")
    return getattr(importlib.import_module(module), name)(*args)


def compile_plain(statement: Any, dialect: Dialect, runtime: frozenset[str]) -> tuple[Any, ...]:
    """What running ``statement`` takes, with ``runtime`` the names of the parameters given when it runs:
    (SQL, parameter slots, column keys, column readers). A slot is ``(name, expanding, writer)`` for a runtime
    parameter (``writer``: None, or how SQLAlchemy would convert it, ``WRITERS``) and ``(None, values, None)`` for
    the statement's own constants (already as SQLAlchemy binds them)."""
    from sqlalchemy.engine import processors

    compiled = statement.compile(dialect=dialect)
    if compiled.positional is not True or dialect.paramstyle != "qmark":
        raise TypeError("a plain statement needs the SQLite dialect's qmark parameters")
    processors_by_name = compiled._bind_processors
    sql = compiled.string
    slots: list[tuple[str | None, Any, str | None]] = []
    for name in compiled.positiontup or ():
        bind = compiled.binds[name]
        if name in runtime:
            writer = _writer(bind.type, dialect) if name in processors_by_name else None
            slots.append((name, bool(bind.expanding), writer))
            continue
        process = processors_by_name.get(name, lambda v: v)
        value = bind.effective_value
        if bind.expanding:
            if not value:
                raise TypeError(f"constant {name!r}: an empty list (SQLAlchemy writes another statement for it)")
            sql = sql.replace(f"__[POSTCOMPILE_{name}]", ", ".join("?" * len(value)))
            slots.append((None, [process(v) for v in value], None))
        else:
            slots.append((None, [process(value)], None))
    fields: list[str] = []
    readers: list[str | None] = []
    for column in compiled._result_columns:
        kind = column.type
        reader = getattr(kind, "plain_reader", None)  # the read layer's own types say how they read
        if reader is None:
            process = kind._cached_result_processor(dialect, None)
            if process is processors.str_to_date:
                reader = "date"
            elif process is processors.int_to_boolean:
                reader = "bool"
            elif process is not None:
                raise TypeError(f"column {column.keyname!r} ({kind!r}) is converted by SQLAlchemy in a way "
                                "a plain statement does not know")
        fields.append(str(column.keyname))  # not quoted_name: an entry must load without SQLAlchemy
        readers.append(reader)
    return str(sql), tuple(slots), tuple(fields), tuple(readers)


# --- the cache file ------------------------------------------------------------------------------------------

@lru_cache(maxsize=1)
def sqlalchemy_version() -> str:
    """SQLAlchemy's version, read from its package file (importing it is what this module avoids)."""
    spec = importlib.util.find_spec("sqlalchemy")
    if spec is None or spec.origin is None:
        return "none"
    found = re.search(r'^__version__\s*=\s*"([^"]+)"', Path(spec.origin).read_text(encoding="utf-8"), re.M)
    return found.group(1) if found else "unknown"


@lru_cache(maxsize=64)
def _stat(path: str) -> str:
    stat = os.stat(path)
    return f"{stat.st_size}:{stat.st_mtime_ns}"


@lru_cache(maxsize=1)
def store_digest() -> str:
    """The size and time of eightstep's own file (its version) and of every module of ``eightstep.store``."""
    package = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for path in [package / "__init__.py", *sorted((package / "store").glob("*.py"))]:
        h.update(f"{path.name}:{_stat(str(path))};".encode())
    return h.hexdigest()[:16]


def _module_stamp(ref: str) -> str:
    spec = importlib.util.find_spec(ref.split(":")[0])
    return _stat(spec.origin) if spec is not None and spec.origin else "?"


class PlainReader:
    """A connection to a SQLite file through ``sqlite3`` (the same settings as the engine's), running plain
    statements. ``compile_with`` gives a SQLAlchemy dialect when a statement must be compiled first."""

    dialect_name = "sqlite"

    def __init__(self, path: Path, revision: str, compile_with: Callable[[], Dialect], timeout: float) -> None:
        from eightstep.store.pragmas import sqlite_pragmas

        self.db = sqlite3.connect(path, timeout=timeout)
        sqlite_pragmas(self.db)
        self._compile_with = compile_with
        folder = cache_dir()
        self._file = None if folder is None else folder / (
            f"plainsql-{FORMAT}-{sqlalchemy_version()}-{revision}-{store_digest()}.pickle")
        self._entries: dict[tuple[str, tuple[Any, ...]], tuple[Any, ...]] | None = None
        self._rows: dict[tuple[str, ...], Any] = {}

    def close(self) -> None:
        self.db.close()

    def fetch(self, ref: str, args: tuple[Any, ...], params: Mapping[str, Any]) -> list[Any]:
        """The rows of the statement ``ref(*args)`` with ``params``."""
        entry = self._entry(ref, args, frozenset(params))
        sql, slots, fields, readers = entry[1:]
        values: list[Any] = []
        expanded: dict[str, str] = {}
        for name, spec, writer in slots:
            if name is None:
                values.extend(spec)
                continue
            write = WRITERS[writer] if writer is not None else None
            if spec:  # expanding: one ? per value
                given = list(params[name])
                if not given:
                    raise ValueError(f"parameter {name!r}: an empty list")
                expanded[name] = ", ".join("?" * len(given))
                values.extend(map(write, given) if write else given)
            else:
                values.append(write(params[name]) if write else params[name])
        if "POSTCOMPILE" in sql:
            sql = _POSTCOMPILE.sub(lambda m: expanded[m.group(1)], sql)
        raw = self.db.execute(sql, values).fetchall()
        return made(raw, self._row_type(fields)._make,
                    [(i, READERS[r]) for i, r in enumerate(readers) if r is not None])

    def _row_type(self, fields: tuple[str, ...]) -> Any:
        found = self._rows.get(fields)
        if found is None:
            found = self._rows[fields] = namedtuple("Row", fields)
        return found

    def _entry(self, ref: str, args: tuple[Any, ...], runtime: frozenset[str]) -> tuple[Any, ...]:
        entries = self._load()
        key = (ref, args)
        entry = entries.get(key)
        if entry is None or entry[0] != (_module_stamp(ref), runtime):
            statement = build(ref, args)
            entry = ((_module_stamp(ref), runtime), *compile_plain(statement, self._compile_with(), runtime))
            entries[key] = entry
            self._save(entries)
        return entry

    def _load(self) -> dict[tuple[str, tuple[Any, ...]], tuple[Any, ...]]:
        if self._entries is None:
            self._entries = {}
            if self._file is not None:
                try:
                    with open(self._file, "rb") as f:
                        found = pickle.load(f)
                    if isinstance(found, dict):
                        self._entries = found
                except Exception:  # missing, damaged, another version's: compile again
                    pass
        return self._entries

    def _save(self, entries: dict[Any, Any]) -> None:
        """Written to a temporary file and renamed: never half a file (a concurrent writer's entries may be lost:
        they are compiled again)."""
        if self._file is None:
            return
        import tempfile  # only when an entry is written

        try:
            self._file.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self._file.parent, prefix=".plainsql-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as f:
                    pickle.dump(entries, f, protocol=pickle.HIGHEST_PROTOCOL)
                os.replace(tmp, self._file)
            except BaseException:
                Path(tmp).unlink(missing_ok=True)
                raise
        except (OSError, pickle.PicklingError):  # a read-only or full disk: compiled again next time
            return


# --- one function for both kinds of connection ---------------------------------------------------------------

def fetch(conn: Connection | PlainReader, ref: str, args: tuple[Any, ...],
          params: Mapping[str, Any] | None = None) -> list[Any]:
    """The rows of the statement ``ref(*args)`` with ``params``, on either kind of connection."""
    if isinstance(conn, PlainReader):
        return conn.fetch(ref, args, params or {})
    return list(conn.execute(build(ref, args), dict(params or {})))


def dialect_name(conn: Connection | PlainReader) -> str:
    return conn.dialect_name if isinstance(conn, PlainReader) else conn.dialect.name
