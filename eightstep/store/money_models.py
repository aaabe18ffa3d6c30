"""The ORM classes of the money and elevator tables (``eightstep.store.money_tables``), kept apart for size.

Part of ``eightstep.store.models`` (same ``Base``; re-exported there): the declared attributes are the tables'
columns, checked by tests/test_models_declared.py.
"""

from datetime import date, datetime

from sqlalchemy.orm import Mapped

from eightstep.store import tables
from eightstep.store.models import Base


class MoneyLine(Base):
    __table__ = tables.money_lines
    id: Mapped[int]
    case_id: Mapped[str]
    kind: Mapped[str]
    amount_fen: Mapped[int]
    description: Mapped[str]
    household_id: Mapped[int | None]
    meeting_id: Mapped[int | None]
    agreed_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class Payment(Base):
    __table__ = tables.payments
    id: Mapped[int]
    case_id: Mapped[str]
    household_id: Mapped[int]
    serial: Mapped[int]
    kind: Mapped[str]
    way: Mapped[str]
    amount_fen: Mapped[int]
    paid_at: Mapped[datetime]
    reference: Mapped[str | None]
    received_by: Mapped[str | None]
    note: Mapped[str | None]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class ShareCertificate(Base):
    __table__ = tables.share_certificates
    id: Mapped[int]
    case_id: Mapped[str]
    household_id: Mapped[int]
    number: Mapped[str]
    amount_fen: Mapped[int]
    issued_at: Mapped[datetime]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class SubsidyStep(Base):
    __table__ = tables.subsidy_steps
    id: Mapped[int]
    case_id: Mapped[str]
    step: Mapped[str]
    at: Mapped[datetime]
    amount_fen: Mapped[int]
    number: Mapped[str | None]
    payer: Mapped[str | None]
    account: Mapped[str | None]
    basis: Mapped[str | None]
    note: Mapped[str | None]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class Invoice(Base):
    __table__ = tables.invoices
    id: Mapped[int]
    case_id: Mapped[str]
    number: Mapped[str]
    issuer: Mapped[str]
    amount_fen: Mapped[int]
    issued_at: Mapped[datetime]
    note: Mapped[str | None]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class Settlement(Base):
    __table__ = tables.settlements
    id: Mapped[int]
    case_id: Mapped[str]
    settled_at: Mapped[datetime]
    contract_fen: Mapped[int]
    changes_fen: Mapped[int]
    subsidy_fen: Mapped[int]
    other_fen: Mapped[int]
    compensation_fen: Mapped[int]
    planned_fen: Mapped[int]
    adjustments: Mapped[str]
    note: Mapped[str | None]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class Elevator(Base):
    __table__ = tables.elevators
    case_id: Mapped[str]
    registration_code: Mapped[str]
    maker: Mapped[str]
    model: Mapped[str]
    load_kg: Mapped[int]
    speed_cms: Mapped[int]
    stops: Mapped[int]
    safety_manager: Mapped[str]
    safety_manager_phone: Mapped[str | None]
    maintainer: Mapped[str]
    maintainer_licence: Mapped[str]
    warranty_from: Mapped[date]
    warranty_until: Mapped[date]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class InsurancePolicy(Base):
    __table__ = tables.insurance_policies
    id: Mapped[int]
    case_id: Mapped[str]
    insurer: Mapped[str]
    policy_number: Mapped[str | None]
    starts: Mapped[date]
    ends: Mapped[date]
    premium_fen: Mapped[int | None]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class Incident(Base):
    __table__ = tables.incidents
    id: Mapped[int]
    case_id: Mapped[str]
    kind: Mapped[str]
    occurred_at: Mapped[datetime]
    description: Mapped[str]
    resolved_at: Mapped[datetime | None]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]


class Repair(Base):
    __table__ = tables.repairs
    id: Mapped[int]
    case_id: Mapped[str]
    incident_id: Mapped[int | None]
    done_at: Mapped[datetime]
    contractor: Mapped[str]
    description: Mapped[str]
    cost_fen: Mapped[int]
    invoice_number: Mapped[str | None]
    shares: Mapped[str]
    recorded_at: Mapped[datetime]
    voided_at: Mapped[datetime | None]
    void_reason: Mapped[str | None]
