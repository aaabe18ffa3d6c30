"""Rows of the recording commands written through Core, without the ORM (start-up, issue 15).

A ``Row`` is one row of its table (``__table__``, of ``eightstep.store.tables``) with the columns as attributes of
the same names as the ORM classes of ``eightstep.store.models``; a new one starts, as a model instance does, with
the scalar defaults of its table's columns, and None in the columns not given. The recording context writes it
with Core (``engine.recording``: ``rec.add``, ``rec.change``, ``rec.remove``), so a command that records only
such rows never imports sqlalchemy.orm, sqlmodel or the model classes. ``of(cls, mapping)`` makes one from a row
as read.

A class here declares the columns of its table with the same types as its model (tests/test_models_declared.py).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import Table

from eightstep.store import tables

R = TypeVar("R", bound="Row")


class Row:
    """A row of ``__table__``; the constructor takes column values by name."""

    __table__: ClassVar[Table]

    def __init__(self, **values: Any) -> None:
        for column in self.__table__.columns:
            if column.key in values:
                continue
            default = column.default
            values[column.key] = default.arg if default is not None and default.is_scalar else None  # type: ignore[attr-defined]
        names = self.__table__.c
        for name, value in values.items():
            if name not in names:
                raise TypeError(f"{name!r} is not a column of {type(self).__name__}")
            setattr(self, name, value)

    def values(self) -> dict[str, Any]:
        """The row's columns and their values (the key left out while it is None: the database gives it)."""
        key = self.key_column()
        return {c.key: getattr(self, c.key) for c in self.__table__.columns
                if c.key != key or getattr(self, key) is not None}

    @classmethod
    def key_column(cls) -> str:
        (column,) = cls.__table__.primary_key.columns
        return column.key

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.key_column()}={getattr(self, self.key_column())!r})"


def of(cls: type[R], row: Mapping[Any, Any]) -> R:
    """A ``cls`` holding ``row`` as read (every column of its table)."""
    return cls(**{c.key: row[c.key] for c in cls.__table__.columns})


class Case(Row):
    """The case row a recording on Core reads and writes (its columns compare-and-set on ``version``)."""

    __table__ = tables.cases
    id: str
    complex_id: int
    building: str
    unit: str
    workflow_id: str
    workflow_version: str
    workflow_sha256: str
    stage: str
    status: str
    status_reason: str | None
    review_at: datetime | None
    opened_at: datetime
    stage_entered_at: datetime
    clock_started_at: datetime
    suspended_at: datetime | None
    event_count: int
    last_hash: str
    version: int
    maintained_at: datetime | None
    inspected_at: datetime | None
    evidence_from: datetime | None


class Household(Row):
    __table__ = tables.households
    id: int
    case_id: str
    room: str
    floor: int
    area_centi: int
    owner: str
    owner_key: str
    phone: str | None
    co_owners: str | None
    affected: bool
    voided_at: datetime | None
    void_reason: str | None


class Ballot(Row):
    __table__ = tables.ballots
    id: int
    case_id: str
    household_id: int
    choice: str
    cast_at: datetime
    recorded_at: datetime
    signed_by: str | None
    voided_at: datetime | None
    void_reason: str | None


class Document(Row):
    __table__ = tables.documents
    id: int
    case_id: str
    kind: str
    stage: str
    issued_at: datetime
    issuer: str | None
    number: str | None
    original_name: str
    sha256: str
    size: int
    recorded_at: datetime
    voided_at: datetime | None
    void_reason: str | None


class Approval(Row):
    __table__ = tables.approvals
    id: int
    case_id: str
    kind: str
    authority: str
    decision: str
    decided_at: datetime
    number: str | None
    note: str | None
    recorded_at: datetime
    voided_at: datetime | None
    void_reason: str | None
    file_name: str | None
    file_sha256: str | None


class CanvassEntry(Row):
    __table__ = tables.canvass_entries
    id: int
    case_id: str
    household_id: int
    stance: str
    concern: str | None
    kinds: str
    visited_by: str | None
    at: datetime
    recorded_at: datetime
    voided_at: datetime | None
    void_reason: str | None


class Meeting(Row):
    __table__ = tables.meetings
    id: int
    case_id: str
    kinds: str
    held_at: datetime
    attendees: str
    decision: str
    file_name: str | None
    file_sha256: str | None
    actor: str
    recorded_at: datetime
    voided_at: datetime | None
    void_reason: str | None


class Objection(Row):
    __table__ = tables.objections
    id: int
    case_id: str
    room: str | None
    objector: str | None
    grounds: str
    written: bool
    real_name: bool
    stage: str
    status: str
    lodged_at: datetime
    outcome: str | None
    resolved_at: datetime | None
    late: bool
    basis_document_id: int | None
    voided_at: datetime | None
    void_reason: str | None
