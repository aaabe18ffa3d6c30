"""How people are shown a workflow version (one label everywhere: views, audit rows, CSV, errors)."""

from __future__ import annotations


def workflow_label(workflow_id: str, version: str) -> str:
    """``wuhan 2026.1``."""
    return f"{workflow_id} {version}"
