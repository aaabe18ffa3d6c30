"""The settings file, so that an officer sets the database, files folder, actor and language once.

It lives where click puts an application's settings (``click.get_app_dir``): ``%APPDATA%\\eightstep`` on
Windows, ``~/.config/eightstep`` on Linux, ``~/Library/Application Support/eightstep`` on macOS; or at the
path in $EIGHTSTEP_SETTINGS. It is a small TOML file that `eightstep settings set` writes::

    db = "D:\\\\加梯\\\\eightstep.db"
    files = "D:\\\\加梯\\\\files"
    actor = "李敏"
    lang = "zh"

A command-line option wins over an environment variable, which wins over the settings file.
"""

from __future__ import annotations

import json
import os
import tomllib
from pathlib import Path

import click

from eightstep.cli.base import Group
from eightstep.errors import InputError
from eightstep.i18n import _, normalise

ENV_SETTINGS = "EIGHTSTEP_SETTINGS"
KEYS = {
    "db": "EIGHTSTEP_DB",
    "files": "EIGHTSTEP_FILES",
    "actor": "EIGHTSTEP_ACTOR",
    "lang": "EIGHTSTEP_LANG",
}
PATH_KEYS = ("db", "files")


def settings_path() -> Path:
    override = os.environ.get(ENV_SETTINGS)
    if override:
        return Path(override)
    return Path(click.get_app_dir("eightstep")) / "settings.toml"


def load(path: Path | None = None) -> dict[str, str]:
    """The saved settings ({} when there is no file). A broken file is an InputError naming file and line."""
    path = path or settings_path()
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return {}
    except (OSError, UnicodeDecodeError) as exc:
        raise InputError(_("settings file {path}: cannot read it: {reason}").format(path=path, reason=exc)) from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(_("settings file {path}: {reason}").format(path=path, reason=exc)) from None
    for key, value in data.items():
        if key not in KEYS:
            raise InputError(_("settings file {path}: unknown setting {key!r} (known: {known})").format(
                path=path, key=key, known=", ".join(KEYS)))
        if not isinstance(value, str):
            raise InputError(_("settings file {path}: {key} must be text in quotes").format(path=path, key=key))
    return data


def save(values: dict[str, str], path: Path | None = None) -> Path:
    """Write ``values`` as the settings file (replacing it whole; written to a temporary file first)."""
    path = path or settings_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    lines = ["# eightstep settings (eightstep settings set KEY VALUE)"]
    lines += [f"{key} = {json.dumps(values[key], ensure_ascii=False)}" for key in KEYS if key in values]
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines) + "\n", encoding="utf-8")
    tmp.replace(path)
    return path


def check_value(key: str, value: str) -> str:
    if key not in KEYS:
        raise InputError(_("unknown setting {key!r} (known: {known})").format(key=key, known=", ".join(KEYS)))
    value = value.strip()
    if not value:
        raise InputError(_("{key}: give a value").format(key=key))
    if key == "lang" and normalise(value) is None:
        raise InputError(_("lang: {value!r} is not a language; use zh or en").format(value=value))
    if key in PATH_KEYS and "://" not in value:
        value = str(Path(value).expanduser().resolve())
    return value


@click.group("settings", cls=Group)
def settings_group() -> None:
    """The settings file: database, files folder, actor and language, set once for every command."""


@settings_group.command("show")
def show_() -> None:
    """Where the settings file is and what it holds (and which environment variables override it)."""
    path = settings_path()
    values = load(path)
    click.echo(_("Settings file: {path}").format(path=path) + ("" if path.exists() else _(" (not created yet)")))
    for key, env in KEYS.items():
        line = f"  {key} = {values[key]}" if key in values else f"  {key}: " + _("(not set)")
        if os.environ.get(env):
            line += "  " + _("(overridden by ${env})").format(env=env)
        click.echo(line)


@settings_group.command("set")
@click.argument("key", type=click.Choice(list(KEYS)))
@click.argument("value")
def set_(key: str, value: str) -> None:
    """Set KEY (db, files, actor, lang) to VALUE; paths are kept as absolute paths."""
    path = settings_path()
    values = load(path)
    values[key] = check_value(key, value)
    save(values, path)
    click.echo(_("{key} = {value} (saved in {path})").format(key=key, value=values[key], path=path))


@settings_group.command("unset")
@click.argument("key", type=click.Choice(list(KEYS)))
def unset_(key: str) -> None:
    """Remove KEY from the settings file (back to the default)."""
    path = settings_path()
    values = load(path)
    if values.pop(key, None) is None:
        click.echo(_("{key} was not set").format(key=key))
        return
    save(values, path)
    click.echo(_("{key} removed from {path}").format(key=key, path=path))
