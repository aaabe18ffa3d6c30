"""Elevator companies' schemes side by side (联), and the owners' choice.

``compare`` prices every household under every scheme by the workflow's cost-share rule, before and after the
subsidy (``money.compute_shares``: exact fen, largest remainder, each column adds up to what is shared).
``choose`` records the choice and sets the case's funding total to the chosen price in the same transaction,
so the forms use the chosen scheme's figures.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from pathlib import Path
from typing import Any

from sqlmodel import Session, select

from eightstep.engine.cases import get_case, workflow_of
from eightstep.engine.recording import households_of, recording
from eightstep.errors import InputError, NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.records.funding import amendment, figures_of, load_agreed, load_funding
from eightstep.records.views import ENTRIES
from eightstep.rules.money import MAX_FEN, Figures, ShareTable, compute_shares, yuan, yuan_plain
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, show
from eightstep.workflow.schema import CostSharing

MAX_DURATION_DAYS = 3650
PAGE = "pages/schemes.html.j2"  # in the templates folder


def entry_of(text: str | None) -> str | None:
    if text is None or not text.strip():
        return None
    value = text.strip().lower().replace("-", "_")
    value = {"平层": "level", "平层入户": "level", "半层": "half_floor", "半层入户": "half_floor"}.get(value, value)
    if value not in ENTRIES:
        raise InputError(_("{text!r}: use level (平层入户) or half-floor (半层入户)").format(
                             text=text), field="entry")
    return value


def check_facts(load_kg: int | None, speed_cms: int | None, stops: int | None) -> None:
    """An elevator's rated load, speed and stops within what a residential elevator can be."""
    if load_kg is not None and not 100 <= load_kg <= 5000:
        raise InputError(_("{load}: the rated load in kg, 100 to 5000 (e.g. 800)").format(load=load_kg),
                         field="load_kg")
    if speed_cms is not None and not 10 <= speed_cms <= 1000:
        raise InputError(_("the rated speed in m/s, 0.10 to 10.00 (e.g. 1.0)"), field="speed_cms")
    if stops is not None and not 2 <= stops <= 100:
        raise InputError(_("{stops}: the landings served, 2 to 100").format(stops=stops), field="stops")


@dataclass(frozen=True)
class SchemeView:
    id: int
    company: str
    price: int  # fen
    entry: str | None
    duration_days: int | None
    note: str | None
    file_name: str | None
    file_sha256: str | None
    proposed_from: str | None
    share_rule: dict[str, Any] | None
    added_at: datetime
    chosen: bool = False
    chosen_at: datetime | None = None
    reason: str | None = None
    load_kg: int | None = None
    speed_cms: int | None = None
    stops: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "company": self.company, "price": yuan_plain(self.price), "entry": self.entry,
                "duration_days": self.duration_days, "note": self.note, "file": self.file_name,
                "sha256": self.file_sha256, "proposed_from": self.proposed_from, "share_rule": self.share_rule,
                "added_at": self.added_at, "chosen": self.chosen, "chosen_at": self.chosen_at, "reason": self.reason,
                "load_kg": self.load_kg, "speed_cms": self.speed_cms, "stops": self.stops}


def _view(row: models.Scheme, choice: models.SchemeChoice | None = None) -> SchemeView:
    chosen = choice is not None and choice.scheme_id == row.id
    return SchemeView(row.id or 0, row.company, row.price_fen, row.entry, row.duration_days, row.note,
                      row.file_name, row.file_sha256, row.proposed_from,
                      json.loads(row.share_rule) if row.share_rule else None, as_utc(row.added_at), chosen,
                      as_utc(choice.at) if chosen and choice else None, choice.reason if chosen and choice else None,
                      row.load_kg, row.speed_cms, row.stops)


def current_choice(session: Session, case_id: str) -> models.SchemeChoice | None:
    rows = session.exec(select(models.SchemeChoice).join(models.Scheme).where(
        models.SchemeChoice.case_id == case_id, models.not_voided(models.Scheme.__table__))).all()
    return max(rows, key=lambda c: (as_utc(c.at), c.id or 0)) if rows else None


def load_schemes(session: Session, case_id: str) -> list[SchemeView]:
    choice = current_choice(session, case_id)
    rows = session.exec(select(models.Scheme).where(models.Scheme.case_id == case_id,
                                                    models.not_voided(models.Scheme.__table__)).order_by(models.Scheme.id))
    return [_view(r, choice) for r in rows]


