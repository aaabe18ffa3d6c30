"""Every command that prints, with its output redirected, as on a Chinese Windows PC.

Redirected to a file or a pipe there, Python's stdout uses the ANSI code page, cp936, which lacks characters
eightstep prints (``²``, ``✓``, rare characters in names); ``PYTHONIOENCODING=cp936`` gives Linux the same
stream. One real process runs every command of the click tree in turn (on a copy of the demo), stdout and
stderr redirected to files: none may crash, each exits as expected, and the bytes read back as GB18030 (what
``eightstep.cli.output.fit_streams`` turns such a stream into) hold the Chinese text they should.
"""

from __future__ import annotations

import codecs
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import click
import pytest

from eightstep.cli import main
from eightstep.cli.base import walk
from tests.conftest import write_households

DRIVER = r'''
import json, sys
from eightstep.cli import main

commands = json.loads(open(sys.argv[1], encoding="utf-8").read())
codes = []
for i, argv in enumerate(commands):
    for stream in (sys.stdout, sys.stderr):
        stream.write(f"\n=== {i}\n")
        stream.flush()
    try:
        main.main(args=argv, prog_name="eightstep")
        code = 0
    except SystemExit as exc:
        code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
    sys.stdout.flush()
    sys.stderr.flush()
    codes.append(code)
open(sys.argv[2], "w", encoding="utf-8").write(json.dumps(codes))
'''

