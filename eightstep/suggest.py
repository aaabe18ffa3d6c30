""""Did you mean": the known names nearest to a misspelled one (kinds, forms, stages, case ids)."""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from eightstep.i18n import _


def close_matches(word: str, known: Iterable[str], n: int = 3) -> list[str]:
    """The known names nearest to ``word``: close spellings first, then names that contain it
    (``contract`` -> ``construction_contract``); letter case does not matter."""
    names = list(dict.fromkeys(known))
    lowered = {name.lower(): name for name in names}
    found = [lowered[m] for m in difflib.get_close_matches(word.lower(), list(lowered), n=n, cutoff=0.7)]
    found += [name for name in names if word and word.lower() in name.lower() and name not in found]
    return found[:n]


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`` (did you mean X?)`` naming the nearest known names, or ``""`` when none is near."""
    matches = close_matches(word, known)
    if not matches:
        return ""
    return _(" (did you mean {names}?)").format(names=", ".join(matches))
