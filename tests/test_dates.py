"""Dates as officers write them: 2025年3月1日, 2025/3/1, 2025-03-01, with or without a time, full-width digits."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep.errors import InputError
from eightstep.timeutil import parse_at, parse_day, show
from tests.helpers.cli import run


@pytest.mark.parametrize(("typed", "shown"), [
    ("2025-03-01", "2025-03-01"), ("2025/3/1", "2025-03-01"), ("2025.3.1", "2025-03-01"),
    ("2025年3月1日", "2025-03-01"), ("2025年03月01号", "2025-03-01"), ("２０２５年３月１日", "2025-03-01"),
    ("2025年3月1日 14时30分", "2025-03-01 14:30"), ("2025年3月1日 9点", "2025-03-01 09:00"),
    ("2025/3/1 9:05", "2025-03-01 09:05"), ("2025-03-01 14:30", "2025-03-01 14:30"),
    ("2025-03-01T06:30+00:00", "2025-03-01 14:30"),
])
def test_accepted(typed: str, shown: str) -> None:
    assert show(parse_at(typed)) == shown


@pytest.mark.parametrize("typed", ["2025年13月1日", "3/1/2025", "明天", "2025年2月30日", "2025-03"])
def test_refused_with_the_forms_that_work(typed: str) -> None:
    with pytest.raises(InputError, match="2025年3月1日"):
        parse_at(typed)


def test_a_day() -> None:
    assert parse_day("2025年10月28日", field="--as-of") == date(2025, 10, 28)
    with pytest.raises(InputError, match="--as-of: '10月28日' is not a date"):
        parse_day("10月28日", field="--as-of")


def test_the_cli_takes_them_everywhere(runner: CliRunner, tmp_path: Path) -> None:
    db = str(tmp_path / "eightstep.db")

    def cli(*args: str) -> str:
        return run(runner, db, *args).stdout

    cli("init")
    cli("case", "open", "JX-1-1", "--complex", "幸福小区", "--building", "1", "--unit", "1", "--at", "2025年3月1日")
    cli("case", "suspend", "JX-1-1", "--reason", "调解", "--at", "2025/3/5", "--review-at", "2025年4月1日")
    shown = json.loads(cli("case", "show", "JX-1-1", "--json"))
    assert shown["opened_at"].startswith("2025-03-01T00:00:00+08:00")
    history = json.loads(cli("case", "history", "JX-1-1", "--json"))
    assert history[-1]["at"].startswith("2025-03-05T00:00:00+08:00")
    audit = json.loads(cli("audit", "stalled", "--as-of", "2025年6月30日", "--json"))
    assert {f["case"] for f in audit} == {"JX-1-1"}  # the review date has passed by then
