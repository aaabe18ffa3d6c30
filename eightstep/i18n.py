"""Messages in the user's language (zh_CN first, English available) through the standard library's gettext.

Library code marks every message a person reads with ``_`` and formats it *after* translation, so that the
catalog holds one string per message::

    from eightstep.i18n import _
    raise InputError(_("case {case} has no room {room}").format(case=case_id, room=room))

The source strings are English. The CLI chooses the language once at start-up (``set_language``); the library
never chooses it. Values that scripts read (JSON keys, kinds, stage ids, remedy actions) are never translated.

The catalogs are ``eightstep/locale/<lang>/LC_MESSAGES/eightstep.po`` with their compiled ``.mo`` beside them
(committed, so that a source checkout, the wheel and a Windows PC need nothing but the standard library;
``scripts/i18n.py`` extracts, updates and compiles them, and a test checks that each ``.mo`` matches its
``.po``). ``set_language`` also makes ``eightstep`` the process-wide gettext text domain, so click's own
messages ("Usage:", "Error:", "Try ... for help") come from the same catalog.
"""

from __future__ import annotations

import gettext
import os
import sys
from pathlib import Path

DOMAIN = "eightstep"
LOCALE_DIR = Path(__file__).with_name("locale")
LANGUAGES = {"zh": "zh_CN", "en": "en"}  # what --lang accepts -> the catalog's locale name
ENV_LANG = "EIGHTSTEP_LANG"
_translation: gettext.NullTranslations = gettext.NullTranslations()
_current = "en"
_written_language: str | None = None  # the $LANGUAGE set_language wrote (not the system's choice)


def _(message: str) -> str:
    """``message`` in the chosen language (the English source when no catalog is loaded)."""
    return _translation.gettext(message)


def N_(message: str) -> str:
    """Marks ``message`` for the catalog without translating it now (a label defined at import time, translated
    with ``_`` when shown)."""
    return message


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def current_language() -> str:
    """The language in use: "zh" or "en"."""
    return _current


def pick(chinese: str, english: str | None) -> str:
    """A title that data gives in both languages (workflow stages, documents): the one of the chosen language
    (the Chinese one when there is no English)."""
    return english if _current == "en" and english else chinese


def titled(chinese: str, english: str | None) -> str:
    """A title as data: the Chinese one always (it is what the papers say), with the English one after it in
    parentheses when the chosen language is English: ``发起与意愿征询表决 (Initiation & consent)``."""
    return f"{chinese} ({english})" if _current == "en" and english and english != chinese else chinese


def normalise(lang: str | None) -> str | None:
    """"zh", "zh_CN", "zh-CN.UTF-8", "Chinese (Simplified)_China" -> "zh"; "en..." -> "en"; else None."""
    if not lang:
        return None
    head = lang.strip().lower().replace("-", "_")
    if head.startswith(("zh", "chinese")):
        return "zh"
    if head.startswith(("en", "english", "c.", "posix")) or head == "c":
        return "en"
    return None


def system_language() -> str:
    """The language of the system: Chinese where its locale is Chinese, English otherwise.

    POSIX: the first of LANGUAGE, LC_ALL, LC_MESSAGES, LANG that is set (gettext's own order). Windows: the
    user's display language."""
    for name in ("LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(name)
        if name == "LANGUAGE" and value == _written_language:
            continue
        if value:
            return normalise(value.split(":")[0]) or "en"
    if sys.platform == "win32":  # pragma: no cover - exercised on Windows only
        return normalise(_windows_ui_locale()) or "en"
    return "en"


def _windows_ui_locale() -> str | None:  # pragma: no cover - Windows only
    import ctypes
    import locale

    try:
        lang_id = ctypes.windll.kernel32.GetUserDefaultUILanguage()  # type: ignore[attr-defined]  # Windows only
    except (AttributeError, OSError):
        return locale.getlocale()[0]
    return locale.windows_locale.get(lang_id) or locale.getlocale()[0]


def choose_language(option: str | None, settings_file: str | None = None) -> str:
    """``--lang``, then $EIGHTSTEP_LANG, then the settings file, then the system's locale."""
    for candidate in (option, os.environ.get(ENV_LANG), settings_file):
        chosen = normalise(candidate)
        if chosen is not None:
            return chosen
    return system_language()


def set_language(lang: str | None) -> str:
    """Choose the language of the messages ("zh" or "en"; None: the system's); returns the one in use.

    Process-wide: eightstep becomes gettext's text domain and $LANGUAGE names the chosen catalog, so that
    libraries that speak gettext (click) follow the same language."""
    global _translation, _current, _written_language
    chosen = normalise(lang) or system_language()
    locale_name = LANGUAGES[chosen]
    _translation = gettext.translation(DOMAIN, LOCALE_DIR, languages=[locale_name], fallback=True)
    _current = chosen
    gettext.bindtextdomain(DOMAIN, str(LOCALE_DIR))
    gettext.textdomain(DOMAIN)
    os.environ["LANGUAGE"] = _written_language = locale_name
    return chosen
