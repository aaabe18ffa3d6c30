"""``Blocker``: one thing that stands between a case and a move, as data (a message, a remedy); and the "time"
blocker of an advance dated before the case entered its stage. Apart from the guards (``engine.guards``, which
need the workflow schema) so that the moves that run no guard (suspend, resume, withdraw, return) import neither."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from eightstep.errors import Remedy
from eightstep.i18n import _
from eightstep.timeutil import as_utc, show


@dataclass(frozen=True)
class Blocker:
    """One thing that still stands between a case and the next stage."""

    type: str  # document | approval | consent | notice | objection | scheme | meeting | payment | status | time |
    # permission
    message: str
    kind: str | None = None
    authority: str | None = None
    id: int | None = None
    until: date | None = None
    remedy: Remedy | None = None  # what clears it (its ``case`` argument is the case checked)
    provisional: bool = False  # ``until`` was counted across a year without official holiday data

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"type": self.type}
        for key in ("kind", "authority", "id"):
            if getattr(self, key) is not None:
                data[key] = getattr(self, key)
        if self.until is not None:
            data["until"] = self.until.isoformat()
        if self.provisional:
            data["provisional"] = True
        data["message"] = self.message
        if self.remedy is not None:
            data["remedy"] = self.remedy.as_dict()
        return data


def before_the_stage(entered: datetime, at: datetime) -> Blocker | None:
    """A move dated before the case entered its stage: the same "time" blocker for one case (``case advance``)
    and for the bulk advance, so that both answer a wrong date alike."""
    if at >= as_utc(entered):
        return None
    return Blocker("time", _("advancing at {at} would be before the case entered its stage ({entered})").format(
        at=show(at), entered=show(entered)))
