"""Time at the edges: parse what users type, store UTC, show Asia/Shanghai."""

from __future__ import annotations

import re
import unicodedata
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from eightstep.errors import InputError
from eightstep.i18n import _

LOCAL_TZ = ZoneInfo("Asia/Shanghai")
# A business date may be a little ahead of the recording clock (a clerk in another time zone, a slow clock),
# but not days ahead: that is a typo.
FUTURE_TOLERANCE = timedelta(hours=12)

_DATE_ONLY = re.compile(r"^\d{4}-\d{1,2}-\d{1,2}$")
# 2025年3月1日, 2025/3/1, 2025.3.1 (and full-width digits) -> 2025-3-1; 14时30分, 14点30 -> 14:30
_CHINESE_DATE = re.compile(r"^(\d{4})\s*[年/.\-]\s*(\d{1,2})\s*[月/.\-]\s*(\d{1,2})\s*[日号]?")
_CHINESE_TIME = re.compile(r"(\d{1,2})\s*[时點点:]\s*(\d{1,2})?\s*分?$")


def normalise_date_text(text: str) -> str:
    """A date (and time) as officers write it, in the ISO form ``parse_at`` reads: ``2025年3月1日``,
    ``2025/3/1``, ``2025.3.1``, ``２０２５年３月１日 14时30分`` -> ``2025-3-1`` / ``2025-3-1 14:30``."""
    raw = unicodedata.normalize("NFKC", text).strip()
    match = _CHINESE_DATE.match(raw)
    if not match or raw[match.end():].startswith("T"):  # ISO 8601 with its T: as it is
        return raw
    rest = raw[match.end():].strip()
    year, month, day_of_month = (int(part) for part in match.groups())
    day = f"{year:04d}-{month:02d}-{day_of_month:02d}"
    if not rest:
        return day
    clock = _CHINESE_TIME.fullmatch(rest)
    if clock:
        return f"{day} {int(clock.group(1)):02d}:{int(clock.group(2) or 0):02d}"
    return f"{day} {rest}"


def parse_day(text: str, *, field: str) -> date:
    """A calendar date as officers write it (``2025-03-01``, ``2025/3/1``, ``2025年3月1日``)."""
    raw = normalise_date_text(text)
    try:
        if not _DATE_ONLY.match(raw):
            raise ValueError(raw)
        return date.fromisoformat(_pad_date(raw))
    except ValueError:
        raise InputError(_("{field}: {text!r} is not a date; use 2025-03-01, 2025/3/1 or 2025年3月1日").format(
            field=field, text=text)) from None


# The dates eightstep accepts: none of its records can be older than the People's Republic, and a date more than
# a few years ahead is a typo (a planned review, an audit "as of" a later day). Outside this range the date
# arithmetic of Python would also overflow (0001-01-01 in Asia/Shanghai is the year 0 in UTC).
EARLIEST = date(1949, 1, 1)
YEARS_AHEAD = 5


def latest(today: date | None = None) -> date:
    """The last date accepted: ``YEARS_AHEAD`` years after today (Asia/Shanghai)."""
    day = today or datetime.now(LOCAL_TZ).date()
    return day.replace(year=day.year + YEARS_AHEAD, day=28 if (day.month, day.day) == (2, 29) else day.day)


def check_date(day: date, *, field: str = "date") -> date:
    """``day`` when it lies between 1949-01-01 and ``YEARS_AHEAD`` years from today, else a clear refusal."""
    if day < EARLIEST:
        raise InputError(_("{field}: {day} is before {earliest}; check the year").format(
            field=field, day=day.isoformat(), earliest=EARLIEST.isoformat()))
    last = latest()
    if day > last:
        raise InputError(_("{field}: {day} is more than {years} years ahead (after {last}); check the year").format(
            field=field, day=day.isoformat(), years=YEARS_AHEAD, last=last.isoformat()))
    return day


def now_utc() -> datetime:
    return datetime.now(UTC)


def parse_at(text: str | None, *, field: str = "at", now: datetime | None = None,
             planned: bool = False) -> datetime:
    """Parse a business time typed by a user: ``2025-03-01``, ``2025-03-01 14:30``, or ISO 8601 with offset.

    A time without an offset is Asia/Shanghai time; a bare date means local midnight. The result is UTC.
    Times in the future (beyond a small tolerance) are refused, unless ``planned`` (a review date): then up to
    ``YEARS_AHEAD`` years. Dates before 1949 are refused.
    """
    current = now or now_utc()
    if text is None or text.strip() == "":
        return current
    raw = normalise_date_text(text)
    try:
        if _DATE_ONLY.match(raw):
            parsed = datetime.combine(date.fromisoformat(_pad_date(raw)), time(0, 0))
        else:
            parsed = datetime.fromisoformat(raw.replace(" ", "T", 1))
    except ValueError:
        raise InputError(_("{field}: {text!r} is not a date or time; use 2025-03-01, 2025年3月1日 or "
                           "'2025-03-01 14:30' (Asia/Shanghai)").format(field=field, text=text)) from None
    if parsed.date() < EARLIEST:  # before any arithmetic on it: 0001-01-01 in Asia/Shanghai is year 0 in UTC
        check_date(parsed.date(), field=field)
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=LOCAL_TZ)
    try:
        result = parsed.astimezone(UTC)
    except OverflowError:  # 9999-12-31 late at night west of Greenwich
        result = datetime.max.replace(tzinfo=UTC)
    if not planned and result > current + FUTURE_TOLERANCE:
        raise InputError(_("{field}: {text!r} is in the future; records are entered for what has happened").format(
            field=field, text=text))
    check_date(parsed.date(), field=field)  # a planned date: at most a few years ahead
    return result


