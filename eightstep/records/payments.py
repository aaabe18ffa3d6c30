"""The owners' money after the agreement: the money lines agreed besides the price (extras such as a glass shaft,
compensation to a low-floor owner, change orders during the works), each household's payments with their
receipts (收款收据), the share certificates for a housing provident fund withdrawal, and the ledger that reads
them against the agreement's shares (``rules.ledger``).

One transaction and one event per record (``engine.recording``). Extras and compensation change the shares: once
the agreement is signed they need ``amend`` (a supplementary agreement); change orders count in the final
settlement only.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import func
from sqlmodel import Session, col, select

from eightstep.engine.recording import Recording, recording
from eightstep.errors import InputError, NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.records.funding import amendment, figures_of, load_funding
from eightstep.records.moneyview import CaseMoney, CertificateView, LineView, PaymentView, case_money_of
from eightstep.rules.ledger import KINDS, WAYS, receipt_number
from eightstep.rules.money import MAX_FEN, yuan, yuan_plain
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import local_date
from eightstep.workflow.schema import Workflow

# The action of each payment kind: a compensation paid out is not the compensation agreed (``funding.compensation``,
# a money line), so that the history, the forms' replay and the permissions tell them apart.
PAYMENT_ACTIONS = {"contribution": "funding.pay", "refund": "funding.refund", "compensation": "funding.payout"}
LINE_KINDS: dict[str, tuple[str, str]] = {
    "extra": ("加项费用", "extra agreed in negotiation"),
    "compensation": ("对业主的补偿", "compensation to a household"),
    "change_order": ("工程变更", "change order"),
}


def counting(model: type[models.Base]) -> Any:
    """The condition: a row of ``model`` that counts (not voided, ``records.corrections``)."""
    return models.not_voided(model.__table__)


def _on(when: datetime) -> date:
    return local_date(when)


def load_money(session: Session, case_id: str, wf: Workflow, as_of: date | None = None) -> CaseMoney:
    """The case's money records dated by ``as_of`` (the end of that day, Asia/Shanghai; None: all)."""
    def dated(when: datetime) -> bool:
        return as_of is None or _on(when) <= as_of

    def rows(model: type[models.Base], order: Any) -> Any:  # the case's records that count (not voided)
        return session.exec(select(model).where(model.__table__.c.case_id == case_id, counting(model)).order_by(order))

    every = list(session.exec(select(models.Household).where(models.Household.case_id == case_id)))
    settlements = [s for s in rows(models.Settlement, col(models.Settlement.id)) if dated(s.settled_at)]
    return case_money_of(
        case_id, wf, load_funding(session, case_id), every,
        [r for r in rows(models.MoneyLine, col(models.MoneyLine.id)) if dated(r.agreed_at)],
        [r for r in rows(models.Payment, col(models.Payment.serial)) if dated(r.paid_at)],
        [r for r in rows(models.ShareCertificate, col(models.ShareCertificate.id)) if dated(r.issued_at)],
        session.exec(select(models.AgreedShare).where(models.AgreedShare.case_id == case_id)).all(),
        settlements[-1] if settlements else None)


def case_money(ws: Workspace, case_id: str, as_of: date | None = None) -> CaseMoney:
    from eightstep.engine.cases import get_case, workflow_of

    with ws.session() as session:
        case = get_case(session, case_id)
        return load_money(session, case_id, workflow_of(ws, session, case).definition, as_of)


def _money(rec: Recording) -> CaseMoney:
    return load_money(rec.session, rec.case_id, rec.workflow)


# --- money lines -------------------------------------------------------------------------------------------

