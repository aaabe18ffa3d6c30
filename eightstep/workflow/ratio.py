"""``Above``: a ratio that must be exceeded. Apart from ``eightstep.workflow.values`` (which builds it, with
pydantic) so that a workflow's rules kept as plain data (``eightstep.workflow.frozen``) load without pydantic."""

from __future__ import annotations

from fractions import Fraction


class Above(Fraction):
    """A ratio that must be exceeded, not merely reached: "过半数" (more than half) is written ">1/2"."""

    def __str__(self) -> str:
        return ">" + super().__str__()

    def __repr__(self) -> str:
        return f"Above({super().__str__()!r})"
