"""The one registry of the roles a case names: who does what (业主代表, 协商小组, 轮值管理员, ...) and who the
papers name (委托代理人, 使用管理单位, 物业服务企业, ...), and the roles an actor may say it acts in (``--as``).

No imports: the CLI reads it at start-up. The people and organisations themselves are recorded once per case
(``eightstep.records.roles``); a role is held by one of them from a date (``since``), and a role held by ``ONE``
at a time passes to whoever is named next.
"""

from __future__ import annotations

from dataclasses import dataclass

ONE = "one"  # one holder at a time: naming another ends the earlier one's term
MANY = "many"  # any number of members (a group, the rota)


@dataclass(frozen=True)
class RoleKind:
    title: str
    title_en: str
    holders: str  # ONE | MANY
    member: bool  # held by a member of the case's own people (owner representative, groups): an actor named in
    #               it acts in this role unless they say otherwise (the history's default ``--as``)
    organisation: bool = False  # usually an organisation (a unit or company), not a person


# In the order an actor holding several member roles is named by.
ROLES: dict[str, RoleKind] = {
    "owner_rep": RoleKind("业主代表", "owner representative", MANY, True),
    "agent": RoleKind("委托代理人（业主代表）", "the owners' agent at the window", ONE, True),
    "negotiator": RoleKind("协商小组成员", "negotiation group member", MANY, True),
    "self_management": RoleKind("电梯自治小组成员", "self-management group member", MANY, True),
    "duty_rota": RoleKind("轮值管理员", "duty rota member", MANY, True),
    "volunteer": RoleKind("志愿者", "volunteer", MANY, True),
    "task_force": RoleKind("工作专班成员", "task force member", MANY, True),  # the community's task force with the
    #                                                                          district's offices
    # The offices' people, named in a case when a workflow's permissions say who may record what.
    "officer": RoleKind("社区干事", "community officer", MANY, False),
    "street": RoleKind("街道办事处", "street office", MANY, False),
    "window": RoleKind("区行政审批局窗口", "district approval window", MANY, False),
    "use_unit": RoleKind("使用管理单位", "the named use-management unit", ONE, False, True),
    "property": RoleKind("物业服务企业", "the property company the owners authorise", ONE, False, True),
    "designer": RoleKind("设计单位", "the design unit", ONE, False, True),
    "installer": RoleKind("电梯安装单位", "the elevator installer", ONE, False, True),
    "maintainer": RoleKind("电梯维保单位", "the maintenance unit", ONE, False, True),
    "objection_office": RoleKind("异议受理处", "where objections to the notice are lodged (a public contact)", ONE,
                                 False, True),
    "safety_manager": RoleKind("使用单位安全管理员", "the use unit's elevator safety manager", ONE, False),
}
MEMBER_ROLES = tuple(k for k, v in ROLES.items() if v.member)

# The roles an actor acts in, in the order an actor holding several is named by (the history's default ``--as``):
# the member roles, then the offices' (any other short text is kept as written where no permissions apply).
ACTOR_ROLES: dict[str, tuple[str, str]] = {
    k: (ROLES[k].title, ROLES[k].title_en)
    for k in (*MEMBER_ROLES, "officer", "street", "window", "property", "installer")
}

SIDES: dict[str, tuple[str, str]] = {
    "high_floor": ("高层业主", "high-floor owners"),
    "low_floor": ("低层业主", "low-floor owners"),
    "community": ("社区", "community"),
    "technician": ("技术人员", "technician"),
}

ROTA_EVERY: dict[str, tuple[str, str]] = {"week": ("周", "week"), "month": ("月", "month")}


def role_title(role: str) -> str:
    kind = ROLES.get(role)
    return kind.title if kind else role
