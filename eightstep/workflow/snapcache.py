"""Parsed workflow snapshots kept between runs, so that a command does not parse and validate its case's workflow
again each time it starts (YAML, the schema and every check: about 40 ms of every command that reads a case).

An entry is the pickled ``LoadedWorkflow`` of one snapshot, named by the snapshot's content hash and a digest of
the code that parses it (eightstep's version and the size and time of every module of ``eightstep.workflow`` and
``eightstep.rules``): another eightstep, or an edited checkout, never reads an entry it did not write. The cache
is only a shortcut: an entry that is missing, unreadable or not what it should be is ignored and the snapshot
parsed as before; an entry that cannot be written is not written.

Where: ``eightstep.cachedir`` (``$EIGHTSTEP_CACHE_DIR``, else the platform's cache folder; ``off`` turns it off).
The folder is the user's own: whoever can write there can already run code as that user.
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING

from eightstep.cachedir import ENV_CACHE as ENV_CACHE  # where the cache is: one place for all
from eightstep.cachedir import OFF as OFF
from eightstep.cachedir import cache_dir

if TYPE_CHECKING:
    from eightstep.workflow.loaded import LoadedWorkflow

_PARSING_CODE = ("workflow", "rules")  # the sub-packages whose code decides what a snapshot parses to


@lru_cache(maxsize=1)
def code_digest() -> str:
    """A digest of the code that parses workflows: each module's size and time (and the package's own file)."""
    package = Path(__file__).resolve().parent.parent
    h = hashlib.sha256()
    for sub in ("__init__.py", *_PARSING_CODE):  # the package's own file holds its version
        for path in sorted((package / sub).rglob("*.py")) if sub in _PARSING_CODE else [package / sub]:
            stat = path.stat()
            h.update(f"{path.relative_to(package)}:{stat.st_size}:{stat.st_mtime_ns};".encode())
    return h.hexdigest()[:16]


def _entry(sha256: str, source: str) -> Path | None:
    folder = cache_dir()
    if folder is None:
        return None
    label = hashlib.sha256(source.encode("utf-8")).hexdigest()[:8]
    return folder / f"workflow-{sha256[:32]}-{label}-{code_digest()}.pickle"


def load(sha256: str, source: str) -> LoadedWorkflow | None:
    """The parsed snapshot of content hash ``sha256`` named ``source``, if a valid entry is kept."""
    path = _entry(sha256, source)
    if path is None:
        return None
    try:
        with open(path, "rb") as f:
            loaded = pickle.load(f)
    except Exception:  # missing, unreadable, written by other code: parse instead
        return None
    from eightstep.workflow.loaded import LoadedWorkflow

    if not isinstance(loaded, LoadedWorkflow) or loaded.sha256 != sha256 or loaded.source != source:
        return None
    return loaded


def store(loaded: LoadedWorkflow) -> None:
    """Keep ``loaded`` for the next run (written to a temporary file and renamed: never half an entry)."""
    path = _entry(loaded.sha256, loaded.source)
    if path is None:
        return
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".workflow-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(loaded, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, pickle.PicklingError):  # a read-only or full disk: the cache is only a shortcut
        return
