"""The tests' one way to walk a case to a stage through the library: open a unit, record what its stage requires,
advance; repeat until it stands where the test needs it.

Two styles of the same walk, both used by many tests:
- ``walk_to(ws, case, target, start)``: 12 flats (80 m² each, 9 for and 1 against), every record dated at the
  time of the step, 40 days between the stages that post a notice (every notice period) and one day otherwise;
- ``drive(ws, case, days, folder)``: a case opened on ``days[0]`` and advanced on each later day, its stage's needs
  recorded one minute after it entered the stage (3 flats, all for): the audit's and the overview's districts.

Times are business times in Asia/Shanghai, stored as UTC.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from eightstep import engine, records
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import LOCAL_TZ, local_midnight_utc
from eightstep.workflow.schema import Stage

CID = "RD-3-2"
COMPLEX = "人大小区"
AUTHORITY = "江夏区行政审批局"
ROOMS = [f"{floor}0{flat}" for floor in range(2, 8) for flat in (1, 2)]  # 12 flats, 80 m² each


def t(text: str) -> datetime:
    """A local (Asia/Shanghai) business time as aware UTC: '2025-03-01' or '2025-03-01 09:30'."""
    fmt = "%Y-%m-%d %H:%M" if " " in text else "%Y-%m-%d"
    return datetime.strptime(text, fmt).replace(tzinfo=LOCAL_TZ).astimezone(UTC)


T0 = t("2025-03-01 09:00")


def at(day: str, hour: int = 10) -> datetime:
    """``day`` at ``hour`` o'clock Asia/Shanghai, as UTC."""
    return local_midnight_utc(date.fromisoformat(day)) + timedelta(hours=hour)


# --------------------------------------------------------------------------- one record each


def open_unit(ws: Workspace, case_id: str = CID, *, building: str = "3", unit: str = "2", at: datetime = T0,
              workflow_id: str | None = None) -> engine.CaseView:
    return engine.open_case(ws, case_id, complex_name=COMPLEX, building=building, unit=unit, at=at,
                            workflow_id=workflow_id)


def add_households(ws: Workspace, case_id: str = CID, at: datetime = T0) -> None:
    path = Path.cwd() / f"households-{case_id}.csv"
    lines = ["room,floor,area,owner,owner_key"] + [f"{r},{r[0]},80.00,业主{r}," for r in ROOMS]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    records.import_households(ws, case_id, path, at=at)


def vote(ws: Workspace, case_id: str, at: datetime, agree: int, oppose: int = 0, abstain: int = 0) -> None:
    choices = ["agree"] * agree + ["oppose"] * oppose + ["abstain"] * abstain
    path = Path.cwd() / f"votes-{case_id}-{len(choices)}.csv"
    path.write_text("room,choice\n" + "".join(f"{r},{c}\n" for r, c in zip(ROOMS, choices, strict=False)),
                    encoding="utf-8")
    records.import_votes(ws, case_id, path, at=at)


def doc(ws: Workspace, case_id: str, kind: str, at: datetime) -> models.Document:
    path = Path.cwd() / f"{case_id}-{kind}-{at:%Y%m%d%H%M}.pdf"
    path.write_bytes(f"%PDF {case_id} {kind} {at.isoformat()}".encode())
    return records.add_document(ws, case_id, kind, path, at=at)


def approve(ws: Workspace, case_id: str, kind: str, at: datetime, *, rejected: bool = False,
            number: str | None = None) -> models.Approval:
    return records.add_approval(ws, case_id, kind, authority=AUTHORITY, rejected=rejected, at=at, number=number)


def current_stage(ws: Workspace, case_id: str) -> Stage:
    """The case's stage as defined by the workflow snapshot it was opened under."""
    with ws.session() as session:
        case = engine.get_case(session, case_id)
        return engine.workflow_of(ws, session, case).definition.stage(case.stage)


# --------------------------------------------------------------------------- walk_to: 12 flats


def satisfy(ws: Workspace, case_id: str, at: datetime) -> None:
    """Record everything the case's current stage requires (households, ballots, documents, approvals) at ``at``."""
    stage = current_stage(ws, case_id)
    if stage.requires.consent is not None:
        with ws.session() as session:
            has_households = bool(engine.load_records(session, case_id).households)
        if not has_households:
            add_households(ws, case_id, at)
        vote(ws, case_id, at, agree=9, oppose=1)
    for kind in stage.requires.documents:
        doc(ws, case_id, kind, at)
    for kind in stage.requires.approvals:
        approve(ws, case_id, kind, at)


def walk_to(ws: Workspace, case_id: str, target: str, start: datetime) -> datetime:
    """Advance the case stage by stage until it is in ``target``; returns the time it entered it."""
    at = start
    while (stage := current_stage(ws, case_id)).id != target:
        satisfy(ws, case_id, at)
        at += timedelta(days=40 if stage.requires.notice else 1)  # 40 days cover every notice period
        engine.advance(ws, case_id, at=at)
    return at


# --------------------------------------------------------------------------- drive: 3 flats, given days


def satisfy_on_entry(ws: Workspace, case_id: str, folder: Path) -> None:
    """Record what the case's current stage requires, dated one minute after it entered the stage."""
    view = engine.show_case(ws, case_id)
    req = current_stage(ws, case_id).requires
    when = view.stage_entered_at + timedelta(minutes=1)
    if req.consent is not None:
        csv_path = folder / f"{case_id}-households.csv"
        csv_path.write_text("room,floor,area,owner\n301,3,80.00,甲\n401,4,80.00,乙\n501,5,80.00,丙\n", "utf-8")
        records.import_households(ws, case_id, csv_path, at=when)
        for room in ("301", "401", "501"):
            records.cast_vote(ws, case_id, room, "agree", at=when)
    for kind in req.documents:
        path = folder / f"{case_id}-{kind}.txt"
        path.write_text(f"{case_id} {kind}", encoding="utf-8")
        records.add_document(ws, case_id, kind, path, at=when)
    for kind in req.approvals:
        records.add_approval(ws, case_id, kind, authority=AUTHORITY, at=when)


def drive(ws: Workspace, case_id: str, days: list[str], folder: Path, *, building: str | None = None,
          complex_name: str = COMPLEX, workflow: str | None = None) -> None:
    """Open the case on days[0] (in building ``building``, else one named like the case), then record its stage's
    needs and advance it on each later day."""
    engine.open_case(ws, case_id, complex_name=complex_name, building=building or case_id, unit="1",
                     workflow_id=workflow, at=at(days[0]))
    for day in days[1:]:
        satisfy_on_entry(ws, case_id, folder)
        engine.advance(ws, case_id, at=at(day))
