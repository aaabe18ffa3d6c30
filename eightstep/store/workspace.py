"""A Workspace ties together one database, its file store, the workflow registry and the work calendar."""

from __future__ import annotations

import os
import sqlite3
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eightstep.cachedir import cache_dir
from eightstep.errors import ConflictError, InputError, Remedy
from eightstep.i18n import _
from eightstep.rules.workcalendar import WorkCalendar
from eightstep.store import db as store_db
from eightstep.store.db import SchemaChange, check_schema, create_schema, make_engine, resolve_url, sqlite_path
from eightstep.store.files import BlobStore
from eightstep.store.outputs import Protected, protected_paths
from eightstep.store.plain import PlainReader
from eightstep.store.pragmas import BUSY_TIMEOUT_MS
from eightstep.workflow.registry import WorkflowRegistry

if TYPE_CHECKING:
    from sqlalchemy import Connection, Dialect, Engine
    from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError, SQLAlchemyError
    from sqlmodel import Session

ENV_DB = "EIGHTSTEP_DB"
ENV_FILES = "EIGHTSTEP_FILES"
ENV_WORKFLOWS = "EIGHTSTEP_WORKFLOWS"
ENV_HOLIDAYS = "EIGHTSTEP_HOLIDAYS"


def _dirs_from_env(name: str) -> list[Path]:
    value = os.environ.get(name, "")
    return [Path(p) for p in value.split(os.pathsep) if p]


def locate(db: str | None, files: Path | None = None) -> tuple[str, Path | None, Path]:
    """Where a workspace lives, without opening it: the database URL, the SQLite file (None for a server), and
    the files store (``files``, else ``EIGHTSTEP_FILES``, else beside the SQLite file, else ./eightstep-files)."""
    url = resolve_url(db if db is not None else os.environ.get(ENV_DB))
    db_path = sqlite_path(url)
    base = db_path.parent if db_path else Path.cwd()
    files_root = files or (Path(os.environ[ENV_FILES]) if os.environ.get(ENV_FILES) else (
        db_path.with_name(db_path.name + ".files") if db_path else base / "eightstep-files"))
    return url, db_path, files_root


def protected_for(db: str | None, files: Path | None = None) -> Protected:
    """The protected paths of the workspace ``db`` names (it need not exist yet)."""
    _url, db_path, files_root = locate(db, files)
    return protected_paths(db_path, files_root)


def holiday_folders(db: str | None, extra: list[Path] | None = None) -> list[Path]:
    """Where the user's holiday data files are: ``extra`` (--holidays), $EIGHTSTEP_HOLIDAYS, and ``holidays/``
    beside the database (the working directory for a database URL)."""
    _url, db_path, _files = locate(db)
    base = db_path.parent if db_path else Path.cwd()
    return [*(extra or []), *_dirs_from_env(ENV_HOLIDAYS), base / "holidays"]