def add_line(ws: Workspace, case_id: str, kind: str, amount: int, description: str, *, room: str | None = None,
             meeting_id: int | None = None, at: datetime | None = None, actor: str | None = None,
             as_role: str | None = None, amend: str | None = None) -> LineView:
    """Record a money line: an ``extra`` or a ``compensation`` (to ``room``) agreed in negotiation, which the
    owners share with the cost; or a ``change_order`` (negative: a saving), which the final settlement counts."""
    if kind not in LINE_KINDS:
        raise InputError(_("money line kind {kind!r}: use one of {kinds}").format(
            kind=kind, kinds=", ".join(LINE_KINDS)))
    description = (description or "").strip()
    if not description:
        raise InputError(_("say what the money line is for (e.g. 玻璃幕墙井道, 补偿202室采光)"))
    if (kind == "change_order" and amount == 0) or (kind != "change_order" and amount <= 0):
        raise InputError(_("a money line's amount must be more than 0 yuan (a change order's may be negative: a "
                           "saving)"))
    if abs(amount) > MAX_FEN:
        raise InputError(_("{amount} yuan is more than any elevator costs: check the amount").format(
            amount=yuan(amount)))
    if kind == "compensation" and room is None:
        raise InputError(_("a compensation is paid to one household: give its room"))
    if kind != "compensation" and room is not None:
        raise InputError(_("only a compensation names a room"))
    with recording(ws, case_id, f"funding.{kind}", at=at, actor=actor, as_role=as_role) as rec:
        funding = rec.session.get(models.Funding, case_id)
        if funding is None:
            raise InputError(_("case {case} has no funding yet: record the total cost first").format(case=case_id),
                             remedy=Remedy("funding.set", {"case": case_id}))
        household = rec.household(room) if room is not None else None
        if meeting_id is not None:
            meeting = rec.session.get(models.Meeting, meeting_id)
            if meeting is None or meeting.case_id != case_id:
                raise NotFoundError(_("case {case} has no meeting #{id}").format(case=case_id, id=meeting_id))
        reason = None
        if kind != "change_order":
            before = figures_of(funding).as_dict()
            column = "extras_fen" if kind == "extra" else "compensation_fen"
            rec.change(funding, **{column: getattr(funding, column) + amount})
            figures_of(funding)  # validates: the subsidy and other money still within the cost
            reason = amendment(rec.workflow, rec.case, f"funding line {kind}", amend)
        else:
            before = None
        row = rec.add(models.MoneyLine(case_id=case_id, kind=kind, amount_fen=amount, description=description,
                                       household_id=household.id if household else None, meeting_id=meeting_id,
                                       agreed_at=rec.at, recorded_at=rec.at), with_id=True)
        rec.details = {"line_id": row.id, "kind": kind, "amount": yuan_plain(amount), "description": description,
                       "room": room, "meeting_id": meeting_id}
        if before is not None:
            rec.details.update(funding=figures_of(funding).as_dict(), before=before)
        if reason is not None:
            rec.details["amend"] = reason
    return LineView(row.id or 0, kind, amount, description, room, meeting_id, _on(rec.at))


# --- payments ------------------------------------------------------------------------------------------------

def record_payment(ws: Workspace, case_id: str, room: str, amount: int, *, way: str = "transfer",
                   kind: str = "contribution", reference: str | None = None, received_by: str | None = None,
                   note: str | None = None, at: datetime | None = None, actor: str | None = None,
                   as_role: str | None = None) -> PaymentView:
    """Record money paid in by ``room`` (``contribution``), paid back to it (``refund``), or paid to it under an
    agreed compensation; returns the payment with its receipt number.

    A contribution may not exceed what the household still owes; a provident-fund payment needs the household's
    share certificate issued by then; a refund or a compensation may not exceed what is due to the household."""
    if way not in WAYS:
        raise InputError(_("payment way {way!r}: use one of {ways}").format(way=way, ways=", ".join(WAYS)))
    if kind not in KINDS:
        raise InputError(_("payment kind {kind!r}: use one of {kinds}").format(kind=kind, kinds=", ".join(KINDS)))
    if amount <= 0:
        raise InputError(_("a payment's amount must be more than 0 yuan"))
    with recording(ws, case_id, PAYMENT_ACTIONS[kind], at=at, actor=actor, as_role=as_role) as rec:
        household = rec.household(room)
        money = _money(rec)
        account = money.ledger().account(room)
        day = _on(rec.at)
        _check_payment(money, account, kind, way, amount, day)
        serial = _next(rec, models.Payment.serial)  # a voided receipt keeps its number
        row = rec.add(models.Payment(case_id=case_id, household_id=household.id or 0, serial=serial, kind=kind,
                                     way=way, amount_fen=amount, paid_at=rec.at, reference=_text(reference),
                                     received_by=_text(received_by), note=_text(note), recorded_at=rec.at))
        rec.details = {"receipt": receipt_number(case_id, serial), "room": room, "kind": kind, "way": way,
                       "amount": yuan_plain(amount), "reference": row.reference, "received_by": row.received_by,
                       "note": row.note}
    return PaymentView(serial, receipt_number(case_id, serial), room, household.owner, kind, way, amount, day,
                       row.reference, row.received_by, row.note)


