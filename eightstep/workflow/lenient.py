"""A workflow read as well as it can be when the schema refused parts of it (``best_effort``), so that the
semantic checks still report every other problem of the file in the same run (``workflow.loader``)."""

from __future__ import annotations

import types
import typing
from typing import Any

from pydantic import BaseModel, ConfigDict, TypeAdapter, ValidationError

_MISSING: Any = object()
_ADAPTERS: dict[int, tuple[Any, TypeAdapter[Any]]] = {}


def _adapter(annotation: Any) -> TypeAdapter[Any]:
    found = _ADAPTERS.get(id(annotation))
    if found is None or found[0] is not annotation:
        found = (annotation, TypeAdapter(annotation, config=None if _is_model(annotation) else
                                          ConfigDict(arbitrary_types_allowed=True)))
        _ADAPTERS[id(annotation)] = found
    return found[1]


_FIELD_TYPES: dict[tuple[type[BaseModel], str], Any] = {}


def _field_type(model: type[BaseModel], name: str) -> Any:
    """The field's annotation with its constraints (pattern, lengths, validators)."""
    key = (model, name)
    if key not in _FIELD_TYPES:
        _FIELD_TYPES[key] = model.model_fields[name].rebuild_annotation()
    return _FIELD_TYPES[key]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def best_effort(model: type[Any], raw: Any) -> Any:
    """``model`` built from ``raw`` without failing, for the semantic checks of a file the schema refused.

    Valid parts are validated as usual. A refused value is kept as written when it is text where text is
    expected (an id such as ``Design`` still names its stage); a refused flag is None (unknown: the checks that
    depend on it are skipped); anything else becomes its field's default, or for a required field an empty list
    or mapping, or None. Nested models, lists and mappings are read item by item, so that one bad item does not
    hide its siblings.
    """
    given = raw if isinstance(raw, dict) else {}
    values: dict[str, Any] = {}
    for name, field in model.model_fields.items():
        value = _lenient(_field_type(model, name), given[name]) if name in given else _MISSING
        if value is _MISSING:
            written = given.get(name, _MISSING)
            inner = unwrap(field.annotation)
            if written is not _MISSING and (inner is bool or (inner is str and isinstance(written, str))):
                value = written if inner is str else None
            elif not field.is_required():
                value = field.get_default(call_default_factory=True)
            else:
                value = _placeholder(field.annotation, written)
        values[name] = value
    return model.model_construct(**values)


def _lenient(annotation: Any, raw: Any) -> Any:
    """``raw`` validated as ``annotation``, else read as well as it can be, else _MISSING."""
    inner = unwrap(annotation)
    if _is_model(inner):
        if not isinstance(raw, dict):
            return _MISSING
        try:
            return inner.model_validate(raw)
        except ValidationError:
            return best_effort(inner, raw)
    try:
        return _adapter(annotation).validate_python(raw)
    except ValidationError:
        pass
    origin = typing.get_origin(inner)
    if origin is list and isinstance(raw, list):
        item = typing.get_args(inner)[0]
        return [_item(item, value) for value in raw]
    if origin is dict and isinstance(raw, dict):
        item = typing.get_args(inner)[1]
        return {key: _item(item, value) for key, value in raw.items()}
    return _MISSING


def _item(annotation: Any, raw: Any) -> Any:
    """One item of a list or mapping: valid, read best-effort, or a placeholder that keeps its place."""
    value = _lenient(annotation, raw)
    return _placeholder(annotation, raw) if value is _MISSING else value


def _placeholder(annotation: Any, raw: Any) -> Any:
    inner = unwrap(annotation)
    if _is_model(inner):
        return best_effort(inner, {})
    origin = typing.get_origin(inner)
    if origin is list:
        return []
    if origin is dict:
        return {}
    return raw if isinstance(raw, str) and inner is str else None


def unwrap(annotation: Any) -> Any:
    """Strip Optional/Annotated so that the model inside shows."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                return annotation
            annotation = args[0]
        else:
            return annotation