@dataclass
class Workspace:
    """Everything a command needs. Build one with :meth:`open` (existing database) or :meth:`init`."""

    url: str
    _engine: Engine | None  # made on first use: a SQLite file's reads may not need SQLAlchemy at all
    files: BlobStore
    workflows: WorkflowRegistry
    calendar: WorkCalendar
    machines: dict[str, object] = field(default_factory=dict)
    schema_change: SchemaChange | None = None  # what `init` did to the schema (None for `open`)
    _plain: PlainReader | None = None  # ``reading()`` on a SQLite file at this revision (``open`` makes it)

    @classmethod
    def _build(cls, db: str | None, workflow_dirs: list[Path] | None = None,
               holiday_dirs: list[Path] | None = None, files: Path | None = None) -> Workspace:
        """``files``: the folder of attached files (default $EIGHTSTEP_FILES, else beside the database)."""
        url, _db_path, files_root = locate(db, files)
        holidays = holiday_folders(db, holiday_dirs)
        workflows = [*(workflow_dirs or []), *_dirs_from_env(ENV_WORKFLOWS)]
        engine = None if sqlite_path(url) is not None else _server_engine(url)  # SQLite's: on first use
        return cls(url=url, _engine=engine, files=BlobStore(files_root),
                   workflows=WorkflowRegistry(workflows), calendar=WorkCalendar(holidays))

    @property
    def engine(self) -> Engine:
        """SQLAlchemy's engine on the database (made on first use)."""
        if self._engine is None:
            self._engine = make_engine(self.url)
        return self._engine

    @classmethod
    def open(cls, db: str | None = None, **kwargs: Any) -> Workspace:
        """An existing, initialised database (``eightstep init`` creates one)."""
        ws = cls._build(db, **kwargs)
        db_path = sqlite_path(ws.url)
        if db_path is not None and not db_path.exists():
            raise InputError(_("no database at {path}: create it there first, or name another database").format(
                path=db_path), remedy=Remedy("init"))
        if ws._plain_at_head():
            return ws
        with ws._reaching():
            check_schema(ws.engine, ws.where)
        return ws

    def _plain_at_head(self) -> bool:
        """Whether the SQLite file can be read without SQLAlchemy (the cache is on) and is at this eightstep's
        revision. Anything else, a damaged file included, is then said by ``check_schema`` through SQLAlchemy."""
        db_path = sqlite_path(self.url)
        if db_path is None or cache_dir() is None:
            return False
        try:
            reader = PlainReader(db_path, store_db.HEAD, self._dialect, BUSY_TIMEOUT_MS / 1000)
        except sqlite3.Error:
            return False
        if not store_db.sqlite_at_head(reader.db):
            reader.close()
            return False
        self._plain = reader
        return True

    def _dialect(self) -> Dialect:
        """The engine's dialect as it is after a first connection: what a plain statement is compiled with."""
        with self.engine.connect() as conn:
            return conn.dialect

    @contextmanager
    def reading(self) -> Iterator[Connection | PlainReader]:
        """A connection for the read layer: on a SQLite file at this revision (and the cache on), one through
        ``sqlite3`` without SQLAlchemy (``eightstep.store.plain``); else SQLAlchemy's."""
        if self._plain is not None:
            yield self._plain
            return
        with self.engine.connect() as conn:
            yield conn

    @classmethod
    def init(cls, db: str | None = None, **kwargs: Any) -> tuple[Workspace, bool]:
        """Create the database, or upgrade it to this eightstep's schema revision (idempotent).

        Returns the workspace and whether the database was new; ``ws.schema_change`` says from which revision
        to which it went. Only this imports alembic (the migrations); `open` just checks the revision.
        """
        ws = cls._build(db, **kwargs)
        db_path = sqlite_path(ws.url)
        if db_path is not None:
            db_path.parent.mkdir(parents=True, exist_ok=True)
        with ws._reaching():
            ws.schema_change = create_schema(ws.engine)
            if ws.schema_change.before not in (None, ws.schema_change.after):
                from eightstep.store.offices import apply_after_upgrade

                apply_after_upgrade(ws.engine)  # offices kept apart: the policies on any table a revision added
        return ws, ws.schema_change.fresh

    @contextmanager
    def _reaching(self) -> Iterator[None]:
        """The first contact with the database: a wrong --db becomes a message, not a traceback; on any failure
        the engine's connections are closed (nothing is left for the garbage collector)."""
        from sqlalchemy.exc import DBAPIError

        try:
            yield
        except DBAPIError as exc:
            self.dispose()
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise InputError(_("cannot use {where} as an eightstep database: {reason}").format(
                                 where=self.where, reason=reason), field="db") from None
        except BaseException:
            self.dispose()
            raise

    @property
    def protected(self) -> Protected:
        """The paths no output may write: the SQLite file with its journals, and the files store."""
        return protected_paths(sqlite_path(self.url), self.files.root)

    @property
    def where(self) -> str:
        path = sqlite_path(self.url)
        return str(path) if path else self.engine.url.render_as_string(hide_password=True)

    def session(self) -> Session:
        """An ORM session (the write path; reads go through ``eightstep.store.read`` on ``engine``)."""
        from sqlmodel import Session  # the ORM only for the commands that write through it

        return Session(self.engine, expire_on_commit=False)

    @contextmanager
    def writing(self) -> Iterator[Session]:
        """One transaction; a lost race on the case's version (or a locked database) becomes ConflictError."""
        with self._refusals(), self.session() as session:
            yield session
            session.commit()

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """``writing`` on a Core connection, without the ORM's session (the moves of a case: the most frequent
        write): one transaction, the same refusals."""
        with self._refusals(), self.engine.begin() as conn:
            yield conn

    @contextmanager
    def _refusals(self) -> Iterator[None]:
        """What the database refuses in a write transaction (rolled back by then), as the messages people read."""
        from sqlalchemy.exc import IntegrityError, OperationalError, ProgrammingError, SQLAlchemyError

        try:
            yield
        except IntegrityError as exc:
            if not _is_unique_violation(exc):
                raise
            # We looked before writing; a duplicate now means another writer got there first.
            raise ConflictError(_("another command wrote the same record at the same moment (e.g. the same "
                                  "event of this case); nothing was written, try again")) from None
        except OperationalError as exc:
            if is_busy(exc):
                raise ConflictError(_("the database is busy with another writer ({orig}); nothing was written, "
                                      "try again").format(orig=exc.orig)) from None
            raise
        except ProgrammingError as exc:
            if _codes(exc)[0] != PG_INSUFFICIENT_PRIVILEGE:
                raise
            reason = str(exc.orig).strip().splitlines()[0]
            raise InputError(_("the database refused the change ({reason}): this login may only read there, or "
                               "the case belongs to another office; nothing was written").format(
                                   reason=reason)) from None
        except SQLAlchemyError as exc:
            if not _is_stale(exc):
                raise
            raise ConflictError(
                _("the case was changed by someone else while this command ran; nothing was written. Look at "
                  "the case and try again")
            ) from None

    def dispose(self) -> None:
        if self._plain is not None:
            self._plain.close()
            self._plain = None
        if self._engine is not None:
            self._engine.dispose()


