"""3栋2单元, the pilot of 人大小区: the seed's method step by step — 推 (explain, visit a finished elevator, win
the hesitant), 联 (a task force with the street and the district approval bureau; three companies compared on
site), 退 (the owner representative 王玉慧, a full-time mother; the negotiation group of high- and low-floor owners;
the volunteer team; then the self-management group and its rota) — through all eight stages in 2025."""

from __future__ import annotations

from datetime import date, timedelta
from functools import partial

from eightstep import records
from eightstep.demo import money
from eightstep.demo.builder import Builder
from eightstep.demo.people import (
    APPROVAL_BUREAU,
    DESIGNER,
    INSTALLER,
    OFFICER,
    OFFICER_NAME,
    PILOT,
    PILOT_REP,
    RENDA,
    STREET,
    TASK_FORCE,
    TECHNICIAN,
    VOLUNTEERS,
    at,
    d,
)
from eightstep.demo.stages import Unit
from eightstep.records.canvass import add_entry
from eightstep.records.elevator import add_incident, add_repair
from eightstep.records.meetings import add_meeting
from eightstep.records.payments import add_line
from eightstep.records.roles import add_role
from eightstep.records.schemes import add_scheme, choose

# The three companies that presented on site (联): (company, price in fen, entry, days, load kg, speed cm/s,
# stops, note)
SCHEMES = (
    (INSTALLER, 48_000_000, "half_floor", 150, 450, 100, 7,
     "半层入户；井道设于北侧楼梯间外，可选玻璃幕墙井道；本地维保站3公里"),
    ("武汉升华电梯有限公司", 45_500_000, "half_floor", 180, 450, 100, 7, "半层入户；钢结构井道；首年免费维保"),
    ("江城快速电梯科技有限公司", 69_800_000, "level", 120, 630, 100, 7, "平层入户；需加建连廊，对二、三层采光影响较大"),
)
# The negotiation group (退): high- and low-floor owners, the community and a technician.
GROUP = (("王玉慧", "601", "high_floor"), ("李建国", "701", "high_floor"), ("周桂兰", "201", "low_floor"),
         ("刘德明", "202", "low_floor"), (OFFICER_NAME, None, "community"), (TECHNICIAN, None, "technician"))
GLASS_SHAFT_FEN = 1_800_000  # the glass shaft instead of a steel one: 18,000 yuan more, shared
COMPENSATION_FEN = 800_000  # to 刘德明 (202), whose bedroom window faces the shaft


