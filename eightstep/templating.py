"""The one Jinja environment factory: every HTML that eightstep writes (forms, the scheme comparison, the overview)
comes from templates in the one templates folder (``templates/`` in a checkout, ``eightstep/_data/templates`` in a
wheel), rendered by an environment made here.

The environment is sandboxed (a template cannot reach ``__class__`` or ``__globals__``), strict (an undefined name
is an error) and autoescaping. Folders given by the user come before the built-in folder, and the built-in templates
stay reachable as ``builtin/NAME`` so a user template can extend the shipped one. Every template error becomes a
``TemplateProblem`` naming the file and line. ``version(name)`` hashes every source a template uses, so a printed
paper can be traced to the exact templates behind it.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import jinja2
from jinja2 import meta

from eightstep.cachedir import cache_dir
from eightstep.errors import InputError, NotFoundError
from eightstep.i18n import _
from eightstep.resources import builtin_dir
from eightstep.sandboxlimits import BoundedSandbox, render_bounded

BUILTIN_PREFIX = "builtin"  # {% extends "builtin/agreement.html.j2" %} always reaches the shipped template


class TemplateProblem(InputError):
    """A template that does not compile or render; the message names its file and line."""


class _NoneShown(Exception):
    """A template printed None: an optional value without ``default("—", true)``."""


def _refuse_none(value: Any) -> Any:
    if value is None:
        raise _NoneShown(_('a value is None (not recorded); print it with |default("—", true)'))
    return value


class _CompiledKept(jinja2.FileSystemBytecodeCache):
    """Compiled templates kept between runs in the cache folder (``eightstep.cachedir``): a command that renders
    ten forms no longer parses and compiles their templates again each time it starts. Jinja names an entry by the
    template's name and file and checks its source; the folder's name holds what else changes the compiled code
    (Jinja's version, the environment's options). An entry that cannot be read or written is skipped."""

    def load_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().load_bytecode(bucket)
        except Exception:  # unreadable, or damaged past the magic header (the checksum is a pickle): compile
            bucket.reset()

    def dump_bytecode(self, bucket: jinja2.bccache.Bucket) -> None:
        try:
            super().dump_bytecode(bucket)
        except OSError:
            return


def _compiled_kept(env: BoundedSandbox) -> _CompiledKept | None:
    """The kept compiled templates of environments like ``env`` (None when the cache is off or unwritable)."""
    folder = cache_dir()
    if folder is None:
        return None
    shape = repr((jinja2.__version__, [c.__qualname__ for c in type(env).__mro__], sorted(env.intercepted_binops),
                  sorted(env.intercepted_unops), env.autoescape, env.trim_blocks, env.lstrip_blocks,
                  env.finalize is not None, env.undefined.__name__))
    folder = folder / f"templates-{hashlib.sha256(shape.encode()).hexdigest()[:16]}"
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError:
        return None
    return _CompiledKept(str(folder))


# The templates each template source refers to ({% extends %}, {% include %}, ...), by the source's hash: the base
# layout shared by every form is parsed once per process, not once per form (and kept beside the compiled ones).
_REFERENCES: dict[str, tuple[str, ...]] = {}


def _references(env: jinja2.Environment, text: str, sha: str) -> tuple[str, ...]:
    """The template names the source ``text`` (of hash ``sha``) refers to."""
    if sha in _REFERENCES:
        return _REFERENCES[sha]
    kept = env.bytecode_cache
    path = Path(kept.directory) / f"refs-{sha[:40]}.txt" if isinstance(kept, _CompiledKept) else None
    try:
        found = tuple(path.read_text(encoding="utf-8").splitlines()) if path is not None else None
    except (OSError, UnicodeDecodeError):
        found = None
    if found is None:
        found = tuple(ref for ref in meta.find_referenced_templates(env.parse(text)) if ref)
        if path is not None:
            try:
                tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
                tmp.write_text("\n".join(found), encoding="utf-8")
                os.replace(tmp, path)
            except OSError:
                pass
    _REFERENCES[sha] = found
    return found


@dataclass(frozen=True)
class TemplateVersion:
    """``sha256`` over every source used, in name order; ``sources`` maps each template name to its own hash."""

    sha256: str
    sources: dict[str, str]


class _Sandbox(BoundedSandbox):
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


class TemplateEnvironment:
    """Templates from ``user_dirs`` over the built-in folder, with ``filters``.

    ``none_shown``: printing None is an error (forms, where a blank must be chosen on purpose); pages that show
    optional values leave it off.
    """

    def __init__(self, user_dirs: Sequence[Path] = (), *, filters: Mapping[str, Callable[..., Any]] | None = None,
                 none_shown: bool = True) -> None:
        self.builtin = builtin_dir("templates")
        self.dirs = [*user_dirs, self.builtin]
        loader = jinja2.ChoiceLoader([
            jinja2.FileSystemLoader([str(d) for d in self.dirs]),
            jinja2.PrefixLoader({BUILTIN_PREFIX: jinja2.FileSystemLoader(str(self.builtin))}),
        ])
        options: dict[str, Any] = {"finalize": _refuse_none} if none_shown else {}
        self.loader = loader  # the environment's (typed: env.loader may be None)
        self.env = _Sandbox(loader=loader, undefined=jinja2.StrictUndefined, autoescape=True, trim_blocks=True,
                            lstrip_blocks=True, auto_reload=False, **options)
        self.env.bytecode_cache = _compiled_kept(self.env)
        self.env.filters.update(filters or {})
        self._versions: dict[str, TemplateVersion] = {}
        # Like the compiled templates (auto_reload=False), where a name resolves to is looked up once.
        self._paths: dict[str, str] = {}

    def _looked(self) -> str:
        return ", ".join(str(d) for d in self.dirs)

    def exists(self, name: str) -> bool:
        try:
            self.source_path(name)
        except jinja2.TemplateNotFound:
            return False
        return True

    def source_path(self, name: str) -> str:
        """The file a template name resolves to (user folder first)."""
        if name not in self._paths:
            _source, filename, _uptodate = self.loader.get_source(self.env, name)
            self._paths[name] = filename or name
        return self._paths[name]

    def _get(self, name: str) -> jinja2.Template:
        try:
            return self.env.get_template(name)
        except jinja2.TemplateSyntaxError as exc:
            raise TemplateProblem(_("template {file}, line {line}: {message}").format(
                file=exc.filename or exc.name or name, line=exc.lineno, message=exc.message)) from None
        except jinja2.TemplateNotFound as exc:
            if exc.name == name:
                raise NotFoundError(_("no template {name} (looked in {folders})").format(
                    name=name, folders=self._looked())) from None
            raise TemplateProblem(_("template {name} refers to {missing}, which does not exist (looked in {folders};"
                                    " the shipped ones are also reachable as {prefix}/NAME)").format(
                name=name, missing=exc.name, folders=self._looked(), prefix=BUILTIN_PREFIX)) from None

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
                    text, _filename, _up = self.loader.get_source(self.env, current)
                except jinja2.TemplateNotFound:
                    raise TemplateProblem(_("template {name} uses {missing}, which does not exist (looked in "
                                            "{folders})").format(name=name, missing=current,
                                                                 folders=self._looked())) from None
                sources[current] = hashlib.sha256(text.encode("utf-8")).hexdigest()
                pending.extend(_references(self.env, text, sources[current]))
            digest = hashlib.sha256()
            for ref in sorted(sources):
                digest.update(f"{ref}\0{sources[ref]}\n".encode())
            self._versions[name] = TemplateVersion(digest.hexdigest(), dict(sorted(sources.items())))
        return self._versions[name]

    def render(self, name: str, context: Mapping[str, Any]) -> str:
        template = self._get(name)
        try:
            return render_bounded(template, context)  # limits on the work a user's template can do
        except (jinja2.TemplateError, _NoneShown, TypeError, ValueError, ArithmeticError) as exc:
            if isinstance(exc, jinja2.TemplateSyntaxError):  # an {% include %} that does not compile
                raise TemplateProblem(_("template {file}, line {line}: {message}").format(
                    file=exc.filename or exc.name, line=exc.lineno, message=exc.message)) from None
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
