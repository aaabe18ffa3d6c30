"""Handing one case over: ``export_case`` writes its records, history, stored files and forms into one zip;
``import_case`` brings it into another database with its history intact (the same events and hashes, and one
event of its own), so that `audit verify` there checks it as it checked it here.

The archive::

    manifest.json        format, case, time, eightstep version, counts, sha256 of records.json, files, forms
    records.json         the case row, its complex and workflow snapshot, and every row of every table of the case
    files/ab/ab12...     the stored files its records refer to
    forms/CASE-FORM.html every form of the case whose data is complete (rendered, and logged, by the export)

Rows get new ids in the receiving database (another office's ids are its own); references between them (a
ballot's household, a mediation step's objection, a choice's scheme) follow. The events keep their content,
so their hashes and the chain are unchanged, and the import appends one event of its own, ``case.import``, by
the importing actor: the archive's source, time and digest, and the database logins that wrote the imported
events there (``logins``: runs of [first seq, last seq, login]), so the history shows who wrote each event where
it was written and that it came in by import; its facts (``engine.checkpoint``) are every row of the case under
this database's ids, from which `audit verify` compares the rows with the history. The imported rows' own
``login`` is this database's: on PostgreSQL the trigger sets it to the importing login (it did write them here),
on SQLite it stays empty. Their signatures were made with the source's key, which this database cannot check, so
they are left in the archive: with a signing key set here the ``case.import`` event is signed and vouches for the
history it brings in (as ``audit sign`` does for events written before the key).
"""

from __future__ import annotations

import hashlib
import json
import re
import tempfile
import zipfile
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Date, DateTime, Table, insert, select
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from eightstep import __version__
from eightstep.audit.signatures import IMPORT
from eightstep.engine.actors import checked_role
from eightstep.engine.cases import default_actor, get_case
from eightstep.engine.checkpoint import case_facts
from eightstep.engine.recording import drop_unreferenced, record_in
from eightstep.errors import InputError, NotFoundError
from eightstep.i18n import _
from eightstep.store import models, read, tables
from eightstep.store.files import FILE_COLUMNS, sha256_file
from eightstep.store.outputs import Outputs
from eightstep.store.workspace import Workspace
from eightstep.timeutil import iso_local, now_utc

FORMAT = "eightstep-case/1"
SKIPPED = {"case_checks"}  # derived (the guard-answer cache): rebuilt on the receiving side
_MEMBER = re.compile(r"manifest\.json|records\.json|files/[0-9a-f]{2}/[0-9a-f]{64}|forms/[^/\\]+\.html")
_FILE_REFS = FILE_COLUMNS


def case_tables() -> list[Table]:
    """The tables whose rows belong to a case, parents before children: those with a case_id, and those that
    refer to one of them (a mediation step to its objection)."""
    out: list[Table] = []
    for table in tables.metadata.sorted_tables:
        if table.name in SKIPPED or table.name in ("cases", "complexes", "workflow_snapshots", "meta"):
            continue
        parents = {fk.column.table.name for c in table.columns for fk in c.foreign_keys}
        if "case_id" in table.c or parents & {t.name for t in out}:
            out.append(table)
    return out


