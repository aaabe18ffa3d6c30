"""The direction of imports (docs/architecture.md): a module imports only from its own layer or the layers below.

Every ``import`` of every module of the library is read with ``ast``, those inside functions too (the deferred
imports that keep the CLI fast are imports all the same). The library never imports click; only the CLI does.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "eightstep"

# The layers, from the bottom up (TEAM.md, docs/architecture.md): the first name that a module's dotted path
# starts with gives its layer.
LAYERS: tuple[tuple[str, ...], ...] = (
    ("eightstep.errors", "eightstep.i18n", "eightstep.resources", "eightstep.timeutil", "eightstep.templating",
     "eightstep.sandboxlimits", "eightstep.cells", "eightstep.suggest", "eightstep.lazy", "eightstep.roles",
     "eightstep.cachedir", "eightstep.nouns"),
    ("eightstep.workflow",),
    ("eightstep.rules",),
    ("eightstep.store",),
    ("eightstep.engine",),
    ("eightstep.records",),
    ("eightstep.paperwork", "eightstep.audit"),
    ("eightstep.demo",),
    ("eightstep.cli", "eightstep.__main__"),
)
FACADE = "eightstep"  # the package itself: its public names are loaded lazily from anywhere below


def module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def layer_of(name: str) -> int | None:
    for index, prefixes in enumerate(LAYERS):
        if any(name == p or name.startswith(p + ".") for p in prefixes):
            return index
    return None


def imports_of(path: Path, name: str | None = None) -> list[tuple[int, str]]:
    """(line, module) of every import in the file (the module ``name``, by default its own), at any depth;
    ``from x import y`` also as ``x.y`` when y is a module of the package (``from eightstep.engine import bulk``)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    name = name or module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: list[tuple[int, str]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.append((node.lineno, base))
            for alias in node.names:
                candidate = f"{base}.{alias.name}"
                if layer_of(candidate) is not None and _is_module(candidate):
                    found.append((node.lineno, candidate))
    return found


def _is_module(name: str) -> bool:
    relative = Path(*name.split(".")[1:])
    return (PACKAGE / relative).with_suffix(".py").exists() or (PACKAGE / relative / "__init__.py").exists()


MODULES = sorted(PACKAGE.rglob("*.py"))


def test_every_module_has_a_layer() -> None:
    unplaced = [module_name(p) for p in MODULES if module_name(p) != FACADE and layer_of(module_name(p)) is None]
    assert unplaced == [], "give the new module a layer in tests/test_architecture.py and docs/architecture.md"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_no_module_imports_upwards(path: Path) -> None:
    name = module_name(path)
    if name == FACADE:
        return
    own = layer_of(name)
    assert own is not None
    upward = [f"line {line}: {target}" for line, target in imports_of(path)
              if target != FACADE and (layer_of(target) or 0) > own]
    assert upward == [], f"{name} (layer {own}) imports from a layer above it"


@pytest.mark.parametrize("path", MODULES, ids=lambda p: module_name(p))
def test_the_library_never_imports_click(path: Path) -> None:
    name = module_name(path)
    if layer_of(name) == len(LAYERS) - 1:  # the CLI
        return
    clicks = [f"line {line}: {target}" for line, target in imports_of(path) if target.split(".")[0] == "click"]
    assert clicks == [], f"{name} imports click: only eightstep.cli may"


def test_the_check_sees_deferred_and_relative_imports(tmp_path: Path) -> None:
    """A store module importing the engine inside a function, or relatively, is seen as importing upwards."""
    probe = tmp_path / "probe.py"
    probe.write_text("def f():\n    from eightstep.engine import checking\n    from ..engine import bulk\n",
                     encoding="utf-8")
    targets = {target for _line, target in imports_of(probe, "eightstep.store.probe")}
    assert {"eightstep.engine.checking", "eightstep.engine.bulk"} <= targets
    assert layer_of("eightstep.engine.checking") > layer_of("eightstep.store.probe")  # type: ignore[operator]
