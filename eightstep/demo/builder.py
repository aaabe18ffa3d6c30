"""The demo's builder: one library call per real-world step, with the input files a community office would have
(owner lists as CSV, scans as small text files), and the numbers of the papers (文号)."""

from __future__ import annotations

import csv
import io
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

from eightstep import engine, records
from eightstep.demo.people import (
    DISTRICT,
    OFFICER,
    PILOT,
    STREET,
    at,
    place_of,
    role_of,
    unit_flats,
)
from eightstep.records.rollout import rollout
from eightstep.records.schemes import SchemeView, load_schemes
from eightstep.store.workspace import Workspace

HEADER = ("房号", "楼层", "面积", "业主", "业主编号", "电话")


class Builder:
    """Writes the input files and records the story."""

    def __init__(self, ws: Workspace, folder: Path) -> None:
        self.ws = ws
        self.folder = folder
        self.calendar = ws.calendar
        self.titles = {k: v.title for k, v in ws.workflows.get("wuhan").definition.documents.items()}
        self.serial: Counter[str] = Counter()
        self.approval_numbers: set[tuple[int, int]] = set()

    # -- dates and numbers -------------------------------------------------------------------------------

    def wd(self, day: date, n: int = 0) -> date:
        """The n-th working day after ``day``; n=0: ``day`` itself if it is a working day, else the next one."""
        if n == 0:
            while not self.calendar.is_workday(day):
                day += timedelta(days=1)
            return day
        return self.calendar.add_working_days(day, n)

    def before(self, day: date, n: int) -> date:
        """The n-th working day before ``day``."""
        while n:
            day -= timedelta(days=1)
            if self.calendar.is_workday(day):
                n -= 1
        return day

    def number(self, series: str, year: int, start: int, fmt: str) -> str:
        """The next number of a series of 文号, e.g. 鄂特检监〔2025〕DT1036号."""
        key = f"{series}{year}"
        value = start + self.serial[key]
        self.serial[key] += 1
        return fmt.format(year=year, n=value)

    def approval_no(self, day: date) -> str:
        """The district bureau numbers its opinions through the year: about one every other day."""
        n = 20 + day.timetuple().tm_yday // 2
        while (day.year, n) in self.approval_numbers:
            n += 1
        self.approval_numbers.add((day.year, n))
        return f"江夏审批〔{day.year}〕{n}号"

    # -- records -----------------------------------------------------------------------------------------

    def open_unit(self, case_id: str, day: date, pilot: str | None = None) -> None:
        """A complex's first unit is opened on its own; the others by `complex rollout` from it (以点扩面)."""
        place, building, unit = place_of(case_id)
        if pilot is None:
            engine.open_case(self.ws, case_id, complex_name=place.complex, building=building, unit=unit,
                             at=at(day, "09:00"), actor=OFFICER, as_role="officer", district=DISTRICT,
                             street=STREET, community=place.community)
        else:
            rollout(self.ws, place.complex, from_case=pilot, units=[(building, unit)], at=at(day, "09:00"),
                    actor=OFFICER, as_role="officer")
        flats = unit_flats(case_id)
        folder = self.folder / "owners"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{case_id}-{building}栋{unit}单元业主名册.csv"
        buffer = io.StringIO()
        writer = csv.writer(buffer, lineterminator="\r\n")
        writer.writerow(HEADER)
        writer.writerows([f.room, f.floor, f.area, f.owner, f.owner_key, f.phone] for f in flats)
        # The pilot's list comes from the street office's Excel on Chinese Windows: GB18030. The others were
        # saved as "CSV UTF-8" (with a byte-order mark).
        path.write_bytes(buffer.getvalue().encode("gb18030" if case_id == PILOT else "utf-8-sig"))
        records.import_households(self.ws, case_id, path, actor=OFFICER, as_role="officer", at=at(day, "10:00"))

    def scan(self, case_id: str, day: date, title: str, lines: list[str]) -> Path:
        """A small text file standing for a scanned paper, in the case's input folder."""
        place, building, unit = place_of(case_id)
        folder = self.folder / "files-in" / case_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{day.isoformat()}-{title.replace('/', '、')}.txt"
        head = ["【扫描件占位 / stands for a scanned paper original】", f"文件：{title}",
                f"单元：{place.complex}{building}栋{unit}单元（{case_id}）", f"日期：{day.isoformat()}"]
        path.write_text("\n".join([*head, *lines, "本文件由 eightstep demo 生成，仅为演示。"]) + "\n", encoding="utf-8")
        return path

    def doc(self, case_id: str, kind: str, day: date, *, number: str | None = None, issuer: str | None = None,
            actor: str = OFFICER, hm: str = "10:00", text: str = "") -> None:
        lines = [f"种类：{kind}"] + ([f"文号：{number}"] if number else []) + ([f"出具：{issuer}"] if issuer else [])
        path = self.scan(case_id, day, self.titles[kind], lines + ([f"摘要：{text}"] if text else []))
        records.add_document(self.ws, case_id, kind, path, at=at(day, hm), number=number, issuer=issuer,
                             actor=actor, as_role=role_of(actor))

    def minutes(self, case_id: str, day: date, title: str, text: str) -> Path:
        return self.scan(case_id, day, title, [text])

    def approve(self, case_id: str, kind: str, authority: str, day: date, number: str, note: str | None = None
                ) -> None:
        records.add_approval(self.ws, case_id, kind, authority=authority, number=number, note=note,
                             at=at(day, "15:00"), actor=OFFICER, as_role="officer")

    def advance(self, case_id: str, day: date, note: str, actor: str = OFFICER) -> None:
        engine.advance(self.ws, case_id, at=at(day, "17:00"), actor=actor, as_role=role_of(actor), note=note)

    def ballots_csv(self, case_id: str, votes: list[tuple[str, str, date]]) -> None:
        """Ballots collected on paper, typed into a sheet by the volunteers, imported at once."""
        folder = self.folder / "files-in" / case_id
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "表决结果汇总.csv"
        rows = ["房号,表决意见,表决日期", *(f"{room},{choice},{day.isoformat()}" for room, choice, day in votes)]
        path.write_text("\n".join(rows) + "\n", encoding="utf-8")
        records.import_votes(self.ws, case_id, path, actor=OFFICER, as_role="officer")

    def schemes(self, case_id: str) -> list[SchemeView]:
        with self.ws.session() as session:
            return load_schemes(session, case_id)
