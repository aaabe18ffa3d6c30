"""Working-day arithmetic on the Chinese statutory holiday calendar.

Stall limits and public-notice periods are counted in working days (工作日),
which follow the State Council's yearly holiday arrangement including the
adjusted working weekends (调休上班).  The package data comes from
``chinesecalendar``; users can supply other years (or corrections) as YAML
files.  A year with no data at all falls back to "weekends only" and records a
warning once for that year.
"""

from __future__ import annotations

import difflib
import hashlib
import logging
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any

from chinese_calendar import constants as _cc_constants
from ruamel.yaml import YAML
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from eightstep.errors import InputError

__all__ = ["HolidayDataError", "WorkCalendar", "YearData", "load_year_file"]

_log = logging.getLogger(__name__)

KNOWN_KEYS: tuple[str, ...] = ("year", "source", "holidays", "workdays")
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_RANGE_SEP = ".."


def _package_source() -> str:
    try:
        return f"chinesecalendar {version('chinesecalendar')}"
    except PackageNotFoundError:  # pragma: no cover - depends on installation
        return "chinesecalendar"


class HolidayDataError(InputError, ValueError):
    """A user holiday data file is invalid; the message says where and what to do.

    Message form: ``path:line: what is wrong; what to do`` (``path: ...`` when no line is known).
    """

    def __init__(self, path: Path | str, message: str, line: int | None = None) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = message
        where = f"{path}:{line}" if line is not None else f"{path}"
        super().__init__(f"{where}: {message}")


