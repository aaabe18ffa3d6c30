"""Find workflow files by id and by the day their rules are in force: user folders first, then the built-in ones.

A procedure may have several versions, one file each: ``<id>.yaml`` and ``<id>@<label>.yaml`` (for example
``wuhan.yaml`` with the 2026 regulation and ``wuhan@2024.yaml`` with the 2024 guidance). A user folder that has
a file of a workflow holds all its versions: the built-in versions of that id are then not read. Each version
says from when (and until when) it is in force; a version without ``effective_until`` is in force until the
next one takes effect.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from eightstep.errors import NotFoundError, WorkflowError
from eightstep.i18n import _
from eightstep.resources import builtin_dir
from eightstep.workflow import snapcache
from eightstep.workflow.label import workflow_label

if TYPE_CHECKING:
    from eightstep.workflow.loader import LoadedWorkflow

DEFAULT_WORKFLOW = "wuhan"
VERSION_MARK = "@"  # wuhan@2024.yaml: another version of the workflow wuhan


def workflow_id_of(path: Path) -> str:
    """The workflow id a file name stands for: ``wuhan@2024.yaml`` -> ``wuhan``."""
    return path.stem.split(VERSION_MARK, 1)[0]


@dataclass(frozen=True)
class Period:
    """The days one version is in force, both included; None: unbounded on that side."""

    start: date | None
    end: date | None

    def holds(self, day: date) -> bool:
        return (self.start is None or self.start <= day) and (self.end is None or day <= self.end)

    def text(self) -> str:
        if self.start is None and self.end is None:
            return _("always")
        if self.end is None:
            return _("from {start}").format(start=self.start)
        if self.start is None:
            return _("until {end}").format(end=self.end)
        return _("{start} to {end}").format(start=self.start, end=self.end)


@dataclass(frozen=True)
class Version:
    loaded: LoadedWorkflow
    period: Period


def periods(versions: Sequence[LoadedWorkflow]) -> list[Version]:
    """The versions of one workflow in the order they take effect, each with the days it is in force; raise
    WorkflowError when two are in force on the same day or share a version label."""
    ordered = sorted(versions, key=lambda v: (v.definition.effective_from is not None,
                                              v.definition.effective_from or date.min, v.version))
    out: list[Version] = []
    problems: list[str] = []
    for i, loaded in enumerate(ordered):
        wf = loaded.definition
        following = ordered[i + 1].definition.effective_from if i + 1 < len(ordered) else None
        end = wf.effective_until
        if end is None and following is not None:
            end = following - timedelta(days=1)
        out.append(Version(loaded, Period(wf.effective_from, end)))
        if i + 1 < len(ordered):
            nxt = ordered[i + 1]
            if following is None or (wf.effective_from is not None and following <= wf.effective_from) \
                    or (end is not None and end >= following):
                day = following or wf.effective_from
                problems.append(_("{source}: workflow {id} versions {a} and {b} ({other}) are both in force on "
                                  "{day}: give each version its own effective_from, and end the earlier one "
                                  "before the later one starts").format(
                    source=loaded.source, id=wf.id, a=wf.version, b=nxt.version, other=nxt.source,
                    day=day or _("every day")))
    labels: dict[str, str] = {}
    for loaded in ordered:
        if loaded.version in labels:
            problems.append(_("{source}: workflow {id} version {version} is also in {other}: give each file its "
                              "own version").format(source=loaded.source, id=loaded.id, version=loaded.version,
                                                     other=labels[loaded.version]))
        labels.setdefault(loaded.version, loaded.source)
    if problems:
        raise WorkflowError(problems)
    return out


class WorkflowRegistry:
    """The workflow files on disk. Loading is lazy and cached; snapshots pin open cases (see ``store``)."""

    def __init__(self, user_dirs: Sequence[Path] = (), template_names: set[str] | None = None) -> None:
        self.dirs = [*user_dirs, builtin_dir("workflows")]
        self.template_names = template_names
        self._files: dict[Path, LoadedWorkflow] = {}
        self._versions: dict[str, list[Version]] = {}
        self._by_hash: dict[str, LoadedWorkflow] = {}

    def files(self) -> dict[str, Path]:
        """File stem -> file. The first folder (user folders first) that has a file of a workflow id holds every
        version of it: a user's ``wuhan.yaml`` hides all the built-in versions of ``wuhan``."""
        found: dict[str, Path] = {}
        owner: dict[str, Path] = {}  # workflow id -> the folder that defines it
        for folder in self.dirs:
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.yaml")):
                if owner.setdefault(workflow_id_of(path), folder) == folder:
                    found.setdefault(path.stem, path)
        return found

    def paths(self) -> dict[str, Path]:
        """Workflow id -> the file of its newest version (the one that takes effect last)."""
        out: dict[str, Path] = {}
        for path in self.files().values():
            out.setdefault(workflow_id_of(path), path)
        for workflow_id in out:
            try:
                out[workflow_id] = Path(self.versions(workflow_id)[-1].loaded.source)
            except WorkflowError:
                continue  # a broken file is `workflow check`'s business; the plain file name stands in
        return out

    def load(self, path: Path) -> LoadedWorkflow:
        if path not in self._files:
            from eightstep.workflow.loader import load_workflow_file  # pydantic: only when a file is read

            loaded = load_workflow_file(path, self.template_names)
            self._files[path] = loaded
            self._by_hash[loaded.sha256] = loaded
        return self._files[path]

    def versions(self, workflow_id: str) -> list[Version]:
        """Every version of a workflow in the order they take effect, with their periods."""
        if workflow_id not in self._versions:
            paths = [p for p in self.files().values() if workflow_id_of(p) == workflow_id]
            if not paths:
                known = ", ".join(sorted({workflow_id_of(p) for p in self.files().values()})) or "none"
                raise NotFoundError(_("unknown workflow {id!r} (known: {known})").format(id=workflow_id,
                                                                                          known=known))
            self._versions[workflow_id] = periods([self.load(p) for p in paths])
        return self._versions[workflow_id]

    def get(self, workflow_id: str) -> LoadedWorkflow:
        """The newest version of a workflow."""
        return self.versions(workflow_id)[-1].loaded

    def in_force(self, workflow_id: str, day: date) -> LoadedWorkflow:
        """The version of a workflow in force on ``day``; NotFoundError naming the versions when none is."""
        versions = self.versions(workflow_id)
        for version in versions:
            if version.period.holds(day):
                return version.loaded
        listed = "; ".join(f"{v.loaded.version} ({v.period.text()})" for v in versions)
        raise NotFoundError(_("workflow {id} has no version in force on {day}; its versions: {versions}. Choose "
                              "another workflow, or add a version in force that day").format(
            id=workflow_id, day=day, versions=listed))

    def known(self, sha256: str) -> LoadedWorkflow | None:
        """The rules of content hash ``sha256`` if they were read already (from a file or a snapshot)."""
        return self._by_hash.get(sha256)

    def from_snapshot(self, content: str, sha256: str, workflow_id: str, version: str) -> LoadedWorkflow:
        """The rules a case was opened under, re-read from the copy stored with it (once per content hash; the
        store's read layer, ``eightstep.store.read.workflows``, is the one caller)."""
        if sha256 not in self._by_hash:
            source = workflow_label(workflow_id, version)
            loaded = snapcache.load(sha256, source)  # parsed by an earlier run of this same code
            if loaded is None:
                from eightstep.workflow.loader import parse_workflow_text  # pydantic: only when a snapshot is parsed

                try:
                    loaded = parse_workflow_text(content, source)
                except WorkflowError as exc:
                    raise WorkflowError(
                        [_("the stored workflow {source} no longer passes validation with this version of "
                           "eightstep:").format(source=source), *exc.problems]
                    ) from None
                snapcache.store(loaded)
            self._by_hash[sha256] = loaded
        return self._by_hash[sha256]
