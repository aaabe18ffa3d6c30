"""Schema migrations (alembic). env.py, script.py.mako and versions/ live here so that the wheel carries them.

Only ``eightstep init`` imports alembic (through :mod:`eightstep.store.migrate`): every other command reads
``alembic_version`` with plain SQL and compares it with :data:`HEAD`, so start-up stays fast. The test suite
(tests/test_migrations.py) keeps :data:`REVISIONS` equal to the chain of files in versions/.

How to add a migration: docs/migrations.md (``python -m eightstep.store.migrations new "what changed"``).
"""

from __future__ import annotations

# Every revision, oldest first. `python -m eightstep.store.migrations new` appends the new one.
REVISIONS: tuple[str, ...] = (
    "0001",
    "0002",
    "0003",
    "0004",
    "0005",
    "0006",
    "0007",
    "0008",
    "0009",
    "0010",
    "0011",
    "0012",
    "0013",
)
HEAD = REVISIONS[-1]

# A database made before eightstep had migrations (tables from create_all, meta.schema_version = 1, no
# alembic_version table) has exactly the schema of this revision: `eightstep init` records it as such, then
# upgrades it.
UNVERSIONED = "0001"
UNVERSIONED_SCHEMA_VERSION = 1
