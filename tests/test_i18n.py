"""The interface language: gettext catalogs shipped compiled, the language chosen by --lang, $EIGHTSTEP_LANG,
the settings file or the system's locale, and click's own messages in the same language."""

from __future__ import annotations

import importlib.util
import re
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest
from click.testing import CliRunner

from eightstep import i18n
from tests.helpers import cli

ROOT = Path(__file__).resolve().parents[1]


def catalog_tool() -> ModuleType:
    """scripts/i18n.py of the checkout (the tests run from it; the wheel does not ship scripts/)."""
    spec = importlib.util.spec_from_file_location("i18n_tool", ROOT / "scripts" / "i18n.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["i18n_tool"] = module  # its dataclasses look their module up
    spec.loader.exec_module(module)
    return module


def test_each_mo_is_its_po_compiled_and_shipped() -> None:
    tool = catalog_tool()
    for lang, (po, mo) in tool.catalogs().items():
        compiled = tool.compile_mo(tool.parse_po(po.read_text(encoding="utf-8")))
        assert mo.read_bytes() == compiled, f"{mo} is stale: run python scripts/i18n.py compile"
        installed = i18n.LOCALE_DIR / lang / "LC_MESSAGES" / "eightstep.mo"  # the package the tests import
        assert installed.read_bytes() == compiled


def test_the_mo_compiler_round_trips_through_gettext(tmp_path: Path) -> None:
    import gettext

    tool = catalog_tool()
    entries = [tool.header("zh_CN"), tool.Entry("Usage:", msgstr=["用法："]),
               tool.Entry("{n} case", "{n} cases", ["{n} 个案件"]), tool.Entry("untranslated")]
    text = tool.write_po(entries)
    assert [e.key for e in tool.parse_po(text)] == [e.key for e in entries]
    (tmp_path / "t.mo").write_bytes(tool.compile_mo(tool.parse_po(text)))
    with (tmp_path / "t.mo").open("rb") as f:
        t = gettext.GNUTranslations(f)
    assert t.gettext("Usage:") == "用法："
    assert t.ngettext("{n} case", "{n} cases", 5) == "{n} 个案件"
    assert t.gettext("untranslated") == "untranslated"


@pytest.mark.parametrize(("env", "expected"), [
    ({"LANG": "zh_CN.UTF-8"}, "zh"), ({"LANG": "zh_TW.UTF-8"}, "zh"), ({"LC_ALL": "zh_CN.GB18030"}, "zh"),
    ({"LANG": "en_US.UTF-8"}, "en"), ({"LANG": "C.UTF-8"}, "en"), ({"LANG": "de_DE.UTF-8"}, "en"), ({}, "en"),
    ({"LANGUAGE": "zh_CN:en", "LANG": "en_US.UTF-8"}, "zh"),
], ids=lambda v: str(v))
def test_system_language(monkeypatch: pytest.MonkeyPatch, env: dict[str, str], expected: str) -> None:
    monkeypatch.setattr(i18n, "_written_language", None)  # as in a fresh process
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert i18n.system_language() == expected


def test_choice_order(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    monkeypatch.delenv("LANGUAGE", raising=False)
    monkeypatch.delenv("EIGHTSTEP_LANG")
    assert i18n.choose_language(None) == "zh"  # the system
    assert i18n.choose_language(None, "en") == "en"  # the settings file over the system
    monkeypatch.setenv("EIGHTSTEP_LANG", "zh")
    assert i18n.choose_language(None, "en") == "zh"  # the environment over the settings file
    assert i18n.choose_language("en", "zh") == "en"  # --lang over everything


def run(runner: CliRunner, *args: str, code: int = 0) -> tuple[str, str]:
    result = cli.run(runner, None, *args, code=code)
    return result.stdout, result.stderr


def test_click_usage_and_errors_follow_the_language(runner: CliRunner) -> None:
    _out, err = run(runner, "--lang", "zh", "case", "check", code=2)
    assert err.startswith("用法： eightstep case check")
    assert "运行“eightstep case check --help”查看帮助。" in err
    assert "错误：缺少参数 'CASE'" in err
    _out, err = run(runner, "--lang", "en", "case", "check", code=2)
    assert err.startswith("Usage: eightstep case check")
    assert "Error: Missing argument 'CASE'" in err


def test_eightstep_errors_follow_the_language(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EIGHTSTEP_LANG", "zh")
    _out, err = run(runner, "settings", "set", "lang", "fr", code=1)
    assert err.startswith("错误：")
    monkeypatch.setenv("EIGHTSTEP_LANG", "en")
    _out, err = run(runner, "settings", "set", "lang", "fr", code=1)
    assert err.startswith("Error: lang: 'fr' is not a language")


def test_the_system_locale_chooses_chinese(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EIGHTSTEP_LANG")
    monkeypatch.delenv("LANGUAGE")
    monkeypatch.setenv("LANG", "zh_CN.UTF-8")
    out, _err = run(runner, "--help")
    assert out.startswith("用法：")
    assert "显示本帮助并退出。" in "".join(out.split())
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    out, _err = run(runner, "--help")
    assert out.startswith("Usage:")


def test_the_settings_file_chooses_the_language(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("EIGHTSTEP_LANG")
    monkeypatch.setenv("LANG", "en_US.UTF-8")
    monkeypatch.delenv("LANGUAGE")
    run(runner, "settings", "set", "lang", "zh")
    out, _err = run(runner, "--help")
    assert out.startswith("用法：")
    out, _err = run(runner, "--lang", "en", "--help")
    assert out.startswith("Usage:")


def test_help_texts_are_translated_when_shown(runner: CliRunner) -> None:
    out, _err = run(runner, "--lang", "zh", "settings", "--help")
    assert "设置文件" in out
    out, _err = run(runner, "--lang", "en", "settings", "--help")
    assert "The settings file" in out


def test_help_does_not_import_the_library() -> None:
    """`eightstep --help` and a group's help load the CLI modules only, never the database or the guards."""
    code = ("import sys\nfrom eightstep.cli import main\nfor args in (['--help'], ['case', '--help'], "
            "['forms', 'render', '--help']):\n    try:\n        main.main(args=args)\n    except SystemExit:\n"
            "        pass\nprint(' '.join(sorted(sys.modules)))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=False)
    assert proc.returncode == 0, proc.stderr
    loaded = set(proc.stdout.split())
    heavy = {"sqlalchemy", "sqlmodel", "pydantic", "alembic", "jinja2", "openpyxl", "transitions", "weasyprint",
             "eightstep.engine", "eightstep.store", "eightstep.records", "eightstep.workflow", "eightstep.rules",
             "eightstep.audit", "eightstep.paperwork.render"}
    assert heavy & loaded == set()
    assert "eightstep.cli.case" in loaded and "eightstep.cli.forms" in loaded


PLACEHOLDER = re.compile(r"\{[^{}]*\}|%\([a-z_]+\)[sdr]")


def test_every_message_has_a_chinese_translation() -> None:
    """Every ``_()``/``N_()``/``ngettext`` message of the library and the CLI, every help text of the click tree and
    click's own messages are in the zh_CN catalog, translated, with the same placeholders. A message added without
    a translation fails here: run ``python scripts/i18n.py update``, translate what ``python scripts/i18n.py
    missing`` lists in eightstep/locale/zh_CN/LC_MESSAGES/eightstep.po, then ``python scripts/i18n.py compile``."""
    tool = catalog_tool()
    po, _mo = tool.catalogs()["zh_CN"]
    catalog = {e.key: e for e in tool.parse_po(po.read_text(encoding="utf-8")) if e.msgid and not e.obsolete}
    missing, untranslated, placeholders = [], [], []
    for entry in tool.extract():
        found = catalog.get(entry.key)
        if found is None:
            missing.append(f"{entry.msgid!r} ({entry.locations[0]})")
        elif not found.translated:
            untranslated.append(f"{entry.msgid!r} ({entry.locations[0]})")
        else:
            source = entry.msgid_plural or entry.msgid  # Chinese has one plural form: the plural's placeholders
            for text in found.msgstr:
                if set(PLACEHOLDER.findall(source)) != set(PLACEHOLDER.findall(text)):
                    placeholders.append(f"{source!r} -> {text!r}")
    assert not missing, f"{len(missing)} messages are not in the catalog:\n" + "\n".join(missing)
    assert not untranslated, f"{len(untranslated)} messages have no translation:\n" + "\n".join(untranslated)
    assert not placeholders, "translations with other placeholders than their message:\n" + "\n".join(placeholders)


def test_a_cases_status_is_said_in_the_interface_language(demo_dir: Path, tmp_path: Path, runner: CliRunner) -> None:
    """`case show`, `case list` and the status moves say 进行中 / 暂停 (with the reason) in Chinese, the code in
    English; --json keeps the code (data for programs). `case check` names a blocker's type in Chinese too."""
    import shutil

    db = tmp_path / "eightstep.db"
    shutil.copy(demo_dir / "eightstep.db", db)
    checked = cli.run(runner, db, "--lang", "zh", "case", "check", "RD-4-2", code=3).stdout
    assert "[程序] 已逾期：电梯技术资料移交记录" in checked and "[order]" not in checked, checked
    moved = cli.run(runner, db, "--lang", "zh", "case", "suspend", "RD-4-2", "--reason", "业主诉讼", "--at",
                    "2026-02-10").stdout
    assert moved.strip() == "RD-4-2: 进行中 -> 暂停", moved
    again = cli.run(runner, db, "--lang", "zh", "case", "suspend", "RD-4-2", "--reason", "再次", code=1).stderr
    assert "案件 RD-4-2 当前为暂停：只有进行中的案件可以暂停" in again, again
    again = cli.run(runner, db, "--lang", "en", "case", "suspend", "RD-4-2", "--reason", "again", code=1).stderr
    assert "case RD-4-2 is suspended: only an active case can be suspended" in again, again
    shown = cli.run(runner, db, "--lang", "zh", "case", "show", "RD-4-2").stdout
    assert re.search(r"状态: 暂停 \(业主诉讼\)$", shown, re.M), shown
    assert re.search(r"状态: 进行中$", cli.run(runner, db, "--lang", "zh", "case", "show", "RD-3-2").stdout, re.M)
    listed = cli.run(runner, db, "--lang", "zh", "case", "list").stdout
    assert re.search(r"^RD-4-2 .* 暂停 ", listed, re.M) and re.search(r"^RD-3-2 .* 进行中 ", listed, re.M), listed
    assert "suspended (业主诉讼)" in cli.run(runner, db, "--lang", "en", "case", "show", "RD-4-2").stdout
    assert cli.run_json(runner, db, "--lang", "zh", "case", "show", "RD-4-2", "--json")["status"] == "suspended"
