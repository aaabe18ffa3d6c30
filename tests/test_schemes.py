"""Schemes side by side: exact shares under each, the choice sets the funding, a workflow can require one."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.cli import main
from eightstep.errors import BlockedError, InputError, NotFoundError
from eightstep.records import funding
from eightstep.records.schemes import add_scheme, choose, compare
from eightstep.rules.money import parse_yuan
from eightstep.store.workspace import Workspace
from tests.conftest import write_households

CASE = "SC-1-1"
T0 = datetime(2025, 3, 1, 1, 0, tzinfo=UTC)
# Flats of slightly different areas, so that the shares are awkward fractions of a fen.
FLATS = [(f"{floor}0{flat}", floor, f"{78 + floor}.{(floor * 37 + flat * 11) % 100:02d}", f"业主{floor}0{flat}", "")
         for floor in range(2, 8) for flat in (1, 2)]

METHOD_WORKFLOW = """\
id: {id}
version: "1"
title: 八步法测试
title_en: Method test
region: 测试
authorities:
  owners: {{title: 本单元业主, title_en: Owners}}
cost_sharing:
  method: {method}
{sharing}
stages:
  - id: agreement
    title: 签订加梯协议
    title_en: Owner agreement
    responsible: owners
    requires:
      chosen_scheme: true
      meetings: [brand, cost_shares]
  - id: operation
    title: 运行维护管理
    title_en: Operation
    responsible: owners
    final: true
