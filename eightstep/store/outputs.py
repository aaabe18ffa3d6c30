"""Files that commands write: never over the database or its files store, never over a file the command did not
create unless forced, written under a temporary name and renamed into place, and removed again on failure.

Every command that writes a file goes through :class:`Outputs`::

    with Outputs(protected_paths(ws.url, ws.files.root), force=force) as out:
        out.add(path, content)          # checked and written to a temporary file beside ``path``
        ...                             # e.g. record the render in the history
    # leaving the block renames every temporary file into place; an exception removes them instead
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

from eightstep.errors import InputError, Remedy
from eightstep.i18n import _

SQLITE_COMPANIONS = ("", "-wal", "-shm", "-journal")


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_FILE_MODE = 0o666 & ~_umask()


class OutputExistsError(InputError):
    """The output file exists and overwriting was not asked for. ``path`` names it."""

    def __init__(self, path: Path) -> None:
        self.path = path
        super().__init__(_("{path} already exists and is not written over (remove it, choose another name, or "
                           "force the overwrite)").format(path=path),
                         remedy=Remedy("output.force", {"path": str(path)}))


@dataclass(frozen=True)
class Protected:
    """What no output may touch: the SQLite database with its -wal, -shm and -journal files, and the files store
    (everything inside it). Paths are compared resolved (symbolic links followed) and, for files that exist, by
    identity (a hard link to the database is the database)."""

    files: tuple[Path, ...]
    folders: tuple[Path, ...]

    def why(self, path: Path) -> str | None:
        """Why ``path`` must not be written or created (None: it may)."""
        real = _real(path)
        for protected in self.files:
            if real == protected or _same_file(real, protected):
                return _("{path} is eightstep's database (or one of its journal files)").format(path=path)
        for folder in self.folders:
            if real == folder or folder in real.parents:
                return _("{path} is inside eightstep's files store {store}").format(path=path, store=folder)
        return None

    def check(self, path: Path) -> None:
        reason = self.why(path)
        if reason:
            raise InputError(_("refusing to write {path}: {reason}").format(path=path, reason=reason))


def protected_paths(db_path: Path | None, files_root: Path | None) -> Protected:
    """The protected paths of a workspace: ``db_path`` (None for a server database) and its files store."""
    files = tuple(_real(Path(f"{db_path}{suffix}")) for suffix in SQLITE_COMPANIONS) if db_path else ()
    folders = (_real(files_root),) if files_root is not None else ()
    return Protected(files, folders)


def _real(path: Path) -> Path:
    return Path(os.path.realpath(os.path.abspath(path)))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


class Outputs:
    """Files (and folders) one command writes, staged under temporary names until :meth:`commit`.

    ``force``: existing files may be replaced. A missing parent folder is an error, unless it was asked for with
    :meth:`folder` (``create=True``), which creates one level and removes it again on failure if it was new.
    """

    def __init__(self, protected: Protected, *, force: bool = False) -> None:
        self.protected = protected
        self.force = force
        self._staged: list[tuple[Path, Path]] = []  # (temporary file, target)
        self._new: set[Path] = set()  # targets that did not exist before this command
        self._targets: set[Path] = set()
        self._made_dirs: list[Path] = []
        self.written: list[Path] = []

    def __enter__(self) -> Outputs:
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        if kind is None:
            self.commit()
        else:
            self.abort()

    def folder(self, path: Path, *, create: bool = False) -> Path:
        """Check ``path`` as a folder to write into; with ``create`` make it when missing (its parent must exist)."""
        try:
            return self._folder(path, create)
        except OSError as exc:
            raise InputError(_("cannot write into {path}: {reason}").format(path=str(path)[:200],
                                                                           reason=exc.strerror or exc)) from None

    def _folder(self, path: Path, create: bool) -> Path:
        self.protected.check(path)
        if path.is_dir():
            return path
        if path.exists():
            raise InputError(_("{path} is a file, not a folder").format(path=path))
        if not create:
            raise InputError(_("no folder {path}").format(path=path))
        self._parent_exists(path)
        try:
            path.mkdir()
        except OSError as exc:
            raise InputError(_("cannot create the folder {path}: {reason}").format(
                path=path, reason=exc.strerror or exc)) from None
        self._made_dirs.append(path)
        return path

    def check(self, target: Path) -> None:
        """Refuse ``target`` before anything is written: protected, a folder, existing (unless forced), twice
        in one command, or in a missing folder."""
        try:
            self._check(target)
        except OSError as exc:  # a name too long for the file system, a name it cannot hold, ...
            raise InputError(_("cannot write {path}: {reason}").format(path=str(target)[:200],
                                                                       reason=exc.strerror or exc)) from None

    def _check(self, target: Path) -> None:
        self.protected.check(target)
        if target.is_dir():
            raise InputError(_("{path} is a folder; give the file to write").format(path=target))
        if target.exists() and not self.force:
            raise OutputExistsError(target)
        if _real(target) in self._targets:
            raise InputError(_("{path} would be written twice").format(path=target))
        if target.parent not in self._made_dirs:
            self._parent_exists(target)

    def add(self, target: Path, content: bytes) -> None:
        """Check ``target`` and write ``content`` to a temporary file beside it (renamed at :meth:`commit`)."""
        temp = self.stage(target)
        try:
            with temp.open("wb") as handle:
                handle.write(content)
                handle.flush()
                os.fsync(handle.fileno())
        except OSError as exc:
            raise InputError(_("cannot write {path}: {reason}").format(path=target, reason=exc.strerror or exc)) \
                from None

    def stage(self, target: Path) -> Path:
        """Check ``target`` and return the (empty) temporary file beside it for the caller to fill: for large
        outputs written in pieces. It is renamed to ``target`` at :meth:`commit`."""
        self.check(target)
        try:
            fd, name = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".part")
        except OSError as exc:
            raise InputError(_("cannot write into {folder}: {reason}").format(
                folder=target.parent, reason=exc.strerror or exc)) from None
        os.close(fd)
        temp = Path(name)
        os.chmod(temp, _FILE_MODE)  # what an ordinary new file gets (mkstemp makes it private)
        self._staged.append((temp, target))
        if not target.exists():
            self._new.add(target)
        self._targets.add(_real(target))
        return temp

    def commit(self) -> list[Path]:
        """Rename every staged file into place; the targets written. Without ``force`` an existing file that
        appeared meanwhile is not replaced."""
        try:
            for temp, target in self._staged:
                _place(temp, target, self.force)
                self.written.append(target)
        except BaseException:
            self.abort()
            raise
        self._staged = []
        return self.written

    def abort(self) -> None:
        """Remove what this command created (its temporary files, targets it placed, folders it made)."""
        for temp, _target in self._staged:
            temp.unlink(missing_ok=True)
        for target in self.written:
            if target in self._new:  # a file replaced with force is not brought back, but never removed
                target.unlink(missing_ok=True)
        for folder in reversed(self._made_dirs):
            shutil.rmtree(folder, ignore_errors=True)
        self._staged, self.written, self._made_dirs = [], [], []

    def _parent_exists(self, path: Path) -> None:
        parent = path.parent
        if not parent.is_dir():
            raise InputError(_("no folder {folder} to write {name} into (create it first)").format(
                folder=parent, name=path.name))


def _place(temp: Path, target: Path, force: bool) -> None:
    if force:
        os.replace(temp, target)
        return
    try:
        os.link(temp, target)  # fails when the target exists: never over a file that appeared meanwhile
    except FileExistsError:
        raise OutputExistsError(target) from None
    except OSError:  # a file system without hard links (FAT, some network shares)
        if target.exists():
            raise OutputExistsError(target) from None
        os.replace(temp, target)
        return
    temp.unlink()


@dataclass
class OwnedFolder:
    """A folder a command creates for itself (``demo --dir``): its parent must exist, it must be new or empty,
    and on failure it is removed again if the command made it."""

    path: Path
    created: bool = False

    def remove(self) -> None:
        """Remove what the command put there (the folder itself if it made it; it was empty otherwise)."""
        if self.created:
            shutil.rmtree(self.path, ignore_errors=True)
            return
        for child in self.path.iterdir():
            if child.is_dir() and not child.is_symlink():
                shutil.rmtree(child, ignore_errors=True)
            else:
                child.unlink(missing_ok=True)


def own_folder(path: Path, protected: Protected) -> OwnedFolder:
    """Make ``path`` (or take it when it is an empty folder) for a command that fills it."""
    try:
        return _own_folder(path, protected)
    except OSError as exc:
        raise InputError(_("cannot create the folder {path}: {reason}").format(path=str(path)[:200],
                                                                              reason=exc.strerror or exc)) from None


def _own_folder(path: Path, protected: Protected) -> OwnedFolder:
    protected.check(path)
    if path.exists():
        if not path.is_dir() or any(path.iterdir()):
            raise InputError(_("{path} already exists and is not an empty folder: choose another one or remove "
                               "it").format(path=path))
        return OwnedFolder(path)
    if not path.parent.is_dir():
        raise InputError(_("no folder {folder} to create {name} in (create it first)").format(
            folder=path.parent, name=path.name))
    try:
        path.mkdir()
    except OSError as exc:
        raise InputError(_("cannot create the folder {path}: {reason}").format(path=path, reason=exc.strerror or exc)) \
            from None
    return OwnedFolder(path, created=True)
