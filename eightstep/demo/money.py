"""The money and the elevator's record in the demo: each household pays its share after the agreement (some from
the housing provident fund, against a share certificate), the elevator's record, insurance and the installer's
invoice after acceptance, the subsidy's application, decision and payment, and the final settlement."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial
from typing import TYPE_CHECKING

from eightstep.demo.people import (
    HOUSING_BUREAU,
    INSTALLER,
    INSTALLER_LICENCE,
    INSURER,
    MAKER,
    SAFETY_MANAGER,
    at,
    place_of,
)
from eightstep.records.elevator import add_policy, set_elevator
from eightstep.records.payments import case_money, issue_certificate, record_payment
from eightstep.records.settlement import add_invoice, settle_case
from eightstep.records.subsidy import apply_for_subsidy, decide_subsidy, pay_subsidy
from eightstep.rules.money import yuan

if TYPE_CHECKING:
    from eightstep.demo.stages import Unit

# Who pays how: the owner of 402 and the top floor's east flat draw on their housing provident fund; the third
# floor's east flat pays cash; everyone else by bank transfer.
FUND_ROOMS = ("402",)
CASH_ROOMS = ("301",)
SUBSIDY_ACCOUNT = "业主代表加装电梯资金专户（武汉农村商业银行纸坊支行）"


def pay_shares(unit: Unit, signed: date) -> None:
    """After the agreement is signed: share certificates for the fund's withdrawals the next working day, then
    every household pays its share within four working days (before the design is delivered), and the agreed
    compensation is paid out."""
    b, c = unit.b, unit.case_id
    fund = (*FUND_ROOMS, f"{max(place_of(c)[0].floors)}01")
    for i, room in enumerate(fund):
        issue_certificate(b.ws, c, room, at=at(b.wd(signed, 1), f"10:{i:02d}"), actor=unit.rep)
    table = case_money(b.ws, c).table()
    paying = [r for r in table.rows if r.share > 0]
    planned = []
    for i, row in enumerate(paying):  # the lower half of the payers on the second day, the upper on the third
        way = "provident_fund" if row.room in fund else ("cash" if row.room in CASH_ROOMS else "transfer")
        paid_on = b.wd(signed, 4 if way == "provident_fund" else 2 + 2 * i // len(paying))
        planned.append((at(paid_on, f"{9 + i // 2}:{i:02d}"), i, row, way))
    for when, i, row, way in sorted(planned, key=lambda p: (p[0], p[1])):
        record_payment(b.ws, c, row.room, row.share, way=way, received_by=unit.rep.split()[-1],
                       reference=f"GJJ{when:%Y%m%d}{i:02d}" if way == "provident_fund" else None, at=when,
                       actor=unit.rep)
    for row in table.rows:
        if row.receives:
            record_payment(b.ws, c, row.room, row.receives, kind="compensation", received_by=row.owner,
                           note="协议约定的补偿款", at=at(b.wd(signed, 4), "16:00"), actor=unit.rep)


def pay_outstanding(unit: Unit, day: date, note: str) -> None:
    """Every household pays what it still owes (after a supplementary agreement raised the shares)."""
    for i, account in enumerate(case_money(unit.b.ws, unit.case_id).ledger().accounts):
        if account.outstanding > 0:
            record_payment(unit.b.ws, unit.case_id, account.room, account.outstanding, received_by=unit.rep.split()[-1],
                           note=note, at=at(day, f"10:{i:02d}"), actor=unit.rep)


def accepted(unit: Unit, entered: date) -> None:
    """Into operation: the elevator's own record, its insurance from the registration, the installer's invoice."""
    b, c = unit.b, unit.case_id
    day = b.wd(entered, 1)
    warranty_from = unit.completed
    stops = len(place_of(c)[0].floors) + 1  # half-floor entry: every half landing, and the ground floor
    set_elevator(b.ws, c, registration_code=unit.registration_code, maker=MAKER, model="ASP-450MR", load_kg=450,
                 speed_cms=100, stops=stops, safety_manager=SAFETY_MANAGER[0], safety_manager_phone=SAFETY_MANAGER[1],
                 maintainer=INSTALLER, maintainer_licence=INSTALLER_LICENCE, warranty_from=warranty_from,
                 warranty_until=warranty_from.replace(year=warranty_from.year + 2) - timedelta(days=1),
                 at=at(day, "09:10"), actor=unit.rep)
    starts = unit.registered
    add_policy(b.ws, c, insurer=INSURER, starts=starts, ends=starts.replace(year=starts.year + 1) - timedelta(days=1),
               policy_number=f"PZAN{starts:%Y%m%d}{c.replace('-', '')}", premium=120_000, at=at(day, "09:20"),
               actor=unit.rep)
    money = case_money(b.ws, c)
    cost = money.figures.cost + money.changes()
    add_invoice(b.ws, c, number=b.number("发票", day.year, 1201, "4200{year}{n:06d}"), issuer=INSTALLER, amount=cost,
                note=f"加装电梯设备及安装工程款（含变更），{yuan(cost)}元", at=at(day, "09:30"), actor=unit.rep)


def apply(unit: Unit, day: date) -> None:
    """The subsidy's application, with the inspection certificate, for the amount the workflow's rule gives."""
    apply_for_subsidy(unit.b.ws, unit.case_id, to=HOUSING_BUREAU, number=f"江夏补申〔{day.year}〕{day:%m%d}号",
                      account=SUBSIDY_ACCOUNT, at=at(day, "10:30"), actor=unit.rep)


def approve(unit: Unit, day: date) -> None:
    decide_subsidy(unit.b.ws, unit.case_id, approved=True, number=f"江夏住更补〔{day.year}〕{day:%m%d}号",
                   at=at(day, "15:00"), actor=unit.rep)


def receive(unit: Unit, day: date) -> None:
    """The subsidy paid in full into the owners' account."""
    from eightstep.records.subsidy import subsidy_view

    due = subsidy_view(unit.b.ws, unit.case_id).status.unpaid
    pay_subsidy(unit.b.ws, unit.case_id, due, payer=f"{HOUSING_BUREAU}（区财政国库集中支付）", account=SUBSIDY_ACCOUNT,
                at=at(day, "15:00"), actor=unit.rep)


def settle(unit: Unit, day: date) -> None:
    """The final settlement, and the refunds it gives paid back a week later."""
    b, c, rep = unit.b, unit.case_id, unit.rep
    result = settle_case(b.ws, c, note="竣工结算：合同价、工程变更与实收补贴", at=at(day, "15:00"), actor=rep)
    refund_day = b.wd(day, 5)
    for i, (room, amount) in enumerate(result.adjustments.items()):
        if amount < 0:
            unit.plan(refund_day, f"10:{i:02d}", partial(
                record_payment, b.ws, c, room, -amount, kind="refund", received_by=rep.split()[-1], note="结算退款",
                at=at(refund_day, f"10:{i:02d}"), actor=rep))