def business_time(at: datetime | None, *, field: str = "at") -> datetime:
    """The time a record is about: ``at`` (timezone-aware) or now. Library-side twin of :func:`parse_at`."""
    current = now_utc()
    if at is None:
        return current
    if at.tzinfo is None:
        raise InputError(_("{field}: {at} has no time zone; pass an aware datetime (UTC or Asia/Shanghai)").format(
                             field=field, at=at))
    check_date(at.date(), field=field)
    if at > current + FUTURE_TOLERANCE:
        raise InputError(_("{field}: {at} is in the future; records are entered for what has happened").format(
                             field=field, at=show(at)))
    return at.astimezone(UTC)


def _pad_date(raw: str) -> str:
    y, m, d = raw.split("-")
    return f"{int(y):04d}-{int(m):02d}-{int(d):02d}"


def as_utc(value: datetime) -> datetime:
    """Normalise a datetime from the database (SQLite may hand back naive UTC) to aware UTC."""
    tz = value.tzinfo
    if tz is UTC:  # the common case (times read by eightstep.store.read, computed ones): nothing to convert
        return value
    if tz is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def local(value: datetime) -> datetime:
    return as_utc(value).astimezone(LOCAL_TZ)


def local_date(value: datetime) -> date:
    """The calendar date in Asia/Shanghai: what day clocks and notices count in."""
    utc = as_utc(value)
    return _local_date_of_hour(utc.year, utc.month, utc.day, utc.hour)


@lru_cache(maxsize=1 << 16)
def _local_date_of_hour(year: int, month: int, day: int, hour: int) -> date:
    """Asia/Shanghai's offsets (now and in history) are whole hours changed on the hour, so the local date of a
    UTC time depends on its hour only: an audit converts tens of thousands of times, over a few thousand hours."""
    return datetime(year, month, day, hour, tzinfo=UTC).astimezone(LOCAL_TZ).date()


def show(value: datetime | None) -> str:
    """Local time for people: date alone at midnight, else date and minutes."""
    if value is None:
        return "—"
    lt = local(value)
    if lt.time() == time(0, 0):
        return lt.date().isoformat()
    return lt.strftime("%Y-%m-%d %H:%M")


def iso_local(value: datetime | None) -> str | None:
    """ISO 8601 with the +08:00 offset, for JSON output."""
    if value is None:
        return None
    utc = as_utc(value)
    hour = _local_hour(utc.year, utc.month, utc.day, utc.hour)
    if hour is None:
        return utc.astimezone(LOCAL_TZ).isoformat()
    head, offset = hour
    if utc.microsecond:
        return f"{head}:{utc.minute:02d}:{utc.second:02d}.{utc.microsecond:06d}{offset}"
    return f"{head}:{utc.minute:02d}:{utc.second:02d}{offset}"


@lru_cache(maxsize=1 << 16)
def _local_hour(year: int, month: int, day: int, hour: int) -> tuple[str, str] | None:
    """The local date and hour (``2025-03-01T17``) and offset (``+08:00``) of a UTC hour, for ``iso_local``
    (tens of thousands of ballot times in a tally of a district); None where the offset is not whole hours (the
    local mean time before 1901): those are converted one by one."""
    text = datetime(year, month, day, hour, tzinfo=UTC).astimezone(LOCAL_TZ).isoformat()
    if year < 1902 or not text.endswith(":00") or len(text) != 25:
        return None
    return text[:13], text[19:]


def local_midnight_utc(day: date) -> datetime:
    return datetime.combine(day, time(0, 0), tzinfo=LOCAL_TZ).astimezone(UTC)


def through(at: datetime) -> datetime:
    """The last instant that "as of ``at``" counts: a bare date (local midnight, as ``parse_at`` reads 2025-03-01)
    stands for the whole of that day, so records dated that day count; any other time stands for itself."""
    lt = local(at)
    if lt.time() != time(0, 0):
        return as_utc(at)
    return local_midnight_utc(lt.date() + timedelta(days=1)) - timedelta(microseconds=1)
