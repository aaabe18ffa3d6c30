"""Limits on the work a template may do: a user's template is code, and ``{{ 'x' * 10**9 }}`` would otherwise
build a gigabyte string for a minute. The sandbox refuses with a clear message, not a hang:

* ``*`` and ``+`` may not build a text or list longer than ``MAX_ITEMS`` (a million characters or items);
* ``**`` may not build a number of more than ``MAX_POWER_BITS`` bits;
* a render may take at most ``RENDER_SECONDS`` (checked between pieces of output and inside ``range`` loops)
  and write at most ``MAX_OUTPUT`` characters;
* a macro that calls itself without end is refused (Python's recursion limit), not a traceback.

Known gap: a template that doubles a text with ``~`` inside a loop that writes nothing is only stopped by the
time limit between loop steps, after it has used much memory.
"""

from __future__ import annotations

import math
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

import jinja2
from jinja2.sandbox import SandboxedEnvironment, SecurityError

from eightstep.i18n import _

MAX_ITEMS = 1_000_000
MAX_POWER_BITS = 4096
RENDER_SECONDS = 20.0
MAX_OUTPUT = 20_000_000
_deadline: ContextVar[float | None] = ContextVar("eightstep_template_deadline", default=None)


class TemplateLimitError(SecurityError):
    """A template asked for more work than a form needs (a jinja2 TemplateError: reported with its line)."""


class BoundedSandbox(SandboxedEnvironment):
    """The sandbox with bounds on ``*``, ``**``, ``+``, ``range`` and rendering time."""

    intercepted_binops = frozenset({"*", "**", "+"})

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self.globals["range"] = bounded_range

    def call_binop(self, context: jinja2.runtime.Context, operator: str, left: Any, right: Any) -> Any:
        if operator == "**" and _is_int(left) and _is_int(right) and right > 0 and abs(left) > 1 \
                and right * math.log2(abs(left)) > MAX_POWER_BITS:
            raise TemplateLimitError(_("{left} ** {right} is a number too large for a form").format(
                left=left, right=right))
        if operator == "*":
            for seq, times in ((left, right), (right, left)):
                if isinstance(seq, str | list | tuple) and _is_int(times) and len(seq) * times > MAX_ITEMS:
                    raise TemplateLimitError(_("repeating a text or list {times} times makes {size} items, more than "
                                               "a form needs (at most {limit})").format(
                                                   times=times, size=len(seq) * times, limit=MAX_ITEMS))
        if operator == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple) \
                and len(left) + len(right) > MAX_ITEMS:
            raise TemplateLimitError(_("joining makes {size} items, more than a form needs (at most {limit})").format(
                size=len(left) + len(right), limit=MAX_ITEMS))
        return super().call_binop(context, operator, left, right)


def _is_int(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _check_time() -> None:
    deadline = _deadline.get()
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateLimitError(_("the template ran longer than {seconds:g} seconds; a form needs far less").format(
            seconds=RENDER_SECONDS))


def bounded_range(*args: int) -> Iterator[int]:
    """The sandbox's ``range`` (at most 100,000 numbers) that also watches the render's time limit."""
    from jinja2.sandbox import safe_range

    for i, value in enumerate(safe_range(*args)):
        if i % 256 == 0:
            _check_time()
        yield value


@contextmanager
def _time_limit(seconds: float) -> Iterator[None]:
    token = _deadline.set(time.monotonic() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


def render_bounded(template: jinja2.Template, context: Mapping[str, Any]) -> str:
    """``template.render(context)`` within the limits above; a TemplateLimitError says which was reached."""
    parts: list[str] = []
    size = 0
    with _time_limit(RENDER_SECONDS):
        try:
            for chunk in template.generate(context):
                size += len(chunk)
                if size > MAX_OUTPUT:
                    raise TemplateLimitError(_("the template wrote more than {limit} characters; a form needs far "
                                               "less").format(limit=MAX_OUTPUT))
                _check_time()
                parts.append(chunk)
        except RecursionError:
            raise TemplateLimitError(_("the template calls itself without end (a macro or include that never "
                                       "stops)")) from None
    return "".join(parts)
