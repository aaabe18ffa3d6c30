"""The bench package (bench/) loaded from the checkout by path.

The bench package is not installed (it is not part of the wheel), and the tests run against the installed
`eightstep` (scripts/test.sh): the checkout is not put on sys.path, so `eightstep` stays the installed package.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from pathlib import Path
from types import ModuleType

BENCH = Path(__file__).resolve().parents[2] / "bench"


def bench(module: str) -> ModuleType:
    """``bench.<module>`` from the checkout."""
    if "bench" not in sys.modules:
        spec = importlib.util.spec_from_file_location("bench", BENCH / "__init__.py",
                                                      submodule_search_locations=[str(BENCH)])
        assert spec is not None and spec.loader is not None
        package = importlib.util.module_from_spec(spec)
        sys.modules["bench"] = package
        spec.loader.exec_module(package)
    assert Path(sys.modules["bench"].__file__ or "").resolve().parent == BENCH
    return importlib.import_module(f"bench.{module}")