@dataclass(frozen=True)
class YearData:
    """Holiday arrangement of one year supplied by a user data file."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str  # the file the data was read from
    note: str = ""  # free-text ``source:`` field of the file, if any


# --------------------------------------------------------------------------- #
# User data files
# --------------------------------------------------------------------------- #


class _DatesAsTextConstructor(RoundTripConstructor):
    """Round-trip constructor that keeps YAML timestamps as text.

    ruamel would turn ``2027-01-01`` into a ``date`` itself, but raises a bare ``ValueError`` (no line)
    for ``2027-02-30``; keeping the text lets us validate every date with its line number.
    """


_DatesAsTextConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp",
    lambda constructor, node: constructor.construct_scalar(node),
)


def _key_line(mapping: Any, key: str) -> int | None:
    """1-based line of ``key`` in a ruamel round-trip mapping, if known."""
    try:
        return int(mapping.lc.key(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return None


def _value_line(mapping: Any, key: str) -> int | None:
    try:
        return int(mapping.lc.value(key)[0]) + 1
    except (AttributeError, KeyError, TypeError):
        return _key_line(mapping, key)


def _item_line(seq: Any, index: int) -> int | None:
    try:
        return int(seq.lc.item(index)[0]) + 1
    except (AttributeError, KeyError, IndexError, TypeError):
        return None


def _describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, (str, int, float, date)):
        return repr(value)
    return type(value).__name__


def _parse_one_date(text: str) -> date | None:
    m = _DATE_RE.match(text.strip())
    if not m:
        return None
    try:
        return date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
    except ValueError:
        return None


def _parse_entry(path: Path, item: Any, line: int | None) -> list[date]:
    """Turn one list entry (date, ``YYYY-MM-DD`` or ``A..B``) into dates."""
    if isinstance(item, datetime):
        raise HolidayDataError(
            path,
            f"{item!r} is a timestamp, expected a date; write it as YYYY-MM-DD",
            line,
        )
    if isinstance(item, date):
        return [item]
    if not isinstance(item, str):
        raise HolidayDataError(
            path,
            f"expected a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD), got {item!r}",
            line,
        )
    text = item.strip()
    if _RANGE_SEP in text:
        parts = text.split(_RANGE_SEP)
        if len(parts) != 2:
            raise HolidayDataError(
                path,
                f"malformed range {item!r}; write it as YYYY-MM-DD..YYYY-MM-DD",
                line,
            )
        first, last = _parse_one_date(parts[0]), _parse_one_date(parts[1])
        if first is None or last is None:
            raise HolidayDataError(
                path,
                f"malformed range {item!r}; both ends must be valid dates, e.g. 2027-10-01..2027-10-07",
                line,
            )
        if first > last:
            raise HolidayDataError(
                path,
                f"range {item!r} starts after it ends; swap the two dates",
                line,
            )
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]
    single = _parse_one_date(text)
    if single is None:
        raise HolidayDataError(
            path,
            f"malformed date {item!r}; write it as YYYY-MM-DD, e.g. 2027-01-01",
            line,
        )
    return [single]


def _parse_date_list(path: Path, mapping: Any, key: str, year: int) -> dict[date, int | None]:
    """Dates listed under ``key`` with the line each came from."""
    value = mapping.get(key)
    if value is None:
        return {}
    if not isinstance(value, list):
        raise HolidayDataError(
            path,
            f"'{key}' must be a list of dates or ranges, got {_describe(value)}; "
            f"write it as '{key}:' followed by lines '  - YYYY-MM-DD'",
            _value_line(mapping, key),
        )
    result: dict[date, int | None] = {}
    for index, item in enumerate(value):
        line = _item_line(value, index)
        if line is None:
            line = _key_line(mapping, key)
        for d in _parse_entry(path, item, line):
            if d.year != year:
                raise HolidayDataError(
                    path,
                    f"{d.isoformat()} in '{key}' is not in year {year}; "
                    f"move it to the file for {d.year} or fix the date",
                    line,
                )
            result.setdefault(d, line)
    return result


def load_year_file(path: Path) -> YearData:
    """Read and strictly validate one user holiday data file."""
    return _load_year_file(Path(path))[0]


def _load_year_file(path: Path) -> tuple[YearData, int | None]:
    """Like :func:`load_year_file`, also returning the line of ``year:``."""
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise HolidayDataError(path, f"file is not valid UTF-8 ({exc}); save it as UTF-8") from exc
    except OSError as exc:
        raise HolidayDataError(path, f"cannot read file: {exc.strerror or exc}") from exc

    yaml = YAML(typ="rt")
    yaml.Constructor = _DatesAsTextConstructor
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        raise HolidayDataError(path, f"invalid YAML: {problem}; fix the file syntax", line) from exc
    except YAMLError as exc:
        raise HolidayDataError(path, f"invalid YAML: {exc}; fix the file syntax") from exc

    if data is None:
        raise HolidayDataError(path, "file is empty; it needs at least 'year:' and 'holidays:'", 1)
    if not isinstance(data, dict):
        raise HolidayDataError(
            path,
            f"top level must be a mapping with keys {', '.join(KNOWN_KEYS)}, got {_describe(data)}",
            1,
        )

    for key in data:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
            hint = f"did you mean '{close[0]}'?" if close else f"allowed keys are {', '.join(KNOWN_KEYS)}"
            raise HolidayDataError(path, f"unknown key '{key}'; {hint}", _key_line(data, key))

    if "year" not in data:
        raise HolidayDataError(path, "missing 'year:'; add e.g. 'year: 2027' at the top", 1)
    year = data["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
        raise HolidayDataError(
            path,
            f"'year' must be an integer such as 2027, got {year!r}",
            _key_line(data, "year"),
        )

    note = data.get("source")
    if note is None:
        note = ""
    elif not isinstance(note, str):
        raise HolidayDataError(
            path,
            f"'source' must be text, got {note!r}; quote it",
            _key_line(data, "source"),
        )

    holidays = _parse_date_list(path, data, "holidays", year)
    workdays = _parse_date_list(path, data, "workdays", year)

    for d, line in sorted(workdays.items()):
        if d in holidays:
            raise HolidayDataError(
                path,
                f"{d.isoformat()} is listed in both 'holidays' (line {holidays[d]}) "
                "and 'workdays'; keep it in one list only",
                line,
            )
        if d.weekday() < 5:
            raise HolidayDataError(
                path,
                f"{d.isoformat()} in 'workdays' is a weekday; 'workdays' lists only "
                "weekend days that are working days (调休上班); remove it",
                line,
            )

    year_data = YearData(
        year=year,
        holidays=frozenset(holidays),
        workdays=frozenset(workdays),
        source=str(path),
        note=str(note).strip(),
    )
    return year_data, _key_line(data, "year")


def _iter_data_files(data_dirs: Sequence[Path]) -> Iterator[Path]:
    for directory in data_dirs:
        directory = Path(directory)
        if not directory.is_dir():
            continue
        files = [p for p in directory.iterdir() if p.suffix.lower() in (".yaml", ".yml") and p.is_file()]
        yield from sorted(files)


# --------------------------------------------------------------------------- #
# Calendar
# --------------------------------------------------------------------------- #


_YearSets = tuple[frozenset[date], frozenset[date]]


def _package_years() -> dict[int, _YearSets]:
    holidays: dict[int, set[date]] = {}
    workdays: dict[int, set[date]] = {}
    for d in _cc_constants.holidays:
        holidays.setdefault(d.year, set()).add(d)
    for d in _cc_constants.workdays:
        workdays.setdefault(d.year, set()).add(d)
    years = range(min(holidays), max(holidays) + 1)
    return {y: (frozenset(holidays.get(y, ())), frozenset(workdays.get(y, ()))) for y in years}


class WorkCalendar:
    """Chinese statutory working-day calendar with user-supplied years."""

    def __init__(self, data_dirs: Sequence[Path] = ()) -> None:
        """Load package data, then every ``*.yaml``/``*.yml`` in ``data_dirs``."""
        self.data_dirs: tuple[Path, ...] = tuple(Path(p) for p in data_dirs)
        self.warnings: list[str] = []
        self.user_years: dict[int, YearData] = {}
        package_source = _package_source()
        self._years: dict[int, _YearSets] = _package_years()
        self._sources: dict[int, str] = {y: package_source for y in self._years}
        self._missing: set[int] = set()
        self._fingerprint: str | None = None

        for path in _iter_data_files(self.data_dirs):
            data, year_line = _load_year_file(path)
            previous = self.user_years.get(data.year)
            if previous is not None:
                raise HolidayDataError(
                    path,
                    f"year {data.year} is also defined in {previous.source}; keep exactly one file per year",
                    year_line,
                )
            self.user_years[data.year] = data
            self._years[data.year] = (data.holidays, data.workdays)
            self._sources[data.year] = data.source

    # -- lookup ------------------------------------------------------------ #

    def _year_sets(self, year: int) -> _YearSets | None:
        sets = self._years.get(year)
        if sets is None and year not in self._missing:
            self._missing.add(year)
            where = ", ".join(str(p) for p in self.data_dirs) if self.data_dirs else "a holiday data directory"
            message = (
                f"{year}年无法定节假日数据，按仅周末休息计算 / no holiday data for "
                f"{year}: counting weekends only; add a file {year}.yaml to {where}"
            )
            self.warnings.append(message)
            _log.warning(message)
        return sets

    def is_workday(self, d: date) -> bool:
        """True if ``d`` is a working day (调休 weekends included, holidays excluded)."""
        if isinstance(d, datetime):
            d = d.date()
        elif not isinstance(d, date):
            raise TypeError(f"expected a date, got {type(d).__name__}")
        sets = self._year_sets(d.year)
        if sets is None:
            return d.weekday() < 5
        holidays, workdays = sets
        if d in workdays:
            return True
        return d.weekday() < 5 and d not in holidays

    @property
    def fingerprint(self) -> str:
        """A short hash of every year's holidays and adjusted working days: it changes with the data counted."""
        if self._fingerprint is None:
            digest = hashlib.sha256()
            for year in sorted(self._years):
                holidays, workdays = self._years[year]
                digest.update(f"{year}:{','.join(sorted(map(str, holidays)))}:"
                              f"{','.join(sorted(map(str, workdays)))};".encode())
            self._fingerprint = digest.hexdigest()[:16]
        return self._fingerprint

    def covered_years(self) -> dict[int, str]:
        """Years with holiday data, mapped to their source (package or file path)."""
        return dict(sorted(self._sources.items()))

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
