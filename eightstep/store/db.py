"""Database URL resolution, engine set-up (SQLite pragmas), schema creation and version checks."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from sqlalchemy import Engine, event, inspect
from sqlalchemy.engine import make_url
from sqlmodel import Session, SQLModel, create_engine, select

from eightstep.errors import InputError
from eightstep.store import models
from eightstep.timeutil import now_utc

DEFAULT_DB = "eightstep.db"
BUSY_TIMEOUT_MS = 10_000


def resolve_url(path_or_url: str | None) -> str:
    """``eightstep.db`` (a path) or any SQLAlchemy URL such as ``postgresql+psycopg://...``."""
    value = (path_or_url or DEFAULT_DB).strip()
    if "://" in value:
        try:
            make_url(value)
        except Exception as exc:  # SQLAlchemy raises ArgumentError for malformed URLs
            raise InputError(f"--db: {value!r} is not a database URL ({exc})") from None
        return value
    return f"sqlite:///{Path(value).expanduser().resolve()}"


def sqlite_path(url: str) -> Path | None:
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return None
    return Path(parsed.database)


def make_engine(url: str) -> Engine:
    if sqlite_path(url) is not None:
        engine = create_engine(url, connect_args={"timeout": BUSY_TIMEOUT_MS / 1000})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.close()


def create_schema(engine: Engine) -> bool:
    """Create the tables (idempotent). Returns True when the database was new."""
    fresh = not inspect(engine).has_table("meta")
    SQLModel.metadata.create_all(engine)
    with Session(engine) as session:
        if session.get(models.Meta, "schema_version") is None:
            session.add(models.Meta(key="schema_version", value=str(models.SCHEMA_VERSION)))
            session.add(models.Meta(key="created_at", value=now_utc().isoformat()))
            session.commit()
    return fresh


def check_schema(engine: Engine, where: str) -> None:
    """Refuse to work on a database that was never initialised or is newer than this program."""
    if not inspect(engine).has_table("meta"):
        raise InputError(f"{where} is not an eightstep database yet: run `eightstep init` first")
    with Session(engine) as session:
        row = session.exec(select(models.Meta).where(models.Meta.key == "schema_version")).first()
    version = int(row.value) if row else 0
    if version > models.SCHEMA_VERSION:
        raise InputError(f"{where} has schema version {version}, newer than this eightstep "
                         f"({models.SCHEMA_VERSION}); upgrade eightstep")
