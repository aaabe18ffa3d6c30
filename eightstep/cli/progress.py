"""Progress on a terminal for long work (audit verify, forms pack), as the bulk advance shows it.

The library reports how far it is through a callback ``(phase, done, total)``; here that becomes one click
progress bar per phase on standard error, and nothing at all when standard error is not a terminal (scripts, a
redirected log), so that the output of a command stays the same wherever it goes.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, TextIO

import click


class Bars:
    """The callback the library calls: a bar per phase, labelled from ``labels`` (phase -> text)."""

    def __init__(self, labels: dict[str, str], file: TextIO) -> None:
        self.labels = labels
        self.file = file
        self.phase: str | None = None
        self.bar: Any = None
        self.done = 0
        self.counting = False

    def __call__(self, phase: str, done: int, total: int) -> None:
        if total <= 0:  # the total is not known before the end (a streamed import): a count
            if phase != self.phase or not self.counting:
                self.close()
            self.phase = phase
            self.file.write(f"\r{self.labels.get(phase, phase)}: {done}")
            self.file.flush()
            self.counting = True
            return
        if phase != self.phase:
            self.close()
            self.phase, self.done = phase, 0
            self.bar = click.progressbar(length=max(total, 1), label=self.labels.get(phase, phase), file=self.file)
            self.bar.__enter__()
        if self.bar is not None and done > self.done:
            self.bar.length = max(self.bar.length, total)
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.counting:
            self.file.write("\n")
            self.counting = False
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@contextmanager
def progress_bars(labels: dict[str, str], file: TextIO | None = None) -> Iterator[Bars | None]:
    """A progress callback drawing on ``file`` (standard error) when it is a terminal; None (no progress) else."""
    stream = file if file is not None else sys.stderr
    if not stream.isatty():
        yield None
        return
    bars = Bars(labels, stream)
    try:
        yield bars
    finally:
        bars.close()
