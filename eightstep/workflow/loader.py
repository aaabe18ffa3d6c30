"""Load workflow files: YAML with line numbers, strict schema, every problem reported at once."""

from __future__ import annotations

import difflib
import hashlib
import re
import typing
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from eightstep.errors import WorkflowError
from eightstep.i18n import _
from eightstep.workflow.checks import semantic_problems
from eightstep.workflow.lenient import best_effort, unwrap
from eightstep.workflow.loaded import LoadedWorkflow as LoadedWorkflow  # where it was defined before
from eightstep.workflow.schema import Workflow
from eightstep.workflow.values import WORKFLOW_ID_PATTERN


def content_hash(content: str) -> str:
    return hashlib.sha256(content.encode("utf-8")).hexdigest()


def load_workflow_file(path: Path, template_names: set[str] | None = None) -> LoadedWorkflow:
    """Read and validate one file; raise WorkflowError listing every problem as ``file:line: message``."""
    try:
        content = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise WorkflowError([_("{path}: no such file").format(path=path)]) from None
    except OSError as exc:  # a folder, no permission, ...
        raise WorkflowError([_("{path}: cannot read it ({reason})").format(path=path, reason=exc.strerror or exc)]) \
            from None
    except UnicodeDecodeError as exc:
        raise WorkflowError([_("{path}: not UTF-8 text ({reason}); save the file as UTF-8").format(
            path=path, reason=exc.reason)]) from None
    try:
        loaded = parse_workflow_text(content, str(path), template_names)
    except WorkflowError as exc:
        named = _file_name_problem(path, content)
        if named is None or named in exc.problems:
            raise
        raise WorkflowError([*exc.problems, named]) from None
    if loaded.id == path.stem.split("@", 1)[0]:  # (the usual case: no need to read the YAML again for the id's line)
        return loaded
    named = _file_name_problem(path, content)
    if named is not None:
        raise WorkflowError([named])
    return loaded


def _file_name_problem(path: Path, content: str) -> str | None:
    """A YAML file's id must be its file name (a valid id that differs; an invalid one is reported as such)."""
    if path.suffix not in (".yaml", ".yml"):
        return None
    try:
        data = _yaml().load(content)
    except (YAMLError, RecursionError):
        return None
    workflow_id = data.get("id") if isinstance(data, CommentedMap) else None
    if not isinstance(workflow_id, str) or not re.match(WORKFLOW_ID_PATTERN, workflow_id) \
            or workflow_id == path.stem.split("@", 1)[0]:
        return None
    return f"{path}:{_line_of(data, ('id',))}: " + _(
        "id {id!r} differs from the file name {name!r}; name the file {id}.yaml (or {id}@LABEL.yaml for another "
        "version of it) or change the id").format(id=workflow_id, name=path.name)


def parse_workflow_text(content: str, source: str, template_names: set[str] | None = None) -> LoadedWorkflow:
    """Validate workflow YAML text; ``source`` names it in messages (see ``_parse_workflow_text``).

    A file nested deeper than Python's recursion allows (thousands of brackets) is a problem of the file too.
    """
    try:
        return _parse_workflow_text(content, source, template_names)
    except RecursionError:
        raise WorkflowError([_("{source}: nested too deeply to be a workflow (lists or mappings thousands of levels "
                               "deep)").format(source=source)]) from None


def _parse_workflow_text(content: str, source: str, template_names: set[str] | None = None) -> LoadedWorkflow:
    """Validate workflow YAML text; ``source`` names it in messages.

    Every problem is reported at once: when the schema refuses values, the semantic checks (references,
    reachability, duplicates) still run on a best-effort reading of the file (``workflow.lenient.best_effort``), and a
    semantic problem at or under a key the schema already refused is left out (one problem, one report).
    """
    try:
        data = _yaml().load(content)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else "?"
        problem = (exc.problem or str(exc)).strip()
        hint = _(" (each key may appear once in a mapping)") if "duplicate key" in problem else ""
        raise WorkflowError([f"{source}:{line}: " + _("YAML error: {problem}").format(problem=problem) + hint]) \
            from None
    except YAMLError as exc:
        raise WorkflowError([f"{source}: " + _("YAML error: {problem}").format(problem=exc)]) from None
    if not isinstance(data, CommentedMap):
        raise WorkflowError([f"{source}:1: " + _("a workflow file is a mapping with keys id, version, stages, ...")])
    lines = content.splitlines()
    problems: list[tuple[int, str]] = []  # (line, message): reported in the order of the file
    refused: list[tuple[Any, ...]] = []
    renames: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
    definition: Workflow
    try:
        definition = Workflow.model_validate(data)
    except ValidationError as exc:
        errors = exc.errors()
        renames = _misspellings(errors)
        # A misspelled required key is one problem ("did you mean"), not two.
        errors = [e for e in errors if not (e["type"] == "missing" and tuple(e["loc"]) in renames.values())]
        problems = [(_line_of(data, err["loc"]), _explain(err, lines)) for err in errors]
        refused = [tuple(err["loc"]) for err in errors if err["type"] != "extra_forbidden"]
        # Unknown keys are set right (or aside); refused values are read as well as they can be: the
        # semantic checks below then report everything else in the same run.
        corrected = _corrected(data, renames)
        try:
            definition = Workflow.model_validate(corrected)
        except ValidationError:
            definition = best_effort(Workflow, corrected)
    back = {target: loc for loc, target in renames.items() if target is not None}
    for loc, message in semantic_problems(definition, template_names):
        if any(loc[:len(r)] == r for r in refused):
            continue  # the value there was refused by the schema: reported once, above
        problems.append((_line_of(data, _as_written(loc, back)), message))
    if problems:
        problems.sort(key=lambda p: p[0])
        raise WorkflowError(_unique([f"{source}:{line}: {message}" for line, message in problems]))
    return LoadedWorkflow(definition, source, content, content_hash(content))


