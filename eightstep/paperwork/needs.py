"""What a form needs from the records, and the refusal that lists every gap with what fills it.

A form declares its required fields by asking for them through ``Needs``; each one the records cannot fill
becomes a ``Gap`` with a message and, where a command fills it, a ``Remedy`` (the CLI spells it as a command).
A form with gaps is never printed: ``MissingData`` lists them all at once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eightstep.errors import InputError, Remedy
from eightstep.i18n import _


@dataclass(frozen=True)
class Gap:
    """One required field the records do not fill (``Need``: the same, by the name ``case check`` uses)."""

    message: str
    remedy: Remedy | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"message": self.message, "remedy": self.remedy.as_dict() if self.remedy else None}

    def __str__(self) -> str:
        return self.message


Need = Gap


class MissingData(InputError):
    """A form whose data is incomplete: ``gaps`` lists every gap with what fills it."""

    def __init__(self, form: str, case_id: str, gaps: list[Gap]) -> None:
        self.form = form
        self.case_id = case_id
        self.gaps = gaps
        # (headline, gaps) per form: a refusal of several forms (``joined``) keeps them apart
        self.sections = [(_("cannot render {form} for case {case}: its data is incomplete:").format(
            form=form, case=case_id), gaps)]
        super().__init__(_sections_text(self.sections), remedy=gaps[0].remedy if len(gaps) == 1 else None)

    @property
    def needs(self) -> list[Gap]:
        return self.gaps

    @classmethod
    def joined(cls, refusals: list[MissingData]) -> MissingData:
        """One refusal for several forms (a pack), each form's gaps under its own headline."""
        joined = cls(refusals[0].form, refusals[0].case_id, [g for r in refusals for g in r.gaps])
        joined.sections = [s for r in refusals for s in r.sections]
        joined.args = (_sections_text(joined.sections),)
        return joined

    @property
    def missing(self) -> list[str]:
        return [g.message for g in self.gaps]

    @property
    def remedies(self) -> list[Remedy]:
        return [g.remedy for g in self.gaps if g.remedy is not None]


@dataclass
class Needs:
    """Collects what a form lacks, so that one refusal lists every gap at once."""

    case_id: str
    gaps: list[Gap] = field(default_factory=list)

    def add(self, message: str, action: str | None = None, **args: Any) -> None:
        remedy = Remedy(action, {"case": self.case_id, **args}) if action else None
        if all(g.message != message for g in self.gaps):
            self.gaps.append(Gap(message, remedy))

    def value(self, value: Any, message: str, action: str | None = None, **args: Any) -> Any:
        """``value`` when it is recorded (not None or blank); else a gap."""
        if value is None or (isinstance(value, str) and not value.strip()):
            self.add(message, action, **args)
        return value

    def refuse(self, form: str) -> None:
        if self.gaps:
            raise MissingData(form, self.case_id, self.gaps)


def _sections_text(sections: list[tuple[str, list[Gap]]]) -> str:
    return "\n".join(headline + "".join(f"\n  - {g.message}" for g in gaps) for headline, gaps in sections)
