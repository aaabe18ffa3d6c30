"""A signed agreement's cost shares change only by an explicit amendment (`--amend REASON`), on real SQLite.

The stage that signs it is the one whose forms include the agreement: here a test workflow calls it ``talks``,
so nothing depends on the stage id ``agreement``.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.errors import InputError, Remedy
from eightstep.records import funding
from eightstep.records.funding import agreement_signed, agreement_stage
from eightstep.records.schemes import add_scheme, choose
from eightstep.resources import builtin_dir
from eightstep.store import models
from eightstep.store.workspace import Workspace
from eightstep.workflow.loader import load_workflow_file
from tests.conftest import write_households
from tests.helpers.cli import run as cli
from tests.test_schemes import FLOOR_SHARING, T0, day

CASE = "AG-1-1"

WORKFLOW = """\
id: {id}
version: "1"
title: 协议测试
title_en: Agreement test
region: 测试
authorities:
  owners: {{title: 本单元业主, title_en: Owners}}
cost_sharing:
  method: {method}
{sharing}
stages:
  - id: talks
    title: 协商签约
    title_en: Talks and signature
    responsible: owners
    forms: [agreement]
  - id: works
    title: 施工
    title_en: Works
    responsible: owners
  - id: operation
    title: 运行
    title_en: Operation
    responsible: owners
    final: true
