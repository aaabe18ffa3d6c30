"""What officers record in a case: households, ballots, documents, approvals, objections; funding, schemes,
meetings, roles, canvass, the complex rollout; corrections (voids) of any of them. Each recording function is
one transaction with one event.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eightstep.lazy import facade

if TYPE_CHECKING:
    from eightstep.records.corrections import (  # noqa: F401
        correct_household,
        void,
    )
    from eightstep.records.documents import (  # noqa: F401
        add_approval,
        add_document,
    )
    from eightstep.records.households import (  # noqa: F401
        HOUSEHOLD_COLUMNS,
        ImportResult,
        area_centi,
        import_households,
        list_households,
    )
    from eightstep.records.objections import (  # noqa: F401
        MEDIATION_STEPS,
        add_objection,
        list_objections,
        mediate_objection,
        resolve_objection,
    )
    from eightstep.records.tallying import consent_rule, vote_tally  # noqa: F401
    from eightstep.records.votes import (  # noqa: F401
        CHOICE_WORDS,
        VOTE_COLUMNS,
        cast_vote,
        consent_records,
        import_votes,
    )

# The public API, loaded on first use (importing one part does not import the others).
_EXPORTS = {
    "CHOICE_WORDS": "votes",
    "HOUSEHOLD_COLUMNS": "households",
    "ImportResult": "households",
    "MEDIATION_STEPS": "objections",
    "VOTE_COLUMNS": "votes",
    "add_approval": "documents",
    "add_document": "documents",
    "add_objection": "objections",
    "area_centi": "households",
    "cast_vote": "votes",
    "consent_records": "votes",
    "consent_rule": "tallying",
    "correct_household": "corrections",
    "import_households": "households",
    "import_votes": "votes",
    "list_households": "households",
    "list_objections": "objections",
    "mediate_objection": "objections",
    "resolve_objection": "objections",
    "void": "corrections",
    "vote_tally": "tallying",
}

__getattr__ = facade(__name__, _EXPORTS)
