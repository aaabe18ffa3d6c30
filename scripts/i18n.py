"""The message catalogs: extract the messages, update the .po files, compile the .mo files (standard library only).

    python scripts/i18n.py update     # extract every message, merge it into each .po (translations kept),
                                      # then compile the .mo files
    python scripts/i18n.py compile    # only compile each .po into its .mo (after editing a translation)
    python scripts/i18n.py check      # exit 1 when a .mo does not match its .po, or a .po misses a message
    python scripts/i18n.py missing    # list the messages without a translation

Where the messages come from: every ``_("...")``, ``N_("...")`` (marked now, translated when shown) and
``ngettext("...", "...", n)`` in ``eightstep/``; every help text of the click tree (command docstrings, ``help=``
of options: shown through ``eightstep.cli.base``); and click's own messages ("Usage:", "Error: {message}", "Try
{command!r} for help." ...), which click looks up through gettext's process-wide text domain, that eightstep sets
to its own.

The .mo files are committed next to their .po, so that a source checkout, the wheel and a Windows PC need
nothing beyond the standard library; tests/test_i18n.py checks that they match. To translate: edit
``eightstep/locale/zh_CN/LC_MESSAGES/eightstep.po`` (msgstr lines), then ``python scripts/i18n.py compile``.
"""

from __future__ import annotations

import ast
import inspect
import struct
import sys
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "eightstep"
LOCALE = PACKAGE / "locale"
DOMAIN = "eightstep"
LANGUAGES = {"zh_CN": "nplurals=1; plural=0;"}


@dataclass
class Entry:
    msgid: str
    msgid_plural: str | None = None
    msgstr: list[str] = field(default_factory=lambda: [""])
    locations: list[str] = field(default_factory=list)
    flags: list[str] = field(default_factory=list)
    obsolete: bool = False

    @property
    def key(self) -> tuple[str, str | None]:
        return self.msgid, self.msgid_plural

    @property
    def translated(self) -> bool:
        return all(self.msgstr) and "fuzzy" not in self.flags


# --------------------------------------------------------------------------- extraction


