"""Fuzzing: no command, workflow file or import ends in a Python traceback, whatever it is given.

Every command of the CLI gets random arguments and options (dates at the ends of the calendar, huge numbers,
control characters, formulas, full-width digits, ...) on a real database holding a case; workflow files are
the shipped one with values replaced; imports are generated CSV files. A traceback fails the test; a message
with exit 1 or 2 (or 3, 4) is what bad input must give.

Bounded in time: a fixed number of examples per target, derandomised (the same examples on every run, so CI
is stable); set EIGHTSTEP_FUZZ_EXAMPLES to explore further by hand.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import traceback
from collections.abc import Iterator
from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from eightstep.cli import main
from eightstep.errors import EightstepError
from eightstep.resources import builtin_dir
from eightstep.workflow.loader import parse_workflow_text
from tests.conftest import write_households

CASE = "FZ-1-1"
EXAMPLES = int(os.environ.get("EIGHTSTEP_FUZZ_EXAMPLES", "25"))
FUZZ = settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])
SKIP = {("demo",), ("init",)}  # demo builds a whole complex (test_demo); init takes one switch (test_postgres)

NASTY = [
    "", " ", "0", "-1", "1", "2", "3", "201", "２０１", "201室", "0201", "99999999999999999999999", "9" * 5000,
    "1e999", ".nan", "-.inf", "NaN", "0001-01-01", "0001-01-01 03:00", "9999-12-31", "9999-12-31 23:59",
    "1948-12-31", "2025-02-30", "2025-03-01", "2025-03-01 14:30", "2025-03-01T14:30+08:00", "24:00", "\n", "\t",
    "\x00", "a\nb", "=1+2+cmd|' /C calc'!A0", "@SUM(A1)", "+86-27-8765-4321", "(027)87654321", "../../etc/passwd",
    "foo://bar", "%s%s%s", "{{ 7*7 }}", "'; DROP TABLE cases; --", "\u202e", "\ufeff", "٣", "x" * 2000, CASE,
    "agree", "oppose", "同意", "application", "consent", "officer", "negotiation", "tally", "html", "pdf",
    "wuhan", "RD-3-2", "人大小区",
]
VALUE = st.one_of(st.sampled_from(NASTY), st.text(max_size=30), st.integers(min_value=-(2**70), max_value=2**70)
                  .map(str))


def commands(group: click.Group = main, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...],
                                                                                       click.Command]]:
    ctx = click.Context(group)
    for name in sorted(group.list_commands(ctx)):  # a lazy group loads each command here
        command = group.get_command(ctx, name)
        assert command is not None, name
        if isinstance(command, click.Group):
            yield from commands(command, (*path, name))
        elif (*path, name) not in SKIP:
            yield (*path, name), command


COMMANDS = dict(commands())
assert len(COMMANDS) > 40, sorted(COMMANDS)  # every command, not an empty list that would test nothing


@st.composite
def arguments(draw: st.DrawFn, command: click.Command) -> list[str]:
    """Positional arguments (the case id often, so that the command gets past the lookup) and some options."""
    argv: list[str] = []
    options: list[str] = []
    for param in command.params:
        if isinstance(param, click.Argument):
            count = 1 if param.nargs == 1 else draw(st.integers(1, 3))
            for i in range(count):
                first = param.name in ("case_id",) and i == 0
                argv.append(CASE if first and draw(st.booleans()) else draw(VALUE))
        elif isinstance(param, click.Option) and not param.hidden and draw(st.integers(0, 3)) == 0:
            flag = max(param.opts, key=len)
            if flag in ("--help",) or flag == "--force":
                continue
            if param.is_flag:
                options.append(flag)
            else:
                options += [flag, draw(VALUE)]
    return argv + options


@pytest.fixture(scope="module")
def fuzz_db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A database with one case: households, a ballot, a document, an objection, funding."""
    folder = tmp_path_factory.mktemp("fuzz")
    db = folder / "eightstep.db"
    runner = CliRunner()
    write_households(folder / "h.csv")
    (folder / "doc.pdf").write_bytes(b"%PDF-1.4 fuzz")
    for argv in (["init"],
                 ["case", "open", CASE, "--complex", "模糊小区", "--building", "1", "--unit", "1",
                  "--at", "2025-03-01"],
                 ["household", "import", CASE, str(folder / "h.csv"), "--at", "2025-03-02"],
                 ["vote", "cast", CASE, "201", "agree", "--at", "2025-03-03"],
                 ["doc", "add", CASE, "application", str(folder / "doc.pdf"), "--at", "2025-03-03"],
                 ["objection", "add", CASE, "--room", "202", "--grounds", "采光", "--at", "2025-03-04"],
                 ["funding", "set", CASE, "--total", "450000", "--subsidy", "200000"]):
        result = runner.invoke(main, ["--db", str(db), *argv], catch_exceptions=False)
        assert result.exit_code == 0, result.output
    return db


