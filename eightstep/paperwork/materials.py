"""The checklist of a window application: what the applicant hands in, in order, and what is on record for each.

A stage lists its window's materials in the workflow (``materials:``): document kinds (their stored scans go
into the pack), approval kinds (a copy of the decision) and forms printed from the records (the tally, the
objection register). A workflow without such a list gets the documents and approvals required by the stages
before: the window's own output (its opinion) is never something the applicant supplies.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from eightstep.i18n import _
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.context import local_authority
from eightstep.paperwork.needs import Needs
from eightstep.timeutil import local_date
from eightstep.workflow.schema import Material, Stage, Workflow

TYPE_TITLES = {"document": "文件", "approval": "审批", "form": "表格"}


@dataclass(frozen=True)
class MaterialRow:
    """One line of a checklist and what is on record for it (a form: printed from the records)."""

    no: int
    type: str  # document | approval | form
    kind: str
    title: str
    issuer: str
    present: bool
    number: str | None = None
    date: date | None = None
    sha256: str | None = None  # the stored scan (documents; approvals recorded with their decision's file)
    original_name: str | None = None

    @property
    def type_title(self) -> str:
        return TYPE_TITLES[self.type]

    @property
    def short_hash(self) -> str | None:
        return self.sha256[:8] if self.sha256 else None


def stage_materials(wf: Workflow, stage: Stage) -> list[Material]:
    """The stage's checklist as the workflow lists it, else what the stages before it required."""
    if stage.materials:
        return list(stage.materials)
    out: list[Material] = []
    for earlier in wf.stages[: wf.stage_positions[stage.id]]:
        out.extend(Material(document=kind) for kind in earlier.requires.documents)
        out.extend(Material(approval=kind) for kind in earlier.requires.approvals)
    return out


def checklist(data: CaseData, stage: Stage, form_titles: dict[str, str], needs: Needs | None = None
              ) -> list[MaterialRow]:
    """Each material of ``stage`` with what is on record by the form's date (the latest paper of each kind).

    With ``needs``, every document or approval not on record is a gap (the window turns an incomplete file away).
    """
    rows: list[MaterialRow] = []
    for item in stage_materials(data.workflow.definition, stage):
        no = len(rows) + 1
        if item.form is not None:
            rows.append(MaterialRow(no, "form", item.form, form_titles.get(item.form, item.form),
                                    local_authority("社区居民委员会", data), True, f"{data.case.id}-{item.form}"))
        else:
            rows.append(_paper(no, item, data, needs))
    return rows


def _paper(no: int, item: Material, data: CaseData, needs: Needs | None) -> MaterialRow:
    """A document (its latest scan) or an approval (its latest grant) of the checklist; or, not on record, its
    row marked missing and, with ``needs``, a gap."""
    wf = data.workflow.definition
    kind = item.ref
    papers: Sequence[Any]
    if item.document is not None:
        document = wf.documents[kind]
        title, authority, papers = document.title, document.issuer, data.documents_by_kind.get(kind, ())
        missing, action = _("{title} ({kind}) is not on record, and the window's checklist names it"), "doc.add"
    else:
        approval = wf.approvals[kind]
        title, authority, papers = approval.title, approval.authority, data.approved_by_kind.get(kind, ())
        missing = _("{title} ({kind}) is not on record as approved, and the window's checklist names it")
        action = "approval.add"
    issuer = local_authority(wf.authorities[authority].title, data)
    if not papers:
        if needs is not None:
            needs.add(missing.format(title=title, kind=kind), action, kind=kind)
        return MaterialRow(no, item.type, kind, title, issuer, False)
    last: Any = papers[-1]  # a document or an approval row, as the branch below says
    if item.document is not None:
        return MaterialRow(no, "document", kind, title, local_authority(last.issuer, data) if last.issuer
                           else issuer, True, last.number, local_date(last.issued_at), last.sha256, last.original_name)
    return MaterialRow(no, "approval", kind, title, local_authority(last.authority, data) if last.authority
                       else issuer, True, last.number, local_date(last.decided_at), getattr(last, "file_sha256", None),
                       getattr(last, "file_name", None))