def add_scheme(ws: Workspace, case_id: str, *, company: str, price: int, entry: str | None = None,
               duration_days: int | None = None, note: str | None = None, file: Path | None = None,
               load_kg: int | None = None, speed_cms: int | None = None, stops: int | None = None,
               at: datetime | None = None, actor: str | None = None, as_role: str | None = None) -> SchemeView:
    """Record a company's scheme for the unit (price in fen; the elevator's rated load in kg, speed in cm/s and
    stops, which the agreement and the window's papers state); the proposal file is stored by content hash."""
    company = (company or "").strip()
    if not company:
        raise InputError(_("must name the elevator company"), field="company")
    if not 0 < price <= MAX_FEN:
        raise InputError(_("{price}: give the scheme's total price in yuan, more than 0").format(
                             price=yuan(price)), field="price")
    if duration_days is not None and not 0 < duration_days <= MAX_DURATION_DAYS:
        raise InputError(_("{duration_days}: the construction time in days, 1 to {max_duration_days}").format(
                             duration_days=duration_days, max_duration_days=MAX_DURATION_DAYS), field="duration")
    entry = entry_of(entry)
    check_facts(load_kg, speed_cms, stops)
    if file is not None and not file.is_file():
        raise InputError(_("{file}: no such file").format(file=file))
    with recording(ws, case_id, "scheme.add", at=at, actor=actor, as_role=as_role) as rec:
        digest = rec.store_file(file)[0] if file is not None else None
        row = rec.add(models.Scheme(case_id=case_id, company=company, price_fen=price, entry=entry,
                                    duration_days=duration_days, load_kg=load_kg, speed_cms=speed_cms, stops=stops,
                                    note=note.strip() if note and note.strip() else None,
                                    file_name=file.name if file else None, file_sha256=digest, added_at=rec.at),
                      with_id=True)
        rec.details = {"scheme": row.id, "company": company, "price": yuan_plain(price), "entry": entry,
                       "duration_days": duration_days, "load_kg": load_kg, "speed_cms": speed_cms, "stops": stops,
                       "file": row.file_name, "sha256": digest}
    return _view(row)


def choose(ws: Workspace, case_id: str, scheme_id: int, *, reason: str, at: datetime | None = None,
           actor: str | None = None, as_role: str | None = None, amend: str | None = None
           ) -> tuple[SchemeView, Figures]:
    """Record the owners' choice and set the case's funding total to its price (subsidy and the rest kept).

    Once the case has left the agreement stage (the owners signed the cost shares), a different choice is
    refused unless ``amend`` says why the signed agreement changes (recorded in the event).
    """
    if not reason or not reason.strip():
        raise InputError(_("is required: say why this scheme was chosen, for the record"), field="reason")
    with recording(ws, case_id, "scheme.choose", at=at, actor=actor, as_role=as_role) as rec:
        scheme = rec.session.get(models.Scheme, scheme_id)
        if scheme is None or scheme.case_id != case_id or scheme.voided_at is not None:
            raise NotFoundError(_("case {case} has no scheme #{scheme_id}").format(case=case_id, scheme_id=scheme_id),
                                remedy=Remedy("scheme.compare", {"case": case_id}))
        if rec.at < as_utc(scheme.added_at):
            raise InputError(_("choosing at {at} would be before scheme #{scheme_id} was presented ({added_at}); "
                               "check the date").format(at=show(rec.at), scheme_id=scheme_id,
                                                         added_at=show(scheme.added_at)),
                             field="at")
        before = current_choice(rec.session, case_id)
        funding = load_funding(rec.session, case_id)
        funding_before = figures_of(funding).as_dict() if funding else None
        if funding is None:
            funding = models.Funding(case_id=case_id, total_fen=scheme.price_fen, set_at=rec.at)
        funding.total_fen = scheme.price_fen
        funding.set_at = rec.at
        figures = figures_of(funding)  # refuses a subsidy and other money above the chosen price
        same = before is not None and before.scheme_id == scheme_id and figures.as_dict() == funding_before
        amended = amendment(rec.workflow, rec.case, "scheme choose", amend, changes=not same)
        rec.change(funding)
        choice = rec.add(models.SchemeChoice(case_id=case_id, scheme_id=scheme_id, reason=reason.strip(), at=rec.at,
                                             actor=rec.actor), with_id=True)
        rec.details = {"scheme": scheme_id, "company": scheme.company, "price": yuan_plain(scheme.price_fen),
                       "reason": choice.reason, "previous": before.scheme_id if before else None,
                       "funding": figures.as_dict(), "funding_before": funding_before,
                       **({"amend": amended} if amended is not None else {})}
    return _view(scheme, choice), figures


