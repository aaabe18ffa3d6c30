"""Deadlines as an iCalendar file (RFC 5545) that Outlook, phone calendars and calendar websites import.

Each deadline is an all-day event on its day in Asia/Shanghai (the calendar declares that zone). Its UID is the
deadline's stable key, and SEQUENCE grows with the time of export, so that importing a newer export updates the
events (a moved due date moves the event) instead of adding duplicates. Written by hand: a few lines, and no
dependency to install or import.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta

from eightstep import __version__
from eightstep.audit.deadlines import Deadline

UID_DOMAIN = "eightstep"
_EPOCH = datetime(2020, 1, 1, tzinfo=UTC)
_TIMEZONE = ["BEGIN:VTIMEZONE", "TZID:Asia/Shanghai", "BEGIN:STANDARD", "DTSTART:19700101T000000",
             "TZOFFSETFROM:+0800", "TZOFFSETTO:+0800", "TZNAME:CST", "END:STANDARD", "END:VTIMEZONE"]


def escape(text: str) -> str:
    """A TEXT value: backslash, semicolon, comma and newline escaped."""
    return (text.replace("\\", "\\\\").replace(";", "\\;").replace(",", "\\,").replace("\r\n", "\\n")
            .replace("\n", "\\n"))


def fold(line: str) -> str:
    """Lines longer than 75 octets continue on the next line after a space, never inside a UTF-8 character."""
    out: list[str] = []
    current, size = "", 0
    for ch in line:
        n = len(ch.encode("utf-8"))
        if size + n > (75 if not out else 74):
            out.append(current)
            current, size = "", 0
        current += ch
        size += n
    out.append(current)
    return "\r\n ".join(out)


def to_ics(deadlines: Iterable[Deadline], *, name: str, now: datetime) -> str:
    stamp = now.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ")
    sequence = int((now - _EPOCH).total_seconds() // 60)
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", f"PRODID:-//eightstep//eightstep {__version__}//ZH",
             "CALSCALE:GREGORIAN", "METHOD:PUBLISH", f"X-WR-CALNAME:{escape(name)}", "X-WR-TIMEZONE:Asia/Shanghai",
             *_TIMEZONE]
    for d in deadlines:
        lines += [
            "BEGIN:VEVENT",
            f"UID:{escape(d.key)}@{UID_DOMAIN}",
            f"DTSTAMP:{stamp}",
            f"SEQUENCE:{sequence}",
            f"DTSTART;VALUE=DATE:{d.day:%Y%m%d}",
            f"DTEND;VALUE=DATE:{d.day + timedelta(days=1):%Y%m%d}",
            f"SUMMARY:{escape(f'{d.case} {d.complex}{d.unit}: {d.title}')}",
            f"DESCRIPTION:{escape(d.detail)}",
            f"CATEGORIES:{escape(d.kind)}",
            "TRANSP:TRANSPARENT",
            "END:VEVENT",
        ]
    lines.append("END:VCALENDAR")
    return "".join(fold(line) + "\r\n" for line in lines)