# (argv, expected exit code, text the output must hold); {dir} is the test's folder
COMMANDS: list[tuple[list[str], int, str]] = [
    (["init"], 0, "Already initialised"),
    (["settings", "set", "actor", "李敏"], 0, "李敏"),
    (["settings", "show"], 0, "李敏"),
    (["settings", "unset", "actor"], 0, "actor"),
    (["workflow", "list"], 0, "wuhan"),
    (["workflow", "list", "--json"], 0, "wuhan"),
    (["workflow", "show", "wuhan"], 0, "发起与意愿征询表决"),
    (["workflow", "show", "wuhan", "--json"], 0, "发起与意愿征询表决"),
    (["workflow", "check", "{dir}/wuhan.yaml"], 0, "ok"),
    (["workflow", "diagram", "wuhan"], 0, "发起与意愿征询表决"),
    (["holidays", "show", "2026"], 0, "元旦"),
    (["holidays", "check", "{dir}/2027.yaml"], 0, "2027"),
    (["case", "list"], 0, "人大小区"),
    (["case", "list", "--json"], 0, "人大小区"),
    (["case", "show", "RD-3-2"], 0, "3栋2单元"),
    (["case", "show", "RD-3-2", "--json"], 0, "人大小区"),
    (["case", "check", "QT-2-1"], 3, "101室"),
    (["case", "check", "QT-2-1", "--json"], 3, "101室"),
    (["case", "history", "RD-3-2"], 0, "RD-3-2"),
    (["case", "history", "RD-3-2", "--json"], 0, "人大小区"),
    (["case", "open", "JX-1-1", "--complex", "幸福小区", "--building", "1", "--unit", "1", "--at", "2025-03-01"], 0,
     "幸福小区"),
    (["household", "import", "JX-1-1", "{dir}/owners.csv", "--at", "2025-03-01"], 0, "JX-1-1"),
    (["household", "list", "JX-1-1"], 0, "业主201"),
    (["household", "list", "JX-1-1", "--json"], 0, "业主201"),
    (["vote", "cast", "JX-1-1", "201", "agree", "--at", "2025-03-02"], 0, "201"),
    (["vote", "import", "JX-1-1", "{dir}/votes.csv"], 0, "JX-1-1"),
    (["vote", "tally", "JX-1-1"], 0, "m²"),
    (["vote", "tally", "RD-3-2", "--json"], 0, "民法典"),
    (["vote", "whatif", "JX-1-1"], 0, "JX-1-1"),
    (["vote", "whatif", "JX-1-1", "--json"], 0, "民法典"),
    (["doc", "add", "JX-1-1", "application", "{dir}/申请书.pdf", "--at", "2025-03-02"], 0, "申请书.pdf"),
    (["doc", "list", "RD-3-2"], 0, "本单元业主"),
    (["doc", "list", "RD-3-2", "--json"], 0, "加装电梯申请书"),
    (["approval", "add", "RD-3-1", "feasibility", "--authority", "江夏区行政审批局"], 0, "江夏区行政审批局"),
    (["approval", "add", "RD-3-1", "feasibility", "--authority", "江夏区行政审批局", "--file", "{dir}/申请书.pdf"], 0,
     "申请书.pdf"),
    (["approval", "list", "RD-3-1"], 0, "江夏区行政审批局"),
    (["approval", "list", "RD-3-1", "--json"], 0, "江夏区行政审批局"),
    (["case", "list", "--xlsx", "{dir}/cases.xlsx"], 0, "cases.xlsx"),
    (["case", "list", "--csv"], 0, "人大小区"),
    (["objection", "add", "JX-1-1", "--room", "301", "--grounds", "采光²"], 0, ""),
    (["objection", "list", "JX-1-1"], 0, "采光²"),
    (["objection", "list", "JX-1-1", "--json"], 0, "采光²"),
    (["objection", "mediate", "JX-1-1", "{objection}", "--step", "negotiation", "--note", "协商"], 0, "negotiation"),
    (["objection", "resolve", "JX-1-1", "{objection}", "--outcome", "协商一致"], 0, "JX-1-1"),
    (["canvass", "add", "JX-1-1", "302", "--stance", "hesitant", "--concern", "噪音", "--kind", "noise"], 0, "302"),
    (["canvass", "list", "JX-1-1"], 0, "302"),
    (["canvass", "list", "JX-1-1", "--json"], 0, "噪音"),
    (["role", "add", "JX-1-1", "owner_rep", "王建国", "--room", "701", "--phone", "027-87654321"], 0, "王建国"),
    (["role", "contact", "JX-1-1", "王建国", "--address", "幸福小区1栋1单元701室"], 0, "王建国"),
    (["role", "rota", "JX-1-1", "--every", "week", "--from", "2025-12-01"], 0, "JX-1-1"),
    (["role", "list", "JX-1-1"], 0, "王建国"),
    (["role", "list", "JX-1-1", "--json"], 0, "王建国"),
    (["meeting", "add", "JX-1-1", "--at", "2025-03-03", "--attendees", "王建国,李敏", "--decision", "选定品牌",
      "--kind", "brand"], 0, "JX-1-1"),
    (["meeting", "list", "JX-1-1"], 0, "选定品牌"),
    (["meeting", "list", "JX-1-1", "--json"], 0, "选定品牌"),
    (["scheme", "add", "JX-1-1", "--company", "武汉某电梯公司", "--price", "450000"], 0, "武汉某电梯公司"),
    (["scheme", "compare", "JX-1-1"], 0, "武汉某电梯公司"),
    (["scheme", "compare", "JX-1-1", "--json"], 0, "武汉某电梯公司"),
    (["scheme", "choose", "JX-1-1", "{scheme}", "--reason", "价格最低"], 0, "JX-1-1"),
    (["funding", "set", "JX-1-1", "--total", "450000", "--subsidy", "200000"], 0, "JX-1-1"),
    (["funding", "shares", "JX-1-1"], 0, "201"),
    (["funding", "shares", "JX-1-1", "--json"], 0, "201"),
    (["funding", "agree", "RD-3-2", "{dir}/shares.csv", "--amend", "业主重新协商"], 1, "RD-3-2"),
    (["funding", "line", "JX-1-1", "extra", "18000", "--note", "玻璃幕墙井道"], 0, "玻璃幕墙井道"),
    (["funding", "pay", "JX-1-1", "701", "1000", "--way", "cash"], 0, "SK-JX-1-1-0001"),
    (["funding", "certificate", "JX-1-1", "701"], 0, "FT-JX-1-1-001"),
    (["funding", "invoice", "JX-1-1", "--number", "4200", "--issuer", "武汉某电梯公司", "--amount", "468000"], 0,
     "武汉某电梯公司"),
    (["funding", "paid", "RD-3-2"], 0, "王玉慧"),
    (["funding", "paid", "RD-3-2", "--json"], 0, "provident_fund"),
    (["funding", "settle", "QT-1-1"], 1, "2025-05-29"),
    (["subsidy", "show", "QT-1-1"], 0, "江夏区住房和城市更新局"),
    (["subsidy", "show", "QT-1-1", "--json"], 0, "approved"),
    (["subsidy", "apply", "RD-4-2", "--to", "江夏区住房和城市更新局", "--account", "业主代表专户"], 0, "200,000.00"),
    (["subsidy", "approve", "RD-4-2"], 0, "approved"),
    (["subsidy", "pay", "RD-4-2", "200000", "--payer", "江夏区住房和城市更新局", "--account", "业主代表专户"], 0,
     "paid"),
    (["subsidy", "reject", "RD-2-1", "--note", "材料不全"], 0, "rejected"),
    (["elevator", "show", "RD-3-2"], 0, "梯11鄂A"),
    (["elevator", "show", "RD-3-2", "--json"], 0, "奥升电梯"),
    (["elevator", "set", "RD-3-2", "--maintainer", "武汉某维保公司"], 0, "梯11鄂A"),
    (["elevator", "insure", "RD-3-2", "--insurer", "人保财险", "--from", "2026-09-18", "--until", "2027-09-17"], 0,
     "人保财险"),
    (["elevator", "incident", "RD-3-2", "--kind", "fault", "--description", "按钮失灵"], 0, "incident"),
    (["elevator", "repair", "RD-3-2", "--cost", "300", "--by", "湖北梯安", "--description", "更换按钮"], 0, "300.00"),
    (["forms", "list", "RD-3-2"], 0, "既有住宅加装电梯申请书"),
    (["forms", "list", "RD-3-2", "--json"], 0, "既有住宅加装电梯申请书"),
    (["forms", "party", "JX-1-1", "agent", "--name", "王建国", "--phone", "027-87654321"], 0, "王建国"),
    (["forms", "parties", "JX-1-1"], 0, "王建国"),
    (["forms", "parties", "JX-1-1", "--json"], 0, "王建国"),
    (["forms", "render", "RD-3-2", "application", "-o", "{dir}/application.html"], 0, "application"),
    (["forms", "pack", "RD-3-2", "--stage", "consent", "-o", "{dir}/pack"], 0, "manifest"),
    (["complex", "progress", "人大小区"], 0, "人大小区"),
    (["complex", "progress", "人大小区", "--json"], 0, "人大小区"),
    (["complex", "rollout", "幸福小区", "--from", "JX-1-1", "--units", "1-2"], 0, "武汉某电梯公司"),
    (["case", "suspend", "JX-1-2", "--reason", "调解中"], 0, "suspended"),
    (["case", "resume", "JX-1-2", "--reason", "调解结束"], 0, "active"),
    (["case", "return", "RD-2-2", "--to", "survey", "--reason", "补充踏勘"], 0, "survey"),
    (["case", "advance", "JX-1-1"], 3, "JX-1-1"),
    (["case", "advance", "--all-ready", "--dry-run"], 0, "RD-"),
    (["case", "advance", "--all-ready", "--dry-run", "--json"], 0, "RD-"),
    (["case", "withdraw", "JX-1-2", "--reason", "业主放弃"], 0, "withdrawn"),
    (["doc", "void", "JX-1-1", "{document}", "--reason", "扫描件错误"], 0, "voided"),
    (["approval", "void", "RD-3-1", "{approval}", "--reason", "文号错误"], 0, "voided"),
    (["vote", "void", "JX-1-1", "302", "--reason", "录错房号"], 0, "voided"),
    (["household", "correct", "JX-1-1", "202", "--area", "86.50", "--reason", "按登记簿更正"], 0, "area_centi"),
    (["household", "void", "JX-1-1", "201", "--reason", "不在本单元"], 0, "voided"),
    (["objection", "void-step", "JX-1-1", "{step}", "--reason", "记错"], 0, "voided"),
    (["objection", "void", "JX-1-1", "{objection}", "--reason", "口头异议"], 0, "voided"),
    (["meeting", "void", "JX-1-1", "{meeting}", "--reason", "会议未召开"], 0, "voided"),
    (["scheme", "void", "JX-1-1", "{scheme}", "--reason", "撤回"], 1, "current choice"),
    (["canvass", "void", "JX-1-1", "{canvass}", "--reason", "重复"], 0, "voided"),
    (["role", "end", "JX-1-1", "{role}", "--reason", "换届"], 0, "ended"),
    (["forms", "party-void", "JX-1-1", "agent", "--reason", "委托书未签"], 0, "voided"),
    (["funding", "void-line", "JX-1-1", "{line}", "--reason", "重复录入"], 0, "voided"),
    (["funding", "void-payment", "JX-1-1", "SK-JX-1-1-0001", "--reason", "金额录错"], 0, "voided"),
    (["funding", "void-certificate", "JX-1-1", "FT-JX-1-1-001", "--reason", "重复开具"], 0, "voided"),
    (["funding", "void-invoice", "JX-1-1", "4200", "--reason", "发票作废"], 0, "voided"),
    (["funding", "void-settlement", "RD-3-2", "--reason", "结算有误"], 0, "voided"),
    (["subsidy", "void", "RD-4-2", "{subsidy}", "--reason", "录错"], 1, "RD-4-2"),  # later steps build on it
    (["elevator", "void-repair", "RD-3-2", "{repair}", "--reason", "重复录入"], 0, "voided"),
    (["elevator", "void-incident", "RD-3-2", "{incident}", "--reason", "误报"], 0, "voided"),
    (["elevator", "void-policy", "RD-3-2", "{policy}", "--reason", "保单号录错"], 0, "voided"),
    (["elevator", "void", "RD-3-2", "--reason", "录入了别的电梯"], 0, "voided"),
    (["funding", "void", "JX-1-1", "--reason", "总价录错"], 0, "voided"),
    (["audit", "stalled"], 0, "人大小区"),
    (["audit", "stalled", "--json"], 0, "人大小区"),
    (["audit", "stalled", "--csv"], 0, "人大小区"),
    (["audit", "verify"], 0, "OK"),
    (["audit", "verify", "--json"], 0, "chain_problems"),
    (["report"], 0, "人大小区"),
    (["calendar", "-o", "{dir}/deadlines.ics"], 0, "deadlines.ics"),
    (["calendar", "--json"], 0, "stage_limit"),
    (["report", "--html", "{dir}/report.html"], 0, "人大小区"),
    (["audit", "anchor", "-o", "{dir}/anchor.json"], 0, "anchor.json"),
    (["audit", "sign"], 1, "EIGHTSTEP_SIGNING_KEY"),  # no key set: refused, naming it
    (["backup", "{dir}/backup.zip"], 0, "backup.zip"),
    (["restore", "{dir}/backup.zip", "--db", "{dir}/restored.db"], 0, "restored.db"),
    (["case", "export", "RD-3-2", "-o", "{dir}/RD-3-2.zip"], 0, "RD-3-2.zip"),
    (["case", "import", "{dir}/RD-3-2.zip"], 1, "RD-3-2"),
    (["demo", "--dir", "{dir}/demo2"], 0, "人大小区"),
]


