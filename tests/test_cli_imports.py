"""Importing owner lists and ballots through the CLI, from the files officers really have.

UTF-8 CSV with and without a byte-order mark, GB18030 CSV with Chinese headers (Excel on Chinese Windows),
and real .xlsx workbooks. A bad row names its line and field, and nothing from that file is written.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from openpyxl import Workbook

from tests.conftest import write_households
from tests.helpers.cli import run, run_json

CASE = "RD-3-2"
CN_HEADER = "房号,楼层,面积,业主,业主编号,电话"


def households(runner: CliRunner, db: Path) -> list[dict[str, Any]]:
    return run_json(runner, db, "household", "list", CASE, "--json")


def by_room(rows: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {r["room"]: r for r in rows}


def tally(runner: CliRunner, db: Path, *extra: str) -> dict[str, Any]:
    return run_json(runner, db, "vote", "tally", CASE, "--json", *extra)


def event_count(runner: CliRunner, db: Path) -> int:
    return len(run_json(runner, db, "case", "history", CASE, "--json"))


def write_lines(path: Path, lines: list[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    sheet = wb.active
    for row in rows:
        sheet.append(row)
    wb.save(path)
    return path


@pytest.fixture
def db(runner: CliRunner, tmp_path: Path, from_template: Callable[[Path | str], Path]) -> Path:
    path = from_template(tmp_path / "imports.db")
    run(runner, path, "init")
    run(runner, path, "case", "open", CASE, "--complex", "人大小区", "--building", "3", "--unit", "2",
        "--at", "2025-03-01")
    return path


# --------------------------------------------------------------------------- #
# households: encodings and formats
# --------------------------------------------------------------------------- #


def test_household_import_utf8_csv(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = write_households(tmp_path / "owners.csv")
    out = run(runner, db, "household", "import", CASE, path).stdout
    assert "12 households added" in out
    assert "owners.csv" in out
    rows = households(runner, db)
    assert len(rows) == 12
    assert {r["room"] for r in rows} == {f"{f}0{k}" for f in range(2, 8) for k in (1, 2)}
    r = by_room(rows)["502"]
    assert (r["floor"], r["area"], r["owner"]) == (5, "80.00", "业主502")
    assert r["vote"] is None
    text = run(runner, db, "household", "list", CASE).stdout
    assert "业主502" in text


def test_household_import_utf8_bom_csv(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "owners-bom.csv", [
        "room,floor,area,owner,owner_key,phone",
        "101,1,86.5,张三,ZS,138-0013-8000",
        "102,1,70.25,李四,,",
    ], encoding="utf-8-sig")
    assert path.read_bytes().startswith(b"\xef\xbb\xbf")
    out = run(runner, db, "household", "import", CASE, path).stdout
    assert "2 households added" in out
    rows = by_room(households(runner, db))
    assert set(rows) == {"101", "102"}
    assert rows["101"]["area"] == "86.50"
    assert rows["101"]["owner"] == "张三"
    assert rows["101"]["owner_key"] == "ZS"
    assert rows["101"]["phone"] == "138-0013-8000"  # as entered
    assert rows["102"]["area"] == "70.25"
    assert rows["102"]["phone"] is None


def test_household_import_gb18030_csv_with_chinese_headers(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "业主名单.csv", [
        CN_HEADER,
        "101,1,86.50,欧阳娜娜,OY,13800138000",
        "102,1,92.3,司马懿,SM,",
        "201,2,86.50,𠮷野家,,",  # a character outside the BMP: GB18030 has it, GBK does not
    ], encoding="gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    out = run(runner, db, "household", "import", CASE, path).stdout
    assert "3 households added" in out
    rows = by_room(households(runner, db))
    assert rows["101"]["owner"] == "欧阳娜娜"
    assert rows["101"]["owner_key"] == "OY"
    assert rows["101"]["phone"] == "13800138000"
    assert rows["102"]["owner"] == "司马懿"
    assert rows["102"]["area"] == "92.30"
    assert rows["201"]["owner"] == "𠮷野家"
    assert rows["201"]["floor"] == 2


def test_household_import_xlsx(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "业主名单.xlsx", [
        ["房号", "楼层", "面积", "业主", "业主编号", "电话"],
        [101, 1, 86.5, "张三", "ZS", 13800138000],
        ["102", "1", "70.25", "李四", None, None],
        [201, 2, 90, "王五", "WW", "139 0000 0000"],
    ])
    out = run(runner, db, "household", "import", CASE, path).stdout
    assert "3 households added" in out
    rows = by_room(households(runner, db))
    assert set(rows) == {"101", "102", "201"}
    assert rows["101"]["area"] == "86.50"
    assert rows["101"]["floor"] == 1
    assert rows["101"]["phone"] == "13800138000"
    assert rows["102"]["area"] == "70.25"
    assert rows["201"]["area"] == "90.00"
    assert rows["201"]["owner_key"] == "WW"


def test_household_import_english_headers_xlsx(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "owners.xlsx", [
        ["room", "floor", "area", "owner"],
        ["301", 3, 75.5, "Chen"],
    ])
    run(runner, db, "household", "import", CASE, path)
    assert households(runner, db)[0]["area"] == "75.50"


# --------------------------------------------------------------------------- #
# households: bad files write nothing
# --------------------------------------------------------------------------- #


def test_household_import_bad_rows_name_line_and_field_and_write_nothing(runner: CliRunner, db: Path,
                                                                         tmp_path: Path) -> None:
    path = write_lines(tmp_path / "owners.csv", [
        "room,floor,area,owner",
        "201,2,80.00,业主201",
        "202,2,八十,业主202",   # line 3: bad area
        "301,3,80.00,业主301",
        "302,3,80.00,",          # line 5: empty owner
        "401,4,80.00,业主401",
    ])
    before = event_count(runner, db)
    result = run(runner, db, "household", "import", CASE, path, code=1)
    err = result.stderr
    assert f"{path.name}:3" in err
    assert f"{path.name}:5" in err
    line3 = next(line for line in err.splitlines() if f"{path.name}:3" in line)
    line5 = next(line for line in err.splitlines() if f"{path.name}:5" in line)
    assert "area" in line3
    assert "八十" in line3
    assert "owner" in line5
    assert "empty" in line5
    assert households(runner, db) == []
    assert event_count(runner, db) == before


def test_household_import_bad_xlsx_row_names_row_and_writes_nothing(runner: CliRunner, db: Path,
                                                                    tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "owners.xlsx", [
        ["房号", "楼层", "面积", "业主"],
        [101, 1, 86.5, "张三"],
        [102, "一楼", 70, "李四"],
    ])
    result = run(runner, db, "household", "import", CASE, path, code=1)
    assert f"{path.name}:3" in result.stderr
    assert "floor" in result.stderr
    assert households(runner, db) == []


def test_household_import_duplicate_room_in_file(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "owners.csv", [
        "room,floor,area,owner", "201,2,80,甲", "202,2,80,乙", "201,2,80,丙",
    ])
    result = run(runner, db, "household", "import", CASE, path, code=1)
    assert f"{path.name}:4" in result.stderr
    assert "201" in result.stderr
    assert households(runner, db) == []


def test_household_import_missing_column(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "owners.csv", ["room,floor,owner", "201,2,甲"])
    result = run(runner, db, "household", "import", CASE, path, code=1)
    assert "area" in result.stderr
    assert households(runner, db) == []


def test_household_import_header_only(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "owners.csv", ["room,floor,area,owner"])
    result = run(runner, db, "household", "import", CASE, path, code=1)
    assert "owners.csv" in result.stderr
    assert households(runner, db) == []


def test_household_import_same_rooms_twice_needs_replace(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    first = write_lines(tmp_path / "first.csv", ["room,floor,area,owner", "201,2,80.00,甲", "202,2,80.00,乙"])
    run(runner, db, "household", "import", CASE, first)
    run(runner, db, "vote", "cast", CASE, "201", "agree", "--at", "2025-03-02")
    n = event_count(runner, db)

    second = write_lines(tmp_path / "second.csv", ["room,floor,area,owner",
                                                   "201,2,81.25,甲（更正）", "301,3,80.00,丙"])
    refused = run(runner, db, "household", "import", CASE, second, code=1)
    assert "201" in refused.stderr
    assert "--replace" in refused.stderr
    assert f"{second.name}:2" in refused.stderr
    rows = by_room(households(runner, db))
    assert set(rows) == {"201", "202"}, "nothing of the refused file may be written (not even room 301)"
    assert rows["201"]["area"] == "80.00"
    assert event_count(runner, db) == n

    out = run(runner, db, "household", "import", CASE, second, "--replace").stdout
    assert "1 households added" in out
    assert "1 updated" in out
    rows = by_room(households(runner, db))
    assert set(rows) == {"201", "202", "301"}
    assert rows["201"]["area"] == "81.25"
    assert rows["201"]["owner"] == "甲（更正）"
    assert rows["201"]["vote"] == "agree", "the ballot of an updated household stays"
    assert rows["202"]["area"] == "80.00"


# --------------------------------------------------------------------------- #
# owners of several flats
# --------------------------------------------------------------------------- #


def test_same_owner_key_counts_once_but_both_areas_count(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "owners.csv", [
        "room,floor,area,owner,owner_key",
        "201,2,80.00,张三,ZS-001",
        "202,2,60.00,张三,ZS-001",
        "301,3,80.00,李四,",
        "302,3,80.00,王五,",
    ])
    run(runner, db, "household", "import", CASE, path)
    t = tally(runner, db)
    assert t["households"] == 4
    assert t["owners"] == 3
    assert t["area_total"] == "300.00"

    run(runner, db, "vote", "cast", CASE, "201", "agree", "--at", "2025-03-02")
    run(runner, db, "vote", "cast", CASE, "202", "agree", "--at", "2025-03-02")
    run(runner, db, "vote", "cast", CASE, "301", "oppose", "--at", "2025-03-02")
    t = tally(runner, db)
    assert t["agree"] == 1, "one owner of two flats agrees once"
    assert t["oppose"] == 1
    assert t["participants"] == 2
    assert t["area_agree"] == "140.00", "both flats' areas agree"
    assert t["area_participating"] == "220.00"
    text = run(runner, db, "vote", "tally", CASE).stdout
    assert "owners 3" in text


def test_shared_owner_name_without_key_warns(runner: CliRunner, db: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "owners.csv", [
        "room,floor,area,owner", "201,2,80,张三", "202,2,80,张三", "301,3,80,李四",
    ])
    result = run(runner, db, "household", "import", CASE, path)
    assert "owner_key" in result.stderr
    assert "201" in result.stderr
    assert tally(runner, db)["owners"] == 3


# --------------------------------------------------------------------------- #
# vote import
# --------------------------------------------------------------------------- #


@pytest.fixture
def twelve(runner: CliRunner, db: Path, tmp_path: Path) -> Path:
    run(runner, db, "household", "import", CASE, write_households(tmp_path / "owners.csv"), "--at", "2025-03-01")
    return db


def test_vote_import_chinese_choices_and_dates(runner: CliRunner, twelve: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "表决结果.csv", [
        "房号,表决意见,日期",
        "201,同意,2025-03-02",
        "202,同意,2025/3/2",
        "301,反对,2025-03-05",
        "302,弃权,2025-03-05",
        "401,同意,2025-03-05 10:30",
    ], encoding="gb18030")
    before = event_count(runner, twelve)
    out = run(runner, twelve, "vote", "import", CASE, path).stdout
    assert "5 ballots" in out
    assert event_count(runner, twelve) == before + 1
    votes = {r["room"]: r["vote"] for r in households(runner, twelve)}
    assert votes["201"] == votes["202"] == votes["401"] == "agree"
    assert votes["301"] == "oppose"
    assert votes["302"] == "abstain"
    assert votes["501"] is None

    t = tally(runner, twelve)
    assert (t["agree"], t["oppose"], t["abstain"], t["participants"]) == (3, 1, 1, 5)
    # the dates were kept: as of 3 March only the two ballots of 2 March count
    early = tally(runner, twelve, "--at", "2025-03-03")
    assert (early["agree"], early["oppose"], early["abstain"]) == (2, 0, 0)
    last = run_json(runner, twelve, "case", "history", CASE, "--json")[-1]
    assert last["action"] == "vote.import"
    assert last["at"] == "2025-03-05T10:30:00+08:00"


def test_vote_import_english_header_and_at_default(runner: CliRunner, twelve: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "votes.csv", ["room,choice", "201,agree", "202,oppose", "301,abstain"])
    run(runner, twelve, "vote", "import", CASE, path, "--at", "2025-03-04")
    assert tally(runner, twelve, "--at", "2025-03-03")["participants"] == 0
    assert tally(runner, twelve, "--at", "2025-03-04")["participants"] == 3


def test_vote_import_xlsx_with_date_cells(runner: CliRunner, twelve: Path, tmp_path: Path) -> None:
    path = write_xlsx(tmp_path / "表决.xlsx", [
        ["房号", "表决意见", "日期"],
        [201, "同意", datetime(2025, 3, 2)],
        [202, "反对", datetime(2025, 3, 6)],
    ])
    run(runner, twelve, "vote", "import", CASE, path)
    assert tally(runner, twelve, "--at", "2025-03-03")["agree"] == 1
    assert tally(runner, twelve, "--at", "2025-03-03")["oppose"] == 0
    assert tally(runner, twelve)["oppose"] == 1


def test_vote_import_replaces_earlier_ballot(runner: CliRunner, twelve: Path, tmp_path: Path) -> None:
    run(runner, twelve, "vote", "cast", CASE, "201", "oppose", "--at", "2025-03-02")
    path = write_lines(tmp_path / "votes.csv", ["room,choice,at", "201,同意,2025-03-03"])
    run(runner, twelve, "vote", "import", CASE, path)
    assert by_room(households(runner, twelve))["201"]["vote"] == "agree"
    assert tally(runner, twelve)["agree"] == 1


def test_vote_import_unknown_room_writes_no_ballot(runner: CliRunner, twelve: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "votes.csv", ["room,choice,at", "201,同意,2025-03-02", "999,同意,2025-03-02",
                                                "202,反对,2025-03-02"])
    before = event_count(runner, twelve)
    result = run(runner, twelve, "vote", "import", CASE, path, code=1)
    assert f"{path.name}:3" in result.stderr
    assert "999" in result.stderr
    assert "room" in result.stderr
    assert all(r["vote"] is None for r in households(runner, twelve))
    assert tally(runner, twelve)["participants"] == 0
    assert event_count(runner, twelve) == before


@pytest.mark.parametrize(("row", "field", "value"), [
    ("201,也许,2025-03-02", "choice", "也许"),
    ("201,同意,2025-13-02", "at", "2025-13-02"),
    ("201,同意,2099-01-01", "at", "future"),
    ("201,,2025-03-02", "choice", "empty"),
])
def test_vote_import_bad_row_names_line_and_field(runner: CliRunner, twelve: Path, tmp_path: Path, row: str,
                                                  field: str, value: str) -> None:
    path = write_lines(tmp_path / "votes.csv", ["room,choice,at", "202,同意,2025-03-02", row])
    result = run(runner, twelve, "vote", "import", CASE, path, code=1)
    line = next((x for x in result.stderr.splitlines() if f"{path.name}:3" in x), "")
    assert field in line, result.stderr
    assert value in line, result.stderr
    assert all(r["vote"] is None for r in households(runner, twelve))


def test_vote_import_duplicate_room(runner: CliRunner, twelve: Path, tmp_path: Path) -> None:
    path = write_lines(tmp_path / "votes.csv", ["room,choice", "201,同意", "201,反对"])
    result = run(runner, twelve, "vote", "import", CASE, path, code=1)
    assert f"{path.name}:3" in result.stderr
    assert all(r["vote"] is None for r in households(runner, twelve))


def test_vote_cast_unknown_room(runner: CliRunner, twelve: Path) -> None:
    result = run(runner, twelve, "vote", "cast", CASE, "999", "agree", code=1)
    assert "999" in result.stderr
    assert tally(runner, twelve)["participants"] == 0


def test_vote_cast_prints_the_previous_choice(runner: CliRunner, twelve: Path) -> None:
    run(runner, twelve, "vote", "cast", CASE, "201", "oppose", "--at", "2025-03-02")
    out = run(runner, twelve, "vote", "cast", CASE, "201", "agree", "--at", "2025-03-03").stdout
    assert "agree" in out
    assert "was oppose" in out
    t = tally(runner, twelve)
    assert (t["agree"], t["oppose"]) == (1, 0)
    casts = [e for e in run_json(runner, twelve, "case", "history", CASE, "--json") if e["action"] == "vote.cast"]
    assert len(casts) == 2, "both ballots stay in the history"


def test_vote_tally_json_has_the_contract_keys(runner: CliRunner, twelve: Path) -> None:
    t = tally(runner, twelve)
    assert {"households", "participants", "agree", "oppose", "abstain", "area_total", "area_participating",
            "area_agree", "participation_met", "agreement_met", "passed", "rule"} <= set(t)
    assert t["households"] == 12
    assert t["area_total"] == "960.00"
    assert t["passed"] is False
