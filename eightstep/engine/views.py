"""Cases as people see them: one case, the list, the stages known, the history. Reads only (the read layer).

Nothing here needs the ORM classes: a command that only shows a case reads rows through ``eightstep.store.read``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from types import SimpleNamespace
from typing import TYPE_CHECKING, Any

from eightstep.errors import EightstepError, InputError
from eightstep.i18n import _
from eightstep.store import plain, read
from eightstep.store.read import CaseIdentity
from eightstep.store.workspace import Workspace
from eightstep.suggest import did_you_mean
from eightstep.timeutil import as_utc, iso_local
from eightstep.workflow.registry import DEFAULT_WORKFLOW
from eightstep.workflow.status import WITHDRAWN

if TYPE_CHECKING:
    from sqlalchemy import Connection, Select

    from eightstep.store.plain import PlainReader
    from eightstep.workflow.loaded import LoadedWorkflow


@dataclass(frozen=True)
class CaseView(CaseIdentity):
    stage: str
    stage_index: int
    stage_title: str
    stage_title_en: str
    status: str
    status_reason: str | None
    stage_entered_at: datetime
    opened_at: datetime
    version: int

    def as_dict(self) -> dict[str, Any]:
        return {
            **self.identity_dict(),
            "stage": self.stage, "stage_index": self.stage_index, "stage_title": self.stage_title,
            "stage_title_en": self.stage_title_en, "status": self.status, "status_reason": self.status_reason,
            "stage_entered_at": iso_local(self.stage_entered_at), "opened_at": iso_local(self.opened_at),
            "version": self.version,
        }


VIEW_COLUMNS = ("id", "building", "unit", "workflow_id", "workflow_version", "workflow_sha256", "stage", "status",
                "status_reason", "stage_entered_at", "opened_at", "version")


def view_of(row: Any, loaded: LoadedWorkflow) -> CaseView:
    """The view of a case row read with ``VIEW_COLUMNS`` and ``place``."""
    outline = loaded.outline  # plain data: no pydantic for showing or listing cases
    title, title_en = outline.titles(row.stage)
    return CaseView(
        id=row.id, complex=row.complex_name, building=row.building, unit=row.unit, workflow_id=row.workflow_id,
        workflow_version=row.workflow_version, stage=row.stage, stage_index=outline.stage_ids().index(row.stage) + 1,
        stage_title=title, stage_title_en=title_en, status=row.status, status_reason=row.status_reason,
        stage_entered_at=as_utc(row.stage_entered_at), opened_at=as_utc(row.opened_at), version=row.version,
    )


def show_case(ws: Workspace, case_id: str) -> CaseView:
    with ws.reading() as conn:
        row = read.case(conn, case_id, VIEW_COLUMNS, place=True)
        return view_of(row, read.workflow(conn, ws.workflows, row))


def list_cases(ws: Workspace, *, complex_name: str | None = None, stage: str | None = None,
               include_withdrawn: bool = True) -> list[CaseView]:
    """The cases, by complex, building and unit; ``stage`` must be a stage id of some workflow (InputError
    naming the known ones otherwise), so that a typo never reads as "no cases"."""
    with ws.reading() as conn:
        if complex_name:
            read.complex_id(conn, complex_name)
        filters = {name: value for name, value in (("complex", complex_name), ("stage", stage)) if value}
        rows = plain.fetch(conn, "eightstep.engine.views:_list_query",
                           (plain.dialect_name(conn), tuple(filters), include_withdrawn), filters)
        workflows = read.workflows(conn, ws.workflows, {row.workflow_sha256 for row in rows})
        views = [view_of(row, workflows.get(row.workflow_sha256) or read.workflow(conn, ws.workflows, row))
                 for row in rows]
        if stage and not views:
            known = known_stages(ws, conn)
            if stage not in known:
                raise InputError(_("{stage!r}: no workflow has such a stage{suggestion}; known stages: {known}").format(
                    stage=stage, suggestion=did_you_mean(stage, known), known=", ".join(known) or "—"), field="stage")
        return views


@lru_cache(maxsize=8)
def _list_query(dialect: str, filters: tuple[str, ...], include_withdrawn: bool) -> Select[Any]:
    """The cases in the list's order, with a parameter for each of ``filters`` (``complex``, ``stage``)."""
    from sqlalchemy import bindparam

    from eightstep.store.tables import cases, complexes

    query = read.case_query(dialect, VIEW_COLUMNS, place=True).order_by(
        complexes.c.name, cases.c.building, cases.c.unit, cases.c.id)
    if "complex" in filters:
        query = query.where(complexes.c.name == bindparam("complex"))
    if "stage" in filters:
        query = query.where(cases.c.stage == bindparam("stage"))
    if not include_withdrawn:
        query = query.where(cases.c.status != WITHDRAWN)
    return query


def known_stages(ws: Workspace, conn: Connection | PlainReader) -> list[str]:
    """Every stage id of the workflow files and of the workflows stored with cases, the default's first."""
    loaded: list[LoadedWorkflow] = []
    for workflow_id in dict.fromkeys([DEFAULT_WORKFLOW, *ws.workflows.paths()]):
        try:
            loaded.extend(v.loaded for v in ws.workflows.versions(workflow_id))
        except EightstepError:  # a broken file is `workflow check`'s business, not the listing's
            continue
    loaded.extend(read.workflows(conn, ws.workflows).values())
    return list(dict.fromkeys(s for wf in loaded for s in wf.definition.stage_ids()))


def history(ws: Workspace, case_id: str) -> list[Any]:
    """The events of the case, in order: objects with the columns of ``events`` as attributes (copies: changing
    one changes nothing stored, and ``events.hash_of`` then tells)."""
    with ws.reading() as conn:
        read.case(conn, case_id, ("id",))
        rows = read.records(conn, "events", [case_id], order="seq").get(case_id, [])
    return [SimpleNamespace(**row._asdict()) for row in rows]
