"""Corrections of the money records (issue 16): a payment, a share certificate, a money line, a subsidy step, an
invoice, the settlement, the elevator's record, a policy, an incident, a repair voided by an appended event with a
reason. The row stays; the history says what was wrong and who corrected it; `funding paid`, the ledger, the
receipts, the settlement and completion forms and the aftercare audit leave the voided record out."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine, records
from eightstep.audit import stalled as audit
from eightstep.audit.verify import verify
from eightstep.cli import main
from eightstep.errors import InputError, NotFoundError
from eightstep.paperwork.needs import MissingData
from eightstep.paperwork.render import Paperwork
from eightstep.records.elevator import add_incident, add_repair, elevator_view, set_elevator
from eightstep.records.funding import case_shares, set_funding
from eightstep.records.payments import add_line, case_money, issue_certificate, record_payment
from eightstep.records.settlement import add_invoice, settle_case
from eightstep.records.subsidy import apply_for_subsidy, decide_subsidy, pay_subsidy, subsidy_view
from eightstep.store.workspace import Workspace
from tests.test_money_flow import CASE, at, money_flow, sign

pytestmark = pytest.mark.backends("sqlite", "postgresql")
ELEVATOR = {"registration_code": "梯11鄂A20250001", "maker": "奥升电梯", "model": "ASP-450", "load_kg": 450,
            "speed_cms": 100, "stops": 7, "safety_manager": "彭涛", "maintainer": "梯安",
            "maintainer_licence": "TS3442107", "warranty_from": date(2025, 6, 3), "warranty_until": date(2027, 6, 2)}


@pytest.fixture
def settled(tmp_path: Path, db_url: str) -> Iterator[Workspace]:
    """MF-1-1 in operation: every share paid (701 from the provident fund), the elevator on record, the subsidy
    applied for, approved and paid, an invoice, the settlement."""
    for ws in money_flow(tmp_path, db_url):
        set_funding(ws, CASE, total=48_000_000, subsidy=20_000_000, at=at("2025-03-05"))
        shares = {r.room: r.share for r in case_money(ws, CASE).table().rows if r.share > 0}
        sign(ws, tmp_path)
        issue_certificate(ws, CASE, "701", at=at("2025-04-02"))
        for room, share in shares.items():
            record_payment(ws, CASE, room, share, way="provident_fund" if room == "701" else "transfer",
                           at=at("2025-04-08"))
        engine.advance(ws, CASE, at=at("2025-04-11"))
        records.add_approval(ws, CASE, "supervisory_inspection", authority="检验院", at=at("2025-06-03"))
        records.add_approval(ws, CASE, "use_registration", authority="市场监管局", at=at("2025-06-06"))
        engine.advance(ws, CASE, at=at("2025-06-09"))
        set_elevator(ws, CASE, at=at("2025-06-09"), **ELEVATOR)
        apply_for_subsidy(ws, CASE, to="区住房和城市更新局", account="业主代表专户", at=at("2025-06-10"))
        decide_subsidy(ws, CASE, approved=True, at=at("2025-07-01"))
        pay_subsidy(ws, CASE, 20_000_000, payer="区住房和城市更新局", account="业主代表专户", at=at("2025-07-10"))
        add_invoice(ws, CASE, number="42000251234", issuer="梯安", amount=48_000_000, at=at("2025-07-11"))
        settle_case(ws, CASE, at=at("2025-07-12"))
        yield ws


def cli(ws: Workspace, tmp_path: Path, *args: str, code: int = 0) -> str:
    result = CliRunner().invoke(main, ["--db", ws.url.removeprefix("sqlite:///") if ws.url.startswith("sqlite")
                                       else ws.url, "--workflows", str(tmp_path / "flows"), *args])
    assert result.exit_code == code, result.output
    return result.output


def page(ws: Workspace, form: str, day: str) -> str:
    html = Paperwork(ws).render(CASE, form, at=at(day, "23:00")).content.decode("utf-8")
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_a_voided_payment_counts_nowhere_and_its_receipt_number_is_not_given_again(settled: Workspace,
                                                                                  tmp_path: Path) -> None:
    ws = settled
    share = case_money(ws, CASE).ledger().account("302").due
    receipt = next(p.receipt for p in case_money(ws, CASE).payments if p.room == "302")
    assert f"302 业主302 {share // 100:,}." in page(ws, "settlement", "2025-07-31")
    out = cli(ws, tmp_path, "funding", "void-payment", CASE, receipt, "--reason", "302室付款录重了",
              "--actor", "李干事")
    assert f"{CASE}: payment {receipt} voided (302室付款录重了)" in out

    paid = json.loads(cli(ws, tmp_path, "funding", "paid", CASE, "--json"))
    assert receipt not in [p["receipt"] for p in paid["payments"]]
    [account] = [a for a in paid["households"] if a["room"] == "302"]
    assert (account["paid"], account["outstanding"]) == ("0.00", f"{share // 100}.{share % 100:02d}")
    assert receipt not in page(ws, "receipts", "2025-07-31")
    settlement = page(ws, "settlement", "2025-07-31")  # 已交 0.00, 尚欠 the whole share
    assert re.search(rf"302 业主302 [\d,.]+ [-\d,.]+ [\d,.]+ 0\.00 0\.00 {share // 100:,}\.", settlement)

    [event] = [e for e in engine.history(ws, CASE) if e.action == "funding.void-payment"]
    details = json.loads(event.details)
    assert (event.action, event.actor, event.note) == ("funding.void-payment", "李干事", "302室付款录重了")
    assert details["record"] == "payment" and details["was"]["amount_fen"] == share
    again = record_payment(ws, CASE, "302", share, at=at("2025-07-20"))
    assert again.receipt != receipt and again.serial == max(p.serial for p in case_money(ws, CASE).payments)
    assert verify(ws).ok
    with pytest.raises(NotFoundError, match="no payment"):  # a voided record cannot be voided again
        records.void(ws, CASE, "payment", receipt, reason="again")


def test_a_certificate_a_fund_payment_rests_on_is_voided_after_the_payment(settled: Workspace) -> None:
    ws = settled
    fund = next(p for p in case_money(ws, CASE).payments if p.way == "provident_fund")
    with pytest.raises(InputError, match="void that payment first"):
        records.void(ws, CASE, "certificate", f"FT-{CASE}-001", reason="开错了")
    records.void(ws, CASE, "payment", fund.serial, reason="公积金未到账")
    records.void(ws, CASE, "certificate", f"FT-{CASE}-001", reason="开错了")
    assert case_money(ws, CASE).certificates == []
    with pytest.raises(InputError, match="share certificate"):  # the fund pays against a certificate that counts
        record_payment(ws, CASE, "701", fund.amount, way="provident_fund", at=at("2025-07-20"))
    assert issue_certificate(ws, CASE, "701", at=at("2025-07-20")).number == f"FT-{CASE}-002"


def test_a_voided_subsidy_payment_is_due_again_in_the_audit_and_the_steps_go_latest_first(settled: Workspace,
                                                                                          tmp_path: Path) -> None:
    ws = settled
    steps = {s.step: s.id for s in subsidy_view(ws, CASE).steps}
    with pytest.raises(InputError, match="later step"):
        records.void(ws, CASE, "subsidy_step", steps["applied"], reason="录错")
    assert not [f for f in audit.find(ws, as_of=date(2025, 10, 1)).findings if f.type == audit.SUBSIDY_UNPAID]
    out = cli(ws, tmp_path, "subsidy", "void", CASE, str(steps["paid"]), "--reason", "款未到账，银行退回")
    assert f"subsidy step #{steps['paid']} voided" in out
    view = subsidy_view(ws, CASE)
    assert (view.status.state, view.status.unpaid) == ("approved", 20_000_000)
    [late] = [f for f in audit.find(ws, as_of=date(2025, 10, 1)).findings if f.type == audit.SUBSIDY_UNPAID]
    assert (late.case, late.since) == (CASE, date(2025, 6, 10))
    assert "#" in cli(ws, tmp_path, "subsidy", "show", CASE)  # the steps are listed with their ids


def test_voided_invoice_and_elevator_leave_the_forms_and_the_audit(settled: Workspace, tmp_path: Path) -> None:
    ws = settled
    assert "42000251234" in page(ws, "settlement", "2025-07-31")
    records.void(ws, CASE, "invoice", "42000251234", reason="发票作废重开")
    assert "42000251234" not in page(ws, "settlement", "2025-07-31")
    with pytest.raises(MissingData) as missing:  # the form lacks other papers here, not the elevator's code
        page(ws, "completion_subsidy", "2025-07-31")
    assert "registration code" not in str(missing.value)
    assert [f.type for f in audit.find(ws, as_of=date(2027, 5, 20)).findings].count(audit.WARRANTY_ENDING) == 1
    records.void(ws, CASE, "elevator", None, reason="录入了别的电梯")
    assert elevator_view(ws, CASE).elevator is None
    assert audit.WARRANTY_ENDING not in [f.type for f in audit.find(ws, as_of=date(2027, 5, 20)).findings]
    with pytest.raises(MissingData, match="registration code"):
        page(ws, "completion_subsidy", "2025-07-31")
    with pytest.raises(InputError, match="first record needs"):  # recorded again: in full
        set_elevator(ws, CASE, maker="奥升电梯", at=at("2025-07-20"))
    set_elevator(ws, CASE, at=at("2025-07-20"), **{**ELEVATOR, "registration_code": "梯11鄂A20250002"})
    assert elevator_view(ws, CASE).elevator.registration_code == "梯11鄂A20250002"
    assert verify(ws).ok


def test_a_voided_settlement_no_longer_counts(settled: Workspace, tmp_path: Path) -> None:
    ws = settled
    assert case_money(ws, CASE).settlement is not None
    out = cli(ws, tmp_path, "funding", "void-settlement", CASE, "--reason", "结算基数有误")
    assert "settlement voided" in out
    assert case_money(ws, CASE).settlement is None
    assert "not settled yet" in cli(ws, tmp_path, "funding", "paid", CASE)
    with pytest.raises(MissingData, match="no final settlement"):
        page(ws, "settlement", "2025-07-31")
    with pytest.raises(NotFoundError, match="no settlement"):
        records.void(ws, CASE, "settlement", None, reason="again")


def test_an_incident_a_repair_names_and_a_policy(settled: Workspace, tmp_path: Path) -> None:
    ws = settled
    incident = add_incident(ws, CASE, kind="entrapment", description="困人20分钟", at=at("2025-08-01"))
    repair = add_repair(ws, CASE, cost=30_000, contractor="梯安", description="更换门锁", incident_id=incident.id,
                        at=at("2025-08-02"))
    with pytest.raises(InputError, match="void the repair first"):
        records.void(ws, CASE, "incident", incident.id, reason="误报")
    cli(ws, tmp_path, "elevator", "void-repair", CASE, str(repair.id), "--reason", "重复录入")
    cli(ws, tmp_path, "elevator", "void-incident", CASE, str(incident.id), "--reason", "误报")
    view = elevator_view(ws, CASE)
    assert (view.incidents, view.repairs) == ([], [])
    with pytest.raises(NotFoundError, match="no incident"):  # a repair cannot name a voided incident
        add_repair(ws, CASE, cost=0, contractor="梯安", description="x", incident_id=incident.id, at=at("2025-08-03"))


def test_a_voided_extra_leaves_the_shares(tmp_path: Path, db_url: str) -> None:
    for ws in money_flow(tmp_path, db_url):
        set_funding(ws, CASE, total=48_000_000, at=at("2025-03-05"))
        line = add_line(ws, CASE, "extra", 1_800_000, "玻璃幕墙井道", at=at("2025-03-10"))
        assert case_money(ws, CASE).figures.cost == 49_800_000
        records.void(ws, CASE, "money_line", line.id, reason="业主未同意加项", at=at("2025-03-12"))
        money = case_money(ws, CASE)
        assert (money.figures.cost, money.figures.extras, money.lines) == (48_000_000, 0, [])
        assert money.table().share_sum == 48_000_000
        details = json.loads(engine.history(ws, CASE)[-1].details)
        assert (details["before"]["cost"], details["funding"]["cost"]) == ("498000.00", "480000.00")
        assert verify(ws).ok
        # A form dated before the money changed again states the figures without it, before its void too.
        from eightstep.paperwork.casedata import load_case_data

        set_funding(ws, CASE, maintenance=600_000, at=at("2025-03-20"))
        for day in ("2025-03-11", "2025-03-15"):
            funding = load_case_data(ws, CASE, at=at(day)).funding
            assert funding is not None and (funding.total_fen, funding.extras_fen) == (48_000_000, 0)


def test_a_voided_funding_is_not_on_a_form_dated_before_its_void(tmp_path: Path, db_url: str) -> None:
    """`funding void` counts nowhere, also on a form dated before it (as every other void); funding set again after
    it is a fresh start, and a form dated after that states the new figures."""
    from eightstep.paperwork.casedata import load_case_data

    for ws in money_flow(tmp_path, db_url):
        set_funding(ws, CASE, total=48_000_000, subsidy=20_000_000, at=at("2025-03-05"))
        records.void(ws, CASE, "funding", CASE, reason="总价录错", at=at("2025-03-12"))
        for day in ("2025-03-06", "2025-03-13"):
            assert load_case_data(ws, CASE, at=at(day)).funding is None, day
        set_funding(ws, CASE, total=46_000_000, at=at("2025-03-15"))
        assert load_case_data(ws, CASE, at=at("2025-03-06")).funding is None
        funding = load_case_data(ws, CASE, at=at("2025-03-16")).funding
        assert funding is not None and (funding.total_fen, funding.subsidy_fen) == (46_000_000, 0)
        set_funding(ws, CASE, subsidy=10_000_000, at=at("2025-03-20"))  # a later change: the replay runs
        funding = load_case_data(ws, CASE, at=at("2025-03-16")).funding
        assert funding is not None and (funding.total_fen, funding.subsidy_fen) == (46_000_000, 0)


@pytest.mark.backends("sqlite")
def test_unvoiding_a_payment_behind_eightsteps_back_is_caught(settled: Workspace) -> None:
    ws = settled
    records.void(ws, CASE, "payment", 1, reason="录错")
    with sqlite3.connect(ws.url.removeprefix("sqlite:///")) as con:
        con.execute("UPDATE payments SET voided_at = NULL, void_reason = NULL")
    con.close()
    found = {(p.table, p.field) for p in verify(ws).record_problems}
    assert found == {("payments", "voided_at"), ("payments", "void_reason")}


def test_the_subsidy_basis_is_stored_as_data_and_shown_in_the_readers_language(settled: Workspace,
                                                                             tmp_path: Path) -> None:
    ws = settled
    [applied] = [e for e in engine.history(ws, CASE) if e.action == "subsidy.apply"]
    assert json.loads(applied.details)["basis"] == {"method": "per_unit", "unit": 20_000_000}
    assert "200,000.00 yuan per elevator" in cli(ws, tmp_path, "subsidy", "show", CASE)
    assert "每部电梯 200,000.00 元" in cli(ws, tmp_path, "--lang", "zh", "subsidy", "show", CASE)
    with ws.engine.begin() as conn:  # a row recorded before the basis was data keeps its text
        conn.exec_driver_sql("UPDATE subsidy_steps SET basis = '200,000.00 yuan per elevator' WHERE step = 'applied'")
    assert subsidy_view(ws, CASE).steps[0].basis == "200,000.00 yuan per elevator"


@pytest.mark.backends("sqlite")
def test_every_money_kind_voided_in_the_demo_still_verifies(demo_dir: Path, tmp_path: Path) -> None:
    import shutil

    shutil.copytree(demo_dir, tmp_path / "demo")
    ws = Workspace.open(str(tmp_path / "demo" / "eightstep.db"))
    try:
        def first(query: str) -> tuple:
            with ws.engine.connect() as conn:
                return tuple(conn.exec_driver_sql(query).first() or ())

        case_id, serial, pf_case, pf_serial = first(
            "SELECT p.case_id, p.serial, q.case_id, q.serial FROM payments p, payments q "
            "WHERE p.way = 'transfer' AND q.way = 'provident_fund' ORDER BY p.id, q.id")
        records.void(ws, case_id, "payment", f"SK-{case_id}-{serial:04d}", reason="演示更正")
        records.void(ws, pf_case, "payment", pf_serial, reason="演示更正")
        cert_case, number = first(f"SELECT c.case_id, c.number FROM share_certificates c JOIN payments p ON "
                                  f"p.household_id = c.household_id WHERE p.case_id = '{pf_case}' AND "
                                  f"p.serial = {pf_serial}")
        records.void(ws, cert_case, "certificate", number, reason="演示更正")
        for kind, query in (("invoice", "SELECT case_id, number FROM invoices"),
                            ("money_line", "SELECT case_id, id FROM money_lines"),
                            ("repair", "SELECT case_id, id FROM repairs"),
                            ("policy", "SELECT case_id, id FROM insurance_policies"),
                            ("subsidy_step", "SELECT case_id, id FROM subsidy_steps s WHERE NOT EXISTS (SELECT 1 "
                                             "FROM subsidy_steps t WHERE t.case_id = s.case_id AND t.at > s.at)"),
                            ("settlement", "SELECT case_id, NULL FROM settlements"),
                            ("elevator", "SELECT case_id, NULL FROM elevators")):
            owner, key = first(query + " ORDER BY case_id LIMIT 1")
            records.void(ws, owner, kind, key, reason="演示更正")
        report = verify(ws)
        assert report.ok, [p.message for p in report.record_problems]
        assert audit.find(ws, as_of=date(2026, 11, 30)).findings is not None
    finally:
        ws.dispose()


def test_a_household_leaves_the_share_table_only_when_no_money_record_names_it(tmp_path: Path, db_url: str) -> None:
    """A voided household shares nothing in `funding paid` either (as in `funding shares`), and a household that a
    payment still names cannot be voided: its share would be left unpaid or its payment counted nowhere."""
    for ws in money_flow(tmp_path, db_url):
        set_funding(ws, CASE, total=48_000_000, subsidy=20_000_000, at=at("2025-03-05"))
        paid = record_payment(ws, CASE, "302", 100_000, way="transfer", at=at("2025-03-06"))
        with pytest.raises(InputError, match=r"room 302 has money on record \(payment × 1\)"):
            records.void(ws, CASE, "household", "302", reason="录错了", at=at("2025-03-07"))
        assert "302" in {r.room for r in case_money(ws, CASE).table().rows}
        records.void(ws, CASE, "payment", paid.serial, reason="录错了", at=at("2025-03-07"))
        records.void(ws, CASE, "household", "302", reason="该户不存在", at=at("2025-03-07"))
        money = case_money(ws, CASE)
        rooms = [r.room for r in money.table().rows]
        assert "302" not in rooms and len(rooms) == 11
        assert sum(r.share for r in money.table().rows) == money.figures.shared
        assert [(r.room, r.share) for r in money.table().rows] == [
            (r.room, r.share) for r in case_shares(ws, CASE).rows]
        assert "302" not in {a.room for a in money.ledger().accounts}
