"""Cell parsers for officer-supplied tables: text, whole numbers, exact decimals, choices, phone numbers and room
names. Each takes the cell's text and returns the value, or raises ValueError telling the officer what to do."""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable
from decimal import Decimal, InvalidOperation

from eightstep.i18n import _, ngettext
from eightstep.rules.rooms import normal_room

# Characters stripped around cells and headers besides ordinary whitespace
# (which already includes the full-width space U+3000 and NBSP): zero-width
# characters and stray byte-order marks that Excel and web copy-paste leave behind.
_EDGE_JUNK = r"[\s\u200b\u200c\u200d\u2060\ufeff]+"
_EDGE_RE = re.compile(rf"^{_EDGE_JUNK}|{_EDGE_JUNK}$")


def strip_cell(s: str) -> str:
    return _EDGE_RE.sub("", s)


def nfkc(s: str) -> str:
    """Full-width digits, letters, dots and brackets to their ASCII forms."""
    return unicodedata.normalize("NFKC", s)


def parse_text(s: str) -> str:
    """Return the stripped text; raise ValueError if it is empty."""
    text = strip_cell(s)
    if not text:
        raise ValueError(_("is empty; fill it in"))
    return text


_INT_RE = re.compile(r"[+-]?[0-9]+(?:\.0+)?", re.ASCII)


def parse_int_range(lo: int, hi: int) -> Callable[[str], int]:
    """Return a parser for a whole number between ``lo`` and ``hi`` inclusive.

    Accepts full-width digits and a zero fraction such as "3.0" (Excel's way of
    showing 3 with a number format); rejects anything else.
    """
    if lo > hi:
        raise ValueError(f"parse_int_range: lo ({lo}) is greater than hi ({hi})")

    def parse(s: str) -> int:
        text = nfkc(strip_cell(s))
        if not _INT_RE.fullmatch(text):
            raise ValueError(_("'{s}' is not a whole number (use digits only, e.g. {lo})").format(
                                 s=s, lo=max(lo, min(hi, 3))))
        value = int(text.split(".")[0])
        if not lo <= value <= hi:
            raise ValueError(_("'{s}' is out of range (use a whole number from {lo} to {hi})").format(
                                 s=s, lo=lo, hi=hi))
        return value

    return parse


_DECIMAL_RE = re.compile(r"[+-]?[0-9]+(?:\.[0-9]+)?", re.ASCII)


def parse_decimal(places: int = 2, positive: bool = True) -> Callable[[str], Decimal]:
    """Return a parser for an exact decimal with at most ``places`` decimals.

    The result is quantized ("86.5" -> Decimal("86.50")).  Decimal commas
    ("12,5", also full-width), thousands separators and exponents are rejected.
    With ``positive`` the value must be greater than zero.
    """
    if places < 0:
        raise ValueError(f"parse_decimal: places must be >= 0, not {places}")
    quantum = Decimal(1).scaleb(-places)
    example = "86" if places == 0 else "86." + "5".ljust(places, "0")

    def parse(s: str) -> Decimal:
        text = nfkc(strip_cell(s))
        if not _DECIMAL_RE.fullmatch(text) or len(text) > 40:
            raise ValueError(_("'{s}' is not a number (use digits and a dot, e.g. {example})").format(
                                 s=s, example=example))
        value = Decimal(text)
        try:
            result = value.quantize(quantum)
        except InvalidOperation:
            raise ValueError(_("'{s}' is too large to be a sensible value; check it").format(s=s)) from None
        if result != value:
            raise ValueError(
                ngettext("'{s}' has more than {places} decimal place (round it, e.g. {result})",
                         "'{s}' has more than {places} decimal places (round it, e.g. {result})",
                         places).format(s=s, places=places, result=result)
            )
        if positive and result <= 0:
            raise ValueError(_("'{s}' must be greater than 0").format(s=s))
        return result

    return parse


def _choice_key(s: str) -> str:
    return re.sub(r"\s+", " ", nfkc(strip_cell(s))).casefold()


def parse_choice(mapping: dict[str, str]) -> Callable[[str], str]:
    """Return a parser mapping synonyms to canonical values, case-insensitively.

    E.g. ``{"agree": "agree", "同意": "agree", "赞成": "agree", "disagree": "disagree"}``.
    Full-width letters and surrounding spaces are ignored.  The error message
    lists the accepted spellings.
    """
    if not mapping:
        raise ValueError("parse_choice: mapping is empty")
    lookup: dict[str, str] = {}
    for spelling, value in mapping.items():
        key = _choice_key(spelling)
        if not key:
            raise ValueError("parse_choice: empty spelling in mapping")
        if lookup.get(key, value) != value:
            raise ValueError(f"parse_choice: {spelling!r} maps to both {lookup[key]!r} and {value!r}")
        lookup[key] = value
    accepted = ", ".join(dict.fromkeys(strip_cell(k) for k in mapping))

    def parse(s: str) -> str:
        try:
            return lookup[_choice_key(s)]
        except KeyError:
            raise ValueError(_("'{s}' is not an accepted value (use one of: {accepted})").format(
                                 s=s, accepted=accepted)) from None

    return parse


_PHONE_SEPARATORS = re.compile(r"[\s\-\u2010-\u2015\u2212()]+")
_DIGITS_RE = re.compile(r"[0-9]{7,15}", re.ASCII)
_COUNTRY = re.compile(r"\+86|0086|\+")  # China's prefix as dialled from abroad, or another country's


def parse_phone(s: str) -> str:
    """A phone number as it was entered (027-87654321 stays readable), checked: 7 to 15 digits once spaces,
    dashes and brackets are left out ("(027)87654321"), optionally after +86, 0086 or another "+<country
    code>". Full-width characters become ASCII and runs of spaces one space."""
    entered = " ".join(nfkc(strip_cell(s)).split())
    text = _PHONE_SEPARATORS.sub("", entered)
    prefix = _COUNTRY.match(text)
    if prefix and len(text) > prefix.end():
        text = text[prefix.end():]
    if not _DIGITS_RE.fullmatch(text):
        raise ValueError(_("'{s}' is not a phone number (use 7 to 15 digits, optionally starting with +86, e.g. "
                           "13800138000 or 027-87654321)").format(s=s))
    return entered


def parse_room(s: str) -> str:
    """Return a room name in one spelling (``eightstep.rules.rooms.normal_room``), so that one flat cannot be
    counted as two: "２０１", "201室" and "201" are the same flat."""
    return normal_room(strip_cell(s))
