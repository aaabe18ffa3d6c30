"""Working-day arithmetic on the Chinese statutory holiday calendar.

Stall limits and public-notice periods are counted in working days (工作日), which follow the State Council's
yearly holiday arrangement including the adjusted working weekends (调休上班). eightstep ships one data file per
known year in ``eightstep/rules/holidays/`` (each naming its source), so that a release can add a year without a
new calendar package; users add or correct years with their own ``<year>.yaml`` files (``holidays/`` beside the
database, ``--holidays``, ``$EIGHTSTEP_HOLIDAYS``), which take the place of the shipped file of that year.

A year with no data is counted with weekends only, and every date counted across it is **provisional**
(``provisional_years``): shown as such wherever it appears, until the State Council's arrangement is added. So is
a year whose file says ``provisional: true`` (an estimate made before the arrangement is published). A year that
neither eightstep nor the user has, but a newer ``chinesecalendar`` release knows, is taken from it.

The files themselves are read by ``eightstep.rules.holidaydata``: since the 2024 revision of
《全国年节及纪念日放假办法》 (in force 2025-01-01), 除夕 and 5月2日 are statutory holidays, and a file for 2025 or
later must list every statutory day of its year.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from datetime import date, datetime, timedelta
from pathlib import Path

from eightstep.i18n import _
from eightstep.rules.holidaydata import (
    HolidayDataError,
    YearData,
    load_year_file,
    read_year_file,
    statutory_days,
)

__all__ = ["PACKAGE_DIR", "HolidayDataError", "WorkCalendar", "YearData", "load_year_file", "statutory_days"]


PACKAGE_DIR = Path(__file__).with_name("holidays")


def _iter_data_files(data_dirs: Sequence[Path]) -> Iterator[Path]:
    for directory in data_dirs:
        directory = Path(directory)
        if not directory.is_dir():
            continue
        files = [p for p in directory.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file()]
        yield from sorted(files)


def _shipped_files(folder: Path) -> dict[int, Path]:
    return {int(p.stem): p for p in folder.glob("*.yaml") if p.stem.isdigit()}


def _calendar_package() -> str | None:
    """The installed chinesecalendar's name and version (None: not installed)."""
    from importlib.metadata import PackageNotFoundError, version  # ~20 ms: only for a year not shipped

    try:
        return f"chinesecalendar {version('chinesecalendar')}"
    except PackageNotFoundError:
        return None


def _from_calendar_package(year: int) -> YearData | None:
    """A year eightstep does not ship, from a newer chinesecalendar release when it knows the year."""
    package = _calendar_package()
    if package is None:
        return None
    from chinese_calendar import constants

    holidays = frozenset(d for d in constants.holidays if d.year == year)
    if not holidays:
        return None
    return YearData(year=year, holidays=holidays, workdays=frozenset(d for d in constants.workdays if d.year == year),
                    source=package, note=f"国务院办公厅关于{year}年部分节假日安排的通知（{package} 转录）")


# --------------------------------------------------------------------------- #
# Calendar
# --------------------------------------------------------------------------- #


