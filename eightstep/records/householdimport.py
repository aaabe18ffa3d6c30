"""A household import of any size in bounded memory, all or nothing.

The file is read row by row (``tabular.stream_table``) into a temporary table of the recording's own connection,
a chunk at a time; the checks that need every row (a room twice in the file, a room already recorded) are
queries on it; the households are then written by two statements (the new rooms; with ``replace``, the rooms
already recorded), and read back a chunk at a time as the facts of the event. All of it runs in the recording's
one transaction: a problem anywhere, or another writer winning the case, leaves nothing written. Memory holds
one chunk of rows and one of facts at a time, whatever the size of the file.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from decimal import Decimal
from itertools import groupby
from pathlib import Path
from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    Connection,
    Integer,
    MetaData,
    Table,
    Text,
    exists,
    func,
    insert,
    literal,
    select,
    update,
)
from sqlalchemy.exc import SQLAlchemyError

from eightstep.engine.facts import PUT, fact_text, image
from eightstep.engine.recording import Recording
from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.records import tabular
from eightstep.rules.rooms import room_warning
from eightstep.store import models

CHUNK = 2000
HOUSEHOLDS: Table = models.Household.__table__
VALUES = ("floor", "area_centi", "owner", "owner_key", "phone", "co_owners", "affected")
STAGE = Table("household_import", MetaData(), Column("line", Integer, primary_key=True), Column("room", Text),
              Column("floor", Integer), Column("area_centi", Integer), Column("owner", Text),
              Column("owner_key", Text), Column("key_given", Boolean), Column("phone", Text),
              Column("co_owners", Text), Column("affected", Boolean),
              prefixes=["TEMPORARY"], postgresql_on_commit="DROP")


@contextmanager
def staging(conn: Connection) -> Iterator[None]:
    """The temporary table, empty, for the time of the import (dropped after it, whatever happened)."""
    STAGE.drop(conn, checkfirst=True)
    STAGE.create(conn)
    conn.exec_driver_sql("CREATE INDEX household_import_room ON household_import (room)")
    try:
        yield
    finally:
        if conn.dialect.name == "sqlite":  # a rolled-back transaction does not drop it there
            with suppress(SQLAlchemyError):  # else the next import drops it first
                STAGE.drop(conn, checkfirst=True)


def stage_file(conn: Connection, path: Path, columns: tuple[tabular.Column, ...],
               area_centi: Callable[[Decimal], int], warnings: list[str],
               progress: Callable[[str, int, int], None] | None = None) -> int:
    """Every row of ``path`` into the stage; TableError (with every problem) once the file is read. A room name
    that may be a misspelling (``rules.rooms.room_warning``) adds to ``warnings``. ``progress`` is told the rows
    read so far (phase "rows", total 0: not known before the end)."""
    chunk: list[dict[str, Any]] = []
    read = 0

    def add(row: tabular.Row) -> None:
        nonlocal read
        v = row.values
        others = [n for n in v["co_owners"] if n != v["owner"]]
        chunk.append({"line": row.line, "room": v["room"], "floor": v["floor"], "area_centi": area_centi(v["area"]),
                      "owner": v["owner"], "owner_key": v["owner_key"] or f"room:{v['room']}",
                      "key_given": bool(v["owner_key"]), "phone": v["phone"],
                      "co_owners": json.dumps(others, ensure_ascii=False) if others else None,
                      "affected": v["affected"]})
        if (warning := room_warning(v["room"])) is not None:
            warnings.append(warning)
        if len(chunk) >= CHUNK:
            conn.execute(insert(STAGE), chunk)
            chunk.clear()
            read += CHUNK
            if progress is not None:
                progress("rows", read, 0)

    count = tabular.stream_table(path, columns, add)
    if chunk:
        conn.execute(insert(STAGE), chunk)
    return count


def check_rooms(conn: Connection, path: Path, case_id: str, replace: bool) -> int:
    """InputError for a room twice in the file, or one already recorded (unless ``replace``); else the number of
    rooms already recorded."""
    later = STAGE.alias("later")
    first = select(func.min(STAGE.c.line)).where(STAGE.c.room == later.c.room).scalar_subquery()
    twice = conn.execute(select(later.c.line, later.c.room, first.label("first")).where(later.c.line != first)
                         .order_by(later.c.line).limit(tabular.MAX_REPORTED_PROBLEMS))
    problems = [_("{where}: room {room!r} appears twice (first on line {first})").format(
        where=f"{path}:{r.line}", room=r.room, first=r.first) for r in twice]
    if problems:
        raise InputError("\n".join(problems))
    recorded = (select(STAGE.c.line, STAGE.c.room).join(HOUSEHOLDS, HOUSEHOLDS.c.room == STAGE.c.room)
                .where(HOUSEHOLDS.c.case_id == case_id))
    if not replace:
        clashes = [_("{where}: room {room!r} is already recorded in case {case}; replace it to update it").format(
                   where=f"{path}:{r.line}", room=r.room, case=case_id)
                   for r in conn.execute(recorded.order_by(STAGE.c.line).limit(tabular.MAX_REPORTED_PROBLEMS))]
        if clashes:
            raise InputError("\n".join(clashes), remedy=Remedy("household.replace", {"case": case_id}))
    return conn.execute(select(func.count()).select_from(recorded.subquery())).scalar_one()


def shared_names(conn: Connection) -> list[str]:
    """Same owner name on several flats without an owner_key: probably one person, counted twice."""
    rows = conn.execute(select(STAGE.c.owner, STAGE.c.room).where(STAGE.c.key_given.is_(False))
                        .order_by(STAGE.c.owner, STAGE.c.line))
    out = []
    for name, group in groupby(rows, key=lambda r: r.owner):
        rooms = [r.room for r in group]
        if len(rooms) > 1:
            out.append(_("rooms {rooms} all name {name} and have no owner_key: they count as {count} owners. If they "
                         "are one person, give them the same owner_key so they count once").format(
                rooms=", ".join(rooms), name=name, count=len(rooms)))
    return out


def write(rec: Recording, replace: bool) -> None:
    """The new rooms inserted, the recorded ones updated (``replace``), each written household a fact."""
    conn = rec.session.connection()
    mine = HOUSEHOLDS.c.case_id == rec.case_id
    if replace:
        conn.execute(update(HOUSEHOLDS).where(mine, HOUSEHOLDS.c.room == STAGE.c.room)  # a voided one counts again
                     .values({**{name: STAGE.c[name] for name in VALUES}, "voided_at": None, "void_reason": None}))
    recorded = exists().where(mine, HOUSEHOLDS.c.room == STAGE.c.room)
    conn.execute(insert(HOUSEHOLDS).from_select(
        ["case_id", "room", *VALUES],
        select(literal(rec.case_id, Text), STAGE.c.room, *(STAGE.c[n] for n in VALUES))
        .where(~recorded).order_by(STAGE.c.line)))
    written = (select(HOUSEHOLDS).join(STAGE, STAGE.c.room == HOUSEHOLDS.c.room).where(mine)
               .order_by(HOUSEHOLDS.c.id))
    for rows in conn.execute(written.execution_options(yield_per=CHUNK)).partitions():
        rec.write_facts([fact_text(HOUSEHOLDS.name, PUT, r.id, image(HOUSEHOLDS, r._mapping)) for r in rows])
