"""The forms of the procedure: one typed context and one builder per form (``registry``), by stage.

Importing this package registers every built-in form in ``FORMS``.
"""

from __future__ import annotations

from dataclasses import dataclass

from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.context import CaseInfo, FormInfo, HouseholdRow, case_info, household_rows
from eightstep.paperwork.forms import agreement, consent, money, notice, operation, window  # noqa: F401  (they register)
from eightstep.paperwork.forms.registry import FORMS, FormSpec, form, needs_for, share_map, shares
from eightstep.paperwork.forms.window import form_stage
from eightstep.paperwork.materials import MaterialRow, checklist
from eightstep.paperwork.parties import Party
from eightstep.rules.money import ShareTable

__all__ = ["FORMS", "FormSpec", "form", "generic"]

# The built-in forms in the order of the procedure (forms list shows them so).
ORDER = ("application", "ballots", "tally", "agreement", "supplementary_agreement", "notice", "objection_register",
         "joint_review", "share_certificate", "receipts", "completion_subsidy", "settlement", "usage_convention",
         "operation_authorization")
FORMS.update({k: FORMS.pop(k) for k in [*ORDER, *(k for k in list(FORMS) if k not in ORDER)]})


@dataclass(frozen=True)
class GenericContext:
    """What a user's own template (one without a built-in builder) gets."""

    form: FormInfo
    case: CaseInfo
    households: list[HouseholdRow]
    parties: dict[str, Party]
    shares: ShareTable | None
    materials: list[MaterialRow]


def generic(data: CaseData, info: FormInfo) -> GenericContext:
    table = shares(needs_for(data), data) if data.funding and data.records.households else None
    parties = {p.role: p for p in data.people()}
    agent = data.party("agent")
    if agent is not None:
        parties["agent"] = agent
    titles = {k: v.title for k, v in FORMS.items()}
    return GenericContext(info, case_info(data), household_rows(data, public=False, shares=share_map(table)),
                          parties, table, checklist(data, form_stage(data, info), titles))
