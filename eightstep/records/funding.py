"""The money of a case on record: funding figures, the owners' agreed share table, and the share table itself.

Arithmetic lives in ``money``; this module reads and writes the store, one transaction and one event per change.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from fractions import Fraction
from pathlib import Path

from sqlmodel import Session, select

from eightstep.engine.cases import get_case, workflow_of
from eightstep.engine.recording import households_of, recording
from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.records import tabular
from eightstep.records.households import room_problems
from eightstep.records.moneyview import (  # noqa: F401  (re-exported: the read-only half, without the ORM)
    AGREEMENT_FORM,
    E4,
    agreement_signed,
    agreement_stage,
    figures_of,
    share_table,
)
from eightstep.rules.money import Figures, ShareTable, yuan_plain
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.workflow.schema import Workflow

AGREED_COLUMNS = (
    tabular.Column("room", ("room", "房号", "室号", "房间号", "门牌号"), tabular.parse_room),
    tabular.Column("share", ("share", "weight", "分摊比例", "比例", "份额", "分摊份额"),
                   tabular.parse_decimal(4, positive=False)),
    tabular.Column("maintenance", ("maintenance", "维保比例", "维保份额"), tabular.parse_decimal(4, positive=False),
                   required=False),
)


def amendment(wf: Workflow, case: models.Case, command: str, amend: str | None, *, changes: bool = True
              ) -> str | None:
    """Guard a change of the cost shares: after the agreement was signed it is refused unless ``amend`` gives
    the reason (a real change of a signed agreement is a new agreement). Returns the reason to record, or None.

    ``changes`` False: the command changes nothing (the same figures again), so nothing needs amending.
    """
    reason = amend.strip() if amend is not None else None
    if amend is not None and not reason:
        raise InputError(_("needs the reason the signed agreement changes (e.g. 业主大会同意改选平层入户), for the "
                           "record"), field="amend")
    signed = agreement_signed(wf, case.stage)
    if signed is None:
        if reason is not None:
            first = agreement_stage(wf)
            if first is not None:
                where = _("case {case} has not left stage {stage} yet").format(case=case.id, stage=first.id)
            else:
                where = _("case {case} follows workflow {workflow}, whose stages list no agreement form").format(
                    case=case.id, workflow=wf.id)
            raise InputError(_("{where}: there is no signed agreement to amend; leave it out").format(where=where),
                             field="amend")
        return None
    if not changes:
        return reason
    if reason is None:
        raise InputError(
            _("case {case} has left stage {stage} ({title}), where the owners signed the agreement (加装电梯协议书) "
              "with its cost-share table: {action} would change the shares printed on the signed agreement. A change "
              "of a signed agreement is a new agreement: once the owners agree to it, give the reason as an "
              "amendment (recorded in the history), then print the agreement again, have it signed and record it. "
              "Or return the case to that stage first").format(case=case.id, stage=signed.id, title=signed.title,
                                                                action=command.replace(" ", ".")),
            field="amend", remedy=Remedy("case.return", {"case": case.id, "to": signed.id}))
    return reason


def set_funding(ws: Workspace, case_id: str, *, total: int | None = None, subsidy: int | None = None,
                other: int | None = None, other_note: str | None = None, maintenance: int | None = None,
                at: datetime | None = None, actor: str | None = None, as_role: str | None = None,
                amend: str | None = None) -> Figures:
    """Record the case's money (fen). Figures not given keep their recorded value; the first time needs ``total``.

    Once the case has left the agreement stage, a change is refused unless ``amend`` says why the signed
    agreement changes (recorded in the event). ``as_role``: the role the actor acts in (``--as``; default: the
    actor's role on record in the case, see ``history.append_event``).
    """
    with recording(ws, case_id, "funding.set", at=at, actor=actor, as_role=as_role) as rec:
        row = rec.session.get(models.Funding, case_id)
        if row is not None and row.voided_at is not None:  # set again after a void: a fresh start
            rec.change(row, subsidy_fen=0, other_fen=0, other_note=None, maintenance_fen=0, voided_at=None,
                       void_reason=None)
            if total is None:
                raise InputError(_("case {case} has no funding yet: give the total cost").format(case=case_id),
                                 field="total")
            before = None
        elif row is None:
            if total is None:
                raise InputError(_("case {case} has no funding yet: give the total cost").format(case=case_id),
                                 field="total")
            row = models.Funding(case_id=case_id, total_fen=total, set_at=rec.at)
            before = None
        else:
            before = figures_of(row).as_dict()
        for name, value in (("total_fen", total), ("subsidy_fen", subsidy), ("other_fen", other),
                            ("maintenance_fen", maintenance)):
            if value is not None:
                setattr(row, name, value)
        if other_note is not None:
            row.other_note = other_note.strip() or None
        if row.other_fen and not row.other_note:
            raise InputError(_("say where the other money comes from (e.g. 公积金提取, 企业赞助)"), field="other_note")
        figures = figures_of(row)  # validates: nothing negative, subsidy + other <= total
        reason = amendment(rec.workflow, rec.case, "funding set", amend, changes=figures.as_dict() != before)
        rec.change(row, set_at=rec.at)
        rec.details = {"funding": figures.as_dict(), "before": before}
        if reason is not None:
            rec.details["amend"] = reason
    return figures


def load_funding(session: Session, case_id: str) -> models.Funding | None:
    row = session.get(models.Funding, case_id)
    return None if row is None or row.voided_at is not None else row


def load_agreed(session: Session, case_id: str) -> tuple[dict[str, Fraction], dict[str, Fraction]]:
    """The agreed weights by room: (construction, maintenance); empty when no table is recorded."""
    rows = session.exec(select(models.AgreedShare, models.Household).where(
        models.AgreedShare.case_id == case_id, models.AgreedShare.household_id == models.Household.id))
    shares: dict[str, Fraction] = {}
    upkeep: dict[str, Fraction] = {}
    for agreed, household in rows:
        shares[household.room] = Fraction(agreed.weight_e4, E4)
        if agreed.maintenance_e4 is not None:
            upkeep[household.room] = Fraction(agreed.maintenance_e4, E4)
    return shares, upkeep


def case_shares(ws: Workspace, case_id: str) -> ShareTable:
    """The case's share table under its workflow's rule; InputError says what is missing."""
    with ws.session() as session:
        case = get_case(session, case_id)
        wf = workflow_of(ws, session, case).definition
        funding = load_funding(session, case_id)
        households = households_of(session, case_id)
        agreed = load_agreed(session, case_id)
    if funding is None:
        raise InputError(_("case {case} has no funding yet").format(case=case_id),
                         remedy=Remedy("funding.set", {"case": case_id}))
    if not households:
        raise InputError(_("case {case} has no households yet").format(case=case_id),
                         remedy=Remedy("household.import", {"case": case_id}))
    return share_table(wf, households, funding, agreed)


@dataclass(frozen=True)
class AgreedRow:
    room: str
    share: Decimal
    maintenance: Decimal | None


def _e4(value: Decimal) -> int:
    return int((value * E4).to_integral_exact())


def agree_shares(ws: Workspace, case_id: str, path: Path, *, at: datetime | None = None,
                 actor: str | None = None, as_role: str | None = None,
                 amend: str | None = None) -> list[AgreedRow]:
    """Record the owners' own share table (columns room, share[, maintenance]): one row for every household.

    Shares are proportions (percentages or parts, up to 4 decimals); the amounts follow from the funding. Once
    the case has left the agreement stage, refused unless ``amend`` says why the signed agreement changes.
    ``as_role`` as for ``set_funding``.
    """
    rows = tabular.read_table(path, AGREED_COLUMNS)
    parsed = [AgreedRow(r.values["room"], r.values["share"], r.values["maintenance"]) for r in rows]
    problems = [_("{where}: field '{field}': {value} is negative; shares are 0 or more").format(
                    where=f"{path}:{r.line}", field=name, value=r.values[name])
                for r in rows for name in ("share", "maintenance")
                if r.values[name] is not None and r.values[name] < 0]
    with_upkeep = [r for r in rows if r.values["maintenance"] is not None]
    if with_upkeep and len(with_upkeep) != len(rows):
        problems.append(_("{path}: give a maintenance share for every room or for none").format(path=path))
    with recording(ws, case_id, "funding.agree", at=at, actor=actor, as_role=as_role) as rec:
        if rec.workflow.cost_sharing.method != "agreed_table":
            raise InputError(_("case {case} follows workflow {id}, which shares costs by {method}; an agreed table "
                               "applies only under cost_sharing.method: agreed_table").format(
                                 case=case_id, id=rec.loaded.id, method=rec.workflow.cost_sharing.method))
        households = {h.room: h for h in households_of(rec.session, case_id)}
        seen: set[str] = set()
        for r in rows:
            problems += room_problems(r.values["room"], f"{path}:{r.line}", case_id, households, seen)
        missing = sorted(set(households) - seen)
        if missing:
            problems.append(_("{path}: no share for room(s) {rooms}: every household needs one").format(
                path=path, rooms=", ".join(missing)))
        if not problems and sum(r.share for r in parsed) == 0:
            problems.append(_("{path}: every share is 0: somebody has to pay").format(path=path))
        if problems:
            raise InputError("\n".join(problems))
        reason = amendment(rec.workflow, rec.case, "funding agree", amend)
        for old in rec.session.exec(select(models.AgreedShare).where(models.AgreedShare.case_id == case_id)):
            rec.remove(old)
        rec.session.flush()
        rec.add_all([models.AgreedShare(case_id=case_id, household_id=households[r.room].id or 0,
                                        weight_e4=_e4(r.share),
                                        maintenance_e4=None if r.maintenance is None else _e4(r.maintenance))
                     for r in parsed])
        rec.details = {"file": path.name, "shares": {r.room: str(r.share) for r in parsed},
                       "maintenance": {r.room: str(r.maintenance) for r in parsed} if with_upkeep else None,
                       **({"amend": reason} if reason is not None else {})}
    return parsed


def shares_json(table: ShareTable) -> dict[str, object]:
    data = table.as_dict()
    data["check"] = {"shares_sum": yuan_plain(table.share_sum), "maintenance_sum": yuan_plain(table.maintenance_sum)}
    return data
