"""Rules in force on the day (issue 11), from the law's text.

A case is governed by the rules in force on the day it is opened; a form cites the basis of the case's own rules.
The Wuhan regulation (《武汉市既有住宅加装电梯条例》) applies from 2026-01-01 (days counted in Asia/Shanghai);
cases opened before follow the 2024 guidance. A day on which no version of the chosen procedure is in force is
refused, naming the versions that exist.
"""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep import engine
from eightstep.cli import main
from eightstep.demo import PILOT
from eightstep.errors import NotFoundError, WorkflowError
from eightstep.paperwork.render import Paperwork
from eightstep.resources import builtin_dir
from eightstep.store.workspace import Workspace
from eightstep.timeutil import local_date, parse_at
from eightstep.workflow.registry import WorkflowRegistry
from eightstep.workflow.schema import Citation

REGULATION = "《武汉市既有住宅加装电梯条例》"
GUIDANCE = "《武汉市既有住宅加装电梯工作指引》"


@pytest.mark.parametrize(("opened", "version"), [
    pytest.param("2024-01-01", "2024.2", id="first-day-of-the-guidance"),
    pytest.param("2025-12-31", "2024.2", id="last-day-before-the-regulation"),
    pytest.param("2025-12-31 23:59", "2024.2", id="last-minute-before-the-regulation"),
    pytest.param("2026-01-01", "2026.3", id="the-regulation-takes-effect"),
    pytest.param("2026-01-01T00:30:00+08:00", "2026.3", id="just-after-midnight-shanghai"),
    pytest.param("2025-12-31T17:00:00+00:00", "2026.3", id="utc-evening-is-already-2026-in-shanghai"),
    pytest.param("2025-12-31T15:59:00+00:00", "2024.2", id="utc-afternoon-is-still-2025-in-shanghai"),
])
def test_case_opened_under_the_version_in_force(ws: Workspace, opened: str, version: str) -> None:
    view = engine.open_case(ws, "E-1-1", complex_name="幸福小区", building="1", unit="1", at=parse_at(opened))
    assert (view.workflow_id, view.workflow_version) == ("wuhan", version)


def test_a_day_without_rules_in_force_is_refused_naming_the_versions(ws: Workspace) -> None:
    with pytest.raises(NotFoundError) as refused:
        engine.open_case(ws, "E-1-1", complex_name="幸福小区", building="1", unit="1", at=parse_at("2023-12-31"))
    assert str(refused.value) == (
        "workflow wuhan has no version in force on 2023-12-31; its versions: 2024.2 (2024-01-01 to 2025-12-31); "
        "2026.3 (from 2026-01-01). Choose another workflow, or add a version in force that day")
    assert engine.list_cases(ws) == []


def test_cli_case_open_refuses_and_workflow_list_shows_periods(ws: Workspace, runner: CliRunner,
                                                               db_path: Path) -> None:
    db = ["--db", str(db_path)]
    refused = runner.invoke(main, [*db, "case", "open", "E-1-1", "--complex", "幸福小区", "--building", "1",
                                   "--unit", "1", "--at", "2023-06-01"])
    assert refused.exit_code == 1 and "has no version in force on 2023-06-01" in refused.stderr
    opened = runner.invoke(main, [*db, "case", "open", "E-1-1", "--complex", "幸福小区", "--building", "1",
                                  "--unit", "1", "--at", "2025-12-31"])
    assert "workflow wuhan 2024.2" in opened.stdout
    listing = runner.invoke(main, [*db, "workflow", "list"]).stdout
    assert any(line.split()[:3] == ["wuhan", "2024.2", "2024-01-01"] and "to 2025-12-31" in line
               for line in listing.splitlines())
    assert any(line.split()[:4] == ["wuhan", "2026.3", "from", "2026-01-01"] for line in listing.splitlines())
    shown = json.loads(runner.invoke(main, [*db, "workflow", "show", "wuhan", "--at", "2025-12-31", "--json"]).stdout)
    assert (shown["version"], shown["in_force"]) == ("2024.2", {"from": "2024-01-01", "until": "2025-12-31"})
    assert [c["title"] for c in shown["basis"]] == ["中华人民共和国民法典", "武汉市既有住宅加装电梯工作指引",
                                                    "中华人民共和国特种设备安全法"]


