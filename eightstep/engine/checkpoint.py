"""Every row of a case as facts: what an event holds when the history restarts the projection of the rows.

The rows of a case are a projection of its history (``engine.facts``). An event in ``RESTARTS`` holds every row of
the case as it stood (``case_facts``), and the replay (``audit.projection``) starts again from it:

* ``checkpoint``: written by the upgrade to revision 0010 for the cases that existed then, whose older events
  carry no facts (with its own frozen copy of this code);
* ``case.import``: a case handed over from another database (``audit.handover``): its rows get this database's
  ids, so the facts of its older events name the keys of the database it came from.
"""

from __future__ import annotations

from sqlalchemy import Connection, select

from eightstep.engine.facts import CASE_TABLE, CASES, FACT_TABLES, PUT, Digest, fact_text, image, key_column
from eightstep.store import tables

CHECKPOINT = "checkpoint"
IMPORTED = "case.import"
RESTARTS = frozenset({CHECKPOINT, IMPORTED})


def case_facts(conn: Connection, case_id: str) -> tuple[list[str], str]:
    """Every row of the case as facts (the case row with its complex's name, then each fact table by key), and
    their summary for the event (``Event.facts``)."""
    case = conn.execute(select(CASE_TABLE, tables.complexes.c.name.label("complex_name"))
                        .outerjoin(tables.complexes, tables.complexes.c.id == CASE_TABLE.c.complex_id)
                        .where(CASE_TABLE.c.id == case_id)).one()
    texts = [fact_text(CASES, PUT, case_id, {"complex": case.complex_name, **image(CASE_TABLE, case._mapping)})]
    objections = tables.objections
    for name, table in FACT_TABLES.items():
        if "case_id" in table.c:
            query = select(table).where(table.c.case_id == case_id)
        else:  # a mediation step belongs to its objection's case
            query = select(table).join(objections, objections.c.id == table.c.objection_id).where(
                objections.c.case_id == case_id)
        key = key_column(table)
        for row in conn.execute(query.order_by(table.c[key])):
            texts.append(fact_text(name, PUT, row._mapping[key], image(table, row._mapping)))
    digest = Digest()
    for text in texts:
        digest.add(text)
    return texts, digest.summary()

