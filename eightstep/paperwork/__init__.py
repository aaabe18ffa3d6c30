"""Paperwork: the forms and notices of each stage, rendered from Jinja templates (HTML, PDF via WeasyPrint).

- ``names``: template folders and form ids (cheap, no Jinja).
- ``environment``: the sandboxed Jinja environment, filters, template versions, errors with file and line.
- ``casedata``, ``context``, ``forms``: one typed context per form, built from the case's records; a form whose
  data is incomplete refuses with everything that is missing.
- ``render``: render one form or pack a stage's forms, and log each in the case history.
- ``parties``: who the forms name (agent, use-management unit, property company, ...).
- ``pdf``: WeasyPrint, imported only when a PDF is asked for.
"""
