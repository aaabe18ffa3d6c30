"""No command destroys data with an output path: never over the database, its journals or its files store; never
over an existing file without --force; staged and renamed; a failure removes only what the command created."""

from __future__ import annotations

import hashlib
import os
import shutil
import sqlite3
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep.cli import main
from eightstep.errors import ConflictError, InputError
from eightstep.paperwork.render import Paperwork
from eightstep.store.outputs import OutputExistsError, Outputs, protected_paths
from eightstep.store.workspace import Workspace
from tests.conftest import ENV_VARS, invoke, write_households

CASE = "OP-1-1"


run = invoke


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def made_case(tmp_path_factory: pytest.TempPathFactory, sqlite_template: Path) -> Path:
    """The module's folder with a case with households, a ballot each, a scheme and a stored document (so the
    files store exists), made through the CLI once in the tests' own environment; ``case`` copies it."""
    folder = tmp_path_factory.mktemp("case")
    runner = CliRunner()
    with pytest.MonkeyPatch.context() as env:
        for name in ENV_VARS:
            env.delenv(name, raising=False)
        env.setenv("EIGHTSTEP_ACTOR", "tester")
        env.setenv("EIGHTSTEP_LANG", "en")
        env.setenv("EIGHTSTEP_SETTINGS", str(folder / "settings" / "settings.toml"))
        env.chdir(folder)
        write_households(folder / "h.csv")
        (folder / "app.pdf").write_bytes(b"%PDF-1.4 application")
        shutil.copyfile(sqlite_template, folder / "eightstep.db")
        run(runner, "init")
        run(runner, "case", "open", CASE, "--complex", "安全小区", "--building", "1", "--unit", "1",
            "--at", "2025-03-03")
        run(runner, "household", "import", CASE, "h.csv", "--at", "2025-03-04")
        run(runner, "vote", "cast", CASE, "201", "agree", "--at", "2025-03-05")
        run(runner, "doc", "add", CASE, "application", "app.pdf", "--at", "2025-03-05")
        run(runner, "scheme", "add", CASE, "--company", "梯安", "--price", "480000", "--at", "2025-03-05")
        run(runner, "funding", "set", CASE, "--total", "480000", "--at", "2025-03-05")  # the ballot states the budget
    shutil.rmtree(folder / "settings", ignore_errors=True)
    return folder


@pytest.fixture
def case(runner: CliRunner, tmp_path: Path, made_case: Path) -> CliRunner:
    """That case in this test's working folder (a copy of the module's: the database, its files store, the
    imported files)."""
    shutil.copytree(made_case, tmp_path, dirs_exist_ok=True)
    return runner


def intact(runner: CliRunner) -> None:
    """The database still opens and the case is still there."""
    assert f"case: {CASE}" in run(runner, "case", "show", CASE).output
    assert sqlite3.connect("eightstep.db").execute("PRAGMA integrity_check").fetchone() == ("ok",)


def store_file() -> Path:
    return next(p for p in Path("eightstep.db.files").rglob("*") if p.is_file())


# Every command that writes a file, with the place of its output in the arguments.
WRITERS = {
    "forms render": ("forms", "render", CASE, "tally", "-o", "{}"),
    "forms render (several)": ("forms", "render", CASE, "tally", "ballots", "-o", "{}"),
    "forms pack": ("forms", "pack", CASE, "--format", "html", "-o", "{}"),
    "report --html": ("report", "--html", "{}"),
    "scheme compare --html": ("scheme", "compare", CASE, "--html", "{}"),
    "report --xlsx": ("report", "--xlsx", "{}"),
    "audit stalled --xlsx": ("audit", "stalled", "--xlsx", "{}"),
    "case list --xlsx": ("case", "list", "--xlsx", "{}"),
    "household list --xlsx": ("household", "list", CASE, "--xlsx", "{}"),
    "vote tally --xlsx": ("vote", "tally", CASE, "--xlsx", "{}"),
    "calendar -o": ("calendar", "-o", "{}"),
}


def args(command: str, path: str) -> list[str]:
    return [a.format(path) if a == "{}" else a for a in WRITERS[command]]


@pytest.mark.parametrize("command", list(WRITERS))
@pytest.mark.parametrize("target", ["eightstep.db", "eightstep.db-wal", "eightstep.db-shm", "eightstep.db.files",
                                    "STORED", "eightstep.db.files/ab"])
