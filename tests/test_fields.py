"""A library message about one input names its parameter (``field=``), never a CLI flag; the CLI names the
option that parameter has on the command that was run (``--load`` for ``load_kg``)."""

from __future__ import annotations

import click
import pytest

from eightstep.cli import main
from eightstep.cli.base import field_label, walk
from eightstep.errors import InputError
from eightstep.records.roles import parse_id_number
from eightstep.records.schemes import check_facts


def command(path: str) -> click.Command:
    return {" ".join(p): c for p, c in walk(main)}[path]


@pytest.mark.parametrize(("facts", "field", "option", "detail"), [
    ((6000, None, None), "load_kg", "--load", "6000: the rated load in kg, 100 to 5000 (e.g. 800)"),
    ((None, 5, None), "speed_cms", "--speed", "the rated speed in m/s, 0.10 to 10.00 (e.g. 1.0)"),
    ((None, None, 1), "stops", "--stops", "1: the landings served, 2 to 100"),
])
def test_scheme_facts_name_their_parameter(facts: tuple[int | None, int | None, int | None], field: str,
                                           option: str, detail: str) -> None:
    with pytest.raises(InputError) as caught:
        check_facts(*facts)
    assert (caught.value.field, caught.value.detail) == (field, detail)
    assert "--" not in str(caught.value)
    assert field_label([command("scheme add")], field) == option


def test_id_number_names_its_parameter() -> None:
    with pytest.raises(InputError) as caught:
        parse_id_number("12345")
    assert caught.value.field == "id_number"
    assert str(caught.value) == "id_number: '12345' is not a resident ID number (18 characters: 17 digits and a " \
                                "digit or X)"
    assert field_label([command("role contact")], "id_number") == "--id-number"
