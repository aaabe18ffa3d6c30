"""Procedure definitions: strict schema (``schema``), YAML loading with line numbers (``loader``), semantic checks
(``checks``), the registry of workflow files (``registry``), the stage machines (``machine``).

Import from the defining submodule; importing this package alone loads nothing (pydantic costs start-up time).
"""
