"""The ORM classes of the write path, mapped onto the Core tables of ``eightstep.store.tables``.

The tables are defined once, there (columns, types, defaults); these classes only map them for the session-based
writers (recording functions, moves), with the columns as attributes of the same names, declared with their types
(``Mapped[...]``) so that a type checker follows them; tests/test_models_declared.py checks the declarations against
the tables (a new column needs its line here). Reads do not need them:
``eightstep.store.read`` reads rows with the same attribute names. A new instance starts with the scalar defaults
of its table's columns (``Case().status == "active"``).
"""

# No `from __future__ import annotations`: SQLAlchemy would then evaluate the ~330 column annotations from strings
# when the classes are built. Importing this module (CPU, best of 12): 32 ms before the columns were declared, 38 ms
# with the annotations evaluated by Python, 45 ms from strings.
from datetime import date, datetime
from types import MappingProxyType
from typing import Any, ClassVar

from sqlalchemy import Table
from sqlalchemy.orm import DeclarativeBase, Mapped

from eightstep.store import tables
from eightstep.store.tables import ACTIVE, SCHEMA_VERSION, SUSPENDED, WITHDRAWN, not_voided

__all__ = ["ACTIVE", "SCHEMA_VERSION", "SUSPENDED", "WITHDRAWN", "Base", "not_voided"]


class Base(DeclarativeBase):
    """A row of one of the tables; the constructor takes column values by name."""

    metadata = tables.metadata
    __table__: ClassVar[Table]  # each class maps one Core table of ``eightstep.store.tables``

    def __init__(self, **values: Any) -> None:
        for column in self.__table__.columns:
            default = column.default
            if column.key not in values and default is not None and default.is_scalar:
                values[column.key] = default.arg  # type: ignore[attr-defined]  # is_scalar: it has .arg
        for name, value in values.items():
            if not hasattr(type(self), name):
                raise TypeError(f"{name!r} is not a column of {type(self).__name__}")
            setattr(self, name, value)

    def __repr__(self) -> str:
        keys = ", ".join(f"{c.key}={getattr(self, c.key, None)!r}" for c in self.__table__.primary_key)
        return f"{type(self).__name__}({keys})"


class Meta(Base):
    __table__ = tables.meta
    key: Mapped[str]
    value: Mapped[str]


class WorkflowSnapshot(Base):
    __table__ = tables.workflow_snapshots
    sha256: Mapped[str]
    workflow_id: Mapped[str]
    version: Mapped[str]
    source: Mapped[str]
    content: Mapped[str]
    stored_at: Mapped[datetime]


class Complex(Base):
    __table__ = tables.complexes
    id: Mapped[int]
    name: Mapped[str]
    district: Mapped[str | None]
    street: Mapped[str | None]
    community: Mapped[str | None]
    created_at: Mapped[datetime]
    office: Mapped[str | None]


class Case(Base):
    """One stairwell unit (单元): one elevator. ``version`` is the optimistic-lock counter."""

    __table__ = tables.cases
    # read-only (SQLAlchemy copies it); ClassVar is refused: DeclarativeBase declares it an instance attribute
    __mapper_args__ = MappingProxyType({"version_id_col": tables.cases.c.version})
    id: Mapped[str]
    complex_id: Mapped[int]
    building: Mapped[str]
    unit: Mapped[str]
    workflow_id: Mapped[str]
    workflow_version: Mapped[str]
    workflow_sha256: Mapped[str]
    stage: Mapped[str]
    status: Mapped[str]
    status_reason: Mapped[str | None]
    review_at: Mapped[datetime | None]
    opened_at: Mapped[datetime]
    stage_entered_at: Mapped[datetime]
    clock_started_at: Mapped[datetime]
    suspended_at: Mapped[datetime | None]
    event_count: Mapped[int]
    last_hash: Mapped[str]
    version: Mapped[int]
    maintained_at: Mapped[datetime | None]
    inspected_at: Mapped[datetime | None]
    evidence_from: Mapped[datetime | None]


class CaseCheck(Base):
    __table__ = tables.case_checks
    case_id: Mapped[str]
    version: Mapped[int]
    stage: Mapped[str]
    valid_from: Mapped[datetime]
    valid_until: Mapped[datetime | None]
    basis: Mapped[str]
    blockers: Mapped[str]
    workflow_sha256: Mapped[str]


class Household(Base):
    __table__ = tables.households
    id: Mapped[int]
    case_id: Mapped[str]
    room: Mapped[str]
    floor: Mapped[int]
    area_centi: Mapped[int]
    owner: Mapped[str]
    owner_key: Mapped[str]
    phone: Mapped[str | None]
    co_owners: Mapped[str | None]
    affected: Mapped[bool]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class Ballot(Base):
    __table__ = tables.ballots
    id: Mapped[int]
    case_id: Mapped[str]
    household_id: Mapped[int]
    choice: Mapped[str]
    cast_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    signed_by: Mapped[str | None]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class Document(Base):
    __table__ = tables.documents
    id: Mapped[int]
    case_id: Mapped[str]
    kind: Mapped[str]
    stage: Mapped[str]
    issued_at: Mapped[datetime]
    issuer: Mapped[str | None]
    number: Mapped[str | None]
    original_name: Mapped[str]
    sha256: Mapped[str]
    size: Mapped[int]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class Approval(Base):
    __table__ = tables.approvals
    id: Mapped[int]
    case_id: Mapped[str]
    kind: Mapped[str]
    authority: Mapped[str]
    decision: Mapped[str]
    decided_at: Mapped[datetime]
    number: Mapped[str | None]
    note: Mapped[str | None]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]
    file_name: Mapped[str | None]
    file_sha256: Mapped[str | None]