def _calls(path: Path, label: str) -> list[Entry]:
    """``_("...")`` and ``ngettext("...", "...", n)`` calls with literal strings in one Python file."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found = []
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call) or not isinstance(node.func, ast.Name):
            continue
        args = node.args
        literal = [isinstance(a, ast.Constant) and isinstance(a.value, str) for a in args]
        where = f"{label}:{node.lineno}"
        if node.func.id in ("_", "N_") and len(args) == 1 and literal[0]:
            found.append(Entry(args[0].value, locations=[where]))
        elif node.func.id == "ngettext" and len(args) == 3 and literal[0] and literal[1]:
            found.append(Entry(args[0].value, args[1].value, ["", ""], locations=[where]))
    return sorted(found, key=lambda e: int(e.locations[0].rsplit(":", 1)[1]))


def _source_messages() -> list[Entry]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        out += _calls(path, path.relative_to(ROOT).as_posix())
    return out


def _help_messages() -> list[Entry]:
    """The help texts of every command and option, keyed as ``eightstep.cli.base.translate_help`` looks them up."""
    sys.path.insert(0, str(ROOT))
    import click

    from eightstep.cli import main
    from eightstep.cli.base import localise, walk

    out = []
    for path, command in walk(main):
        localise(command)  # keeps the English sources aside, where they are read back below
        where = "eightstep " + " ".join(path) if path else "eightstep"
        sources = command.__dict__["_eightstep_help_source"]
        for name in ("help", "short_help", "epilog"):
            if sources.get(name):
                out.append(Entry(inspect.cleandoc(sources[name]), locations=[f"{where} ({name})"]))
        for param in command.params:
            if isinstance(param, click.Option):
                source = param.__dict__["_eightstep_help_source"].get("help")
                if source:
                    out.append(Entry(inspect.cleandoc(source), locations=[f"{where} {param.opts[-1]}"]))
    return out


# click's messages that it translates through a variable (``_(extra["required"])``), not a literal
CLICK_INDIRECT = ["required"]


def _click_messages() -> list[Entry]:
    import click

    base = Path(click.__file__).parent
    out = [Entry(text, locations=["click/core.py (indirect)"]) for text in CLICK_INDIRECT]
    for path in sorted(base.glob("*.py")):
        out += _calls(path, f"click/{path.name}")
    return out


def extract() -> list[Entry]:
    """Every message, in order of first appearance, with all its locations."""
    merged: dict[tuple[str, str | None], Entry] = {}
    for entry in [*_source_messages(), *_help_messages(), *_click_messages()]:
        if entry.key in merged:
            merged[entry.key].locations += entry.locations
        else:
            merged[entry.key] = entry
    return list(merged.values())


# --------------------------------------------------------------------------- .po files


def _unquote(text: str) -> str:
    return ast.literal_eval(text)


def _quote(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\t", "\\t").replace("\n", "\\n") + '"'


def parse_po(text: str) -> list[Entry]:
    """The entries of a .po file (the header is the entry whose msgid is empty)."""
    entries: list[Entry] = []
    current: Entry | None = None
    target: tuple[str, int] | None = None
    pending_locations: list[str] = []
    pending_flags: list[str] = []

    def start(msgid: str, obsolete: bool) -> Entry:
        nonlocal pending_locations, pending_flags
        entry = Entry(msgid, locations=pending_locations, flags=pending_flags, obsolete=obsolete)
        pending_locations, pending_flags = [], []
        entries.append(entry)
        return entry

    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        obsolete = line.startswith("#~")
        if obsolete:
            line = line[2:].strip()
        try:
            if not line:
                target = None
            elif line.startswith("#:"):
                pending_locations += [line[2:].strip()]
            elif line.startswith("#,"):
                pending_flags += [f.strip() for f in line[2:].split(",") if f.strip()]
            elif line.startswith("#"):
                continue
            elif line.startswith("msgid_plural "):
                assert current is not None
                current.msgid_plural = _unquote(line[13:])
                target = ("msgid_plural", 0)
            elif line.startswith("msgid "):
                current = start(_unquote(line[6:]), obsolete)
                target = ("msgid", 0)
            elif line.startswith("msgstr["):
                assert current is not None
                index = int(line[7:line.index("]")])
                value = _unquote(line[line.index("]") + 1:].strip())
                if index == 0:
                    current.msgstr = [value]
                else:
                    current.msgstr.append(value)
                target = ("msgstr", index)
            elif line.startswith("msgstr "):
                assert current is not None
                current.msgstr = [_unquote(line[7:])]
                target = ("msgstr", 0)
            elif line.startswith('"'):
                assert current is not None and target is not None
                value = _unquote(line)
                if target[0] == "msgid":
                    current.msgid += value
                elif target[0] == "msgid_plural":
                    current.msgid_plural = (current.msgid_plural or "") + value
                else:
                    current.msgstr[target[1]] += value
            else:
                raise ValueError(f"unexpected line: {raw!r}")
        except (AssertionError, ValueError, SyntaxError) as exc:
            raise SystemExit(f"line {number}: cannot read the .po file: {exc}") from None
    return entries


def _field(name: str, value: str, prefix: str) -> list[str]:
    if "\n" not in value.rstrip("\n"):
        return [f"{prefix}{name} {_quote(value)}"]
    parts = value.splitlines(keepends=True)
    return [f'{prefix}{name} ""', *(f"{prefix}{_quote(p)}" for p in parts)]


def write_po(entries: list[Entry]) -> str:
    blocks = []
    for e in entries:
        prefix = "#~ " if e.obsolete else ""
        lines = [f"#: {loc}" for loc in ([] if e.obsolete else e.locations)]
        if e.flags:
            lines.append("#, " + ", ".join(e.flags))
        lines += _field("msgid", e.msgid, prefix)
        if e.msgid_plural is not None:
            lines += _field("msgid_plural", e.msgid_plural, prefix)
            for i, s in enumerate(e.msgstr):
                lines += _field(f"msgstr[{i}]", s, prefix)
        else:
            lines += _field("msgstr", e.msgstr[0], prefix)
        blocks.append("\n".join(lines))
    return "\n\n".join(blocks) + "\n"


def header(language: str) -> Entry:
    text = ("Project-Id-Version: eightstep\n"
            f"Language: {language}\n"
            "MIME-Version: 1.0\n"
            "Content-Type: text/plain; charset=UTF-8\n"
            "Content-Transfer-Encoding: 8bit\n"
            f"Plural-Forms: {LANGUAGES[language]}\n")
    return Entry("", msgstr=[text])


def merge(old: list[Entry], new: list[Entry], language: str) -> list[Entry]:
    """The new messages with the old translations; old translations no longer used are kept as obsolete."""
    known = {e.key: e for e in old if e.msgid and e.translated}
    out = [header(language)]
    nplurals = int(LANGUAGES[language].split("nplurals=")[1].split(";")[0])
    for entry in new:
        previous = known.pop(entry.key, None)
        empty = [""] * (nplurals if entry.msgid_plural is not None else 1)
        msgstr = previous.msgstr if previous is not None else empty
        out.append(Entry(entry.msgid, entry.msgid_plural, list(msgstr), entry.locations))
    for gone in known.values():
        out.append(Entry(gone.msgid, gone.msgid_plural, gone.msgstr, obsolete=True))
    return out


# --------------------------------------------------------------------------- .mo files


def compile_mo(entries: list[Entry]) -> bytes:
    """The GNU .mo file of the translated, non-obsolete entries (untranslated ones fall back to English)."""
    pairs: dict[bytes, bytes] = {}
    for e in entries:
        if e.obsolete or not e.translated:
            continue
        key = e.msgid if e.msgid_plural is None else f"{e.msgid}\0{e.msgid_plural}"
        pairs[key.encode()] = "\0".join(e.msgstr).encode()
    keys = sorted(pairs)
    ids = b"".join(k + b"\0" for k in keys)
    strs = b"".join(pairs[k] + b"\0" for k in keys)
    count = len(keys)
    keys_start = 7 * 4 + 16 * count
    values_start = keys_start + len(ids)
    offsets: list[int] = []
    position = 0
    for k in keys:
        offsets += [len(k), keys_start + position]
        position += len(k) + 1
    position = 0
    for k in keys:
        offsets += [len(pairs[k]), values_start + position]
        position += len(pairs[k]) + 1
    head = struct.pack("<7I", 0x950412DE, 0, count, 7 * 4, 7 * 4 + 8 * count, 0, 0)
    return head + struct.pack(f"<{len(offsets)}I", *offsets) + ids + strs


def catalogs() -> dict[str, tuple[Path, Path]]:
    return {lang: (LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.po", LOCALE / lang / "LC_MESSAGES" / f"{DOMAIN}.mo")
            for lang in LANGUAGES}


def compile_all() -> None:
    for po, mo in catalogs().values():
        mo.write_bytes(compile_mo(parse_po(po.read_text(encoding="utf-8"))))
        print(f"compiled {mo.relative_to(ROOT)}")


def update() -> None:
    new = extract()
    for lang, (po, _mo) in catalogs().items():
        old = parse_po(po.read_text(encoding="utf-8")) if po.exists() else []
        po.parent.mkdir(parents=True, exist_ok=True)
        merged = merge(old, new, lang)
        po.write_text(write_po(merged), encoding="utf-8")
        todo = sum(1 for e in merged if e.msgid and not e.obsolete and not e.translated)
        print(f"updated {po.relative_to(ROOT)}: {len(new)} messages, {todo} without a translation")
    compile_all()


def problems() -> list[str]:
    """What `check` reports: a .mo that is not its .po compiled, a message missing from a .po."""
    found = []
    keys = {e.key for e in extract()}
    for po, mo in catalogs().values():
        entries = parse_po(po.read_text(encoding="utf-8"))
        if not mo.exists() or mo.read_bytes() != compile_mo(entries):
            found.append(f"{mo.relative_to(ROOT)} does not match its .po: run python scripts/i18n.py compile")
        missing = keys - {e.key for e in entries if not e.obsolete}
        if missing:
            found.append(f"{po.relative_to(ROOT)} misses {len(missing)} messages (e.g. {sorted(missing)[0][0]!r}): "
                         "run python scripts/i18n.py update")
    return found


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    if command == "update":
        update()
    elif command == "compile":
        compile_all()
    elif command == "check":
        found = problems()
        for line in found:
            print(line)
        return 1 if found else 0
    elif command == "missing":
        for po, _mo in catalogs().values():
            for e in parse_po(po.read_text(encoding="utf-8")):
                if e.msgid and not e.obsolete and not e.translated:
                    print(f"{po.parent.parent.name}: {e.msgid!r} ({', '.join(e.locations[:1])})")
    else:
        print(__doc__)
        return 0 if command in ("help", "-h", "--help") else 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
