"""Fewer garbage collections inside a large batch (eightstep/engine/gcpause.py), restored afterwards."""

from __future__ import annotations

import gc

import pytest

from eightstep.engine.gcpause import BATCH_THRESHOLDS, fewer_collections


def test_thresholds_raised_inside_and_restored_after() -> None:
    before = gc.get_threshold()
    with fewer_collections():
        assert gc.get_threshold() == BATCH_THRESHOLDS
    assert gc.get_threshold() == before
    with pytest.raises(KeyError), fewer_collections():
        raise KeyError("a failing batch")
    assert gc.get_threshold() == before


def test_collection_turned_off_or_rarer_is_left_alone() -> None:
    before = gc.get_threshold()
    try:
        gc.set_threshold(0)
        with fewer_collections():
            assert gc.get_threshold()[0] == 0
        gc.set_threshold(100_000, 10, 10)
        with fewer_collections():
            assert gc.get_threshold() == (100_000, 10, 10)
    finally:
        gc.set_threshold(*before)
