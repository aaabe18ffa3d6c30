"""The statuses of a case besides its stage (the case machine moves them: ``eightstep.workflow.machine``)."""

ACTIVE = "active"
SUSPENDED = "suspended"  # paused (mediation, litigation, ...): the stall clock stands still
WITHDRAWN = "withdrawn"  # for good (已撤销): the unit may get a new case