def test_the_table_covers_every_command() -> None:
    leaves = {" ".join(path) for path, command in walk(main) if not isinstance(command, click.Group)}
    covered = set()
    for argv, _code, _text in COMMANDS:
        for length in (1, 2):
            if " ".join(argv[:length]) in leaves:
                covered.add(" ".join(argv[:length]))
    assert leaves - covered == set()


def test_every_printing_command_with_output_redirected_on_cp936(demo_dir: Path, tmp_path: Path) -> None:
    folder = tmp_path / "work"
    shutil.copytree(demo_dir, folder / "db")
    write_households(folder / "owners.csv")
    (folder / "votes.csv").write_text("room,choice\n301,agree\n302,oppose\n401,abstain\n", encoding="utf-8")
    (folder / "申请书.pdf").write_bytes(b"%PDF-1.4 test")
    (folder / "shares.csv").write_text("room,share\n", encoding="utf-8")
    (folder / "2027.yaml").write_text("year: 2027\nprovisional: true\nsource: 示例（非官方）\nholidays: [2027-01-01, "
                                      "2027-02-05..2027-02-08, 2027-05-01..2027-05-02, 2027-10-01..2027-10-03]\n",
                                      encoding="utf-8")
    from eightstep.workflow.registry import WorkflowRegistry

    shutil.copyfile(WorkflowRegistry().paths()["wuhan"], folder / "wuhan.yaml")
    with sqlite3.connect(folder / "db" / "eightstep.db") as con:  # the ids the new records will get
        ids = {name: str(con.execute(f"SELECT coalesce(max(id), 0) + 1 FROM {table}").fetchone()[0])
               for name, table in (("objection", "objections"), ("scheme", "schemes"), ("document", "documents"),
                                   ("approval", "approvals"), ("meeting", "meetings"), ("role", "case_roles"),
                                   ("canvass", "canvass_entries"), ("step", "mediation_steps"),
                                   ("line", "money_lines"), ("subsidy", "subsidy_steps"), ("repair", "repairs"),
                                   ("incident", "incidents"), ("policy", "insurance_policies"))}
    commands = []
    for argv, _code, _text in COMMANDS:
        filled = [a.replace("{dir}", str(folder)) for a in argv]
        for name, value in ids.items():
            filled = [a.replace(f"{{{name}}}", value) for a in filled]
        commands.append(["--db", str(folder / "db" / "eightstep.db"), *filled])
    (tmp_path / "commands.json").write_text(json.dumps(commands, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "driver.py").write_text(DRIVER, encoding="utf-8")
    env = {**os.environ, "PYTHONIOENCODING": "cp936", "EIGHTSTEP_SETTINGS": str(tmp_path / "settings.toml")}
    env.pop("PYTHONUTF8", None)
    with (tmp_path / "out.txt").open("wb") as out, (tmp_path / "err.txt").open("wb") as err:
        proc = subprocess.run([sys.executable, str(tmp_path / "driver.py"), str(tmp_path / "commands.json"),
                               str(tmp_path / "codes.json")], stdout=out, stderr=err, env=env, cwd=tmp_path,
                              timeout=600, check=False)
    outs = _split((tmp_path / "out.txt").read_bytes(), len(COMMANDS))
    errs = _split((tmp_path / "err.txt").read_bytes(), len(COMMANDS))
    assert proc.returncode == 0, "".join(errs)[-3000:]
    codes = json.loads((tmp_path / "codes.json").read_text(encoding="utf-8"))
    failures = []
    for i, (argv, code, text) in enumerate(COMMANDS):
        said = outs[i] + errs[i]
        if codes[i] != code or "Traceback" in said or "UnicodeEncodeError" in said or text not in said:
            failures.append(f"eightstep {' '.join(argv)}: exit {codes[i]} (expected {code}), expected "
                            f"{text!r} in:\n{said[:400]}")
    assert not failures, "\n\n".join(failures)


def _split(data: bytes, count: int) -> list[str]:
    """Each command's output, decoded: GB18030 (the redirected stream), or UTF-8 where a command writes a file
    format as bytes (CSV with a byte-order mark for Excel)."""
    parts = [""] * count
    for chunk in data.split(b"\n=== ")[1:]:
        number, _nl, body = chunk.partition(b"\n")
        parts[int(number)] = (body.decode("utf-8-sig") if body.startswith(codecs.BOM_UTF8)
                              else body.decode("gb18030"))
    return parts


@pytest.mark.parametrize("encoding", ["cp936", "ascii"])
def test_fit_streams_makes_narrow_redirected_streams_print_everything(tmp_path: Path, encoding: str) -> None:
    code = ("from eightstep.cli.output import fit_streams; fit_streams(); print('面积 m² ✓ 䶮'); "
            "import sys; sys.stderr.write('错误 ✓\\n')")
    env = {**os.environ, "PYTHONIOENCODING": encoding}
    env.pop("PYTHONUTF8", None)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, env=env, timeout=60, check=False)
    assert proc.returncode == 0, proc.stderr
    expected = "gb18030" if encoding == "cp936" else "utf-8"
    assert proc.stdout.decode(expected).strip() == "面积 m² ✓ 䶮"
    assert proc.stderr.decode(expected).strip() == "错误 ✓"
    if encoding == "cp936":  # what cp936 has reads back as cp936: Notepad and Excel show it as it is
        assert proc.stdout.decode("gb18030").encode("cp936", errors="ignore").decode("cp936").startswith("面积 m")