# --- comparison ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class Priced:
    scheme: SchemeView
    figures: Figures  # with the subsidy and other money (capped at the price)
    before: ShareTable  # the whole price shared
    after: ShareTable  # what is left after the subsidy and other money


@dataclass(frozen=True)
class Comparison:
    case_id: str
    method: str
    subsidy: int
    subsidy_source: str  # option | funding | none
    other: int
    priced: list[Priced]
    proposal_weights: bool  # shares by a rolled-out proposal's agreed table (the case has none of its own)

    def as_dict(self) -> dict[str, Any]:
        rows = self.priced[0].before.rows if self.priced else []
        households = []
        for i, row in enumerate(rows):
            households.append({"room": row.room, "floor": row.floor, "area": row.area, "owner": row.owner,
                               "exempt": row.exempt, "shares": {
                                   str(p.scheme.id): {"before": yuan_plain(p.before.rows[i].share),
                                                      "after": yuan_plain(p.after.rows[i].share)}
                                   for p in self.priced}})
        return {"case": self.case_id, "method": self.method, "subsidy": yuan_plain(self.subsidy),
                "subsidy_source": self.subsidy_source, "other": yuan_plain(self.other),
                "proposal_weights": self.proposal_weights,
                "schemes": [{**p.scheme.as_dict(), "figures": p.figures.as_dict(),
                             "total_before": yuan_plain(p.before.share_sum),
                             "total_after": yuan_plain(p.after.share_sum)} for p in self.priced],
                "households": households}


def _proposal_weights(schemes: list[SchemeView], rooms: set[str]) -> dict[str, Fraction] | None:
    """An agreed table carried from a pilot (by room), when it names exactly this unit's rooms."""
    for s in schemes:
        table = (s.share_rule or {}).get("agreed")
        if table and set(table) == rooms:
            return {room: Fraction(weight) for room, weight in table.items()}
    return None


def compare(ws: Workspace, case_id: str, *, subsidy: int | None = None) -> Comparison:
    """Every scheme of the case with each household's share, before and after the subsidy.

    The subsidy is ``subsidy`` (fen) if given, else the one recorded with the case's funding, else 0; other
    money recorded with the funding is deducted too. Neither is taken above a scheme's price.
    """
    with ws.session() as session:
        case = get_case(session, case_id)
        sharing: CostSharing = workflow_of(ws, session, case).definition.cost_sharing
        schemes = load_schemes(session, case_id)
        households = households_of(session, case_id)
        funding = load_funding(session, case_id)
        agreed, upkeep = load_agreed(session, case_id)
    if not schemes:
        raise InputError(_("case {case} has no schemes yet").format(case=case_id),
                         remedy=Remedy("scheme.add", {"case": case_id}))
    if not households:
        raise InputError(_("case {case} has no households yet").format(case=case_id),
                         remedy=Remedy("household.import", {"case": case_id}))
    source = "option" if subsidy is not None else ("funding" if funding and funding.subsidy_fen else "none")
    subsidy = subsidy if subsidy is not None else (funding.subsidy_fen if funding else 0)
    other = funding.other_fen if funding else 0
    from_proposal = None
    if sharing.method == "agreed_table" and not agreed:
        from_proposal = _proposal_weights(schemes, {h.room for h in households})
    priced = []
    for s in schemes:
        used = min(subsidy, s.price)
        figures = Figures(total=s.price, subsidy=used, other=min(other, s.price - used),
                          other_note=funding.other_note if funding else None)
        weights = agreed or from_proposal
        before = compute_shares(sharing, households, Figures(total=s.price), weights, upkeep or None)
        after = compute_shares(sharing, households, figures, weights, upkeep or None)
        priced.append(Priced(s, figures, before, after))
    return Comparison(case_id, sharing.method, subsidy, source, other, priced, from_proposal is not None)


def render_html(comparison: Comparison) -> str:
    """One self-contained page: the schemes and every household's share under each (inline CSS only)."""
    from eightstep.templating import TemplateEnvironment

    env = TemplateEnvironment(filters={"yuan": yuan}, none_shown=False)
    return env.render(PAGE, {"c": comparison, "entries": ENTRIES})
