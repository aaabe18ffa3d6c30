"""Help pages that wrap Chinese text: a Chinese character is two cells wide and a line may break between any two
of them (click's own wrapping counts characters and breaks only at spaces)."""

from __future__ import annotations

import re
from collections.abc import Iterable

import click
from click._textwrap import TextWrapper

from eightstep.cli.output import width

# a run of wide characters (CJK, full-width punctuation) is split into single characters, each a chunk
_WIDE = re.compile(r"([\u2e80-\u9fff\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6\u3000-\u303f])")

_CLOSING = set("，。、；：？！）」』》〉】”’")


class CjkWrapper(TextWrapper):
    """Wraps by display cells; a line may break before or after any wide character."""

    def _split(self, text: str) -> list[str]:
        out: list[str] = []
        for chunk in super()._split(text):
            out += [part for part in _WIDE.split(chunk) if part]
        return out

    def _wrap_chunks(self, chunks: list[str]) -> list[str]:
        lines: list[str] = []
        chunks.reverse()
        while chunks:
            indent = self.subsequent_indent if lines else self.initial_indent
            room = self.width - width(indent)
            if self.drop_whitespace and chunks[-1].strip() == "" and lines:
                del chunks[-1]
            line: list[str] = []
            used = 0
            while chunks and used + width(chunks[-1]) <= room:
                used += width(chunks[-1])
                line.append(chunks.pop())
            while chunks and chunks[-1] in _CLOSING and len(line) > 1:  # no line starts with 。，）...
                chunks.append(line.pop())
            if chunks and not line:  # one chunk longer than the line: cut it by cells
                head = ""
                for ch in chunks[-1]:
                    if width(head + ch) > max(room, 1):
                        break
                    head += ch
                head = head or chunks[-1][0]
                chunks[-1] = chunks[-1][len(head):]
                line.append(head)
            if self.drop_whitespace and line and line[-1].strip() == "":
                del line[-1]
            if line:
                lines.append(indent + "".join(line))
        return lines


def wrap_text(text: str, size: int, initial_indent: str = "", subsequent_indent: str = "") -> str:
    """click's ``wrap_text(..., preserve_paragraphs=True)`` with :class:`CjkWrapper`."""
    wrapper = CjkWrapper(size, initial_indent=initial_indent, subsequent_indent=subsequent_indent,
                         replace_whitespace=False)
    paragraphs: list[tuple[int, bool, str]] = []
    buf: list[str] = []
    indent: int | None = None

    def flush() -> None:
        if buf:
            if buf[0].strip() == "\b":
                paragraphs.append((indent or 0, True, "\n".join(buf[1:])))
            else:
                paragraphs.append((indent or 0, False, _join(buf)))
            buf.clear()

    for line in text.expandtabs().splitlines():
        if not line:
            flush()
            indent = None
        else:
            if indent is None:
                indent = len(line) - len(line.lstrip())
                line = line.lstrip()
            buf.append(line)
    flush()
    out = []
    for extra, raw, body in paragraphs:
        with wrapper.extra_indent(" " * extra):
            out.append(wrapper.indent_only(body) if raw else wrapper.fill(body))
    return "\n\n".join(out)


def _join(lines: list[str]) -> str:
    """Lines of one paragraph joined: with a space, except between two wide characters (Chinese has none)."""
    text = lines[0]
    for line in lines[1:]:
        glue = "" if _WIDE.match(text[-1:]) and _WIDE.match(line[:1]) else " "
        text += glue + line
    return text


class HelpFormatter(click.HelpFormatter):
    """click's help formatter, wrapping by display cells."""

    def write_heading(self, heading: str) -> None:
        colon = "：" if _WIDE.search(heading) else ":"
        self.write(f"{'':>{self.current_indent}}{heading}{colon}\n")

    def write_text(self, text: str) -> None:
        indent = " " * self.current_indent
        self.write(wrap_text(text, self.width, initial_indent=indent, subsequent_indent=indent))
        self.write("\n")

    def write_dl(self, rows: Iterable[tuple[str, str]], col_max: int = 30, col_spacing: int = 2) -> None:
        rows = list(rows)
        first_col = min(max((width(first) for first, _second in rows), default=0), col_max) + col_spacing
        for first, second in rows:
            self.write(f"{'':>{self.current_indent}}{first}")
            if not second:
                self.write("\n")
                continue
            if width(first) <= first_col - col_spacing:
                self.write(" " * (first_col - width(first)))
            else:
                self.write("\n" + " " * (first_col + self.current_indent))
            lines = wrap_text(second, max(self.width - first_col - 2, 10)).splitlines()
            self.write(f"{lines[0]}\n" if lines else "\n")
            for line in lines[1:]:
                self.write(f"{'':>{first_col + self.current_indent}}{line}\n")


class Context(click.Context):
    formatter_class = HelpFormatter
