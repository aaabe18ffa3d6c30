"""Corrections that never erase: a record voided, a role ended, a household corrected, each by an appended event.

One pattern for every kind of record: ``void(ws, case_id, kind, key, reason=...)`` marks the record voided
(``voided_at``, ``void_reason``) in one recording (``engine.recording``) whose event says which record, what it
said and why it no longer counts; its note is the reason. Nothing is deleted: the row stays, marked, and the
history shows what was wrong, who corrected it and when. The guards, tallies, what-if, forms, listings and the
audit leave voided records out; a role counts until it ended (``role.end``). ``correct_household`` changes a
household's recorded values, the old and the new ones in the event.

The record is named by its id, except a ballot (the current ballot of a room), a household (its room), a party
(its role in the forms), the funding (one per case) and the money records named as ``records.moneyvoids`` says
(a payment by its receipt, a certificate or an invoice by its number, the settlement and the elevator's record by
the case).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from sqlmodel import select

from eightstep.engine.ballots import current_ballots
from eightstep.engine.recording import Recording, recording
from eightstep.errors import InputError, NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.nouns import NOUNS
from eightstep.records import tabular
from eightstep.records.households import area_centi
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, show


@dataclass(frozen=True)
class Kind:
    model: type[models.Base]
    action: str  # of the void event
    listing: str  # the remedy action that lists such records
    by: str = "id"  # the column that names the record (a receipt by its serial, an invoice by its number)


KINDS: dict[str, Kind] = {
    "document": Kind(models.Document, "doc.void", "doc.list"),
    "approval": Kind(models.Approval, "approval.void", "approval.list"),
    "ballot": Kind(models.Ballot, "vote.void", "household.list"),
    "household": Kind(models.Household, "household.void", "household.list"),
    "objection": Kind(models.Objection, "objection.void", "objection.list"),
    "mediation": Kind(models.MediationStep, "objection.void-step", "objection.list"),
    "meeting": Kind(models.Meeting, "meeting.void", "meeting.list"),
    "scheme": Kind(models.Scheme, "scheme.void", "scheme.compare"),
    "role": Kind(models.CaseRole, "role.end", "role.list"),
    "canvass": Kind(models.CanvassEntry, "canvass.void", "canvass.list"),
    "party": Kind(models.CaseRole, "party.void", "forms.parties"),  # the current holder of a role the forms name
    "funding": Kind(models.Funding, "funding.void", "funding.shares"),
    # money and the elevator after acceptance (``records.moneyvoids``: what voiding one of them refuses or redoes)
    "money_line": Kind(models.MoneyLine, "funding.void-line", "funding.shares"),
    "payment": Kind(models.Payment, "funding.void-payment", "funding.paid", by="serial"),
    "certificate": Kind(models.ShareCertificate, "funding.void-certificate", "funding.paid", by="number"),
    "invoice": Kind(models.Invoice, "funding.void-invoice", "funding.paid", by="number"),
    "settlement": Kind(models.Settlement, "funding.void-settlement", "funding.paid"),  # the one that counts
    "subsidy_step": Kind(models.SubsidyStep, "subsidy.void", "subsidy.show"),
    "elevator": Kind(models.Elevator, "elevator.void", "elevator.show"),
    "policy": Kind(models.InsurancePolicy, "elevator.void-policy", "elevator.show"),
    "incident": Kind(models.Incident, "elevator.void-incident", "elevator.show"),
    "repair": Kind(models.Repair, "elevator.void-repair", "elevator.show"),
}
ONE_PER_CASE = ("funding", "elevator", "settlement")  # named by the case alone
NAMED = ("ballot", "household", "party", "payment", "certificate", "invoice", *ONE_PER_CASE)  # not by "#id"
MONEY = ("money_line", "payment", "certificate", "invoice", "settlement", "subsidy_step", "elevator", "policy",
         "incident", "repair")
PRIVATE = {"phone", "id_number"}  # never copied into the history


@dataclass(frozen=True)
class Voided:
    kind: str
    id: Any
    at: datetime
    reason: str
    was: dict[str, Any]

    def as_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "id": self.id, "at": self.at, "reason": self.reason, "was": self.was}


def reason_of(reason: str | None) -> str:
    if not reason or not reason.strip():
        raise InputError(_("a reason is required and must not be empty: say why, for the record"))
    return reason.strip()


def what_it_said(row: models.Base) -> dict[str, Any]:
    """A record's values for the history (no ids, no phone or ID numbers, no voiding marks)."""
    hidden = {"id", "case_id", "voided_at", "void_reason", "recorded_at", *PRIVATE}
    values = {c.key: getattr(row, c.key) for c in row.__table__.columns}
    return {k: (show(v) if isinstance(v, datetime) else v.isoformat() if isinstance(v, date) else v)
            for k, v in values.items() if k not in hidden}


def _find(rec: Recording, kind: str, key: Any) -> Any:
    """The record of ``kind`` named ``key`` in the case (see the module's docstring), not voided yet."""
    spec = KINDS[kind]
    row: Any  # a row of the kind's table
    if kind == "ballot":
        household = rec.household(str(key))
        ballots = rec.session.exec(select(models.Ballot).where(
            models.Ballot.household_id == household.id, models.not_voided(models.Ballot.__table__))).all()
        row = current_ballots(list(ballots), None, rec.case.evidence_from).get(household.id or -1)
    elif kind == "household":
        row = rec.household(str(key))
    elif kind == "party":
        row = rec.session.exec(select(models.CaseRole).where(
            models.CaseRole.case_id == rec.case_id, models.CaseRole.role == key, models.CaseRole.until.is_(None),
            models.not_voided(models.CaseRole.__table__)).order_by(models.CaseRole.since.desc())).first()
    elif kind in MONEY:
        from eightstep.records.moneyvoids import find

        row = find(rec, kind, spec.model, spec.by, key)
    else:
        row = rec.session.get(spec.model, rec.case_id if kind == "funding" else key)
    parent = rec.session.get(models.Objection, row.objection_id) if row is not None and kind == "mediation" else row
    owner = None if parent is None else parent.case_id
    if row is None or owner != rec.case_id or row.voided_at is not None:
        named = "" if key is None else (f" {key}" if kind in NAMED else f" #{key}")
        raise NotFoundError(_("case {case} has no {kind}{key} that counts").format(
            case=rec.case_id, kind=_(NOUNS[kind]), key=named),
            remedy=Remedy(spec.listing, {"case": rec.case_id}))
    return row


