"""Tests for eightstep.rules.workcalendar: statutory holidays, 调休, user data files and fallbacks."""

from __future__ import annotations

import logging
from datetime import date, datetime
from pathlib import Path

import pytest

from eightstep.errors import InputError
from eightstep.rules.workcalendar import PACKAGE_DIR, HolidayDataError, WorkCalendar, YearData, load_year_file


def package_source(year: int) -> str:
    return str(PACKAGE_DIR / f"{year}.yaml")


# A made-up 2027 (not the State Council's): the statutory days of the revised rules (除夕 to 初三, 5月1-2日,
# 10月1-3日) and a week off in October with two adjusted working weekends.
YEAR_2027 = """\
year: 2027
source: 测试数据（非官方）
holidays:
  - 2027-01-01
  - 2027-02-05..2027-02-08
  - 2027-05-01..2027-05-02
  - 2027-10-01..2027-10-07
workdays:
  - 2027-09-26
  - '2027-10-09'
"""


def d(text: str) -> date:
    return date.fromisoformat(text)


def write(directory: Path, name: str, text: str) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / name
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def cal() -> WorkCalendar:
    return WorkCalendar()


# --------------------------------------------------------------------------- package data


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param("2025-09-26", True, id="2025-09-26-fri-normal"),
        pytest.param("2025-09-27", False, id="2025-09-27-sat-off"),
        pytest.param("2025-09-28", True, id="2025-09-28-sun-adjusted-workday"),
        *[pytest.param(f"2025-10-0{i}", False, id=f"2025-10-0{i}-national-day") for i in range(1, 9)],
        pytest.param("2025-10-09", True, id="2025-10-09-thu-back-to-work"),
        pytest.param("2025-10-11", True, id="2025-10-11-sat-adjusted-workday"),
        pytest.param("2025-10-12", False, id="2025-10-12-sun-off"),
    ],
)
def test_national_day_2025(cal: WorkCalendar, day: str, expected: bool) -> None:
    assert cal.is_workday(d(day)) is expected


@pytest.mark.parametrize(
    ("day", "expected"),
    [
        pytest.param("2026-02-13", True, id="2026-02-13-fri-before"),
        pytest.param("2026-02-14", True, id="2026-02-14-sat-adjusted-workday"),
        *[pytest.param(f"2026-02-{i}", False, id=f"2026-02-{i}-spring-festival") for i in range(15, 24)],
        pytest.param("2026-02-24", True, id="2026-02-24-tue-back-to-work"),
        pytest.param("2026-02-28", True, id="2026-02-28-sat-adjusted-workday"),
        pytest.param("2026-03-01", False, id="2026-03-01-sun-off"),
    ],
)
def test_spring_festival_2026(cal: WorkCalendar, day: str, expected: bool) -> None:
    assert cal.is_workday(d(day)) is expected


def test_is_workday_accepts_datetime(cal: WorkCalendar) -> None:
    assert cal.is_workday(datetime(2025, 10, 1, 9, 30)) is False
    assert cal.is_workday(datetime(2025, 9, 28, 9, 30)) is True


def test_is_workday_rejects_non_date(cal: WorkCalendar) -> None:
    with pytest.raises(TypeError, match="expected a date, got str"):
        cal.is_workday("2025-10-01")  # type: ignore[arg-type]


def test_package_years_are_covered_without_warnings() -> None:
    cal = WorkCalendar()
    years = cal.covered_years()
    assert min(years) == 2004
    assert max(years) == 2026
    assert len(years) == 23
    assert years == {year: package_source(year) for year in range(2004, 2027)}
    assert cal.is_workday(d("2004-10-01")) is False
    assert cal.is_workday(d("2026-10-01")) is False
    assert cal.warnings == []


