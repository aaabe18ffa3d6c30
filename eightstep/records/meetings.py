"""Meetings of a case on record (退): who attended and what was decided. A workflow stage may require a meeting
that decided a kind of thing (``requires.meetings``), e.g. the negotiation group's cost shares before the
agreement is signed."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import select

from eightstep.engine.guards import MEETING_KINDS
from eightstep.engine.recording import recording
from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.store import read, rows, tables
from eightstep.store.tables import not_voided
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, now_utc

_SEPARATORS = re.compile(r"[,，、;；]")


def split_names(values: list[str]) -> list[str]:
    """Attendees given as one list ("李建国,周桂兰" or "李建国、周桂兰") or one by one; blanks and repeats dropped."""
    names = [n.strip() for value in values for n in _SEPARATORS.split(value)]
    return list(dict.fromkeys(n for n in names if n))


@dataclass(frozen=True)
class MeetingView:
    id: int
    kinds: list[str]
    held_at: datetime
    attendees: list[str]
    decision: str
    file_name: str | None
    file_sha256: str | None
    actor: str

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "kinds": self.kinds, "held_at": self.held_at, "attendees": self.attendees,
                "decision": self.decision, "file": self.file_name, "sha256": self.file_sha256, "actor": self.actor}


def _view(row: Any) -> MeetingView:
    return MeetingView(row.id or 0, row.kinds.split(","), as_utc(row.held_at), json.loads(row.attendees),
                       row.decision, row.file_name, row.file_sha256, row.actor)


def add_meeting(ws: Workspace, case_id: str, *, at: datetime | None, attendees: list[str], decision: str,
                kinds: list[str] | None = None, file: Path | None = None, actor: str | None = None,
                as_role: str | None = None) -> MeetingView:
    """Record a meeting held at ``at`` and its decision; the minutes file is stored by content hash."""
    if at is None:
        raise InputError(_("is required: when was the meeting held?"), field="at")
    names = split_names(attendees)
    if not names:
        raise InputError(_("name who attended (e.g. 李建国,周桂兰,王敏)"), field="attendees")
    if not decision or not decision.strip():
        raise InputError(_("must say what was decided"), field="decision")
    kinds = list(dict.fromkeys(kinds or ["other"]))
    unknown = [k for k in kinds if k not in MEETING_KINDS]
    if unknown:
        raise InputError(_("{unknown}: use {meeting_kinds}").format(
                             unknown=', '.join(unknown), meeting_kinds=', '.join(MEETING_KINDS)), field="kind")
    if file is not None and not file.is_file():
        raise InputError(_("{file}: no such file").format(file=file))
    with recording(ws, case_id, "meeting.add", at=at, actor=actor, as_role=as_role, core=True) as rec:
        digest = rec.store_file(file)[0] if file is not None else None
        row = rec.add(rows.Meeting(case_id=case_id, kinds=",".join(kinds), held_at=rec.at,
                                   attendees=json.dumps(names, ensure_ascii=False), decision=decision.strip(),
                                   file_name=file.name if file else None, file_sha256=digest, actor=rec.actor,
                                   recorded_at=now_utc()), with_id=True)
        rec.details = {"meeting": row.id, "kinds": kinds, "attendees": names, "decision": row.decision,
                       "file": row.file_name, "sha256": digest}
    return _view(row)


def list_meetings(ws: Workspace, case_id: str) -> list[MeetingView]:
    meetings = tables.meetings
    with ws.engine.connect() as conn:
        read.case(conn, case_id, ("id",))
        found = conn.execute(select(meetings).where(meetings.c.case_id == case_id, not_voided(meetings))
                             .order_by(meetings.c.held_at, meetings.c.id)).all()
    return [_view(r) for r in found]