def _plain(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    return value


def _row_dicts(conn: Connection, table: Table, case_id: str, ids: dict[str, list[Any]]) -> list[dict[str, Any]]:
    if "case_id" in table.c:
        query = select(table).where(table.c.case_id == case_id)
    else:
        column, parent = next((c, fk.column.table.name) for c in table.columns for fk in c.foreign_keys)
        query = select(table).where(column.in_(ids.get(parent, [])))
    if "id" in table.c:
        query = query.order_by(table.c.id)
    rows = [{k: _plain(v) for k, v in row._mapping.items()} for row in conn.execute(query)]
    if "id" in table.c:
        ids[table.name] = [r["id"] for r in rows]
    return rows


def read_case(ws: Workspace, case_id: str) -> dict[str, Any]:
    """Everything the database holds of one case, as JSON-ready data."""
    cases, complexes = models.Case.__table__, models.Complex.__table__
    snapshots = models.WorkflowSnapshot.__table__
    with ws.engine.connect() as conn:
        case = conn.execute(select(cases).where(cases.c.id == case_id)).first()
        if case is None:
            raise NotFoundError(_("no case {case}").format(case=case_id))
        cx = conn.execute(select(complexes).where(complexes.c.id == case.complex_id)).one()
        snapshot = conn.execute(select(snapshots).where(snapshots.c.sha256 == case.workflow_sha256)).one()
        ids: dict[str, list[Any]] = {}
        tables = {t.name: _row_dicts(conn, t, case_id, ids) for t in case_tables()}
    return {"case": {k: _plain(v) for k, v in case._mapping.items()},
            "complex": {k: _plain(v) for k, v in cx._mapping.items()},
            "workflow_snapshot": {k: _plain(v) for k, v in snapshot._mapping.items()}, "tables": tables}


@dataclass
class Exported:
    path: Path
    manifest: dict[str, Any]


def export_case(ws: Workspace, case_id: str, target: Path, outputs: Outputs,
                forms: dict[str, bytes] | None = None) -> Exported:
    """Write the case's archive to ``target`` (staged by ``outputs``); ``forms``: file name -> rendered form."""
    data = read_case(ws, case_id)
    records = json.dumps(data, ensure_ascii=False, sort_keys=True, indent=1).encode("utf-8")
    referenced = sorted({row[column] for table, column in _FILE_REFS
                         for row in data["tables"].get(table, []) if row.get(column)})
    manifest: dict[str, Any] = {
        "format": FORMAT, "case": case_id, "exported_at": iso_local(now_utc()), "generator": f"eightstep {__version__}",
        "source": ws.where, "events": len(data["tables"]["events"]), "head": data["case"]["last_hash"],
        "records_sha256": hashlib.sha256(records).hexdigest(),
        "rows": {name: len(rows) for name, rows in data["tables"].items() if rows},
        "files": [], "forms": sorted(forms or {})}
    archive = outputs.stage(target)
    with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED, allowZip64=True) as zf:
        zf.writestr("records.json", records)
        for digest in referenced:
            path = ws.files.path_for(digest)
            if not path.is_file() or sha256_file(path) != digest:
                raise InputError(_("stored file {sha} of case {case} is missing or changed: run the audit's verify "
                                   "before handing the case over").format(sha=digest[:12], case=case_id))
            zf.write(path, f"files/{digest[:2]}/{digest}", compress_type=zipfile.ZIP_STORED)
            manifest["files"].append({"sha256": digest, "bytes": path.stat().st_size})
        for name, content in sorted((forms or {}).items()):
            zf.writestr(f"forms/{name}", content)
        zf.writestr("manifest.json", json.dumps(manifest, ensure_ascii=False, indent=1) + "\n")
    return Exported(target, manifest)


# --- import ---------------------------------------------------------------------------------------------------

def _open_archive(path: Path) -> tuple[dict[str, Any], dict[str, Any], zipfile.ZipFile]:
    try:
        zf = zipfile.ZipFile(path)
    except (OSError, zipfile.BadZipFile) as exc:
        raise InputError(_("{path} is not a case exported by eightstep ({reason})").format(
            path=path, reason=getattr(exc, "strerror", None) or exc)) from None
    names = zf.namelist()
    strange = [n for n in names if not _MEMBER.fullmatch(n)]
    if strange or "manifest.json" not in names or "records.json" not in names:
        zf.close()
        reason = (_("unexpected member {name}").format(name=repr(strange[0])) if strange
                  else _("no manifest.json or records.json"))
        raise InputError(_("{path} is not a case exported by eightstep ({reason})").format(path=path, reason=reason))
    try:
        manifest = json.loads(zf.read("manifest.json"))
        records_bytes = zf.read("records.json")
        data = json.loads(records_bytes)
    except (ValueError, zipfile.BadZipFile):
        zf.close()
        raise InputError(_("{path} is not a case exported by eightstep (unreadable manifest or records)").format(
            path=path)) from None
    if not isinstance(manifest, dict) or manifest.get("format") != FORMAT \
            or hashlib.sha256(records_bytes).hexdigest() != manifest.get("records_sha256"):
        zf.close()
        raise InputError(_("{path}: its records do not match its manifest (damaged or altered export)").format(
            path=path))
    return manifest, data, zf


