"""One unit's money followed from the agreement to the final settlement, to the fen: extras and compensation in
the shares, payments (one from the housing provident fund, against its share certificate), payment required
before a stage is left, a subsidy paid late (flagged by the audit meanwhile), change orders, the settlement's
refund by the same share rule, and every figure agreeing with every other."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, date, datetime, time
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.audit import stalled as audit
from eightstep.cli import main
from eightstep.errors import BlockedError, InputError, NotFoundError
from eightstep.records.elevator import set_elevator
from eightstep.records.funding import set_funding
from eightstep.records.payments import add_line, case_money, issue_certificate, record_payment
from eightstep.records.settlement import add_invoice, settle_case
from eightstep.records.subsidy import apply_for_subsidy, decide_subsidy, pay_subsidy, subsidy_view
from eightstep.store.workspace import Workspace
from eightstep.timeutil import LOCAL_TZ
from tests.conftest import write_households

CASE = "MF-1-1"
WORKFLOW = """\
id: money-flow
version: "1"
title: 资金流程测试
title_en: Money flow test
region: 测试
authorities:
  owners: {title: 本单元业主, title_en: Owners}
  inspection_institute: {title: 特种设备检验检测机构, title_en: Inspection institute}
  market_supervision: {title: 市场监督管理局, title_en: Market supervision}
documents:
  agreement: {title: 加装电梯协议书, title_en: Owner agreement, issuer: owners}
  maintenance_record: {title: 电梯维保记录, title_en: Maintenance record, issuer: owners}
  periodic_inspection: {title: 电梯定期检验报告, title_en: Periodic inspection, issuer: inspection_institute}
approvals:
  supervisory_inspection: {title: 监督检验合格报告, title_en: Supervisory inspection, authority: inspection_institute}
  use_registration: {title: 使用登记证, title_en: Use registration, authority: market_supervision}
cost_sharing:
  method: floor_coefficient
  exempt_floors: [1, 2]
  coefficients: {3: 0.7, 4: 0.8, 5: 0.9, 6: 1.0, 7: 1.1}
upkeep:
  maintenance_document: maintenance_record
  inspection_document: periodic_inspection
  warranty_min: {days: 730}
  warn_before: {days: 30}
subsidy:
  description: 每台电梯补贴20万元
  method: per_unit
  amount: 200000
  paid_within: {days: 90}
stages:
  - id: agreement
    title: 签订加梯协议
    title_en: Owner agreement
    responsible: owners
    forms: [agreement]
    requires:
      documents: [agreement]
  - id: construction
    title: 施工安装
    title_en: Construction
    responsible: owners
    requires:
      payments: {share: 1}
  - id: acceptance
    title: 竣工验收与使用登记
    title_en: Acceptance
    responsible: owners
    requires:
      approvals: [supervisory_inspection, use_registration]
  - id: operation
    title: 运行维护管理
    title_en: Operation
    responsible: owners
    final: true
