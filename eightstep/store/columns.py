"""The one ``metadata`` of the schema and the column helpers its table modules share (``eightstep.store.tables``,
``people_tables``, ``money_tables``): a time (UTC, timezone-aware), a text, an integer, a row id, the owning case
and the two columns of a voided record. The helpers are internal to those modules (hence the underscores)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Column, DateTime, ForeignKey, Integer, MetaData, String, Text

metadata = MetaData()


def _when(name: str, *, nullable: bool = False, index: bool = False) -> Column[Any]:
    return Column(name, DateTime(timezone=True), nullable=nullable, index=index)


def _text(name: str, length: int | None = None, *, nullable: bool = False, **kw: Any) -> Column[Any]:
    return Column(name, String(length), nullable=nullable, **kw)


def _int(name: str, *, nullable: bool = False, **kw: Any) -> Column[Any]:
    return Column(name, Integer, nullable=nullable, **kw)


def _voided() -> tuple[Column[Any], Column[Any]]:
    """When and why a record was voided (``records.corrections``): a voided record no longer counts anywhere and its
    row stays; for a role, ``voided_at`` is the end of its term."""
    return _when("voided_at", nullable=True), Column("void_reason", Text, nullable=True)


def _id() -> Column[Any]:
    return Column("id", Integer, primary_key=True)


def _case_id(*, index: bool = True) -> Column[Any]:
    return Column("case_id", String, ForeignKey("cases.id"), nullable=False, index=index)
