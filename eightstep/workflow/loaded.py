"""A validated workflow with where it came from (``LoadedWorkflow``), apart from the loader that parses it.

A command that finds its case's workflow in the cache of parsed snapshots (``eightstep.workflow.snapcache``)
unpickles one of these without importing the YAML parser and the checks of ``eightstep.workflow.loader``, and
without the schema's pydantic models until it asks for ``definition``: the ``outline`` (the stages' ids and
titles, the consent rule) is plain data, enough to show and list cases and to count the ballots, and so are its
``permissions`` (who may record what: every recording checks them) and its stage graph (``graph``: the moves that
run no guard, suspend, resume, withdraw and return, build their machine from it).
"""

from __future__ import annotations

import pickle
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from eightstep.workflow.frozen import Frozen
from eightstep.workflow.label import workflow_label

if TYPE_CHECKING:
    from eightstep.workflow.schema import Workflow


# A workflow's stages in order, each with where an advance leads (None: a final stage) and the earlier stages it may
# be returned to: what its case machine is built from (``workflow.machine.CaseMachine``).
Graph = tuple[tuple[str, str | None, tuple[str, ...]], ...]


def graph_of(definition: Workflow) -> Graph:
    return tuple((s.id, definition.next_of(s.id), tuple(definition.return_targets(s.id))) for s in definition.stages)


@dataclass(frozen=True)
class Outline:
    """A workflow's id, version and stages (id, Chinese title, English title), in order, its permissions (action,
    the roles that may record it) and its first stage's owner-consent rule (the stage's id and the rule, a ``Frozen``
    copy; None: no stage asks for consent); for adding a document, its kinds with their issuer's title and the
    upkeep's (maintenance, inspection) kinds; its stage graph (``graph_of``) and the document kinds that end a
    litigation (kind, title, English title: a resume checks them): plain data."""

    id: str
    version: str
    stages: tuple[tuple[str, str, str], ...]
    permissions: tuple[tuple[str, tuple[str, ...]], ...] = ()
    consent: tuple[str, Frozen] | None = None
    documents: tuple[tuple[str, str], ...] = ()
    upkeep: tuple[str, str] | None = None
    graph: Graph = ()
    litigation_ends: tuple[tuple[str, str, str], ...] = ()

    @classmethod
    def of(cls, definition: Workflow) -> Outline:
        consent = next(((s.id, Frozen.of(s.requires.consent)) for s in definition.stages
                        if s.requires.consent is not None), None)
        return cls(definition.id, definition.version,
                   tuple((s.id, s.title, s.title_en) for s in definition.stages),
                   permissions=tuple((action, tuple(roles)) for action, roles in definition.permissions.items()),
                   consent=consent,
                   documents=tuple((kind, definition.authorities[spec.issuer].title)
                                   for kind, spec in definition.documents.items()),
                   upkeep=None if definition.upkeep is None else (definition.upkeep.maintenance_document,
                                                                  definition.upkeep.inspection_document),
                   graph=graph_of(definition),
                   litigation_ends=tuple((kind, definition.documents[kind].title, definition.documents[kind].title_en)
                                         for kind in definition.objections.litigation_ends))

    def stage_ids(self) -> list[str]:
        return [stage_id for stage_id, _title, _title_en in self.stages]

    def titles(self, stage_id: str) -> tuple[str, str]:
        """The stage's Chinese and English titles (KeyError for a stage the workflow does not have)."""
        for known, title, title_en in self.stages:
            if known == stage_id:
                return title, title_en
        raise KeyError(stage_id)


class LoadedWorkflow:
    """A validated workflow with where it came from and the hash that pins cases to it.

    Pickled (the snapshot cache) as its outline and its definition's own pickle; unpickled, the definition is
    restored on first use."""

    __slots__ = ("_definition", "_kept", "content", "outline", "sha256", "source")

    def __init__(self, definition: Workflow, source: str, content: str, sha256: str) -> None:
        self._definition: Workflow | None = definition
        self._kept: bytes | None = None
        self.source, self.content, self.sha256 = source, content, sha256
        self.outline = Outline.of(definition)

    @property
    def permissions(self) -> dict[str, list[str]]:
        """The workflow's ``permissions`` from the outline (the permission check of a recording needs no pydantic)."""
        return {action: list(roles) for action, roles in self.outline.permissions}

    @property
    def definition(self) -> Workflow:
        if self._definition is None:
            assert self._kept is not None
            self._definition = pickle.loads(self._kept)  # the schema (pydantic) is imported here, once
            self._kept = None
        return self._definition

    @property
    def id(self) -> str:
        return self.outline.id

    @property
    def version(self) -> str:
        return self.outline.version

    @property
    def label(self) -> str:
        return workflow_label(self.id, self.version)

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, LoadedWorkflow):
            return NotImplemented
        return (self.sha256, self.source, self.content) == (other.sha256, other.source, other.content)

    def __hash__(self) -> int:
        return hash((self.sha256, self.source))

    def __repr__(self) -> str:
        return f"LoadedWorkflow({self.label!r}, source={self.source!r}, sha256={self.sha256[:12]!r})"

    def __reduce__(self) -> tuple[Any, ...]:
        kept = self._kept if self._definition is None else pickle.dumps(self._definition, pickle.HIGHEST_PROTOCOL)
        return _restore, (self.outline, self.source, self.content, self.sha256, kept)


def _restore(outline: Outline, source: str, content: str, sha256: str, kept: bytes) -> LoadedWorkflow:
    loaded = LoadedWorkflow.__new__(LoadedWorkflow)
    loaded._definition, loaded._kept = None, kept
    loaded.source, loaded.content, loaded.sha256, loaded.outline = source, content, sha256, outline
    return loaded
