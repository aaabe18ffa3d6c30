"""Reads without SQLAlchemy (``eightstep.store.plain``): every statement the read path runs through a
``PlainReader`` gives the same rows, the same column names and the same Python types as through SQLAlchemy, on
the demo; the read commands print the same with the plain path and without it (``EIGHTSTEP_CACHE_DIR=off``)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, select
from sqlalchemy.engine import make_url

from eightstep.cli import main
from eightstep.engine.bulk import CASE_COLUMNS
from eightstep.engine.views import VIEW_COLUMNS
from eightstep.store import plain, read
from eightstep.store.db import sqlite_path
from eightstep.store.migrations import HEAD
from eightstep.store.plain import PlainReader
from eightstep.store.pragmas import BUSY_TIMEOUT_MS
from eightstep.store.tables import cases, metadata
from eightstep.store.workspace import Workspace


@pytest.fixture
def both(demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Connection, PlainReader]]:
    """SQLAlchemy's connection and a plain reader (with a cache folder of its own) on the demo's database."""
    monkeypatch.setenv("EIGHTSTEP_CACHE_DIR", str(tmp_path / "cache"))
    path = sqlite_path(demo.url)
    assert path is not None
    reader = PlainReader(path, HEAD, demo._dialect, BUSY_TIMEOUT_MS / 1000)
    with demo.engine.connect() as conn:
        yield conn, reader
    reader.close()


def same_rows(through_sqlalchemy: list[Any], through_plain: list[Any]) -> None:
    assert through_sqlalchemy, "a comparison of no rows proves nothing"
    assert len(through_plain) == len(through_sqlalchemy)
    for a, b in zip(through_sqlalchemy, through_plain, strict=True):
        assert tuple(b._fields) == tuple(a._fields)
        assert tuple(b) == tuple(a)
        assert [type(v) for v in b] == [type(v) for v in a]


def test_case_rows_are_the_same_both_ways(both: tuple[Connection, PlainReader]) -> None:
    conn, reader = both
    ids = [r.id for r in conn.execute(select(cases.c.id))]
    for names, place in [(None, False), (VIEW_COLUMNS, True), (("id",), False)]:
        same_rows([read.case(conn, i, names, place=place) for i in ids],
                  [read.case(reader, i, names, place=place) for i in ids])
        same_rows(read.cases(conn, ids, names, place=place), read.cases(reader, ids, names, place=place))
    for bad in (read.case, lambda c, i: read.cases(c, [i])):
        with pytest.raises(Exception, match="no case 'NOPE'"):
            bad(reader, "NOPE")


def test_the_list_the_lookup_and_the_complexes_are_the_same_both_ways(both: tuple[Connection, PlainReader]) -> None:
    conn, reader = both
    query = "eightstep.engine.views:_list_query"
    for filters in [{}, {"complex": "人大小区"}, {"stage": "operation"}, {"complex": "人大小区", "stage": "operation"}]:
        for withdrawn in (True, False):
            args = ("sqlite", tuple(filters), withdrawn)
            same_rows(plain.fetch(conn, query, args, filters), plain.fetch(reader, query, args, filters))
    for match, typed in [("exact", "RD-3-2"), ("lower", "rd-3-2"), ("all", None)]:
        params = {"typed": typed} if typed else {}
        same_rows(plain.fetch(conn, "eightstep.engine.lookup:_ids", (match,), params),
                  plain.fetch(reader, "eightstep.engine.lookup:_ids", (match,), params))
    assert read.complex_id(reader, "人大小区") == read.complex_id(conn, "人大小区")
    assert read.complex_names(reader, [1, 2, 3]) == read.complex_names(conn, [1, 2, 3]) != {}
    same_rows(plain.fetch(conn, "eightstep.store.read:_snapshots", (False,)),
              plain.fetch(reader, "eightstep.store.read:_snapshots", (False,)))


def test_every_record_table_reads_the_same_both_ways(both: tuple[Connection, PlainReader]) -> None:
    """Texts, integers, times (aware UTC), dates and booleans: every table with a case id, voided rows or not."""
    conn, reader = both
    ids = [r.id for r in conn.execute(select(cases.c.id))]
    compared = 0
    for table in metadata.tables.values():
        if "case_id" not in table.c:
            continue
        for voided, grouped in ((False, False), (True, False), (False, True)):
            a = read.records(conn, table, ids, voided=voided, grouped=grouped)
            b = read.records(reader, table.name, ids, voided=voided, grouped=grouped)
            assert b.keys() == a.keys()
            for key in a:
                same_rows(a[key], b[key])
                compared += len(a[key])
    assert compared > 1000
    kinds = {"agreement", "no_such_kind"}
    same_rows([r for rows in read.records(conn, "documents", ids, kinds=kinds).values() for r in rows],
              [r for rows in read.records(reader, "documents", ids, kinds=kinds).values() for r in rows])
    assert read.records(reader, "documents", ids, kinds=()) == read.records(conn, "documents", ids, kinds=()) == {}


def test_a_column_sqlalchemy_converts_in_another_way_is_refused(both: tuple[Connection, PlainReader]) -> None:
    """A time not read through the read layer's columns would be a naive datetime: the plain path refuses it."""
    _conn, reader = both
    with pytest.raises(TypeError, match="opened_at"):
        plain.fetch(reader, "tests.test_plain_read:_raw_times", ())


