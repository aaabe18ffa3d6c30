"""The engine: cases and their moves through the stages, the guards, the history.

``cases`` (open, the write transaction ``editing``), ``views`` (show, list, history), ``checking`` (what blocks
a case), ``moves`` (advance, return, suspend, resume, withdraw), ``bulk`` (every ready case at once), ``guards``
(the registry of named checks), ``evidence`` (the records they read), ``events`` (the hash-chained history),
``asof`` (a past state replayed), ``checkcache``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from eightstep.lazy import facade

if TYPE_CHECKING:
    from eightstep.engine.cases import (  # noqa: F401
        CASE_ID,
        ENV_ACTOR,
        case_and_workflow,
        default_actor,
        editing,
        get_case,
        load_records,
        open_case,
        snapshot,
        workflow_of,
    )
    from eightstep.engine.checking import (  # noqa: F401
        CheckResult,
        check,
        check_many,
        guard_context,
        machine_of,
    )
    from eightstep.engine.moves import (  # noqa: F401
        ADVANCE_CAS,
        Move,
        advance,
        advance_rows,
        resume,
        return_to,
        suspend,
        withdraw,
    )
    from eightstep.engine.views import CaseView, history, known_stages, list_cases, show_case  # noqa: F401

# The public API, loaded on first use (importing one part does not import the others).
_EXPORTS = {
    "ADVANCE_CAS": "moves",
    "CASE_ID": "cases",
    "CaseView": "views",
    "CheckResult": "checking",
    "ENV_ACTOR": "cases",
    "Move": "moves",
    "advance": "moves",
    "advance_rows": "moves",
    "case_and_workflow": "cases",
    "check": "checking",
    "check_many": "checking",
    "default_actor": "cases",
    "editing": "cases",
    "get_case": "cases",
    "guard_context": "checking",
    "history": "views",
    "known_stages": "views",
    "list_cases": "views",
    "load_records": "cases",
    "machine_of": "checking",
    "open_case": "cases",
    "resume": "moves",
    "return_to": "moves",
    "show_case": "views",
    "snapshot": "cases",
    "suspend": "moves",
    "withdraw": "moves",
    "workflow_of": "cases",
}

__getattr__ = facade(__name__, _EXPORTS)
