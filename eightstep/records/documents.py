"""Documents (files copied into the store by content hash) and approvals of the authorities (with the decision's
scan, stored the same way, when given)."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from pathlib import Path

from sqlalchemy import select

from eightstep.engine.recording import Recording, recording
from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.store import rows, tables
from eightstep.store.tables import not_voided
from eightstep.store.workspace import Workspace
from eightstep.suggest import did_you_mean
from eightstep.timeutil import as_utc, now_utc


def known_kind(kind: str, kinds: Collection[str], workflow: str, unknown: str) -> None:
    """Refuse a document or approval ``kind`` that the case's workflow does not define: ``unknown`` says so, with
    the closest known kind (``{suggestion}``) and every known one (``{known}``)."""
    if kind not in kinds:
        raise InputError(unknown.format(kind=kind, workflow=workflow, suggestion=did_you_mean(kind, kinds),
                                        known=", ".join(kinds)))


def add_document(ws: Workspace, case_id: str, kind: str, path: Path, *, at: datetime | None = None,
                 number: str | None = None, issuer: str | None = None, actor: str | None = None,
                 as_role: str | None = None) -> rows.Document:
    """Attach a file as a document of ``kind``: copied into the store by content hash, never referenced."""
    if not path.is_file():
        raise InputError(_("{path}: no such file").format(path=path))
    with recording(ws, case_id, "doc.add", at=at, actor=actor, as_role=as_role, core=True) as rec:
        issuers = dict(rec.loaded.outline.documents)  # the workflow's kinds, in order (plain data: no pydantic)
        known_kind(kind, issuers, rec.loaded.id,
                   _("unknown document kind {kind!r} for workflow {workflow}{suggestion}; known: {known}"))
        digest, size = rec.store_file(path)  # removed again if the recording fails
        doc = rec.add(rows.Document(case_id=case_id, kind=kind, stage=rec.case.stage, issued_at=rec.at,
                                    issuer=issuer or issuers[kind], number=number, original_name=path.name,
                                    sha256=digest, size=size, recorded_at=now_utc()))
        _note_upkeep(rec, kind)
        rec.details = {"kind": kind, "file": path.name, "sha256": digest, "number": number, "issuer": doc.issuer}
    return doc


def _note_upkeep(rec: Recording, kind: str) -> None:
    """Keep the case's latest maintenance and inspection dates (``Case.maintained_at``, ``inspected_at``)."""
    upkeep = rec.loaded.outline.upkeep  # (maintenance kind, inspection kind)
    if upkeep is None:
        return
    for column, upkeep_kind in zip(("maintained_at", "inspected_at"), upkeep, strict=True):
        latest = getattr(rec.case, column)
        if kind == upkeep_kind and (latest is None or as_utc(latest) < rec.at):
            setattr(rec.case, column, rec.at)


def add_approval(ws: Workspace, case_id: str, kind: str, *, authority: str, rejected: bool = False,
                 number: str | None = None, note: str | None = None, file: Path | None = None,
                 at: datetime | None = None, actor: str | None = None, as_role: str | None = None) -> rows.Approval:
    """Record the authority's decision of ``kind``; ``file``: its scan, copied into the store by content hash (the
    window's pack copies it; `audit verify` re-hashes it)."""
    if not authority or not authority.strip():
        raise InputError(_("must name who issued the approval, e.g. 江夏区行政审批局"), field="authority")
    if file is not None and not file.is_file():
        raise InputError(_("{path}: no such file").format(path=file))
    with recording(ws, case_id, "approval.add", at=at, actor=actor, as_role=as_role, core=True) as rec:
        kinds = rec.workflow.approvals
        known_kind(kind, kinds, rec.loaded.id,
                   _("unknown approval kind {kind!r} for workflow {workflow}{suggestion}; known: {known}"))
        digest = rec.store_file(file)[0] if file is not None else None  # removed again if the recording fails
        approval = rec.add(rows.Approval(case_id=case_id, kind=kind, authority=authority.strip(),
                                           decision="rejected" if rejected else "approved", decided_at=rec.at,
                                           number=number, note=note, recorded_at=now_utc(),
                                           file_name=file.name if file is not None else None, file_sha256=digest))
        rec.details = {"kind": kind, "authority": approval.authority, "decision": approval.decision,
                       "number": number}
        if file is not None:
            rec.details.update(file=file.name, sha256=digest)
    return approval


def approved_by(rec: Recording, kind: str) -> bool:
    """The case has an approval of ``kind`` granted (and not voided) by the recording's time."""
    approvals = tables.approvals
    granted = rec.execute(select(approvals.c.decided_at).where(
        approvals.c.case_id == rec.case_id, approvals.c.kind == kind, approvals.c.decision == "approved",
        not_voided(approvals))).scalars()
    return any(as_utc(decided) <= rec.at for decided in granted)
