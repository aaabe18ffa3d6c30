"""The registry of forms: one typed context and one builder per form; a builder refuses (``MissingData``) with
every gap instead of printing blanks.

Form ids are template names without ``.html.j2``; a workflow lists the forms of each stage under ``forms:``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.context import FormInfo
from eightstep.paperwork.needs import Needs
from eightstep.rules.money import ShareTable

Builder = Callable[[CaseData, FormInfo], Any]


@dataclass(frozen=True)
class FormSpec:
    id: str
    title: str
    title_en: str
    public: bool
    build: Builder


FORMS: dict[str, FormSpec] = {}


def form(form_id: str, title: str, title_en: str, *, public: bool = False) -> Callable[[Builder], Builder]:
    def register(fn: Builder) -> Builder:
        FORMS[form_id] = FormSpec(form_id, title, title_en, public, fn)
        return fn
    return register


def needs_for(data: CaseData, *, households: bool = False) -> Needs:
    """The gaps of a form of ``data``'s case, so far: none, or (``households``: a form that lists the unit's
    households) the households when none are recorded."""
    needs = Needs(data.case.id)
    if households:
        households_needed(needs, data)
    return needs


def refuse(needs: Needs, info: FormInfo) -> None:
    needs.refuse(f"{info.id} ({info.title})")


def households_needed(needs: Needs, data: CaseData) -> None:
    if not data.records.households:
        needs.add(_("no households are recorded"), "household.import")


def shares(needs: Needs, data: CaseData) -> ShareTable | None:
    """The share table, or None with the reason added to ``needs``."""
    if data.funding is None:
        needs.add(_("the funding (total cost, subsidy, yearly maintenance) is not recorded"), "funding.set")
        return None
    if not data.records.households:
        return None
    try:
        return data.share_table()
    except InputError as exc:  # the share rule does not fit the data: say so as a missing item
        needs.add(_("the cost shares cannot be computed: {reason}").format(reason=exc))
        return None


def share_map(table: ShareTable | None) -> dict[str, tuple[int, int]] | None:
    return None if table is None else {r.room: (r.share, r.maintenance) for r in table.rows}
