"""Finding the case a person typed: its id matched without regard to letter case when that is unambiguous, and
"did you mean" when it matches nothing."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eightstep.errors import NotFoundError, Remedy
from eightstep.i18n import _
from eightstep.store import plain
from eightstep.store.workspace import Workspace
from eightstep.suggest import did_you_mean

if TYPE_CHECKING:
    from sqlalchemy import Select

_QUERY = "eightstep.engine.lookup:_ids"


def resolve_case_id(ws: Workspace, typed: str) -> str:
    """The id of the case ``typed`` names: itself, else the one case whose id differs only in letter case.

    NotFoundError (with the nearest ids) when there is none, or several that differ only in letter case."""
    with ws.reading() as conn:
        if plain.fetch(conn, _QUERY, ("exact",), {"typed": typed}):
            return typed
        same = [r.id for r in plain.fetch(conn, _QUERY, ("lower",), {"typed": typed.lower()})]
        if len(same) == 1:
            return str(same[0])
        if len(same) > 1:
            raise NotFoundError(_("{typed!r} matches several cases that differ only in letter case: {ids}").format(
                typed=typed, ids=", ".join(sorted(same))))
        ids = [r.id for r in plain.fetch(conn, _QUERY, ("all",))]
    raise NotFoundError(_("no case {case!r}").format(case=typed) + did_you_mean(typed, ids),
                        remedy=Remedy("case.list", {}))


def _ids(match: str) -> Select[Any]:
    """The ids of cases: the one called ``:typed`` (``exact``), those whose lower case is ``:typed`` (``lower``),
    or ``all``."""
    from sqlalchemy import bindparam, func, select

    from eightstep.store.tables import cases

    query = select(cases.c.id)
    if match == "exact":
        return query.where(cases.c.id == bindparam("typed"))
    if match == "lower":
        return query.where(func.lower(cases.c.id) == bindparam("typed"))
    return query
