"""Anchors kept outside the database catch what the database alone cannot: a chain recomputed after a rewrite, a
history cut short with its head moved back, a case deleted with all its rows; and a forged anchor."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from eightstep.engine.events import GENESIS, event_hash
from tests.conftest import invoke

CASES = ("AN-1", "AN-2", "AN-3")


run = invoke


@pytest.fixture
def cases(runner: CliRunner, from_template: Callable[[Path | str], Path]) -> CliRunner:
    from_template("eightstep.db")
    run(runner, "init")
    for i, case_id in enumerate(CASES, start=1):
        run(runner, "case", "open", case_id, "--complex", "锚小区", "--building", str(i), "--unit", "1",
            "--at", "2025-03-01")
        run(runner, "case", "suspend", case_id, "--reason", "等待调解", "--at", "2025-03-02")
        run(runner, "case", "resume", case_id, "--reason", "调解完成", "--at", "2025-03-03")
    run(runner, "audit", "anchor", "-o", "anchor.json")
    return runner


def rechain(db: Path, case_id: str, upto: int | None = None, note: str | None = None) -> None:
    """What a forger with the database file does: change (or cut) the history and recompute every hash and the
    case's head, so that the database alone looks intact."""
    con = sqlite3.connect(db)
    if upto is not None:
        con.execute("DELETE FROM events WHERE case_id = ? AND seq > ?", (case_id, upto))
    if note is not None:
        con.execute("UPDATE events SET note = ? WHERE case_id = ? AND seq = 2", (note, case_id))
    prev = GENESIS
    rows = con.execute("SELECT seq, business_at, recorded_at, actor, action, from_stage, to_stage, note, details "
                       "FROM events WHERE case_id = ? ORDER BY seq", (case_id,)).fetchall()
    from datetime import UTC, datetime

    for seq, business, recorded, actor, action, from_stage, to_stage, text, details in rows:
        def instant(value: str) -> datetime:
            parsed = datetime.fromisoformat(value)
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

        digest = event_hash(case_id, seq, instant(business), instant(recorded), actor, action, from_stage, to_stage,
                            text, details, prev)
        con.execute("UPDATE events SET prev_hash = ?, hash = ? WHERE case_id = ? AND seq = ?",
                    (prev, digest, case_id, seq))
        prev = digest
    con.execute("UPDATE cases SET event_count = ?, last_hash = ? WHERE id = ?", (len(rows), prev, case_id))
    con.commit()
    con.close()


def test_anchor_to_standard_output_and_file(cases: CliRunner) -> None:
    printed = json.loads(run(cases, "audit", "anchor").output)
    kept = json.loads(Path("anchor.json").read_text(encoding="utf-8"))
    assert printed["heads"] == kept["heads"] and sorted(kept["heads"]) == list(CASES)
    assert {h["events"] for h in kept["heads"].values()} == {3} and kept["events"] == 9 and kept["cases"] == 3
    assert kept["format"] == "eightstep-anchor/1" and "signature" not in kept
    assert kept["created_at"].endswith("+08:00")
    result = run(cases, "audit", "anchor", "-o", "anchor.json", code=1)
    assert "anchor.json already exists: add --force to replace it" in result.output
    result = run(cases, "audit", "anchor", "-o", "eightstep.db", "--force", code=1)
    assert "is eightstep's database" in result.output


def test_the_anchor_matches_an_untouched_database_with_work_since(cases: CliRunner) -> None:
    run(cases, "case", "suspend", "AN-1", "--reason", "再次暂停")
    run(cases, "case", "open", "AN-4", "--complex", "锚小区", "--building", "4", "--unit", "1")
    out = run(cases, "audit", "verify", "--anchor", "anchor.json").output
    assert out.startswith("OK: 4 cases, 11 events") and "(3 cases, 1 cases opened since): matches" in out


