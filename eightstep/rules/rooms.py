"""Room names in one spelling, so that one flat cannot count as two: "２０１", "201室" and "201 号" are flat 201.

Pure text rules (no database): the tables' room column (``records.cells.parse_room``) and every lookup of a room
by name (``engine.recording.find_household``) go through :func:`normal_room`.
"""

from __future__ import annotations

import re
import unicodedata

from eightstep.i18n import _

_ROOM_SUFFIX = re.compile(r"(?:室|号|号房|房)$")
MAX_ROOM = 40


def normal_room(text: str) -> str:
    """Full-width digits and letters become ASCII ("２０１" -> "201"), spaces go, and a trailing 室/号/房 is dropped
    ("201室" -> "201"). Leading zeros stay ("0201"): see :func:`room_warning`. ValueError for no room name."""
    room = _ROOM_SUFFIX.sub("", re.sub(r"\s+", "", unicodedata.normalize("NFKC", text)))
    if not room:
        raise ValueError(_("'{text}' is not a room name (e.g. 201 or 1-201)").format(text=text))
    if len(room) > MAX_ROOM or any(unicodedata.category(ch)[0] == "C" for ch in room):
        raise ValueError(_("'{text}' is not a room name: use at most {max_room} letters and digits without control "
                           "characters").format(text=text[:MAX_ROOM], max_room=MAX_ROOM))
    return room


def room_warning(room: str) -> str | None:
    """Why a room name may be a misspelling of another (leading zeros: "0201" may be the flat "201")."""
    if len(room) > 1 and room[0] == "0" and room[1:].isdigit():
        return _("room '{room}' has a leading zero: if it is flat {flat}, write it so").format(
            room=room, flat=room.lstrip("0") or "0")
    return None
