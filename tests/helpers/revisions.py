"""`eightstep init` with one more revision than the package has, written for a test.

The package's revisions are copied into a temporary folder with one more file, whose ``upgrade()`` is the given
body; `eightstep.store.migrate` is pointed at that folder and at the new head for the rest of the test.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from types import ModuleType

import pytest

REVISION = '''"""{message}"""

import sqlalchemy as sa
from alembic import op

revision = "{new}"
down_revision = "{head}"
branch_labels = None
depends_on = None


def upgrade() -> None:
    {body}


def downgrade() -> None:
    pass
'''


def one_more_revision(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, body: str, message: str,
                      heads: tuple[ModuleType, ...] = ()) -> str:
    """Add the revision (``body``: the lines of its ``upgrade()``); returns its number. ``heads``: more modules
    whose ``HEAD`` the test needs moved (`store.migrate` and `store.db` always are)."""
    from eightstep.store import db, migrate, migrations

    folder = tmp_path / "migrations"
    shutil.copytree(migrate.MIGRATIONS_DIR, folder, ignore=shutil.ignore_patterns("__pycache__"))
    new = f"{int(migrations.HEAD) + 1:04d}"
    (folder / "versions" / f"{new}_for_the_test.py").write_text(
        REVISION.format(message=message, new=new, head=migrations.HEAD, body=body), encoding="utf-8")
    real_config = migrate.alembic_config
    monkeypatch.setattr(migrate, "alembic_config", lambda connection=None, url=None: real_config(
        connection, url, directory=folder))
    for module in (migrate, db, *heads):
        monkeypatch.setattr(module, "HEAD", new)
    monkeypatch.setattr(migrate, "REVISIONS", (*migrations.REVISIONS, new))
    return new
