"""The tables. Times are UTC; areas are whole hundredths of a square metre (exact arithmetic)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Column, DateTime, Index, Integer, Text, UniqueConstraint, false, text
from sqlmodel import Field, SQLModel

SCHEMA_VERSION = 1

# Case status values.
ACTIVE = "active"
SUSPENDED = "suspended"
WITHDRAWN = "withdrawn"


def _when(nullable: bool = False, index: bool = False) -> object:
    return Field(default=None, sa_type=DateTime(timezone=True), nullable=nullable, index=index)


class Meta(SQLModel, table=True):
    __tablename__ = "meta"
    key: str = Field(primary_key=True)
    value: str


class WorkflowSnapshot(SQLModel, table=True):
    """The exact workflow text a case was opened under: editing the file never changes an open case."""

    __tablename__ = "workflow_snapshots"
    sha256: str = Field(primary_key=True, max_length=64)
    workflow_id: str = Field(index=True)
    version: str
    source: str
    content: str = Field(sa_type=Text)
    stored_at: datetime = _when()


class Complex(SQLModel, table=True):
    __tablename__ = "complexes"
    id: int | None = Field(default=None, primary_key=True)
    name: str = Field(unique=True)
    district: str | None = None
    street: str | None = None
    community: str | None = None
    created_at: datetime = _when()


_CASE_VERSION = Column("version", Integer, nullable=False)


class Case(SQLModel, table=True):
    """One stairwell unit (单元): one elevator. ``version`` is the optimistic-lock counter."""

    __tablename__ = "cases"
    __table_args__ = (
        Index("ix_cases_stage_clock", "stage", "clock_started_at"),
        Index("ix_cases_stage_maintained", "stage", "maintained_at"),
        Index("ix_cases_stage_inspected", "stage", "inspected_at"),
        Index("ix_cases_suspended_review", "review_at", sqlite_where=text("status = 'suspended'"),
              postgresql_where=text("status = 'suspended'")),
        Index(
            "uq_cases_active_unit", "complex_id", "building", "unit", unique=True,
            sqlite_where=text("status != 'withdrawn'"), postgresql_where=text("status != 'withdrawn'"),
        ),
    )
    id: str = Field(primary_key=True, max_length=64)
    complex_id: int = Field(foreign_key="complexes.id", index=True)
    building: str
    unit: str
    workflow_id: str
    workflow_version: str
    workflow_sha256: str = Field(foreign_key="workflow_snapshots.sha256")
    stage: str
    status: str = ACTIVE
    status_reason: str | None = None
    review_at: datetime | None = _when(nullable=True)
    opened_at: datetime = _when()
    stage_entered_at: datetime = _when()
    clock_started_at: datetime = _when()  # stage_entered_at moved forward by any time spent suspended
    suspended_at: datetime | None = _when(nullable=True)
    event_count: int = 0
    last_hash: str = ""
    version: int = Field(default=1, sa_column=_CASE_VERSION)
    # The issue time of the case's latest document of its workflow's upkeep kinds (the maintenance record and the
    # periodic inspection), kept by ``records.add_document`` so that the audit finds overdue elevators with a
    # range search instead of visiting every elevator in operation.
    maintained_at: datetime | None = _when(nullable=True)
    inspected_at: datetime | None = _when(nullable=True)
    # Records dated before this no longer count toward the guards (documents, approvals, ballots, scheme choices,
    # meetings): set by a return for rework (``engine.return_to``), which starts the evidence afresh.
    evidence_from: datetime | None = _when(nullable=True)

    __mapper_args__ = {"version_id_col": _CASE_VERSION}  # UPDATE ... WHERE version = :seen


class CaseCheck(SQLModel, table=True):
    """The guards' blockers of a case as last computed, reused while they still hold (``eightstep.engine.checkcache``).

    It holds while the case is at ``version`` (every change of a case bumps it), for check times from
    ``valid_from`` (the time it was computed for, after every record of the case) until ``valid_until`` (when a
    time-bound blocker such as a running public notice ends; None: never), and while ``basis`` (the eightstep
    release and the holiday data the guards counted with) is today's. A derived table: deleting rows loses nothing.
    """

    __tablename__ = "case_checks"
    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=64)
    version: int
    stage: str
    valid_from: datetime = _when()
    valid_until: datetime | None = _when(nullable=True)
    basis: str
    blockers: str = Field(sa_type=Text)  # JSON: a list of Blocker.as_dict()


class Household(SQLModel, table=True):
    __tablename__ = "households"
    __table_args__ = (UniqueConstraint("case_id", "room"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    room: str
    floor: int
    area_centi: int  # 86.50 m² is stored as 8650
    owner: str
    owner_key: str
    phone: str | None = None
    co_owners: str | None = Field(default=None, sa_type=Text)  # JSON: the other names on a co-owned flat's title
    # directly affected by the elevator (e.g. the shaft faces or occupies the flat)
    affected: bool = Field(default=False, sa_column_kwargs={"server_default": false()})


class Ballot(SQLModel, table=True):
    """Every ballot cast; a household's ballot as of a date is its latest one cast by then."""

    __tablename__ = "ballots"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    choice: str
    cast_at: datetime = _when()
    recorded_at: datetime = _when()
    signed_by: str | None = Field(default=None, sa_type=Text)  # JSON: who signed (a co-owned flat); None: not said


