"""`eightstep workflow ...`: list, show, check, diagram."""

from __future__ import annotations

from pathlib import Path

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.output import emit_json, table
from eightstep.cli.params import json_option


@click.group(cls=Group)
def workflow() -> None:
    """Procedure definitions (workflows/*.yaml)."""


def _registry(settings: Settings):
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
    table(["workflow", "file version", "title", "cases by version (open/all)", "file"],
          [[r["id"], r["version"] or "INVALID", r["title"],
            "; ".join(f"{v['version']}: {v['open']}/{v['cases']}" + ("" if v["matches_file"] else " (older)")
                      for v in r["versions"]) or "—", r["source"]] for r in rows])
    for r in rows:
        if r["error"]:
            click.echo(f"Warning: {r['id']}: {r['error']}", err=True)


@workflow.command("show")
@click.argument("workflow_id", metavar="ID")
@json_option
@click.pass_obj
def show_(settings: Settings, workflow_id: str, as_json: bool) -> None:
    """The stages of a workflow with their requirements."""
    loaded = _registry(settings).get(workflow_id)
    wf = loaded.definition
    if as_json:
        data = wf.model_dump(mode="json")
        data["sha256"] = loaded.sha256
        data["source"] = loaded.source
        emit_json(data)
        return
    click.echo(f"{wf.id} {wf.version}: {wf.title} / {wf.title_en}")
    click.echo(f"source: {loaded.source} (sha256 {loaded.sha256[:12]})")
    for i, stage in enumerate(wf.stages, 1):
        limit = (f"{stage.stall_limit.days} {'working ' if stage.stall_limit.calendar == 'working' else ''}days"
                 if stage.stall_limit else "—")
        click.echo(f"\nS{i} {stage.id}: {stage.title} / {stage.title_en}")
        click.echo(f"   responsible: {wf.authorities[stage.responsible].title}; stall limit: {limit}; "
                   f"next: {wf.next_of(stage.id) or '(final)'}")
        req = stage.requires
        for kind in req.documents:
            click.echo(f"   document  {kind}: {wf.documents[kind].title}")
        for kind in req.approvals:
            spec = wf.approvals[kind]
            click.echo(f"   approval  {kind}: {spec.title} ({wf.authorities[spec.authority].title})")
        if req.consent:
            click.echo(f"   consent   {req.consent.description}")
        if req.notice:
            unit = "working days" if req.notice.calendar == "working" else "days"
            click.echo(f"   notice    {req.notice.days} {unit}, from the date of {req.notice.document}")
        if req.no_open_objections:
            click.echo("   objections  none may be open")
        if req.chosen_scheme:
            click.echo("   scheme    the owners' chosen elevator scheme")
        for kind in req.meetings:
            click.echo(f"   meeting   a meeting on record deciding {kind}")


@workflow.command("check")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.pass_obj
def check_(settings: Settings, files: tuple[Path, ...]) -> None:
    """Validate workflow files; report every problem with file and line. Exit 1 on any problem."""
    from eightstep.errors import WorkflowError
    from eightstep.workflow.loader import load_workflow_file

    failed = 0
    for path in files:
        try:
            loaded = load_workflow_file(path, _template_names())
        except WorkflowError as exc:
            failed += 1
            for problem in exc.problems:
                click.echo(problem, err=True)
            continue
        click.echo(f"{path}: ok ({loaded.id} {loaded.version}, {len(loaded.definition.stages)} stages)")
    if failed:
        click.echo(f"{failed} of {len(files)} file(s) have problems", err=True)
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