def _refuse(rec: Recording, kind: str, row: Any) -> None:
    """What a void may not do: end a role before it began; void the scheme the owners chose."""
    if kind == "role" and rec.at < as_utc(row.since):
        raise InputError(_("the role cannot end at {at}, before it began ({since}); check the date").format(
            at=show(rec.at), since=show(row.since)))
    if kind in MONEY or kind == "household":
        from eightstep.records.moneyvoids import refuse

        refuse(rec, kind, row)
    if kind == "scheme":
        from eightstep.records.schemes import current_choice

        choice = current_choice(rec.session, rec.case_id)
        if choice is not None and choice.scheme_id == row.id:
            raise InputError(_("scheme #{id} is the owners' current choice: record their new choice first").format(
                id=row.id), remedy=Remedy("scheme.choose", {"case": rec.case_id}))


def _upkeep_dates(rec: Recording) -> None:
    """The case's latest maintenance and inspection dates again, from the documents that still count."""
    upkeep = rec.workflow.upkeep
    if upkeep is None:
        return
    for column, kind in (("maintained_at", upkeep.maintenance_document),
                         ("inspected_at", upkeep.inspection_document)):
        dates = rec.session.exec(select(models.Document.issued_at).where(
            models.Document.case_id == rec.case_id, models.Document.kind == kind,
            models.not_voided(models.Document.__table__))).all()
        setattr(rec.case, column, max((as_utc(d) for d in dates), default=None))


def void(ws: Workspace, case_id: str, kind: str, key: Any, *, reason: str, at: datetime | None = None,
         actor: str | None = None, as_role: str | None = None) -> Voided:
    """Void the record of ``kind`` named ``key`` (see ``KINDS``); a role ends at ``at``."""
    if kind not in KINDS:
        raise InputError(_("cannot void a {kind}; these can be voided: {kinds}").format(
            kind=kind, kinds=", ".join(KINDS)))
    reason = reason_of(reason)
    with recording(ws, case_id, KINDS[kind].action, at=at, actor=actor, as_role=as_role) as rec:
        row = _find(rec, kind, key)
        _refuse(rec, kind, row)
        was = what_it_said(row)
        record_id = row.case_id if kind in ("funding", "elevator") else getattr(row, KINDS[kind].by)
        rec.change(row, voided_at=rec.at, void_reason=reason)
        if kind == "document":
            rec.session.flush()
            _upkeep_dates(rec)
        more: dict[str, Any] = {}
        if kind in MONEY:
            from eightstep.records.moneyvoids import redo

            more = redo(rec, kind, row)
        rec.note = reason
        rec.details = {"record": kind, "id": record_id, "was": was, **more}
    return Voided(kind, record_id, rec.at, reason, was)



def correct_household(ws: Workspace, case_id: str, room: str, *, reason: str, floor: int | None = None,
                      area: Decimal | str | None = None, owner: str | None = None, owner_key: str | None = None,
                      phone: str | None = None, at: datetime | None = None, actor: str | None = None,
                      as_role: str | None = None) -> dict[str, Any]:
    """Correct what is recorded of the household of ``room``: the values given replace the recorded ones (the
    event keeps both). Returns the changes, {field: [before, after]}."""
    reason = reason_of(reason)
    new = _corrected_values(floor, area, owner, owner_key, phone)
    if not new:
        raise InputError(_("say what to correct: the floor, area, owner, owner key or phone"))
    with recording(ws, case_id, "household.correct", at=at, actor=actor, as_role=as_role) as rec:
        household = rec.household(room)
        changes = {name: [getattr(household, name), value] for name, value in new.items()
                   if getattr(household, name) != value}
        if not changes:
            raise InputError(_("room {room} of case {case} already has these values: nothing to correct").format(
                room=room, case=case_id))
        rec.change(household, **{name: after for name, (_before, after) in changes.items()})
        rec.note = reason
        rec.details = {"room": room, "changes": {k: v for k, v in changes.items() if k not in PRIVATE},
                       "fields": sorted(changes)}
    return changes


def _corrected_values(floor: int | None, area: Decimal | str | None, owner: str | None, owner_key: str | None,
                      phone: str | None) -> dict[str, Any]:
    """The columns to set, each checked as an import checks it."""
    cells = {"floor": floor, "area": area, "owner": owner, "owner_key": owner_key, "phone": phone}
    parsers: dict[str, Callable[[str], Any]] = {
        "floor": tabular.parse_int_range(-5, 100), "area": tabular.parse_decimal(2), "owner": tabular.parse_text,
        "owner_key": tabular.parse_text, "phone": tabular.parse_phone}
    out: dict[str, Any] = {}
    for name, value in cells.items():
        if value is None:
            continue
        try:
            parsed = parsers[name](str(value).strip())
        except ValueError as exc:
            raise InputError(_("the {field} given: {problem}").format(
                field=name.replace("_", " "), problem=exc)) from None
        if name == "area":
            out["area_centi"] = area_centi(parsed)
        else:
            out[name] = parsed
    return out
