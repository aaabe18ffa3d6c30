"""Holiday data files: one year of the State Council's arrangement (holidays and adjusted working weekends),
read strictly with every problem reported at once (file and line), and the statutory days that every year's
arrangement must give since the 2024 revision of 《全国年节及纪念日放假办法》 (国务院令第795号, in force 2025-01-01).
"""

from __future__ import annotations

import difflib
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

from eightstep.errors import InputError
from eightstep.i18n import _

__all__ = ["STATUTORY_FROM", "HolidayDataError", "YearData", "load_year_file", "statutory_days"]

KNOWN_KEYS: tuple[str, ...] = ("year", "source", "provisional", "holidays", "workdays")
_DATE_RE = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})$")
_RANGE_SEP = ".."

# 全国年节及纪念日放假办法 as revised by 国务院令第795号 (in force 2025-01-01): the statutory days of every year from
# 2025 on. 春节 (除夕 to 初三) follows the lunar calendar: the first day of each lunar year is listed here (public
# almanac dates); years beyond the table are checked for their fixed-date days only. 清明, 端午 and 中秋 move with
# the solar terms and the lunar calendar and are not checked.
STATUTORY_FROM = 2025
LUNAR_NEW_YEAR = {2025: date(2025, 1, 29), 2026: date(2026, 2, 17), 2027: date(2027, 2, 6), 2028: date(2028, 1, 26),
                  2029: date(2029, 2, 13), 2030: date(2030, 2, 3)}
_FIXED_STATUTORY = (((1, 1), "元旦"), ((5, 1), "劳动节"), ((5, 2), "劳动节"), ((10, 1), "国庆节"), ((10, 2), "国庆节"),
                    ((10, 3), "国庆节"))
_SPRING_NAMES = ("除夕", "春节（初一）", "春节（初二）", "春节（初三）")


def statutory_days(year: int) -> dict[date, str]:
    """The statutory holidays of ``year`` that any arrangement must give (from 2025; empty before)."""
    if year < STATUTORY_FROM:
        return {}
    days = {date(year, m, d): name for (m, d), name in _FIXED_STATUTORY}
    new_year = LUNAR_NEW_YEAR.get(year)
    if new_year is not None:
        for offset, name in zip(range(-1, 3), _SPRING_NAMES, strict=True):
            days[new_year + timedelta(days=offset)] = name
    return dict(sorted(days.items()))


class HolidayDataError(InputError, ValueError):
    """A holiday data file is invalid; the message says where and what to do.

    Message form: ``path:line: what is wrong; what to do`` (``path: ...`` when no line is known); with several
    problems, one such line each (``problems``), the first one's ``line`` and ``reason`` kept on the error.
    """

    def __init__(self, path: Path | str, message: str, line: int | None = None,
                 more: Sequence[tuple[int | None, str]] = ()) -> None:
        self.path = Path(path)
        self.line = line
        self.reason = message
        self.problems = [_where(path, at) + f": {text}" for at, text in [(line, message), *more]]
        super().__init__("\n".join(self.problems))


def _where(path: Path | str, line: int | None) -> str:
    return f"{path}:{line}" if line is not None else f"{path}"


@dataclass(frozen=True)
class YearData:
    """The holiday arrangement of one year, read from a data file."""

    year: int
    holidays: frozenset[date]
    workdays: frozenset[date]
    source: str  # the file the data was read from
    note: str = ""  # the file's ``source:`` text: where the arrangement comes from
    provisional: bool = False  # an estimate made before the State Council's arrangement is published


