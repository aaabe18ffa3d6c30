"""Render a case's forms to HTML or PDF, pack a stage's forms for the window, and log each in the case history."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eightstep import __version__
from eightstep.errors import InputError, NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.paperwork import privacy
from eightstep.paperwork.casedata import CaseData, load_case_data
from eightstep.paperwork.context import FormInfo, as_context, secrets
from eightstep.paperwork.forms import FORMS, generic
from eightstep.paperwork.materials import checklist
from eightstep.paperwork.names import form_ids, source_path, template_dirs, template_name
from eightstep.paperwork.needs import Gap, MissingData, Needs
from eightstep.paperwork.pack import PackEntry, material_entries
from eightstep.paperwork.stageneeds import form_info
from eightstep.store.outputs import Outputs
from eightstep.store.workspace import Workspace
from eightstep.suggest import did_you_mean
from eightstep.timeutil import iso_local, now_utc
from eightstep.workflow.schema import Workflow

if TYPE_CHECKING:
    from eightstep.paperwork.environment import FormEnvironment, TemplateVersion

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
    missing: list[str] | None = None  # None: not checked (no case)
    gaps: list[Gap] = field(default_factory=list)  # what fills each missing item

    @property
    def needs(self) -> list[Gap] | None:
        """What the form lacks, each with its remedy (None: not checked)."""
        return None if self.missing is None else self.gaps

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {"id": self.id, "title": self.title, "stages": self.stages, "public": self.public,
                                "template": self.template, "custom": self.custom}
        if self.needs is not None:
            data["ready"] = not self.needs
            data["missing"] = self.missing
            data["remedies"] = [g.remedy.as_dict() if g.remedy else None for g in self.gaps]
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
        self._template_dirs = tuple(template_dirs)
        self._env: FormEnvironment | None = None

    @property
    def env(self) -> FormEnvironment:
        """The template environment, made when a form is rendered first (listing the forms needs no Jinja)."""
        if self._env is None:
            from eightstep.paperwork.environment import FormEnvironment

            self._env = FormEnvironment(self._template_dirs)
        return self._env

    @property
    def ws(self) -> Workspace:
        if self._ws is None:
            raise InputError(_("this needs a database"), remedy=Remedy("init"))
        return self._ws

    # --- what exists ---------------------------------------------------------------------------------------

    def form_ids(self) -> list[str]:
        """Built-in forms first (in procedure order), then users' own templates by name."""
        found = form_ids(template_dirs(self._template_dirs))  # the environment's folders
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
        data = load_case_data(self.ws, case_id, at) if case_id else None
        wf = data.workflow.definition if data else workflow
        out = []
        for form_id in self.form_ids():
            spec = FORMS.get(form_id)
            stages = [s.id for s in wf.stages if form_id in s.forms] if wf else []
            missing = None
            gaps: list[Gap] = []
            if data is not None:
                try:
                    self._context(data, form_id)
                    missing = []
                except MissingData as exc:
                    missing, gaps = exc.missing, exc.gaps
            out.append(FormStatus(form_id, spec.title if spec else form_id, stages, spec.public if spec else False,
                                  self._source_path(template_name(form_id)), spec is None, missing, gaps))
        return out

    def _source_path(self, name: str) -> str:
        """The file of a form's template (``env.source_path`` without Jinja when the environment is not made)."""
        if self._env is None:
            found = source_path(template_dirs(self._template_dirs), name)
            if found is not None:
                return found
        return self.env.source_path(name)

    # --- one form ------------------------------------------------------------------------------------------

    def _info(self, data: CaseData, form_id: str) -> FormInfo:
        return form_info(data, form_id)

    def _context(self, data: CaseData, form_id: str) -> tuple[FormInfo, dict[str, Any]]:
        info = self._info(data, form_id)
        spec = FORMS.get(form_id)
        context = spec.build(data, info) if spec else generic(data, info)
        return info, as_context(context)

    def _render(self, data: CaseData, form_id: str, fmt: str) -> Rendered:
        if fmt not in FORMATS:
            raise InputError(_("format {fmt!r}: use html or pdf").format(fmt=fmt))
        self._require(form_id)
        name = template_name(form_id)
        version = self.env.version(name)
        info, context = self._context(data, form_id)
        html = self.env.render(name, context)
        path = self.env.source_path(name)
        if info.public:
            office = data.party("objection_office")
            public = (office.phone,) if office is not None and office.phone else ()
            shown = privacy.leaks(html, secrets(data, public), allowed=public)
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
        from eightstep.engine.actors import checked_role  # (SQLAlchemy: listing forms needs none on SQLite)

        checked_role(as_role)  # a bad --as is refused before anything is rendered or written
        data = load_case_data(self.ws, case_id, at)
        at = at or now_utc()
        results: list[Rendered] = []
        problems: list[MissingData] = []
        for form_id, _output in forms:
            try:
                results.append(self._render(data, form_id, fmt))
            except MissingData as exc:
                problems.append(exc)
        if problems:
            raise problems[0] if len(problems) == 1 else MissingData.joined(problems)
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
        from eightstep.engine.cases import default_actor  # the recording side: the ORM (listing forms needs none)
        from eightstep.paperwork.log import log_events

        return log_events(self.ws, case_id, version, at=at, actor=default_actor(actor), events=events,
                          role=as_role)

    # --- a stage's pack for the window ---------------------------------------------------------------------

    def pack(self, case_id: str, folder: Path, *, stage: str | None = None, fmt: str = "pdf",
             at: datetime | None = None, actor: str | None = None, as_role: str | None = None,
             outputs: Outputs | None = None, progress: Callable[[str, int, int], None] | None = None) -> Pack:
        """Every form of the stage (default: the case's stage as of ``at``) into ``folder`` (created when missing;
        its parent must exist), with ``manifest.json``; for a stage with a checklist (``materials``), also a copy of
        every paper it names, in its order. ``progress`` is told of each form rendered (phase "forms").

        All forms are rendered and all copies read before anything is written; one incomplete form refuses the
        whole pack. The files are staged and put in place once the history has recorded the pack (see ``render``
        for ``outputs``).
        """
        from eightstep.engine.actors import checked_role

        checked_role(as_role)
        data = load_case_data(self.ws, case_id, at)
        at = at or now_utc()
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
                results.append(self._render(data, form_id, fmt))
            except MissingData as exc:
                problems.append(exc)
            if progress is not None:
                progress("forms", done, len(forms))
        if problems:
            raise problems[0] if len(problems) == 1 else MissingData.joined(problems)
        materials = wf.stage(stage_id).materials
        cover = "00-" if materials else ""
        entries = [PackEntry(cover + r.filename(case_id), r.content,
                             {**r.record(cover + r.filename(case_id)), "title": r.title,
                              "number": f"{case_id}-{r.form}"}) for r in results]
        if materials:
            entries += self._materials(data, stage_id, fmt)
        manifest = {
            "case": case_id, "place": f"{data.complex.name}{data.case.building}栋{data.case.unit}单元",
            "workflow": {"id": wf.id, "version": wf.version, "sha256": data.workflow.sha256},
            "stage": {"id": stage_id, "title": wf.stage(stage_id).title}, "format": fmt,
            "as_of": iso_local(data.end), "as_of_version": data.version, "generator": f"eightstep {__version__}",
            "files": [e.record for e in entries],
        }
        text = json.dumps(manifest, ensure_ascii=False, indent=2) + "\n"
        digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
        with self._staging(outputs) as out:  # no pack on disk without its record in the history
            out.folder(folder, create=True)
            for e in entries:
                if e.name is not None and e.content is not None:
                    out.add(folder / e.name, e.content)
            out.add(folder / "manifest.json", text.encode("utf-8"))
            self._log(case_id, data.version, at, actor, [("form.pack", {
                "stage": stage_id, "format": fmt, "manifest_sha256": digest,
                "files": [{"file": e.record["file"], "form": e.record.get("form"), "kind": e.record.get("kind"),
                           "sha256": e.record.get("sha256"), "template_version": e.record.get("template_version")}
                          for e in entries if e.name is not None]})], as_role=as_role)
        return Pack(folder, manifest, digest, [folder / e.name for e in entries if e.name is not None])

    def _materials(self, data: CaseData, stage_id: str, fmt: str) -> list[PackEntry]:
        """The checklist's papers: each must be on record (one refusal lists every gap)."""
        wf = data.workflow.definition
        needs = Needs(data.case.id)
        rows = checklist(data, wf.stage(stage_id), {k: v.title for k, v in FORMS.items()}, needs)
        needs.refuse(_("the window's package of stage {stage}").format(stage=stage_id))

        def print_form(form_id: str) -> tuple[str, bytes, dict[str, Any]]:
            rendered = self._render(data, form_id, fmt)
            return rendered.filename(data.case.id), rendered.content, rendered.record()

        return material_entries(data, self.ws.files, rows, print_form)