@pytest.mark.parametrize(("forgery", "kind", "message"), [
    ("rewrite", "rewritten", "case AN-2: event 3 is not the one the anchor recorded: its history was rewritten"),
    ("truncate", "truncated", "case AN-2 has 1 events, the anchor recorded 3: its history was cut short"),
    ("delete", "deleted_case", "case AN-2 is gone: the anchor recorded 3 events of it"),
])
def test_what_only_an_anchor_catches(cases: CliRunner, forgery: str, kind: str, message: str) -> None:
    db = Path("eightstep.db")
    if forgery == "rewrite":
        rechain(db, "AN-2", note="没有暂停过")
    elif forgery == "truncate":
        rechain(db, "AN-2", upto=1)
        # and puts the case row back as the shortened history has it (audit verify compares the rows with it)
        con = sqlite3.connect(db)
        con.execute("UPDATE cases SET status = 'active', status_reason = NULL, suspended_at = NULL, "
                    "clock_started_at = opened_at WHERE id = 'AN-2'")
        con.commit()
        con.close()
    else:
        con = sqlite3.connect(db)
        con.execute("DELETE FROM events WHERE case_id = 'AN-2'")
        con.execute("DELETE FROM cases WHERE id = 'AN-2'")
        con.commit()
        con.close()
    assert run(cases, "audit", "verify").output.startswith("OK: ")  # the database alone looks intact
    result = run(cases, "audit", "verify", "--anchor", "anchor.json", code=1)
    assert result.output.startswith(f"BROKEN  case AN-2: {kind}: {message}")
    assert "DOES NOT MATCH" in result.output
    data = json.loads(run(cases, "audit", "verify", "--anchor", "anchor.json", "--json", code=1).output)
    assert data["ok"] is False and [p["kind"] for p in data["anchor"]["problems"]] == [kind]


def test_an_edited_anchor_is_caught(cases: CliRunner) -> None:
    anchor = json.loads(Path("anchor.json").read_text(encoding="utf-8"))
    anchor["heads"]["AN-1"]["events"] = 2
    Path("anchor.json").write_text(json.dumps(anchor), encoding="utf-8")
    result = run(cases, "audit", "verify", "--anchor", "anchor.json", code=1)
    assert "BROKEN  anchor: anchor: the anchor's heads do not match its digest: the anchor file was edited" \
        in result.output


def test_a_signed_anchor_cannot_be_forged_to_match(cases: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EIGHTSTEP_SIGNING_KEY", "kept-by-the-district")
    run(cases, "audit", "anchor", "-o", "signed.json")
    signed = json.loads(Path("signed.json").read_text(encoding="utf-8"))
    assert len(signed["signature"]["hmac_sha256"]) == 64
    out = run(cases, "audit", "verify", "--anchor", "signed.json", code=1).output  # events written before the key
    assert "signed, 0 cases opened since): matches" in out and "unsigned: 3 events are not signed" in out
    # The forger rewrites the history and makes a new anchor to match it, but has no key.
    rechain(Path("eightstep.db"), "AN-3", note="改写")
    monkeypatch.delenv("EIGHTSTEP_SIGNING_KEY")
    run(cases, "audit", "anchor", "-o", "forged.json")
    forged = json.loads(Path("forged.json").read_text(encoding="utf-8"))
    forged["signature"] = signed["signature"]
    Path("forged.json").write_text(json.dumps(forged), encoding="utf-8")
    monkeypatch.setenv("EIGHTSTEP_SIGNING_KEY", "kept-by-the-district")
    result = run(cases, "audit", "verify", "--anchor", "forged.json", code=1)
    assert "the anchor's signature does not match the signing key" in result.output
    result = run(cases, "audit", "verify", "--anchor", "anchor.json", code=1)  # older and unsigned
    assert "the anchor is not signed, but a signing key is set" in result.output
    assert "case AN-3: event 3 is not the one the anchor recorded" in result.output


@pytest.mark.parametrize("content", ["not json", "{}", '{"format": "eightstep-anchor/1", "heads": {"x": 1}}'])
def test_a_file_that_is_no_anchor(cases: CliRunner, content: str) -> None:
    Path("bad.json").write_text(content, encoding="utf-8")
    result = run(cases, "audit", "verify", "--anchor", "bad.json", code=1)
    assert "anchor bad.json: not an anchor file written by eightstep" in result.output
