"""What makes the forms faster changes none of them (issue 15). They read a case's money on the read layer
(SQLAlchemy Core: `forms list` imports no model class): the same values as the recording side's ORM reads, and
every form of every demo case the same, byte for byte, from either read. A PDF reuses the fonts the document before
it loaded: the same bytes as when made alone."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Table, select

from eightstep.errors import NotFoundError
from eightstep.paperwork import pdf
from eightstep.paperwork.casedata import load_case_data
from eightstep.paperwork.needs import MissingData
from eightstep.paperwork.render import Paperwork
from eightstep.records.elevator import current_elevator
from eightstep.records.moneyview import MoneyOnRecord, money_on_record
from eightstep.records.payments import load_money
from eightstep.records.settlement import load_invoices
from eightstep.records.subsidy import load_steps
from eightstep.store import tables
from eightstep.store.workspace import Workspace
from eightstep.timeutil import as_utc

MID_STORY = datetime(2026, 3, 1, tzinfo=UTC)  # some demo cases are halfway then, others not opened yet


def read_by_orm(ws: Workspace, case_id: str) -> MoneyOnRecord:
    """What ``money_on_record`` read through ORM sessions before it moved to the read layer."""
    wf = load_case_data(ws, case_id).workflow.definition
    with ws.session() as session:
        return MoneyOnRecord(load_money(session, case_id, wf), load_steps(session, case_id),
                             load_invoices(session, case_id), current_elevator(session, case_id))


def columns(row: Any, table: Table) -> dict[str, Any] | None:
    """A row's values by column (an ORM object or a Core row alike; times as aware UTC)."""
    if row is None:
        return None
    values = {column.name: getattr(row, column.name) for column in table.c}
    return {k: as_utc(v) if isinstance(v, datetime) else v for k, v in values.items()}


def case_ids(ws: Workspace) -> list[str]:
    with ws.engine.connect() as conn:
        return list(conn.execute(select(tables.cases.c.id).order_by(tables.cases.c.id)).scalars())


def test_the_money_read_with_core_is_what_the_orm_reads(demo: Workspace) -> None:
    compared = 0
    for case_id in case_ids(demo):
        orm = read_by_orm(demo, case_id)
        with demo.engine.connect() as conn:
            core = money_on_record(conn, case_id, orm.money.workflow)
        a, b = orm.money, core.money
        assert (a.lines, a.payments, a.certificates, a.agreed) == (b.lines, b.payments, b.certificates, b.agreed)
        assert (orm.subsidy, orm.invoices) == (core.subsidy, core.invoices)
        assert columns(a.funding, tables.funding) == columns(b.funding, tables.funding)
        assert columns(a.settlement, tables.settlements) == columns(b.settlement, tables.settlements)
        assert columns(orm.elevator, tables.elevators) == columns(core.elevator, tables.elevators)
        assert [columns(h, tables.households) for h in a.households] == [columns(h, tables.households)
                                                                        for h in b.households]
        compared += bool(a.payments) + bool(orm.subsidy) + bool(orm.invoices) + (orm.elevator is not None)
    assert compared >= 4  # the demo's pilot has payments, subsidy steps, invoices and its elevator on record


@pytest.fixture
def by_sqlalchemy(demo_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Workspace]:
    """The demo opened without the plain reader (the cache off): every read through SQLAlchemy."""
    monkeypatch.setenv("EIGHTSTEP_CACHE_DIR", "off")
    ws = Workspace.open(str(demo_dir / "eightstep.db"))
    assert ws._plain is None
    yield ws
    ws.dispose()


@pytest.mark.parametrize("at", [None, MID_STORY], ids=["now", "mid-story"])
def test_every_form_is_the_same_from_either_read(demo: Workspace, by_sqlalchemy: Workspace,
                                                 at: datetime | None) -> None:
    """The forms' data read through sqlite3 (``store.plain``, now) or SQLAlchemy, the money by the read layer or
    by the ORM: every form the same."""
    assert demo._plain is not None
    pw = Paperwork(demo)
    rendered = 0
    for case_id in case_ids(demo):
        try:
            data = load_case_data(demo, case_id, at)
        except NotFoundError:  # not opened yet then
            continue
        by_orm = replace(data, money=read_by_orm(demo, case_id))
        core = load_case_data(by_sqlalchemy, case_id, at)
        for form_id in pw.form_ids():
            outputs = []
            for each in (data, by_orm, core):
                try:
                    outputs.append(pw._render(each, form_id, "html").content)
                except MissingData as exc:
                    outputs.append(exc.missing)
            assert outputs[0] == outputs[1] == outputs[2], (case_id, form_id)
            rendered += isinstance(outputs[0], bytes)
    assert rendered >= 50


# --- PDF: the fonts one document loaded serve the next ---------------------------------------------------

FIRST = "<html><body><h1>加装电梯申请书</h1><p>Total 450,000.01 元</p></body></html>"
SECOND = "<html><body><p>既有住宅加装电梯业主表决结果统计表 — 同意 12 户</p></body></html>"


def test_a_pdf_is_the_same_whether_or_not_another_was_made_before_it() -> None:
    pdf._kept.fonts = None
    alone = pdf.html_to_pdf(SECOND)
    pdf._kept.fonts = None
    pdf.html_to_pdf(FIRST)
    assert pdf._kept.fonts is not None  # kept for the next document
    assert pdf.html_to_pdf(SECOND) == alone


def test_fonts_a_document_adds_are_not_passed_on(tmp_path: Path) -> None:
    font = next(iter(sorted(Path("/usr/share/fonts").rglob("*.ttf"))), None)
    if font is None:
        pytest.skip("no TrueType font file on this machine to declare with @font-face")
    own = (f"<html><head><style>@font-face {{ font-family: Own; src: url({font.as_uri()}) }} p {{ font-family: Own }}"
           "</style></head><body><p>abc</p></body></html>")
    pdf._kept.fonts = None
    pdf.html_to_pdf(FIRST)
    assert pdf._kept.fonts is not None
    pdf.html_to_pdf(own)
    assert pdf._kept.fonts is None  # the next document starts with the system's fonts only, as each did before


def test_listing_the_forms_needs_no_template_environment(demo: Workspace, tmp_path: Path) -> None:
    mine = tmp_path / "mine"
    mine.mkdir()
    (mine / "tally.html.j2").write_text('{% extends "builtin/tally.html.j2" %}', encoding="utf-8")
    (mine / "handbill.html.j2").write_text("<p>{{ case.id }}</p>", encoding="utf-8")
    listing = Paperwork(demo, [mine])
    listed = listing.list_forms("RD-3-2")
    assert listing._env is None  # no Jinja environment made (nor Jinja imported by the CLI: test_startup_imports)
    rendering = Paperwork(demo, [mine])
    assert rendering.env.source_path("tally.html.j2") == str(mine / "tally.html.j2")
    assert rendering.list_forms("RD-3-2") == listed  # every template file as Jinja's loader finds it
    assert [f.template for f in listed if f.id in ("tally", "handbill")] == [str(mine / "tally.html.j2"),
                                                                           str(mine / "handbill.html.j2")]
