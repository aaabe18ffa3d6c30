"""HTML to PDF with WeasyPrint, imported only here (it takes ~0.4 s to import)."""

from __future__ import annotations

import shutil
import subprocess
import threading
from functools import cache
from typing import Any

from eightstep.errors import InputError, Remedy
from eightstep.i18n import _

PDF_EXTRA = Remedy("install.extra", {"extra": "pdf"})


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    try:
        import weasyprint
    except ImportError:
        raise InputError(_("PDF output needs WeasyPrint, which the pdf extra of eightstep installs; HTML output "
                           "needs nothing more and prints on A4 from a browser"), remedy=PDF_EXTRA) from None
    except OSError as exc:  # WeasyPrint is there, but Pango or its friends are missing
        raise InputError(_("PDF output needs WeasyPrint's system libraries (Pango, HarfBuzz), which are missing "
                           "({reason}); HTML output needs nothing more and prints on A4 from a browser").format(
                               reason=exc)) from None
    fonts = getattr(_kept, "fonts", None) or _font_configuration()
    pdf = weasyprint.HTML(string=html, base_url=base_url).write_pdf(font_config=fonts)
    # The next document reuses the fonts loaded for this one (fontconfig's set-up costs about a tenth of a page),
    # unless this one added fonts of its own (@font-face): then the next starts afresh, as each did before.
    _kept.fonts = fonts if fonts is not None and getattr(fonts, "_folder", True) is None else None
    return pdf


_kept = threading.local()  # .fonts: the fonts the thread's last document used, when nothing was added to them


def _font_configuration() -> Any:
    """WeasyPrint's fonts (fontconfig's configuration, the system's fonts); None: let WeasyPrint make its own."""
    try:
        from weasyprint.text.fonts import FontConfiguration
    except ImportError:
        return None
    return FontConfiguration()


@cache
def cjk_font_missing() -> bool:
    """True when fontconfig knows no Chinese font: the PDF would show boxes instead of glyphs."""
    fc_list = shutil.which("fc-list")
    if fc_list is None:
        return False  # cannot tell
    try:
        out = subprocess.run([fc_list, ":lang=zh", "family"], capture_output=True, text=True, timeout=10,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return False
    return not out.strip()


def cjk_font_warning() -> str:
    return _("no Chinese font is installed: the PDF would show boxes instead of characters. Install one "
             "(Debian: apt-get install fonts-noto-cjk)")
