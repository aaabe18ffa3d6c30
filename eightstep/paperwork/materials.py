"""The checklist of a window application: what the applicant hands in, in order, and what is on record for each.

A stage lists its window's materials in the workflow (``materials:``): document kinds (their stored scans go
into the pack), approval kinds (a copy of the decision) and forms printed from the records (the tally, the
objection register). A workflow without such a list gets the documents and approvals required by the stages
before: the window's own output (its opinion) is never something the applicant supplies.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

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


def _gap(needs: Needs | None, row: MaterialRow, message: str, action: str) -> MaterialRow:
    """A document or approval of the checklist not on record: its row, and with ``needs`` a gap (``message`` with
    the row's title and kind) that ``action`` fills."""
    if needs is not None:
        needs.add(message.format(title=row.title, kind=row.kind), action, kind=row.kind)
    return row


def checklist(data: CaseData, stage: Stage, form_titles: dict[str, str], needs: Needs | None = None
              ) -> list[MaterialRow]:
    """Each material of ``stage`` with what is on record by the form's date (the latest paper of each kind).

    With ``needs``, every document or approval not on record is a gap (the window turns an incomplete file away).
    """
    wf = data.workflow.definition
    rows: list[MaterialRow] = []
    for item in stage_materials(wf, stage):
        no = len(rows) + 1
        if item.document is not None:
            spec = wf.documents[item.document]
            docs = data.documents_by_kind.get(item.document, ())
            doc = docs[-1] if docs else None
            issuer = local_authority(wf.authorities[spec.issuer].title, data)
            if doc is None:
                rows.append(_gap(needs, MaterialRow(no, "document", item.document, spec.title, issuer, False),
                                 _("{title} ({kind}) is not on record, and the window's checklist names it"),
                                 "doc.add"))
                continue
            rows.append(MaterialRow(no, "document", item.document, spec.title,
                                    local_authority(doc.issuer, data) if doc.issuer else issuer, True,
                                    doc.number, local_date(doc.issued_at), doc.sha256, doc.original_name))
        elif item.approval is not None:
            spec_a = wf.approvals[item.approval]
            granted = data.approved_by_kind.get(item.approval, ())
            last = granted[-1] if granted else None
            issuer = local_authority(wf.authorities[spec_a.authority].title, data)
            if last is None:
                rows.append(_gap(needs, MaterialRow(no, "approval", item.approval, spec_a.title, issuer, False),
                                 _("{title} ({kind}) is not on record as approved, and the window's checklist names "
                                   "it"), "approval.add"))
                continue
            rows.append(MaterialRow(no, "approval", item.approval, spec_a.title,
                                    local_authority(last.authority, data) if last.authority else issuer, True,
                                    last.number, local_date(last.decided_at), getattr(last, "file_sha256", None),
                                    getattr(last, "file_name", None)))
        else:
            form_id = item.form or ""
            rows.append(MaterialRow(no, "form", form_id, form_titles.get(form_id, form_id),
                                    local_authority("社区居民委员会", data), True, f"{data.case.id}-{form_id}"))
    return rows
