"""Parsed workflow snapshots kept between runs (eightstep/workflow/snapcache.py): an entry gives back exactly what
parsing gives, and an entry that is missing, damaged, written by other code or for other content is ignored."""

from __future__ import annotations

import pickle
from pathlib import Path

import pytest

from eightstep.resources import builtin_dir
from eightstep.workflow import snapcache
from eightstep.workflow.loader import parse_workflow_text
from eightstep.workflow.registry import WorkflowRegistry


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(snapcache.ENV_CACHE, str(folder))
    return folder


def _snapshot() -> tuple[str, str]:
    content = (builtin_dir("workflows") / "wuhan.yaml").read_text(encoding="utf-8")
    return content, parse_workflow_text(content, "wuhan x").sha256


def test_a_snapshot_parsed_once_is_read_back_the_same(cache: Path) -> None:
    content, sha = _snapshot()
    first = WorkflowRegistry().from_snapshot(content, sha, "wuhan", "x")
    entries = list(cache.glob("workflow-*.pickle"))
    assert len(entries) == 1
    kept = snapcache.load(sha, first.source)
    assert kept is not None and kept is not first
    assert kept.definition == first.definition and kept.content == content and kept.sha256 == sha
    again = WorkflowRegistry().from_snapshot(content, sha, "wuhan", "x")  # a new run: from the entry
    assert again.definition == first.definition
    assert again.definition.stage_ids() == first.definition.stage_ids()


def test_a_damaged_or_foreign_entry_is_ignored(cache: Path) -> None:
    content, sha = _snapshot()
    loaded = WorkflowRegistry().from_snapshot(content, sha, "wuhan", "x")
    entry = next(cache.glob("workflow-*.pickle"))
    entry.write_bytes(b"not a pickle")
    assert snapcache.load(sha, loaded.source) is None
    assert WorkflowRegistry().from_snapshot(content, sha, "wuhan", "x").definition == loaded.definition
    assert snapcache.load(sha, loaded.source) is not None  # parsed again and kept again
    entry.write_bytes(pickle.dumps({"not": "a workflow"}))
    assert snapcache.load(sha, loaded.source) is None
    assert snapcache.load("0" * 64, loaded.source) is None  # other content: no entry
    assert snapcache.load(sha, "wuhan other") is None  # the same content under another name: its own entry


def test_the_cache_can_be_turned_off(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(snapcache.ENV_CACHE, "off")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    content, sha = _snapshot()
    assert WorkflowRegistry().from_snapshot(content, sha, "wuhan", "x").sha256 == sha
    assert snapcache.cache_dir() is None and not list(tmp_path.rglob("*.pickle"))


def test_an_unwritable_cache_is_not_an_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    monkeypatch.setenv(snapcache.ENV_CACHE, str(blocker / "cache"))  # under a file: cannot be created
    content, sha = _snapshot()
    assert WorkflowRegistry().from_snapshot(content, sha, "wuhan", "x").sha256 == sha
