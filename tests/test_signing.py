"""Signed events: with EIGHTSTEP_SIGNING_KEY set every event carries an HMAC of its hash, and a history rewritten
and re-chained without the key, or stripped of its signatures, fails `audit verify`."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Callable
from pathlib import Path

import pytest
from click.testing import CliRunner

from tests.conftest import invoke as run
from tests.test_anchor import rechain

KEY = "kept-in-the-district-safe"


@pytest.fixture
def signed(runner: CliRunner, monkeypatch: pytest.MonkeyPatch,
           from_template: Callable[[Path | str], Path]) -> CliRunner:
    monkeypatch.setenv("EIGHTSTEP_SIGNING_KEY", KEY)
    from_template("eightstep.db")
    run(runner, "init")
    for case_id in ("SG-1", "SG-2"):
        run(runner, "case", "open", case_id, "--complex", "签名小区", "--building", case_id[-1], "--unit", "1",
            "--at", "2025-03-01")
        run(runner, "case", "suspend", case_id, "--reason", "调解", "--at", "2025-03-02")
        run(runner, "case", "resume", case_id, "--reason", "调解完成", "--at", "2025-03-03")
    return runner


def test_every_event_is_signed(signed: CliRunner) -> None:
    out = run(signed, "audit", "verify").output
    assert out.startswith("OK: 2 cases, 6 events") and "6 of 6 events signed with the signing key" in out
    sigs = sqlite3.connect("eightstep.db").execute("SELECT sig FROM events").fetchall()
    assert len(sigs) == 6 and all(len(s) == 64 for (s,) in sigs)


def test_a_rechained_history_fails_with_the_key(signed: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    rechain(Path("eightstep.db"), "SG-2", note="没有暂停过")
    monkeypatch.delenv("EIGHTSTEP_SIGNING_KEY")
    assert run(signed, "audit", "verify").output.startswith("OK: ")  # without the key it looks intact
    monkeypatch.setenv("EIGHTSTEP_SIGNING_KEY", KEY)
    result = run(signed, "audit", "verify", code=1)
    assert ("BROKEN  case SG-2 event 2: bad_signature: 2 events carry a signature that does not match them (the "
            "first: event 2): rewritten without the signing key") in result.output
    data = json.loads(run(signed, "audit", "verify", "--json", code=1).output)
    assert [(p["case"], p["kind"], p["count"]) for p in data["signatures"]["problems"]] == [
        ("SG-2", "bad_signature", 2)]


def test_stripped_or_missing_signatures(signed: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    con = sqlite3.connect("eightstep.db")
    con.execute("UPDATE events SET sig = NULL WHERE case_id = 'SG-1'")
    con.commit()
    con.close()
    result = run(signed, "audit", "verify", code=1)
    assert "BROKEN  case SG-1 event 1: unsigned: 3 events are not signed (the first: event 1)" in result.output
    monkeypatch.setenv("EIGHTSTEP_SIGNING_KEY", "another key")
    result = run(signed, "audit", "verify", code=1)
    assert "case SG-2 event 1: bad_signature" in result.output


def test_no_key_no_signatures(runner: CliRunner) -> None:
    run(runner, "init")
    run(runner, "case", "open", "NS-1", "--complex", "小区", "--building", "1", "--unit", "1")
    assert sqlite3.connect("eightstep.db").execute("SELECT sig, login FROM events").fetchall() == [(None, None)]
    out = run(runner, "audit", "verify").output
    assert out.startswith("OK: ") and "signed" not in out


@pytest.fixture
def unsigned(runner: CliRunner, monkeypatch: pytest.MonkeyPatch,
             from_template: Callable[[Path | str], Path]) -> CliRunner:
    """Two cases written before the signing key was set."""
    monkeypatch.delenv("EIGHTSTEP_SIGNING_KEY", raising=False)
    from_template("eightstep.db")
    run(runner, "init")
    for case_id in ("US-1", "US-2"):
        run(runner, "case", "open", case_id, "--complex", "旧小区", "--building", case_id[-1], "--unit", "1",
            "--at", "2025-03-01")
        run(runner, "case", "suspend", case_id, "--reason", "调解", "--at", "2025-03-02")
    run(runner, "audit", "anchor", "-o", "anchor.json")
    monkeypatch.setenv("EIGHTSTEP_SIGNING_KEY", KEY)
    return runner


def test_audit_sign_vouches_for_events_written_before_the_key(unsigned: CliRunner,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    result = run(unsigned, "audit", "verify", code=1)
    assert "BROKEN  case US-1 event 1: unsigned: 2 events are not signed" in result.output
    out = run(unsigned, "audit", "sign", "--anchor", "anchor.json", "--note", "对照锚点核对后签名",
              "--actor", "区审计").output
    assert out == "Signed a checkpoint in 2 cases, covering 4 unsigned events.\n"
    out = run(unsigned, "audit", "verify").output
    assert out.startswith("OK: 2 cases, 6 events") and "2 of 6 events signed" in out
    assert "(4 more covered by a signed checkpoint)" in out
    last = json.loads(run(unsigned, "case", "history", "US-1", "--json").output)[-1]
    assert (last["seq"], last["action"], last["actor"]) == (3, "audit.sign", "区审计")
    assert last["note"] == "对照锚点核对后签名"
    assert last["details"]["unsigned"] == 2 and last["details"]["to_seq"] == 2
    assert run(unsigned, "audit", "sign").output.startswith("Every event is signed or covered")
    # an event written without the key after the checkpoint is not covered
    monkeypatch.delenv("EIGHTSTEP_SIGNING_KEY")
    run(unsigned, "case", "resume", "US-2", "--reason", "调解完成", "--at", "2025-03-03")
    monkeypatch.setenv("EIGHTSTEP_SIGNING_KEY", KEY)
    result = run(unsigned, "audit", "verify", code=1)
    assert "case US-2 event 4: unsigned: 1 events are not signed" in result.output
    # a forger rewriting a covered event must re-chain the checkpoint too: its signature no longer matches
    rechain(Path("eightstep.db"), "US-1", note="没有暂停过")
    result = run(unsigned, "audit", "verify", code=1)
    assert "case US-1 event 1: unsigned: 2 events" in result.output  # no longer covered
    assert "case US-1 event 3: bad_signature" in result.output


def test_audit_sign_refuses_a_broken_history_and_needs_the_key(unsigned: CliRunner,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    rechain(Path("eightstep.db"), "US-2", note="没有暂停过")  # looks intact, but not to the anchor
    result = run(unsigned, "audit", "sign", "--anchor", "anchor.json", code=1)
    assert "signing now would vouch for it" in result.output
    con = sqlite3.connect("eightstep.db")
    con.execute("UPDATE events SET note = 'edited' WHERE case_id = 'US-1' AND seq = 1")
    con.commit()
    con.close()
    assert "signing now would vouch for it" in run(unsigned, "audit", "sign", code=1).output
    history = json.loads(run(unsigned, "case", "history", "US-1", "--json").output)
    assert [e for e in history if e["action"] == "audit.sign"] == []  # nothing signed
    monkeypatch.delenv("EIGHTSTEP_SIGNING_KEY")
    assert "no signing key: set EIGHTSTEP_SIGNING_KEY" in run(unsigned, "audit", "sign", code=1).output
