"""The settings file: the database, the files folder, the actor and the language, set once.

An option wins over an environment variable, which wins over the settings file. The tests' settings file is
their own ($EIGHTSTEP_SETTINGS, see conftest), never the user's."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from eightstep.cli.settings import load, settings_path
from tests.helpers import cli


def run(runner: CliRunner, *args: str, code: int = 0) -> Result:
    return cli.run(runner, None, *args, code=code)


def test_set_show_unset(runner: CliRunner, tmp_path: Path) -> None:
    out = run(runner, "settings", "show").stdout
    assert str(settings_path()) in out and "(not created yet)" in out
    run(runner, "settings", "set", "db", "data/加梯.db")
    run(runner, "settings", "set", "actor", "李敏")
    run(runner, "settings", "set", "lang", "zh")
    assert load() == {"db": str(tmp_path / "data" / "加梯.db"), "actor": "李敏", "lang": "zh"}
    out = run(runner, "--lang", "en", "settings", "show").stdout
    assert f"db = {tmp_path / 'data' / '加梯.db'}" in out and "actor = 李敏" in out and "files: (not set)" in out
    run(runner, "--lang", "en", "settings", "unset", "actor")
    assert "actor" not in load()
    assert "was not set" in run(runner, "--lang", "en", "settings", "unset", "actor").stdout


def test_a_database_url_is_kept_as_given(runner: CliRunner) -> None:
    run(runner, "settings", "set", "db", "postgresql+psycopg://hetou@dbhost/eightstep")
    assert load()["db"] == "postgresql+psycopg://hetou@dbhost/eightstep"


def test_commands_use_the_settings_file(runner: CliRunner, tmp_path: Path) -> None:
    db, files = tmp_path / "office" / "eightstep.db", tmp_path / "shared-files"
    run(runner, "settings", "set", "db", str(db))
    run(runner, "settings", "set", "files", str(files))
    run(runner, "settings", "set", "actor", "李敏")
    assert run(runner, "init").stdout == f"Created {db}\n"
    run(runner, "case", "open", "JX-5-1", "--complex", "幸福小区", "--building", "5", "--unit", "1")
    (tmp_path / "a.pdf").write_bytes(b"%PDF-1.4 application")
    run(runner, "doc", "add", "JX-5-1", "application", str(tmp_path / "a.pdf"))
    assert [p for p in files.rglob("*") if p.is_file()], "the attached file is stored in the files folder"
    os.environ.pop("EIGHTSTEP_ACTOR")  # conftest sets it; the settings file's actor applies without it
    try:
        run(runner, "case", "suspend", "JX-5-1", "--reason", "调解")
    finally:
        os.environ["EIGHTSTEP_ACTOR"] = "tester"
    history = json.loads(run(runner, "case", "history", "JX-5-1", "--json").stdout)
    assert [e["actor"] for e in history] == ["tester", "tester", "李敏"]


def test_options_and_environment_win(runner: CliRunner, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    run(runner, "settings", "set", "db", str(tmp_path / "from-settings.db"))
    run(runner, "--db", str(tmp_path / "from-option.db"), "init")
    monkeypatch.setenv("EIGHTSTEP_DB", str(tmp_path / "from-env.db"))
    run(runner, "init")
    assert sorted(p.name for p in tmp_path.glob("*.db")) == ["from-env.db", "from-option.db"]
    assert "(overridden by $EIGHTSTEP_DB)" in run(runner, "settings", "show").stdout


def test_a_broken_settings_file_names_file_and_line(runner: CliRunner) -> None:
    path = settings_path()
    path.parent.mkdir(parents=True)
    path.write_text('actor = "李敏"\ndb = D:\\加梯\n', encoding="utf-8")
    err = run(runner, "case", "list", code=1).stderr
    assert err.startswith(f"Error: settings file {path}: ") and "line 2" in err
    path.write_text('colour = "red"\n', encoding="utf-8")
    err = run(runner, "case", "list", code=1).stderr
    assert "unknown setting 'colour'" in err
    assert "Traceback" not in err


def test_bad_values_are_refused(runner: CliRunner) -> None:
    assert "not a language" in run(runner, "settings", "set", "lang", "klingon", code=1).stderr
    assert "'colour' is not one of 'db', 'files', 'actor', 'lang'" in run(
        runner, "settings", "set", "colour", "red", code=2).stderr
    assert not settings_path().exists()


def test_the_file_is_written_whole_in_utf8(runner: CliRunner) -> None:
    run(runner, "settings", "set", "actor", 'Wang "Jianguo" 王建国\\')
    text = settings_path().read_text(encoding="utf-8")
    assert text.splitlines()[1] == 'actor = "Wang \\"Jianguo\\" 王建国\\\\"'
    assert load()["actor"] == 'Wang "Jianguo" 王建国\\'
