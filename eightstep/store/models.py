"""The ORM classes of the write path, mapped onto the Core tables of ``eightstep.store.tables``.

The tables are defined once, there (columns, types, defaults); these classes only map them for the session-based
writers (recording functions, moves), with the columns as attributes of the same names. Reads do not need them:
``eightstep.store.read`` reads rows with the same attribute names. A new instance starts with the scalar defaults
of its table's columns (``Case().status == "active"``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, ClassVar

from sqlalchemy.orm import DeclarativeBase

from eightstep.store import tables
from eightstep.store.tables import ACTIVE, SCHEMA_VERSION, SUSPENDED, WITHDRAWN, not_voided

__all__ = ["ACTIVE", "SCHEMA_VERSION", "SUSPENDED", "WITHDRAWN", "Base", "not_voided"]


class Base(DeclarativeBase):
    """A row of one of the tables; the constructor takes column values by name."""

    metadata = tables.metadata

    def __init__(self, **values: Any) -> None:
        for column in self.__table__.columns:
            default = column.default
            if column.key not in values and default is not None and default.is_scalar:
                values[column.key] = default.arg  # type: ignore[attr-defined]
        for name, value in values.items():
            if not hasattr(type(self), name):
                raise TypeError(f"{name!r} is not a column of {type(self).__name__}")
            setattr(self, name, value)

    if TYPE_CHECKING:  # the columns are attributes, as the table defines them (not listed again here)
        def __getattr__(self, name: str) -> Any: ...

    def __repr__(self) -> str:
        keys = ", ".join(f"{c.key}={getattr(self, c.key, None)!r}" for c in self.__table__.primary_key)
        return f"{type(self).__name__}({keys})"


class Meta(Base):
    __table__ = tables.meta


class WorkflowSnapshot(Base):
    __table__ = tables.workflow_snapshots


class Complex(Base):
    __table__ = tables.complexes


class Case(Base):
    """One stairwell unit (单元): one elevator. ``version`` is the optimistic-lock counter."""

    __table__ = tables.cases
    __mapper_args__: ClassVar[dict[str, Any]] = {"version_id_col": tables.cases.c.version}


class CaseCheck(Base):
    __table__ = tables.case_checks


class Household(Base):
    __table__ = tables.households


class Ballot(Base):
    __table__ = tables.ballots


class Document(Base):
    __table__ = tables.documents


class Approval(Base):
    __table__ = tables.approvals


class Objection(Base):
    __table__ = tables.objections


class MediationStep(Base):
    __table__ = tables.mediation_steps


class ConsentRecord(Base):
    __table__ = tables.consent_records


class Event(Base):
    __table__ = tables.events


class EventFact(Base):
    """One row an event's recording wrote (``eightstep.engine.facts``)."""

    __table__ = tables.event_facts


class Funding(Base):
    __table__ = tables.funding


class AgreedShare(Base):
    __table__ = tables.agreed_shares


class CasePerson(Base):
    __table__ = tables.case_people


class CanvassEntry(Base):
    __table__ = tables.canvass_entries


class Scheme(Base):
    __table__ = tables.schemes


class SchemeChoice(Base):
    __table__ = tables.scheme_choices


class CaseRole(Base):
    __table__ = tables.case_roles


class RotaPlan(Base):
    __table__ = tables.rota_plans


class Meeting(Base):
    __table__ = tables.meetings


class MoneyLine(Base):
    __table__ = tables.money_lines


class Payment(Base):
    __table__ = tables.payments


class ShareCertificate(Base):
    __table__ = tables.share_certificates


class SubsidyStep(Base):
    __table__ = tables.subsidy_steps


class Invoice(Base):
    __table__ = tables.invoices


class Settlement(Base):
    __table__ = tables.settlements


class Elevator(Base):
    __table__ = tables.elevators


class InsurancePolicy(Base):
    __table__ = tables.insurance_policies


class Incident(Base):
    __table__ = tables.incidents


class Repair(Base):
    __table__ = tables.repairs
