"""Read-only views of records without the ORM, so that the forms (``paperwork``) import no model class: what the
register of a case shows of a role and its holder (``records.roles`` records them), and what a scheme's entry is
called (``records.schemes``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eightstep.roles import ONE, ROLES, SIDES, role_title
from eightstep.timeutil import as_utc

PARTY_ROLES = tuple(k for k, v in ROLES.items() if v.holders == ONE)  # who `forms party` names
ENTRIES: dict[str, tuple[str, str]] = {"level": ("平层入户", "level entry"),
                                       "half_floor": ("半层入户", "half-floor entry")}  # a scheme's entry


@dataclass(frozen=True)
class RoleView:
    """A role held by someone of the register, with how to reach them (what the forms name)."""

    id: int
    role: str
    name: str
    room: str | None
    side: str | None
    phone: str | None
    note: str | None
    since: datetime
    id_number: str | None = None
    address: str | None = None
    until: datetime | None = None

    @property
    def title(self) -> str:
        title = role_title(self.role)
        return f"{title}（{SIDES[self.side][0]}）" if self.side in SIDES else title

    @property
    def role_title(self) -> str:
        return role_title(self.role)

    def held_at(self, when: datetime) -> bool:
        return as_utc(self.since) <= when and (self.until is None or as_utc(self.until) > when)

    def as_dict(self) -> dict[str, Any]:
        return {"id": self.id, "role": self.role, "title": self.title, "name": self.name, "room": self.room,
                "side": self.side, "phone": self.phone, "id_number": self.id_number, "address": self.address,
                "note": self.note, "since": self.since, "until": self.until}


def view(role: Any, person: Any) -> RoleView:
    """A ``case_roles`` row with its ``case_people`` row (ORM objects or Core rows). Its term ends when it passed to
    another holder (``until``) or was ended by a correction (``voided_at``, ``role.end``), whichever came first."""
    ends = [as_utc(t) for t in (role.until, getattr(role, "voided_at", None)) if t is not None]
    return RoleView(role.id or 0, role.role, person.name, role.room, role.side, person.phone, role.note,
                    as_utc(role.since), person.id_number, person.address, min(ends) if ends else None)
