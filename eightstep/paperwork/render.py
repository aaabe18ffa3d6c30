"""Render a case's forms to HTML or PDF, pack a stage's forms for the window, and log each in the case history."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from eightstep import __version__
from eightstep.engine.actors import checked_role
from eightstep.engine.cases import default_actor
from eightstep.errors import InputError, NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.paperwork import (
    moneyforms,  # noqa: F401  (registers the receipts and the settlement)
    privacy,
)
from eightstep.paperwork.casedata import CaseData, load_case_data
from eightstep.paperwork.context import FormInfo, MissingData, Need, as_context, secrets
from eightstep.paperwork.environment import FormEnvironment, TemplateVersion
from eightstep.paperwork.forms import FORMS, generic
from eightstep.paperwork.log import log_events
from eightstep.paperwork.names import form_ids, template_name
from eightstep.paperwork.needs import form_info, form_needs
from eightstep.store.outputs import Outputs
from eightstep.store.workspace import Workspace
from eightstep.suggest import did_you_mean
from eightstep.timeutil import iso_local, now_utc
from eightstep.workflow.schema import Workflow

FORMATS = ("html", "pdf")


@dataclass(frozen=True)
class Rendered:
    form: str
    title: str
    format: str
    content: bytes
    sha256: str
    template: str  # the file the form's template resolved to
    version: TemplateVersion
    public: bool
    as_of_version: int
    warnings: list[str] = field(default_factory=list)

    def filename(self, case_id: str) -> str:
        return f"{case_id}-{self.form}.{self.format}"

    def record(self, file: str | None = None) -> dict[str, Any]:
        """What the history and the manifest keep of a generated document."""
        data: dict[str, Any] = {"form": self.form, "format": self.format, "sha256": self.sha256,
                                "bytes": len(self.content), "template_version": self.version.sha256,
                                "templates": self.version.sources, "public": self.public,
                                "as_of_version": self.as_of_version}
        if file is not None:
            data = {"file": file, **data}
        return data


@dataclass(frozen=True)
class FormStatus:
    id: str
    title: str
    stages: list[str]
    public: bool
    template: str
    custom: bool  # a user template without a built-in builder
    needs: list[Need] | None = None  # None: not checked (no case)

    @property
    def missing(self) -> list[str] | None:
        return None if self.needs is None else [n.message for n in self.needs]

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "title": self.title, "stages": self.stages, "public": self.public,
                                "template": self.template, "custom": self.custom}
        if self.needs is not None:
            data["ready"] = not self.needs
            data["missing"] = self.missing
        return data


@dataclass(frozen=True)
class Pack:
    folder: Path
    manifest: dict[str, Any]
    manifest_sha256: str
    files: list[Path]


class Paperwork:
    """The forms of the cases of one workspace, rendered with one template environment."""

    def __init__(self, ws: Workspace | None, template_dirs: Sequence[Path] = ()) -> None:
        self._ws = ws
        self.env = FormEnvironment(template_dirs)

    @property
    def ws(self) -> Workspace:
        if self._ws is None:
            raise InputError(_("this needs a database"), remedy=Remedy("init"))
        return self._ws

    # --- what exists ---------------------------------------------------------------------------------------

    def form_ids(self) -> list[str]:
        """Built-in forms first (in procedure order), then users' own templates by name."""
        found = form_ids(self.env.dirs)
        return [f for f in FORMS if f in found] + sorted(found - set(FORMS))

    def _require(self, form_id: str) -> None:
        if not self.env.exists(template_name(form_id)):
            known = ", ".join(self.form_ids()) or "none"
            raise NotFoundError(_("unknown form {form!r}{suggestion}: no template {template} (known: {known})").format(
                form=form_id, suggestion=did_you_mean(form_id, self.form_ids()), template=template_name(form_id),
                known=known))

    def list_forms(self, case_id: str | None = None, *, workflow: Workflow | None = None,
                   at: datetime | None = None) -> list[FormStatus]:
        """Every form with the stages that list it (of the case's workflow, else of ``workflow``); with a case,
        also whether its data is complete and what is missing."""
        data = load_case_data(self.ws, case_id) if case_id else None
        wf = data.workflow.definition if data else workflow
        out = []
        for form_id in self.form_ids():
            spec = FORMS.get(form_id)
            stages = [s.id for s in wf.stages if form_id in s.forms] if wf else []
            needs = None if data is None else form_needs(data, form_id, at or now_utc())
            out.append(FormStatus(form_id, spec.title if spec else form_id, stages, spec.public if spec else False,
                                  self.env.source_path(template_name(form_id)), spec is None, needs))
        return out

    # --- one form ------------------------------------------------------------------------------------------

    def _context(self, data: CaseData, form_id: str, at: datetime) -> tuple[FormInfo, dict[str, Any]]:
        info = form_info(data, form_id, at)
        spec = FORMS.get(form_id)
        context = spec.build(data, info) if spec else generic(data, info)
        return info, as_context(context)

    def _render(self, data: CaseData, form_id: str, fmt: str, at: datetime) -> Rendered:
        if fmt not in FORMATS:
            raise InputError(_("format {fmt!r}: use html or pdf").format(fmt=fmt))
        self._require(form_id)
        name = template_name(form_id)
        version = self.env.version(name)
        info, context = self._context(data, form_id, at)
        html = self.env.render(name, context)
        path = self.env.source_path(name)
        if info.public:
            shown = privacy.leaks(html, secrets(data))
            if shown:
                raise InputError(_("{form_id} is posted in public, but template {path} prints full phone or ID "
                                   "numbers ({count} of them); print them with |mask_phone or |mask_id").format(
                                     form_id=form_id, path=path, count=len(shown)))
        warnings: list[str] = []
        content = html.encode("utf-8")
        if fmt == "pdf":
            from eightstep.paperwork.pdf import cjk_font_missing, cjk_font_warning, html_to_pdf

            if cjk_font_missing():
                warnings.append(cjk_font_warning())
            content = html_to_pdf(html, base_url=str(Path(path).parent))
        return Rendered(form_id, info.title, fmt, content, hashlib.sha256(content).hexdigest(), path, version,
                        info.public, data.version, warnings)

    def render(self, case_id: str, form_id: str, fmt: str = "html", *, at: datetime | None = None,
               actor: str | None = None, as_role: str | None = None, output: Path | None = None,
               outputs: Outputs | None = None) -> Rendered:
        """Render one form from the case's records and log it (``form.render``) in the case's history.

        With ``output`` the file is staged (checked, written under a temporary name) before the history records
        it and put in place after; ``outputs`` decides what may be written (default: no existing file is
        replaced, never the database or its files store). ``as_role``: the role the actor acts in (``--as``;
        default: the actor's role on record in the case).
        """
        return self._render_logged(case_id, [(form_id, output)], fmt, at, actor, as_role, outputs)[0]

    def render_many(self, case_id: str, form_ids: Sequence[str], fmt: str = "html", *, at: datetime | None = None,
                    actor: str | None = None, as_role: str | None = None, folder: Path | None = None,
                    outputs: Outputs | None = None) -> list[Rendered]:
        """Render several forms of one case from one read of its records, as ``render`` does each.

        Every form is logged with its own ``form.render`` event (the same details as ``render``), all in one
        transaction. With ``folder`` (created when missing; its parent must exist) each is written there as
        ``CASE-FORM.FORMAT``. All forms are rendered before anything is written: one form with incomplete data
        refuses them all, listing the gaps of each.
        """
        wanted = list(dict.fromkeys(form_ids))
        if not wanted:
            raise InputError(_("name at least one form"))
        return self._render_logged(case_id, [(f, folder / f"{case_id}-{f}.{fmt}" if folder is not None else None)
                                             for f in wanted], fmt, at, actor, as_role, outputs, folder)

    @contextmanager
    def _staging(self, outputs: Outputs | None) -> Iterator[Outputs]:
        """The caller's outputs (it puts them in place), else our own, put in place when the block succeeds."""
        if outputs is not None:
            yield outputs
            return
        with Outputs(self.ws.protected) as own:
            yield own

    def _render_logged(self, case_id: str, forms: list[tuple[str, Path | None]], fmt: str, at: datetime | None,
                       actor: str | None, as_role: str | None, outputs: Outputs | None,
                       folder: Path | None = None) -> list[Rendered]:
        checked_role(as_role)  # a bad --as is refused before anything is rendered or written
        at = at or now_utc()
        data = load_case_data(self.ws, case_id)
        results: list[Rendered] = []
        problems: list[MissingData] = []
        for form_id, _output in forms:
            try:
                results.append(self._render(data, form_id, fmt, at))
            except MissingData as exc:
                problems.append(exc)
        if problems:
            raise MissingData.joined(problems)
        with self._staging(outputs) as out:
            if folder is not None:
                out.folder(folder, create=True)
            for (_f, output), r in zip(forms, results, strict=True):
                if output is not None:
                    out.add(output, r.content)
            self._log(case_id, data.version, at, actor,
                      [("form.render", r.record(output.name if output is not None else None))
                       for (_f, output), r in zip(forms, results, strict=True)], as_role=as_role)
        return results

    def _log(self, case_id: str, version: int, at: datetime, actor: str | None,
             events: Sequence[tuple[str, dict[str, Any]]], *, as_role: str | None = None) -> int:
        """Append ``events`` (action, details) to the case's history in one transaction; the case's new version.

        Printing is recorded even for a withdrawn case; the records must not have changed since they were read.
        Each event names the actor's role (``as_role``, else the one on record: one lookup for all of them).
        """
        return log_events(self.ws, case_id, version, at=at, actor=default_actor(actor), events=events,
                          role=as_role)

    # --- a stage's pack for the window ---------------------------------------------------------------------

    def pack(self, case_id: str, folder: Path, *, stage: str | None = None, fmt: str = "pdf",
             at: datetime | None = None, actor: str | None = None, as_role: str | None = None,
             outputs: Outputs | None = None, progress: Callable[[str, int, int], None] | None = None) -> Pack:
        """Every form of the stage (default: the case's current stage) into ``folder`` (created when missing; its
        parent must exist), with ``manifest.json``; ``progress`` is told of each form rendered (phase "forms").

        All forms are rendered before anything is written; one incomplete form refuses the whole pack. The files
        are staged and put in place once the history has recorded the pack (see ``render`` for ``outputs``).
        """
        checked_role(as_role)
        at = at or now_utc()
        data = load_case_data(self.ws, case_id)
        wf = data.workflow.definition
        stage_id = stage or data.case.stage
        if stage_id not in wf.stage_ids():
            raise InputError(_("{stage_id!r}: workflow {id} has stages {stage_ids}").format(
                                 stage_id=stage_id, id=wf.id, stage_ids=', '.join(wf.stage_ids())), field="stage")
        forms = wf.stage(stage_id).forms
        if not forms:
            with_forms = [s.id for s in wf.stages if s.forms]
            raise InputError(_("stage {stage_id} of workflow {id} lists no forms (stages with forms: "
                               "{with_forms})").format(stage_id=stage_id, id=wf.id,
                                                       with_forms=", ".join(with_forms) or "—"))
        results: list[Rendered] = []
        problems: list[MissingData] = []
        for done, form_id in enumerate(forms, 1):
            try:
                results.append(self._render(data, form_id, fmt, at))
            except MissingData as exc:
                problems.append(exc)
            if progress is not None:
                progress("forms", done, len(forms))
        if problems:
            raise MissingData.joined(problems)
        manifest = {
            "case": case_id, "place": f"{data.complex.name}{data.case.building}栋{data.case.unit}单元",
            "workflow": {"id": wf.id, "version": wf.version, "sha256": data.workflow.sha256},
            "stage": {"id": stage_id, "title": wf.stage(stage_id).title}, "format": fmt,
            "generated_at": iso_local(at), "as_of_version": data.version, "generator": f"eightstep {__version__}",
            "files": [r.record(r.filename(case_id)) for r in results],
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        contents = {r.filename(case_id): r.content for r in results}
        contents["manifest.json"] = text.encode("utf-8")
        with self._staging(outputs) as out:  # no pack on disk without its record in the history
            out.folder(folder, create=True)
            for name, content in contents.items():
                out.add(folder / name, content)
            self._log(case_id, data.version, at, actor, [("form.pack", {
                "stage": stage_id, "format": fmt, "manifest_sha256": digest,
                "files": [{"file": r.filename(case_id), "form": r.form, "sha256": r.sha256,
                           "template_version": r.version.sha256} for r in results]})], as_role=as_role)
        return Pack(folder, manifest, digest, [folder / r.filename(case_id) for r in results])