# --------------------------------------------------------------------------- arithmetic


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param("2025-09-30", 0, "2025-09-30", id="zero-returns-start"),
        pytest.param("2025-10-03", 0, "2025-10-03", id="zero-returns-start-even-on-holiday"),
        pytest.param("2025-09-30", 1, "2025-10-09", id="national-day-skipped"),
        pytest.param("2025-09-30", 3, "2025-10-11", id="adjusted-saturday-counts"),
        pytest.param("2025-09-30", 5, "2025-10-14", id="five-days-from-2025-09-30"),
        pytest.param("2025-09-26", 1, "2025-09-28", id="adjusted-sunday-counts"),
        pytest.param("2025-10-01", 1, "2025-10-09", id="start-inside-holiday"),
        pytest.param("2026-02-13", 1, "2026-02-14", id="spring-festival-eve-saturday"),
        pytest.param("2026-02-14", 1, "2026-02-24", id="spring-festival-skipped"),
        pytest.param("2025-12-31", 1, "2026-01-04", id="new-year-2026-sunday-workday"),
        pytest.param("2025-01-01", 248, "2025-12-31", id="whole-year-2025"),
    ],
)
def test_add_working_days(cal: WorkCalendar, start: str, n: int, expected: str) -> None:
    assert cal.add_working_days(d(start), n) == d(expected)
    assert cal.add_days(d(start), n, working=True) == d(expected)
    if n:
        # inverse: exactly n working days in (start, result]
        assert cal.working_days_between(d(start), d(expected)) == n


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param("2025-09-30", "2025-10-14", 5, id="over-national-day"),
        pytest.param("2025-09-30", "2025-10-08", 0, id="holiday-only"),
        pytest.param("2025-09-27", "2025-09-28", 1, id="end-is-counted"),
        pytest.param("2025-09-28", "2025-09-29", 1, id="start-is-not-counted"),
        pytest.param("2025-10-14", "2025-10-14", 0, id="same-day"),
        pytest.param("2025-10-14", "2025-09-30", 0, id="end-before-start"),
        pytest.param("2024-12-31", "2025-12-31", 248, id="year-2025"),
    ],
)
def test_working_days_between(cal: WorkCalendar, start: str, end: str, expected: int) -> None:
    assert cal.working_days_between(d(start), d(end)) == expected
    assert cal.days_between(d(start), d(end), working=True) == expected


@pytest.mark.parametrize(
    ("start", "n", "expected"),
    [
        pytest.param("2025-09-30", 0, "2025-09-30", id="zero"),
        pytest.param("2025-09-30", 5, "2025-10-05", id="holidays-ignored"),
        pytest.param("2025-12-25", 10, "2026-01-04", id="across-year"),
    ],
)
def test_add_calendar_days(cal: WorkCalendar, start: str, n: int, expected: str) -> None:
    assert cal.add_days(d(start), n, working=False) == d(expected)


@pytest.mark.parametrize(
    ("start", "end", "expected"),
    [
        pytest.param("2025-09-30", "2025-10-14", 14, id="forward"),
        pytest.param("2025-09-30", "2025-09-30", 0, id="same-day"),
        pytest.param("2025-10-14", "2025-09-30", 0, id="backwards-is-zero"),
    ],
)
def test_calendar_days_between(cal: WorkCalendar, start: str, end: str, expected: int) -> None:
    assert cal.days_between(d(start), d(end), working=False) == expected


@pytest.mark.parametrize("working", [True, False], ids=["working", "calendar"])
def test_negative_n_is_refused(cal: WorkCalendar, working: bool) -> None:
    with pytest.raises(ValueError, match="n must be >= 0, got -1"):
        cal.add_days(d("2025-09-30"), -1, working=working)
    with pytest.raises(ValueError, match="n must be >= 0, got -3"):
        cal.add_working_days(d("2025-09-30"), -3)


# --------------------------------------------------------------------------- user data


