"""`eightstep workflow ...`: list, show, check, diagram."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.output import emit_json, table
from eightstep.cli.params import AT, json_option
from eightstep.i18n import _, titled

if TYPE_CHECKING:
    from eightstep.workflow.registry import WorkflowRegistry


@click.group(cls=Group)
def workflow() -> None:
    """Procedure definitions (workflows/*.yaml)."""


def _registry(settings: Settings) -> WorkflowRegistry:
    from eightstep.store.workspace import ENV_WORKFLOWS, _dirs_from_env
    from eightstep.workflow.registry import WorkflowRegistry

    return WorkflowRegistry([*settings.workflow_dirs, *_dirs_from_env(ENV_WORKFLOWS)])


@workflow.command("list")
@json_option
@click.pass_obj
def list_(settings: Settings, as_json: bool) -> None:
    """Workflows on disk and, when a database is there, which versions have open cases."""
    from eightstep.engine.workflow_usage import usage
    from eightstep.errors import EightstepError

    registry = _registry(settings)
    try:
        ws = settings.workspace()
    except EightstepError:
        ws = None
    rows = usage(registry, ws)
    if as_json:
        emit_json(rows)
        return
    table([_("workflow"), _("version"), _("in force"), _("title"), _("cases (open/all)"), _("file")],
          [[r["id"], r["version"] or (_("INVALID") if r["source"] != "(file not found)" else "—"),
            r["in_force"] or "—", r["title"],
            "; ".join(f"{v['version']}: {v['open']}/{v['cases']}" + ("" if v["matches_file"] else _(" (older)"))
                      for v in r["versions"]) or "—", r["source"]] for r in rows])
    for r in rows:
        if r["error"]:
            click.echo(_("Warning: {message}").format(message=f"{r['id']}: {r['error']}"), err=True)


@workflow.command("show")
@click.argument("workflow_id", metavar="ID")
@click.option("--at", type=AT, default=None, help="The version in force on this day (default: the newest).")
@json_option
@click.pass_obj
def show_(settings: Settings, workflow_id: str, at: datetime | None, as_json: bool) -> None:
    """The stages of a workflow with their requirements, and the days its rules are in force."""
    from eightstep.timeutil import local_date

    registry = _registry(settings)
    loaded = registry.get(workflow_id) if at is None else registry.in_force(workflow_id, local_date(at))
    period = next(v.period for v in registry.versions(workflow_id) if v.loaded.source == loaded.source)
    wf = loaded.definition
    if as_json:
        data = wf.model_dump(mode="json")
        data["sha256"] = loaded.sha256
        data["source"] = loaded.source
        data["in_force"] = {"from": period.start, "until": period.end}
        emit_json(data)
        return
    click.echo(f"{wf.id} {wf.version}: {titled(wf.title, wf.title_en)}")
    click.echo(_("in force: {period}").format(period=period.text()))
    for citation in wf.basis:
        click.echo(_("basis: {citation}").format(citation=citation.text()))
    click.echo(_("source: {source}").format(source=f"{loaded.source} (sha256 {loaded.sha256[:12]})"))
    for i, stage in enumerate(wf.stages, 1):
        limit = "—"
        if stage.stall_limit:
            days = _("{days} working days") if stage.stall_limit.calendar == "working" else _("{days} days")
            limit = days.format(days=stage.stall_limit.days)
        click.echo(f"\nS{i} {stage.id}: {titled(stage.title, stage.title_en)}")
        click.echo("   " + _("responsible: {who}; stall limit: {limit}; next: {next}").format(
            who=wf.authorities[stage.responsible].title, limit=limit, next=wf.next_of(stage.id) or _("(final)")))
        req = stage.requires
        for kind in req.documents:
            click.echo(f"   {_('document'):<9} {kind}: {wf.documents[kind].title}")
        for kind in req.approvals:
            spec = wf.approvals[kind]
            click.echo(f"   {_('approval'):<9} {kind}: {spec.title} ({wf.authorities[spec.authority].title})")
        if req.consent:
            click.echo(f"   {_('consent'):<9} {req.consent.description}")
        if req.notice:
            days = _("{days} working days") if req.notice.calendar == "working" else _("{days} days")
            click.echo(f"   {_('notice'):<9} " + _("{days}, from the date of {document}").format(
                days=days.format(days=req.notice.days), document=req.notice.document))
        if req.no_open_objections:
            click.echo(f"   {_('objection'):<9} " + _("none may be open"))
        if req.no_open_complaints:
            click.echo("   " + _("complaints  none lodged after the notice may be open"))
        for rule in req.order:
            click.echo("   " + (_("order     {earlier} before {later} ({basis})") if rule.ordered and not rule.within
                                else _("order     {later} within {days} days of {earlier} ({basis})")).format(
                earlier=rule.earlier, later=rule.later, basis=rule.basis,
                days=rule.within.days if rule.within else ""))
        if req.chosen_scheme:
            click.echo(f"   {_('scheme'):<9} " + _("the owners' chosen elevator scheme"))
        for kind in req.meetings:
            click.echo(f"   {_('meeting'):<9} " + _("a meeting on record deciding {kind}").format(kind=kind))
        if req.payments:
            click.echo(f"   {_('payments'):<9} " + _("every household has paid {share} of what it owes").format(
                share=req.payments.share))
    if wf.subsidy:
        click.echo("\n" + _("subsidy: {method}, {description}; paid to the {payee}; flagged when unpaid {days} "
                            "days after the application").format(
            method=wf.subsidy.method, description=wf.subsidy.description, payee=wf.subsidy.payee,
            days=wf.subsidy.paid_within.days))
    if wf.upkeep and wf.upkeep.emergency_number:
        click.echo(_("elevator emergency number: {number}").format(number=wf.upkeep.emergency_number))


@workflow.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def check_(settings: Settings, files: tuple[Path, ...]) -> None:
    """Validate workflow files; report every problem with file and line. Exit 1 on any problem.

    Several versions of one workflow checked together must not be in force on the same day."""
    from eightstep.errors import WorkflowError
    from eightstep.workflow.loader import LoadedWorkflow, load_workflow_file
    from eightstep.workflow.registry import periods

    failed = 0
    by_id: dict[str, list[LoadedWorkflow]] = {}
    for path in files:
        try:
            loaded = load_workflow_file(path, _template_names())
        except WorkflowError as exc:
            failed += 1
            for problem in exc.problems:
                click.echo(problem, err=True)
            continue
        by_id.setdefault(loaded.id, []).append(loaded)
        click.echo(_("{path}: ok ({id} {version}, {count} stages)").format(
            path=path, id=loaded.id, version=loaded.version, count=len(loaded.definition.stages)))
    for versions in by_id.values():  # several versions of one workflow: their periods must not overlap
        try:
            periods(versions)
        except WorkflowError as exc:
            failed += 1
            for problem in exc.problems:
                click.echo(problem, err=True)
    if failed:
        click.echo(_("{failed} of {count} file(s) have problems").format(failed=failed, count=len(files)), err=True)
        click.get_current_context().exit(1)


def _template_names() -> set[str] | None:
    """Form ids that workflows may reference: template names without .html.j2 ($EIGHTSTEP_TEMPLATES, built-in)."""
    from eightstep.paperwork.names import form_ids, template_dirs

    return form_ids(template_dirs())


@workflow.command("diagram")
@click.argument("workflow_id", metavar="ID")
@click.pass_obj
def diagram(settings: Settings, workflow_id: str) -> None:
    """Print the workflow as a Mermaid state diagram."""
    from eightstep.workflow.machine import mermaid

    click.echo(mermaid(_registry(settings).get(workflow_id).definition), nl=False)
