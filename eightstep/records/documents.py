"""Documents (files copied into the store by content hash) and approvals of the authorities."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path

from eightstep.engine.cases import default_actor, editing
from eightstep.engine.events import append_event
from eightstep.errors import InputError
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc, business_time, now_utc
from eightstep.workflow.schema import Workflow

# --- documents and approvals -----------------------------------------------------------------------------

def add_document(ws: Workspace, case_id: str, kind: str, path: Path, *, at: datetime | None = None,
                 number: str | None = None, issuer: str | None = None, actor: str | None = None,
                 as_role: str | None = None) -> models.Document:
    """Attach a file as a document of ``kind``: copied into the store by content hash, never referenced."""
    at = business_time(at)
    if not path.is_file():
        raise InputError(f"{path}: no such file")
    with editing(ws, case_id) as (session, case, loaded):
        kinds = loaded.definition.documents
        if kind not in kinds:
            raise InputError(f"unknown document kind {kind!r} for workflow {loaded.id}; known: {', '.join(kinds)}")
        digest, size = ws.files.put(path)  # content-addressed: a rolled-back copy is harmless and reused
        doc = models.Document(case_id=case_id, kind=kind, stage=case.stage, issued_at=at,
                              issuer=issuer or loaded.definition.authorities[kinds[kind].issuer].title,
                              number=number, original_name=path.name, sha256=digest, size=size,
                              recorded_at=now_utc())
        session.add(doc)
        _note_upkeep(case, loaded.definition, kind, at)
        append_event(session, case, at=at, actor=default_actor(actor), action="doc.add", from_stage=case.stage,
                     to_stage=case.stage, role=as_role,
                     details={"kind": kind, "file": path.name, "sha256": digest, "number": number,
                              "issuer": doc.issuer})
        session.flush()
        return doc


def _note_upkeep(case: models.Case, wf: Workflow, kind: str, issued_at: datetime) -> None:
    """Keep the case's latest maintenance and inspection dates (``Case.maintained_at``, ``inspected_at``)."""
    if wf.upkeep is None:
        return
    for column, upkeep_kind in (("maintained_at", wf.upkeep.maintenance_document),
                                ("inspected_at", wf.upkeep.inspection_document)):
        latest = getattr(case, column)
        if kind == upkeep_kind and (latest is None or as_utc(latest) < issued_at):
            setattr(case, column, issued_at)


def add_approval(ws: Workspace, case_id: str, kind: str, *, authority: str, rejected: bool = False,
                 number: str | None = None, note: str | None = None, at: datetime | None = None,
                 actor: str | None = None, as_role: str | None = None) -> models.Approval:
    at = business_time(at)
    if not authority or not authority.strip():
        raise InputError("--authority must name who issued the approval, e.g. 江夏区行政审批局")
    with editing(ws, case_id) as (session, case, loaded):
        kinds = loaded.definition.approvals
        if kind not in kinds:
            raise InputError(f"unknown approval kind {kind!r} for workflow {loaded.id}; known: {', '.join(kinds)}")
        approval = models.Approval(case_id=case_id, kind=kind, authority=authority.strip(),
                                   decision="rejected" if rejected else "approved", decided_at=at, number=number,
                                   note=note, recorded_at=now_utc())
        session.add(approval)
        append_event(session, case, at=at, actor=default_actor(actor), action="approval.add",
                     from_stage=case.stage, to_stage=case.stage, role=as_role,
                     details={"kind": kind, "authority": approval.authority, "decision": approval.decision,
                              "number": number})
        session.flush()
        return approval
