"""Build a database exactly as eightstep 0.1.0 did, before it had migrations (create_all, then the meta rows).

    python released_schema.py URL_OR_SQLITE_PATH

Run as its own process: the frozen tables of that release (released_models.py, never edited) would clash with
eightstep's own tables in one SQLModel.metadata.
"""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

from sqlmodel import Session, SQLModel, create_engine


def build(target: str) -> None:
    spec = importlib.util.spec_from_file_location("released_models", Path(__file__).with_name("released_models.py"))
    assert spec is not None and spec.loader is not None
    models = importlib.util.module_from_spec(spec)
    sys.modules["released_models"] = models
    spec.loader.exec_module(models)
    url = target if "://" in target else f"sqlite:///{Path(target).resolve()}"
    engine = create_engine(url)
    try:
        SQLModel.metadata.create_all(engine)
        with Session(engine) as session:  # what the release's store.db.create_schema wrote
            session.add(models.Meta(key="schema_version", value=str(models.SCHEMA_VERSION)))
            session.add(models.Meta(key="created_at", value=datetime.now(UTC).isoformat()))
            session.commit()
    finally:
        engine.dispose()


if __name__ == "__main__":
    build(sys.argv[1])