def _typed(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    """JSON values back to the column types (times and dates)."""
    out = {}
    for key, value in row.items():
        column = table.c.get(key)
        if column is None:
            raise InputError(_("the export has a column {table}.{column} this eightstep does not know: upgrade "
                               "eightstep").format(table=table.name, column=key))
        if value is not None and isinstance(column.type, DateTime):
            value = datetime.fromisoformat(value)
        elif value is not None and isinstance(column.type, Date):
            value = date.fromisoformat(value)
        out[key] = value
    return out


@dataclass
class Imported:
    case_id: str
    events: int
    rows: int
    files_added: int


def import_case(ws: Workspace, path: Path, *, actor: str | None = None, as_role: str | None = None) -> Imported:
    """Bring the exported case in ``path`` into ``ws``: one transaction, ending with the ``case.import`` event by
    ``actor`` (acting as ``as_role``, else their role on record in the imported case); its files into the store
    first."""
    who, role = default_actor(actor), checked_role(as_role)
    manifest, data, zf = _open_archive(path)
    stored: list[str] = []  # the files this import put in the store first (removed again should it fail)
    try:
        with zf:
            expected = {f["sha256"]: f["bytes"] for f in manifest.get("files", [])}
            with tempfile.TemporaryDirectory(prefix="eightstep-import-") as scratch:
                for digest in expected:
                    member = f"files/{digest[:2]}/{digest}"
                    part = Path(scratch) / digest
                    with zf.open(member) as src, part.open("wb") as out:
                        out.write(src.read(expected[digest] + 1))
                    if sha256_file(part) != digest:
                        raise InputError(_("{path}: {member} does not match its manifest").format(path=path,
                                                                                                   member=member))
                    if not ws.files.path_for(digest).is_file():
                        ws.files.put(part)
                        stored.append(digest)
        rows = _import_rows(ws, data, manifest, who, role)
    except BaseException:
        drop_unreferenced(ws, stored)
        raise
    return Imported(data["case"]["id"], len(data["tables"].get("events", [])), rows, len(stored))


def _import_rows(ws: Workspace, data: dict[str, Any], manifest: dict[str, Any], actor: str, role: str | None) -> int:
    """Write the case's rows in one transaction, ending with its ``case.import`` event (``_import_event``);
    returns how many rows were written."""
    case_id = data["case"]["id"]
    rows = 0
    twice = InputError(_("case {case} already exists in {where}: it cannot be imported twice").format(
        case=case_id, where=ws.where))
    # ws.writing: a refusal of the database (a read-only login, another office's complex) is a message
    with ws.writing() as session:
        conn = session.connection()
        cases = models.Case.__table__
        if conn.execute(select(cases.c.id).where(cases.c.id == case_id)).first() is not None:
            raise twice
        complex_id = _complex_id(conn, data["complex"])
        snapshots = models.WorkflowSnapshot.__table__
        snapshot = _typed(snapshots, data["workflow_snapshot"])
        if conn.execute(select(snapshots.c.sha256).where(snapshots.c.sha256 == snapshot["sha256"])).first() is None:
            conn.execute(insert(snapshots), snapshot)
        try:  # a case this login cannot see (another office's), or imported at the same moment
            with session.begin_nested():
                conn.execute(insert(cases), {**_typed(cases, data["case"]), "complex_id": complex_id})
        except IntegrityError:
            raise twice from None
        new_ids: dict[str, dict[Any, Any]] = {}
        for table in case_tables():
            for row in data["tables"].get(table.name, []):
                values = _typed(table, row)
                if table.name == "events":  # written here by this login (PostgreSQL's trigger says so)
                    values.update(login=None, sig=None)
                old_id = values.pop("id", None) if "id" in table.c else None
                for column in table.columns:
                    for fk in column.foreign_keys:
                        parent = fk.column.table.name
                        if parent in new_ids and values.get(column.name) is not None:
                            values[column.name] = new_ids[parent][values[column.name]]
                result = conn.execute(insert(table).returning(table.c.id) if "id" in table.c else insert(table),
                                      values)
                if old_id is not None:
                    new_ids.setdefault(table.name, {})[old_id] = result.scalar_one()
                rows += 1
        _import_event(ws, session, data, manifest, actor, role)
    return rows


def _import_event(ws: Workspace, session: Session, data: dict[str, Any], manifest: dict[str, Any], actor: str,
                  role: str | None) -> None:
    """Record ``case.import`` on the imported history (``engine.recording``: the workflow's permissions decide
    who may, ``case.import``, as for any recording). Its facts are every row of the case under this database's
    ids: `audit verify` compares the rows with the history from it on."""
    case = get_case(session, data["case"]["id"])
    events = data["tables"].get("events", [])
    with record_in(session, case, read.workflow(session.connection(), ws.workflows, case), IMPORT, actor=actor,
                   as_role=role) as rec:
        rec.details = {"source": manifest.get("source"), "exported_at": manifest.get("exported_at"),
                       "records_sha256": manifest.get("records_sha256"), "events": len(events),
                       "signed_at_source": sum(1 for e in events if e.get("sig")), "logins": login_runs(events)}
        rec.write_facts(case_facts(session.connection(), case.id)[0])  # its rows under this database's ids


def login_runs(events: list[dict[str, Any]]) -> list[list[Any]]:
    """The database logins of ``events`` (in seq order) as runs [first seq, last seq, login]; none: empty."""
    runs: list[list[Any]] = []
    for event in events:
        login = event.get("login")
        if login is None:
            continue
        if runs and runs[-1][2] == login and runs[-1][1] == event["seq"] - 1:
            runs[-1][1] = event["seq"]
        else:
            runs.append([event["seq"], event["seq"], login])
    return runs


def origin_logins(events: list[Any]) -> dict[int, str]:
    """seq -> the login that wrote the event in the database it was imported from (``case.import`` events)."""
    out: dict[int, str] = {}
    for event in events:
        if event.action == IMPORT:
            for first, last, login in json.loads(event.details).get("logins", []):
                out.update(dict.fromkeys(range(first, last + 1), login))
    return out


def _complex_id(conn: Connection, cx: dict[str, Any]) -> int:
    complexes = models.Complex.__table__
    found = conn.execute(select(complexes.c.id).where(complexes.c.name == cx["name"])).first()
    if found is not None:
        return int(found[0])
    values = _typed(complexes, {k: v for k, v in cx.items() if k not in ("id", "office")})  # the importer's
    return int(conn.execute(insert(complexes).returning(complexes.c.id), values).scalar_one())
