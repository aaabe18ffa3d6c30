"""Lazy facades: a package whose public names are loaded from their modules on first use, so that importing one
part (``eightstep.engine.moves``) does not import the others (``eightstep.engine`` and ``eightstep.records``)."""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping
from typing import Any


def facade(package: str, exports: Mapping[str, str]) -> Callable[[str], Any]:
    """The module ``__getattr__`` of ``package``: ``exports`` maps a public name to the submodule defining it."""
    def attribute(name: str) -> Any:
        module = exports.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        return getattr(importlib.import_module(f"{package}.{module}"), name)
    return attribute