class Document(SQLModel, table=True):
    __tablename__ = "documents"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    kind: str
    stage: str
    issued_at: datetime = _when()
    issuer: str | None = None
    number: str | None = None
    original_name: str
    sha256: str = Field(max_length=64)
    size: int
    recorded_at: datetime = _when()


class Approval(SQLModel, table=True):
    __tablename__ = "approvals"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    kind: str
    authority: str
    decision: str  # approved | rejected
    decided_at: datetime = _when()
    number: str | None = None
    note: str | None = None
    recorded_at: datetime = _when()


class Objection(SQLModel, table=True):
    __tablename__ = "objections"
    __table_args__ = (Index("ix_objections_lodged", "lodged_at"),)  # the audit's unmediated objections
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    room: str | None = None
    objector: str | None = None
    grounds: str
    written: bool = True
    real_name: bool = True
    stage: str
    status: str = "open"  # open | resolved
    lodged_at: datetime = _when()
    outcome: str | None = None
    resolved_at: datetime | None = _when(nullable=True)


class MediationStep(SQLModel, table=True):
    __tablename__ = "mediation_steps"
    id: int | None = Field(default=None, primary_key=True)
    objection_id: int = Field(foreign_key="objections.id", index=True)
    step: str
    note: str
    at: datetime = _when()
    actor: str


class ConsentRecord(SQLModel, table=True):
    """The tally and the rule used when a consent stage was passed, kept so it can be reproduced later."""

    __tablename__ = "consent_records"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    stage: str
    at: datetime = _when()
    rule: str = Field(sa_type=Text)  # JSON
    tally: str = Field(sa_type=Text)  # JSON


class Event(SQLModel, table=True):
    """Append-only case history; ``hash`` chains each event to the previous one of the same case."""

    __tablename__ = "events"
    # ix_events_business_at: the moves after a date, for an audit or overview as of a past date (eightstep.engine.asof)
    __table_args__ = (UniqueConstraint("case_id", "seq"), Index("ix_events_business_at", "business_at"))
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    seq: int
    business_at: datetime = _when()
    recorded_at: datetime = _when()
    actor: str
    action: str
    from_stage: str | None = None
    to_stage: str | None = None
    note: str | None = None
    details: str = Field(default="{}", sa_type=Text)  # JSON
    prev_hash: str
    hash: str = Field(max_length=64)
    # The database login that wrote the event (PostgreSQL: set by a trigger from session_user, so a client cannot
    # choose it; SQLite: none). Beside ``actor``, who said they acted.
    login: str | None = None
    # HMAC-SHA256 of ``hash`` with the key in EIGHTSTEP_SIGNING_KEY, held outside the database (None: unsigned).
    sig: str | None = Field(default=None, max_length=64)


# --- money and paperwork (issue 3) -----------------------------------------------------------------------

