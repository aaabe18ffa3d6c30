"""Bulk advance throughput: ``eightstep.engine.bulk`` over a whole synthetic district (on a fresh copy).

What is counted: *considered* (the active cases not in the last stage: each is read and judged), *advanced*
(moved one stage: its row, event and consent record written), *blocked*, *conflicts*. The throughput that
counts is advanced cases per second; considered per second is shown beside it. The results are counted batch by
batch as ``case advance --all-ready`` prints them, not kept (1M results would measure a list, not the engine).
"""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from bench.synth import REF_DAY, aware, day_number, local
from eightstep.engine import bulk
from eightstep.store.workspace import Workspace

AT = aware(local(day_number(REF_DAY), 18))  # after every generated record: each case whose stage is done may move


def advance(db: str, *, dry_run: bool, rounds: int = 1) -> dict[str, Any]:
    """``rounds`` passes of the bulk advance (each moves every ready case one stage)."""
    started = time.perf_counter()
    ws = Workspace.open(db)
    totals: Counter[str] = Counter()
    for _ in range(rounds):
        for results in bulk.iter_advance_all_ready(ws, at=AT, actor="bench", note="bulk advance benchmark",
                                                   dry_run=dry_run):
            totals.update(r.outcome for r in results)
            totals["cases"] += len(results)
    seconds = time.perf_counter() - started
    ws.dispose()
    moved = totals[bulk.READY if dry_run else bulk.ADVANCED]
    return {"seconds": seconds, "totals": dict(totals), "considered": totals["cases"], "advanced": moved,
            "advanced_per_s": moved / seconds, "considered_per_s": totals["cases"] / seconds}
