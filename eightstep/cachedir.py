"""Where eightstep keeps what it can compute again: parsed workflow snapshots (``eightstep.workflow.snapcache``)
and compiled form templates (``eightstep.templating``). Only a shortcut: anything missing or unreadable there is
computed again.

``$EIGHTSTEP_CACHE_DIR``, else ``%LOCALAPPDATA%\\eightstep\\cache`` on Windows, else ``$XDG_CACHE_HOME/eightstep``
(``~/.cache/eightstep``). ``EIGHTSTEP_CACHE_DIR=off`` turns the cache off. The folder is the user's own: whoever
can write there can already run code as that user.
"""

from __future__ import annotations

import os
from pathlib import Path

ENV_CACHE = "EIGHTSTEP_CACHE_DIR"
OFF = "off"


def cache_dir() -> Path | None:
    """The cache folder (not created here), or None when the cache is off."""
    chosen = os.environ.get(ENV_CACHE, "").strip()
    if chosen:
        return None if chosen.lower() == OFF else Path(chosen)
    if os.name == "nt" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "eightstep" / "cache"
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "eightstep"
