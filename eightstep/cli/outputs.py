"""The CLI side of written files: the --force option, and the outputs of one command (eightstep.store.outputs).

Every command that writes a file takes ``@force_option`` and writes through ``with outputs(settings, force) as
out: out.add(path, content)``: never over the database or its files store, never over an existing file unless
--force, staged under a temporary name and renamed, removed again on failure.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click

from eightstep.errors import InputError
from eightstep.i18n import _

if TYPE_CHECKING:
    from eightstep.cli import Settings
    from eightstep.store.outputs import Outputs, Protected


def force_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    return click.option("--force", is_flag=True,
                        help="Replace files that already exist (never the database or its files store).")(fn)


def protected(settings: Settings) -> Protected:
    """The database and files store of ``--db`` (or EIGHTSTEP_DB, or the settings file), which no output may
    touch."""
    return settings.protected()


@contextmanager
def outputs(settings: Settings, force: bool) -> Iterator[Outputs]:
    """The files of one command: put in place when the block succeeds, removed when it fails."""
    from eightstep.store.outputs import OutputExistsError, Outputs

    try:
        with Outputs(protected(settings), force=force) as out:
            yield out
    except OutputExistsError as exc:
        raise InputError(_("{path} already exists: add --force to replace it").format(path=exc.path)) from None
