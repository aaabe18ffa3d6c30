"""Tools for people changing the schema (see docs/migrations.md). Run from a source checkout:

    python -m eightstep.store.migrations new "add meetings"    # autogenerate the next revision from the tables
    python -m eightstep.store.migrations new --empty "fill x"  # an empty revision, for a data migration by hand
    python -m eightstep.store.migrations check                 # exit 1 when the tables differ from the revisions
    python -m eightstep.store.migrations sql [--from REV]      # the PostgreSQL DDL of the upgrade, for review

``new`` builds a scratch SQLite database at the current head, compares it with the tables
(``eightstep.store.tables.metadata``), writes ``versions/NNNN_<slug>.py`` with the next number, appends it to
``REVISIONS`` in ``__init__.py``, and runs ``ruff check --fix`` on the file when ruff is installed. Read the file before
committing: autogenerate cannot tell a rename from a drop and an add, and a new NOT NULL column needs a
``server_default`` so that existing rows get a value.
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import create_engine

from eightstep.store.migrate import MIGRATIONS_DIR, alembic_config
from eightstep.store.tables import metadata

_REVISIONS_BLOCK = re.compile(r"(REVISIONS: tuple\[str, \.\.\.\] = \(\n)(.*?)(\))", re.S)


def _scratch_at_head(directory: Path, folder: Path) -> str:
    url = f"sqlite:///{folder / 'scratch.db'}"
    engine = create_engine(url)
    try:
        with engine.begin() as connection:
            command.upgrade(alembic_config(connection, directory=directory), "head")
    finally:
        engine.dispose()
    return url


def differences(directory: Path = MIGRATIONS_DIR) -> list[object]:
    """What autogenerate would write: the tables (eightstep.store.tables.metadata) against a database at head."""
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(_scratch_at_head(directory, Path(folder)))
        try:
            with engine.connect() as connection:
                context = MigrationContext.configure(connection, opts={"compare_type": True})
                return list(compare_metadata(context, metadata))
        finally:
            engine.dispose()


def new_revision(message: str, *, directory: Path = MIGRATIONS_DIR, empty: bool = False) -> Path:
    """Write the next revision into ``directory``/versions and list it in ``directory``/__init__.py."""
    script = ScriptDirectory.from_config(alembic_config(directory=directory))
    heads = script.get_heads()
    if len(heads) != 1:
        raise SystemExit(f"expected one head revision, found {heads}: merge them first")
    rev_id = f"{int(heads[0]) + 1:04d}"
    if not empty and not differences(directory):
        raise SystemExit("the tables match the revisions: nothing to generate (use --empty for a data migration)")
    with tempfile.TemporaryDirectory() as folder:
        engine = create_engine(_scratch_at_head(directory, Path(folder)))
        try:
            with engine.begin() as connection:
                written = command.revision(alembic_config(connection, directory=directory), message=message,
                                           autogenerate=not empty, rev_id=rev_id)
        finally:
            engine.dispose()
    assert written is not None and not isinstance(written, list)
    path = Path(written.path)
    _list_revision(directory / "__init__.py", rev_id)
    beside = Path(sys.executable).with_name("ruff")
    ruff = shutil.which("ruff") or (str(beside) if beside.is_file() else None)
    if ruff:
        subprocess.run([ruff, "check", "--fix", "--quiet", str(path)], check=False)
    return path


def _list_revision(init_file: Path, rev_id: str) -> None:
    text = init_file.read_text(encoding="utf-8")
    match = _REVISIONS_BLOCK.search(text)
    if match is None:
        raise SystemExit(f"{init_file}: no `REVISIONS: tuple[str, ...] = (` block to append {rev_id} to")
    body = match.group(2) + f'    "{rev_id}",\n'
    init_file.write_text(text[:match.start(2)] + body + text[match.end(2):], encoding="utf-8")


def upgrade_sql(start: str | None = None) -> None:
    """Print the DDL of the upgrade (from ``start``, or from nothing) for PostgreSQL, without a database."""
    cfg = alembic_config(url="postgresql+psycopg://")
    command.upgrade(cfg, f"{start}:head" if start else "head", sql=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eightstep.store.migrations", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    new = sub.add_parser("new", help="autogenerate the next revision from the tables")
    new.add_argument("message")
    new.add_argument("--empty", action="store_true", help="write an empty revision (a data migration by hand)")
    sub.add_parser("check", help="exit 1 when the tables differ from the revisions")
    sql = sub.add_parser("sql", help="print the PostgreSQL DDL of the upgrade")
    sql.add_argument("--from", dest="start", help="the revision the database is at (default: an empty database)")
    args = parser.parse_args(argv)
    if args.command == "new":
        path = new_revision(args.message, empty=args.empty)
        print(f"wrote {path}\nread it, then run the tests (tests/test_migrations.py checks it against the tables)")
    elif args.command == "check":
        found = differences()
        for diff in found:
            print(diff)
        print("the tables differ from the revisions: add one with `new`" if found else "no differences")
        return 1 if found else 0
    else:
        upgrade_sql(args.start)
    return 0


if __name__ == "__main__":
    sys.exit(main())