def test_user_file_for_2027_is_used(tmp_path: Path) -> None:
    path = write(tmp_path / "holidays", "2027.yaml", YEAR_2027)
    cal = WorkCalendar([tmp_path / "holidays"])

    assert cal.covered_years()[2027] == str(path)
    assert cal.covered_years()[2026] == package_source(2026)
    assert cal.user_years[2027] == YearData(
        year=2027,
        holidays=frozenset([d("2027-01-01"), *(d(f"2027-02-0{i}") for i in range(5, 9)), d("2027-05-01"),
                            d("2027-05-02"), *(d(f"2027-10-0{i}") for i in range(1, 8))]),
        workdays=frozenset([d("2027-09-26"), d("2027-10-09")]),
        source=str(path),
        note="测试数据（非官方）",
    )
    expected = {
        "2027-01-01": False,  # Friday, New Year
        "2027-09-26": True,  # Sunday, adjusted
        "2027-10-01": False,
        "2027-10-04": False,  # Monday inside the range
        "2027-10-07": False,
        "2027-10-08": True,  # Friday
        "2027-10-09": True,  # Saturday, adjusted (quoted string in the file)
        "2027-10-10": False,  # Sunday
    }
    assert {day: cal.is_workday(d(day)) for day in expected} == expected
    assert cal.add_working_days(d("2027-09-30"), 3) == d("2027-10-11")
    assert cal.warnings == []


def test_yml_extension_and_missing_dirs(tmp_path: Path) -> None:
    path = write(tmp_path / "a", "y2027.yml", YEAR_2027)
    write(tmp_path / "a", "notes.txt", "not yaml data, ignored")
    cal = WorkCalendar([tmp_path / "does-not-exist", tmp_path / "a"])
    assert cal.covered_years()[2027] == str(path)
    assert cal.is_workday(d("2027-10-04")) is False


def test_user_file_overrides_package_year(tmp_path: Path) -> None:
    # a "correction" for 2025: only the statutory days off (10-01..10-03 in October), no adjusted weekends
    path = write(
        tmp_path,
        "2025.yaml",
        "year: 2025\nholidays:\n  - 2025-01-01\n  - 2025-01-28..2025-01-31\n  - 2025-05-01..2025-05-02\n"
        "  - 2025-10-01..2025-10-03\nworkdays: []\n",
    )
    cal = WorkCalendar([tmp_path])
    assert cal.covered_years()[2025] == str(path)
    assert cal.covered_years()[2024] == package_source(2024)
    assert cal.user_years[2025].note == ""
    expected = {
        "2025-09-28": False,  # no longer an adjusted workday
        "2025-10-01": False,
        "2025-10-03": False,
        "2025-10-06": True,  # Monday is a working day again
        "2025-10-08": True,
        "2025-10-11": False,  # Saturday, no longer adjusted
        "2025-02-03": True,  # the file replaces the whole year: the official Spring Festival week is not in it
    }
    assert {day: cal.is_workday(d(day)) for day in expected} == expected
    assert cal.add_working_days(d("2025-09-30"), 5) == d("2025-10-10")
    # the package calendar is unaffected
    assert WorkCalendar().is_workday(d("2025-10-06")) is False


# --------------------------------------------------------------------------- fallback


def test_year_without_data_falls_back_to_weekends_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    cal = WorkCalendar([tmp_path])
    with caplog.at_level(logging.WARNING, logger="eightstep.rules.workcalendar"):
        assert cal.is_workday(d("2031-10-01")) is True  # Wednesday: no National Day data
        assert cal.is_workday(d("2031-10-04")) is False  # Saturday
        assert cal.is_workday(d("2031-01-01")) is True  # Wednesday
        for _ in range(100):
            cal.is_workday(d("2031-10-01"))
        assert cal.add_working_days(d("2031-09-30"), 5) == d("2031-10-07")
        assert cal.working_days_between(d("2030-12-31"), d("2031-12-31")) == 261

    assert cal.warnings == [
        "no holiday data for 2031: counting weekends only, and dates counted across 2031 are provisional; add a "
        f"file 2031.yaml to {tmp_path} when the State Council publishes the year's arrangement"
    ]
    assert [r.getMessage() for r in caplog.records] == cal.warnings
    assert 2031 not in cal.covered_years()


def test_each_missing_year_warns_once() -> None:
    cal = WorkCalendar()
    cal.working_days_between(d("2026-12-01"), d("2028-01-31"))
    cal.is_workday(d("2003-05-01"))
    cal.is_workday(d("2027-06-01"))
    assert [w.split(":")[0] for w in cal.warnings] == [
        "no holiday data for 2027", "no holiday data for 2028", "no holiday data for 2003"]
    assert cal.warnings[0].endswith("add a file 2027.yaml to a holiday data directory when the State Council "
                                    "publishes the year's arrangement")


