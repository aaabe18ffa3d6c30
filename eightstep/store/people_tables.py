"""The tables of the people a case names and of the owners' self-governance: the register of people and the
roles they hold (with the duty rota's plan), the canvassing visits, the elevator companies' schemes and the owners'
choice among them, and the meetings on record.

Part of the one schema of ``eightstep.store.tables`` (same ``metadata``), kept in their own module for size.
"""

from __future__ import annotations

from sqlalchemy import Column, Date, ForeignKey, Integer, Table, Text, UniqueConstraint

from eightstep.store.columns import _case_id, _id, _int, _text, _voided, _when, metadata

# A person or organisation a case names (the register, issue 14): recorded once per case, by name, with how to
# reach them; the roles they hold are ``case_roles`` rows.
case_people = Table(
    "case_people", metadata,
    _id(),
    _case_id(),
    _text("name"),
    _text("phone", nullable=True),
    _text("id_number", nullable=True),
    _text("address", nullable=True),
    _when("recorded_at"),
    UniqueConstraint("case_id", "name"),
)
PERSON_FK = "fk_case_roles_person_id"  # named: a constraint added to an existing table needs a name (its migration)

# --- canvassing, schemes, self-governance ----------------------------------------------------------------

# One visit or call to a household (推): its stance then and the concern it raised, in its own words.
canvass_entries = Table(
    "canvass_entries", metadata,
    _id(),
    _case_id(),
    Column("household_id", Integer, ForeignKey("households.id"), nullable=False, index=True),
    _text("stance"),  # supportive | hesitant | opposed
    _text("concern", nullable=True),  # as said, free text
    _text("kinds", default=""),  # the concern's kinds, comma-separated: light,noise,cost,space,...
    _text("visited_by", nullable=True),  # who visited or called
    _when("at"),
    _when("recorded_at"),
    *_voided(),
)

# An elevator company's scheme for the unit (联); ``proposed_from`` names the pilot case it was carried from.
schemes = Table(
    "schemes", metadata,
    _id(),
    _case_id(),
    _text("company"),
    _int("price_fen"),
    _text("entry", nullable=True),  # level | half_floor
    _int("duration_days", nullable=True),
    _text("note", nullable=True),
    _text("file_name", nullable=True),  # the proposal, stored in the file store by content hash
    _text("file_sha256", 64, nullable=True),
    _text("proposed_from", nullable=True),  # the case whose chosen scheme this is a copy of (complex rollout)
    Column("share_rule", Text, nullable=True),  # JSON: the pilot's cost-share rule, as proposed
    _when("added_at"),
    *_voided(),
    _int("load_kg", nullable=True),  # the elevator's rated load
    _int("speed_cms", nullable=True),  # its rated speed in cm/s (1.00 m/s is 100)
    _int("stops", nullable=True),
)

# The owners' choice of a scheme; a later choice replaces an earlier one (both stay on record).
scheme_choices = Table(
    "scheme_choices", metadata,
    _id(),
    _case_id(),
    Column("scheme_id", Integer, ForeignKey("schemes.id"), nullable=False, index=True),
    Column("reason", Text, nullable=False),
    _when("at"),
    _text("actor"),
)

# A role someone of the case's register holds from ``since`` (until ``until`` when a role held by one at a time
# passed to another): owner representative, agent, negotiation group (with a side), self-management group, duty
# rota, use-management unit, property company, ... (``eightstep.roles``).
case_roles = Table(
    "case_roles", metadata,
    _id(),
    _case_id(),
    _text("role"),
    _text("name"),  # the person's name (as in case_people), read on its own by the actor lookups
    _text("room", nullable=True),  # the member's flat, when an owner of the unit
    _text("side", nullable=True),  # negotiators: high_floor | low_floor | community | technician
    _text("note", nullable=True),
    _when("since"),
    _when("recorded_at"),
    *_voided(),  # voided_at: the end of a term ended by a correction (role.end); until: passed to another
    Column("person_id", Integer, ForeignKey("case_people.id", name=PERSON_FK), nullable=False, index=True),
    _when("until", nullable=True),
)

# How the duty rota turns (recorded with ``role rota``): one member a week or a month, from ``starts_on``; the
# latest plan by a date is the one in force then.
rota_plans = Table(
    "rota_plans", metadata,
    _id(),
    _case_id(),
    _text("every"),  # week | month
    Column("starts_on", Date, nullable=False),
    _when("at"),
    _when("recorded_at"),
)

# A meeting of the case on record: who attended and what was decided (brand, budget, cost shares, ...).
meetings = Table(
    "meetings", metadata,
    _id(),
    _case_id(),
    _text("kinds"),  # comma-separated: brand,budget,cost_shares,objection_remedy,other
    _when("held_at"),
    Column("attendees", Text, nullable=False),  # JSON list of names
    Column("decision", Text, nullable=False),
    _text("file_name", nullable=True),  # the minutes, stored in the file store by content hash
    _text("file_sha256", 64, nullable=True),
    _text("actor"),
    _when("recorded_at"),
    *_voided(),
)