class Objection(Base):
    __table__ = tables.objections
    id: Mapped[int]
    case_id: Mapped[str]
    room: Mapped[str | None]
    objector: Mapped[str | None]
    grounds: Mapped[str]
    written: Mapped[bool]
    real_name: Mapped[bool]
    stage: Mapped[str]
    status: Mapped[str]
    lodged_at: Mapped[datetime]
    outcome: Mapped[str | None]
    resolved_at: Mapped[datetime | None]
    late: Mapped[bool]
    basis_document_id: Mapped[int | None]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class MediationStep(Base):
    __table__ = tables.mediation_steps
    id: Mapped[int]
    objection_id: Mapped[int]
    step: Mapped[str]
    note: Mapped[str]
    at: Mapped[datetime]
    actor: Mapped[str]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class ConsentRecord(Base):
    __table__ = tables.consent_records
    id: Mapped[int]
    case_id: Mapped[str]
    stage: Mapped[str]
    at: Mapped[datetime]
    rule: Mapped[str]
    tally: Mapped[str]


class Event(Base):
    __table__ = tables.events
    id: Mapped[int]
    case_id: Mapped[str]
    seq: Mapped[int]
    business_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    actor: Mapped[str]
    action: Mapped[str]
    from_stage: Mapped[str | None]
    to_stage: Mapped[str | None]
    note: Mapped[str | None]
    details: Mapped[str]
    prev_hash: Mapped[str]
    hash: Mapped[str]
    login: Mapped[str | None]
    sig: Mapped[str | None]
    facts: Mapped[str | None]


class EventFact(Base):
    """One row an event's recording wrote (``eightstep.engine.facts``)."""

    __table__ = tables.event_facts
    case_id: Mapped[str]
    seq: Mapped[int]
    n: Mapped[int]
    fact: Mapped[str]


class Funding(Base):
    __table__ = tables.funding
    case_id: Mapped[str]
    total_fen: Mapped[int]
    subsidy_fen: Mapped[int]
    other_fen: Mapped[int]
    other_note: Mapped[str | None]
    maintenance_fen: Mapped[int]
    set_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]
    extras_fen: Mapped[int]
    compensation_fen: Mapped[int]


class AgreedShare(Base):
    __table__ = tables.agreed_shares
    id: Mapped[int]
    case_id: Mapped[str]
    household_id: Mapped[int]
    weight_e4: Mapped[int]
    maintenance_e4: Mapped[int | None]


class CasePerson(Base):
    __table__ = tables.case_people
    id: Mapped[int]
    case_id: Mapped[str]
    name: Mapped[str]
    phone: Mapped[str | None]
    id_number: Mapped[str | None]
    address: Mapped[str | None]
    recorded_at: Mapped[datetime]


class CanvassEntry(Base):
    __table__ = tables.canvass_entries
    id: Mapped[int]
    case_id: Mapped[str]
    household_id: Mapped[int]
    stance: Mapped[str]
    concern: Mapped[str | None]
    kinds: Mapped[str]
    visited_by: Mapped[str | None]
    at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class Scheme(Base):
    __table__ = tables.schemes
    id: Mapped[int]
    case_id: Mapped[str]
    company: Mapped[str]
    price_fen: Mapped[int]
    entry: Mapped[str | None]
    duration_days: Mapped[int | None]
    note: Mapped[str | None]
    file_name: Mapped[str | None]
    file_sha256: Mapped[str | None]
    proposed_from: Mapped[str | None]
    share_rule: Mapped[str | None]
    added_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]
    load_kg: Mapped[int | None]
    speed_cms: Mapped[int | None]
    stops: Mapped[int | None]


class SchemeChoice(Base):
    __table__ = tables.scheme_choices
    id: Mapped[int]
    case_id: Mapped[str]
    scheme_id: Mapped[int]
    reason: Mapped[str]
    at: Mapped[datetime]
    actor: Mapped[str]


class CaseRole(Base):
    __table__ = tables.case_roles
    id: Mapped[int]
    case_id: Mapped[str]
    role: Mapped[str]
    name: Mapped[str]
    room: Mapped[str | None]
    side: Mapped[str | None]
    note: Mapped[str | None]
    since: Mapped[datetime]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]
    person_id: Mapped[int]
    until: Mapped[datetime | None]


class RotaPlan(Base):
    __table__ = tables.rota_plans
    id: Mapped[int]
    case_id: Mapped[str]
    every: Mapped[str]
    starts_on: Mapped[date]
    at: Mapped[datetime]
    recorded_at: Mapped[datetime]


class Meeting(Base):
    __table__ = tables.meetings
    id: Mapped[int]
    case_id: Mapped[str]
    kinds: Mapped[str]
    held_at: Mapped[datetime]
    attendees: Mapped[str]
    decision: Mapped[str]
    file_name: Mapped[str | None]
    file_sha256: Mapped[str | None]
    actor: Mapped[str]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


# The money and elevator classes (issue 17) live in their own module for size, as their tables do.
from eightstep.store.money_models import (  # noqa: E402, F401  (they need Base above; re-exported)
    Elevator,
    Incident,
    InsurancePolicy,
    Invoice,
    MoneyLine,
    Payment,
    Repair,
    Settlement,
    ShareCertificate,
    SubsidyStep,
)
