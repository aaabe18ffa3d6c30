"""HTML to PDF with WeasyPrint, imported only here (it takes ~0.4 s to import)."""

from __future__ import annotations

import shutil
import subprocess
from functools import cache

from eightstep.errors import InputError


def html_to_pdf(html: str, base_url: str | None = None) -> bytes:
    try:
        import weasyprint
    except (ImportError, OSError) as exc:  # OSError: Pango or its friends are missing
        raise InputError(f"PDF output needs WeasyPrint and its system libraries (Pango, HarfBuzz): {exc}. "
                         "Use --format html, or install them") from None
    return weasyprint.HTML(string=html, base_url=base_url).write_pdf()


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


CJK_FONT_WARNING = ("no Chinese font is installed: the PDF would show boxes instead of characters. Install one "
                    "(Debian: apt-get install fonts-noto-cjk)")
