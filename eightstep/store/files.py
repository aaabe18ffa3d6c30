"""Content-addressed storage of attached files: copied in, named by their SHA-256, never referenced in place."""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eightstep.errors import InputError
from eightstep.i18n import _

if TYPE_CHECKING:
    from sqlalchemy import Connection

    from eightstep.store.workspace import Workspace

CHUNK = 1 << 20
# (table, column): every record that refers to a stored file by its SHA-256 (a document's scan, a scheme's proposal,
# a meeting's minutes, an approval's decision). The one list of them: a failed recording's cleanup, the backup,
# the case export, `audit verify` and its list of unreferenced files read it.
FILE_COLUMNS: tuple[tuple[str, str], ...] = (("documents", "sha256"), ("schemes", "file_sha256"),
                                             ("meetings", "file_sha256"), ("approvals", "file_sha256"))


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class BlobStore:
    """Files under ``root/ab/abcdef...`` (the first two hex digits fan the folder out)."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def path_for(self, sha256: str) -> Path:
        return self.root / sha256[:2] / sha256

    def put(self, source: Path) -> tuple[str, int]:
        """Copy ``source`` in (atomically); return its hash and size. Re-adding the same content is free."""
        digest, size, _created = self.add(source)
        return digest, size

    def add(self, source: Path) -> tuple[str, int, bool]:
        """``put``, and whether the file is new to the store (False: the same content was there already)."""
        if not source.is_file():
            raise InputError(_("{source}: no such file").format(source=source))
        # Copy first, hash the copy: the stored bytes are exactly the hashed bytes.
        self.root.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(dir=self.root, prefix=".incoming-")
        tmp = Path(tmp_name)
        try:
            with os.fdopen(fd, "wb") as out, source.open("rb") as src:
                shutil.copyfileobj(src, out, CHUNK)
            digest = sha256_file(tmp)
            target = self.path_for(digest)
            created = not target.exists()
            if created:
                target.parent.mkdir(parents=True, exist_ok=True)
                os.replace(tmp, target)
                target.chmod(0o444)
            else:
                tmp.unlink()
            return digest, target.stat().st_size, created
        finally:
            if tmp.exists():
                tmp.unlink()

    def stored(self) -> Iterator[tuple[str, Path]]:
        """Every file in the store: (its name, its path); names that are not a SHA-256 (a copy a crash left
        behind, ``.incoming-...``) too."""
        if not self.root.is_dir():
            return
        for path in sorted(self.root.rglob("*")):
            if path.is_file():
                yield path.name, path

    def remove(self, sha256: str) -> None:
        """Delete a stored file (one that no record refers to)."""
        self.path_for(sha256).unlink(missing_ok=True)

    def verify(self, sha256: str) -> str | None:
        """None when the stored file is intact, else what is wrong with it."""
        target = self.path_for(sha256)
        if not target.is_file():
            return "missing"
        actual = sha256_file(target)
        return None if actual == sha256 else f"changed (now {actual[:12]})"


def __getattr__(name: str) -> Any:
    """``FILE_REFERENCES``: (Table, column) where records refer to stored files by their SHA-256; made on first use
    (the tables import SQLAlchemy, which a read command on SQLite does without: ``eightstep.store.plain``)."""
    if name != "FILE_REFERENCES":
        raise AttributeError(name)
    from eightstep.store import tables

    references = tuple((tables.metadata.tables[table], column) for table, column in FILE_COLUMNS)
    globals()["FILE_REFERENCES"] = references
    return references


def referenced(conn: Connection, digests: list[str]) -> set[str]:
    """Which of ``digests`` a record refers to."""
    from sqlalchemy import select

    found: set[str] = set()
    for table, column in __getattr__("FILE_REFERENCES"):
        found.update(conn.execute(select(table.c[column]).where(table.c[column].in_(digests))).scalars())
    return found


def drop_unreferenced(ws: Workspace, digests: list[str]) -> None:
    """Remove from the file store what a failed recording put there first, unless a record refers to it (another
    command that stored the same file at the same moment and won)."""
    if not digests:
        return
    with ws.engine.connect() as conn:
        keep = referenced(conn, digests)
    for digest in digests:
        if digest not in keep:
            ws.files.remove(digest)