@pytest.mark.parametrize(("fields", "text"), [
    ({"title": "中华人民共和国民法典", "articles": "第二百七十八条"}, "《中华人民共和国民法典》第二百七十八条"),
    ({"title": "武汉市人民政府关于既有住宅加装电梯的指导意见", "number": "武政规〔2018〕27号"},
     "《武汉市人民政府关于既有住宅加装电梯的指导意见》（武政规〔2018〕27号）"),
    ({"title": "武汉市既有住宅加装电梯条例", "note": "2026年1月1日起施行"}, REGULATION),
])
def test_citation_is_written_as_a_citation(fields: dict[str, str], text: str) -> None:
    assert Citation(**fields).text() == text


def test_citation_refuses_brackets_in_the_title() -> None:
    with pytest.raises(ValueError, match="without 《》"):
        Citation(title="《中华人民共和国民法典》")


def _version_file(folder: Path, name: str, version: str, start: str | None, until: str | None = None) -> Path:
    text = (builtin_dir("workflows") / "wuhan.yaml").read_text(encoding="utf-8")
    text = text.replace('version: "2026.3"', f'version: "{version}"')
    text = text.replace("effective_from: 2026-01-01\n", (f"effective_from: {start}\n" if start else "")
                        + (f"effective_until: {until}\n" if until else ""))
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def test_a_version_without_an_end_runs_until_the_next_one(tmp_path: Path) -> None:
    _version_file(tmp_path, "wuhan.yaml", "b", "2027-07-01")
    _version_file(tmp_path, "wuhan@a.yaml", "a", "2027-01-01")
    registry = WorkflowRegistry([tmp_path])
    assert [(v.loaded.version, v.period.start, v.period.end) for v in registry.versions("wuhan")] == [
        ("a", datetime(2027, 1, 1).date(), datetime(2027, 6, 30).date()), ("b", datetime(2027, 7, 1).date(), None)]
    assert registry.in_force("wuhan", datetime(2027, 6, 30).date()).version == "a"
    assert registry.in_force("wuhan", datetime(2027, 7, 1).date()).version == "b"
    # the user's folder holds every version of wuhan: the built-in 2024 guidance is not read
    with pytest.raises(NotFoundError, match="no version in force on 2025-06-01"):
        registry.in_force("wuhan", datetime(2025, 6, 1).date())


def test_versions_in_force_on_the_same_day_are_refused(tmp_path: Path, runner: CliRunner) -> None:
    _version_file(tmp_path, "wuhan.yaml", "b", "2027-07-01")
    overlapping = _version_file(tmp_path, "wuhan@a.yaml", "a", "2027-01-01", "2027-07-01")
    with pytest.raises(WorkflowError, match=r"versions a and b .* are both in force on 2027-07-01"):
        WorkflowRegistry([tmp_path]).versions("wuhan")
    result = runner.invoke(main, ["workflow", "check", str(tmp_path / "wuhan.yaml"), str(overlapping)])
    assert result.exit_code == 1 and "are both in force on 2027-07-01" in result.stderr


def test_the_pilot_of_2025_cites_the_rules_of_its_time(demo: Workspace) -> None:
    """The demo's pilot was opened on 2025-01-06: its forms cite the 2024 guidance, never the 2026 regulation."""
    assert engine.show_case(demo, PILOT).workflow_version == "2024.2"
    paperwork = Paperwork(demo)
    for form in ("application", "agreement", "notice"):
        html = paperwork.render(PILOT, form, "html", at=datetime(2026, 1, 5, tzinfo=UTC)).content.decode("utf-8")
        assert GUIDANCE in html, form
        assert REGULATION not in html, form


def test_every_demo_unit_runs_under_the_rules_of_its_opening_day(demo: Workspace) -> None:
    """The siblings opened by `complex rollout` follow the same rule as the pilot: 2025 -> guidance, 2026 ->
    regulation. (The seed's story opens every unit before 2026; opening in 2026 is tested above.)"""
    versions = {v.id: (local_date(v.opened_at) >= date(2026, 1, 1), v.workflow_version)
                for v in engine.list_cases(demo)}
    assert len(versions) >= 10  # every unit of both complexes
    assert all(version == ("2026.3" if opened_2026 else "2024.2") for opened_2026, version in versions.values())
