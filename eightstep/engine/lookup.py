"""Finding the case a person typed: its id matched without regard to letter case when that is unambiguous, and
"did you mean" when it matches nothing."""

from __future__ import annotations

from sqlalchemy import func, select

from eightstep.errors import NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.store import tables
from eightstep.store.workspace import Workspace
from eightstep.suggest import did_you_mean

_CASES = tables.cases


def resolve_case_id(ws: Workspace, typed: str) -> str:
    """The id of the case ``typed`` names: itself, else the one case whose id differs only in letter case.

    NotFoundError (with the nearest ids) when there is none, or several that differ only in letter case."""
    with ws.engine.connect() as conn:
        if conn.execute(select(_CASES.c.id).where(_CASES.c.id == typed)).first() is not None:
            return typed
        same = [r.id for r in conn.execute(select(_CASES.c.id).where(func.lower(_CASES.c.id) == typed.lower()))]
        if len(same) == 1:
            return same[0]
        if len(same) > 1:
            raise NotFoundError(_("{typed!r} matches several cases that differ only in letter case: {ids}").format(
                typed=typed, ids=", ".join(sorted(same))))
        ids = [r.id for r in conn.execute(select(_CASES.c.id))]
    raise NotFoundError(_("no case {case!r}").format(case=typed) + did_you_mean(typed, ids),
                        remedy=Remedy("case.list", {}))
