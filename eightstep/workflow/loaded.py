"""A validated workflow with where it came from (``LoadedWorkflow``), apart from the loader that parses it.

A command that finds its case's workflow in the cache of parsed snapshots (``eightstep.workflow.snapcache``)
unpickles one of these without importing the YAML parser and the checks of ``eightstep.workflow.loader``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from eightstep.workflow.label import workflow_label

if TYPE_CHECKING:
    from eightstep.workflow.schema import Workflow


@dataclass(frozen=True)
class LoadedWorkflow:
    """A validated workflow with where it came from and the hash that pins cases to it."""

    definition: Workflow
    source: str
    content: str
    sha256: str

    @property
    def id(self) -> str:
        return self.definition.id

    @property
    def version(self) -> str:
        return self.definition.version

    @property
    def label(self) -> str:
        return workflow_label(self.id, self.version)
