"""The audit: stalled cases (``stalled``), the overview (``report``), complex progress (``progress``) and
tamper evidence (``verify``)."""