"""
FLOOR_SHARING = "  exempt_floors: [1, 2]\n  coefficients: {3: 0.7, 4: 0.8, 5: 0.9, 6: 1.0, 7: 1.1}\n"


def day(n: int) -> datetime:
    return T0 + timedelta(days=n)


def write_workflow(folder: Path, workflow_id: str, method: str = "floor_coefficient",
                   sharing: str = FLOOR_SHARING) -> Path:
    folder.mkdir(exist_ok=True)
    path = folder / f"{workflow_id}.yaml"
    path.write_text(METHOD_WORKFLOW.format(id=workflow_id, method=method, sharing=sharing), encoding="utf-8")
    return folder


@pytest.fixture
def method_ws(tmp_path: Path) -> Iterator[Workspace]:
    """A workspace that also knows the test workflows (method-floor, method-area)."""
    folder = write_workflow(tmp_path / "flows", "method-floor")
    write_workflow(folder, "method-area", "area", "")
    ws, _ = Workspace.init(str(tmp_path / "method.db"), workflow_dirs=[folder])
    yield ws
    ws.dispose()


def opened(ws: Workspace, tmp_path: Path, workflow_id: str | None = None) -> Workspace:
    engine.open_case(ws, CASE, complex_name="比选小区", building="1", unit="1", workflow_id=workflow_id, at=T0)
    records.import_households(ws, CASE, write_households(tmp_path / "owners.csv", FLATS), at=T0)
    return ws


@pytest.mark.parametrize("workflow_id", ["wuhan", "method-area"])
@pytest.mark.parametrize(("prices", "subsidy"), [
    (["480000.01", "455555.55", "333333.33"], "200000"),
    (["0.07", "1.00", "999999.99"], "0.03"),
    (["650000", "712345.67"], None),
])
def test_shares_add_up_exactly(method_ws: Workspace, tmp_path: Path, workflow_id: str, prices: list[str],
                               subsidy: str | None) -> None:
    ws = opened(method_ws, tmp_path, workflow_id)
    for i, price in enumerate(prices):
        add_scheme(ws, CASE, company=f"公司{i}", price=parse_yuan(price), at=day(1))
    result = compare(ws, CASE, subsidy=parse_yuan(subsidy) if subsidy else None)
    assert result.subsidy_source == ("option" if subsidy else "none")
    for priced, price in zip(result.priced, prices, strict=True):
        fen = parse_yuan(price)
        used = min(fen, parse_yuan(subsidy) if subsidy else 0)
        assert priced.before.share_sum == fen
        assert priced.after.share_sum == fen - used
        assert all(r.share >= 0 for r in priced.after.rows)
        if workflow_id == "wuhan":
            assert all(r.share == 0 for r in priced.before.rows if r.floor == 2)  # floors 1-2 pay nothing
    data = result.as_dict()
    assert len(data["households"]) == 12
    for scheme in data["schemes"]:
        column = [h["shares"][str(scheme["id"])] for h in data["households"]]
        assert sum(parse_yuan(c["before"]) for c in column) == parse_yuan(scheme["price"])
        assert sum(parse_yuan(c["after"]) for c in column) == parse_yuan(scheme["total_after"])


def test_choose_sets_the_funding_the_forms_use(ws: Workspace, tmp_path: Path) -> None:
    opened(ws, tmp_path)
    funding.set_funding(ws, CASE, total=40_000_000, subsidy=20_000_000, maintenance=500_000, at=day(1))
    proposal = tmp_path / "方案.pdf"
    proposal.write_bytes(b"%PDF-1.4 proposal")
    a = add_scheme(ws, CASE, company="湖北梯安", price=48_000_000, entry="half-floor", duration_days=150,
                   file=proposal, at=day(2))
    b = add_scheme(ws, CASE, company="江城快速", price=69_800_000, entry="level", at=day(2))
    assert a.entry == "half_floor" and b.entry == "level"
    assert ws.files.path_for(a.file_sha256 or "").read_bytes() == b"%PDF-1.4 proposal"
    result = compare(ws, CASE)
    assert result.subsidy_source == "funding" and result.subsidy == 20_000_000

    view, figures = choose(ws, CASE, a.id, reason="价格居中，工期短", at=day(3), actor="李建国", as_role="owner_rep")
    assert view.chosen and view.reason == "价格居中，工期短"
    assert (figures.total, figures.subsidy, figures.maintenance) == (48_000_000, 20_000_000, 500_000)
    table = funding.case_shares(ws, CASE)
    chosen = next(p for p in compare(ws, CASE).priced if p.scheme.id == a.id)
    assert [r.share for r in table.rows] == [r.share for r in chosen.after.rows]
    event = engine.history(ws, CASE)[-1]
    details = json.loads(event.details)
    assert (event.action, details["scheme"], details["actor_role"]) == ("scheme.choose", a.id, "owner_rep")
    assert details["funding_before"]["total"] == "400000.00" and details["funding"]["total"] == "480000.00"

    choose(ws, CASE, b.id, reason="业主大会改选平层入户", at=day(4))  # a later choice replaces it
    assert [s.scheme.id for s in compare(ws, CASE).priced if s.scheme.chosen] == [b.id]
    assert funding.case_shares(ws, CASE).figures.total == 69_800_000


def test_choose_refuses(ws: Workspace, tmp_path: Path) -> None:
    opened(ws, tmp_path)
    engine.open_case(ws, "SC-1-2", complex_name="比选小区", building="1", unit="2", at=T0)
    other = add_scheme(ws, "SC-1-2", company="别家", price=30_000_000, at=day(1))
    cheap = add_scheme(ws, CASE, company="便宜", price=10_000_000, at=day(2))
    with pytest.raises(NotFoundError, match="no scheme #"):
        choose(ws, CASE, other.id, reason="x", at=day(3))
    with pytest.raises(InputError, match="reason: "):
        choose(ws, CASE, cheap.id, reason="  ", at=day(3))
    with pytest.raises(InputError, match="before scheme"):
        choose(ws, CASE, cheap.id, reason="x", at=day(1))
    funding.set_funding(ws, CASE, total=48_000_000, subsidy=20_000_000, at=day(2))
    with pytest.raises(InputError, match="exceed the total cost"):
        choose(ws, CASE, cheap.id, reason="便宜", at=day(3))
    assert funding.case_shares(ws, CASE).figures.total == 48_000_000  # nothing written
    with pytest.raises(InputError, match="price: "):
        add_scheme(ws, CASE, company="零元", price=0)
    with pytest.raises(InputError, match="entry: "):
        add_scheme(ws, CASE, company="x", price=100, entry="sideways")


def test_workflow_can_require_a_chosen_scheme_and_meetings(method_ws: Workspace, tmp_path: Path) -> None:
    from eightstep.records.meetings import add_meeting

    ws = opened(method_ws, tmp_path, "method-floor")
    blockers = engine.check(ws, CASE, at=day(1)).blockers
    assert [(b.type, b.kind) for b in blockers] == [("scheme", None), ("meeting", "brand"),
                                                    ("meeting", "cost_shares")]
    scheme = add_scheme(ws, CASE, company="湖北梯安", price=48_000_000, at=day(2))
    add_meeting(ws, CASE, at=day(2), attendees=["李建国", "周桂兰"], decision="选定品牌", kinds=["brand"])
    choose(ws, CASE, scheme.id, reason="协商小组一致", at=day(3))
    with pytest.raises(BlockedError) as refused:
        engine.advance(ws, CASE, at=day(3))
    assert [b.kind for b in refused.value.blockers] == ["cost_shares"]
    add_meeting(ws, CASE, at=day(4), attendees=["李建国、周桂兰，王敏"], decision="按楼层系数分摊",
                kinds=["budget", "cost_shares"])
    assert engine.check(ws, CASE, at=day(3)).blockers  # as of before that meeting
    engine.advance(ws, CASE, at=day(5))
    assert engine.show_case(ws, CASE).stage == "operation"


def test_cli_scheme(ws: Workspace, db_path: Path, tmp_path: Path, runner: CliRunner) -> None:
    opened(ws, tmp_path)
    db = ["--db", str(db_path)]
    for company, price in (("湖北梯安<电梯>", "480000"), ("武汉升华", "455000.50")):
        added = runner.invoke(main, [*db, "scheme", "add", CASE, "--company", company, "--price", price,
                                     "--entry", "half-floor", "--duration", "150", "--at", "2025-03-05"])
        assert added.exit_code == 0, added.output
    page = tmp_path / "compare.html"
    result = runner.invoke(main, [*db, "scheme", "compare", CASE, "--subsidy", "200000", "--json", "--html",
                                  str(page)])
    assert result.exit_code == 0, result.output
    data = json.loads(result.stdout)
    assert {"case", "method", "subsidy", "schemes", "households"} <= set(data)
    assert [s["price"] for s in data["schemes"]] == ["480000.00", "455000.50"]
    assert [s["total_after"] for s in data["schemes"]] == ["280000.00", "255000.50"]
    assert data["households"][0]["shares"]["1"] == {"before": "0.00", "after": "0.00"}  # second floor
    html = page.read_text(encoding="utf-8")
    assert "湖北梯安&lt;电梯&gt;" in html and "<电梯>" not in html and "280,000.00" in html
    chose = runner.invoke(main, [*db, "scheme", "choose", CASE, "2", "--reason", "最便宜", "--at", "2025-03-06"])
    assert chose.exit_code == 0, chose.output
    assert "funding total 455,000.50" in chose.stdout
    missing = runner.invoke(main, [*db, "scheme", "choose", CASE, "9", "--reason", "x"])
    assert missing.exit_code == 1 and "no scheme #9" in missing.stderr
    text = runner.invoke(main, [*db, "scheme", "compare", CASE])
    assert text.exit_code == 0 and "✔ 最便宜" in text.stdout
