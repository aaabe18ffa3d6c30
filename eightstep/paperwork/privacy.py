"""Masking for documents posted in public (the notice): no full phone or ID number may appear on them."""

from __future__ import annotations

import re
from collections.abc import Iterable

_MOBILE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")
_ID_NUMBER = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")


def mask_phone(phone: str | None) -> str | None:
    """13800010001 -> 138****0001; shorter numbers keep 2 digits at each end. The '+' of a prefix stays."""
    if not phone:
        return phone
    sign, digits = ("+", phone[1:]) if phone.startswith("+") else ("", phone)
    keep_head, keep_tail = (3, 4) if len(digits) >= 11 else (2, 2)
    if len(digits) <= keep_head + keep_tail:
        return sign + "*" * len(digits)
    return sign + digits[:keep_head] + "*" * (len(digits) - keep_head - keep_tail) + digits[-keep_tail:]


def mask_id(number: str | None) -> str | None:
    """420102195501011234 -> 4201**********1234."""
    if not number:
        return number
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def mask_name(name: str | None) -> str | None:
    """李建国 -> 李**: the surname stays, so neighbours can still tell flats apart by room."""
    if not name:
        return name
    return name[0] + "*" * (len(name) - 1)


def leaks(text: str, secrets: Iterable[str], allowed: Iterable[str] = ()) -> list[str]:
    """Full phone or ID numbers that ``text`` shows: any mobile or ID pattern, and any of ``secrets`` verbatim;
    ``allowed``: an office's public contact numbers, which a notice shows in full."""
    found = {m.group(0) for m in _MOBILE.finditer(text)} | {m.group(0) for m in _ID_NUMBER.finditer(text)}
    found |= {s for s in secrets if s and len(s) >= 7 and s in text}
    return sorted(found - {a for a in allowed if a})