def story(b: Builder) -> Unit:
    unit = Unit(b, PILOT, None)
    c, rep = PILOT, PILOT_REP
    b.open_unit(c, d("2025-01-06"))
    b.doc(c, "application", d("2025-01-06"), actor=rep, hm="11:00", text="本单元业主申请加装电梯一部")
    # 联: the community's task force with the street office and the district approval bureau's window.
    for i, (name, where) in enumerate(TASK_FORCE):
        add_role(b.ws, c, "task_force", name, note=where, at=at(d("2025-01-06"), f"14:{i:02d}"), actor=OFFICER,
                 as_role="officer")
    b.doc(c, "agent_authorization", d("2025-01-08"), actor=rep, text="全体业主委托王玉慧（601室）为业主代表")
    unit.representative(d("2025-01-08"), note="全职妈妈，负责对接各部门、监督施工质量")
    for i, (name, note) in enumerate(VOLUNTEERS):
        add_role(b.ws, c, "volunteer", name, note=note, at=at(d("2025-01-08"), f"11:{i:02d}"), actor=OFFICER,
                 as_role="officer")
    b.doc(c, "owner_proof", d("2025-01-10"), text="身份证及不动产权证书复印件12份")
    unit.budget(d("2025-01-10"))
    first = {"201": "oppose", "202": "oppose", "301": "abstain", "401": "agree", "402": "agree", "501": "agree",
             "502": "agree", "601": "agree", "602": "agree", "701": "agree", "702": "agree"}
    for i, (room, choice) in enumerate(first.items()):
        records.cast_vote(b.ws, c, room, choice, at=at(d("2025-01-13") + timedelta(days=i // 4), "19:30"),
                          actor=OFFICER, as_role="officer")
    # 推: the first count falls short (7 of 10 participating owners agree, 3/4 needed): `vote whatif` names the
    # households that would carry it, and the canvass log records what holds each of them back.
    visits = (("201", "hesitant", "二楼用不上电梯，还担心运行噪音影响休息"),
              ("202", "opposed", "井道紧贴北侧卧室窗，担心采光和通风"),
              ("301", "hesitant", "费用怎么分摊还不清楚"))
    for i, (room, stance, concern) in enumerate(visits):
        add_entry(b.ws, c, room, stance=stance, concern=concern, at=at(d("2025-01-16"), f"19:{i * 20:02d}"),
                  actor=OFFICER, as_role="officer")
    add_entry(b.ws, c, "302", stance="supportive", by=f"{OFFICER_NAME}（电话）", at=at(d("2025-01-20"), "20:00"),
              actor=OFFICER, as_role="officer")
    # 302 works in Shenzhen and votes when he is home for the Spring Festival.
    records.cast_vote(b.ws, c, "302", "agree", at=at(d("2025-01-26"), "10:00"), actor=OFFICER, as_role="officer")
    # The community takes the hesitant owners to see a finished elevator in 文化路社区; 201 (82, second floor)
    # changes her ballot: the later one counts.
    visit = "组织本单元业主参观文化路社区已建成加装电梯：实地乘坐，了解运行噪音、采光和费用分摊"
    add_meeting(b.ws, c, at=at(d("2025-02-08"), "14:30"), kinds=["other"], decision=visit, actor=OFFICER,
                as_role="officer", attendees=[OFFICER_NAME, "王玉慧", "周桂兰", "刘德明", "吴淑芬", VOLUNTEERS[0][0]])
    add_entry(b.ws, c, "201", stance="supportive", concern="参观文化路社区已建电梯：运行安静，不再担心噪音",
              kinds=["noise"], at=at(d("2025-02-08"), "16:30"), actor=OFFICER, as_role="officer")
    records.cast_vote(b.ws, c, "201", "agree", at=at(d("2025-02-17"), "16:00"), actor=OFFICER, as_role="officer")
    b.doc(c, "ballot_forms", d("2025-02-18"), text="表决票原件12份（201室2月17日重新表决）")
    b.advance(c, d("2025-02-19"), "同意9人/参与11人，面积同意过3/4；申请已受理")

    b.doc(c, "site_survey", d("2025-02-25"), issuer=f"{STREET}办事处、{RENDA.community}、{DESIGNER}",
          text="联合踏勘：井道设于北侧楼梯间外，燃气管需迁改")
    b.doc(c, "structural_appraisal", d("2025-03-04"), issuer="武汉市房屋安全鉴定中心", number="鉴字2025-0117")
    b.approve(c, "feasibility", APPROVAL_BUREAU, d("2025-03-11"), b.approval_no(d("2025-03-11")),
              "同意开展加装电梯工作")
    b.advance(c, d("2025-03-12"), "可行性分析意见已出具（15个工作日内）")

    meeting = _negotiation(b)
    unit.settle(d("2025-03-20"))
    # The negotiation's answer to 202 is money: written into the agreement and shared like the price.
    add_line(b.ws, c, "extra", GLASS_SHAFT_FEN, "井道改为玻璃幕墙，缓解低层采光影响", meeting_id=meeting,
             at=at(d("2025-03-20"), "10:30"), actor=rep)
    add_line(b.ws, c, "compensation", COMPENSATION_FEN, "高层业主一次性补偿202室（北侧卧室采光）", room="202",
             meeting_id=meeting, at=at(d("2025-03-20"), "10:40"), actor=rep)
    b.doc(c, "agreement", d("2025-04-02"), actor=rep, number=b.number("协议", 2025, 1, c + "-XY-{year}-{n:03d}"),
          text="二层不出资；三至七层按楼层系数0.7/0.8/0.9/1.0/1.1乘面积分摊，玻璃幕墙井道费用及对202室的补偿一并分摊；"
               "电费、维保费同比例；使用管理单位：武汉纸坊物业服务有限公司")
    b.advance(c, d("2025-04-03"), "加梯协议已签订（12户）", actor=rep)
    money.pay_shares(unit, d("2025-04-03"))
    # During the works: the gas pipe had to be moved further than surveyed; the pit's extra waterproofing proved
    # unnecessary. Change orders, settled at the end.
    unit.works = [partial(add_line, b.ws, c, "change_order", 320_000, "燃气管迁改长度增加（设计变更单BG-01）",
                          at=at(d("2025-06-20")), actor=rep),
                  partial(add_line, b.ws, c, "change_order", -500_000, "取消地坑防水加强层（设计变更单BG-02）",
                          at=at(d("2025-08-05")), actor=rep)]

    # The rest as every unit goes, each stage within its limit: the notice posted on 2025-04-16 runs 10 working
    # days (the Sunday 04-27 is a working day before the May Day holiday) to 2025-04-29.
    unit.run(d("2025-04-03"), "operation", start="design_notice")
    # The subsidy comes in December; the settlement pays 1,800 yuan back by the same shares. The first winter: a
    # door-lock fault traps two residents for a quarter of an hour (repaired under warranty), and a vandalised
    # button panel is replaced at the households' cost, shared by the usage convention's rule.
    unit.plan(d("2025-10-31"), "15:00", partial(money.approve, unit, d("2025-10-31")))
    unit.plan(d("2025-12-05"), "15:00", partial(money.receive, unit, d("2025-12-05")))
    unit.plan(d("2025-12-12"), "15:00", partial(money.settle, unit, d("2025-12-12")))
    unit.plan(d("2025-12-18"), "19:40", partial(_entrapment, b, d("2025-12-18")))
    unit.plan(d("2026-01-14"), "16:00", partial(add_repair, b.ws, c, cost=68_000, contractor=INSTALLER,
                                                description="轿厢按钮面板人为损坏，更换面板（不在保修范围）",
                                                invoice_number="42002600000101", at=at(d("2026-01-14"), "16:00"),
                                                actor=rep))
    return unit


def _entrapment(b: Builder, day: date) -> None:
    incident = add_incident(b.ws, PILOT, kind="entrapment",
                            description="厅门锁触点接触不良，困人2名约15分钟，维保单位到场解救",
                            resolved_at=at(day, "20:05"), at=at(day, "19:40"), actor=PILOT_REP)
    add_repair(b.ws, PILOT, cost=0, contractor=INSTALLER, description="更换厅门锁触点（保修期内，免费）",
               incident_id=incident.id, at=at(day, "20:30"), actor=PILOT_REP)


def _negotiation(b: Builder) -> int:
    """退: the negotiation group settles brand, budget and cost shares, and answers 202's light with a glass
    shaft and a compensation, both written into the agreement as money lines."""
    c, rep = PILOT, PILOT_REP
    for i, (name, room, side) in enumerate(GROUP):
        add_role(b.ws, c, "negotiator", name, room=room, side=side, at=at(d("2025-03-14"), f"10:{i:02d}"),
                 actor=OFFICER, as_role="officer", note=f"{DESIGNER}工程师" if side == "technician" else None)
    # Three companies present their schemes on site (联); the residents compare everyone's share.
    for i, (company, price, entry, days, load, speed, stops, note) in enumerate(SCHEMES):
        proposal = b.minutes(c, d("2025-03-15"), f"加梯方案-{company}", f"{company}：{note}；报价{price // 100}元")
        add_scheme(b.ws, c, company=company, price=price, entry=entry, duration_days=days, note=note, file=proposal,
                   load_kg=load, speed_cms=speed, stops=stops,
                   at=at(d("2025-03-15"), f"{10 + i}:00"), actor=OFFICER, as_role="officer")
    decision = ("选定湖北梯安电梯工程有限公司方案（48万元，半层入户，工期150天）；申请补贴20万元；"
                "井道改为玻璃幕墙（增加1.8万元）；高层业主一次性补偿202室8000元；"
                "二层不出资，三至七层按楼层系数0.7/0.8/0.9/1.0/1.1乘面积分摊")
    meeting = add_meeting(b.ws, c, at=at(d("2025-03-19"), "19:00"),
                          kinds=["brand", "budget", "cost_shares", "objection_remedy"],
                          attendees=[name for name, _room, _side in GROUP], decision=decision, actor=rep,
                          as_role="owner_rep", file=b.minutes(c, d("2025-03-19"), "协商小组会议纪要", decision))
    [chosen] = [s for s in b.schemes(c) if s.company == INSTALLER]
    choose(b.ws, c, chosen.id, at=at(d("2025-03-20"), "09:00"), actor=rep, as_role="owner_rep",
           reason="协商小组3月19日会议：价格居中、工期较短、本地维保响应快；玻璃幕墙井道可缓解低层采光顾虑")
    return meeting.id