# --------------------------------------------------------------------------- bad files


BAD_FILES = [
    pytest.param(
        "year: 2027\nholiday:\n  - 2027-01-01\n",
        2,
        "unknown key 'holiday'; did you mean 'holidays'?",
        id="unknown-key-with-suggestion",
    ),
    pytest.param(
        "year: 2027\nholidays: []\ncolour: red\n",
        3,
        "unknown key 'colour'; allowed keys are year, source, provisional, holidays, workdays",
        id="unknown-key-without-suggestion",
    ),
    pytest.param(
        "# 2027\nholidays:\n  - 2027-01-01\n",
        1,
        "missing 'year:'",
        id="year-missing",
    ),
    pytest.param(
        "holidays: []\nyear: twenty-seven\n",
        2,
        "'year' must be an integer such as 2027, got 'twenty-seven'",
        id="year-not-int",
    ),
    pytest.param(
        "year: 2027.0\n",
        1,
        "'year' must be an integer such as 2027, got 2027.0",
        id="year-float",
    ),
    pytest.param(
        "year: 2027\nholidays:\n  - 2027-01-01\n  - 2026-12-31\n",
        4,
        "2026-12-31 in 'holidays' is not in year 2027",
        id="date-not-in-year",
    ),
    pytest.param(
        "year: 2027\nholidays:\n  - 2027-12-30..2028-01-02\n",
        3,
        "2028-01-01 in 'holidays' is not in year 2027",
        id="range-leaves-year",
    ),
    pytest.param(
        "year: 2027\nholidays:\n  - 2027-01-01\n  - 2027-02-30\n",
        4,
        "malformed date '2027-02-30'",
        id="impossible-date",
    ),
    pytest.param(
        "year: 2027\nholidays:\n  - 2027/01/01\n",
        3,
        "malformed date '2027/01/01'; write it as YYYY-MM-DD",
        id="malformed-date",
    ),
    pytest.param(
        "year: 2027\nholidays:\n  - 20\n",
        3,
        "expected a date (YYYY-MM-DD) or a range (YYYY-MM-DD..YYYY-MM-DD), got 20",
        id="number-instead-of-date",
    ),
    pytest.param(
        "year: 2027\nholidays:\n  - 2027-01-01 08:00:00\n",
        3,
        "malformed date '2027-01-01 08:00:00'; write it as YYYY-MM-DD",
        id="timestamp-instead-of-date",
    ),
    pytest.param(
        "year: 2027\nholidays:\n  - 2027-10-07..2027-10-01\n",
        3,
        "range '2027-10-07..2027-10-01' starts after it ends; swap the two dates",
        id="range-start-after-end",
    ),
    pytest.param(
        "year: 2027\nholidays:\n  - 2027-10-01..oct-07\n",
        3,
        "malformed range '2027-10-01..oct-07'",
        id="range-malformed-end",
    ),
    pytest.param(
        "year: 2027\nholidays:\n  - 2027-10-01..2027-10-03..2027-10-05\n",
        3,
        "malformed range '2027-10-01..2027-10-03..2027-10-05'",
        id="range-three-parts",
    ),
    pytest.param(
        "year: 2027\nholidays:\n  - 2027-10-01..2027-10-07\nworkdays:\n  - 2027-09-26\n  - 2027-10-02\n",
        6,
        "2027-10-02 is listed in both 'holidays' (line 3) and 'workdays'; keep it in one list only",
        id="date-in-both-lists",
    ),
    pytest.param(
        "year: 2027\nworkdays:\n  - 2027-09-27\n",
        3,
        "2027-09-27 in 'workdays' is a weekday",
        id="workday-on-a-weekday",
    ),
    pytest.param(
        "year: 2027\nholidays: 2027-01-01\n",
        2,
        "'holidays' must be a list of dates or ranges, got '2027-01-01'; write it as",
        id="holidays-not-a-list",
    ),
    pytest.param(
        "year: 2027\nworkdays:\n  day: 2027-09-26\n",
        3,
        "'workdays' must be a list of dates or ranges, got a mapping",
        id="workdays-a-mapping",
    ),
    pytest.param(
        "year: 2027\nsource: [a, b]\n",
        2,
        "'source' must be text",
        id="source-not-text",
    ),
    pytest.param(
        "year: 2027\nholidays: [2027-01-01\nworkdays: []\n",
        3,
        "invalid YAML:",
        id="yaml-syntax-error",
    ),
    pytest.param(
        "year: 2027\nyear: 2028\n",
        2,
        'invalid YAML: found duplicate key "year"',
        id="yaml-duplicate-key",
    ),
    pytest.param(
        "- 2027-01-01\n",
        1,
        "top level must be a mapping with keys year, source, provisional, holidays, workdays, got a list",
        id="top-level-list",
    ),
    pytest.param(
        "# nothing here\n",
        1,
        "file is empty",
        id="empty-file",
    ),
]


