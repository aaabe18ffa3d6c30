"""What each kind of record that can be voided is called, for a person (translated when shown).

No imports beyond i18n: the CLI's void commands read it at start-up (their --help must not load the library), and
the library's refusals name the kind.
"""

from __future__ import annotations

from eightstep.i18n import N_, _

NOUNS = {"document": N_("document"), "approval": N_("approval"), "ballot": N_("ballot"),
         "household": N_("household"), "objection": N_("objection"), "mediation": N_("mediation step"),
         "meeting": N_("meeting"), "scheme": N_("scheme"), "role": N_("role"), "canvass": N_("canvass entry"),
         "party": N_("party"), "funding": N_("funding"), "money_line": N_("money line"), "payment": N_("payment"),
         "certificate": N_("share certificate"), "invoice": N_("invoice"), "settlement": N_("settlement"),
         "subsidy_step": N_("subsidy step"), "elevator": N_("elevator record"), "policy": N_("insurance policy"),
         "incident": N_("incident"), "repair": N_("repair")}

# A case's status (``eightstep.workflow.status``) as a person reads it; JSON and CSV keep the code.
STATUSES = {"active": N_("active"), "suspended": N_("suspended"), "withdrawn": N_("withdrawn")}


def status_name(code: str) -> str:
    """A case's status in the interface language (an unknown code as it is)."""
    return _(STATUSES[code]) if code in STATUSES else code
