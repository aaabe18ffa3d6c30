"""Tests for eightstep.records.tabular: strict reading of officer-supplied CSV/xlsx tables."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest
from openpyxl import Workbook

from eightstep.records.tabular import (
    Column,
    Problem,
    Row,
    TableError,
    parse_choice,
    parse_decimal,
    parse_int_range,
    parse_phone,
    parse_room,
    parse_text,
    read_table,
)
from eightstep.rules.rooms import room_warning

# --------------------------------------------------------------------------- #
# helpers
# --------------------------------------------------------------------------- #

VOTE = parse_choice(
    {"agree": "agree", "同意": "agree", "赞成": "agree", "disagree": "disagree", "反对": "disagree"}
)

COLUMNS = (
    Column("room", ("房号", "室号", "房间号"), parse_text),
    Column("owner", ("业主", "业主姓名", "姓名"), parse_text),
    Column("area", ("面积", "建筑面积"), parse_decimal()),
    Column("floor", ("楼层", "层"), parse_int_range(1, 33)),
    Column("phone", ("电话", "联系电话", "手机"), parse_phone, required=False),
    Column("vote", ("意见", "表决"), VOTE, required=False, default="undecided"),
)


def csv_text(rows: list[list[str]], delimiter: str = ",") -> str:
    buf = io.StringIO(newline="")
    csv.writer(buf, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buf.getvalue()


def write_csv(path: Path, rows: list[list[str]], encoding: str = "utf-8", delimiter: str = ",") -> Path:
    path.write_bytes(csv_text(rows, delimiter).encode(encoding))
    return path


def write_xlsx(path: Path, rows: list[list[object]]) -> Path:
    wb = Workbook()
    ws = wb.active
    for row in rows:
        ws.append(row)
    wb.save(path)
    return path


def problems_of(path: Path, columns: tuple[Column, ...] = COLUMNS) -> list[Problem]:
    with pytest.raises(TableError) as info:
        read_table(path, columns)
    return info.value.problems


# --------------------------------------------------------------------------- #
# formats and encodings
# --------------------------------------------------------------------------- #

CHINESE_HEADER = ["房号", "业主姓名", "面积（平方米）", "楼层(层)", "联系电话", "意见"]
CHINESE_ROWS = [
    ["101", "张三", "86.5", "1", "138-0013-8000", "同意"],
    ["102", "李四", "90", "1", "", "反对"],
    ["201", "王五", "86.50", "2", "+86 139 1234 5678", ""],
]
CHINESE_EXPECTED = [
    Row(
        2,
        {
            "room": "101",
            "owner": "张三",
            "area": Decimal("86.50"),
            "floor": 1,
            "phone": "138-0013-8000",
            "vote": "agree",
        },
    ),
    Row(
        3,
        {
            "room": "102",
            "owner": "李四",
            "area": Decimal("90.00"),
            "floor": 1,
            "phone": None,
            "vote": "disagree",
        },
    ),
    Row(
        4,
        {
            "room": "201",
            "owner": "王五",
            "area": Decimal("86.50"),
            "floor": 2,
            "phone": "+86 139 1234 5678",
            "vote": "undecided",
        },
    ),
]


def _utf16_tab(tmp: Path) -> Path:  # Excel "Unicode text": UTF-16 LE with BOM, tab-separated
    return write_csv(tmp / "owners.txt", [CHINESE_HEADER, *CHINESE_ROWS], "utf-16", "\t")


def _xlsx(tmp: Path) -> Path:
    return write_xlsx(tmp / "owners.xlsx", [CHINESE_HEADER, *CHINESE_ROWS])


FORMAT_WRITERS: dict[str, Callable[[Path], Path]] = {
    "csv-utf8": lambda tmp: write_csv(tmp / "owners.csv", [CHINESE_HEADER, *CHINESE_ROWS], "utf-8"),
    "csv-utf8-bom": lambda tmp: write_csv(tmp / "owners.csv", [CHINESE_HEADER, *CHINESE_ROWS], "utf-8-sig"),
    "csv-gb18030": lambda tmp: write_csv(tmp / "owners.csv", [CHINESE_HEADER, *CHINESE_ROWS], "gb18030"),
    "csv-gb18030-tab": lambda tmp: write_csv(
        tmp / "owners.csv", [CHINESE_HEADER, *CHINESE_ROWS], "gb18030", "\t"
    ),
    "csv-upper-suffix": lambda tmp: write_csv(tmp / "OWNERS.CSV", [CHINESE_HEADER, *CHINESE_ROWS]),
    "txt-utf16-tab": _utf16_tab,
    "xlsx": _xlsx,
}


@pytest.mark.parametrize("writer", FORMAT_WRITERS.values(), ids=FORMAT_WRITERS.keys())
def test_reads_chinese_headers_with_unit_suffixes_in_every_format(tmp_path: Path, writer) -> None:
    assert read_table(writer(tmp_path), COLUMNS) == CHINESE_EXPECTED


def test_gb18030_file_is_really_not_utf8(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "owners.csv", [CHINESE_HEADER, *CHINESE_ROWS], "gb18030")
    with pytest.raises(UnicodeDecodeError):
        path.read_bytes().decode("utf-8")
    assert read_table(path, COLUMNS)[0].values["owner"] == "张三"


def test_utf8_bom_is_not_part_of_first_header(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "owners.csv", [CHINESE_HEADER, *CHINESE_ROWS], "utf-8-sig")
    assert path.read_bytes()[:3] == b"\xef\xbb\xbf"
    assert [r.values["room"] for r in read_table(path, COLUMNS)] == ["101", "102", "201"]


def test_english_headers_any_case_with_units(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "owners.csv",
        [
            ["Room", "OWNER", "Area (m2)", " floor ", "Phone"],
            ["3-201", "Zhang San", "75.2", "2", "13800138000"],
        ],
    )
    assert read_table(path, COLUMNS) == [
        Row(
            2,
            {
                "room": "3-201",
                "owner": "Zhang San",
                "area": Decimal("75.20"),
                "floor": 2,
                "phone": "13800138000",
                "vote": "undecided",
            },
        ),
    ]


HEADER_SPELLINGS = {
    "cn-plain": "面积",
    "cn-alias": "建筑面积",
    "cn-halfwidth-unit": "面积(m²)",
    "cn-fullwidth-unit": "面积（平方米）",
    "cn-fullwidth-spaces": "\u3000面积\u3000",
    "cn-lenticular-unit": "面积【m²】",
    "cn-alias-with-unit": "建筑面积（㎡）",
    "en-unit": "area (m2)",
    "en-upper": "AREA",
    "en-fullwidth-letters": "ａｒｅａ",
    "en-square-bracket-unit": "Area [m2]",
}


@pytest.mark.parametrize("header", HEADER_SPELLINGS.values(), ids=HEADER_SPELLINGS.keys())
def test_header_spellings_match_area(tmp_path: Path, header: str) -> None:
    path = write_csv(tmp_path / "t.csv", [["房号", "业主", header, "楼层"], ["101", "张三", "86.5", "1"]])
    assert read_table(path, COLUMNS)[0].values["area"] == Decimal("86.50")


def test_header_padded_with_fullwidth_space_inside(tmp_path: Path) -> None:
    # Officers pad two-character headers to line up with three-character ones: "房　号", "姓　名".
    path = write_csv(tmp_path / "t.csv", [["房　号", "姓　名", "面积", "楼层"], ["101", "张三", "86.5", "1"]])
    assert read_table(path, COLUMNS)[0].values == {
        "room": "101",
        "owner": "张三",
        "area": Decimal("86.50"),
        "floor": 1,
        "phone": None,
        "vote": "undecided",
    }


# --------------------------------------------------------------------------- #
# row problems
# --------------------------------------------------------------------------- #


def test_bad_area_line_3_and_empty_owner_line_5_reported_together(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "owners.csv",
        [
            ["房号", "业主", "面积", "楼层"],
            ["101", "张三", "86.5", "1"],
            ["102", "李四", "12,5", "1"],  # quoted by the csv writer: one cell "12,5"
            ["201", "王五", "90", "2"],
            ["202", "", "91", "2"],
        ],
    )
    with pytest.raises(TableError) as info:
        read_table(path, COLUMNS)
    assert info.value.problems == [
        Problem(str(path), 3, "area", "'12,5' is not a number (use digits and a dot, e.g. 86.50)"),
        Problem(str(path), 5, "owner", "is empty"),
    ]
    assert str(info.value).splitlines() == [
        f"{path}:3: field 'area': '12,5' is not a number (use digits and a dot, e.g. 86.50)",
        f"{path}:5: field 'owner' is empty",
    ]
    assert isinstance(info.value, ValueError)


CELL_PROBLEMS = {
    "fullwidth-comma-decimal": (
        ["101", "张三", "12，5", "1"],
        Problem("", 2, "area", "'12，5' is not a number (use digits and a dot, e.g. 86.50)"),
    ),
    "thousands-separator": (
        ["101", "张三", "1,086.50", "1"],
        Problem("", 2, "area", "'1,086.50' is not a number (use digits and a dot, e.g. 86.50)"),
    ),
    "too-many-decimals": (
        ["101", "张三", "86.555", "1"],
        Problem("", 2, "area", "'86.555' has more than 2 decimal places (round it, e.g. 86.56)"),
    ),
    "floor-out-of-range": (
        ["101", "张三", "86.5", "34"],
        Problem("", 2, "floor", "'34' is out of range (use a whole number from 1 to 33)"),
    ),
    "floor-with-unit": (
        ["101", "张三", "86.5", "3楼"],
        Problem("", 2, "floor", "'3楼' is not a whole number (use digits only, e.g. 3)"),
    ),
    "unknown-vote": (
        ["101", "张三", "86.5", "1", "", "弃权"],
        Problem(
            "", 2, "vote", "'弃权' is not an accepted value (use one of: agree, 同意, 赞成, disagree, 反对)"
        ),
    ),
    "bad-phone": (
        ["101", "张三", "86.5", "1", "138-001", ""],
        Problem(
            "",
            2,
            "phone",
            "'138-001' is not a phone number (use 7 to 15 digits, optionally starting with +86, "
            "e.g. 13800138000 or 027-87654321)",
        ),
    ),
    "empty-required-room": (["", "张三", "86.5", "1"], Problem("", 2, "room", "is empty")),
    "whitespace-only-owner": (["101", "\u3000 ", "86.5", "1"], Problem("", 2, "owner", "is empty")),
}


@pytest.mark.parametrize(("row", "expected"), CELL_PROBLEMS.values(), ids=CELL_PROBLEMS.keys())
def test_cell_problem_names_line_and_field(tmp_path: Path, row: list[str], expected: Problem) -> None:
    header = ["房号", "业主", "面积", "楼层", "电话", "意见"][: len(row)]
    path = write_csv(tmp_path / "t.csv", [header, row])
    assert problems_of(path) == [Problem(str(path), expected.line, expected.field, expected.message)]


def test_unquoted_decimal_comma_shifting_cells_is_reported_for_the_line(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("房号,业主,面积,楼层,电话\n101,张三,86.5,1,\n102,李四,12,5,1,\n", encoding="utf-8")
    assert problems_of(path) == [
        Problem(
            str(path),
            3,
            None,
            "this line has 6 cells but the header has 5; a value probably contains a comma "
            "(write decimals with a dot, e.g. 86.50) or a column has no header",
        )
    ]


def test_more_than_50_problems_are_capped_in_message(tmp_path: Path) -> None:
    rows = [["房号", "业主", "面积", "楼层"]] + [[str(100 + i), "", "86.5", "1"] for i in range(60)]
    path = write_csv(tmp_path / "t.csv", rows)
    with pytest.raises(TableError) as info:
        read_table(path, COLUMNS)
    assert len(info.value.problems) == 60
    assert info.value.problems[-1] == Problem(str(path), 61, "owner", "is empty")
    lines = str(info.value).splitlines()
    assert len(lines) == 51
    assert lines[0] == f"{path}:2: field 'owner' is empty"
    assert lines[49] == f"{path}:51: field 'owner' is empty"
    assert lines[50] == "... and 10 more problems"


def test_exactly_51_problems_says_one_more_problem(tmp_path: Path) -> None:
    rows = [["房号", "业主", "面积", "楼层"]] + [[str(100 + i), "", "86.5", "1"] for i in range(51)]
    path = write_csv(tmp_path / "t.csv", rows)
    with pytest.raises(TableError) as info:
        read_table(path, COLUMNS)
    assert str(info.value).splitlines()[-1] == "... and 1 more problem"


# --------------------------------------------------------------------------- #
# header problems
# --------------------------------------------------------------------------- #

ACCEPTED = (
    "room (room, 房号, 室号, 房间号); owner (owner, 业主, 业主姓名, 姓名); area (area, 面积, 建筑面积); "
    "floor (floor, 楼层, 层); phone (phone, 电话, 联系电话, 手机); vote (vote, 意见, 表决)"
)

HEADER_PROBLEMS = {
    "unknown-column": (
        [["房号", "业主", "面积", "楼层", "备注"], ["101", "张三", "86.5", "1", "租户"]],
        [Problem("", 1, None, f"unknown column '备注'; rename or delete it. Accepted columns: {ACCEPTED}")],
    ),
    "two-unknown-columns": (
        [["房号", "业主", "面积", "楼层", "备注", "Remark"], ["101", "张三", "86.5", "1", "", ""]],
        [
            Problem(
                "",
                1,
                None,
                f"unknown columns '备注', 'Remark'; rename or delete them. Accepted columns: {ACCEPTED}",
            )
        ],
    ),
    "missing-required-columns": (
        [["房号", "业主"], ["101", "张三"]],
        [
            Problem(
                "",
                1,
                "area",
                "is a required column but the header has no such column "
                "(name a column one of: area, 面积, 建筑面积)",
            ),
            Problem(
                "",
                1,
                "floor",
                "is a required column but the header has no such column "
                "(name a column one of: floor, 楼层, 层)",
            ),
        ],
    ),
    "duplicate-column": (
        [["房号", "业主", "面积", "楼层", "Area (m2)"], ["101", "张三", "86.5", "1", "86.5"]],
        [
            Problem(
                "",
                1,
                "area",
                "is given by more than one column ('面积' in column 3 and "
                "'Area (m2)' in column 5); keep only one",
            )
        ],
    ),
    "empty-header-over-data": (
        [
            ["房号", "业主", "", "面积", "楼层"],
            ["101", "张三", "", "86.5", "1"],
            ["102", "李四", "x", "80", "1"],
        ],
        [
            Problem(
                "",
                1,
                None,
                "column 3 has no header but holds data (e.g. 'x' on line 3); "
                "add a header or delete the column",
            )
        ],
    ),
    "title-row-above-header": (
        [
            ["三号楼二单元业主名单", "", "", ""],
            ["房号", "业主", "面积", "楼层"],
            ["101", "张三", "86.5", "1"],
        ],
        [
            Problem(
                "",
                1,
                None,
                "the first row '三号楼二单元业主名单' is not a header (it names no known column); "
                "the first row must be the header, so delete any title rows above it. "
                f"Accepted columns: {ACCEPTED}",
            ),
        ],
    ),
}


@pytest.mark.parametrize(("rows", "expected"), HEADER_PROBLEMS.values(), ids=HEADER_PROBLEMS.keys())
def test_header_problems(tmp_path: Path, rows: list[list[str]], expected: list[Problem]) -> None:
    path = write_csv(tmp_path / "t.csv", rows)
    assert problems_of(path) == [Problem(str(path), p.line, p.field, p.message) for p in expected]


def test_header_and_row_problems_are_reported_together(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "t.csv",
        [["房号", "业主", "面积", "备注"], ["101", "张三", "abc", ""], ["102", "", "80", ""]],
    )
    assert [(p.line, p.field) for p in problems_of(path)] == [
        (1, None),
        (1, "floor"),
        (2, "area"),
        (3, "owner"),
    ]


def test_semicolon_separated_file_gets_a_hint(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text("房号;业主;面积;楼层\n101;张三;86.5;1\n", encoding="utf-8")
    assert problems_of(path) == [
        Problem(
            str(path),
            1,
            None,
            "the header '房号;业主;面积;楼层' is one single column; the file seems to be separated by ';', "
            "but only commas or tabs are understood; in Excel use 'Save As' > 'CSV UTF-8 (comma delimited)'",
        )
    ]


# --------------------------------------------------------------------------- #
# blank rows and line numbers
# --------------------------------------------------------------------------- #


def test_blank_lines_skipped_but_line_numbers_true_to_file(tmp_path: Path) -> None:
    path = tmp_path / "t.csv"
    path.write_text(
        "\n"  # 1: blank before the header
        "房号,业主,面积,楼层\n"  # 2
        "101,张三,86.5,1\n"  # 3
        "\n"  # 4
        ",,,\n"  # 5: Excel's way of writing an empty row
        " ,\u3000, ,\n"  # 6: whitespace only
        '102,"李四\n李小四",80,1\n'  # 7-8: a cell with a line break
        "103,王五,bad,1\n",  # 9
        encoding="utf-8",
    )
    with pytest.raises(TableError) as info:
        read_table(path, COLUMNS)
    assert info.value.problems == [
        Problem(str(path), 9, "area", "'bad' is not a number (use digits and a dot, e.g. 86.50)")
    ]
    path.write_text(path.read_text(encoding="utf-8").replace("bad", "70"), encoding="utf-8")
    assert [(r.line, r.values["room"], r.values["owner"]) for r in read_table(path, COLUMNS)] == [
        (3, "101", "张三"),
        (7, "102", "李四\n李小四"),
        (9, "103", "王五"),
    ]


def test_xlsx_blank_rows_skipped_and_row_numbers_kept(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    wb = Workbook()
    ws = wb.active
    ws["A2"], ws["B2"], ws["C2"], ws["D2"] = "房号", "业主", "面积", "楼层"
    ws["A3"], ws["B3"], ws["C3"], ws["D3"] = "101", "张三", 86.5, 1
    ws["A5"] = "   "  # whitespace-only row 5, empty row 4
    ws["A7"], ws["B7"], ws["C7"], ws["D7"] = "102", None, 80, 2
    ws["A8"], ws["B8"], ws["C8"], ws["D8"] = "103", "王五", 80, 2
    wb.save(path)
    assert problems_of(path) == [Problem(str(path), 7, "owner", "is empty")]
    ws["B7"] = "李四"
    wb.save(path)
    assert [(r.line, r.values["room"]) for r in read_table(path, COLUMNS)] == [
        (3, "101"),
        (7, "102"),
        (8, "103"),
    ]


def test_header_only_file_gives_no_rows(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [["房号", "业主", "面积", "楼层"]])
    assert read_table(path, COLUMNS) == []


# --------------------------------------------------------------------------- #
# xlsx cell types
# --------------------------------------------------------------------------- #


def test_xlsx_numeric_and_date_cells_become_sensible_text(tmp_path: Path) -> None:
    columns = (*COLUMNS, Column("signed", ("签字日期",), parse_text, required=False))
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["房号", "业主", "面积(m²)", "楼层", "电话", "签字日期"],
            [101, "张三", 86.5, 3.0, 13800138000, dt.datetime(2025, 3, 1)],
            [102.0, "李四", 86.49999999999999, 4, "13912345678", dt.datetime(2025, 3, 1, 8, 30)],
            ["103", "王五", 90, 5, None, "2025-03-02"],
        ],
    )
    assert [r.values for r in read_table(path, columns)] == [
        {
            "room": "101",
            "owner": "张三",
            "area": Decimal("86.50"),
            "floor": 3,
            "phone": "13800138000",
            "vote": "undecided",
            "signed": "2025-03-01",
        },
        {
            "room": "102",
            "owner": "李四",
            "area": Decimal("86.50"),
            "floor": 4,
            "phone": "13912345678",
            "vote": "undecided",
            "signed": "2025-03-01T08:30:00",
        },
        {
            "room": "103",
            "owner": "王五",
            "area": Decimal("90.00"),
            "floor": 5,
            "phone": None,
            "vote": "undecided",
            "signed": "2025-03-02",
        },
    ]


def test_xlsx_problems_use_row_numbers_and_column_letters(tmp_path: Path) -> None:
    path = write_xlsx(
        tmp_path / "t.xlsx",
        [
            ["房号", "业主", "面积", "楼层"],
            ["101", "张三", 86.555, 1],
            ["102", "李四", 80, dt.datetime(2025, 3, 1)],  # "3-1" typed into a cell Excel turned into a date
            ["103", "王五", 80, 1, "stray"],
        ],
    )
    assert problems_of(path) == [
        Problem(
            str(path),
            1,
            None,
            "column E has no header but holds data (e.g. 'stray' on line 4); "
            "add a header or delete the column",
        ),
        Problem(str(path), 2, "area", "'86.555' has more than 2 decimal places (round it, e.g. 86.56)"),
        Problem(str(path), 3, "floor", "'2025-03-01' is not a whole number (use digits only, e.g. 3)"),
    ]


def test_xlsx_reads_first_sheet_not_active_one(tmp_path: Path) -> None:
    path = tmp_path / "t.xlsx"
    wb = Workbook()
    first = wb.active
    for row in [["房号", "业主", "面积", "楼层"], ["101", "张三", 86.5, 1]]:
        first.append(row)
    second = wb.create_sheet("notes")
    second.append(["unrelated"])
    wb.active = 1
    wb.save(path)
    assert [r.values["room"] for r in read_table(path, COLUMNS)] == ["101"]


# --------------------------------------------------------------------------- #
# optional columns
# --------------------------------------------------------------------------- #


def test_optional_columns_absent_or_empty_take_default(tmp_path: Path) -> None:
    path = write_csv(
        tmp_path / "t.csv",
        [
            ["房号", "业主", "面积", "楼层", "意见"],
            ["101", "张三", "86.5", "1", ""],
            ["102", "李四", "80", "1", "赞成"],
        ],
    )
    assert [(r.values["phone"], r.values["vote"]) for r in read_table(path, COLUMNS)] == [
        (None, "undecided"),
        (None, "agree"),
    ]


# --------------------------------------------------------------------------- #
# file-level problems
# --------------------------------------------------------------------------- #

FILE_PROBLEMS: dict[str, tuple[str, bytes | None, str]] = {
    "old-xls": (
        "owners.xls",
        b"\xd0\xcf\x11\xe0",
        "old Excel format (.xls) or another Office file: open it in Excel and save as .xlsx or CSV",
    ),
    "pdf": ("owners.pdf", b"%PDF-1.4", "a PDF, not a table: give the CSV or .xlsx file"),
    "zip": ("owners.zip", b"PK\x03\x04 not a workbook", "a zip archive, not an Excel .xlsx workbook; save the "
            "table as .xlsx or CSV"),
    "missing-csv": ("nothere.csv", None, "file not found"),
    "missing-xlsx": ("nothere.xlsx", None, "file not found"),
    "not-utf8-nor-gb18030": (
        "owners.csv",
        b"\xff\xff\xff\n",
        "the text is neither UTF-8 nor GB18030/GBK; in Excel use 'Save As' > 'CSV UTF-8 (comma delimited)' "
        "or save as .xlsx",
    ),
    "empty-csv": (
        "owners.csv",
        b"\r\n\r\n",
        f"the file is empty; the first row must name the columns: {ACCEPTED}",
    ),
}


@pytest.mark.parametrize(("name", "content", "message"), FILE_PROBLEMS.values(), ids=FILE_PROBLEMS.keys())
def test_file_level_problems(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    assert problems_of(path) == [Problem(str(path), None, None, message)]


def test_corrupt_xlsx_is_one_clear_problem(tmp_path: Path) -> None:
    path = tmp_path / "owners.xlsx"
    path.write_bytes(b"this is not a zip file")
    [problem] = problems_of(path)
    assert (problem.line, problem.field) == (None, None)
    assert problem.message == "named .xlsx but not an Excel workbook; re-save it in Excel"


@pytest.mark.parametrize("name", ["owners.csv", "owners", "owners.dat"])
def test_a_workbook_is_known_by_its_content(tmp_path: Path, name: str) -> None:
    """An .xlsx saved under another name (or piped in, with none) is read as the workbook it is."""
    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["房号", "楼层", "面积", "业主"])
    book.active.append(["101", 1, 80.5, "王建国"])
    book.save(tmp_path / name)
    (row,) = read_table(tmp_path / name, COLUMNS[:4])
    assert (row.values["room"], row.values["owner"]) == ("101", "王建国")


def test_ambiguous_column_configuration_is_a_programming_error(tmp_path: Path) -> None:
    path = write_csv(tmp_path / "t.csv", [["房号"], ["101"]])
    columns = (Column("room", ("房号",), parse_text), Column("unit", ("房 号",), parse_text))
    with pytest.raises(ValueError, match="ambiguous") as info:
        read_table(path, columns)
    assert not isinstance(info.value, TableError)


# --------------------------------------------------------------------------- #
# parsers
# --------------------------------------------------------------------------- #

DECIMAL_OK = {
    "one-decimal-quantized": ("86.5", Decimal("86.50")),
    "integer": ("90", Decimal("90.00")),
    "two-decimals": ("86.55", Decimal("86.55")),
    "trailing-zero-beyond-places": ("86.500", Decimal("86.50")),
    "surrounding-spaces": ("\u3000 86.5 ", Decimal("86.50")),
    "fullwidth-digits-and-dot": ("８６．５", Decimal("86.50")),
}


@pytest.mark.parametrize(("text", "expected"), DECIMAL_OK.values(), ids=DECIMAL_OK.keys())
def test_parse_decimal_accepts(text: str, expected: Decimal) -> None:
    result = parse_decimal()(text)
    assert result == expected
    assert str(result) == str(expected)  # exact, with its two places


DECIMAL_BAD = {
    "decimal-comma": ("12,5", "'12,5' is not a number (use digits and a dot, e.g. 86.50)"),
    "thousands": ("1,234.50", "'1,234.50' is not a number (use digits and a dot, e.g. 86.50)"),
    "exponent": ("1e3", "'1e3' is not a number (use digits and a dot, e.g. 86.50)"),
    "unit-suffix": ("86.5㎡", "'86.5㎡' is not a number (use digits and a dot, e.g. 86.50)"),
    "too-many-places": ("86.555", "'86.555' has more than 2 decimal places (round it, e.g. 86.56)"),
    "zero": ("0", "'0' must be greater than 0"),
    "negative": ("-3", "'-3' must be greater than 0"),
    "huge": ("9" * 30, f"'{'9' * 30}' is too large to be a sensible value; check it"),
}


@pytest.mark.parametrize(("text", "message"), DECIMAL_BAD.values(), ids=DECIMAL_BAD.keys())
def test_parse_decimal_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_decimal()(text)
    assert str(info.value) == message


def test_parse_decimal_other_places_and_sign() -> None:
    assert parse_decimal(places=0, positive=False)("-3") == Decimal("-3")
    assert parse_decimal(places=3)("1.5") == Decimal("1.500")
    with pytest.raises(ValueError, match=r"^'1\.5' has more than 0 decimal places \(round it, e.g. 2\)$"):
        parse_decimal(places=0)("1.5")
    with pytest.raises(ValueError, match=r"e\.g\. 86\.500\)$"):
        parse_decimal(places=3)("x")


INT_CASES = {
    "plain": ("3", 3),
    "zero-fraction": ("3.0", 3),
    "fullwidth": ("１２", 12),
    "low-bound": ("1", 1),
    "high-bound": ("33", 33),
}


@pytest.mark.parametrize(("text", "expected"), INT_CASES.values(), ids=INT_CASES.keys())
def test_parse_int_range_accepts(text: str, expected: int) -> None:
    assert parse_int_range(1, 33)(text) == expected


INT_BAD = {
    "fraction": ("3.5", "'3.5' is not a whole number (use digits only, e.g. 3)"),
    "word": ("三", "'三' is not a whole number (use digits only, e.g. 3)"),
    "below": ("0", "'0' is out of range (use a whole number from 1 to 33)"),
    "above": ("34", "'34' is out of range (use a whole number from 1 to 33)"),
}


@pytest.mark.parametrize(("text", "message"), INT_BAD.values(), ids=INT_BAD.keys())
def test_parse_int_range_rejects(text: str, message: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_int_range(1, 33)(text)
    assert str(info.value) == message


def test_parse_int_range_allows_basement_floors() -> None:
    assert parse_int_range(-2, 33)("-1") == -1


CHOICE_CASES = {
    "english": ("agree", "agree"),
    "english-any-case": ("AGREE", "agree"),
    "chinese": ("同意", "agree"),
    "chinese-synonym": ("赞成", "agree"),
    "padded": ("\u3000反对 ", "disagree"),
    "fullwidth-letters": ("Ｄｉｓａｇｒｅｅ", "disagree"),
}


@pytest.mark.parametrize(("text", "expected"), CHOICE_CASES.values(), ids=CHOICE_CASES.keys())
def test_parse_choice_accepts(text: str, expected: str) -> None:
    assert VOTE(text) == expected


def test_parse_choice_rejects_with_accepted_values() -> None:
    with pytest.raises(ValueError) as info:
        VOTE("maybe")
    assert (
        str(info.value) == "'maybe' is not an accepted value (use one of: agree, 同意, 赞成, disagree, 反对)"
    )


def test_parse_choice_conflicting_mapping_is_rejected() -> None:
    with pytest.raises(ValueError, match="maps to both 'agree' and 'disagree'"):
        parse_choice({"agree": "agree", "AGREE": "disagree"})


PHONE_CASES = {
    "mobile": ("13800138000", "13800138000"),
    "dashes": ("138-0013-8000", "138-0013-8000"),  # kept as entered: readable as the officer wrote it
    "spaces": ("138  0013 8000 ", "138 0013 8000"),
    "plus86": ("+86 138 0013 8000", "+86 138 0013 8000"),
    "landline": ("027-87654321", "027-87654321"),
    "landline-plus86": ("+86-27-8765-4321", "+86-27-8765-4321"),
    "landline-brackets": ("(027)87654321", "(027)87654321"),
    "landline-fullwidth-brackets": ("（0755）1234567", "(0755)1234567"),
    "mobile-0086": ("0086 139 1234 5678", "0086 139 1234 5678"),
    "seven-digits": ("6275123", "6275123"),
    "fullwidth": ("１３８００１３８０００", "13800138000"),
    "foreign": ("+1 415 555 0100", "+1 415 555 0100"),
}


@pytest.mark.parametrize(("text", "expected"), PHONE_CASES.values(), ids=PHONE_CASES.keys())
def test_parse_phone_accepts(text: str, expected: str) -> None:
    assert parse_phone(text) == expected


PHONE_BAD = {
    "too-short": "123456",
    "too-long": "1234567890123456",
    "letters": "138abc38000",
    "dots": "138.0013.8000",
    "only-plus86": "+86",
}


@pytest.mark.parametrize("text", PHONE_BAD.values(), ids=PHONE_BAD.keys())
def test_parse_phone_rejects(text: str) -> None:
    with pytest.raises(ValueError) as info:
        parse_phone(text)
    assert str(info.value) == (
        f"'{text}' is not a phone number (use 7 to 15 digits, optionally starting with +86, e.g. 13800138000 or "
        "027-87654321)"
    )


@pytest.mark.parametrize(("text", "expected"), [("201", "201"), ("２０１", "201"), ("201室", "201"),
                                              (" 201 号", "201"), ("1-201", "1-201"), ("0201", "0201")])
def test_parse_room_one_spelling_per_flat(text: str, expected: str) -> None:
    assert parse_room(text) == expected


def test_room_names_refused_and_warned() -> None:
    for bad in ("室", "20\x001", "x" * 41):
        with pytest.raises(ValueError, match="is not a room name"):
            parse_room(bad)
    assert room_warning("0201") == "room '0201' has a leading zero: if it is flat 201, write it so"
    assert room_warning("201") is None and room_warning("0") is None and room_warning("0A") is None


def test_parse_text() -> None:
    assert parse_text("\u3000张三 ") == "张三"
    with pytest.raises(ValueError) as info:
        parse_text(" \u3000")
    assert str(info.value) == "is empty; fill it in"


def test_problem_str_forms() -> None:
    assert (
        str(Problem("a.csv", 3, "area", "'x' is not a number"))
        == "a.csv:3: field 'area': 'x' is not a number"
    )
    assert str(Problem("a.csv", 5, "owner", "is empty")) == "a.csv:5: field 'owner' is empty"
    assert str(Problem("a.csv", 1, None, "unknown column 'x'")) == "a.csv:1: unknown column 'x'"
    assert str(Problem("a.csv", None, None, "file not found")) == "a.csv: file not found"