"""


def at(day: str, hm: str = "10:00") -> datetime:
    hour, minute = (int(x) for x in hm.split(":"))
    return datetime.combine(date.fromisoformat(day), time(hour, minute), tzinfo=LOCAL_TZ).astimezone(UTC)


pytestmark = pytest.mark.backends("sqlite", "postgresql")


@pytest.fixture
def flow(tmp_path: Path, db_url: str) -> Iterator[Workspace]:
    yield from money_flow(tmp_path, db_url)


def money_flow(tmp_path: Path, db_url: str) -> Iterator[Workspace]:
    """A workspace on ``db_url`` that knows the workflow ``money-flow``, with the case opened and its 12
    households."""
    folder = tmp_path / "flows"
    folder.mkdir()
    (folder / "money-flow.yaml").write_text(WORKFLOW, encoding="utf-8")
    ws, _ = Workspace.init(db_url, workflow_dirs=[folder])
    engine.open_case(ws, CASE, complex_name="资金小区", building="1", unit="1", workflow_id="money-flow",
                     at=at("2025-03-01"))
    records.import_households(ws, CASE, write_households(tmp_path / "owners.csv", [
        (f"{floor}0{n}", floor, f"{80 + floor}.{n * 17:02d}", f"业主{floor}0{n}", "") for floor in range(2, 8)
        for n in (1, 2)]), at=at("2025-03-01"))
    yield ws
    ws.dispose()


def sign(ws: Workspace, tmp_path: Path) -> None:
    scan = tmp_path / "agreement.txt"
    scan.write_text("协议书扫描件", encoding="utf-8")
    records.add_document(ws, CASE, "agreement", scan, at=at("2025-03-20"))
    engine.advance(ws, CASE, at=at("2025-03-21"))


def test_one_units_money_from_the_agreement_to_the_settlement(flow: Workspace, tmp_path: Path, db_url: str) -> None:
    ws = flow
    # The agreement: the price, the expected subsidy, a glass shaft and a compensation to 202 as money lines.
    set_funding(ws, CASE, total=48_000_000, subsidy=20_000_000, maintenance=500_000, at=at("2025-03-05"))
    add_line(ws, CASE, "extra", 1_800_000, "玻璃幕墙井道", at=at("2025-03-10"))
    add_line(ws, CASE, "compensation", 800_000, "补偿202室采光", room="202", at=at("2025-03-10"))
    table = case_money(ws, CASE).table()
    assert (table.figures.cost, table.figures.shared, table.share_sum) == (49_800_000, 30_600_000, 30_600_000)
    shares = {r.room: r.share for r in table.rows}
    sign(ws, tmp_path)
    with pytest.raises(InputError, match="as an amendment"):  # a new line changes the signed shares
        add_line(ws, CASE, "extra", 100_000, "遮阳板", at=at("2025-03-25"))

    # Before the works: every household must have paid its share in full (the workflow says so).
    with pytest.raises(BlockedError) as blocked:
        engine.advance(ws, CASE, at=at("2025-03-26"))
    payment_blockers = [b for b in blocked.value.blockers if b.type == "payment"]
    assert sorted(b.kind for b in payment_blockers) == sorted(r for r, s in shares.items() if s > 0)
    assert all(b.remedy is not None and b.remedy.action == "funding.pay" for b in payment_blockers)

    with pytest.raises(InputError, match="share certificate"):  # the fund pays against the certificate
        record_payment(ws, CASE, "701", shares["701"], way="provident_fund", at=at("2025-04-01"))
    cert = issue_certificate(ws, CASE, "701", at=at("2025-04-02"))
    assert cert.amount == shares["701"] and cert.number == f"FT-{CASE}-001"
    serials = []
    for i, room in enumerate(sorted(r for r, s in shares.items() if s > 0)):
        way = "provident_fund" if room == "701" else ("cash" if i % 3 == 0 else "transfer")
        if room == "601":  # in two parts
            serials.append(record_payment(ws, CASE, room, 1_000_000, way="cash", at=at("2025-04-03")).serial)
            serials.append(record_payment(ws, CASE, room, shares[room] - 1_000_000, at=at("2025-04-08")).serial)
        else:
            serials.append(record_payment(ws, CASE, room, shares[room], way=way, at=at("2025-04-08")).serial)
    assert serials == list(range(1, len(serials) + 1))
    with pytest.raises(InputError, match=r"owes 0\.00 yuan"):
        record_payment(ws, CASE, "302", 1, at=at("2025-04-09"))
    record_payment(ws, CASE, "202", 800_000, kind="compensation", note="协议约定的补偿款", at=at("2025-04-10"))
    paid_out = [json.loads(e.details) for e in engine.history(ws, CASE) if e.action == "funding.payout"]
    assert paid_out[-1]["note"] == "协议约定的补偿款"  # every fact of the receipt is in the history
    agreed = [e for e in engine.history(ws, CASE) if e.action == "funding.compensation"]
    assert len(agreed) == 1 and json.loads(agreed[0].details)["room"] == "202"  # the line, not its payment
    with pytest.raises(InputError, match="compensation"):
        record_payment(ws, CASE, "202", 1, kind="compensation", at=at("2025-04-10"))
    engine.advance(ws, CASE, at=at("2025-04-11"))  # every share paid: the works may start

    # Acceptance, the elevator's record, and the subsidy application with the inspection certificate.
    records.add_approval(ws, CASE, "supervisory_inspection", authority="检验院", at=at("2025-06-03"))
    records.add_approval(ws, CASE, "use_registration", authority="市场监管局", number="梯11鄂A20250001",
                         at=at("2025-06-06"))
    engine.advance(ws, CASE, at=at("2025-06-09"))
    set_elevator(ws, CASE, registration_code="梯11鄂A20250001", maker="奥升电梯", model="ASP-450", load_kg=450,
                 speed_cms=100, stops=7, safety_manager="彭涛", maintainer="梯安", maintainer_licence="TS3442107",
                 warranty_from=date(2025, 6, 3), warranty_until=date(2027, 6, 2), at=at("2025-06-09"))
    applied = apply_for_subsidy(ws, CASE, to="区住房和城市更新局", at=at("2025-06-10"))
    assert applied.amount_fen == 20_000_000 and "200,000.00" in (applied.basis or "")
    decide_subsidy(ws, CASE, approved=True, at=at("2025-08-01"))

    # Paid late: 90 days after the application the audit flags it, not before.
    assert not [f for f in audit.find(ws, as_of=date(2025, 9, 8)).findings if f.type == audit.SUBSIDY_UNPAID]
    [late] = [f for f in audit.find(ws, as_of=date(2025, 9, 9)).findings if f.type == audit.SUBSIDY_UNPAID]
    assert (late.case, late.since, late.days_over) == (CASE, date(2025, 6, 10), 1)
    assert late.waiting_on == "区住房和城市更新局"
    with pytest.raises(InputError, match="not fully paid"):
        settle_case(ws, CASE, at=at("2025-09-15"))
    pay_subsidy(ws, CASE, 20_000_000, payer="江夏区住房和城市更新局", account="业主代表专户 6222****1234",
                at=at("2025-10-15"))
    assert subsidy_view(ws, CASE).status.state == "paid"
    assert not [f for f in audit.find(ws, as_of=date(2025, 10, 16)).findings if f.type == audit.SUBSIDY_UNPAID]

    # Change orders, the invoice, and the settlement: 1,800 yuan saved goes back by the same weights.
    add_line(ws, CASE, "change_order", 320_000, "燃气管迁改", at=at("2025-05-10"))
    add_line(ws, CASE, "change_order", -500_000, "取消地坑防水加强", at=at("2025-05-20"))
    add_invoice(ws, CASE, number="42000251234", issuer="梯安", amount=49_620_000, at=at("2025-10-16"))
    result = settle_case(ws, CASE, at=at("2025-10-20"))
    assert (result.final.final_cost, result.final.shared, result.difference) == (49_620_000, 30_420_000, -180_000)
    assert sum(result.adjustments.values()) == -180_000
    assert result.adjustments["201"] == result.adjustments["202"] == 0

    money = case_money(ws, CASE)
    book = money.ledger()
    assert book.total("outstanding") == -180_000  # to be paid back
    for account in book.accounts:
        if account.outstanding < 0:
            record_payment(ws, CASE, account.room, -account.outstanding, kind="refund", at=at("2025-10-25"))
    book = case_money(ws, CASE).ledger()
    assert all(a.outstanding == 0 and a.compensation_outstanding == 0 for a in book.accounts)
    assert book.total("net_paid") == result.final.shared - 0  # the owners paid exactly what they share at the end
    assert book.by_way()["provident_fund"] == shares["701"]
    assert sum(book.by_way().values()) == book.total("paid")

    # The same figures through the CLI.
    out = CliRunner().invoke(main, ["--db", db_url, "--workflows", str(tmp_path / "flows"),
                                    "funding", "paid", CASE, "--json"])
    assert out.exit_code == 0, out.output
    data = json.loads(out.output)
    assert data["totals"]["net_paid"] == "304200.00" and data["totals"]["outstanding"] == "0.00"
    assert data["by_way"]["provident_fund"] == f"{shares['701'] // 100}.{shares['701'] % 100:02d}"
    assert len(data["payments"]) == len(serials) + 1 + sum(1 for v in result.adjustments.values() if v)

    # The settlement form says the same, in figures and in 大写.
    from eightstep.paperwork.render import Paperwork

    page = Paperwork(ws).render(CASE, "settlement", at=at("2025-10-31")).content.decode("utf-8")
    for figure in ("498,000.00", "3,200.00", "-5,000.00", "496,200.00", "304,200.00", "306,000.00",
                   "人民币壹仟捌佰元整", "42000251234"):
        assert figure in page, figure


def test_money_lines_are_checked(flow: Workspace) -> None:
    ws = flow
    with pytest.raises(InputError, match="no funding yet"):
        add_line(ws, CASE, "extra", 100, "x", at=at("2025-03-02"))
    set_funding(ws, CASE, total=100_000, subsidy=100_000, at=at("2025-03-02"))
    with pytest.raises(InputError, match="give its room"):
        add_line(ws, CASE, "compensation", 100, "x", at=at("2025-03-02"))
    with pytest.raises(InputError, match="more than 0"):
        add_line(ws, CASE, "extra", -100, "x", at=at("2025-03-02"))
    with pytest.raises(NotFoundError, match="no room '909'"):
        add_line(ws, CASE, "compensation", 100, "x", room="909", at=at("2025-03-02"))
    line = add_line(ws, CASE, "extra", 5_000, "遮阳板", at=at("2025-03-02"))
    assert line.kind == "extra" and case_money(ws, CASE).figures.cost == 105_000
    events = [e for e in engine.history(ws, CASE) if e.action == "funding.extra"]
    assert json.loads(events[0].details)["funding"]["cost"] == "1050.00"
    assert json.loads(events[0].details)["line_id"] == line.id


def test_receipts_and_settlement_forms_state_the_money_as_of_their_date(flow: Workspace, tmp_path: Path) -> None:
    import re

    from eightstep.paperwork.needs import MissingData
    from eightstep.paperwork.render import Paperwork

    def text(form: str, day: str) -> str:
        page = Paperwork(ws).render(CASE, form, at=at(day, "23:00")).content.decode("utf-8")
        return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", page))

    ws = flow
    set_funding(ws, CASE, total=48_000_000, subsidy=20_000_000, at=at("2025-03-05"))
    shares = {r.room: r.share for r in case_money(ws, CASE).table().rows}
    with pytest.raises(MissingData, match="no payment of case MF-1-1 is on record"):
        text("receipts", "2025-03-06")
    record_payment(ws, CASE, "301", 1_000_001, way="cash", at=at("2025-04-01"))
    record_payment(ws, CASE, "301", shares["301"] - 1_000_001, at=at("2025-04-02"))
    first = text("receipts", "2025-04-01")
    assert first.count(f"编号：SK-{CASE}-") == 1  # the second payment is not yet made on the form's date
    assert "¥10,000.01 元" in first and "人民币壹万元零壹分" in first
    assert f"尚欠 {(shares['301'] - 1_000_001) // 100:,}." in first
    both = text("receipts", "2025-04-02")
    assert both.count(f"编号：SK-{CASE}-") == 2 and "尚欠 0.00 元" in both
    with pytest.raises(MissingData, match="no final settlement of case"):
        text("settlement", "2025-04-02")
