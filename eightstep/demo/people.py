"""Who and where: the two complexes of the demo, their households, the parties, the officers and dates."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from eightstep.timeutil import LOCAL_TZ

DISTRICT, STREET = "江夏区", "纸坊街道"
OFFICER = "社区干事 王敏"
OFFICER_NAME = OFFICER.split()[-1]
APPROVAL_BUREAU = "江夏区行政审批局"
HOUSING_BUREAU = "江夏区住房和城市更新局"  # receives the subsidy applications and pays them
INSPECTION_INSTITUTE = "湖北省特种设备检验检测研究院"
MARKET_SUPERVISION = "江夏区市场监督管理局"
DESIGNER = "武汉楚天建筑设计有限公司"
INSTALLER = "湖北梯安电梯工程有限公司"
MAKER = "奥升电梯（中国）有限公司"
INSTALLER_LICENCE = "TS3442107-2028"  # the installer's special-equipment licence (安装改造修理许可)
PROPERTY = "武汉纸坊物业服务有限公司"
SAFETY_MANAGER = ("彭涛", "027-87951263")  # the property company's elevator safety manager
INSURER = "中国人民财产保险股份有限公司武汉市分公司"
TECHNICIAN = "张磊"  # the design unit's engineer in the negotiation group
# Who the papers name and how to reach them (the register): the units' public contacts; objections are lodged
# at the community's residents' committee (its office phone is a public contact, printed in full on the notice).
UNIT_CONTACT = {"phone": "027-87961234", "address": f"{DISTRICT}{STREET}兴新街88号"}
OBJECTION_PHONES = {"河头社区": "027-87953110", "凤凰社区": "027-87953266"}
BUDGET = (48_000_000, 20_000_000, 500_000)  # the budget put to the vote (price, subsidy, upkeep a year), in fen

# The story's end: about a year after the pilot's vote (2025-02-19), all eight elevators of 人大小区 are in
# operation or at acceptance. Business dates of the demo run up to it.
END = date(2026, 2, 13)


@dataclass(frozen=True)
class Place:
    complex: str
    community: str
    prefix: str  # case ids: PREFIX-BUILDING-UNIT
    floors: tuple[int, ...]  # the floors with flats
    areas: dict[str, tuple[str, str]]  # building -> (east, west) flat areas


RENDA = Place("人大小区", "河头社区", "RD", tuple(range(2, 8)),
              {"1": ("78.36", "92.15"), "2": ("86.52", "101.27"), "3": ("78.36", "92.15"), "4": ("83.74", "96.08")})
QIAOTOU = Place("桥头小区", "凤凰社区", "QT", tuple(range(1, 7)), {"1": ("68.40", "75.92"), "2": ("71.05", "80.33")})
PLACES = {p.prefix: p for p in (RENDA, QIAOTOU)}

PILOT = "RD-3-2"  # 人大小区's pilot: 3栋2单元
SECOND_PILOT = "QT-1-1"  # 桥头小区's first unit: its subsidy is still unpaid at the story's end
RUNNING = "QT-1-2"  # 桥头小区: its public notice is still running at the story's end
HELD = "QT-2-1"  # 桥头小区: held in the notice stage by an open objection

# Small per-floor differences of the surveyed areas, as they appear in a real property register.
FLOOR_DELTA = (0, 12, -5, 8, 0, 21, -3)

SURNAMES = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈姚卢"
GIVEN = ("建华", "秀英", "桂兰", "德明", "志强", "玉珍", "国庆", "春梅", "文斌", "淑芬", "红霞", "立新", "美华",
         "永康", "爱民", "丽君", "卫东", "凤英", "少华", "金生", "汉平", "佩兰", "家福", "素珍", "学军", "翠华",
         "长江", "宏伟", "月娥", "光明", "幼林", "慧敏")

# The pilot's owners, by hand: 201 hesitates, 202 fears for his light, 陈国华 owns 501 and 502, 王玉慧 (601), a
# full-time mother, is the owner representative; 李建国 (701) speaks for the high floors.
PILOT_OWNERS = {
    "201": ("周桂兰", "", "13971024518"), "202": ("刘德明", "", "139-7102-6631"), "301": ("吴淑芬", "", ""),
    "302": ("赵志强", "", "15927381140"), "401": ("黄玉珍", "", ""), "402": ("徐文斌", "", ""),
    "501": ("陈国华", "P-3205", "13607168852"), "502": ("陈国华", "P-3205", "13607168852"),
    "601": ("王玉慧", "", "13871365520"), "602": ("马永康", "", ""), "701": ("李建国", "", "13807120935"),
    "702": ("郭爱民", "", ""),
}
PILOT_REP = "业主代表 王玉慧"
REP_ROOM = "601"  # every unit's owner representative lives on the sixth floor in this story
# 志愿先锋服务队: the volunteer team that went door to door, typed the ballots and kept the rota
VOLUNTEERS = (("何丽君", "志愿先锋服务队队长，退休教师"), ("罗卫东", "志愿先锋服务队"), ("梁佩兰", "志愿先锋服务队"))
# The community's task force (工作专班) with the street office and the district approval bureau (联)
TASK_FORCE = ((OFFICER_NAME, "河头社区"), ("陈静", f"{STREET}办事处"), ("刘洋", f"{APPROVAL_BUREAU}窗口"))


def at(day: date, hm: str = "09:30") -> datetime:
    """A business time: ``day`` at ``hm`` Asia/Shanghai, as UTC."""
    hour, minute = (int(x) for x in hm.split(":"))
    return datetime.combine(day, time(hour, minute), tzinfo=LOCAL_TZ).astimezone(UTC)


def d(text: str) -> date:
    return date.fromisoformat(text)


def place_of(case_id: str) -> tuple[Place, str, str]:
    """RD-3-2 -> (人大小区, "3", "2")."""
    prefix, building, unit = case_id.split("-")
    return PLACES[prefix], building, unit


def role_of(actor: str) -> str:
    """The role each actor of the story acts in (``--as``): the community officer as ``officer``, a unit's owner
    representative (业主代表 ...) as ``owner_rep``."""
    return "officer" if actor == OFFICER else "owner_rep"


@dataclass(frozen=True)
class Flat:
    room: str
    floor: int
    area: str
    owner: str
    owner_key: str
    phone: str


def unit_flats(case_id: str) -> list[Flat]:
    """The 12 households of one unit (two flats a floor). Deterministic."""
    place, building, unit = place_of(case_id)
    east, west = place.areas[building]
    seed = (int(building) - 1) * 2 + int(unit) - 1 + (20 if place is QIAOTOU else 0)
    flats = []
    for i, floor in enumerate(place.floors):
        for j, base in enumerate((east, west)):
            room = f"{floor}0{j + 1}"
            cents = int(base.replace(".", "")) + FLOOR_DELTA[i] * (1 if j == 0 else -1)
            area = f"{cents // 100}.{cents % 100:02d}"
            if case_id == PILOT:
                owner, key, phone = PILOT_OWNERS[room]
            else:
                n = seed * 12 + i * 2 + j
                owner = SURNAMES[(n * 7) % len(SURNAMES)] + GIVEN[(n * 5 + seed) % len(GIVEN)]
                key = ""
                phone = f"139{7100 + seed:04d}{(n * 379) % 10000:04d}" if room in ("201", "402", REP_ROOM) else ""
            flats.append(Flat(room, floor, area, owner, key, phone))
    return flats


def id_number(case_id: str) -> str:
    """The owner representative's resident ID number (made up, 18 characters, a Wuhan 江夏 prefix)."""
    seed = sum(map(ord, case_id)) % 90 + 10
    return f"42011519{seed:02d}0308{seed:02d}1{seed % 10}"


def rep_of(case_id: str) -> str:
    """The unit's owner representative, as an actor: 业主代表 NAME (the owner of 601)."""
    if case_id == PILOT:
        return PILOT_REP
    return "业主代表 " + next(f.owner for f in unit_flats(case_id) if f.room == REP_ROOM)