def _as_written(loc: tuple[Any, ...], back: dict[tuple[Any, ...], tuple[Any, ...]]) -> tuple[Any, ...]:
    """A location in the corrected data as it is in the file (under the misspelled key it was renamed from)."""
    for target, written in back.items():
        if loc[:len(target)] == target:
            return (*written, *loc[len(target):])
    return loc


def _misspellings(errors: list[Any]) -> dict[tuple[Any, ...], tuple[Any, ...] | None]:
    """Unknown key location -> the missing key it most likely meant (None: no such key, drop it)."""
    missing = {tuple(e["loc"]) for e in errors if e["type"] == "missing"}
    out: dict[tuple[Any, ...], tuple[Any, ...] | None] = {}
    for err in errors:
        if err["type"] != "extra_forbidden":
            continue
        loc = tuple(err["loc"])
        candidates = [str(m[-1]) for m in missing if m[:-1] == loc[:-1]]
        close = difflib.get_close_matches(str(loc[-1]), candidates, n=1)
        out[loc] = (*loc[:-1], close[0]) if close else None
    return out


def _corrected(data: Any, renames: dict[tuple[Any, ...], tuple[Any, ...] | None]) -> Any:
    """A plain copy of ``data`` with misspelled keys renamed and other unknown keys left out."""
    def copy(node: Any, path: tuple[Any, ...]) -> Any:
        if isinstance(node, dict):
            out = {}
            for key, value in node.items():
                loc = (*path, key)
                if loc in renames:
                    target = renames[loc]
                    if target is None:
                        continue
                    key = target[-1]
                out[key] = copy(value, loc)
            return out
        if isinstance(node, list):
            return [copy(v, (*path, i)) for i, v in enumerate(node)]
        return node

    return copy(data, ())


def _yaml() -> YAML:
    yaml = YAML(typ="rt")
    yaml.allow_duplicate_keys = False
    return yaml


def _unique(items: list[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _line_of(data: Any, loc: tuple[Any, ...]) -> int:
    """The 1-based line of the deepest node of ``loc`` that exists in the YAML tree."""
    line = 1
    node = data
    for part in loc:
        if isinstance(node, CommentedMap) and part in node:
            line = node.lc.key(part)[0] + 1
            node = node[part]
        elif isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node):
            line = node.lc.item(part)[0] + 1
            node = node[part]
        else:
            if isinstance(node, CommentedMap | CommentedSeq):
                line = node.lc.line + 1
            break
    return line


def _explain(err: Any, lines: list[str]) -> str:
    """A pydantic error as a sentence that says where and what to do."""
    loc = tuple(err["loc"])
    where = _dotted(loc)
    kind = err["type"]
    if kind == "extra_forbidden":
        allowed = _allowed_keys(loc[:-1])
        hint = ""
        close = difflib.get_close_matches(str(loc[-1]), allowed, n=1)
        if close:
            hint = _("; did you mean {key!r}?").format(key=close[0])
        listing = _(" (allowed here: {keys})").format(keys=", ".join(allowed)) if allowed else ""
        return _("unknown key {key!r} at {where}").format(key=loc[-1], where=where) + hint + listing
    if kind == "missing":
        return _("missing key {where}: add it").format(where=where)
    if kind == "string_type":
        written = _written_value(lines, err) or str(err["input"])
        return _("{where}: expected text, got {written}; put it in quotes, e.g. \"{written}\"").format(
            where=where, written=written)
    if kind == "string_pattern_mismatch":
        return _("{where}: {value!r} is not a valid id; use lower-case ASCII letters, digits and underscores, "
                 "starting with a letter (titles carry the Chinese text)").format(where=where, value=err["input"])
    message = err["msg"]
    if message.startswith("Value error, "):
        message = message[len("Value error, "):]
    return f"{where}: {message}"


def _written_value(lines: list[str], err: Any) -> str | None:
    """The value as typed in the file (``2026.10``, not the float 2026.1), when it is on its key's line."""
    key = err["loc"][-1] if err["loc"] else None
    for line in lines:
        stripped = line.split("#", 1)[0].strip().lstrip("- ")
        if isinstance(key, str) and stripped.startswith(f"{key}:"):
            value = stripped.split(":", 1)[1].strip()
            if value and value.replace(".", "", 1).replace("-", "", 1).isdigit():
                return value
    return None


def _dotted(loc: tuple[Any, ...]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "top level"


def _allowed_keys(loc: tuple[Any, ...]) -> list[str]:
    """The field names of the model found at ``loc`` in the schema (empty when it is not a model)."""
    annotation: Any = Workflow
    for part in loc:
        annotation = unwrap(annotation)
        if isinstance(annotation, type) and issubclass(annotation, BaseModel):
            field = annotation.model_fields.get(str(part))
            if field is None:
                return []
            annotation = field.annotation
        elif typing.get_origin(annotation) is list:
            annotation = typing.get_args(annotation)[0]
        elif typing.get_origin(annotation) is dict:
            annotation = typing.get_args(annotation)[1]
        else:
            return []
    annotation = unwrap(annotation)
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []
