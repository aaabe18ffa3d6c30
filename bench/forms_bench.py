"""Paperwork on the demo's pilot case (every form it has the data for: eleven).

As the user runs it (``bench.suite`` times the processes): ``eightstep forms render RD-3-2 FORM... -o DIR``, every
form of the case in one call, as HTML and as PDF (start-up included). In one process (``forms``, run by
``bench.child``): ``render_many`` of every form as HTML (the data read once, each form rendered and logged), and
PDF seconds per page with WeasyPrint already loaded (``render(..., "pdf")`` form by form, pages counted).
"""

from __future__ import annotations

import re
import tempfile
import time
import zlib
from pathlib import Path
from typing import Any

from eightstep.demo import PILOT, build_demo
from eightstep.paperwork.render import Paperwork
from eightstep.store.workspace import Workspace

_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")
_STREAM = re.compile(rb"stream\r?\n(.*?)\r?\nendstream", re.S)


def ready_forms(ws: Workspace) -> list[str]:
    return [f.id for f in Paperwork(ws).list_forms(PILOT) if f.missing == []]


def pdf_pages(pdf: bytes) -> int:
    """Pages of a PDF: its page objects, in the file or inside its compressed object streams (WeasyPrint)."""
    found = len(_PAGE.findall(pdf))
    for match in _STREAM.finditer(pdf):
        try:
            found += len(_PAGE.findall(zlib.decompress(match.group(1))))
        except zlib.error:
            continue
    return found


def folder_pages(folder: Path) -> int:
    return sum(pdf_pages(p.read_bytes()) for p in folder.glob("*.pdf"))


def forms(rounds: int, pdf_runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="eightstep-bench-forms-") as tmp:
        ws = build_demo(Path(tmp) / "demo")
        try:
            return _measure(ws, rounds, pdf_runs)
        finally:
            ws.dispose()


def _measure(ws: Workspace, rounds: int, pdf_runs: int) -> dict[str, Any]:
    pw = Paperwork(ws)
    ids = ready_forms(ws)
    pw.render_many(PILOT, ids, "html")  # warm: templates compiled once per process
    started = time.perf_counter()
    for _ in range(rounds):
        pw.render_many(PILOT, ids, "html")
    many_seconds = time.perf_counter() - started
    pw.render(PILOT, ids[0], "pdf")  # warm: WeasyPrint imported and fonts loaded once
    pdf_times, pages = [], 0
    for _ in range(pdf_runs):
        pages, elapsed = 0, 0.0
        for form in ids:
            started = time.perf_counter()
            result = pw.render(PILOT, form, "pdf")
            elapsed += time.perf_counter() - started
            pages += pdf_pages(result.content)
        pdf_times.append(elapsed)
    pdf_times.sort()
    pdf_seconds = pdf_times[len(pdf_times) // 2]
    count = rounds * len(ids)
    return {"forms": ids, "seconds": many_seconds, "html_renders": count, "html_many_per_s": count / many_seconds,
            "pdf_pages": pages, "pdf_seconds": pdf_seconds, "pdf_s_per_page": pdf_seconds / pages if pages else None,
            "pdf_runs_seconds": pdf_times}
