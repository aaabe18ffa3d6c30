"""`eightstep forms ...`: list, render and pack the forms of a case; name the parties the forms mention."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eightstep.cli import Settings, completion
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, table, warn
from eightstep.cli.outputs import force_option, outputs
from eightstep.cli.params import AT, CASE, acting_options, case_argument, json_option, recording_options
from eightstep.i18n import _
from eightstep.roles import ONE, ROLES

if TYPE_CHECKING:
    from eightstep.paperwork.needs import Gap
    from eightstep.paperwork.render import Paperwork, Rendered

@contextmanager
def gaps_explained() -> Iterator[None]:
    """A form that refuses lists every gap and, under it, the command that fills it; exit 1."""
    from eightstep.paperwork.needs import MissingData

    try:
        yield
    except MissingData as exc:
        for headline, gaps in exc.sections:  # one per form refused
            click.echo(_("Error: {headline}").format(headline=headline), err=True)
            print_gaps(gaps, err=True)
        click.get_current_context().exit(exc.exit_code)


def print_gaps(gaps: list[Gap], *, err: bool = False, indent: str = "  ") -> None:
    from eightstep.cli.remedies import spell_all

    for gap in gaps:
        click.echo(f"{indent}- {gap.message}", err=err)
        for command in spell_all(gap.remedy) if gap.remedy else []:
            click.echo(f"{indent}  → {command}", err=err)


def templates_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--templates", "template_dirs", multiple=True,
                        type=click.Path(path_type=Path, file_okay=False, exists=True),
                        help="Folder of templates that override or extend the built-in ones (repeatable; also env "
                             "EIGHTSTEP_TEMPLATES). Extend a shipped form with {% extends \"builtin/NAME.html.j2\" %}."
                        )(fn)


def _paperwork(settings: Settings, template_dirs: tuple[Path, ...], with_db: bool = True) -> Paperwork:
    from eightstep.paperwork.render import Paperwork

    return Paperwork(settings.workspace() if with_db else None, template_dirs)


@click.group(cls=Group)
def forms() -> None:
    """The forms and notices of each stage, generated from the case's records (HTML or PDF)."""


@forms.command("list")
@click.argument("case_id", metavar="[CASE]", required=False, type=CASE)
@click.option("--workflow", "workflow_id", default=None, help="Without CASE: show the stages of this workflow.")
@click.option("--at", type=AT, default=None, help="With CASE: whether each form can be rendered as of this date.")
@templates_option
@json_option
@click.pass_obj
def list_(settings: Settings, case_id: str | None, workflow_id: str | None, at: datetime | None,
          template_dirs: tuple[Path, ...], as_json: bool) -> None:
    """The forms, the stages that list them, and (with CASE) whether each can be rendered now."""
    workflow = None
    if case_id is None:
        from eightstep.store.workspace import ENV_WORKFLOWS, _dirs_from_env
        from eightstep.workflow.registry import DEFAULT_WORKFLOW, WorkflowRegistry

        registry = WorkflowRegistry([*settings.workflow_dirs, *_dirs_from_env(ENV_WORKFLOWS)])
        workflow = registry.get(workflow_id or DEFAULT_WORKFLOW).definition
    rows = _paperwork(settings, template_dirs, with_db=case_id is not None).list_forms(case_id, workflow=workflow,
                                                                                       at=at)
    if as_json:
        from eightstep.cli.remedies import needs_data

        emit_json([{**r.as_dict(), **({"needs": needs_data(r.needs, case_id)} if r.needs is not None else {})}
                   for r in rows])
        return
    headers = [_("form"), _("title"), _("stages"), _("public")] + ([_("ready")] if case_id else [])
    table(headers, [[r.id + (_(" (custom)") if r.custom else ""), r.title, ", ".join(r.stages) or "—",
                     _("yes") if r.public else "", *([(_("yes") if not r.missing else _("no"))] if case_id else [])]
                    for r in rows])

    for r in rows:
        if r.gaps:
            click.echo(_("{form} is missing:").format(form=r.id))
            print_gaps(r.gaps)


