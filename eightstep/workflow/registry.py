"""Find workflow files by id: user folders first, then the built-in ones."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from eightstep.errors import NotFoundError, WorkflowError
from eightstep.resources import builtin_dir
from eightstep.workflow.loader import LoadedWorkflow, load_workflow_file, parse_workflow_text

DEFAULT_WORKFLOW = "wuhan"


class WorkflowRegistry:
    """The workflow files on disk. Loading is lazy and cached; snapshots pin open cases (see ``store``)."""

    def __init__(self, user_dirs: Sequence[Path] = (), template_names: set[str] | None = None) -> None:
        self.dirs = [*user_dirs, builtin_dir("workflows")]
        self.template_names = template_names
        self._cache: dict[str, LoadedWorkflow] = {}
        self._by_hash: dict[str, LoadedWorkflow] = {}

    def paths(self) -> dict[str, Path]:
        """Workflow id -> file; a user folder's file shadows a built-in file with the same name."""
        found: dict[str, Path] = {}
        for folder in self.dirs:
            if not folder.is_dir():
                continue
            for path in sorted(folder.glob("*.yaml")):
                found.setdefault(path.stem, path)
        return found

    def get(self, workflow_id: str) -> LoadedWorkflow:
        if workflow_id not in self._cache:
            path = self.paths().get(workflow_id)
            if path is None:
                known = ", ".join(self.paths()) or "none"
                raise NotFoundError(f"unknown workflow {workflow_id!r} (known: {known})")
            loaded = load_workflow_file(path, self.template_names)
            self._cache[workflow_id] = loaded
            self._by_hash[loaded.sha256] = loaded
        return self._cache[workflow_id]

    def from_snapshot(self, content: str, sha256: str, source: str) -> LoadedWorkflow:
        """The rules a case was opened under, re-read from the copy stored with it."""
        if sha256 not in self._by_hash:
            try:
                loaded = parse_workflow_text(content, source)
            except WorkflowError as exc:
                raise WorkflowError(
                    [f"the stored workflow {source} no longer passes validation with this version of "
                     "eightstep:", *exc.problems]
                ) from None
            self._by_hash[sha256] = loaded
        return self._by_hash[sha256]
