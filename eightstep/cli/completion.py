"""Shell completion of what only the database knows: case ids, the document and approval kinds of a case's
workflow, form names. (click completes commands, options and choices itself.)

While completing, click parses the line without running any command, so the database is found here from the
line's own --db, then $EIGHTSTEP_DB, then the settings file. A completion never fails: anything wrong gives no
suggestion."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import click
from click.shell_completion import CompletionItem

if TYPE_CHECKING:
    from eightstep.store.workspace import Workspace

LIMIT = 200  # suggestions at most


@contextmanager
def _workspace(ctx: click.Context) -> Iterator[Workspace]:
    from eightstep.cli import Settings

    root = ctx.find_root()
    settings = Settings(root.params.get("db"), tuple(root.params.get("workflow_dirs") or ()),
                        tuple(root.params.get("holiday_dirs") or ()))
    ws = settings.workspace()
    try:
        yield ws
    finally:
        ws.dispose()


def _safely(produce: Callable[[], list[str]], incomplete: str) -> list[CompletionItem]:
    try:
        values = produce()
    except Exception:
        return []
    return [CompletionItem(v) for v in values if v.lower().startswith(incomplete.lower())][:LIMIT]


def case_ids(ctx: click.Context, incomplete: str) -> list[CompletionItem]:
    def produce() -> list[str]:
        from eightstep import engine

        with _workspace(ctx) as ws:
            return [v.id for v in engine.list_cases(ws)]

    return _safely(produce, incomplete)


def _case_workflow(ctx: click.Context) -> Any:
    from eightstep import engine

    # an option still being typed (--to con<TAB>) leaves the line's arguments unparsed, in ctx.args
    case_id = ctx.params.get("case_id") or (ctx.args[0] if ctx.args else None)
    if not case_id:
        raise LookupError("no case on the line yet")  # nothing to complete (_safely offers nothing)
    with _workspace(ctx) as ws:
        view = engine.show_case(ws, case_id)
        return ws.workflows.get(view.workflow_id).definition


def document_kinds(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return _safely(lambda: list(_case_workflow(ctx).documents), incomplete)


def approval_kinds(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return _safely(lambda: list(_case_workflow(ctx).approvals), incomplete)


def stage_ids(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    return _safely(lambda: [s.id for s in _case_workflow(ctx).stages], incomplete)


def form_names(ctx: click.Context, _param: click.Parameter, incomplete: str) -> list[CompletionItem]:
    def produce() -> list[str]:
        from eightstep.paperwork.names import form_ids, template_dirs

        return sorted(form_ids(template_dirs(ctx.params.get("template_dirs") or ())))

    return _safely(produce, incomplete)
