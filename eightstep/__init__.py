"""eightstep: a workflow engine for the eight-step method of retrofitting elevators (加装电梯八步法).

The library is usable without the CLI::

    from eightstep import Workspace, engine
    ws, _ = Workspace.init("eightstep.db")
    engine.open_case(ws, "RD-3-2", complex_name="人大小区", building="3", unit="2")
    print(engine.check(ws, "RD-3-2").blockers)

Sub-packages, from the bottom up: ``workflow`` (procedure files), ``rules`` (pure arithmetic: consent,
what-if, money, working days), ``store`` (tables, connection, files, the ``Workspace``), ``engine`` (cases,
guards, moves, history), ``records`` (what officers record), ``paperwork`` (forms), ``audit`` (stalled cases,
overview, verification), ``cli``. The heavy imports are deferred so that the CLI starts fast.
"""

from typing import Any

from eightstep.errors import (
    BlockedError,
    ConflictError,
    EightstepError,
    InputError,
    NotFoundError,
    WorkflowError,
)

__version__ = "0.1.0"

__all__ = [
    "BlockedError",
    "ConflictError",
    "EightstepError",
    "InputError",
    "NotFoundError",
    "WorkflowError",
    "Workspace",
    "__version__",
]


def __getattr__(name: str) -> Any:
    if name == "Workspace":
        from eightstep.store.workspace import Workspace

        return Workspace
    raise AttributeError(name)
