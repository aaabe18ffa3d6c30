"""The records the guards read: their types, as Protocols the rows satisfy, and the columns that makes.

A guard reads a case's documents, approvals, households, ballots, objections, scheme choices and meetings, and
of each only the attributes of its Protocol here. Any row with those attributes will do: the light rows of the
read layer (``eightstep.store.read.records`` with ``GUARD_COLUMNS``), the full rows the forms read, an ORM object
of the write path. ``GUARD_COLUMNS`` is derived from the Protocols, so a guard that needs another column says so
by adding it to its record's Protocol (a type checker then follows every use).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from eightstep.store import models


class CaseRecord(Protocol):
    """What every record of a case has."""

    @property
    def id(self) -> int | None: ...
    @property
    def case_id(self) -> str: ...


class DocumentRecord(CaseRecord, Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def issued_at(self) -> datetime: ...


class ApprovalRecord(CaseRecord, Protocol):
    @property
    def kind(self) -> str: ...
    @property
    def decision(self) -> str: ...
    @property
    def decided_at(self) -> datetime: ...
    @property
    def number(self) -> str | None: ...


class HouseholdRecord(CaseRecord, Protocol):
    @property
    def room(self) -> str: ...
    @property
    def floor(self) -> int: ...
    @property
    def owner(self) -> str: ...
    @property
    def owner_key(self) -> str: ...
    @property
    def area_centi(self) -> int: ...
    @property
    def co_owners(self) -> str | None: ...
    @property
    def affected(self) -> bool: ...


class BallotRecord(CaseRecord, Protocol):
    @property
    def household_id(self) -> int: ...
    @property
    def choice(self) -> str: ...
    @property
    def cast_at(self) -> datetime: ...
    @property
    def signed_by(self) -> str | None: ...


class ObjectionRecord(CaseRecord, Protocol):
    @property
    def room(self) -> str | None: ...
    @property
    def objector(self) -> str | None: ...
    @property
    def grounds(self) -> str: ...
    @property
    def written(self) -> bool: ...
    @property
    def real_name(self) -> bool: ...
    @property
    def lodged_at(self) -> datetime: ...
    @property
    def resolved_at(self) -> datetime | None: ...
    @property
    def stage(self) -> str: ...  # the stage it was lodged in (after the notice stage: a complaint)
    @property
    def late(self) -> bool: ...  # lodged after the notice period had ended


class SchemeChoiceRecord(CaseRecord, Protocol):
    @property
    def at(self) -> datetime: ...


class MeetingRecord(CaseRecord, Protocol):
    @property
    def kinds(self) -> str: ...
    @property
    def held_at(self) -> datetime: ...


class FundingRecord(Protocol):
    """The case's money (one row per case, keyed by ``case_id``)."""

    @property
    def case_id(self) -> str: ...
    @property
    def total_fen(self) -> int: ...
    @property
    def subsidy_fen(self) -> int: ...
    @property
    def other_fen(self) -> int: ...
    @property
    def other_note(self) -> str | None: ...
    @property
    def maintenance_fen(self) -> int: ...
    @property
    def extras_fen(self) -> int: ...
    @property
    def compensation_fen(self) -> int: ...


class AgreedShareRecord(CaseRecord, Protocol):
    @property
    def household_id(self) -> int: ...
    @property
    def weight_e4(self) -> int: ...
    @property
    def maintenance_e4(self) -> int | None: ...


class PaymentRecord(CaseRecord, Protocol):
    @property
    def household_id(self) -> int: ...
    @property
    def kind(self) -> str: ...
    @property
    def way(self) -> str: ...
    @property
    def amount_fen(self) -> int: ...
    @property
    def paid_at(self) -> datetime: ...


@dataclass
class CaseRecords:
    """What the guards look at, loaded once per check.

    ``evidence_from`` is the case's ``evidence_from``: documents, approvals, ballots, scheme choices and meetings
    dated before it no longer count (a return for rework started them afresh); households and objections always
    do.
    """

    documents: Sequence[DocumentRecord]
    approvals: Sequence[ApprovalRecord]
    households: Sequence[HouseholdRecord]
    ballots: Sequence[BallotRecord]
    objections: Sequence[ObjectionRecord]
    scheme_choices: Sequence[SchemeChoiceRecord] = field(default_factory=list)
    meetings: Sequence[MeetingRecord] = field(default_factory=list)
    funding: Sequence[FundingRecord] = field(default_factory=list)  # none or one
    agreed_shares: Sequence[AgreedShareRecord] = field(default_factory=list)
    payments: Sequence[PaymentRecord] = field(default_factory=list)
    evidence_from: datetime | None = None


@dataclass
class FullRecords(CaseRecords):
    """``CaseRecords`` read with every column (``engine.cases.load_records``, the forms' ``CaseData``): the rows
    have the attributes of the ORM classes (the read layer's rows, or the objects themselves), so they are typed so.
    """

    documents: Sequence[models.Document]
    approvals: Sequence[models.Approval]
    households: Sequence[models.Household]
    ballots: Sequence[models.Ballot]
    objections: Sequence[models.Objection]
    scheme_choices: Sequence[models.SchemeChoice] = field(default_factory=list)
    meetings: Sequence[models.Meeting] = field(default_factory=list)
    funding: Sequence[models.Funding] = field(default_factory=list)
    agreed_shares: Sequence[models.AgreedShare] = field(default_factory=list)
    payments: Sequence[models.Payment] = field(default_factory=list)


# The record tables behind the fields of ``CaseRecords`` (their names: ``read.records`` takes a table by name),
# and the Protocol of each.
RECORD_TABLES: tuple[str, ...] = ("documents", "approvals", "households", "ballots", "objections", "scheme_choices",
                                  "meetings", "funding", "agreed_shares", "payments")
RECORD_TYPES: dict[str, type] = {
    "documents": DocumentRecord, "approvals": ApprovalRecord, "households": HouseholdRecord,
    "ballots": BallotRecord, "objections": ObjectionRecord, "scheme_choices": SchemeChoiceRecord,
    "meetings": MeetingRecord, "funding": FundingRecord, "agreed_shares": AgreedShareRecord,
    "payments": PaymentRecord,
}


def attributes(protocol: type) -> tuple[str, ...]:
    """The attributes a Protocol of this module declares (its bases' first), in order."""
    return tuple(name for kind in reversed(protocol.__mro__) for name, value in vars(kind).items()
                 if isinstance(value, property))


# The columns the guards read of each record table (with case_id, to group the rows). Reading only these halves
# the cost of loading; a guard that reads another attribute fails loudly (AttributeError) until its Protocol has it.
GUARD_COLUMNS: dict[str, tuple[str, ...]] = {name: attributes(kind) for name, kind in RECORD_TYPES.items()}

# The times among GUARD_COLUMNS that the guards compare with the check time (records dated later are left out):
# what ``eightstep.engine.checkcache`` needs to know how far back a cached answer holds.
TIME_COLUMNS: dict[str, tuple[str, ...]] = {
    "documents": ("issued_at",), "approvals": ("decided_at",), "ballots": ("cast_at",),
    "objections": ("lodged_at", "resolved_at"), "scheme_choices": ("at",), "meetings": ("held_at",),
    "payments": ("paid_at",),
}
