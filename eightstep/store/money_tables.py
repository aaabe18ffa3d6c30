"""The tables of money after the agreement and of the elevator after acceptance (issue 17).

Part of the one schema of ``eightstep.store.tables`` (same ``metadata``), kept in their own module for size:
money lines, payments with receipt serials, share certificates, subsidy steps, invoices, the final settlement,
the elevator's record, its insurance, incidents and repairs. Money is integer fen; times UTC. Every one of them
can be voided (``voided_at``, ``void_reason``: ``records.corrections``); a voided row stays and counts nowhere.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Index, Integer, String, Table, Text, UniqueConstraint

from eightstep.store.columns import _case_id, _id, _int, _text, _voided, _when, metadata

# A money line besides the contract price: an ``extra`` agreed in negotiation (a glass shaft: part of the cost,
# shared), a ``compensation`` to a household (``household_id``; paid by the others through their shares), or a
# ``change_order`` during the works (signed: a saving is negative; counts in the final settlement only).
money_lines = Table(
    "money_lines", metadata,
    _id(),
    _case_id(),
    _text("kind"),  # extra | compensation | change_order
    _int("amount_fen"),
    Column("description", Text, nullable=False),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=True),
    Column("meeting_id", Integer, ForeignKey("meetings.id"), nullable=True),  # the meeting that agreed it
    _when("agreed_at"),
    _when("recorded_at"),
    *_voided(),
)

# Money paid in by a household (``contribution``), paid back to it (``refund``), or paid out to it under an agreed
# compensation (``compensation``). ``serial`` numbers the case's receipts (收款收据).
payments = Table(
    "payments", metadata,
    _id(),
    _case_id(),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False, index=True),
    _int("serial"),
    _text("kind", default="contribution"),  # contribution | refund | compensation
    _text("way"),  # cash | transfer | provident_fund
    _int("amount_fen"),
    _when("paid_at"),
    _text("reference", nullable=True),  # bank reference, the fund's withdrawal number, ...
    _text("received_by", nullable=True),  # who took the money (收款人)
    _text("note", nullable=True),
    _when("recorded_at"),
    UniqueConstraint("case_id", "serial"),
    *_voided(),
)

# A certificate of a household's share (分摊费用证明), issued for its housing provident fund withdrawal.
share_certificates = Table(
    "share_certificates", metadata,
    _id(),
    _case_id(),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False, index=True),
    _text("number"),
    _int("amount_fen"),  # the share certified
    _when("issued_at"),
    _when("recorded_at"),
    *_voided(),
)

# A step of the case's subsidy: ``applied`` (the amount by the workflow's rule), ``approved`` or ``rejected``,
# ``paid`` (by ``payer`` into ``account``; possibly in parts).
subsidy_steps = Table(
    "subsidy_steps", metadata,
    _id(),
    _case_id(),
    _text("step"),  # applied | approved | rejected | paid
    _when("at"),
    _int("amount_fen", default=0),
    _text("number", nullable=True),  # the application's or the approval's number
    _text("payer", nullable=True),
    _text("account", nullable=True),  # the receiving account
    _text("basis", nullable=True),  # how the amount applied for follows from the rule
    _text("note", nullable=True),
    _when("recorded_at"),
    Index("ix_subsidy_steps_step_at", "step", "at"),  # the audit's unpaid applications
    *_voided(),
)

# An invoice on record (发票): construction, change orders, repairs.
invoices = Table(
    "invoices", metadata,
    _id(),
    _case_id(),
    _text("number"),
    _text("issuer"),
    _int("amount_fen"),
    _when("issued_at"),
    _text("note", nullable=True),
    _when("recorded_at"),
    *_voided(),
)

# The final settlement (竣工结算): the figures at the end and each household's adjustment (room -> fen, + a call,
# - a refund), shared by the agreement's own weights. A later settlement replaces an earlier one.
settlements = Table(
    "settlements", metadata,
    _id(),
    _case_id(),
    _when("settled_at"),
    _int("contract_fen"),
    _int("changes_fen"),
    _int("subsidy_fen"),
    _int("other_fen"),
    _int("compensation_fen"),
    _int("planned_fen"),  # what the agreement shared
    Column("adjustments", Text, nullable=False),  # JSON: room -> fen
    _text("note", nullable=True),
    _when("recorded_at"),
    *_voided(),
)

# The elevator's own record after acceptance: registration, technical data, who is responsible, warranty.
elevators = Table(
    "elevators", metadata,
    Column("case_id", String(64), ForeignKey("cases.id"), primary_key=True),
    _text("registration_code"),  # 使用登记证编号
    _text("maker"),
    _text("model"),
    _int("load_kg"),
    _int("speed_cms"),  # rated speed in cm/s: 1.00 m/s is 100
    _int("stops"),
    _text("safety_manager"),  # the use unit's safety manager (安全管理员)
    _text("safety_manager_phone", nullable=True),
    _text("maintainer"),
    _text("maintainer_licence"),
    Column("warranty_from", Date, nullable=False),
    Column("warranty_until", Date, nullable=False),
    _when("recorded_at"),
    *_voided(),
)

# The elevator's safety-liability insurance (电梯安全责任保险): one row per policy period.
insurance_policies = Table(
    "insurance_policies", metadata,
    _id(),
    _case_id(),
    _text("insurer"),
    _text("policy_number", nullable=True),
    Column("starts", Date, nullable=False),
    Column("ends", Date, nullable=False),  # the last day covered
    _int("premium_fen", nullable=True),
    _when("recorded_at"),
    *_voided(),
)

# Something that happened to the elevator in operation: an entrapment (困人), a fault, damage.
incidents = Table(
    "incidents", metadata,
    _id(),
    _case_id(),
    _text("kind"),  # entrapment | fault | damage | other
    _when("occurred_at"),
    Column("description", Text, nullable=False),
    _when("resolved_at", nullable=True),
    _when("recorded_at"),
    *_voided(),
)

# A repair and its cost, shared among the households by the usage convention's rule (``shares``).
repairs = Table(
    "repairs", metadata,
    _id(),
    _case_id(),
    Column("incident_id", Integer, ForeignKey("incidents.id"), nullable=True),
    _when("done_at"),
    _text("contractor"),
    Column("description", Text, nullable=False),
    _int("cost_fen"),
    _text("invoice_number", nullable=True),
    Column("shares", Text, nullable=False),  # JSON: room -> fen, as charged
    _when("recorded_at"),
    *_voided(),
)
