"""`eightstep doc|approval|objection ...`: documents, approvals and objections of a case."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from eightstep.cli import Settings, completion
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, table, terminal_width
from eightstep.cli.params import (
    PLANNED_AT,
    RECORD_ID,
    acting_options,
    at_option,
    case_argument,
    json_option,
    recording_options,
)
from eightstep.i18n import _

if TYPE_CHECKING:
    from eightstep.engine.evidence import FullRecords


def case_records(settings: Settings, case_id: str) -> FullRecords:
    """Every record of CASE, read once (an unknown case is an error)."""
    from eightstep import engine

    with settings.workspace().engine.connect() as conn:
        return engine.load_records(conn, case_id)


@click.group(cls=Group)
def doc() -> None:
    """Documents attached to a case (copied into the store by content hash)."""


@doc.command("add")
@case_argument
@click.argument("kind", shell_complete=completion.document_kinds)
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False))
@at_option
@click.option("--number", default=None, help="Document number (文号).")
@click.option("--issuer", default=None, help="Who issued it (default: the workflow's issuer for KIND).")
@acting_options
@click.pass_obj
def doc_add(settings: Settings, case_id: str, kind: str, file: Path, at: datetime | None, number: str | None,
            issuer: str | None, actor: str | None, as_role: str | None) -> None:
    """Attach FILE to CASE as a document of KIND (see `eightstep workflow show`)."""
    from eightstep import records

    d = records.add_document(settings.workspace(), case_id, kind, file, at=at, number=number, issuer=issuer,
                             actor=actor, as_role=as_role)
    click.echo(_("{case}: {kind} {file} stored (sha256 {sha}, {size} bytes)").format(
        case=case_id, kind=kind, file=file.name, sha=d.sha256[:12], size=d.size))


@doc.command("list")
@case_argument
@json_option
@click.pass_obj
def doc_list(settings: Settings, case_id: str, as_json: bool) -> None:
    """The documents of CASE."""
    from eightstep.timeutil import show

    docs = case_records(settings, case_id).documents
    if as_json:
        emit_json([{"id": d.id, "kind": d.kind, "stage": d.stage, "at": d.issued_at, "issuer": d.issuer,
                    "number": d.number, "file": d.original_name, "sha256": d.sha256, "size": d.size} for d in docs])
        return
    table(["#", _("kind"), _("date"), _("number"), _("issuer"), _("file"), "sha256"],
          [[d.id, d.kind, show(d.issued_at), d.number or "", d.issuer or "", d.original_name, d.sha256[:12]]
           for d in docs])


void_command(doc, "document")


@click.group(cls=Group)
def approval() -> None:
    """Approvals and opinions issued by authorities."""


@approval.command("add")
@case_argument
@click.argument("kind", shell_complete=completion.approval_kinds)
@click.option("--authority", required=True, help="Who issued it, e.g. 江夏区行政审批局.")
@click.option("--rejected", is_flag=True, help="The authority refused (不予通过).")
@click.option("--number", default=None, help="Document number (文号).")
@click.option("--note", default=None, help="A note, e.g. the conditions attached.")
@click.option("--file", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="The decision's scan: stored like a document's file; the window's pack copies it.")
@recording_options
@click.pass_obj
def approval_add(settings: Settings, case_id: str, kind: str, authority: str, rejected: bool, number: str | None,
                 note: str | None, file: Path | None, at: datetime | None, actor: str | None,
                 as_role: str | None) -> None:
    """Record an approval of KIND (see `eightstep workflow show`) for CASE."""
    from eightstep import records

    a = records.add_approval(settings.workspace(), case_id, kind, authority=authority, rejected=rejected,
                             number=number, note=note, file=file, at=at, actor=actor, as_role=as_role)
    line = (_("{case}: {kind} {decision} by {authority} ({number})") if a.number
            else _("{case}: {kind} {decision} by {authority}"))
    click.echo(line.format(case=case_id, kind=kind, decision=a.decision, authority=a.authority, number=a.number))
    if a.file_sha256 is not None and file is not None:
        click.echo(_("  {file} stored (sha256 {sha})").format(file=file.name, sha=a.file_sha256[:12]))


@approval.command("list")
@case_argument
@json_option
@click.pass_obj
def approval_list(settings: Settings, case_id: str, as_json: bool) -> None:
    """The approvals and refusals recorded for CASE, oldest first."""
    from eightstep.timeutil import show

    approvals = case_records(settings, case_id).approvals
    if as_json:
        emit_json([{"id": a.id, "kind": a.kind, "decision": a.decision, "authority": a.authority,
                    "number": a.number, "at": a.decided_at, "note": a.note, "file": a.file_name,
                    "sha256": a.file_sha256} for a in approvals])
        return
    if not approvals:
        click.echo(_("No approvals recorded for {case}.").format(case=case_id))
        return
    table([_("kind"), _("decision"), _("authority"), _("number"), _("date"), _("note"), _("file")],
          [[a.kind, a.decision, a.authority, a.number or "", show(a.decided_at), a.note or "",
            f"{a.file_name} ({a.file_sha256[:12]})" if a.file_name and a.file_sha256 else ""] for a in approvals],
          fit=terminal_width())


void_command(approval, "approval")


@click.group(cls=Group)
def objection() -> None:
    """Objections (异议) and their mediation."""


@objection.command("add")
@case_argument
@click.option("--room", default=None, help="The objecting household's room.")
@click.option("--objector", default=None, help="The objector's name, when not a household of the unit.")
@click.option("--grounds", required=True, help="What it is about: 采光, 通风, 噪音, 隐私, 费用, ...")
@click.option("--oral", is_flag=True, help="Not in writing (some workflows count only written objections).")
@click.option("--anonymous", is_flag=True, help="Not under a real name.")
@recording_options
@click.pass_obj
def objection_add(settings: Settings, case_id: str, room: str | None, objector: str | None, grounds: str, oral: bool,
                  anonymous: bool, at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Register an objection; prints its id."""
    from eightstep import records

    o = records.add_objection(settings.workspace(), case_id, grounds=grounds, room=room, objector=objector,
                              written=not oral, real_name=not anonymous, at=at, actor=actor, as_role=as_role)
    click.echo(o.id)