@pytest.mark.parametrize(("text", "line", "message"), BAD_FILES)
def test_bad_file_is_reported_with_file_and_line(tmp_path: Path, text: str, line: int, message: str) -> None:
    path = write(tmp_path, "bad.yaml", text)
    with pytest.raises(HolidayDataError) as info:
        WorkCalendar([tmp_path])
    err = info.value
    assert err.path == path
    assert err.line == line
    assert str(err).startswith(f"{path}:{line}: ")
    assert message in str(err)
    # the same error from the single-file loader
    with pytest.raises(HolidayDataError) as again:
        load_year_file(path)
    assert str(again.value) == str(err)


def test_not_utf8_file(tmp_path: Path) -> None:
    path = tmp_path / "gbk.yaml"
    path.write_bytes(b"year: 2027\nsource: \xff\xfe\n")
    with pytest.raises(HolidayDataError) as info:
        WorkCalendar([tmp_path])
    assert str(info.value).startswith(f"{path}: file is not valid UTF-8")
    assert info.value.line is None


def test_two_files_for_the_same_year_name_both(tmp_path: Path) -> None:
    first = write(tmp_path / "a", "2027.yaml", YEAR_2027)
    second = write(tmp_path / "b", "national-2027.yml", "# correction\n" + YEAR_2027)
    with pytest.raises(HolidayDataError) as info:
        WorkCalendar([tmp_path / "a", tmp_path / "b"])
    assert str(info.value) == (
        f"{second}:2: year 2027 is also defined in {first}; keep exactly one file per year"
    )


def test_holiday_data_error_is_value_error_and_input_error(tmp_path: Path) -> None:
    err = HolidayDataError(tmp_path / "x.yaml", "boom", 7)
    assert isinstance(err, ValueError)
    assert isinstance(err, InputError)
    assert str(err) == f"{tmp_path / 'x.yaml'}:7: boom"
    assert str(HolidayDataError("x.yaml", "boom")) == "x.yaml: boom"


# --------------------------------------------------------------------------- the law's statutory days


# 《全国年节及纪念日放假办法》 as revised (国务院令第795号, in force 2025-01-01): 元旦 1 day,
# 春节 4 days (除夕 to 初三), 劳动节 2 days (5月1日、2日), 国庆节 3 days (10月1-3日), among others that
# move with the lunar calendar.
STATUTORY_2027 = ["2027-01-01", "2027-02-05", "2027-02-06", "2027-02-07", "2027-02-08", "2027-05-01", "2027-05-02",
                  "2027-10-01", "2027-10-02", "2027-10-03"]


@pytest.mark.parametrize("missing", STATUTORY_2027)
def test_a_file_from_2025_on_must_give_every_statutory_day(tmp_path: Path, missing: str) -> None:
    days = [day for day in STATUTORY_2027 if day != missing]
    path = write(tmp_path, "2027.yaml", "year: 2027\nholidays:\n" + "".join(f"  - {day}\n" for day in days))
    with pytest.raises(HolidayDataError) as info:
        load_year_file(path)
    assert info.value.problems == [f"{path}:2: {missing} ({name_of(missing)}) is a statutory holiday "
                                   "(全国年节及纪念日放假办法, as revised in force from 2025) but is not listed in "
                                   "'holidays'; add it"]