def _check_payment(money: CaseMoney, account: Any, kind: str, way: str, amount: int, day: date) -> None:
    room = account.room
    if kind == "contribution":
        if amount > account.outstanding:
            raise InputError(_("room {room} owes {owed} yuan: a payment of {amount} yuan is more than that").format(
                room=room, owed=yuan(max(account.outstanding, 0)), amount=yuan(amount)))
        if way == "provident_fund" and not any(c.room == room and c.on <= day for c in money.certificates):
            raise InputError(_("room {room} pays from the housing provident fund, and no share certificate was "
                               "issued to it by {day}: the fund pays out against that certificate").format(
                room=room, day=day), remedy=Remedy("funding.certificate", {"case": money.case_id, "room": room}))
    elif kind == "refund":
        if amount > max(-account.outstanding, 0):
            raise InputError(_("room {room} has {over} yuan to be paid back: a refund of {amount} yuan is more than "
                               "that").format(room=room, over=yuan(max(-account.outstanding, 0)), amount=yuan(amount)))
    elif amount > account.compensation_outstanding:
        raise InputError(_("room {room} is owed {owed} yuan of agreed compensation: {amount} yuan is more than "
                           "that").format(room=room, owed=yuan(account.compensation_outstanding),
                                          amount=yuan(amount)))


def _next(rec: Recording, column: Any, *, count: bool = False) -> int:
    """The next serial of the case's receipts or certificates, the voided ones counted (their numbers stay)."""
    table = column.class_
    found = rec.session.exec(select(func.count(column) if count else func.max(column)).where(
        table.case_id == rec.case_id)).one()
    return (found or 0) + 1


def _text(value: str | None) -> str | None:
    return value.strip() if value and value.strip() else None


def issue_certificate(ws: Workspace, case_id: str, room: str, *, number: str | None = None,
                      at: datetime | None = None, actor: str | None = None,
                      as_role: str | None = None) -> CertificateView:
    """Record the share certificate (分摊费用证明) issued to ``room`` for its provident fund withdrawal: it certifies
    the household's share under the agreement as it stands."""
    with recording(ws, case_id, "funding.certificate", at=at, actor=actor, as_role=as_role) as rec:
        household = rec.household(room)
        money = _money(rec)
        share = money.ledger().account(room).due
        if share <= 0:
            raise InputError(_("room {room} pays no share: there is nothing to certify").format(room=room))
        serial = _next(rec, models.ShareCertificate.id, count=True)
        number = _text(number) or f"FT-{case_id}-{serial:03d}"
        rec.add(models.ShareCertificate(case_id=case_id, household_id=household.id or 0, number=number,
                                        amount_fen=share, issued_at=rec.at, recorded_at=rec.at))
        rec.details = {"room": room, "number": number, "amount": yuan_plain(share)}
    return CertificateView(room, household.owner, number, share, _on(rec.at))

