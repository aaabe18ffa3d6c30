"""In which role an actor acts: the roles a case names (业主代表, 协商小组, ...) and the default for the history.

Every event names who acted (``Event.actor``) and, where known, in which role (``details["actor_role"]``). The
role is what the actor says (``--as``), else the actor's role on record in the case at the time of the action
(``case_roles``, matched by name), else none. ``engine.recording`` resolves it for every recording and move.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy import Connection, bindparam, or_, select

from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.roles import ACTOR_ROLES
from eightstep.store import tables
from eightstep.timeutil import as_utc

if TYPE_CHECKING:
    from sqlmodel import Session

MAX_ROLE_TEXT = 40


def names_of(actor: str) -> set[str]:
    """The names an actor may be on record under: as written, and the last word of "业主代表 李建国"."""
    words = actor.split()
    return {actor, words[-1]} if words else {actor}


def recorded_role(session: Session, case_id: str, actor: str, at: datetime | None = None) -> str | None:
    """The actor's role in the case on record (held since ``at`` or earlier, when given), matched by name or by
    the last word of names written like "业主代表 李建国"; the first of the roles an actor acts in
    (``eightstep.roles.ACTOR_ROLES``) the actor holds.

    Read with Core on the session's connection: no flush of the case row being written (its version counts), and
    a tenth of the ORM's cost (every recorded event asks)."""
    return recorded_roles(session.connection(), [case_id], actor, at).get(case_id)


def held_roles(conn: Connection, case_ids: list[str], actor: str, at: datetime | None) -> dict[str, set[str]]:
    """Every role one actor holds in each of ``case_ids`` (since ``at`` or earlier, when given): case id -> roles."""
    if len(case_ids) == 1 and at is not None:  # every recording and move asks this: one statement, built once
        first, *rest = sorted(names_of(actor))
        one = {"id": case_ids[0], "name1": first, "name2": rest[0] if rest else first, "at": as_utc(at)}
        roles: set[str] = set(conn.execute(_HELD_IN_ONE, one).scalars())
        return {case_ids[0]: roles} if roles else {}
    query = select(_CASE_ROLES.c.case_id, _CASE_ROLES.c.role).where(
        _CASE_ROLES.c.case_id.in_(bindparam("ids", expanding=True)),
        _CASE_ROLES.c.name.in_(bindparam("names", expanding=True)))
    params: dict[str, object] = {"ids": case_ids, "names": sorted(names_of(actor))}
    if at is not None:
        query = query.where(*_HELD_AT)
        params["at"] = as_utc(at)
    else:
        query = query.where(_CASE_ROLES.c.voided_at.is_(None), _CASE_ROLES.c.until.is_(None))
    held: dict[str, set[str]] = {}
    for row in conn.execute(query, params):
        held.setdefault(row.case_id, set()).add(row.role)
    return held


def recorded_roles(conn: Connection, case_ids: list[str], actor: str, at: datetime | None) -> dict[str, str]:
    """``recorded_role`` of one actor in many cases at once (the bulk advance): case id -> role, where held."""
    held = held_roles(conn, case_ids, actor, at)
    out = {}
    for case_id, roles in held.items():
        first = next((key for key in ACTOR_ROLES if key in roles), None)
        if first is not None:
            out[case_id] = first
    return out


_CASE_ROLES = tables.case_roles
# A role held at :at: named by then, not ended (voided) nor passed to another by then.
_HELD_AT = (_CASE_ROLES.c.since <= bindparam("at"),
            or_(_CASE_ROLES.c.voided_at.is_(None), _CASE_ROLES.c.voided_at > bindparam("at")),
            or_(_CASE_ROLES.c.until.is_(None), _CASE_ROLES.c.until > bindparam("at")))
# The roles one actor (under one or two names) holds in one case at :at (``held_roles``).
_HELD_IN_ONE = select(_CASE_ROLES.c.role).where(
    _CASE_ROLES.c.case_id == bindparam("id"), _CASE_ROLES.c.name.in_([bindparam("name1"), bindparam("name2")]),
    *_HELD_AT)


def acting_role(db: Session | Connection, case_id: str, actor: str, role: str | None,
                at: datetime | None = None) -> str | None:
    """The role an actor acts in: ``role`` as given (checked: short, not blank), else the actor's recorded role
    in the case at ``at`` (see ``recorded_role``), else None."""
    if role is None:
        conn = db if isinstance(db, Connection) else db.connection()
        return recorded_roles(conn, [case_id], actor, at).get(case_id)
    return checked_role(role)


def checked_role(role: str | None) -> str | None:
    """A role as given with ``--as``: short, not blank (None stays None)."""
    if role is None:
        return None
    role = role.strip()
    if not role or len(role) > MAX_ROLE_TEXT:
        raise InputError(_("give the role the actor acts in, in at most {max_role_text} characters (e.g. "
                           "{actor_roles})").format(
                             max_role_text=MAX_ROLE_TEXT, actor_roles=', '.join(ACTOR_ROLES)), field="as_role")
    return role
