"""The one Jinja environment for forms: sandboxed, StrictUndefined, user folders before the built-in templates.

A user folder may override a form (``agreement.html.j2``) and still extend the shipped one with
``{% extends "builtin/agreement.html.j2" %}``. Every template error becomes a ``TemplateProblem`` naming the file
and line. The template version of a form is the SHA-256 of every template source it uses (itself, what it
extends, includes or imports), so a printed paper can be traced to the exact templates behind it.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import SandboxedEnvironment

from eightstep.errors import InputError, NotFoundError
from eightstep.paperwork import privacy
from eightstep.paperwork.names import BUILTIN_PREFIX, template_dirs
from eightstep.resources import builtin_dir
from eightstep.rules import money
from eightstep.rules.consent import AGREE, OPPOSE
from eightstep.timeutil import local_date

CHOICE_TEXT = {AGREE: "同意", OPPOSE: "反对", "abstain": "弃权", None: "未表决"}


class TemplateProblem(InputError):
    """A template that does not compile or render; the message names its file and line."""


class _NoneShown(Exception):
    """A template printed None: an optional value without ``default("—", true)``."""


def _finalize(value: Any) -> Any:
    if value is None:
        raise _NoneShown("a value is None (not recorded); print it with |default(\"—\", true)")
    return value


def cn_date(value: date | datetime | None) -> str | None:
    """2025-03-01 -> 2025年3月1日 (datetimes are shown in Asia/Shanghai)."""
    if value is None:
        return None
    day = local_date(value) if isinstance(value, datetime) else value
    return f"{day.year}年{day.month}月{day.day}日"


def ymd(value: date | datetime | None) -> str | None:
    """2025-03-01 (for narrow table cells)."""
    if value is None:
        return None
    return (local_date(value) if isinstance(value, datetime) else value).isoformat()


def _money_filter(fn: Callable[[int], str]) -> Callable[[int | None], str | None]:
    return lambda fen: None if fen is None else fn(fen)


def area_text(centi: int | None) -> str | None:
    return None if centi is None else f"{centi // 100}.{centi % 100:02d}"


FILTERS: dict[str, Callable[..., Any]] = {
    "yuan": _money_filter(money.yuan),
    "yuan_upper": _money_filter(money.yuan_upper),
    "area": area_text,
    "cn_date": cn_date,
    "ymd": ymd,
    "mask_phone": privacy.mask_phone,
    "mask_id": privacy.mask_id,
    "mask_name": privacy.mask_name,
    "choice_text": lambda choice: CHOICE_TEXT.get(choice, choice),
}


@dataclass(frozen=True)
class TemplateVersion:
    """``sha256`` over every source used, in name order; ``sources`` maps each template name to its own hash."""

    sha256: str
    sources: dict[str, str]


class _Sandbox(SandboxedEnvironment):
    """The sandbox, with its attribute check remembered.

    ``SandboxedEnvironment.is_safe_attribute`` depends only on the attribute's name and on what ``isinstance``
    sees of the object (its type, or a ``__class__`` that claims another), not on the value: for objects that are
    what their type says, the answer for one (type, name) is the answer for all of them. It runs on every attribute
    a template reads: remembering it takes a fifth off a form's template time.
    """

    def __init__(self, **options: Any) -> None:
        super().__init__(**options)
        self._safe: dict[tuple[type, str], bool] = {}

    def is_safe_attribute(self, obj: Any, attr: str, value: Any) -> bool:
        cls = type(obj)
        if obj.__class__ is not cls:  # a proxy claiming another class: ask every time
            return super().is_safe_attribute(obj, attr, value)
        key = (cls, attr)
        known = self._safe.get(key)
        if known is None:
            known = self._safe[key] = super().is_safe_attribute(obj, attr, value)
        return known


class FormEnvironment:
    """Templates from ``user_dirs`` (then $EIGHTSTEP_TEMPLATES) over the built-in folder."""

    def __init__(self, user_dirs: Sequence[Path] = ()) -> None:
        self.dirs = template_dirs(user_dirs)
        self.builtin = builtin_dir("templates")
        loader = jinja2.ChoiceLoader([
            jinja2.FileSystemLoader([str(d) for d in self.dirs]),
            jinja2.PrefixLoader({BUILTIN_PREFIX: jinja2.FileSystemLoader(str(self.builtin))}),
        ])
        self.env = _Sandbox(loader=loader, undefined=jinja2.StrictUndefined, autoescape=True,
                            trim_blocks=True, lstrip_blocks=True, finalize=_finalize, auto_reload=False)
        self.env.filters.update(FILTERS)
        self._versions: dict[str, TemplateVersion] = {}
        # Like the compiled templates (auto_reload=False), where a name resolves to is looked up once.
        self._paths: dict[str, str] = {}

    def exists(self, name: str) -> bool:
        try:
            self.source_path(name)
        except jinja2.TemplateNotFound:
            return False
        return True

    def source_path(self, name: str) -> str:
        """The file a template name resolves to (user folder first)."""
        if name not in self._paths:
            _source, filename, _uptodate = self.env.loader.get_source(self.env, name)  # type: ignore[union-attr]
            self._paths[name] = filename or name
        return self._paths[name]

    def _get(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            where = exc.filename or exc.name or name
            raise TemplateProblem(f"template {where}, line {exc.lineno}: {exc.message}") from None
        except jinja2.TemplateNotFound as exc:
            looked = ", ".join(str(d) for d in self.dirs)
            if exc.name == name:
                raise NotFoundError(f"no template {name} (looked in {looked})") from None
            raise TemplateProblem(f"template {name} refers to {exc.name}, which does not exist (looked in {looked};"
                                  f" the shipped ones are also reachable as {BUILTIN_PREFIX}/NAME)") from None

    def version(self, name: str) -> TemplateVersion:
        """The template version of ``name``: its source and every template it reaches, hashed."""
        if name not in self._versions:
            self._get(name)  # compile first: syntax errors are reported with file and line
            sources: dict[str, str] = {}
            pending = [name]
            while pending:
                current = pending.pop()
                if current in sources:
                    continue
                try:
                    text, _filename, _ = self.env.loader.get_source(self.env, current)  # type: ignore[union-attr]
                except jinja2.TemplateNotFound:
                    raise TemplateProblem(f"template {name} uses {current}, which does not exist (looked in "
                                          f"{', '.join(str(d) for d in self.dirs)})") from None
                sources[current] = hashlib.sha256(text.encode("utf-8")).hexdigest()
                pending.extend(ref for ref in meta.find_referenced_templates(self.env.parse(text)) if ref)
            digest = hashlib.sha256()
            for ref in sorted(sources):
                digest.update(f"{ref}\0{sources[ref]}\n".encode())
            self._versions[name] = TemplateVersion(digest.hexdigest(), dict(sorted(sources.items())))
        return self._versions[name]

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        template = self._get(name)
        try:
            return template.render(context)
        except (jinja2.TemplateError, _NoneShown, TypeError, ValueError, ArithmeticError) as exc:
            if isinstance(exc, jinja2.TemplateSyntaxError):  # an {% include %} that does not compile
                raise TemplateProblem(f"template {exc.filename or exc.name}, line {exc.lineno}: {exc.message}") \
                    from None
            where = _template_frame(exc.__traceback__) or f"template {template.filename or name}"
            message = exc.message if isinstance(exc, jinja2.TemplateError) and exc.message else str(exc)
            raise TemplateProblem(f"{where}: {message}") from None


def _template_frame(tb: TracebackType | None) -> str | None:
    """The innermost frame of template code in a traceback (Jinja rewrites them to template lines)."""
    found = None
    while tb is not None:
        filename = tb.tb_frame.f_code.co_filename
        if filename.endswith(".j2"):
            found = f"template {filename}, line {tb.tb_lineno}"
        tb = tb.tb_next
    return found
