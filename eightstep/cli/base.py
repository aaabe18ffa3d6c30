"""The command classes of the CLI: help texts translated when shown, and a group that loads its commands lazily.

Help texts stay English in the source (docstrings and ``help=``), which is also their key in the catalog; they
are translated when help is shown, so the language chosen at start-up applies even to commands imported before
it was chosen. A lazily loaded group imports a command's module only when that command runs or its help is
shown: ``eightstep --help`` imports the light ``eightstep.cli.*`` modules, never the library behind them.
"""

from __future__ import annotations

import importlib
import inspect
from typing import Any

import click

from eightstep.cli.helpformat import Context
from eightstep.cli.output import width
from eightstep.i18n import _

_SOURCE = "_eightstep_help_source"


def translate_help(text: str | None) -> str | None:
    """A help text in the chosen language; its catalog key is the text as click shows it (``cleandoc``)."""
    if not text:
        return text
    return _(inspect.cleandoc(text))


def _localise(item: click.Command | click.Parameter, fields: tuple[str, ...]) -> None:
    """Put the translated help texts on ``item``, keeping the English sources aside (idempotent)."""
    sources = item.__dict__.get(_SOURCE)
    if sources is None:
        sources = {name: getattr(item, name, None) for name in fields}
        item.__dict__[_SOURCE] = sources
    for name, source in sources.items():
        setattr(item, name, translate_help(source))


def localise(command: click.Command, ctx: click.Context | None = None) -> None:
    """Translate the help of ``command`` and of its parameters (with ``ctx``: also --help, --version) into the
    chosen language."""
    _localise(command, ("help", "short_help", "epilog"))
    for param in command.get_params(ctx) if ctx is not None else command.params:
        if isinstance(param, click.Option):
            _localise(param, ("help",))


def short_help(command: click.Command, limit: int) -> str:
    """The first sentence of the help (English "." or Chinese "。"), cut to ``limit`` display cells."""
    if command.short_help:
        text = inspect.cleandoc(command.short_help)
    else:
        paragraph = " ".join(inspect.cleandoc(command.help or "").partition("\n\n")[0].split())
        text = paragraph
        for stop in ("。", ". "):
            head, found, _rest = paragraph.partition(stop)
            if found and width(head) < width(text):
                text = head + stop.strip()
    if width(text) <= limit:
        return text
    out = ""
    for ch in text:
        if width(out + ch) > limit - 3:
            break
        out += ch
    return out.rstrip() + "..."


class _Translated(click.Command):
    """What commands and groups share: help shown in the chosen language, and the help option's text keyed by its
    English source, whatever the language was when click made it."""

    context_class = Context

    def get_help_option(self, ctx: click.Context) -> click.Option | None:
        option = super().get_help_option(ctx)
        if option is not None and _SOURCE not in option.__dict__:
            option.__dict__[_SOURCE] = {"help": "Show this message and exit."}
        return option

    def format_help(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        localise(self, ctx)
        super().format_help(ctx, formatter)

    def get_short_help_str(self, limit: int = 45) -> str:
        localise(self)
        return short_help(self, limit)


class Command(_Translated):
    """A command whose help is shown in the chosen language; while it runs, ``ctx.meta["eightstep.command"]`` is
    it (the root group names its options in error messages)."""

    def invoke(self, ctx: click.Context) -> Any:
        ctx.meta["eightstep.command"] = self
        return super().invoke(ctx)


class Group(_Translated, click.Group):
    """A group whose help is shown in the chosen language; its commands and sub-groups are of these classes."""

    command_class = Command
    group_class = type  # sub-groups are of this same class


class LazyGroup(Group):
    """A group whose commands live in modules imported only when one of them is needed.

    ``lazy`` maps a command name to ``"module:attribute"``."""

    def __init__(self, *args: Any, lazy: dict[str, str] | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = dict(lazy or {})

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*self.commands, *self.lazy})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            module_name, attribute = self.lazy[cmd_name].split(":")
            command = getattr(importlib.import_module(module_name), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{self.lazy[cmd_name]} is not a click command")
            self.commands[cmd_name] = command
        return self.commands.get(cmd_name)


def field_label(commands: list[click.Command | None], field: str) -> str:
    """How the user gave ``field`` (a parameter name) to the first of ``commands`` (the command run, then its
    groups) that has it: its option (``--review-at``) or argument (``CASE``); the field's name as it is when none
    has such a parameter."""
    for param in (p for command in commands if command is not None for p in command.params):
        if param.name == field:
            if isinstance(param, click.Option):
                return max(param.opts, key=len)
            return param.human_readable_name
    return field


def walk(command: click.Command, path: tuple[str, ...] = ()) -> list[tuple[tuple[str, ...], click.Command]]:
    """Every command of the tree under ``command`` with its path, loading lazily loaded groups."""
    found: list[tuple[tuple[str, ...], click.Command]] = [(path, command)]
    if isinstance(command, click.Group):
        ctx = click.Context(command)
        for name in command.list_commands(ctx):
            sub = command.get_command(ctx, name)
            if sub is not None:
                found.extend(walk(sub, (*path, name)))
    return found
