"""Where form templates are found and what they are called; cheap to import (no Jinja)."""

from __future__ import annotations

import os
import posixpath
from collections.abc import Sequence
from pathlib import Path

from eightstep.resources import builtin_dir

ENV_TEMPLATES = "EIGHTSTEP_TEMPLATES"
SUFFIX = ".html.j2"


def template_name(form_id: str) -> str:
    return form_id + SUFFIX


def user_template_dirs(user_dirs: Sequence[Path] = ()) -> list[Path]:
    """User folders: those given, then $EIGHTSTEP_TEMPLATES (earlier folders win)."""
    env = [Path(p) for p in os.environ.get(ENV_TEMPLATES, "").split(os.pathsep) if p]
    return [*user_dirs, *env]


def template_dirs(user_dirs: Sequence[Path] = ()) -> list[Path]:
    """User folders, then the built-in folder: where form templates are looked for, earlier folders first."""
    return [*user_template_dirs(user_dirs), builtin_dir("templates")]


def source_path(folders: Sequence[Path], name: str) -> str | None:
    """The file the template ``name`` (a file name, no folder) resolves to as Jinja's loader finds it (the first
    folder that has it, ``eightstep.templating``), without importing Jinja; None when no folder has it."""
    for folder in folders:
        filename = posixpath.join(str(folder), name)
        if os.path.isfile(filename):
            return os.path.normpath(filename)
    return None


def form_ids(folders: Sequence[Path]) -> set[str]:
    """Form ids of the templates in ``folders``: file names without ``.html.j2``; ``_name`` files are partials."""
    found: set[str] = set()
    for folder in folders:
        if folder.is_dir():
            found.update(p.name.removesuffix(SUFFIX) for p in folder.glob("*" + SUFFIX) if not p.name.startswith("_"))
    return found


# The document kind (of the shipped workflows) that a built-in form becomes once printed and signed: `case check`
# names what such a form still needs when that document is missing. A form not listed here is its own kind.
PRINTED_AS: dict[str, str] = {
    "application": "application", "ballots": "ballot_forms", "agreement": "agreement", "notice": "notice_posting",
    "joint_review": "window_application", "usage_convention": "usage_convention",
    "operation_authorization": "operation_authorization",
}
