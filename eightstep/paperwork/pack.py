"""The window's package: the stage's forms and, for a stage with a checklist, a copy of every paper it names.

The stored scans are copied from the files store (checked against their SHA-256 first), named in checklist order
(``01-加装电梯申请书.pdf``); forms the checklist names are printed from the records; an approval recorded with its
decision's scan (`approval add --file`) is copied the same way, one without it is listed with its authority,
number and date. The manifest lists every entry with its file, sha256, issuer, number and date.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.paperwork.casedata import CaseData
from eightstep.paperwork.materials import MaterialRow
from eightstep.store.files import BlobStore

_UNSAFE = re.compile(r'[\\/:*?"<>|\s]+')


@dataclass(frozen=True)
class PackEntry:
    """One file of the pack (``content`` None: listed in the manifest only)."""

    name: str | None
    content: bytes | None
    record: dict[str, Any]


def file_title(text: str) -> str:
    """A title as a file name on every system: 意见征询表/表决票 -> 意见征询表、表决票."""
    return _UNSAFE.sub("_", text.replace("/", "、")).strip("_") or "file"


def _iso(day: date | None) -> str | None:
    return day.isoformat() if day else None


def stored_copy(files: BlobStore, row: MaterialRow) -> bytes:
    """The stored scan of ``row``, refused when the store lost or changed it."""
    assert row.sha256 is not None
    path = files.path_for(row.sha256)
    try:
        content = path.read_bytes()
    except OSError:
        raise InputError(_("the stored file of {title} ({sha}) is missing from the files store: the pack would be "
                           "incomplete").format(title=row.title, sha=row.sha256[:12])) from None
    if hashlib.sha256(content).hexdigest() != row.sha256:
        raise InputError(_("the stored file of {title} ({sha}) was changed since it was recorded: the pack would "
                           "not be the paper on record").format(title=row.title, sha=row.sha256[:12]))
    return content


def material_entries(data: CaseData, files: BlobStore, rows: list[MaterialRow],
                     print_form: Callable[[str], tuple[str, bytes, dict[str, Any]]]) -> list[PackEntry]:
    """A pack entry per checklist row, in order: the stored scan, the printed form, or the record of an approval
    stored without its file."""
    out = []
    for row in rows:
        base = {"no": row.no, "type": row.type, "kind": row.kind, "title": row.title, "issuer": row.issuer,
                "number": row.number, "date": _iso(row.date)}
        prefix = f"{row.no:02d}-"
        if row.sha256 is not None:  # a document's scan, an approval's decision
            content = stored_copy(files, row)
            suffix = Path(row.original_name or "").suffix.lower()
            name = prefix + file_title(row.title) + suffix
            out.append(PackEntry(name, content, {"file": name, **base, "sha256": row.sha256, "bytes": len(content),
                                                 "original_name": row.original_name}))
        elif row.type == "form":
            filename, content, record = print_form(row.kind)
            name = prefix + filename
            out.append(PackEntry(name, content, {"file": name, **base, **record}))
        else:
            out.append(PackEntry(None, None, {"file": None, **base, "sha256": None}))
    return out