def test_never_over_the_database_or_its_files(case: CliRunner, command: str, target: str) -> None:
    if target == "STORED":
        target = str(store_file())
    before = {p: digest(p) for p in (Path("eightstep.db"), store_file())}
    result = case.invoke(main, args(command, target), catch_exceptions=False)
    if result.exit_code == 2:  # a file where a folder is asked for, or the reverse: refused as a usage error
        assert "is a file" in result.output or "is a folder" in result.output or "is a directory" in result.output
    else:
        assert result.exit_code == 1, result.output
        assert "refusing to write" in result.output
        assert "eightstep's database" in result.output or "inside eightstep's files store" in result.output
    assert {p: digest(p) for p in before} == before
    intact(case)


@pytest.mark.parametrize("command", list(WRITERS))
def test_never_through_a_link_to_the_database(case: CliRunner, command: str) -> None:
    os.symlink("eightstep.db", "soft.html")
    os.link("eightstep.db", "hard.html")
    for link in ("soft.html", "hard.html"):
        if command in ("forms render (several)", "forms pack"):
            continue  # these name a folder
        result = run(case, *args(command, link), "--force", code=1)
        assert "is eightstep's database" in result.output
    os.symlink("eightstep.db.files", "store-link")
    result = run(case, *args(command, "store-link/x.html" if "several" not in command and "pack" not in command
                             else "store-link/papers"), "--force", code=1)
    assert "inside eightstep's files store" in result.output
    intact(case)


