"""The ORM classes declare every column of their table, with its Python type, so that a type checker follows them.

SQLAlchemy ignores a ``Mapped[...]`` annotation that names no column of a class mapped with ``__table__``: these
tests are what keeps the declarations (``eightstep.store.models``, ``money_models``) true to the tables.
"""

from __future__ import annotations

import inspect
import typing
from datetime import datetime

import pytest
from sqlalchemy.orm import Mapped

from eightstep.store import models

CLASSES = sorted(models.Base.__subclasses__(), key=lambda cls: cls.__name__)


def _declared(cls: type) -> dict[str, object]:
    """The attribute annotations of ``cls`` itself, resolved: name -> the type inside ``Mapped[...]``."""
    hints = typing.get_type_hints(cls, include_extras=False)
    own = inspect.get_annotations(cls)
    declared = {}
    for name in own:
        hint = hints[name]
        if typing.get_origin(hint) is Mapped:
            declared[name] = typing.get_args(hint)[0]
    return declared


def _expected(column) -> object:
    python_type = column.type.python_type
    return python_type | None if column.nullable and not column.primary_key else python_type


@pytest.mark.parametrize("cls", CLASSES, ids=lambda cls: cls.__name__)
def test_every_column_is_declared_with_its_type(cls):
    declared = _declared(cls)
    columns = {column.key: column for column in cls.__table__.columns}
    assert set(declared) == set(columns), (
        f"{cls.__name__}: declare exactly the columns of {cls.__table__.name}: "
        f"missing {sorted(set(columns) - set(declared))}, not columns {sorted(set(declared) - set(columns))}")
    wrong = {name: (declared[name], _expected(column)) for name, column in columns.items()
             if declared[name] != _expected(column)}
    assert not wrong, f"{cls.__name__}: declared type differs from the column's (declared, column): {wrong}"


def test_every_table_has_its_class():
    mapped = {cls.__table__.name for cls in CLASSES}
    assert mapped == set(models.Base.metadata.tables), "a table without an ORM class, or a class without a table"


def test_a_nullable_column_is_optional_and_a_required_one_is_not():
    hints = _declared(models.Case)
    assert hints["stage"] is str
    assert typing.get_args(hints["review_at"]) == (datetime, type(None))


def test_the_plain_rows_declare_what_their_models_declare():
    """``eightstep.store.rows`` (the rows the recordings on Core write) has the columns of the ORM classes."""
    from eightstep.store import rows

    plain = rows.Row.__subclasses__()
    assert {cls.__name__ for cls in plain} >= {"Case", "Household", "Ballot", "Document", "Approval", "CanvassEntry"}
    for cls in plain:
        (model,) = [m for m in CLASSES if m.__table__ is cls.__table__]
        hints = {name: hint for name, hint in typing.get_type_hints(cls).items() if name != "__table__"}
        assert hints == _declared(model), cls.__name__
        assert cls.__name__ == model.__name__