def no_traceback(argv: list[str], result: click.testing.Result) -> None:
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        pytest.fail(f"`eightstep {' '.join(map(repr, argv))}` raised:\n"
                    f"{''.join(traceback.format_exception(result.exception))}")
    assert result.exit_code in (0, 1, 2, 3, 4), (argv, result.exit_code, result.output)


@pytest.mark.parametrize("path", list(COMMANDS), ids=" ".join)
def test_every_command_with_any_arguments(path: tuple[str, ...], fuzz_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "eightstep.db"
    shutil.copyfile(fuzz_db, db)
    if (fuzz_db.parent / "eightstep.db.files").exists():
        shutil.copytree(fuzz_db.parent / "eightstep.db.files", tmp_path / "eightstep.db.files")
    runner = CliRunner()

    @FUZZ
    @given(args=arguments(COMMANDS[path]))
    def check(args: list[str]) -> None:
        argv = ["--db", str(db), *path, *args]
        no_traceback(argv, runner.invoke(main, argv, prog_name="eightstep"))

    check()


@FUZZ
@given(db=VALUE)
def test_any_db_value(db: str) -> None:
    argv = ["--db", db, "case", "list"]
    no_traceback(argv, CliRunner().invoke(main, argv, prog_name="eightstep"))


# --- workflow files ---------------------------------------------------------------------------------------

SHIPPED = (builtin_dir("workflows") / "wuhan.yaml").read_text(encoding="utf-8")
SCALARS = [m for m in re.finditer(r"(?<=: )[^\s{}\[\],#][^,}\]\n#]*", SHIPPED)]
YAML_VALUES = st.one_of(st.sampled_from([".nan", ".inf", "-.inf", "1e999", "-1", "0", "1/0", "2/3", "~", "[]", "{}",
                                         "'x'", "&a x", "*a", "!!python/object:os.system", "0x10", "010",
                                         "yes", "no", "9" * 400, "[" * 3000 + "]" * 3000, "2025-02-30"]),
                        st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=12))


@FUZZ
@given(changes=st.lists(st.tuples(st.integers(0, len(SCALARS) - 1), YAML_VALUES), min_size=1, max_size=4))
def test_any_workflow_file(changes: list[tuple[int, str]]) -> None:
    text = SHIPPED
    for index, value in sorted(changes, key=lambda c: -SCALARS[c[0]].start()):
        m = SCALARS[index]
        text = text[:m.start()] + value + text[m.end():]
    with contextlib.suppress(EightstepError):  # a message is fine; anything else fails
        parse_workflow_text(text, "fuzz.yaml")


def test_a_workflow_nested_thousands_deep() -> None:
    with pytest.raises(EightstepError, match="nested too deeply"):
        parse_workflow_text("id: deep\nstages: " + "[" * 5000 + "]" * 5000, "deep.yaml")


# --- imports ----------------------------------------------------------------------------------------------

CELLS = st.one_of(VALUE, st.sampled_from(["80.00", "3", "张三", "13800138000", "=cmd", "agree"]))
HEADERS = st.sampled_from(["room,floor,area,owner,owner_key,phone", "房号,楼层,面积,业主", "room,choice,at",
                           "room;floor;area", "", "\ufeffroom,floor,area,owner"])


@pytest.mark.parametrize("kind", ["household", "vote"])
def test_any_import_file(kind: str, fuzz_db: Path, tmp_path: Path) -> None:
    db = tmp_path / "eightstep.db"
    shutil.copyfile(fuzz_db, db)
    runner = CliRunner()
    target = tmp_path / "in.csv"

    @FUZZ
    @given(header=HEADERS, rows=st.lists(st.lists(CELLS, max_size=7), max_size=6),
           encoding=st.sampled_from(["utf-8", "gb18030", "utf-16", "latin-1"]))
    def check(header: str, rows: list[list[str]], encoding: str) -> None:
        text = "\n".join([header, *(",".join(r) for r in rows)])
        target.write_bytes(text.encode(encoding, errors="replace"))
        argv = ["--db", str(db), kind, "import", CASE, str(target)]
        no_traceback(argv, runner.invoke(main, argv, prog_name="eightstep"))

    check()