def name_of(day: str) -> str:
    return {"01-01": "元旦", "02-05": "除夕", "02-06": "春节（初一）", "02-07": "春节（初二）", "02-08": "春节（初三）",
            "05-01": "劳动节", "05-02": "劳动节"}.get(day[5:], "国庆节")


def test_before_2025_new_years_eve_and_may_2nd_were_not_statutory(tmp_path: Path) -> None:
    """The 2013 rules: 春节 初一 to 初三, 劳动节 5月1日 only; a 2024 file without 除夕 or 5月2日 is well-formed."""
    path = write(tmp_path, "2024.yaml", "year: 2024\nholidays: [2024-01-01, 2024-05-01]\n")
    assert load_year_file(path).holidays == {d("2024-01-01"), d("2024-05-01")}


def test_every_problem_of_a_file_is_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "2027.yaml", "year: 2027\nholidays:\n  - 2027-02-30\n  - 2026-01-01\nworkdays:\n"
                 "  - 2027-09-27\n")
    with pytest.raises(HolidayDataError) as info:
        load_year_file(path)
    assert [p.split(": ", 1)[0] for p in info.value.problems] == [f"{path}:3", f"{path}:4", f"{path}:6"]
    assert str(info.value).count("\n") == 2


def test_shipped_years_carry_their_source_and_agree_with_chinesecalendar() -> None:
    """The shipped files were transcribed from chinesecalendar: every one names the State Council's notice, and
    gives the same days as the package does for its years."""
    from chinese_calendar import constants

    files = sorted(PACKAGE_DIR.glob("*.yaml"))
    assert [int(p.stem) for p in files] == list(range(2004, 2027))
    for path in files:
        data = load_year_file(path)
        assert data.note.startswith(f"国务院办公厅关于{data.year}年部分节假日安排的通知"), path
        assert not data.provisional
        assert data.holidays == {day for day in constants.holidays if day.year == data.year}, path
        assert data.workdays == {day for day in constants.workdays if day.year == data.year}, path


def test_provisional_years(tmp_path: Path) -> None:
    cal = WorkCalendar()
    assert cal.provisional_years(d("2026-12-18"), d("2027-01-05")) == [2027]
    assert cal.provisional_years(d("2026-01-05"), d("2026-12-31")) == []
    assert cal.provisional_years(d("2028-03-01"), d("2026-12-01")) == [2027, 2028]  # either order
    estimate = write(tmp_path, "2027.yaml", YEAR_2027.replace("source:", "provisional: true\nsource:"))
    with_estimate = WorkCalendar([tmp_path])
    assert with_estimate.user_years[2027].provisional and with_estimate.covered_years()[2027] == str(estimate)
    assert with_estimate.provisional_years(d("2026-12-18"), d("2027-01-05")) == [2027]  # still an estimate
    official = write(tmp_path, "2027.yaml", YEAR_2027)
    assert WorkCalendar([official.parent]).provisional_years(d("2026-12-18"), d("2027-01-05")) == []


def test_a_year_not_shipped_comes_from_a_newer_chinesecalendar(tmp_path: Path) -> None:
    """Stand-in for a chinesecalendar release newer than eightstep's data: 2026 not shipped, the package has it."""
    shipped = tmp_path / "shipped"
    shipped.mkdir()
    (shipped / "2025.yaml").write_bytes((PACKAGE_DIR / "2025.yaml").read_bytes())
    cal = WorkCalendar(shipped=shipped)
    data = cal.year_data(2026)
    assert data is not None and data.source.startswith("chinesecalendar ")
    assert cal.is_workday(d("2026-02-16")) is False and cal.is_workday(d("2026-02-14")) is True
    assert cal.warnings == [] and cal.provisional_years(d("2026-01-01"), d("2026-12-31")) == []
    without = WorkCalendar(shipped=shipped, calendar_package=False)
    assert without.year_data(2026) is None and without.provisional_years(d("2025-12-19"), d("2026-01-02")) == [2026]