"""


@pytest.fixture
def flows(tmp_path: Path) -> Path:
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "talks.yaml").write_text(WORKFLOW.format(id="talks", method="floor_coefficient",
                                                       sharing=FLOOR_SHARING), encoding="utf-8")
    (folder / "talks-table.yaml").write_text(WORKFLOW.format(id="talks-table", method="agreed_table", sharing=""),
                                             encoding="utf-8")
    return folder


@pytest.fixture
def ws(tmp_path: Path, flows: Path) -> Iterator[Workspace]:
    workspace, _ = Workspace.init(str(tmp_path / "agreement.db"), workflow_dirs=[flows])
    yield workspace
    workspace.dispose()


def opened(ws: Workspace, tmp_path: Path, workflow_id: str = "talks") -> tuple[int, int]:
    """The case in ``talks`` with 12 households, two schemes, the first chosen and the funding set."""
    engine.open_case(ws, CASE, complex_name="协议小区", building="1", unit="1", workflow_id=workflow_id, at=T0)
    records.import_households(ws, CASE, write_households(tmp_path / "owners.csv"), at=T0)
    a = add_scheme(ws, CASE, company="甲公司", price=48_000_000, at=day(1))
    b = add_scheme(ws, CASE, company="乙公司", price=55_000_000, at=day(1))
    choose(ws, CASE, a.id, reason="价格低", at=day(2))
    funding.set_funding(ws, CASE, subsidy=20_000_000, maintenance=500_000, at=day(2))
    return a.id, b.id


def signed(ws: Workspace) -> None:
    engine.advance(ws, CASE, at=day(5))
    assert engine.show_case(ws, CASE).stage == "works"


def figures(ws: Workspace) -> dict[str, object]:
    with ws.session() as session:
        row = session.get(models.Funding, CASE)
        assert row is not None
        return funding.figures_of(row).as_dict()


def details(ws: Workspace) -> tuple[str, dict[str, object]]:
    event = engine.history(ws, CASE)[-1]
    return event.action, json.loads(event.details)


def test_the_agreement_stage_comes_from_the_workflow(ws: Workspace) -> None:
    for name in ("wuhan", "wuhan-2018", "guangzhou"):
        wf = load_workflow_file(builtin_dir("workflows") / f"{name}.yaml").definition
        stage = agreement_stage(wf)
        assert stage is not None and stage.id == "agreement", name
        after = wf.stage_ids()[wf.stage_ids().index("agreement") + 1]
        assert agreement_signed(wf, "agreement") is None
        assert agreement_signed(wf, after) is stage
        assert agreement_signed(wf, wf.stage_ids()[0]) is None
    wf = ws.workflows.get("talks").definition
    stage = agreement_stage(wf)
    assert stage is not None and stage.id == "talks"
    assert agreement_signed(wf, "talks") is None and agreement_signed(wf, "operation") is stage


def test_before_signature_the_shares_change_freely(ws: Workspace, tmp_path: Path) -> None:
    _a, b = opened(ws, tmp_path)
    choose(ws, CASE, b, reason="业主改选", at=day(3))
    f = funding.set_funding(ws, CASE, subsidy=15_000_000, at=day(3))
    assert (f.total, f.subsidy) == (55_000_000, 15_000_000)
    with pytest.raises(InputError, match=r"amend: case AG-1-1 has not left stage talks yet: there is no signed "
                                         r"agreement to amend; leave it out"):
        funding.set_funding(ws, CASE, subsidy=10_000_000, at=day(3), amend="业主大会")


def test_after_signature_funding_set_is_refused_and_nothing_is_written(ws: Workspace, tmp_path: Path) -> None:
    opened(ws, tmp_path)
    signed(ws)
    before, count = figures(ws), len(engine.history(ws, CASE))
    with pytest.raises(InputError) as exc:
        funding.set_funding(ws, CASE, subsidy=10_000_000, at=day(6))
    message = str(exc.value)
    assert message.startswith("amend: case AG-1-1 has left stage talks (协商签约), where the owners signed the "
                              "agreement (加装电梯协议书) with its cost-share table: funding.set would change the "
                              "shares printed on the signed agreement. A change of a signed agreement is a new "
                              "agreement")
    assert "give the reason as an amendment" in message and "print the agreement again" in message
    assert exc.value.remedy == Remedy("case.return", {"case": "AG-1-1", "to": "talks"})
    assert figures(ws) == before and len(engine.history(ws, CASE)) == count
    # The same figures again change nothing, and are not refused.
    same = funding.set_funding(ws, CASE, subsidy=20_000_000, at=day(6))
    assert same.as_dict() == before
    with pytest.raises(InputError, match="amend: needs the reason"):
        funding.set_funding(ws, CASE, subsidy=10_000_000, at=day(6), amend="  ")


def test_after_signature_an_amendment_changes_the_funding_and_is_recorded(ws: Workspace, tmp_path: Path) -> None:
    opened(ws, tmp_path)
    signed(ws)
    f = funding.set_funding(ws, CASE, subsidy=10_000_000, at=day(6), amend="补贴核定为10万元，业主会议同意")
    assert (f.total, f.subsidy, f.shared) == (48_000_000, 10_000_000, 38_000_000)
    assert figures(ws)["subsidy"] == "100000.00"
    action, data = details(ws)
    assert action == "funding.set"
    assert data["amend"] == "补贴核定为10万元，业主会议同意"
    assert data["before"]["subsidy"] == "200000.00"  # type: ignore[index]
    assert funding.case_shares(ws, CASE).share_sum == 38_000_000


def test_after_signature_scheme_choose_is_refused_unless_amended(ws: Workspace, tmp_path: Path) -> None:
    a, b = opened(ws, tmp_path)
    signed(ws)
    count = len(engine.history(ws, CASE))
    with pytest.raises(InputError, match=r"has left stage talks \(协商签约\).*scheme.choose would change the "
                                         r"shares printed on the signed agreement"):
        choose(ws, CASE, b, reason="乙公司降价", at=day(6))
    assert figures(ws)["total"] == "480000.00" and len(engine.history(ws, CASE)) == count
    view, f = choose(ws, CASE, b, reason="乙公司降价", at=day(6), amend="业主大会改选乙公司，重签协议")
    assert view.chosen and view.id == b and f.total == 55_000_000
    action, data = details(ws)
    assert action == "scheme.choose"
    assert (data["scheme"], data["previous"], data["amend"]) == (b, a, "业主大会改选乙公司，重签协议")
    assert funding.case_shares(ws, CASE).share_sum == 55_000_000 - 20_000_000


def test_a_return_to_the_agreement_stage_opens_the_shares_again(ws: Workspace, tmp_path: Path) -> None:
    _a, b = opened(ws, tmp_path)
    signed(ws)
    engine.return_to(ws, CASE, "talks", reason="重新协商分摊", at=day(6))
    view, f = choose(ws, CASE, b, reason="重新协商", at=day(7))
    assert view.id == b and f.total == 55_000_000
    assert "amend" not in details(ws)[1]


def test_after_signature_funding_agree_is_refused_unless_amended(ws: Workspace, tmp_path: Path) -> None:
    opened(ws, tmp_path, "talks-table")
    table = tmp_path / "agreed.csv"
    rooms = [f"{floor}0{flat}" for floor in range(2, 8) for flat in (1, 2)]
    table.write_text("room,share\n" + "".join(f"{room},{1 if room < '300' else 2}\n" for room in rooms),
                     encoding="utf-8")
    funding.agree_shares(ws, CASE, table, at=day(3))
    signed(ws)
    with pytest.raises(InputError, match=r"funding.agree would change the shares printed on the signed agreement"):
        funding.agree_shares(ws, CASE, table, at=day(6))
    funding.agree_shares(ws, CASE, table, at=day(6), amend="二楼业主不再出资")
    action, data = details(ws)
    assert (action, data["amend"]) == ("funding.agree", "二楼业主不再出资")


def test_the_cli_refuses_with_the_reason_and_takes_amend(ws: Workspace, tmp_path: Path, flows: Path,
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    _a, b = opened(ws, tmp_path)
    signed(ws)
    monkeypatch.setenv("EIGHTSTEP_WORKFLOWS", str(flows))
    db = tmp_path / "agreement.db"
    runner = CliRunner()
    refused = cli(runner, db, "funding", "set", CASE, "--subsidy", "100000", code=1)
    assert refused.output.startswith("Error: --amend: case AG-1-1 has left stage talks (协商签约), where the owners "
                                     "signed")
    assert "Next: eightstep case return AG-1-1 --to talks --reason REASON" in refused.output
    refused = cli(runner, db, "scheme", "choose", CASE, str(b), "--reason", "x", code=1)
    assert "scheme.choose would change the shares printed on the signed agreement" in refused.output
    done = cli(runner, db, "funding", "set", CASE, "--subsidy", "100000", "--amend", "补贴核定为10万元")
    assert done.output == (
        "AG-1-1: total 480,000.00, subsidy 100,000.00, other 0.00; the owners share 380,000.00 yuan; maintenance "
        "5,000.00 yuan a year\n"
        "AG-1-1: the signed agreement changes (补贴核定为10万元): print it again, have it signed and record it:\n"
        "  → eightstep forms render AG-1-1 agreement\n"
        "  → eightstep doc add AG-1-1 agreement FILE --at DATE\n")
    history = json.loads(cli(runner, db, "case", "history", CASE, "--json").output)
    assert history[-1]["action"] == "funding.set" and history[-1]["details"]["amend"] == "补贴核定为10万元"
    cli(runner, db, "scheme", "choose", CASE, str(b), "--reason", "改选", "--amend", "业主大会改选")
    history = json.loads(cli(runner, db, "case", "history", CASE, "--json").output)
    assert history[-1]["action"] == "scheme.choose" and history[-1]["details"]["amend"] == "业主大会改选"
