"""The owners of a unit: households imported from CSV/xlsx, listed with their current ballot."""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from eightstep.engine.ballots import current_ballots, title_names
from eightstep.engine.cases import get_case, load_records
from eightstep.engine.recording import recording
from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.records import tabular
from eightstep.store.workspace import Workspace

_NAME_SEPARATORS = re.compile(r"[、,，;；/／]+")
YES_NO = {"是": True, "yes": True, "y": True, "1": True, "true": True, "√": True,
          "否": False, "no": False, "n": False, "0": False, "false": False}


def parse_names(text: str) -> tuple[str, ...]:
    """Names separated by 、 , ; or /: the other co-owners on a flat's title."""
    names = tuple(dict.fromkeys(n.strip() for n in _NAME_SEPARATORS.split(text) if n.strip()))
    if not names:
        raise ValueError(_("names no one; write the other names on the title separated by 、, e.g. 李四、王五"))
    return names


def room_problems(room: str, where: str, case_id: str, rooms: Collection[str], seen: set[str]) -> list[str]:
    """What is wrong with the 'room' of a table's row at ``where`` (file:line): a room the case does not have, or
    one given on an earlier row (``seen``, to which it is added)."""
    problems = []
    if room not in rooms:
        problems.append(_("{where}: field 'room': case {case} has no room {room!r}").format(
            where=where, case=case_id, room=room))
    if room in seen:
        problems.append(_("{where}: field 'room': room {room!r} appears twice in the file").format(
            where=where, room=room))
    seen.add(room)
    return problems


def parse_yes_no(text: str) -> bool:
    value = YES_NO.get(text.strip().lower())
    if value is None:
        raise ValueError(_("{text!r}: write 是 or 否 (yes or no)").format(text=text))
    return value


HOUSEHOLD_COLUMNS = (
    tabular.Column("room", ("room", "房号", "室号", "房间号", "门牌号"), tabular.parse_room),
    tabular.Column("floor", ("floor", "楼层", "层"), tabular.parse_int_range(-5, 100)),
    tabular.Column("area", ("area", "面积", "建筑面积", "专有面积", "专有部分面积"), tabular.parse_decimal(2)),
    tabular.Column("owner", ("owner", "业主", "业主姓名", "姓名", "产权人"), tabular.parse_text),
    tabular.Column("owner_key", ("owner_key", "业主编号", "产权人编号", "owner id"), tabular.parse_text,
                   required=False),
    tabular.Column("phone", ("phone", "电话", "联系电话", "手机", "手机号"), tabular.parse_phone, required=False),
    tabular.Column("co_owners", ("co_owners", "共有人", "其他共有人", "其他产权人", "co-owners"), parse_names,
                   required=False, default=()),
    tabular.Column("affected", ("affected", "直接受影响", "受影响", "受影响住户"), parse_yes_no, required=False,
                   default=False),
)


def names_of(household: Any) -> list[str]:
    """Every name on the household's title: the owner, then the co-owners."""
    return list(title_names(household.owner, household.co_owners))


def area_centi(area: Decimal) -> int:
    return int((area * 100).to_integral_exact())


# --- households ------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class ImportResult:
    added: int
    updated: int
    warnings: list[str]


def import_households(ws: Workspace, case_id: str, path: Path, *, replace: bool = False,
                      actor: str | None = None, at: datetime | None = None,
                      as_role: str | None = None, progress: Callable[[str, int, int], None] | None = None
                      ) -> ImportResult:
    """Load the unit's owners from CSV/xlsx (header: room, floor, area, owner[, owner_key][, phone][, co_owners]
    [, affected]): ``co_owners`` the other names on a co-owned flat's title, ``affected`` 是/否 for a flat
    directly affected by the elevator.

    All rows are checked first; a bad row names its line and field and nothing is written. Rooms already
    recorded are refused unless ``replace`` (then they are updated in place; their ballots stay). A file of any
    size is read in bounded memory (``records.householdimport``), all or nothing.
    """
    from eightstep.records import householdimport as staged

    with recording(ws, case_id, "household.import", at=at, actor=actor, as_role=as_role) as rec:
        conn = rec.session.connection()
        with staged.staging(conn):
            room_warnings: list[str] = []
            rows = staged.stage_file(conn, path, HOUSEHOLD_COLUMNS, area_centi, room_warnings, progress)
            if not rows:
                raise InputError(_("{path}: no household rows below the header").format(path=path))
            updated = staged.check_rooms(conn, path, case_id, replace)
            warnings = staged.shared_names(conn) + room_warnings
            staged.write(rec, replace)
        added = rows - updated
        rec.details = {"file": path.name, "added": added, "updated": updated}
    return ImportResult(added, updated, warnings)


def list_households(ws: Workspace, case_id: str) -> list[dict[str, Any]]:
    with ws.session() as session:
        get_case(session, case_id)
        records = load_records(session, case_id)
    ballots = current_ballots(records.ballots, None, records.evidence_from)
    out = []
    for h in sorted(records.households, key=lambda h: (h.floor, h.room)):
        ballot = ballots.get(h.id or -1)
        out.append({"room": h.room, "floor": h.floor, "area": f"{h.area_centi / 100:.2f}", "owner": h.owner,
                    "co_owners": names_of(h)[1:], "affected": h.affected, "owner_key": h.owner_key, "phone": h.phone,
                    "vote": ballot.choice if ballot else None})
    return out
