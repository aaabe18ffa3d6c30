"""What the forms of a case's stage still need, without rendering them (no template engine is loaded), for
``case check``: the same gaps ``forms list`` and a refused ``forms render`` name, each with its remedy."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from eightstep.paperwork.casedata import CaseData, load_case_data
from eightstep.paperwork.context import FormInfo
from eightstep.paperwork.forms import FORMS, generic
from eightstep.paperwork.needs import Gap, MissingData, Need
from eightstep.store.workspace import Workspace
from eightstep.timeutil import now_utc


def form_info(data: CaseData, form_id: str) -> FormInfo:
    """The form's header data: its titles, the stage that lists it (else the case's), the date and serial."""
    wf = data.workflow.definition
    spec = FORMS.get(form_id)
    listed = [s for s in wf.stages if form_id in s.forms]
    stage = listed[0] if listed else wf.stage(data.case.stage)
    return FormInfo(id=form_id, title=spec.title if spec else form_id, title_en=spec.title_en if spec else "",
                    public=spec.public if spec else False, stage_id=stage.id, stage_title=stage.title,
                    date=data.dated, serial=f"{data.case.id}-{form_id}")


def form_gaps(data: CaseData, form_id: str, at: datetime | None = None) -> list[Gap]:
    """What ``form_id`` lacks for the case of ``data`` (empty when it can be rendered), without rendering it;
    ``at`` is taken from ``data`` (kept for callers that pass the day)."""
    spec = FORMS.get(form_id)
    info = form_info(data, form_id)
    try:
        spec.build(data, info) if spec else generic(data, info)
    except MissingData as exc:
        return exc.gaps
    return []


@dataclass(frozen=True)
class FormNeeds:
    form: str
    title: str
    needs: list[Need]  # empty: the form can be rendered now


def stage_needs(ws: Workspace, case_id: str, at: datetime | None = None) -> list[FormNeeds]:
    """Each form the case's current stage lists, with what it still needs."""
    data = load_case_data(ws, case_id)
    at = at or now_utc()
    forms = data.workflow.definition.stage(data.case.stage).forms
    return [FormNeeds(f, FORMS[f].title if f in FORMS else f, form_gaps(data, f, at)) for f in forms]