class _Problems:
    """The problems of one file, reported all at once (in the order of the file)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.found: list[tuple[int | None, str]] = []

    def add(self, message: str, line: int | None) -> None:
        self.found.append((line, message))

    def raise_any(self) -> None:
        if self.found:
            ordered = sorted(self.found, key=lambda p: p[0] or 0)
            (line, message), *more = ordered
            raise HolidayDataError(self.path, message, line, more)


# --------------------------------------------------------------------------- #
# Data files
# --------------------------------------------------------------------------- #


@lru_cache(maxsize=1)
def _dates_as_text() -> type:
    """A round-trip constructor that keeps YAML timestamps as text.

    ruamel would turn ``2027-01-01`` into a ``date`` itself, but raises a bare ``ValueError`` (no line)
    for ``2027-02-30``; keeping the text lets us validate every date with its line number. Built on first use:
    ruamel.yaml is imported only when a holiday file is read, not by every command that opens a workspace.
    """
    from ruamel.yaml.constructor import RoundTripConstructor

    class DatesAsTextConstructor(RoundTripConstructor):
        pass

    DatesAsTextConstructor.add_constructor("tag:yaml.org,2002:timestamp",
                                           lambda constructor, node: constructor.construct_scalar(node))
    return DatesAsTextConstructor


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


def _parse_entry(item: Any) -> list[date]:
    """One list entry (date, ``YYYY-MM-DD`` or ``A..B``) as dates; ValueError saying what is wrong."""
    if isinstance(item, date) and not isinstance(item, datetime):
        return [item]
    if not isinstance(item, str):
        raise ValueError(_("expected a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD), got {item!r}").format(
                             item=item))
    text = item.strip()
    if _RANGE_SEP not in text:
        single = _parse_one_date(text)
        if single is None:
            raise ValueError(_("malformed date {item!r}; write it as YYYY-MM-DD, e.g. 2027-01-01").format(
                                 item=item))
        return [single]
    parts = text.split(_RANGE_SEP)
    if len(parts) != 2:
        raise ValueError(_("malformed range {item!r}; write it as YYYY-MM-DD..YYYY-MM-DD").format(
                             item=item))
    first, last = _parse_one_date(parts[0]), _parse_one_date(parts[1])
    if first is None or last is None:
        raise ValueError(_("malformed range {item!r}; both ends must be valid dates, e.g. "
                           "2027-10-01..2027-10-07").format(item=item))
    if first > last:
        raise ValueError(_("range {item!r} starts after it ends; swap the two dates").format(
                             item=item))
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _parse_date_list(problems: _Problems, mapping: Any, key: str, year: int) -> dict[date, int | None]:
    """Dates listed under ``key`` with the line each came from; every bad entry is a problem."""
    value = mapping.get(key)
    if value is None:
        return {}
    if not isinstance(value, list):
        problems.add(_("'{key}' must be a list of dates or ranges, got {value}; write it as '{key}:' followed by "
                       "lines '  - YYYY-MM-DD'").format(key=key, value=_describe(value)), _value_line(mapping, key))
        return {}
    result: dict[date, int | None] = {}
    for index, item in enumerate(value):
        line = _item_line(value, index) or _key_line(mapping, key)
        try:
            days = _parse_entry(item)
        except ValueError as exc:
            problems.add(str(exc), line)
            continue
        outside = [d for d in days if d.year != year]
        if outside:
            problems.add(_("{day} in '{key}' is not in year {year}; move it to the file for {other_year} or fix "
                           "the date").format(
                             day=outside[0].isoformat(), key=key, year=year, other_year=outside[0].year), line)
            continue
        for d in days:
            result.setdefault(d, line)
    return result


def load_year_file(path: Path) -> YearData:
    """Read and strictly validate one holiday data file; HolidayDataError lists every problem."""
    return read_year_file(Path(path))[0]


def _read_mapping(path: Path) -> Any:
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise HolidayDataError(path, _("file is not valid UTF-8 ({exc}); save it as UTF-8").format(
                                         exc=exc)) from exc
    except OSError as exc:
        raise HolidayDataError(path, _("cannot read file: {strerror}").format(
                                         strerror=exc.strerror or exc)) from exc
    from ruamel.yaml import YAML
    from ruamel.yaml.error import MarkedYAMLError, YAMLError

    yaml = YAML(typ="rt")
    yaml.Constructor = _dates_as_text()
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        problem = exc.problem or exc.context or "syntax error"
        raise HolidayDataError(path, _("invalid YAML: {problem}; fix the file syntax").format(
                                         problem=problem), line) from exc
    except YAMLError as exc:
        raise HolidayDataError(path, _("invalid YAML: {exc}; fix the file syntax").format(exc=exc)) from exc
    if data is None:
        raise HolidayDataError(path, _("file is empty; it needs at least 'year:' and 'holidays:'"), 1)
    if not isinstance(data, dict):
        raise HolidayDataError(path, _("top level must be a mapping with keys {known_keys}, got {data}").format(
                                         known_keys=', '.join(KNOWN_KEYS), data=_describe(data)), 1)
    return data


def _year_of(path: Path, data: Any) -> int:
    if "year" not in data:
        raise HolidayDataError(path, _("missing 'year:'; add e.g. 'year: 2027' at the top"), 1)
    year = data["year"]
    if isinstance(year, bool) or not isinstance(year, int) or not 1 <= year <= 9999:
        raise HolidayDataError(path, _("'year' must be an integer such as 2027, got {year!r}").format(
                                         year=year), _key_line(data, "year"))
    return int(year)


def read_year_file(path: Path) -> tuple[YearData, int | None]:
    """Like :func:`load_year_file`, also returning the line of ``year:``."""
    data = _read_mapping(path)
    problems = _Problems(path)
    for key in data:
        if key not in KNOWN_KEYS:
            close = difflib.get_close_matches(str(key), KNOWN_KEYS, n=1)
            hint = (_("did you mean '{key}'?").format(key=close[0]) if close
                    else _("allowed keys are {keys}").format(keys=", ".join(KNOWN_KEYS)))
            problems.add(_("unknown key '{key}'; {hint}").format(key=key, hint=hint), _key_line(data, key))
    year = _year_of(path, data)
    note = data.get("source")
    if note is not None and not isinstance(note, str):
        problems.add(_("'source' must be text, got {note!r}; quote it").format(note=note), _key_line(data, "source"))
    provisional = data.get("provisional", False)
    if not isinstance(provisional, bool):
        problems.add(_("'provisional' must be true or false, got {provisional!r}").format(
                         provisional=provisional), _key_line(data, "provisional"))
    holidays = _parse_date_list(problems, data, "holidays", year)
    workdays = _parse_date_list(problems, data, "workdays", year)
    for d, line in sorted(workdays.items()):
        if d in holidays:
            problems.add(_("{day} is listed in both 'holidays' (line {other_line}) and 'workdays'; keep it in "
                           "one list only").format(
                             day=d.isoformat(), other_line=holidays[d]), line)
        elif d.weekday() < 5:
            problems.add(_("{day} in 'workdays' is a weekday; 'workdays' lists only weekend days that are "
                           "working days (调休上班); remove it").format(day=d.isoformat()), line)
    problems.raise_any()
    for d, name in statutory_days(year).items():  # a well-formed file must also give every statutory day
        if d not in holidays:
            problems.add(_("{day} ({name}) is a statutory holiday (全国年节及纪念日放假办法, as revised in "
                           "force from {statutory_from}) but is not listed in 'holidays'; add it").format(
                             day=d.isoformat(), name=name, statutory_from=STATUTORY_FROM),
                         _key_line(data, "holidays") or 1)
    problems.raise_any()
    year_data = YearData(year=year, holidays=frozenset(holidays), workdays=frozenset(workdays), source=str(path),
                         note=str(note or "").strip(), provisional=bool(provisional))
    return year_data, _key_line(data, "year")
