"""Paperwork: HTML forms per second and seconds per PDF page, on the demo's pilot case (all ten forms ready).

``html``: ``Paperwork.render(case, form, "html")`` as ``forms render CASE FORM`` calls it: the case's data read,
the form rendered, and the render logged in the case's history (one write transaction per form). ``html_many``:
``Paperwork.render_many(case, forms, "html")`` as ``forms render CASE FORM...`` calls it with every ready form:
the data read once, each form rendered and logged with its own event, all events in one transaction.
``html_render_only``: the same forms from data read once (the template work alone). ``html_pack``:
``Paperwork.pack`` of every stage with forms (``forms pack --format html``: the stage's data read once, every
form rendered and written, one history entry per pack). ``pdf``: ``render(..., "pdf")``, pages counted.
"""

from __future__ import annotations

import re
import tempfile
import time
from pathlib import Path
from typing import Any

from eightstep.demo import PILOT, build_demo
from eightstep.paperwork.casedata import load_case_data
from eightstep.paperwork.render import Paperwork
from eightstep.store.workspace import Workspace
from eightstep.timeutil import now_utc

_PAGE = re.compile(rb"/Type\s*/Page(?![s\w])")


def ready_forms(ws: Workspace) -> list[str]:
    return [f.id for f in Paperwork(ws).list_forms(PILOT) if f.missing == []]


def pdf_pages(pdf: bytes, html: str) -> int:
    """Pages of a PDF: from its page objects, else by laying the HTML out again (compressed object streams)."""
    found = len(_PAGE.findall(pdf))
    if found:
        return found
    import weasyprint

    return len(weasyprint.HTML(string=html).render().pages)


def forms(rounds: int, pdf_runs: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="eightstep-bench-forms-") as tmp:
        ws = build_demo(Path(tmp) / "demo")
        try:
            result = _measure(ws, rounds, pdf_runs)
            result.update(_packs(ws, rounds, Path(tmp) / "packs"))
            return result
        finally:
            ws.dispose()


def _packs(ws: Workspace, rounds: int, folder: Path) -> dict[str, Any]:
    pw = Paperwork(ws)
    wf = load_case_data(ws, PILOT).workflow.definition
    stages = [s.id for s in wf.stages if s.forms]
    count = 0
    started = time.perf_counter()
    for i in range(rounds):
        for stage in stages:
            count += len(pw.pack(PILOT, folder / f"{i}-{stage}", stage=stage, fmt="html").files)
    seconds = time.perf_counter() - started
    return {"html_pack_forms": count, "html_pack_per_s": count / seconds}


def _measure(ws: Workspace, rounds: int, pdf_runs: int) -> dict[str, Any]:
    pw = Paperwork(ws)
    ids = ready_forms(ws)
    pw.render(PILOT, ids[0], "html")  # warm: templates compiled once per process, as in a long-running job
    started = time.perf_counter()
    for _ in range(rounds):
        for form in ids:
            pw.render(PILOT, form, "html")
    html_seconds = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(rounds):
        pw.render_many(PILOT, ids, "html")
    many_seconds = time.perf_counter() - started
    data = load_case_data(ws, PILOT)
    at = now_utc()
    started = time.perf_counter()
    for _ in range(rounds):
        for form in ids:
            pw._render(data, form, "html", at)  # the render without the history write
    only_seconds = time.perf_counter() - started
    pdf_times, pages = [], 0
    pw.render(PILOT, ids[0], "pdf")  # warm: WeasyPrint imported and fonts loaded once
    for _ in range(pdf_runs):
        pages, elapsed = 0, 0.0
        for form in ids:
            started = time.perf_counter()
            result = pw.render(PILOT, form, "pdf")
            elapsed += time.perf_counter() - started
            html = pw._render(data, form, "html", at).content.decode("utf-8")
            pages += pdf_pages(result.content, html)
        pdf_times.append(elapsed)
    pdf_times.sort()
    pdf_seconds = pdf_times[len(pdf_times) // 2]
    count = rounds * len(ids)
    return {"forms": ids, "html_renders": count, "html_per_s": count / html_seconds,
            "html_many_per_s": count / many_seconds,
            "html_render_only_per_s": count / only_seconds, "pdf_pages": pages, "pdf_seconds": pdf_seconds,
            "pdf_s_per_page": pdf_seconds / pages if pages else None, "pdf_runs": pdf_times}
