"""Ballots (one household's choice; a later one replaces an earlier one) and the consent tally."""

from __future__ import annotations

import json
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from eightstep.engine.ballots import current_ballots
from eightstep.engine.recording import Recording, households_of, recording, too_early
from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.records import tabular
from eightstep.records.households import names_of, parse_names, room_problems
from eightstep.records.tallying import consent_rule, vote_tally  # noqa: F401 (vote_tally: its old home)
from eightstep.rules.consent import AGREE, CHOICES
from eightstep.store import read, rows, tables
from eightstep.store.tables import not_voided
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, business_time, now_utc, parse_at

CHOICE_WORDS = {
    "agree": AGREE, "yes": AGREE, "同意": AGREE, "赞成": AGREE,
    "oppose": "oppose", "no": "oppose", "反对": "oppose", "不同意": "oppose",
    "abstain": "abstain", "弃权": "abstain",
}
VOTE_COLUMNS = (
    tabular.Column("room", ("room", "房号", "室号", "房间号", "门牌号"), tabular.parse_room),
    tabular.Column("choice", ("choice", "表决", "表决意见", "意见", "vote"), tabular.parse_choice(CHOICE_WORDS)),
    tabular.Column("at", ("at", "date", "日期", "时间", "表决日期"), tabular.parse_text, required=False),
    tabular.Column("signed_by", ("signed_by", "签字人", "签名", "签字"), parse_names, required=False, default=None),
)


BALLOTS = tables.ballots


def _signers(household: rows.Household, signed_by: tuple[str, ...] | None) -> str | None:
    """``signed_by`` as stored (JSON), each name checked against the flat's title."""
    if not signed_by:
        return None
    names = names_of(household)
    unknown = [n for n in signed_by if n not in names]
    if unknown:
        raise InputError(_("room {room}: {unknown} is not named on its title ({names}); give the names of the "
                           "owners who signed").format(room=household.room, unknown="、".join(unknown),
                                                      names="、".join(names)))
    return json.dumps(list(signed_by), ensure_ascii=False)


def _set_ballot(rec: Recording, household: rows.Household, choice: str, at: datetime,
                signed_by: tuple[str, ...] | None = None) -> str | None:
    """Add a ballot (earlier ones stay, so a tally as of an earlier date is still right); return the
    household's previous choice."""
    earlier = [rows.of(rows.Ballot, row) for row in rec.execute(select(BALLOTS).where(
        BALLOTS.c.household_id == household.id, not_voided(BALLOTS))).mappings()]
    before = current_ballots(earlier, None, rec.case.evidence_from).get(household.id or -1)
    rec.add(rows.Ballot(case_id=rec.case_id, household_id=household.id or 0, choice=choice, cast_at=at,
                          recorded_at=now_utc(), signed_by=_signers(household, signed_by)))
    return before.choice if before else None


def cast_vote(ws: Workspace, case_id: str, room: str, choice: str, *, at: datetime | None = None,
              actor: str | None = None, as_role: str | None = None,
              signed_by: tuple[str, ...] | None = None) -> str | None:
    """Record a household's ballot (a later ballot replaces an earlier one); returns the previous choice.
    ``signed_by``: the names on the flat's title that signed it (a co-owned flat)."""
    if choice not in CHOICES:
        raise InputError(_("choice {choice!r}: use agree, oppose or abstain").format(
                             choice=choice))
    with recording(ws, case_id, "vote.cast", at=at, actor=actor, as_role=as_role, core=True) as rec:
        before = _set_ballot(rec, rec.household(room), choice, rec.at, signed_by)
        rec.details = {"room": room, "choice": choice, "previous": before,
                       **({"signed_by": list(signed_by)} if signed_by else {})}
    return before


def import_votes(ws: Workspace, case_id: str, path: Path, *, at: datetime | None = None,
                 actor: str | None = None, as_role: str | None = None) -> int:
    """Record ballots from CSV/xlsx (header: room, choice[, at][, signed_by]); all rows checked before anything is
    written. ``signed_by``: the names on a co-owned flat's title that signed, separated by 、."""
    rows = tabular.read_table(path, VOTE_COLUMNS)
    default_at = business_time(at)
    problems: list[str] = []
    parsed: list[tuple[str, str, datetime, str]] = []
    with ws.engine.connect() as conn:
        read.case(conn, case_id, ("id",))
        rooms = {h.room for h in households_of(conn, case_id)}
    seen: set[str] = set()
    signers: dict[str, tuple[str, ...] | None] = {}
    for row in rows:
        room = row.values["room"]
        problems += room_problems(room, f"{path}:{row.line}", case_id, rooms, seen)
        when = default_at
        if row.values["at"]:
            try:
                when = parse_at(row.values["at"], field=f"{path}:{row.line}: field 'at'")
            except InputError as exc:
                problems.append(str(exc))
        parsed.append((room, row.values["choice"], when, f"{path}:{row.line}: field 'at'"))
        signers[room] = row.values["signed_by"]
    if problems:
        raise InputError("\n".join(problems))
    if not parsed:
        raise InputError(_("{path}: no ballot rows below the header").format(path=path))

    def dated(rec: Recording) -> None:
        early = [f"{where}: {problem}" for _, _, when, where in parsed
                 if (problem := too_early(rec.case, when)) is not None]
        if early:
            raise InputError("\n".join(early))

    with recording(ws, case_id, "vote.import", at=max(w for _, _, w, _ in parsed), actor=actor,
                   as_role=as_role, validate=dated, core=True) as rec:
        for room, choice, when, _where in parsed:
            _set_ballot(rec, rec.household(room), choice, when, signers[room])
        counts = {c: sum(1 for _, x, _, _ in parsed if x == c) for c in CHOICES}
        rec.details = {"file": path.name, "ballots": len(parsed), **counts}
    return len(parsed)


def consent_records(ws: Workspace, case_id: str) -> list[dict[str, Any]]:
    records = tables.consent_records
    with ws.engine.connect() as conn:
        found = conn.execute(select(records).where(records.c.case_id == case_id).order_by(records.c.id))
        return [{"stage": r.stage, "at": as_utc(r.at), "rule": json.loads(r.rule), "tally": json.loads(r.tally)}
                for r in found]
