"""The vote tally of a case, read through the read layer (``eightstep.store.read``): `vote tally` imports no ORM
classes, so it starts as fast as the other reads."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Any

from eightstep.engine.ballots import voters
from eightstep.engine.evidence import CaseRecords
from eightstep.errors import InputError, Remedy
from eightstep.i18n import _
from eightstep.rules.consent import Tally, tally
from eightstep.store import read
from eightstep.store.workspace import Workspace
from eightstep.timeutil import through

if TYPE_CHECKING:
    from eightstep.workflow.schema import ConsentRule, Workflow


def consent_rule(wf: Workflow) -> tuple[str, ConsentRule]:
    for stage in wf.stages:
        if stage.requires.consent is not None:
            return stage.id, stage.requires.consent
    raise _no_consent(wf.id)


def _no_consent(workflow_id: str) -> InputError:
    return InputError(_("workflow {id} has no owner-consent requirement in any stage").format(id=workflow_id))


def vote_tally(ws: Workspace, case_id: str, at: datetime | None = None) -> Tally:
    """The tally under the case's own rule, as of ``at`` (default: every ballot recorded); a bare date (local
    midnight) counts the ballots of that whole day (``timeutil.through``), as the forms dated that day do."""
    with ws.reading() as conn:
        case = read.case(conn, case_id)
        loaded = read.workflow(conn, ws.workflows, case)
        households = read.records(conn, "households", [case_id]).get(case_id, [])
        ballots = read.records(conn, "ballots", [case_id]).get(case_id, [])
    if loaded.outline.consent is None:  # the rule as plain data: no pydantic to count ballots
        raise _no_consent(loaded.id)
    rule: Any = loaded.outline.consent[1]  # a Frozen copy of the ConsentRule: the same fields
    if not households:
        raise InputError(_("case {case} has no households yet").format(case=case_id),
                         remedy=Remedy("household.import", {"case": case_id}))
    records = CaseRecords(documents=[], approvals=[], households=households, ballots=ballots, objections=[],
                          evidence_from=case.evidence_from)
    return tally(voters(records, through(at) if at is not None else None), rule)
