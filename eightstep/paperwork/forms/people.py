"""The named people and organisations a form prints, and the elevator the owners chose: each required field
either comes from the records or becomes a gap with what fills it."""

from __future__ import annotations

from dataclasses import dataclass

from eightstep.i18n import _
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.needs import Needs
from eightstep.paperwork.parties import Party
from eightstep.records.views import ENTRIES, PARTY_ROLES
from eightstep.roles import role_title

FIELD_TITLES = {"phone": "phone", "id_number": "ID number", "address": "address"}
OPTIONS = {"phone": "phone", "id_number": "id-number", "address": "address"}  # the option of ``role contact``


def party_needed(needs: Needs, data: CaseData, role: str, *fields: str) -> Party | None:
    """Who the form names in ``role`` with ``fields`` recorded; each one missing is a gap."""
    found = data.party(role)
    action = "forms.party" if role in PARTY_ROLES else "role.add"
    if found is None:
        needs.add(_("{title} ({role}) is not named").format(title=role_title(role), role=role), action, role=role)
        return None
    for name in fields:
        if not getattr(found, name):
            needs.add(_("{title} {name}: no {field} on record").format(
                title=role_title(role), name=found.name, field=FIELD_TITLES[name]),
                "role.contact", name=found.name, field=OPTIONS[name])
    return found


@dataclass(frozen=True)
class Elevator:
    """The elevator as the chosen scheme describes it."""

    company: str
    price: int  # fen
    entry: str | None  # 平层入户 | 半层入户
    load_kg: int | None
    speed: str | None  # m/s, as written
    stops: int | None
    duration_days: int | None


def elevator(data: CaseData) -> Elevator | None:
    """The chosen scheme's elevator by the form's date (None: no scheme chosen yet)."""
    s = data.chosen_scheme
    if s is None:
        return None
    speed = f"{s.speed_cms // 100}.{s.speed_cms % 100:02d}" if s.speed_cms is not None else None
    return Elevator(s.company, s.price_fen, ENTRIES[s.entry][0] if s.entry in ENTRIES else None, s.load_kg, speed,
                    s.stops, s.duration_days)


def elevator_needed(needs: Needs, data: CaseData) -> Elevator | None:
    """The chosen elevator with its installer, entry, load, speed and stops; each one missing is a gap."""
    found = elevator(data)
    if found is None:
        needs.add(_("no elevator scheme is chosen: the form states the installer, entry, load, speed and stops of "
                    "the chosen scheme"), "scheme.choose")
        return None
    lacking = [what for value, what in ((found.entry, "entry (level or half-floor)"), (found.load_kg, "load"),
                                        (found.speed, "speed"), (found.stops, "stops")) if value is None]
    if lacking:
        needs.add(_("the chosen scheme of {company} does not give the elevator's {facts}").format(
            company=found.company, facts=", ".join(lacking)), "scheme.add", company=found.company)
    return found

