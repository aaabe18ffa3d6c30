"""Backups: one archive holding a consistent snapshot of the SQLite database, the files store and a manifest;
and its restore into a new database.

The snapshot is taken with SQLite's online backup API in one step, so it is the database as it stood at one
moment even while other processes write (WAL readers never block writers). The files of the store are copied
after it, each checked against its name (its SHA-256). The archive is a zip file::

    manifest.json            format, time, eightstep version, schema revision, the database's sha256 and size,
                             every stored file's sha256 and size, counts of cases and events
    eightstep.db             the snapshot
    files/ab/ab12...         the files store, as on disk

A PostgreSQL database is backed up with pg_dump (the server's own consistent snapshot); this module refuses it
and says how.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eightstep import __version__
from eightstep.errors import InputError
from eightstep.i18n import _
from eightstep.store.db import sqlite_path
from eightstep.store.files import CHUNK, FILE_COLUMNS, sha256_file
from eightstep.store.outputs import Outputs
from eightstep.store.workspace import Workspace, locate
from eightstep.timeutil import iso_local, now_utc

FORMAT = "eightstep-backup/1"
DB_MEMBER = "eightstep.db"
MANIFEST = "manifest.json"
_BLOB = re.compile(r"[0-9a-f]{64}")
_FILE_MEMBER = re.compile(r"files/([0-9a-f]{2})/([0-9a-f]{64})")


@dataclass
class BackupResult:
    path: Path
    manifest: dict[str, Any]
    missing: list[str] = field(default_factory=list)  # files the snapshot refers to that the store lacks
    damaged: list[str] = field(default_factory=list)  # stored files whose content no longer matches their name


def backup(ws: Workspace, target: Path, outputs: Outputs) -> BackupResult:
    """Write the archive of ``ws`` to ``target`` (staged by ``outputs``: renamed into place on success)."""
    db_path = sqlite_path(ws.url)
    if db_path is None:
        raise InputError(_(
            "PostgreSQL databases are backed up with the server's own tool, which takes a consistent snapshot while "
            "others write: pg_dump -Fc -f eightstep.dump DBNAME, together with a copy of the files folder {files}. "
            "Check the dump: restore it into a scratch database (createdb scratch; pg_restore -d scratch "
            "eightstep.dump) and verify that one with eightstep's audit").format(files=ws.files.root))
    archive = outputs.stage(target)
    with tempfile.TemporaryDirectory(prefix="eightstep-backup-") as scratch:
        snapshot = Path(scratch) / DB_MEMBER
        _snapshot(db_path, snapshot)
        counts, revision, referenced = _describe(snapshot)
        files = sorted(_stored_files(ws.files.root))
        damaged: list[str] = []
        manifest: dict[str, Any] = {
            "format": FORMAT, "created_at": iso_local(now_utc()), "generator": f"eightstep {__version__}",
            "source": str(db_path), "schema_revision": revision, **counts,
            "database": {"file": DB_MEMBER, "sha256": sha256_file(snapshot), "bytes": snapshot.stat().st_size},
            "files": []}
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
            zf.write(snapshot, DB_MEMBER)
            for digest, path in files:
                actual = sha256_file(path)
                if actual != digest:  # never carry a damaged file into a backup as if it were sound
                    damaged.append(digest)
                    continue
                zf.write(path, f"files/{digest[:2]}/{digest}", compress_type=zipfile.ZIP_STORED)
                manifest["files"].append({"sha256": digest, "bytes": path.stat().st_size})
            zf.writestr(MANIFEST, json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    kept = {f["sha256"] for f in manifest["files"]}
    return BackupResult(target, manifest, sorted(referenced - kept - set(damaged)), damaged)


def _snapshot(source: Path, target: Path) -> None:
    """The database as it stands at one moment (the online backup API, all pages in one step)."""
    src = sqlite3.connect(f"file:{source}?mode=ro", uri=True, timeout=10)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
        dst.execute("PRAGMA journal_mode=DELETE")  # one self-contained file
    except sqlite3.Error as exc:
        raise InputError(_("cannot read the database {path} for the backup: {reason}").format(
            path=source, reason=exc)) from None
    finally:
        dst.close()
        src.close()


def _describe(db: Path) -> tuple[dict[str, int], str | None, set[str]]:
    """(counts of cases and events, schema revision, sha256 of every file a record refers to) of a snapshot."""
    con = sqlite3.connect(db)
    try:
        revision = con.execute("SELECT version_num FROM alembic_version").fetchone()
        counts = {"cases": con.execute("SELECT count(*) FROM cases").fetchone()[0],
                  "events": con.execute("SELECT count(*) FROM events").fetchone()[0]}
        referenced: set[str] = set()
        for table, column in FILE_COLUMNS:
            if column not in {r[1] for r in con.execute(f"PRAGMA table_info({table})")}:
                continue  # a database from before the column (approvals' files came with revision 0013)
            referenced |= {r[0] for r in con.execute(f"SELECT {column} FROM {table} WHERE {column} IS NOT NULL")}
    except sqlite3.Error as exc:
        raise InputError(_("the database is not an eightstep database that can be backed up: {reason}").format(
            reason=exc)) from None
    finally:
        con.close()
    return counts, revision[0] if revision else None, referenced


def _stored_files(root: Path) -> Iterator[tuple[str, Path]]:
    if not root.is_dir():
        return
    for fan in sorted(root.iterdir()):
        if fan.is_dir() and len(fan.name) == 2:
            for path in sorted(fan.iterdir()):
                if _BLOB.fullmatch(path.name) and path.name.startswith(fan.name) and path.is_file():
                    yield path.name, path


# --- restore --------------------------------------------------------------------------------------------------

@dataclass
class RestoreResult:
    db: Path
    files_root: Path
    manifest: dict[str, Any]
    files_added: int


def read_manifest(zf: zipfile.ZipFile, where: Path) -> dict[str, Any]:
    """The archive's manifest, checked for shape; every member name is one eightstep writes (no paths that
    could escape the target folder)."""
    names = zf.namelist()
    strange = [n for n in names if n not in (MANIFEST, DB_MEMBER) and not _FILE_MEMBER.fullmatch(n)]
    if MANIFEST not in names or DB_MEMBER not in names or strange:
        raise InputError(_("{path} is not a backup written by eightstep{detail}").format(
            path=where, detail=f" (unexpected {strange[0]!r})" if strange else ""))
    try:
        manifest = json.loads(zf.read(MANIFEST).decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        manifest = None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT:
        raise InputError(_("{path} is not a backup written by eightstep (its manifest is not {format})").format(
            path=where, format=FORMAT))
    return manifest


def restore(archive: Path, db: str, outputs: Outputs) -> RestoreResult:
    """Restore ``archive`` into the new SQLite database ``db`` and its files store (beside it, or
    ``EIGHTSTEP_FILES``). Every member is checked against the manifest before the database is put in place."""
    _url, db_path, files_root = locate(db)
    if db_path is None:
        raise InputError(_("restore into a new SQLite file; a PostgreSQL database is restored with pg_restore"))
    try:
        exists = db_path.exists()
    except OSError:
        exists = False  # a name the file system cannot take: outputs.check says so
    if exists:
        raise InputError(_("{path} already exists: restore into a new database").format(path=db_path))
    outputs.check(db_path)  # protected, parent folder, a name the file system takes
    try:
        zf = zipfile.ZipFile(archive)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(_("{path} is not a backup written by eightstep ({reason})").format(
            path=archive, reason=getattr(exc, "strerror", None) or exc)) from None
    with zf:
        manifest = read_manifest(zf, archive)
        expected = {f["sha256"]: f["bytes"] for f in manifest.get("files", []) if isinstance(f, dict)}
        staged = outputs.stage(db_path)
        _extract(zf, DB_MEMBER, staged, manifest["database"]["sha256"], manifest["database"]["bytes"], archive)
        added = 0
        with _files_into(files_root) as made:
            for name in zf.namelist():
                m = _FILE_MEMBER.fullmatch(name)
                if m is None:
                    continue
                digest = m.group(2)
                if digest not in expected or m.group(1) != digest[:2]:
                    raise InputError(_("{path}: {member} is not listed in its manifest").format(path=archive,
                                                                                              member=name))
                target = files_root / digest[:2] / digest
                if target.exists() and sha256_file(target) == digest:
                    continue
                target.parent.mkdir(parents=True, exist_ok=True)
                part = target.with_name(f".incoming-{digest}")
                _extract(zf, name, part, digest, expected[digest], archive)
                part.replace(target)
                target.chmod(0o444)
                made.append(target)
                added += 1
            outputs.commit()  # the database last: a restore that failed leaves no database behind
    return RestoreResult(db_path, files_root, manifest, added)


@contextmanager
def _files_into(root: Path) -> Iterator[list[Path]]:
    """The files a restore adds to the store; removed again if the restore fails."""
    made: list[Path] = []
    try:
        yield made
    except BaseException:
        for path in made:
            path.chmod(0o644)
            path.unlink(missing_ok=True)
        raise


def _extract(zf: zipfile.ZipFile, member: str, target: Path, sha256: str, size: int, where: Path) -> None:
    """Copy ``member`` to ``target`` checking its hash and never writing more than ``size`` bytes."""
    digest = hashlib.sha256()
    written = 0
    try:
        with zf.open(member) as src, target.open("wb") as out:
            while chunk := src.read(CHUNK):
                written += len(chunk)
                if written > size:
                    break
                digest.update(chunk)
                out.write(chunk)
    except (OSError, zipfile.BadZipFile, EOFError) as exc:
        target.unlink(missing_ok=True)
        raise InputError(_("{path}: cannot read {member} ({reason})").format(path=where, member=member,
                                                                             reason=exc)) from None
    if written != size or digest.hexdigest() != sha256:
        target.unlink(missing_ok=True)
        raise InputError(_("{path}: {member} does not match its manifest (damaged or altered backup)").format(
            path=where, member=member))
