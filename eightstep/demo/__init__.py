"""`eightstep demo`: the story of 人大小区 (河头社区, 纸坊街道, 江夏区), built through the library API only.

Four 7-storey buildings with two stairwell units each: eight cases, RD-1-1 ... RD-4-2. The pilot 3栋2单元 (RD-3-2)
goes through all eight stages in 2025 with the community's method on record (``pilot``); the other seven follow
it (以点扩面, ``renda``), and by the story's end (``END``, about a year after the pilot's vote) six elevators run
and two are at acceptance, as the seed reports. A second, smaller complex, 桥头小区 (``qiaotou``), has what the
audit should show: a subsidy unpaid, a unit held by an objection, a notice still running.

Owner lists are written as real CSV files (one in GB18030, as Excel on Chinese Windows saves it) and imported;
documents are small text files standing for scans. Every move passes the real guards. Everything is
deterministic except the recorded-at timestamps; business dates run up to ``END``.
"""

from __future__ import annotations

from pathlib import Path

from eightstep.demo.builder import Builder
from eightstep.demo.people import END, HELD, OFFICER, PILOT, PILOT_REP, RENDA, RUNNING, SECOND_PILOT
from eightstep.store.outputs import Protected, own_folder
from eightstep.store.workspace import Workspace

__all__ = ["CASES", "END", "HELD", "OFFICER", "PILOT", "PILOT_REP", "RENDA", "RUNNING", "SECOND_PILOT", "Builder",
           "build_demo", "tell"]

CASES = (*(f"RD-{b}-{u}" for b in range(1, 5) for u in (1, 2)), "QT-1-1", "QT-1-2", "QT-2-1")


def tell(builder: Builder) -> None:
    """Record the whole story through ``builder`` (its workspace and input folder)."""
    from eightstep.demo import pilot, qiaotou, renda

    units = [*qiaotou.story(builder), pilot.story(builder), *renda.story(builder)]
    for unit in units:  # what happens in operation, in date order per case
        unit.finish()


def build_demo(folder: Path, protected: Protected | None = None) -> Workspace:
    """Create ``folder`` (new, or an empty folder; its parent must exist) with a database holding the story;
    returns the open workspace. ``protected``: paths the folder must not be (another database's files). On failure
    what was created is removed again."""
    folder = Path(folder)
    owned = own_folder(folder, protected or Protected((), ()))
    ws: Workspace | None = None
    try:
        (folder / "owners").mkdir()
        ws, _new = Workspace.init(str(folder / "eightstep.db"))
        tell(Builder(ws, folder))
    except BaseException:
        if ws is not None:
            ws.dispose()
        owned.remove()
        raise
    return ws
