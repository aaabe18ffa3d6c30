"""Which workflow versions are on disk and which have cases pinned to them."""

from __future__ import annotations

from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func
from sqlmodel import select

from eightstep.errors import WorkflowError
from eightstep.store import models
from eightstep.store.models import WITHDRAWN
from eightstep.store.workspace import Workspace
from eightstep.workflow.loader import load_workflow_file
from eightstep.workflow.registry import WorkflowRegistry


def usage(registry: WorkflowRegistry, ws: Workspace | None) -> list[dict[str, Any]]:
    """Per workflow file: its current version and hash, and per stored version the open and total cases."""
    counts: dict[str, list[tuple[str, str, int, int]]] = {}
    if ws is not None:
        with ws.session() as session:
            open_cases = func.sum(sql_case((models.Case.status != WITHDRAWN, 1), else_=0))
            query = (select(models.Case.workflow_id, models.Case.workflow_version, models.Case.workflow_sha256,
                            func.count(), open_cases)
                     .group_by(models.Case.workflow_id, models.Case.workflow_version, models.Case.workflow_sha256))
            for wid, version, sha, total, opened in session.exec(query):
                counts.setdefault(wid, []).append((version, sha, int(opened or 0), int(total)))
    rows = []
    for wid, path in registry.paths().items():
        entry: dict[str, Any] = {"id": wid, "source": str(path), "version": None, "title": "", "sha256": None,
                                 "error": None}
        try:
            loaded = load_workflow_file(path, registry.template_names)
            entry.update(version=loaded.version, title=loaded.definition.title, sha256=loaded.sha256)
        except WorkflowError as exc:
            entry["error"] = f"invalid file: {exc.problems[0]}"
        pinned = sorted(counts.pop(wid, []))
        entry["versions"] = [_version(v, sha, o, t, sha == entry["sha256"]) for v, sha, o, t in pinned]
        rows.append(entry)
    for wid, versions in sorted(counts.items()):  # cases pinned to workflows whose file is gone
        rows.append({"id": wid, "source": "(file not found)", "version": None, "title": "", "sha256": None,
                     "error": "no workflow file with this id; its cases keep their stored rules",
                     "versions": [_version(v, sha, o, t, False) for v, sha, o, t in sorted(versions)]})
    return rows


def _version(version: str, sha: str, open_cases: int, cases: int, matches_file: bool) -> dict[str, Any]:
    return {"version": version, "sha256": sha, "open": open_cases, "cases": cases, "matches_file": matches_file}
