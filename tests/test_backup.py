"""Backups: one archive (database snapshot, stored files, manifest), restored into a new database and verified;
consistent while another process writes; a damaged or foreign archive is refused and leaves nothing behind."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
import zipfile
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import invoke

HELPERS = Path(__file__).parent / "helpers"
CASE = "BK-1"


run = invoke


@pytest.fixture
def filled(runner: CliRunner, tmp_path: Path, from_template: Callable[[Path | str], Path]) -> CliRunner:
    from_template("eightstep.db")
    run(runner, "init")
    run(runner, "case", "open", CASE, "--complex", "备份小区", "--building", "1", "--unit", "1", "--at", "2025-03-01")
    for i, name in enumerate(("申请书.pdf", "身份证明.pdf")):
        (tmp_path / name).write_bytes(f"%PDF-1.4 {name}".encode())
        run(runner, "doc", "add", CASE, ("application", "owner_proof")[i], name, "--at", "2025-03-02")
    run(runner, "case", "suspend", CASE, "--reason", "调解", "--at", "2025-03-03")
    return runner


def test_round_trip(filled: CliRunner, tmp_path: Path) -> None:
    out = run(filled, "backup", "b.zip").output
    assert out.startswith("Backed up 1 cases (4 events, schema ") and "2 stored files to b.zip" in out
    with zipfile.ZipFile("b.zip") as zf:
        manifest = json.loads(zf.read("manifest.json"))
        names = sorted(zf.namelist())
    assert manifest["format"] == "eightstep-backup/1" and manifest["cases"] == 1 and manifest["events"] == 4
    assert names == sorted(["eightstep.db", "manifest.json", *(f"files/{f['sha256'][:2]}/{f['sha256']}"
                                                              for f in manifest["files"])])
    Path("copy").mkdir()
    out = run(filled, "restore", "b.zip", "--db", "copy/restored.db").output
    assert "Restored 1 cases (4 events)" in out and "2 stored files into" in out
    assert out.endswith("Verified: 1 cases, 4 events, 2 stored files intact.\n")
    original = run(filled, "case", "history", CASE, "--json").output
    assert run(filled, "--db", "copy/restored.db", "case", "history", CASE, "--json").output == original
    assert run(filled, "--db", "copy/restored.db", "audit", "verify").output.startswith("OK: ")


def test_backup_refuses_to_overwrite_and_restore_needs_a_new_database(filled: CliRunner) -> None:
    run(filled, "backup", "b.zip")
    assert "b.zip already exists: add --force to replace it" in run(filled, "backup", "b.zip", code=1).output
    run(filled, "backup", "b.zip", "--force")
    assert "is eightstep's database" in run(filled, "backup", "eightstep.db", "--force", code=1).output
    result = run(filled, "restore", "b.zip", "--db", "eightstep.db", code=1)
    assert "eightstep.db already exists: restore into a new database" in result.output


def test_a_damaged_or_foreign_archive_leaves_nothing(filled: CliRunner) -> None:
    run(filled, "backup", "b.zip")
    with zipfile.ZipFile("b.zip") as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    blob = next(n for n in members if n.startswith("files/"))
    with zipfile.ZipFile("bad.zip", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data + b"x" if name == blob else data)
    result = run(filled, "restore", "bad.zip", "--db", "r.db", code=1)
    assert f"bad.zip: {blob} does not match its manifest (damaged or altered backup)" in result.output
    assert not Path("r.db").exists() and not [p for p in Path("r.db.files").rglob("*") if p.is_file()]
    with zipfile.ZipFile("evil.zip", "w") as zf:
        for name, data in members.items():
            zf.writestr(name, data)
        zf.writestr("../../escape.txt", b"x")
    result = run(filled, "restore", "evil.zip", "--db", "r.db", code=1)
    assert "evil.zip is not a backup written by eightstep (unexpected '../../escape.txt')" in result.output
    Path("plain.zip").write_bytes(b"not a zip")
    assert "plain.zip is not a backup written by eightstep" in run(filled, "restore", "plain.zip", "--db", "r.db",
                                                                     code=1).output
    assert not Path("r.db").exists()


def test_a_backup_keeps_a_damaged_file_out_and_says_so(filled: CliRunner) -> None:
    stored = next(p for p in Path("eightstep.db.files").rglob("*") if p.is_file())
    stored.chmod(0o644)
    stored.write_bytes(b"changed")
    result = run(filled, "backup", "b.zip")
    assert f"stored file {stored.name[:12]} no longer matches its hash: left out of the backup" in result.output
    assert "1 stored files to b.zip" in result.output
    result = run(filled, "restore", "b.zip", "--db", "r.db", code=1)  # the restored database lacks that file
    assert "FAILED verification: 0 broken histories, 1 files changed or missing" in result.output


@pytest.mark.postgresql
def test_postgresql_is_backed_up_with_pg_dump(runner: CliRunner, pg_url: str) -> None:
    run(runner, "--db", pg_url, "init")
    result = run(runner, "--db", pg_url, "backup", "b.zip", code=1)
    assert "pg_dump -Fc -f eightstep.dump DBNAME, together with a copy of the files folder" in result.output
    assert "verify that one with eightstep's audit" in result.output
    assert not Path("b.zip").exists() and not list(Path(".").glob(".b.zip.*"))


def test_a_backup_taken_while_another_process_writes(runner: CliRunner, tmp_path: Path) -> None:
    """Each backup is the database at one moment: it restores and verifies, every case whole."""
    run(runner, "init")
    stop, ready = tmp_path / "stop", tmp_path / "ready"
    writer = subprocess.Popen([sys.executable, str(HELPERS / "keep_writing.py"), str(tmp_path / "eightstep.db"),
                               str(stop), str(ready)], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not ready.exists():
            assert writer.poll() is None, writer.communicate()
            assert time.monotonic() < deadline, "the writer never started"
            time.sleep(0.05)
        counts = []
        for i in range(3):
            run(runner, "backup", f"b{i}.zip")
            out = run(runner, "restore", f"b{i}.zip", "--db", f"r{i}.db").output
            assert "Verified: " in out
            con = sqlite3.connect(f"r{i}.db")
            counts.append(con.execute("SELECT count(*) FROM events").fetchone()[0])
            # Every case in the snapshot is whole: its row's head is its last event.
            assert con.execute("SELECT count(*) FROM cases c WHERE c.event_count != (SELECT count(*) FROM events e "
                               "WHERE e.case_id = c.id)").fetchone()[0] == 0
            con.close()
    finally:
        stop.write_text("stop", encoding="utf-8")
        out, err = writer.communicate(timeout=120)
    assert writer.returncode == 0, err
    assert int(out) > 0 and counts == sorted(counts)
