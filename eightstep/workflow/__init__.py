"""Procedure definitions: strict schema, YAML loading with line numbers, semantic checks, state machines."""

from eightstep.workflow.loader import LoadedWorkflow, load_workflow_file, parse_workflow_text
from eightstep.workflow.registry import WorkflowRegistry
from eightstep.workflow.schema import ConsentRule, Stage, Workflow

__all__ = [
    "ConsentRule",
    "LoadedWorkflow",
    "Stage",
    "Workflow",
    "WorkflowRegistry",
    "load_workflow_file",
    "parse_workflow_text",
]
