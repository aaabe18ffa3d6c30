"""Who may record what: a workflow's ``permissions`` name, per action, the roles that may record it (the district
window's approval by its officer, ballots by the community, ...). Without them (the default, fit for one officer on
one PC) anybody may record anything.

Where an action is governed, the acting role (``--as``, else the actor's role on record in the case) must be one
of its roles, and the actor must hold it in the case (``case_roles``, named with ``role.add``): saying ``--as
window`` is not enough. A refusal says which roles the action needs.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Protocol

from sqlalchemy import Connection

from eightstep.engine.actors import held_roles
from eightstep.errors import EightstepError, Remedy
from eightstep.i18n import _
from eightstep.roles import ACTOR_ROLES


class Governed(Protocol):
    """What says who may record what: a workflow's definition, or the ``LoadedWorkflow`` (its outline's copy)."""

    @property
    def permissions(self) -> Mapping[str, list[str]]: ...


class PermissionRefused(EightstepError):
    """The workflow's permissions do not let this actor, in this role, record this action."""


def allowed_roles(workflow: Governed, action: str) -> list[str] | None:
    """The roles that may record ``action`` (its own entry, else its group's ``noun.*``, else ``*``); None: open."""
    rules = workflow.permissions
    if not rules or "." not in action:  # opening a case is never governed: nobody holds a role in it yet
        return None
    group = action.split(".", 1)[0] + ".*"
    for key in (action, group, "*"):
        if key in rules:
            return rules[key]
    return None


def check_permission(conn: Connection, workflow: Governed, case_id: str, action: str, actor: str,
                     role: str | None, at: datetime) -> str | None:
    """Refuse (PermissionRefused) when the workflow's permissions do not let ``actor`` acting as ``role`` record
    ``action`` in the case at ``at``. Returns the role the action is recorded in: ``role``, or (without one) the
    first of the action's roles the actor holds; None when the action is open."""
    allowed = allowed_roles(workflow, action)
    if allowed is None:
        return None
    held = held_roles(conn, [case_id], actor, at).get(case_id, set())
    refusal = refused(allowed, held, case_id, action, actor, role)
    if refusal is not None:
        raise refusal
    return role or next(r for r in allowed if r in held)


def refused(allowed: list[str], held: set[str], case_id: str, action: str, actor: str,
            role: str | None) -> PermissionRefused | None:
    """Why ``actor`` (holding ``held`` in the case), acting as ``role``, may not record ``action``, which
    ``allowed`` roles may record; None when they may. For one case (``check_permission``) or a batch (the bulk
    advance reads the roles of a whole batch at once)."""
    needed = ", ".join(f"{r} ({ACTOR_ROLES[r][0]})" if r in ACTOR_ROLES else r for r in allowed)
    if role is None:
        if any(r in held for r in allowed):
            return None
        return PermissionRefused(_("{action} in case {case} is recorded by {needed}; {actor} holds none of these "
                                   "roles in the case").format(action=action, case=case_id, needed=needed,
                                                               actor=actor),
                                 remedy=Remedy("role.add", {"case": case_id, "role": allowed[0], "name": actor}))
    if role not in allowed:
        return PermissionRefused(_("{action} in case {case} is recorded by {needed}, not by {role}").format(
            action=action, case=case_id, needed=needed, role=role))
    if role not in held:
        return PermissionRefused(_("{actor} does not hold the role {role} in case {case}: name them to it "
                                   "first").format(actor=actor, role=role, case=case_id),
                                 remedy=Remedy("role.add", {"case": case_id, "role": role, "name": actor}))
    return None
