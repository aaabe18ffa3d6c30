"""Messages in the user's language (zh_CN first, English available) through the standard library's gettext.

Library code marks every message a person reads with ``_`` and formats it *after* translation, so that the
catalog holds one string per message::

    from eightstep.i18n import _
    raise InputError(_("case {case} has no room {room}").format(case=case_id, room=room))

The source strings are English. The CLI chooses the language once at start-up (``set_language``); the library
never chooses it. Values that scripts read (JSON keys, kinds, stage ids, remedy actions) are never translated.
"""

from __future__ import annotations

import gettext

DOMAIN = "eightstep"
_translation: gettext.NullTranslations = gettext.NullTranslations()


def _(message: str) -> str:
    """``message`` in the chosen language (the English source when no catalog is loaded)."""
    return _translation.gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _translation.ngettext(singular, plural, n)


def set_language(lang: str | None) -> str:
    """Choose the language of the messages ("zh" or "en"); returns the one in use.

    Until the catalogs ship (issue 13), every language reads the English source strings."""
    global _translation
    _translation = gettext.NullTranslations()
    return "en" if lang is None else lang