def _raw_times() -> Any:
    return select(cases.c.id, cases.c.opened_at)


def test_the_compiled_statements_are_kept_and_a_damaged_cache_is_compiled_again(
        demo: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EIGHTSTEP_CACHE_DIR", str(tmp_path))
    path = sqlite_path(demo.url)
    assert path is not None

    def fresh() -> PlainReader:
        def no_compiling() -> Any:
            raise AssertionError("compiled again")
        return PlainReader(path, HEAD, no_compiling, 1.0)

    first = PlainReader(path, HEAD, demo._dialect, 1.0)
    expected = read.case(first, "RD-3-2")
    first.close()
    [kept] = tmp_path.glob("plainsql-*.pickle")
    second = fresh()  # the statement is read from the file: no dialect needed
    assert read.case(second, "RD-3-2") == expected
    second.close()
    kept.write_bytes(b"not a pickle")
    third = PlainReader(path, HEAD, demo._dialect, 1.0)
    assert read.case(third, "RD-3-2") == expected
    third.close()


@pytest.mark.parametrize("args", [
    ("case", "show", "RD-3-2", "--json"), ("case", "show", "rd-4-1", "--json"), ("case", "list", "--json"),
    ("case", "list", "--stage", "operation", "--complex", "人大小区", "--json"),
    ("case", "history", "RD-4-1", "--json"), ("vote", "tally", "RD-4-1", "--json"), ("vote", "tally", "QT-1-2"),
    ("case", "check", "RD-4-1", "--json"), ("case", "check", "QT-1-2", "--json"),
    ("case", "show", "RD-9-9"), ("case", "list", "--stage", "operatoin"),
], ids=" ".join)
def test_the_read_commands_say_the_same_with_and_without_sqlalchemy(
        demo_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, args: tuple[str, ...]) -> None:
    db = str(demo_dir / "eightstep.db")
    outputs = []
    for cache in (str(tmp_path / "cache"), str(tmp_path / "cache"), "off"):  # compiled, kept, SQLAlchemy's
        monkeypatch.setenv("EIGHTSTEP_CACHE_DIR", cache)
        result = CliRunner().invoke(main, ["--db", db, *args])
        outputs.append((result.exit_code, result.output))
    assert outputs[0] == outputs[1] == outputs[2]
    if "--json" in args:
        assert json.loads(outputs[0][1])


@pytest.mark.parametrize("path", ["/tmp/a b/x.db", "/tmp/中文/eightstep.db", "/tmp/a@b:c/x.db", "relative.db"])
def test_a_sqlite_file_is_found_in_its_url_as_sqlalchemy_finds_it(path: str) -> None:
    url = f"sqlite:///{path}"
    assert sqlite_path(url) == Path(make_url(url).database or "")
    for other in (f"sqlite:///{path}?mode=ro", "sqlite:////tmp/a%20b.db", "sqlite://", "sqlite:///:memory:"):
        database = make_url(other).database
        assert sqlite_path(other) == (Path(database) if database and database != ":memory:" else None)


def test_the_tally_counts_the_same_with_the_plain_copy_of_the_consent_rule(demo: Workspace) -> None:
    """`vote tally` counts under the ``Frozen`` copy of the rule kept in the workflow's outline (no pydantic): the
    same tally as under the validated rule, for every case of the demo and every built-in workflow's rule."""
    import pickle

    from eightstep.engine.ballots import voters
    from eightstep.engine.cases import load_records
    from eightstep.records.tallying import consent_rule
    from eightstep.rules.consent import tally

    with demo.engine.connect() as conn:
        ids = [r.id for r in conn.execute(select(cases.c.id))]
        loaded = [read.workflow(conn, demo.workflows, read.case(conn, i)) for i in ids]
        records = [load_records(conn, i) for i in ids]
    rules = {w.sha256: w for w in loaded}
    for builtin in demo.workflows.paths():
        rules.update((v.loaded.sha256, v.loaded) for v in demo.workflows.versions(builtin))
    compared = 0
    for wf in rules.values():
        if wf.outline.consent is None:
            continue
        stage, frozen = pickle.loads(pickle.dumps(wf.outline)).consent
        assert (stage, frozen.model_dump()) == (consent_rule(wf.definition)[0],
                                                consent_rule(wf.definition)[1].model_dump(mode="json"))
        for case_records in records:
            if case_records.households:
                counted = voters(case_records, None)
                assert tally(counted, frozen).as_dict() == tally(counted, consent_rule(wf.definition)[1]).as_dict()
                compared += 1
    assert compared > 10


def test_a_time_parameter_is_bound_as_sqlalchemy_binds_it(both: tuple[Connection, PlainReader]) -> None:
    """`engine.asof.states_at` (the case as it stood: the forms dated a past day, the audit's --as-of) through the
    plain reader: the time bound in SQLite's stored form, as SQLAlchemy's DATETIME binds it."""
    from datetime import UTC, date, datetime, timedelta, timezone

    from sqlalchemy import DateTime

    from eightstep.engine.asof import states_at

    conn, reader = both
    bind = DateTime(timezone=True).dialect_impl(conn.dialect).bind_processor(conn.dialect)
    assert bind is not None
    shanghai = timezone(timedelta(hours=8))
    values = [datetime(2025, 3, 1, 9, 30, tzinfo=UTC), datetime(2025, 3, 1, 9, 30, 5, 123, tzinfo=shanghai),
              datetime(2026, 1, 2), date(2025, 6, 1), None]
    assert [plain.write_stored(v) for v in values] == [bind(v) for v in values]
    ids = [r.id for r in conn.execute(select(cases.c.id))]
    compared = 0
    for end in values[:3]:
        assert isinstance(end, datetime)
        expected = states_at(conn, ids, end)
        assert states_at(reader, ids, end) == expected
        compared += len(expected)
    assert compared > 10


def test_the_driver_rows_of_cases_are_sqlalchemys(both: tuple[Connection, PlainReader]) -> None:
    """``read.sqlite_rows`` (the bulk advance's pages of cases): the same values, types and order as the Core
    select of the same columns (times aware UTC, the status reason null or text)."""
    conn, _ = both
    for names in (CASE_COLUMNS, tuple(cases.c.keys())):
        same_rows(list(conn.execute(read.case_query("sqlite", names).where(cases.c.id > "").order_by(cases.c.id))),
                  read.sqlite_rows(conn, cases, names, "WHERE id > ? ORDER BY id", [""]))
