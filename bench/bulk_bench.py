"""Bulk advance throughput: ``eightstep.engine.bulk.advance_all_ready`` over a whole synthetic city (on a copy)."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from bench.synth import REF_DAY, local
from eightstep.engine import bulk
from eightstep.store.workspace import Workspace

AT = local(REF_DAY, 18)  # after every generated record: each case whose stage requirements are met may move


def advance(db: str, *, dry_run: bool, at: datetime = AT) -> dict[str, Any]:
    started = time.perf_counter()
    ws = Workspace.open(db)
    report = bulk.advance_all_ready(ws, at=at, actor="bench", note="bulk advance benchmark", dry_run=dry_run)
    seconds = time.perf_counter() - started
    ws.dispose()
    totals = report.totals
    return {"seconds": seconds, "totals": totals, "cases_per_s": totals["cases"] / seconds if seconds else None}