class Funding(SQLModel, table=True):
    """The money of one case in integer fen (1 yuan = 100 fen): the cost, who else pays, yearly upkeep."""

    __tablename__ = "funding"
    case_id: str = Field(primary_key=True, foreign_key="cases.id", max_length=64)
    total_fen: int
    subsidy_fen: int = 0
    other_fen: int = 0
    other_note: str | None = None
    maintenance_fen: int = 0  # per year
    set_at: datetime = _when()


class AgreedShare(SQLModel, table=True):
    """The owners' own share table (cost_sharing.method agreed_table): one weight per household.

    Weights are in ten-thousandths (12.5 is stored as 125000); only their proportions matter.
    """

    __tablename__ = "agreed_shares"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    household_id: int = Field(foreign_key="households.id", unique=True)
    weight_e4: int
    maintenance_e4: int | None = None


class CaseParty(SQLModel, table=True):
    """Who the paperwork of a case names: the agent, the use-management unit, the property company, ..."""

    __tablename__ = "case_parties"
    __table_args__ = (UniqueConstraint("case_id", "role"),)
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    role: str
    name: str
    phone: str | None = None
    id_number: str | None = None
    address: str | None = None
    recorded_at: datetime = _when()


# --- canvassing, schemes, self-governance (issue 6) ------------------------------------------------------

class CanvassEntry(SQLModel, table=True):
    """One visit or call to a household (推): its stance then and the concern it raised, in its own words."""

    __tablename__ = "canvass_entries"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    household_id: int = Field(foreign_key="households.id", index=True)
    stance: str  # supportive | hesitant | opposed
    concern: str | None = None  # as said, free text
    kinds: str = ""  # the concern's kinds, comma-separated: light,noise,cost,space,privacy,ventilation,safety,other
    visited_by: str | None = None  # who visited or called
    at: datetime = _when()
    recorded_at: datetime = _when()


class Scheme(SQLModel, table=True):
    """An elevator company's scheme for the unit (联); ``proposed_from`` names the pilot case it was carried from."""

    __tablename__ = "schemes"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    company: str
    price_fen: int
    entry: str | None = None  # level | half_floor
    duration_days: int | None = None
    note: str | None = None
    file_name: str | None = None  # the proposal, stored in the file store by content hash
    file_sha256: str | None = Field(default=None, max_length=64)
    proposed_from: str | None = None  # the case whose chosen scheme this is a copy of (complex rollout)
    share_rule: str | None = Field(default=None, sa_type=Text)  # JSON: the pilot's cost-share rule, as proposed
    added_at: datetime = _when()


class SchemeChoice(SQLModel, table=True):
    """The owners' choice of a scheme; a later choice replaces an earlier one (both stay on record)."""

    __tablename__ = "scheme_choices"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    scheme_id: int = Field(foreign_key="schemes.id", index=True)
    reason: str = Field(sa_type=Text)
    at: datetime = _when()
    actor: str


class CaseRole(SQLModel, table=True):
    """Who does what in a case (退): owner representative, agent, negotiation group (with a side), self-management
    group and duty rota members."""

    __tablename__ = "case_roles"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    role: str  # owner_rep | agent | negotiator | self_management | duty_rota | volunteer
    name: str
    room: str | None = None  # the member's flat, when an owner of the unit
    side: str | None = None  # negotiators: high_floor | low_floor | community | technician
    phone: str | None = None
    note: str | None = None
    since: datetime = _when()
    recorded_at: datetime = _when()


class Meeting(SQLModel, table=True):
    """A meeting of the case on record: who attended and what was decided (brand, budget, cost shares, ...)."""

    __tablename__ = "meetings"
    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="cases.id", index=True)
    kinds: str  # comma-separated: brand,budget,cost_shares,objection_remedy,other
    held_at: datetime = _when()
    attendees: str = Field(sa_type=Text)  # JSON list of names
    decision: str = Field(sa_type=Text)
    file_name: str | None = None  # the minutes, stored in the file store by content hash
    file_sha256: str | None = Field(default=None, max_length=64)
    actor: str
    recorded_at: datetime = _when()