@objection.command("mediate")
@case_argument
@click.argument("objection_id", metavar="ID", type=RECORD_ID)
@click.option("--step", required=True,
              type=click.Choice(["negotiation", "coordination", "mediation", "hearing", "litigation"]),
              help="协商, 街道/社区协调, 人民调解, 听证, 诉讼.")
@click.option("--note", required=True, help="What happened.")
@click.option("--review-at", "review_at", type=PLANNED_AT, default=None,
              help="With --step litigation: the review date the court gives, when known.")
@recording_options
@click.pass_obj
def objection_mediate(settings: Settings, case_id: str, objection_id: int, step: str, note: str,
                      review_at: datetime | None, at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Record a mediation step on objection ID, in the route's order: negotiation, coordination, mediation,
    hearing, litigation (a step may be skipped, not gone back to). Litigation suspends the case; it resumes
    once the judgment or a withdrawal is on record."""
    from eightstep import records

    records.mediate_objection(settings.workspace(), case_id, objection_id, step=step, note=note, at=at, actor=actor,
                              as_role=as_role, review_at=review_at)
    click.echo(_("{case}: objection #{id}: {step} recorded").format(case=case_id, id=objection_id, step=step))
    if step == "litigation":
        click.echo(_("{case}: suspended while the objection is in court").format(case=case_id))


@objection.command("resolve")
@case_argument
@click.argument("objection_id", metavar="ID", type=RECORD_ID)
@click.option("--outcome", required=True, help="How it was settled.")
@click.option("--basis", default=None, metavar="KIND",
              help="The document kind on record the resolution rests on (withdrawal letter, mediation agreement, "
                   "hearing decision, judgment): required where the workflow says so.")
@recording_options
@click.pass_obj
def objection_resolve(settings: Settings, case_id: str, objection_id: int, outcome: str, basis: str | None,
                      at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Mark objection ID resolved with its outcome and, where the workflow asks for it, its basis."""
    from eightstep import records

    records.resolve_objection(settings.workspace(), case_id, objection_id, outcome=outcome, basis=basis, at=at,
                              actor=actor, as_role=as_role)
    click.echo(_("{case}: objection #{id} resolved").format(case=case_id, id=objection_id))


@objection.command("list")
@case_argument
@json_option
@click.pass_obj
def objection_list(settings: Settings, case_id: str, as_json: bool) -> None:
    """The objections of CASE with their mediation steps."""
    from eightstep import records
    from eightstep.timeutil import show

    rows = records.list_objections(settings.workspace(), case_id)
    if as_json:
        emit_json(rows)
        return
    table(["id", _("who"), _("grounds"), _("lodged"), _("stage"), _("status"), _("steps"), _("outcome")],
          [[r["id"], r["room"] or r["objector"], r["grounds"],
            show(r["lodged_at"]) + (_(" (late)") if r["late"] else ""),
            r["stage"] + (_(" (complaint)") if r["complaint"] else ""), r["status"],
            " -> ".join(s["step"] for s in r["steps"]) or "—", r["outcome"] or ""] for r in rows])


void_command(objection, "objection")
void_command(objection, "mediation", name="void-step", key="STEP",
             summary="Void a mediation step of an objection of CASE (its id in `objection list --json`).")
