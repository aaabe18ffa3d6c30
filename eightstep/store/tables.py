"""The schema: every table as a SQLAlchemy Core ``Table``, the one definition of the database.

Reads use these tables directly (``eightstep.store.read``), without the ORM; the ORM classes of the write path
(``eightstep.store.models``) are mapped onto them, and the migrations (``eightstep.store.migrations``) are
checked against ``metadata``. Times are UTC; areas are whole hundredths of a square metre (exact arithmetic);
money is integer fen.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    Boolean,
    Column,
    ColumnElement,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    event,
    false,
    text,
    true,
)

from eightstep.store.columns import _case_id, _id, _int, _text, _voided, _when, metadata
from eightstep.workflow.status import ACTIVE as ACTIVE  # the case's status values, where the tables are
from eightstep.workflow.status import SUSPENDED as SUSPENDED
from eightstep.workflow.status import WITHDRAWN as WITHDRAWN

SCHEMA_VERSION = 1


def not_voided(table: Table) -> ColumnElement[bool]:
    """The rows of ``table`` that still count: not voided (every row of a table without voids)."""
    return table.c.voided_at.is_(None) if "voided_at" in table.c else true()


meta = Table(
    "meta", metadata,
    _text("key", primary_key=True),
    _text("value"),
)

# The exact workflow text a case was opened under: editing the file never changes an open case.
workflow_snapshots = Table(
    "workflow_snapshots", metadata,
    _text("sha256", 64, primary_key=True),
    _text("workflow_id", index=True),
    _text("version"),
    _text("source"),
    Column("content", Text, nullable=False),
    _when("stored_at"),
)

complexes = Table(
    "complexes", metadata,
    _id(),
    _text("name", unique=True),
    _text("district", nullable=True),
    _text("street", nullable=True),
    _text("community", nullable=True),
    _when("created_at"),
    _text("office", nullable=True),  # the office's login or group role (PostgreSQL: set on insert; store.offices)
)

# One stairwell unit (单元): one elevator. ``version`` is the optimistic-lock counter: every change of a case
# bumps it (UPDATE ... WHERE version = :seen).
cases = Table(
    "cases", metadata,
    _text("id", 64, primary_key=True),
    Column("complex_id", Integer, ForeignKey("complexes.id"), nullable=False, index=True),
    _text("building"),
    _text("unit"),
    _text("workflow_id"),
    _text("workflow_version"),
    Column("workflow_sha256", String, ForeignKey("workflow_snapshots.sha256"), nullable=False),
    _text("stage"),
    _text("status", default=ACTIVE),
    _text("status_reason", nullable=True),
    _when("review_at", nullable=True),
    _when("opened_at"),
    _when("stage_entered_at"),
    _when("clock_started_at"),  # stage_entered_at moved forward by any time spent suspended
    _when("suspended_at", nullable=True),
    _int("event_count", default=0),
    _text("last_hash", default=""),
    _int("version"),
    # The issue time of the case's latest document of its workflow's upkeep kinds (the maintenance record and the
    # periodic inspection), kept by ``records.add_document`` so that the audit finds overdue elevators with a
    # range search instead of visiting every elevator in operation.
    _when("maintained_at", nullable=True),
    _when("inspected_at", nullable=True),
    # Records dated before this no longer count toward the guards (documents, approvals, ballots, scheme choices,
    # meetings): set by a return for rework (``engine.return_to``), which starts the evidence afresh.
    _when("evidence_from", nullable=True),
    Index("ix_cases_stage_clock", "stage", "clock_started_at"),
    Index("ix_cases_stage_maintained", "stage", "maintained_at"),
    Index("ix_cases_stage_inspected", "stage", "inspected_at"),
    Index("ix_cases_suspended_review", "review_at", sqlite_where=text("status = 'suspended'")),
    Index("uq_cases_active_unit", "complex_id", "building", "unit", unique=True,
          sqlite_where=text("status != 'withdrawn'")),
)


def add_postgresql_options() -> None:
    """Give the partial indexes their WHERE on PostgreSQL too (the same as on SQLite); idempotent.

    Not written in the ``Index(...)`` calls above: naming a PostgreSQL option there makes SQLAlchemy import its
    PostgreSQL dialect (about 20 ms) in every command on a SQLite file. ``store.db.make_engine`` calls this for a
    server database, and ``create_all`` does through the listener below."""
    for index in cases.indexes:
        where = index.dialect_options["sqlite"]["where"]
        if where is not None:
            index.dialect_options["postgresql"]["where"] = where


def _before_create(_metadata: MetaData, connection: Any, **_kw: Any) -> None:
    if connection.dialect.name == "postgresql":
        add_postgresql_options()


event.listen(metadata, "before_create", _before_create)

# The guards' blockers of a case as last computed, reused while they still hold (``eightstep.engine.checkcache``):
# while the case is at ``version`` under the workflow snapshot ``workflow_sha256``, for check times from
# ``valid_from`` until ``valid_until`` (None: never), and while ``basis`` (the release, schema revision, holiday
# data and language the answer was computed with) is today's. Derived: deleting rows loses nothing, and every
# schema upgrade empties it (``eightstep.store.migrate``).
case_checks = Table(
    "case_checks", metadata,
    Column("case_id", String(64), ForeignKey("cases.id"), primary_key=True),
    _int("version"),
    _text("stage"),
    _when("valid_from"),
    _when("valid_until", nullable=True),
    _text("basis"),
    Column("blockers", Text, nullable=False),  # JSON: a list of Blocker.as_dict()
    _text("workflow_sha256", 64, server_default=""),  # the snapshot the case was judged under
)

households = Table(
    "households", metadata,
    _id(),
    _case_id(),
    _text("room"),
    _int("floor"),
    _int("area_centi"),  # 86.50 m² is stored as 8650
    _text("owner"),
    _text("owner_key"),
    _text("phone", nullable=True),
    Column("co_owners", Text, nullable=True),  # JSON: the other names on a co-owned flat's title
    # directly affected by the elevator (e.g. the shaft faces or occupies the flat)
    Column("affected", Boolean, nullable=False, default=False, server_default=false()),
    UniqueConstraint("case_id", "room"),
    *_voided(),
)

# Every ballot cast; a household's ballot as of a date is its latest one cast by then.
ballots = Table(
    "ballots", metadata,
    _id(),
    _case_id(),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False, index=True),
    _text("choice"),
    _when("cast_at"),
    _when("recorded_at"),
    Column("signed_by", Text, nullable=True),  # JSON: who signed (a co-owned flat); None: not said
    *_voided(),
)

documents = Table(
    "documents", metadata,
    _id(),
    _case_id(),
    _text("kind"),
    _text("stage"),
    _when("issued_at"),
    _text("issuer", nullable=True),
    _text("number", nullable=True),
    _text("original_name"),
    _text("sha256", 64),
    _int("size"),
    _when("recorded_at"),
    *_voided(),
)

approvals = Table(
    "approvals", metadata,
    _id(),
    _case_id(),
    _text("kind"),
    _text("authority"),
    _text("decision"),  # approved | rejected
    _when("decided_at"),
    _text("number", nullable=True),
    _text("note", nullable=True),
    _when("recorded_at"),
    *_voided(),
    _text("file_name", nullable=True),  # the decision's scan, stored in the file store by content hash
    _text("file_sha256", 64, nullable=True),
)

BASIS_DOCUMENT_FK = "fk_objections_basis_document_id_documents"

objections = Table(
    "objections", metadata,
    _id(),
    _case_id(),
    _text("room", nullable=True),
    _text("objector", nullable=True),
    _text("grounds"),
    Column("written", Boolean, nullable=False, default=True),
    Column("real_name", Boolean, nullable=False, default=True),
    _text("stage"),
    _text("status", default="open"),  # open | resolved
    _when("lodged_at"),
    _text("outcome", nullable=True),
    _when("resolved_at", nullable=True),
    # lodged after the public notice period had ended (the workflow's objections.late says whether it blocks)
    Column("late", Boolean, nullable=False, default=False, server_default=false()),
    # the document (withdrawal letter, mediation agreement, hearing decision, judgment) the resolution rests on
    Column("basis_document_id", Integer, ForeignKey("documents.id", name=BASIS_DOCUMENT_FK), nullable=True),
    Index("ix_objections_lodged", "lodged_at"),  # the audit's unmediated objections
    *_voided(),
)

mediation_steps = Table(
    "mediation_steps", metadata,
    _id(),
    Column("objection_id", Integer, ForeignKey("objections.id"), nullable=False, index=True),
    _text("step"),
    _text("note"),
    _when("at"),
    _text("actor"),
    *_voided(),
)

# The tally and the rule used when a consent stage was passed, kept so it can be reproduced later.
consent_records = Table(
    "consent_records", metadata,
    _id(),
    _case_id(),
    _text("stage"),
    _when("at"),
    Column("rule", Text, nullable=False),  # JSON
    Column("tally", Text, nullable=False),  # JSON
)

# Append-only case history; ``hash`` chains each event to the previous one of the same case.
events = Table(
    "events", metadata,
    _id(),
    _case_id(),
    _int("seq"),
    _when("business_at"),
    _when("recorded_at"),
    _text("actor"),
    _text("action"),
    _text("from_stage", nullable=True),
    _text("to_stage", nullable=True),
    _text("note", nullable=True),
    Column("details", Text, nullable=False, default="{}"),  # JSON
    _text("prev_hash"),
    _text("hash", 64),
    # The database login that wrote the event (PostgreSQL: set by a trigger from session_user, so a client cannot
    # choose it; SQLite: none). Beside ``actor``, who said they acted.
    _text("login", nullable=True),
    # HMAC-SHA256 of ``hash`` with the key in EIGHTSTEP_SIGNING_KEY, held outside the database (None: unsigned).
    _text("sig", 64, nullable=True),
    # JSON {"count": n, "sha256": digest} of the rows the event wrote (event_facts), hashed with the event; None
    # for an event that wrote none (a move, a render) and for every event written before revision 0010.
    Column("facts", Text, nullable=True),
    UniqueConstraint("case_id", "seq"),
    # the moves after a date, for an audit or overview as of a past date (eightstep.engine.asof)
    Index("ix_events_business_at", "business_at"),
)

# One row an event's recording wrote (its whole content, ``eightstep.engine.facts``): the event holds the count and
# digest of its facts (``events.facts``), so the history covers every recorded fact and the rows are its projection.
event_facts = Table(
    "event_facts", metadata,
    Column("case_id", String(64), ForeignKey("cases.id"), primary_key=True),
    Column("seq", Integer, primary_key=True, autoincrement=False),  # the event's
    Column("n", Integer, primary_key=True, autoincrement=False),  # 0, 1, ... in the order they were written
    Column("fact", Text, nullable=False),  # canonical JSON: [table, op, key, values]
)

# --- money and paperwork ---------------------------------------------------------------------------------

# The money of one case in integer fen (1 yuan = 100 fen): the cost, who else pays, yearly upkeep.
funding = Table(
    "funding", metadata,
    Column("case_id", String(64), ForeignKey("cases.id"), primary_key=True),
    _int("total_fen"),
    _int("subsidy_fen", default=0),
    _int("other_fen", default=0),
    _text("other_note", nullable=True),
    _int("maintenance_fen", default=0),  # per year
    _when("set_at"),
    *_voided(),
    # The sums of the case's agreed money lines (extras such as a glass shaft, compensation to low-floor owners),
    # kept with every line recorded, so that every reader of the funding shares the same figures
    # (``records.funding.figures_of``).
    _int("extras_fen", default=0, server_default=text("0")),
    _int("compensation_fen", default=0, server_default=text("0")),
)

# The owners' own share table (cost_sharing.method agreed_table): one weight per household, in ten-thousandths
# (12.5 is stored as 125000); only their proportions matter.
agreed_shares = Table(
    "agreed_shares", metadata,
    _id(),
    _case_id(),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False, unique=True),
    _int("weight_e4"),
    _int("maintenance_e4", nullable=True),
)

# The tables of the people a case names and of self-governance, then those of money and the elevator (issue 17),
# live in their own modules for size; importing them here puts them on ``metadata`` (in this order) wherever the
# schema is used, and makes them importable from here.
from eightstep.store.money_tables import (  # noqa: E402, F401  (re-exported)
    elevators,
    incidents,
    insurance_policies,
    invoices,
    money_lines,
    payments,
    repairs,
    settlements,
    share_certificates,
    subsidy_steps,
)
from eightstep.store.people_tables import (  # noqa: E402, F401  (re-exported)
    PERSON_FK,
    canvass_entries,
    case_people,
    case_roles,
    meetings,
    rota_plans,
    scheme_choices,
    schemes,
)