def test_the_database_named_by_the_environment_is_protected_too(case: CliRunner, tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    Path("elsewhere").mkdir()
    os.replace("eightstep.db", "elsewhere/my.db")
    monkeypatch.setenv("EIGHTSTEP_DB", str(tmp_path / "elsewhere" / "my.db"))
    monkeypatch.setenv("EIGHTSTEP_FILES", str(tmp_path / "eightstep.db.files"))
    result = run(case, "report", "--html", "elsewhere/my.db", code=1)
    assert "refusing to write elsewhere/my.db: elsewhere/my.db is eightstep's database" in result.output
    result = run(case, "report", "--html", str(store_file()), "--force", code=1)
    assert "inside eightstep's files store" in result.output


@pytest.mark.parametrize("command", ["forms render", "report --html", "scheme compare --html", "report --xlsx",
                                     "household list --xlsx", "calendar -o"])
def test_an_existing_file_needs_force(case: CliRunner, command: str) -> None:
    Path("mine.html").write_text("my own notes", encoding="utf-8")
    history = run(case, "case", "history", CASE, "--json").output
    result = run(case, *args(command, "mine.html"), code=1)
    assert result.output.endswith("Error: mine.html already exists: add --force to replace it\n")
    assert Path("mine.html").read_text(encoding="utf-8") == "my own notes"
    assert run(case, "case", "history", CASE, "--json").output == history  # nothing recorded either
    run(case, *args(command, "mine.html"), "--force")
    written = Path("mine.html").read_bytes()
    assert written.startswith({"--xlsx": b"PK\x03\x04", "-o": b"BEGIN:VCALENDAR"}.get(command.split()[-1],
                                                                                       b"<!DOCTYPE html>"))
    assert not list(Path(".").glob(".mine.html.*"))  # no temporary file left


def test_default_file_names_are_not_overwritten_either(case: CliRunner) -> None:
    run(case, "forms", "render", CASE, "tally")
    first = digest(Path(f"{CASE}-tally.html"))
    result = run(case, "forms", "render", CASE, "tally", code=1)
    assert f"{CASE}-tally.html already exists: add --force to replace it" in result.output
    assert digest(Path(f"{CASE}-tally.html")) == first
    run(case, "forms", "render", CASE, "tally", "--force")


@pytest.mark.parametrize("command", ["forms render (several)", "forms pack"])
def test_a_folder_output_keeps_files_it_did_not_write(case: CliRunner, command: str) -> None:
    Path("papers").mkdir()
    name = "manifest.json" if command == "forms pack" else f"{CASE}-tally.html"
    Path("papers", name).write_text("keep me", encoding="utf-8")
    Path("papers", "other.txt").write_text("mine", encoding="utf-8")
    result = run(case, *args(command, "papers"), code=1)
    assert f"{Path('papers', name)} already exists: add --force to replace it" in result.output
    assert sorted(p.name for p in Path("papers").iterdir()) == sorted([name, "other.txt"])  # nothing else written
    assert Path("papers", name).read_text(encoding="utf-8") == "keep me"
    run(case, *args(command, "papers"), "--force")
    assert Path("papers", name).read_text(encoding="utf-8") != "keep me"
    assert Path("papers", "other.txt").read_text(encoding="utf-8") == "mine"


@pytest.mark.parametrize("command", list(WRITERS))
def test_a_missing_parent_folder_is_an_error(case: CliRunner, command: str) -> None:
    result = run(case, *args(command, "typo/sub/out"), code=1)
    assert f"no folder {Path('typo/sub')}" in result.output
    assert not Path("typo").exists()


@pytest.mark.parametrize("command", ["forms render (several)", "forms pack"])
def test_the_folder_option_creates_one_level(case: CliRunner, command: str) -> None:
    run(case, *args(command, "new-folder"))
    assert any(Path("new-folder").iterdir())


def test_demo_dir(runner: CliRunner, tmp_path: Path) -> None:
    run(runner, "init")
    result = run(runner, "demo", "--dir", "eightstep.db.files", code=1)
    assert "inside eightstep's files store" in result.output
    result = run(runner, "demo", "--dir", "eightstep.db", code=2)
    assert "'eightstep.db' is a file" in result.output
    result = run(runner, "demo", "--dir", "no/such/place", code=1)
    assert "no folder no/such to create place in (create it first)" in result.output
    assert not Path("no").exists()
    Path("empty").mkdir()
    run(runner, "demo", "--dir", "empty")
    assert (tmp_path / "empty" / "eightstep.db").is_file()


def test_a_failed_demo_removes_what_it_made(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from eightstep import demo

    def broken(_builder: object) -> None:
        raise InputError("broken on purpose")

    monkeypatch.setattr(demo, "tell", broken)
    with pytest.raises(InputError):
        demo.build_demo(tmp_path / "fresh")
    assert not (tmp_path / "fresh").exists()
    (tmp_path / "kept").mkdir()
    with pytest.raises(InputError):
        demo.build_demo(tmp_path / "kept")
    assert (tmp_path / "kept").is_dir() and not any((tmp_path / "kept").iterdir())


# --- the library side --------------------------------------------------------------------------------------

def test_a_failed_record_keeps_a_file_replaced_with_force(ws: Workspace, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The files are put in place only after the history recorded them: a failure leaves the old file as it was."""
    from eightstep import engine, records

    engine.open_case(ws, CASE, complex_name="安全小区", building="1", unit="1")
    records.import_households(ws, CASE, write_households(tmp_path / "h.csv"))
    records.cast_vote(ws, CASE, "201", "agree")
    paperwork = Paperwork(ws)
    target = tmp_path / "tally.html"
    target.write_text("the signed copy", encoding="utf-8")

    def conflict(*_args: object, **_kwargs: object) -> None:
        raise ConflictError("changed meanwhile")

    monkeypatch.setattr(paperwork, "_log", conflict)
    with pytest.raises(ConflictError), Outputs(ws.protected, force=True) as out:
        paperwork.render(CASE, "tally", output=target, outputs=out)
    assert target.read_text(encoding="utf-8") == "the signed copy"
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.startswith(".")) == []


def test_outputs_refuse_before_writing(tmp_path: Path) -> None:
    protected = protected_paths(tmp_path / "x.db", tmp_path / "store")
    (tmp_path / "old").write_text("old", encoding="utf-8")
    with pytest.raises(OutputExistsError), Outputs(protected) as out:
        out.add(tmp_path / "new", b"new")
        out.add(tmp_path / "old", b"replaced")
    assert not (tmp_path / "new").exists()  # the first was staged only, and removed with the failure
    with pytest.raises(InputError, match="written twice"), Outputs(protected, force=True) as out:
        out.add(tmp_path / "a", b"1")
        out.add(tmp_path / "a", b"2")
    for name in ("x.db", "x.db-wal", "x.db-shm", "x.db-journal", "store", "store/ab/cd"):
        with pytest.raises(InputError, match="refusing to write"), Outputs(protected, force=True) as out:
            out.add(tmp_path / name, b"x")
    with Outputs(protected) as out:
        out.add(tmp_path / "fine", b"ok")
    assert (tmp_path / "fine").read_bytes() == b"ok"
    assert oct((tmp_path / "fine").stat().st_mode & 0o777) != oct(0o600)  # an ordinary file, not mkstemp's


def test_a_file_appearing_meanwhile_is_not_replaced(tmp_path: Path) -> None:
    protected = protected_paths(None, None)
    with pytest.raises(OutputExistsError), Outputs(protected) as out:
        out.add(tmp_path / "late", b"ours")
        (tmp_path / "late").write_text("theirs", encoding="utf-8")
    assert (tmp_path / "late").read_text(encoding="utf-8") == "theirs"
    assert [p.name for p in tmp_path.iterdir()] == ["late"]