# --at of render and pack: the day the case is shown as of (the generic "when it happened" of a recording misled)
as_of_option = click.option("--at", type=AT, default=None,
                            help="Render the case as it stood at the end of this day (default now): its stage and "
                                 "status then, and only the records dated by then.")


@forms.command("render")
@case_argument
@click.argument("form_ids", metavar="FORM...", nargs=-1, required=True, shell_complete=completion.form_names)
@click.option("--format", "fmt", type=click.Choice(["html", "pdf"]), default="html", show_default=True,
              help="HTML (prints on A4 from a browser) or PDF (Chinese fonts embedded).")
@click.option("-o", "--output", type=click.Path(path_type=Path, allow_dash=True), default=None,
              help="One FORM: the file to write (default CASE-FORM.html|pdf here; - for standard output). Several: "
                   "the folder to write CASE-FORM.html|pdf into (default here; created if missing, in a folder "
                   "that exists).")
@force_option
@templates_option
@as_of_option
@acting_options
@click.pass_obj
def render(settings: Settings, case_id: str, form_ids: tuple[str, ...], fmt: str, output: Path | None, force: bool,
           template_dirs: tuple[Path, ...], at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Render FORM of CASE from its records, and record it in the case history (template version, sha256).

    --at DATE renders the case as it stood at the end of that day (its stage and status then, only the records
    dated by then); the forms take their dates from the records, and papers still to be signed leave the date to
    be written by hand.

    Several FORMs are rendered from one read of the records and recorded together (one history entry each);
    one form with incomplete data refuses them all.
    """
    to_stdout = output is not None and str(output) == "-"
    forms_asked = list(dict.fromkeys(form_ids))
    if len(forms_asked) > 1:
        if to_stdout:
            raise click.BadParameter(_("standard output (-) takes one FORM; give a folder for several"),
                                     param_hint="'-o' / '--output'")
        folder = output or Path(".")
        if folder.exists() and not folder.is_dir():
            raise click.BadParameter(_("{path} is a file; with several FORMs -o names a folder").format(path=folder),
                                     param_hint="'-o' / '--output'")
        with gaps_explained(), outputs(settings, force) as out:
            results = _paperwork(settings, template_dirs).render_many(case_id, forms_asked, fmt, at=at, actor=actor,
                                                                      as_role=as_role, folder=folder, outputs=out)
        for message in dict.fromkeys(m for r in results for m in r.warnings):
            warn(message)
        for result in results:
            _rendered(case_id, result, folder / result.filename(case_id))
        return
    if output is not None and not to_stdout and output.is_dir():
        raise click.BadParameter(_("{path} is a folder; with one FORM -o names the file to write").format(path=output),
                                 param_hint="'-o' / '--output'")
    form_id = forms_asked[0]
    target = None if to_stdout else (output or Path(f"{case_id}-{form_id}.{fmt}"))
    with gaps_explained(), outputs(settings, force) as out:
        result = _paperwork(settings, template_dirs).render(case_id, form_id, fmt, at=at, actor=actor,
                                                            as_role=as_role, output=target, outputs=out)
    for message in result.warnings:
        warn(message)
    if target is None:
        click.echo(result.content, nl=False)  # bytes go to the binary stream as they are
        return
    _rendered(case_id, result, target)


def _rendered(case_id: str, result: Rendered, target: Path) -> None:
    click.echo(_("{case}: {title} -> {target} ({size} bytes, sha256 {sha}, template {template})").format(
        case=case_id, title=result.title, target=target, size=len(result.content), sha=result.sha256[:12],
        template=result.version.sha256[:12]))


@forms.command("pack")
@case_argument
@click.option("--stage", default=None, help="Stage id (default: the case's current stage).")
@click.option("-o", "--output", "folder", required=True, type=click.Path(path_type=Path, file_okay=False),
              help="Folder to write the forms and manifest.json into (created if missing, in a folder that exists).")
@click.option("--format", "fmt", type=click.Choice(["pdf", "html"]), default="pdf", show_default=True,
              help="Format of the forms in the pack.")
@force_option
@templates_option
@as_of_option
@acting_options
@click.pass_obj
def pack(settings: Settings, case_id: str, stage: str | None, folder: Path, fmt: str, force: bool,
         template_dirs: tuple[Path, ...], at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Every form of a stage plus manifest.json for the approval window; a stage with a checklist (the window
    application) also gets a copy of every paper the checklist names, numbered in its order.

    The manifest lists each file with its sha256, issuer, number and date. --at DATE packs the case as it stood
    at the end of that day."""
    from eightstep.cli.progress import progress_bars

    with gaps_explained(), outputs(settings, force) as out, progress_bars({"forms": _("Rendering forms")}) as bars:
        result = _paperwork(settings, template_dirs).pack(case_id, folder, stage=stage, fmt=fmt, at=at, actor=actor,
                                                          as_role=as_role, outputs=out, progress=bars)
    for entry in result.manifest["files"]:
        made = _("  template {template}").format(template=entry["template_version"][:12]) \
            if entry.get("template_version") else ""
        if entry["file"] is None:
            click.echo(_("(not a file) {title}  {issuer} {number} {date}").format(
                title=entry["title"], issuer=entry["issuer"], number=entry["number"] or "", date=entry["date"]))
        else:
            click.echo(_("{file}  sha256 {sha}{made}").format(file=entry["file"], sha=entry["sha256"][:12],
                                                              made=made))
    click.echo(_("{case}: {count} files of stage {stage} and manifest.json in {folder} (manifest sha256 "
                 "{sha})").format(case=case_id, count=len(result.files), stage=result.manifest["stage"]["id"],
                                  folder=folder, sha=result.manifest_sha256[:12]))


@forms.command("party")
@case_argument
@click.argument("role", type=click.Choice([k for k, v in ROLES.items() if v.holders == ONE]))
@click.option("--name", required=True, help="Person or organisation, e.g. 武汉纸坊物业服务有限公司.")
@click.option("--phone", default=None, help="Phone number (masked on posted documents).")
@click.option("--id-number", default=None, help="Resident ID number of a person (masked on posted documents).")
@click.option("--address", default=None, help="Address (for objection_office: where objections are lodged).")
@recording_options
@click.pass_obj
def party(settings: Settings, case_id: str, role: str, name: str, phone: str | None, id_number: str | None,
          address: str | None, at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Name who the forms of CASE mention in ROLE (the earlier one's term ends): the same register as `role add`.

    agent: the owners' agent at the window (default: the owner representative); use_unit: the use-management unit
    (使用管理单位); property: the property company the owners authorise; designer, installer, maintainer;
    objection_office: where objections to the notice are lodged (its phone is printed in full on the notice);
    safety_manager: the use unit's elevator safety manager. A name already on record is the same person: the
    details given are added to their record.
    """
    from eightstep.paperwork.parties import set_party

    p = set_party(settings.workspace(), case_id, role, name=name, phone=phone, id_number=id_number,
                  address=address, at=at, actor=actor, as_role=as_role)
    click.echo(_("{case}: {title} {name}").format(case=case_id, title=p.role_title, name=p.name))


@forms.command("parties")
@case_argument
@json_option
@click.pass_obj
def parties(settings: Settings, case_id: str, as_json: bool) -> None:
    """The parties named for CASE's forms."""
    from eightstep.paperwork.parties import list_parties

    rows = list_parties(settings.workspace(), case_id)
    if as_json:
        emit_json([p.as_dict() for p in rows])
        return
    table([_("role"), _("title"), _("name"), _("phone"), _("id number"), _("address")],
          [[p.role, p.role_title, p.name, p.phone or "", p.id_number or "", p.address or ""] for p in rows])


void_command(forms, "party", name="party-void", key="ROLE", key_type=str,
             summary="Remove the party of ROLE from the forms of CASE (`forms party` names one again).")
