"""``Frozen``: a read-only copy of a model of the workflow schema as plain data, kept in the snapshot cache beside
the outline so that a command reading one rule (the consent rule of `vote tally`) does not import pydantic and
unpickle the whole definition. Its fields are attributes (nested models copied the same way, lists as lists),
``model_dump(mode="json")`` gives what the model gave; the values are the model's own (ratios stay exact)."""

from __future__ import annotations

import copy
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pydantic import BaseModel


class Frozen:
    """The fields of one validated model, read-only."""

    __slots__ = ("_fields", "_json")

    def __init__(self, fields: dict[str, Any], json: Any) -> None:
        object.__setattr__(self, "_fields", fields)
        object.__setattr__(self, "_json", json)

    @classmethod
    def of(cls, model: BaseModel) -> Frozen:
        return cls({name: _copy(getattr(model, name)) for name in type(model).model_fields},
                   model.model_dump(mode="json"))

    def __getattr__(self, name: str) -> Any:
        fields = object.__getattribute__(self, "_fields")
        try:
            return fields[name]
        except KeyError:
            raise AttributeError(name) from None

    def __setattr__(self, name: str, value: Any) -> None:
        raise AttributeError(f"{name}: a frozen copy is read-only")

    def model_dump(self, *, mode: str = "json") -> Any:
        if mode != "json":
            raise ValueError("a frozen copy keeps only the JSON form")
        return copy.deepcopy(self._json)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Frozen) and (self._fields, self._json) == (other._fields, other._json)

    def __hash__(self) -> int:
        return hash(repr(self._json))

    def __repr__(self) -> str:
        return f"Frozen({self._fields!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        return Frozen, (self._fields, self._json)


def _copy(value: Any) -> Any:
    from pydantic import BaseModel

    if isinstance(value, BaseModel):
        return Frozen.of(value)
    if isinstance(value, list):
        return [_copy(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_copy(v) for v in value)
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    return value