def _server_engine(url: str) -> Engine:
    """The engine of a database server; a missing driver or an unknown kind of database as a message."""
    from sqlalchemy.exc import ArgumentError

    try:
        return make_engine(url)
    except ModuleNotFoundError as exc:
        scheme = url.split("://")[0]
        if scheme.startswith("postgres"):
            raise InputError(_("the database driver {driver!r} for {scheme} is not installed: PostgreSQL needs "
                               "the postgresql extra of eightstep (psycopg 3), and the URL written as "
                               "postgresql+psycopg://...").format(driver=exc.name, scheme=scheme),
                             remedy=Remedy("install.extra", {"extra": "postgresql"})) from None
        raise InputError(_("the database driver {driver!r} for {scheme} is not installed").format(
            driver=exc.name, scheme=scheme)) from None
    except ArgumentError:  # SQLAlchemy knows no such kind of database (NoSuchModuleError is one)
        scheme = url.split("://")[0]
        raise InputError(_("{scheme!r} is not a kind of database eightstep knows; give a SQLite file or a "
                           "PostgreSQL URL (postgresql+psycopg://user@host/db)").format(scheme=scheme),
                         field="db") from None


# PostgreSQL's SQLSTATE codes (psycopg: ``exc.orig.sqlstate``). Its messages may be translated (a server with
# lc_messages = 'zh_CN.UTF-8' says 重复键违反唯一约束), the codes never are; SQLite names its codes too.
PG_UNIQUE_VIOLATION = "23505"
PG_INSUFFICIENT_PRIVILEGE = "42501"
PG_BUSY = {"40001": "serialization_failure", "40P01": "deadlock_detected", "55P03": "lock_not_available"}


def _codes(exc: DBAPIError) -> tuple[str | None, str | None]:
    """(SQLSTATE, SQLite error name) of the driver's exception; None where the driver has no such thing."""
    return getattr(exc.orig, "sqlstate", None), getattr(exc.orig, "sqlite_errorname", None)


def _is_stale(exc: SQLAlchemyError) -> bool:
    """The ORM's lost race on a version counter (StaleDataError). Only a session raises it, so the ORM is not
    imported to ask (a transaction on Core never loads it)."""
    orm_exc = sys.modules.get("sqlalchemy.orm.exc")
    return orm_exc is not None and isinstance(exc, orm_exc.StaleDataError)


def _is_unique_violation(exc: IntegrityError) -> bool:
    sqlstate, sqlite_name = _codes(exc)
    if sqlstate:
        return sqlstate == PG_UNIQUE_VIOLATION
    if sqlite_name:
        return sqlite_name in ("SQLITE_CONSTRAINT_UNIQUE", "SQLITE_CONSTRAINT_PRIMARYKEY")
    text = str(exc.orig).lower()  # another driver: its English message
    return "unique" in text or "duplicate key" in text


def is_busy(exc: OperationalError) -> bool:
    """Another writer held what we needed (SQLite: locked past the busy timeout; PostgreSQL: a serialization
    failure, a deadlock, a lock timeout): the transaction was rolled back and may simply be tried again."""
    sqlstate, sqlite_name = _codes(exc)
    if sqlstate:
        return sqlstate in PG_BUSY
    if sqlite_name:
        return sqlite_name.startswith(("SQLITE_BUSY", "SQLITE_LOCKED"))
    return "locked" in str(exc.orig) or "could not serialize" in str(exc.orig)
