"""Every recorded action names who acted and in which role (issue 6): `--as ROLE` on every recording command,
else the actor's role on record in the case (case_roles, by name, held at the time), and `case history` shows it.

Each command runs through the CLI on a real SQLite file; the role is read back from `case history --json`.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import click
import pytest
from click.testing import CliRunner, Result

from eightstep.cli import main
from eightstep.cli.base import walk
from eightstep.resources import builtin_dir
from tests.conftest import write_households
from tests.helpers import cli

CASE = "RT-9-1"
COMPLEX = "角色小区"
REP = "李建国"  # named owner_rep of CASE (room 701) on 2025-03-04 by the fixture


def run(runner: CliRunner, db: Path, *args: object, code: int = 0, actor: str | None = None,
        env: dict[str, str] | None = None) -> Result:
    """`eightstep --db DB ARGS`, as ``actor`` when given."""
    env = {**(env or {}), **({"EIGHTSTEP_ACTOR": actor} if actor else {})} or None
    return cli.run(runner, db, *args, code=code, env=env)


def history(runner: CliRunner, db: Path, case_id: str = CASE) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = json.loads(run(runner, db, "case", "history", case_id, "--json").stdout)
    return events


def attachment(folder: Path, name: str) -> Path:
    path = folder / f"{name}.pdf"
    path.write_bytes(b"%PDF-1.4\n% " + name.encode() + b"\n")
    return path


@pytest.fixture
def db(runner: CliRunner, tmp_path: Path, from_template: Callable[[Path | str], Path]) -> Path:
    """CASE at consent, ready to advance (12 owners all agreeing, the three documents), with 李建国 named owner
    representative on 2025-03-04; everything recorded by `tester` with no role."""
    path = from_template(tmp_path / "roles.db")
    run(runner, path, "init")
    run(runner, path, "case", "open", CASE, "--complex", COMPLEX, "--building", "9", "--unit", "1",
        "--at", "2025-03-03")
    run(runner, path, "household", "import", CASE, write_households(tmp_path / "owners.csv"), "--at", "2025-03-03")
    votes = tmp_path / "votes.csv"
    rooms = [f"{floor}0{flat}" for floor in range(2, 8) for flat in (1, 2)]
    votes.write_text("room,choice,at\n" + "".join(f"{r},agree,2025-03-04\n" for r in rooms), encoding="utf-8")
    run(runner, path, "vote", "import", CASE, votes)
    for kind in ("application", "owner_proof", "ballot_forms"):
        run(runner, path, "doc", "add", CASE, kind, attachment(tmp_path, kind), "--at", "2025-03-04")
    run(runner, path, "funding", "set", CASE, "--total", "480000", "--maintenance", "5000",
        "--at", "2025-03-03 12:00")  # the budget the ballots state
    run(runner, path, "role", "add", CASE, "owner_rep", REP, "--room", "701", "--phone", "13807120935",
        "--id-number", "420115195501011234", "--address", "701室", "--at", "2025-03-04 10:00")
    return path


Prep = Callable[[CliRunner, Path, Path], list[str]]  # runs what the command needs first; returns its arguments


@dataclass(frozen=True)
class Command:
    name: str
    action: str  # the action of the event it records
    prep: Prep
    case_id: str = CASE  # the case whose history gets the event
    default_role: str | None = "owner_rep"  # what the event names without --as, when 李建国 acts
    env: dict[str, str] | None = None  # the command's own environment


def _then(_done: Result, *args: str) -> list[str]:
    """The arguments of the command to test, once what it needs has run."""
    return list(args)


def _objection(runner: CliRunner, db: Path) -> str:
    return run(runner, db, "objection", "add", CASE, "--room", "202", "--grounds", "采光",
               "--at", "2025-03-05").stdout.strip()


def _scheme(runner: CliRunner, db: Path, tmp: Path) -> str:
    out = run(runner, db, "scheme", "add", CASE, "--company", "湖北梯安", "--price", "480000",
              "--file", attachment(tmp, "proposal"), "--at", "2025-03-05").stdout
    return out.split("#")[1].split()[0]


def _more_owners(tmp: Path) -> Path:
    return write_households(tmp / "more.csv", [("801", 8, "80.00", "业主801", "")])


def _agreed_case(runner: CliRunner, db: Path, tmp: Path) -> list[str]:
    """RT-9-3, under a copy of the wuhan workflow that shares costs by an agreed table, with 李建国 its owner
    representative from 2025-03-04 10:00; the arguments of `funding agree` for it."""
    folder = tmp / "wf"
    folder.mkdir()
    text = (builtin_dir("workflows") / "wuhan@2024.yaml").read_text(encoding="utf-8")  # in force in 2025
    text = text.replace("id: wuhan\n", "id: agreed\n")
    text = re.sub(r"cost_sharing:.*?\n\n", "cost_sharing: {method: agreed_table}\n\n", text, flags=re.S)
    (folder / "agreed.yaml").write_text(text, encoding="utf-8")
    wf = ["--workflows", str(folder)]
    run(runner, db, *wf, "case", "open", "RT-9-3", "--complex", COMPLEX, "--building", "9", "--unit", "3",
        "--workflow", "agreed", "--at", "2025-03-03")
    rows = [("201", 2, "80.00", "业主201", ""), ("701", 7, "80.00", REP, "")]
    run(runner, db, *wf, "household", "import", "RT-9-3", write_households(tmp / "agreed-owners.csv", rows),
        "--at", "2025-03-03")
    run(runner, db, *wf, "role", "add", "RT-9-3", "owner_rep", REP, "--room", "701", "--at", "2025-03-04 10:00")
    shares = tmp / "shares.csv"
    shares.write_text("room,share\n201,40\n701,60\n", encoding="utf-8")
    return [*wf, "funding", "agree", "RT-9-3", str(shares), "--at", "2025-03-05"]


def _exported(runner: CliRunner, db: Path, tmp: Path) -> list[str]:
    """RT-8-1, opened in another database and exported; the arguments of `case import` for it."""
    other = tmp / "other.db"
    run(runner, other, "init")
    run(runner, other, "case", "open", "RT-8-1", "--complex", COMPLEX, "--building", "8", "--unit", "1",
        "--at", "2025-03-03")
    run(runner, other, "role", "add", "RT-8-1", "owner_rep", REP, "--at", "2025-03-04")
    run(runner, other, "case", "export", "RT-8-1", "-o", tmp / "rt-8-1.zip", "--no-forms")
    return ["case", "import", str(tmp / "rt-8-1.zip")]


def _listed_id(runner: CliRunner, db: Path, *listing: str, steps: bool = False) -> str:
    """The id of the first record a listing (--json) shows; ``steps``: of its first mediation step."""
    rows = json.loads(run(runner, db, *listing, "--json").stdout)
    return str(rows[0]["steps"][0]["id"] if steps else rows[0]["id"])


def _void(noun: str, adding: list[str] | None, listing: list[str] | None, *, key: str | None = None,
          verb: str = "void", steps: bool = False) -> Prep:
    """Add a record (``adding``), find its id (``listing``, unless ``key`` names it), then void it."""
    def prep(r: CliRunner, d: Path, t: Path) -> list[str]:
        if adding:
            run(r, d, *adding)
        named = key if key is not None else _listed_id(r, d, *(listing or []), steps=steps)
        return [noun, verb, CASE, *([named] if named else []), "--reason", "录入错误", "--at", "2025-03-06"]
    return prep


def _ballots(tmp: Path) -> Path:
    path = tmp / "ballot.csv"
    path.write_text("room,choice,at\n202,oppose,2025-03-06\n", encoding="utf-8")
    return path


def _funded(runner: CliRunner, db: Path, *more: str) -> None:
    run(runner, db, "funding", "set", CASE, "--total", "480000", *more, "--at", "2025-03-05 08:00")


def _approved(runner: CliRunner, db: Path, kind: str) -> None:
    run(runner, db, "approval", "add", CASE, kind, "--authority", "检验院", "--at", "2025-03-05 08:00")


def _subsidy_applied(runner: CliRunner, db: Path) -> None:
    _funded(runner, db, "--subsidy", "200000")
    _approved(runner, db, "supervisory_inspection")
    run(runner, db, "subsidy", "apply", CASE, "--at", "2025-03-05 09:00")


ELEVATOR = ["--registration-code", "梯11鄂A20250001", "--maker", "奥升", "--model", "ASP", "--load", "450",
            "--speed", "1.0", "--stops", "7", "--safety-manager", "彭涛", "--maintainer", "梯安",
            "--maintainer-licence", "TS1", "--warranty-from", "2025-03-05", "--warranty-until", "2027-03-04"]
# Money and the elevator (issue 17): (command, action, what runs first, its arguments after CASE)
MONEY = [
    ("funding line", "funding.extra", _funded, ["extra", "18000", "--note", "玻璃幕墙井道"]),
    ("funding pay", "funding.pay", _funded, ["701", "1000"]),
    ("funding certificate", "funding.certificate", _funded, ["701"]),
    ("funding invoice", "funding.invoice", None, ["--number", "4200", "--issuer", "梯安", "--amount", "480000"]),
    ("funding settle", "funding.settle", _funded, []),
    ("subsidy apply", "subsidy.apply", lambda r, d: (_funded(r, d, "--subsidy", "200000"),
                                                     _approved(r, d, "supervisory_inspection")), []),
    ("subsidy approve", "subsidy.approve", _subsidy_applied, []),
    ("subsidy reject", "subsidy.reject", _subsidy_applied, ["--note", "材料不全"]),
    ("subsidy pay", "subsidy.pay", _subsidy_applied, ["200000", "--payer", "区住更局", "--account", "专户"]),
    ("elevator set", "elevator.set", lambda r, d: _approved(r, d, "use_registration"), ELEVATOR),
    ("elevator insure", "elevator.insure", lambda r, d: _approved(r, d, "use_registration"),
     ["--insurer", "人保", "--from", "2025-03-05", "--until", "2026-03-04"]),
    ("elevator incident", "elevator.incident", lambda r, d: _approved(r, d, "use_registration"),
     ["--kind", "fault", "--description", "门锁故障"]),
    ("elevator repair", "elevator.repair", lambda r, d: (_funded(r, d), _approved(r, d, "use_registration")),
     ["--cost", "680", "--by", "梯安", "--description", "更换按钮面板"]),
]


def _use_registration(runner: CliRunner, db: Path) -> None:
    _approved(runner, db, "use_registration")


def _recorded(first: Callable[[CliRunner, Path], object] | None, *args: str) -> Callable[[CliRunner, Path], None]:
    """What runs before a money void: ``first``, then the command recording the record (at 2025-03-05 10:00)."""
    def prep(runner: CliRunner, db: Path) -> None:
        if first is not None:
            first(runner, db)
        run(runner, db, args[0], args[1], CASE, *args[2:], "--at", "2025-03-05 10:00")
    return prep


# The money records' voids (issue 16): (command, action, what records the record first, its key after CASE)
MONEY_VOIDS = [
    ("funding void-line", "funding.void-line", _recorded(_funded, "funding", "line", "extra", "1800", "--note", "x"),
     "1"),
    ("funding void-payment", "funding.void-payment", _recorded(_funded, "funding", "pay", "701", "1000"),
     f"SK-{CASE}-0001"),
    ("funding void-certificate", "funding.void-certificate", _recorded(_funded, "funding", "certificate", "701"),
     f"FT-{CASE}-001"),
    ("funding void-invoice", "funding.void-invoice", _recorded(None, "funding", "invoice", "--number", "4200",
                                                               "--issuer", "梯安", "--amount", "480000"), "4200"),
    ("funding void-settlement", "funding.void-settlement", _recorded(_funded, "funding", "settle"), None),
    ("subsidy void", "subsidy.void", _recorded(lambda r, d: (_funded(r, d, "--subsidy", "200000"),
                                                            _approved(r, d, "supervisory_inspection")),
                                               "subsidy", "apply"), "1"),
    ("elevator void", "elevator.void", _recorded(_use_registration, "elevator", "set", *ELEVATOR), None),
    ("elevator void-policy", "elevator.void-policy", _recorded(_use_registration, "elevator", "insure", "--insurer",
                                                               "人保", "--from", "2025-03-05", "--until",
                                                               "2026-03-04"), "1"),
    ("elevator void-incident", "elevator.void-incident",
     _recorded(_use_registration, "elevator", "incident", "--kind", "fault", "--description", "门锁故障"), "1"),
    ("elevator void-repair", "elevator.void-repair", _recorded(lambda r, d: (_funded(r, d), _use_registration(r, d)),
                                                               "elevator", "repair", "--cost", "680", "--by", "梯安",
                                                               "--description", "更换按钮面板"), "1"),
]


def _money_void(name: str, prep: Callable[[CliRunner, Path], object], key: str | None) -> Prep:
    def run_prep(runner: CliRunner, db: Path, _tmp: Path) -> list[str]:
        prep(runner, db)
        return [*name.split(), CASE, *([key] if key else []), "--reason", "录入错误", "--at", "2025-03-06"]
    return run_prep


def _money_command(name: str, prep: Callable[[CliRunner, Path], object] | None, args: list[str]) -> Prep:
    def run_prep(runner: CliRunner, db: Path, _tmp: Path) -> list[str]:
        if prep is not None:
            prep(runner, db)
        return [*name.split(), CASE, *args, "--at", "2025-03-05 10:00"]
    return run_prep


COMMANDS = [
    Command("case open", "open", lambda r, d, t: ["case", "open", "RT-9-2", "--complex", COMPLEX, "--building",
                                                  "9", "--unit", "2", "--at", "2025-03-05"],
            case_id="RT-9-2", default_role=None),  # a new case has nobody on record yet
    Command("case advance", "advance", lambda r, d, t: ["case", "advance", CASE, "--at", "2025-03-05"]),
    Command("case return", "return", lambda r, d, t: _then(run(r, d, "case", "advance", CASE, "--at", "2025-03-05"),
                                                       "case", "return", CASE, "--to", "consent", "--reason",
                                                       "材料不全", "--at", "2025-03-06")),
    Command("case suspend", "suspend", lambda r, d, t: ["case", "suspend", CASE, "--reason", "调解中",
                                                        "--at", "2025-03-05", "--review-at", "2025-04-01"]),
    Command("case resume", "resume", lambda r, d, t: _then(run(r, d, "case", "suspend", CASE, "--reason", "调解中",
                                                           "--at", "2025-03-05"),
                                                       "case", "resume", CASE, "--reason", "调解完成",
                                                       "--at", "2025-03-06")),
    Command("case withdraw", "withdraw", lambda r, d, t: ["case", "withdraw", CASE, "--reason", "业主放弃",
                                                          "--at", "2025-03-05"]),
    Command("household import", "household.import",
            lambda r, d, t: ["household", "import", CASE, str(_more_owners(t)), "--at", "2025-03-05"]),
    Command("vote cast", "vote.cast", lambda r, d, t: ["vote", "cast", CASE, "201", "abstain", "--at", "2025-03-05"]),
    Command("vote import", "vote.import", lambda r, d, t: ["vote", "import", CASE, str(_ballots(t))]),
    Command("doc add", "doc.add", lambda r, d, t: ["doc", "add", CASE, "site_survey", str(attachment(t, "survey")),
                                                   "--at", "2025-03-05"]),
    Command("approval add", "approval.add", lambda r, d, t: ["approval", "add", CASE, "feasibility", "--authority",
                                                             "江夏区行政审批局", "--at", "2025-03-05"]),
    Command("objection add", "objection.add", lambda r, d, t: ["objection", "add", CASE, "--room", "202",
                                                               "--grounds", "采光", "--at", "2025-03-05"]),
    Command("objection mediate", "objection.mediate",
            lambda r, d, t: ["objection", "mediate", CASE, _objection(r, d), "--step", "negotiation",
                             "--note", "上门沟通", "--at", "2025-03-06"]),
    Command("objection resolve", "objection.resolve",
            lambda r, d, t: ["objection", "resolve", CASE, _objection(r, d), "--outcome", "改用玻璃井道",
                             "--at", "2025-03-06"]),
    Command("canvass add", "canvass.add", lambda r, d, t: ["canvass", "add", CASE, "201", "--stance", "hesitant",
                                                           "--concern", "担心噪音", "--at", "2025-03-05"]),
    Command("role add", "role.add", lambda r, d, t: ["role", "add", CASE, "volunteer", "周桂兰", "--room", "201",
                                                     "--at", "2025-03-05"]),
    Command("meeting add", "meeting.add", lambda r, d, t: ["meeting", "add", CASE, "--at", "2025-03-05 19:00",
                                                           "--attendees", "李建国,周桂兰", "--decision", "选定方案",
                                                           "--kind", "brand"]),
    Command("scheme add", "scheme.add", lambda r, d, t: ["scheme", "add", CASE, "--company", "升华电梯",
                                                         "--price", "455000", "--at", "2025-03-05"]),
    Command("scheme choose", "scheme.choose", lambda r, d, t: ["scheme", "choose", CASE, _scheme(r, d, t),
                                                               "--reason", "价格居中", "--at", "2025-03-06"]),
    Command("complex rollout", "open", lambda r, d, t: ["complex", "rollout", COMPLEX, "--from", CASE,
                                                        "--units", "9-2", "--at", "2025-03-05"],
            case_id="RT-9-2", default_role=None),
    Command("funding set", "funding.set", lambda r, d, t: ["funding", "set", CASE, "--total", "480000",
                                                           "--at", "2025-03-05"]),
    Command("funding agree", "funding.agree", _agreed_case, case_id="RT-9-3"),
    Command("forms party", "role.add", lambda r, d, t: ["forms", "party", CASE, "agent", "--name", REP,
                                                        "--at", "2025-03-05"]),
    Command("role contact", "role.contact", lambda r, d, t: ["role", "contact", CASE, REP, "--phone", "13807120936",
                                                             "--at", "2025-03-05"]),
    Command("role rota", "role.rota", lambda r, d, t: ["role", "rota", CASE, "--every", "week", "--from",
                                                       "2025-12-01", "--at", "2025-03-05"]),
    # Corrections: one pattern (noun void CASE KEY --reason), each an event of its own.
    Command("doc void", "doc.void", _void("doc", None, ["doc", "list", CASE])),
    Command("approval void", "approval.void", _void(
        "approval", ["approval", "add", CASE, "feasibility", "--authority", "区审批局", "--at", "2025-03-05"],
        ["approval", "list", CASE])),
    Command("vote void", "vote.void", _void("vote", None, None, key="201")),
    Command("household void", "household.void", _void("household", None, None, key="201")),
    Command("household correct", "household.correct",
            lambda r, d, t: ["household", "correct", CASE, "201", "--owner", "王芳", "--reason", "按登记簿更正",
                             "--at", "2025-03-06"]),
    Command("objection void", "objection.void", _void(
        "objection", ["objection", "add", CASE, "--room", "202", "--grounds", "采光", "--at", "2025-03-05"],
        ["objection", "list", CASE])),
    Command("objection void-step", "objection.void-step", lambda r, d, t: _void(
        "objection", ["objection", "mediate", CASE, _objection(r, d), "--step", "negotiation", "--note", "沟通",
                      "--at", "2025-03-05"], ["objection", "list", CASE], verb="void-step", steps=True)(r, d, t)),
    Command("meeting void", "meeting.void", _void(
        "meeting", ["meeting", "add", CASE, "--at", "2025-03-05", "--attendees", "李建国", "--decision", "开会"],
        ["meeting", "list", CASE])),
    Command("scheme void", "scheme.void", lambda r, d, t: _void("scheme", None, None, key=_scheme(r, d, t))(r, d, t)),
    Command("role end", "role.end", lambda r, d, t: _void("role", None, None, verb="end", key=run(
        r, d, "role", "add", CASE, "volunteer", "周桂兰", "--room", "201", "--at", "2025-03-05").stdout.split("#")[-1]
        .strip())(r, d, t)),
    Command("canvass void", "canvass.void", lambda r, d, t: _void("canvass", None, None, key=run(
        r, d, "canvass", "add", CASE, "201", "--stance", "hesitant", "--at", "2025-03-05").stdout.split("#")[-1]
        .strip())(r, d, t)),
    Command("funding void", "funding.void", _void(
        "funding", ["funding", "set", CASE, "--total", "480000", "--at", "2025-03-05"], None, key="")),
    Command("forms party-void", "party.void", _void(
        "forms", ["forms", "party", CASE, "agent", "--name", REP, "--at", "2025-03-05"], None, key="agent",
        verb="party-void")),
    # The paperwork logs with Core statements (paperwork/log.py), not append_event: the same role all the same.
    Command("forms render", "form.render", lambda r, d, t: ["forms", "render", CASE, "tally",
                                                            "-o", str(t / "tally.html"), "--at", "2025-03-05"]),
    Command("forms pack", "form.pack", lambda r, d, t: ["forms", "pack", CASE, "--format", "html",
                                                        "-o", str(t / "pack"), "--at", "2025-03-05"]),
    Command("case import", "case.import", _exported, case_id="RT-8-1"),
    # the case's events were written without a key; with one, audit sign adds a checkpoint to every case
    Command("audit sign", "audit.sign", lambda r, d, t: ["audit", "sign"], env={"EIGHTSTEP_SIGNING_KEY": "k"}),
    *(Command(name, action, _money_command(name, prep, args)) for name, action, prep, args in MONEY),
    *(Command(name, action, _money_void(name, prep, key)) for name, action, prep, key in MONEY_VOIDS),
]


def last_event(runner: CliRunner, db: Path, command: Command) -> dict[str, Any]:
    event = history(runner, db, command.case_id)[-1]
    assert event["action"] == command.action
    return event


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_as_role_is_kept_in_the_history(runner: CliRunner, db: Path, tmp_path: Path, command: Command) -> None:
    args = command.prep(runner, db, tmp_path)
    run(runner, db, *args, "--as", "street", actor="王敏", env=command.env)
    event = last_event(runner, db, command)
    assert (event["actor"], event["role"], event["details"]["actor_role"]) == ("王敏", "street", "street")


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_role_defaults_to_the_actors_recorded_role(runner: CliRunner, db: Path, tmp_path: Path,
                                                   command: Command) -> None:
    args = command.prep(runner, db, tmp_path)
    run(runner, db, *args, actor=REP, env=command.env)
    event = last_event(runner, db, command)
    assert (event["actor"], event["role"]) == (REP, command.default_role)
    assert ("actor_role" in event["details"]) == (command.default_role is not None)


def test_every_recording_command_is_covered() -> None:
    """Every command that takes --actor takes --as, and is in the table above."""
    found = {" ".join(path): {p.name for p in command.params} for path, command in walk(main)
             if not isinstance(command, click.Group)}
    recording = {name for name, params in found.items() if "actor" in params}
    with_as = {name for name, params in found.items() if "as_role" in params}
    assert recording - with_as == set()
    assert with_as == {c.name for c in COMMANDS}


def test_recorded_role_counts_from_when_it_was_held(runner: CliRunner, db: Path) -> None:
    """A role counts from its `since` on; an actor holding several is named by the first of owner_rep, agent,
    negotiator, ...; names match as written or by their last word ("业主代表 李建国")."""
    run(runner, db, "vote", "cast", CASE, "201", "agree", "--at", "2025-03-04 09:00", actor=REP)  # before 10:00
    assert history(runner, db)[-1]["role"] is None
    run(runner, db, "vote", "cast", CASE, "202", "agree", "--at", "2025-03-04 10:00", actor=f"业主代表 {REP}")
    assert history(runner, db)[-1]["role"] == "owner_rep"
    run(runner, db, "role", "add", CASE, "negotiator", "周桂兰", "--room", "201", "--side", "low_floor",
        "--at", "2025-03-05")
    run(runner, db, "role", "add", CASE, "negotiator", REP, "--room", "701", "--side", "high_floor",
        "--at", "2025-03-05")
    run(runner, db, "vote", "cast", CASE, "301", "agree", "--at", "2025-03-06", actor="周桂兰")
    run(runner, db, "vote", "cast", CASE, "302", "agree", "--at", "2025-03-06", actor=REP)
    assert [e["role"] for e in history(runner, db)[-2:]] == ["negotiator", "owner_rep"]
    run(runner, db, "vote", "cast", CASE, "401", "agree", "--at", "2025-03-06", actor="王敏")  # nobody on record
    assert history(runner, db)[-1]["role"] is None


EARLY = "2025-03-04 09:00"  # before 李建国 became owner representative (10:00)
BEFORE_THE_ROLE = [
    Command("scheme add", "scheme.add", lambda r, d, t: ["scheme", "add", CASE, "--company", "升华电梯",
                                                         "--price", "455000", "--at", EARLY]),
    Command("scheme choose", "scheme.choose",
            lambda r, d, t: _then(run(r, d, "scheme", "add", CASE, "--company", "湖北梯安", "--price", "480000",
                                      "--at", "2025-03-04 08:00"),
                                  "scheme", "choose", CASE, "1", "--reason", "价格居中", "--at", EARLY)),
    Command("meeting add", "meeting.add", lambda r, d, t: ["meeting", "add", CASE, "--at", EARLY,
                                                           "--attendees", "李建国,周桂兰", "--decision", "选定方案"]),
    Command("forms render", "form.render", lambda r, d, t: ["forms", "render", CASE, "tally", "ballots",
                                                            "-o", str(t / "papers"), "--at", EARLY]),
    Command("forms pack", "form.pack", lambda r, d, t: ["forms", "pack", CASE, "--format", "html",
                                                        "-o", str(t / "pack"), "--at", EARLY]),
    Command("forms party", "role.add", lambda r, d, t: ["forms", "party", CASE, "use_unit", "--name", "纸坊物业",
                                                        "--at", EARLY]),
]


@pytest.mark.parametrize("command", BEFORE_THE_ROLE, ids=[c.name for c in BEFORE_THE_ROLE])
def test_no_recorded_role_before_it_was_held(runner: CliRunner, db: Path, tmp_path: Path, command: Command) -> None:
    """The default role is the one held at the time of the action: an action dated before 李建国 was named owner
    representative names no role, in every module that records (schemes, meetings, the paperwork's log)."""
    args = command.prep(runner, db, tmp_path)
    count = len(history(runner, db))
    run(runner, db, *args, actor=REP)
    events = history(runner, db)[count:]
    assert [e["action"] for e in events] == [command.action] * len(events) and events
    assert [(e["actor"], e["role"], "actor_role" in e["details"]) for e in events] == [(REP, None, False)] * len(
        events)


@pytest.mark.parametrize("role", ["", "  ", "x" * 41])
def test_as_must_be_a_short_role(runner: CliRunner, db: Path, role: str) -> None:
    before = len(history(runner, db))
    result = run(runner, db, "doc", "add", CASE, "site_survey", str(attachment(db.parent, "s")), "--as", role,
                 code=1)
    assert "--as: give the role the actor acts in, in at most 40 characters" in result.stderr
    assert len(history(runner, db)) == before  # nothing was written


def test_case_history_shows_who_acted_in_which_role(runner: CliRunner, db: Path) -> None:
    run(runner, db, "case", "advance", CASE, "--at", "2025-03-05", "--note", "表决通过", "--as", "officer",
        actor="王敏")
    run(runner, db, "vote", "cast", CASE, "201", "abstain", "--at", "2025-03-06", actor=REP)
    lines = run(runner, db, "case", "history", CASE).stdout.splitlines()
    header = lines[0].split()
    assert header == ["#", "at", "actor", "role", "action", "stage", "note"]
    rows = [line.split() for line in lines[2:]]
    assert rows[-2][:5] == [str(len(rows) - 1), "2025-03-05", "王敏", "officer", "advance"]
    assert rows[-1][:5] == [str(len(rows)), "2025-03-06", REP, "owner_rep", "vote.cast"]
    assert rows[0][2:4] == ["tester", "open"]  # no role: the column is empty
    events = history(runner, db)
    assert [(e["actor"], e["role"], e["action"]) for e in events[-2:]] == [
        ("王敏", "officer", "advance"), (REP, "owner_rep", "vote.cast")]
    assert events[0]["role"] is None and "actor_role" not in events[0]["details"]


@pytest.mark.parametrize(("as_role", "actor", "expected"), [
    (["--as", "officer"], REP, "officer"), ([], REP, "owner_rep"), ([], "王敏", None)],
    ids=["given", "on-record", "none"])
def test_bulk_advance_names_the_role(runner: CliRunner, db: Path, as_role: list[str], actor: str,
                                     expected: str | None) -> None:
    run(runner, db, "case", "advance", "--all-ready", "--at", "2025-03-10", *as_role, actor=actor)
    last = history(runner, db)[-1]
    assert (last["action"], last["actor"], last["role"]) == ("advance", actor, expected)
