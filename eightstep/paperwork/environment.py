"""The forms' template environment: the one environment of ``eightstep.templating`` with the forms' filters.

A user folder (``--templates``, then $EIGHTSTEP_TEMPLATES) may override a form (``agreement.html.j2``) and still
extend the shipped one with ``{% extends "builtin/agreement.html.j2" %}``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from pathlib import Path
from typing import Any

from eightstep.paperwork import privacy
from eightstep.paperwork.context import CHOICE_TEXT
from eightstep.paperwork.names import user_template_dirs
from eightstep.rules import money
from eightstep.templating import TemplateEnvironment, TemplateProblem, TemplateVersion
from eightstep.timeutil import local_date

__all__ = ["CHOICE_TEXT", "FILTERS", "FormEnvironment", "TemplateProblem", "TemplateVersion"]



def cn_date(value: date | datetime | None) -> str | None:
    """2025-03-01 -> 2025年3月1日 (datetimes are shown in Asia/Shanghai)."""
    if value is None:
        return None
    day = local_date(value) if isinstance(value, datetime) else value
    return f"{day.year}年{day.month}月{day.day}日"


def ymd(value: date | datetime | None) -> str | None:
    """2025-03-01 (for narrow table cells)."""
    if value is None:
        return None
    return (local_date(value) if isinstance(value, datetime) else value).isoformat()


def _money_filter(fn: Callable[[int], str]) -> Callable[[int | None], str | None]:
    return lambda fen: None if fen is None else fn(fen)


def area_text(centi: int | None) -> str | None:
    return None if centi is None else f"{centi // 100}.{centi % 100:02d}"


FILTERS: dict[str, Callable[..., Any]] = {
    "yuan": _money_filter(money.yuan),
    "yuan_upper": _money_filter(money.yuan_upper),
    "area": area_text,
    "cn_date": cn_date,
    "ymd": ymd,
    "mask_phone": privacy.mask_phone,
    "mask_id": privacy.mask_id,
    "mask_name": privacy.mask_name,
    "choice_text": lambda choice: CHOICE_TEXT.get(choice, choice),
}


class FormEnvironment(TemplateEnvironment):
    """Templates from ``user_dirs`` (then $EIGHTSTEP_TEMPLATES) over the built-in folder, with the forms' filters."""

    def __init__(self, user_dirs: Sequence[Path] = ()) -> None:
        super().__init__(user_template_dirs(user_dirs), filters=FILTERS)