class WorkCalendar:
    """Chinese statutory working-day calendar: the shipped years, with the user's files in their place."""

    def __init__(self, data_dirs: Sequence[Path] = (), *, shipped: Path = PACKAGE_DIR,
                 calendar_package: bool = True) -> None:
        """Read every ``*.yaml``/``*.yml`` in ``data_dirs`` now; the shipped years (``shipped``: the folder of
        eightstep's own files) when first needed; ``calendar_package``: take a year neither has from
        chinesecalendar when it knows it."""
        self.data_dirs: tuple[Path, ...] = tuple(Path(p) for p in data_dirs)
        self.warnings: list[str] = []
        self.user_years: dict[int, YearData] = {}
        self._package = _shipped_files(shipped)
        self._calendar_package = calendar_package
        self._loaded: dict[int, YearData | None] = {}
        self._fingerprint: str | None = None
        for path in _iter_data_files(self.data_dirs):
            data, year_line = read_year_file(path)
            previous = self.user_years.get(data.year)
            if previous is not None:
                raise HolidayDataError(path, _("year {year} is also defined in {source}; keep exactly one file per "
                                               "year").format(
                                                 year=data.year, source=previous.source), year_line)
            self.user_years[data.year] = data
            self._loaded[data.year] = data

    # -- lookup ------------------------------------------------------------ #

    def year_data(self, year: int, *, warn: bool = True) -> YearData | None:
        """The arrangement of ``year`` (a user's file, else the shipped one), or None: no data (warned once,
        unless ``warn`` is False)."""
        if year not in self._loaded:
            path = self._package.get(year)
            found = load_year_file(path) if path is not None else (
                _from_calendar_package(year) if self._calendar_package else None)
            if found is None and not warn:
                return None
            self._loaded[year] = found
            if found is None:
                where = ", ".join(str(p) for p in self.data_dirs) if self.data_dirs else "a holiday data directory"
                message = _("no holiday data for {year}: counting weekends only, and dates counted across {year} "
                            "are provisional; add a file {year}.yaml to {where} when the State Council publishes "
                            "the year's arrangement").format(year=year, where=where)
                self.warnings.append(message)
                import logging  # only for a year without data

                logging.getLogger(__name__).warning(message)
        return self._loaded[year]

    def is_workday(self, d: date) -> bool:
        """True if ``d`` is a working day (调休 weekends included, holidays excluded)."""
        if isinstance(d, datetime):
            d = d.date()
        elif not isinstance(d, date):
            raise TypeError(f"expected a date, got {type(d).__name__}")
        data = self.year_data(d.year)
        if data is None:
            return d.weekday() < 5
        if d in data.workdays:
            return True
        return d.weekday() < 5 and d not in data.holidays

    def provisional_years(self, start: date, end: date) -> list[int]:
        """The years from ``start`` to ``end`` (either order) without official data: a date counted across them
        is provisional."""
        first, last = sorted((start.year, end.year))
        out = []
        for year in range(first, last + 1):
            data = self.year_data(year)
            if data is None or data.provisional:
                out.append(year)
        return out

    @property
    def fingerprint(self) -> str:
        """A short hash of the holiday data counted with (the shipped files and the user's years)."""
        if self._fingerprint is None:
            digest = hashlib.sha256(str(self._calendar_package and _calendar_package()).encode())
            for year, path in sorted(self._package.items()):
                if year not in self.user_years:
                    digest.update(f"{year}:".encode() + hashlib.sha256(path.read_bytes()).digest())
            for year, data in sorted(self.user_years.items()):
                digest.update(f"{year}:{data.provisional}:{','.join(sorted(map(str, data.holidays)))}:"
                              f"{','.join(sorted(map(str, data.workdays)))};".encode())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint

    def covered_years(self) -> dict[int, str]:
        """Years with holiday data, mapped to the file they come from (shipped or the user's)."""
        found = {year: str(path) for year, path in self._package.items()}
        found.update({year: data.source for year, data in self.user_years.items()})
        return dict(sorted(found.items()))

    # -- arithmetic -------------------------------------------------------- #

    def add_working_days(self, start: date, n: int) -> date:
        """Date of the n-th working day strictly after ``start`` (``start`` not counted)."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        d = start
        remaining = n
        one = timedelta(days=1)
        while remaining:
            d += one
            if self.is_workday(d):
                remaining -= 1
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """Number of working days d with ``start < d <= end`` (0 if ``end <= start``)."""
        count = 0
        d = start
        one = timedelta(days=1)
        while d < end:
            d += one
            if self.is_workday(d):
                count += 1
        return count

    def add_days(self, start: date, n: int, working: bool) -> date:
        """Add ``n`` working days, or ``n`` calendar days when ``working`` is False."""
        if n < 0:
            raise ValueError(f"n must be >= 0, got {n}")
        if working:
            return self.add_working_days(start, n)
        return start + timedelta(days=n)

    def days_between(self, start: date, end: date, working: bool) -> int:
        """Days in ``(start, end]``: working days, or calendar days if not ``working``."""
        if working:
            return self.working_days_between(start, end)
        return max(0, (end - start).days)
