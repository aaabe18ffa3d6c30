"""The parties a case's forms may name, by role (no imports: the CLI reads this at start-up)."""

from __future__ import annotations

ROLES: dict[str, tuple[str, str]] = {
    "agent": ("委托代理人（业主代表）", "the owners' agent or representative"),
    "use_unit": ("使用管理单位", "the named use-management unit"),
    "property": ("物业服务企业", "the property company the owners authorise"),
    "designer": ("设计单位", "the design unit"),
    "installer": ("电梯安装单位", "the elevator installer"),
    "maintainer": ("电梯维保单位", "the maintenance unit"),
    "objection_office": ("异议受理处", "where objections to the notice are lodged"),
}
