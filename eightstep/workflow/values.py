"""The values a workflow file writes in its own way, each parsed strictly into an exact value: ids, ratios
("2/3", ">1/2"), amounts in yuan (kept as integer fen) and cost-sharing coefficients. The models of
``eightstep.workflow.schema`` are built from them."""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Annotated, Literal

from pydantic import BeforeValidator, Field, PlainSerializer

from eightstep.i18n import _
from eightstep.workflow.ratio import Above as Above  # its own module: unpickled without pydantic

ID_PATTERN = r"^[a-z][a-z0-9_]*$"
WORKFLOW_ID_PATTERN = r"^[a-z][a-z0-9_-]*$"

Id = Annotated[str, Field(pattern=ID_PATTERN)]
PERMISSION_KEY = r"^(?:\*|[a-z][a-z_]*\.(?:\*|[a-z][a-z_]*))$"
RoleId = Annotated[str, Field(min_length=1, max_length=40)]


_RATIO_TEXT = re.compile(r"\d{1,20}(?:\.\d{1,20})?(?:/\d{1,20})?", re.ASCII)
MAX_COEFFICIENT = Decimal(100)


def _parse_ratio(value: object) -> Fraction:
    """Accept "2/3", "0.75", 0.75 or 1 (reached, boundary included: 以上), or ">1/2" (exceeded: 过半数); keep the
    value exact. Must be in (0, 1] (">" below 1)."""
    if isinstance(value, Fraction):
        return value
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(_('a ratio is written like "2/3" or "3/4", or ">1/2" for more than half'))
    text = str(value).strip()
    strict = text.startswith(">")
    number = text[1:].strip() if strict else text
    if not _RATIO_TEXT.fullmatch(number):  # no exponents: Fraction("1e-999999999") would take minutes to build
        raise ValueError(_('{value!r} is not a ratio; write it like "2/3" or "3/4", or ">1/2" for more than '
                           "half").format(value=value))
    try:
        ratio = Fraction(number)
    except (ValueError, ZeroDivisionError):
        raise ValueError(_('{value!r} is not a ratio; write it like "2/3" or "3/4", or ">1/2" for more than '
                           "half").format(value=value)) from None
    if not 0 < ratio <= 1 or (strict and ratio == 1):
        raise ValueError(_("{value!r} is not between 0 (excluded) and 1: no vote could ever meet it").format(
                             value=value))
    return Above(ratio) if strict else ratio


Ratio = Annotated[Fraction, BeforeValidator(_parse_ratio)]

MAX_YUAN = Decimal(100_000_000)  # 1亿 yuan: far above any elevator


def _decimal(value: object, wrong_type: str, not_a_number: str) -> Decimal:
    """``value`` as the file wrote it (text or a YAML number) as an exact Decimal; else ``wrong_type``, or
    ``not_a_number`` (with ``{value!r}``)."""
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise ValueError(wrong_type)
    try:
        return Decimal(str(value).strip())
    except InvalidOperation:
        raise ValueError(not_a_number.format(value=value)) from None


def _parse_fen(value: object) -> int:
    """An amount in yuan with at most 2 decimals ("200000", 200000, "15000.50") -> integer fen."""
    amount = _decimal(value, _("an amount is written in yuan, like 200000 or 15000.50"),
                      _("{value!r} is not an amount in yuan; write it like 200000 or 15000.50"))
    if not amount.is_finite() or amount < 0 or amount > MAX_YUAN or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("{value!r}: an amount is 0 or more yuan, at most 2 decimals (fen), below 1亿").format(
                             value=value))
    return int(amount * 100)


def _fen_as_yuan(fen: int) -> str:
    return f"{fen // 100}.{fen % 100:02d}"


# Yuan in the file (and in its JSON form, so that `workflow show --json` reads back), integer fen in the model.
Fen = Annotated[int, BeforeValidator(_parse_fen), PlainSerializer(_fen_as_yuan, return_type=str, when_used="json")]
Calendar = Literal["calendar", "working"]


def _parse_coefficient(value: object) -> Decimal:
    """A cost-sharing coefficient (0.8, "1.2"): 0 to ``MAX_COEFFICIENT``, at most 4 decimals."""
    coefficient = _decimal(value, _("a coefficient is a number such as 0.8 or 1.2"),
                           _("{value!r} is not a number; write it like 0.8"))
    if not coefficient.is_finite() or not 0 <= coefficient <= MAX_COEFFICIENT:  # .nan, .inf, 1e999
        raise ValueError(_("{value!r}: use a number from 0 to {max_coefficient}, such as 0.8 or 1.2").format(
                             value=value, max_coefficient=MAX_COEFFICIENT))
    if coefficient != coefficient.quantize(Decimal("0.0001")):
        raise ValueError(_("{value!r}: use a non-negative number with at most 4 decimals").format(
                             value=value))
    return coefficient


Coefficient = Annotated[Decimal, BeforeValidator(_parse_coefficient)]
