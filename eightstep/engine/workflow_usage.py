"""Which workflow versions are on disk and which have cases pinned to them."""

from __future__ import annotations

from datetime import date
from typing import Any

from sqlalchemy import case as sql_case
from sqlalchemy import func, select

from eightstep.errors import WorkflowError
from eightstep.i18n import _
from eightstep.store import tables
from eightstep.store.tables import WITHDRAWN
from eightstep.store.workspace import Workspace
from eightstep.workflow.registry import WorkflowRegistry, workflow_id_of


def usage(registry: WorkflowRegistry, ws: Workspace | None) -> list[dict[str, Any]]:
    """Per workflow file: its version, the days it is in force and its hash, and per stored copy of that version
    the open and total cases; then stored versions whose file is gone."""
    counts: dict[str, list[tuple[str, str, int, int]]] = {}
    if ws is not None:
        cases = tables.cases.c
        with ws.engine.connect() as conn:
            open_cases = func.sum(sql_case((cases.status != WITHDRAWN, 1), else_=0))
            query = (select(cases.workflow_id, cases.workflow_version, cases.workflow_sha256,
                            func.count().label("total"), open_cases.label("opened"))
                     .group_by(cases.workflow_id, cases.workflow_version, cases.workflow_sha256))
            for row in conn.execute(query):  # by name: an unpacked Row is typed object
                counts.setdefault(row.workflow_id, []).append(
                    (row.workflow_version, row.workflow_sha256, int(row.opened or 0), int(row.total)))
    rows = []
    for path in registry.files().values():
        wid = workflow_id_of(path)
        entry: dict[str, Any] = {"id": wid, "source": str(path), "version": None, "title": "", "sha256": None,
                                 "effective_from": None, "effective_until": None, "in_force": None, "error": None}
        try:
            loaded = registry.load(path)
            entry.update(version=loaded.version, title=loaded.definition.title, sha256=loaded.sha256)
            period = next(v.period for v in registry.versions(wid) if v.loaded.source == loaded.source)
            entry.update(effective_from=period.start, effective_until=period.end, in_force=period.text())
        except WorkflowError as exc:
            entry["error"] = f"invalid file: {exc.problems[0]}"
        mine = [p for p in counts.get(wid, []) if entry["version"] is not None and p[0] == entry["version"]]
        for pinned in mine:
            counts[wid].remove(pinned)
        entry["versions"] = [_version(v, sha, o, t, sha == entry["sha256"]) for v, sha, o, t in sorted(mine)]
        rows.append(entry)
    rows.sort(key=lambda r: (r["id"], r["effective_from"] is not None, r["effective_from"] or date.min))
    for wid, versions in sorted(counts.items()):  # cases pinned to versions whose file is gone
        if versions:
            rows.append({"id": wid, "source": "(file not found)", "version": None, "title": "", "sha256": None,
                         "effective_from": None, "effective_until": None, "in_force": None,
                         "error": _("no workflow file with this version; its cases keep their stored rules"),
                         "versions": [_version(v, sha, o, t, False) for v, sha, o, t in sorted(versions)]})
    return rows


def _version(version: str, sha: str, open_cases: int, cases: int, matches_file: bool) -> dict[str, Any]:
    return {"version": version, "sha256": sha, "open": open_cases, "cases": cases, "matches_file": matches_file}
