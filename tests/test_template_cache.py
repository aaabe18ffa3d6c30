"""Compiled templates kept between runs (eightstep/templating.py, in the folder of eightstep.cachedir): a second
environment renders from what the first kept, the same output and the same template version; an edited template
is compiled again; with the cache off nothing is written."""

from __future__ import annotations

from pathlib import Path

import pytest

from eightstep import templating
from eightstep.templating import TemplateEnvironment


def write(folder: Path, name: str, text: str) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_text(text, encoding="utf-8")


def fresh(user: Path) -> TemplateEnvironment:
    templating._REFERENCES.clear()  # as in a new process
    return TemplateEnvironment([user])


def test_a_second_run_renders_what_the_first_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache, user = tmp_path / "cache", tmp_path / "mine"
    monkeypatch.setenv("EIGHTSTEP_CACHE_DIR", str(cache))
    write(user, "base.html.j2", "<p>{% block body %}{% endblock %}</p>")
    write(user, "page.html.j2", '{% extends "base.html.j2" %}{% block body %}{{ who }}{% endblock %}')
    first = fresh(user)
    assert first.render("page.html.j2", {"who": "<王>"}) == "<p>&lt;王&gt;</p>"
    version = first.version("page.html.j2")
    assert len(list(cache.glob("templates-*/__jinja2_*.cache"))) == 2
    assert len(list(cache.glob("templates-*/refs-*.txt"))) == 2
    second = fresh(user)
    assert second.render("page.html.j2", {"who": "李"}) == "<p>李</p>"
    assert second.version("page.html.j2") == version
    assert set(version.sources) == {"page.html.j2", "base.html.j2"}

    write(user, "page.html.j2", '{% extends "base.html.j2" %}{% block body %}[{{ who }}]{% endblock %}')
    edited = fresh(user)
    assert edited.render("page.html.j2", {"who": "李"}) == "<p>[李]</p>"
    assert edited.version("page.html.j2").sha256 != version.sha256


def test_with_the_cache_off_nothing_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("EIGHTSTEP_CACHE_DIR", "off")
    write(tmp_path / "mine", "page.html.j2", "{{ who }}")
    env = fresh(tmp_path / "mine")
    assert env.env.bytecode_cache is None
    assert env.render("page.html.j2", {"who": "x"}) == "x"


def test_a_damaged_entry_is_compiled_again(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cache, user = tmp_path / "cache", tmp_path / "mine"
    monkeypatch.setenv("EIGHTSTEP_CACHE_DIR", str(cache))
    write(user, "page.html.j2", "<b>{{ who }}</b>")
    fresh(user).render("page.html.j2", {"who": "a"})
    entries = list(cache.glob("templates-*/__jinja2_*.cache"))
    good = entries[0].read_bytes()
    for damage in (b"j2 not what it should be", good[:20], good[:-5]):  # not ours; the checksum cut; the code cut
        for entry in entries:
            entry.write_bytes(damage)
        assert fresh(user).render("page.html.j2", {"who": "b"}) == "<b>b</b>"
