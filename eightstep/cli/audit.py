"""`eightstep audit ...`: stalled cases and other overdue duties; verification of the history and stored files."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from eightstep.cli import Settings
from eightstep.cli.base import Group
from eightstep.cli.output import emit_json, emit_json_list, table
from eightstep.cli.outputs import force_option, outputs
from eightstep.cli.params import acting_options
from eightstep.cli.sheets import Sheet, csv_option, one_format, write_csv, wrote, xlsx_bytes, xlsx_option
from eightstep.i18n import N_, _, ngettext

if TYPE_CHECKING:
    from eightstep.audit.stalled import Finding

CSV_COLUMNS = ("type", "case", "complex", "building", "unit", "workflow", "stage", "stage_title", "status",
               "entered_on", "days_in_stage", "limit_days", "limit_calendar", "since", "due", "days_over",
               "waiting_on", "subject", "message", "blockers", "provisional")
CSV_LABELS = (N_("finding"), N_("case"), N_("complex"), N_("building"), N_("unit"), N_("workflow"), N_("stage"),
              N_("stage title"), N_("status"), N_("in stage since"), N_("days in stage"), N_("limit (days)"),
              N_("limit counted in"), N_("since"), N_("due"), N_("days over"), N_("waiting on"), N_("subject"),
              N_("message"), N_("blockers"), N_("provisional"))  # the .xlsx header, in the chosen language


class DateType(click.ParamType):
    """A calendar date, 2025-10-28 (or 2025/10/28, 2025年10月28日); may be in the future (to see what will be
    overdue)."""

    name = "DATE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> date:
        if isinstance(value, date):
            return value
        from eightstep.errors import InputError
        from eightstep.timeutil import check_date, parse_day

        field = f"--{param.name.replace('_', '-')}" if param and param.name else "DATE"
        try:
            return check_date(parse_day(str(value), field=field), field=field)
        except InputError as exc:
            self.fail(str(exc), param, ctx)


DATE = DateType()


def as_of_option(fn: Any) -> Any:
    return click.option("--as-of", "as_of", type=DATE, default=None,
                        help="As of this date (default today, Asia/Shanghai): each case as it stood at the end "
                             "of that day (its stage and status then, records dated later ignored), so the same "
                             "date always gives the same answer.")(fn)


@click.group(cls=Group)
def audit() -> None:
    """Find stalled cases and overdue duties; verify the tamper-evident history."""


@audit.command("stalled")
@as_of_option
@click.option("--complex", "complex_name", default=None, help="Only this complex (小区).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON list of findings (free text masked: owners' "
              "names, phone and ID numbers).")
@csv_option
@xlsx_option
@force_option
@click.pass_obj
def stalled(settings: Settings, as_of: date | None, complex_name: str | None, as_json: bool, as_csv: bool,
            xlsx_file: Path | None, force: bool) -> None:
    """Cases stuck in their stage past its limit, and other overdue duties, most overdue first.

    Flagged: stage_overdue (active case longer in its stage than the stage's stall limit, calendar or working
    days, suspended time excluded), objection_unmediated (open objection with no mediation step within the
    workflow's limit), maintenance_overdue, inspection_due / inspection_overdue (cases in operation), and
    suspension_review_overdue (suspended case past its review date, or suspended without one for longer than
    the workflow's suspension.review_within). Each finding names who it waits on and the case's blockers.

    Days are counted after the start day: working days when the limit is in working days (Chinese statutory
    holidays and 调休 weekends), else calendar days. A case is over its limit from the day after the limit's
    last day. Exit 0 whether or not anything is found.
    """
    one_format(json=as_json, csv=as_csv, xlsx=xlsx_file is not None)
    from eightstep.audit import stalled as audit_lib

    with outputs(settings, force) as out:
        if xlsx_file is not None:
            out.check(xlsx_file)  # before the work, not after it
        ws = settings.workspace()
        shared: Iterator[Finding] = iter(())
        texts: Iterator[str] = iter(())
        if as_json:  # leaves the office: names, phone and ID numbers masked; the blockers kept used as stored
            from eightstep.audit.redact import redact_items

            result, texts = audit_lib.stream_json(ws, as_of=as_of, complex_name=complex_name,
                                                  finish=lambda part: redact_items(ws, part))
        elif as_csv or xlsx_file is not None:  # leaves the office: names, phone and ID numbers masked
            from eightstep.audit.redact import redact_chunk

            # streamed: blockers, masking and output a few hundred findings at a time, most overdue first
            result, shared = audit_lib.stream(ws, as_of=as_of, complex_name=complex_name,
                                              finish=lambda part: redact_chunk(ws, part))
        else:
            result = audit_lib.find(ws, as_of=as_of, complex_name=complex_name)
            shared = iter(result.findings)
        count = len(result.findings)  # (the stream empties the list as it goes)
        if xlsx_file is not None:
            labels = [_(label) for label in CSV_LABELS]
            out.add(xlsx_file, xlsx_bytes([Sheet(str(result.as_of), labels, finding_rows(shared))]))
    if as_json:
        emit_json_list(texts, encoded=True)
    elif as_csv:
        write_csv(CSV_COLUMNS, finding_rows(shared))
    elif xlsx_file is not None:
        wrote(xlsx_file, count)
    else:
        print_findings(result.as_of, result.findings)


def finding_rows(findings: Iterable[Finding]) -> list[list[object]]:
    """One row per finding, in the order of CSV_COLUMNS."""
    return [[f.type, f.case, f.complex, f.building, f.unit, f.workflow_label, f.stage,
             f.stage_title, f.status, f.entered_on, f.days_in_stage, f.limit.days if f.limit else None,
             f.limit.calendar if f.limit else None, f.since, f.due, f.days_over, f.waiting_on, f.subject, f.message,
             " | ".join(b.message for b in f.blockers), "provisional" if f.provisional else ""] for f in findings]


def print_findings(as_of: date, findings: list[Finding]) -> None:
    click.echo(ngettext("Audit as of {day} (Asia/Shanghai): {count} finding",
                        "Audit as of {day} (Asia/Shanghai): {count} findings", len(findings)).format(
        day=as_of, count=len(findings)))
    if not findings:
        return
    click.echo()
    table([_("over"), _("type"), _("case"), _("unit"), _("stage"), _("since"), _("limit"), _("waiting on")],
          [[f"{f.days_over:+d}", f.type, f.case, f"{f.complex} {f.building}-{f.unit}",
            f"S{f.stage_index} {f.stage} {f.stage_title}", f.since.isoformat(), str(f.limit) if f.limit else "—",
            f.waiting_on] for f in findings])
    click.echo()
    for f in findings:
        click.echo(f"{f.case} [{f.type}] {f.message}")
        if f.provisional:
            click.echo("    " + _("(provisional: counted in working days across a year without official holiday "
                                  "data; weekends only)"))
        for b in f.blockers:
            click.echo(f"    [{b.type}] {b.message}")


@audit.command("anchor")
@click.option("-o", "--output", type=click.Path(path_type=Path, dir_okay=False, allow_dash=True), default="-",
              show_default=True, help="The file to write (- for standard output, e.g. to print it).")
@force_option
@click.pass_obj
def anchor_(settings: Settings, output: Path, force: bool) -> None:
    """Write an anchor: every case's number of events and last event hash, their digest and the time.

    Keep it outside the database (print it, mail it to the district, store it on another machine): `audit verify
    --anchor FILE` then catches a history rewritten, cut short or deleted since. With EIGHTSTEP_SIGNING_KEY set
    the anchor is signed (HMAC-SHA256), so it cannot be forged to match either.
    """
    from eightstep.audit.anchor import anchor_text, make_anchor

    anchor = make_anchor(settings.workspace())
    text = anchor_text(anchor)
    if str(output) == "-":
        click.echo(text, nl=False)
        return
    with outputs(settings, force) as out:
        out.add(output, text.encode("utf-8"))
    text = _("Anchor of {cases} cases ({events} events) written to {path}: digest {digest}").format(
        cases=anchor["cases"], events=anchor["events"], path=output, digest=anchor["digest"][:16])
    click.echo(text + (_(", signed") if "signature" in anchor else ""))


@audit.command("sign")
@click.option("--anchor", "anchor_file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Sign only if every history still matches this anchor (written by `audit anchor` and kept "
                   "elsewhere since).")
@click.option("--note", default=None, help="A note for each checkpoint, e.g. who checked what before signing.")
@acting_options
@click.pass_obj
def sign_(settings: Settings, anchor_file: Path | None, note: str | None, actor: str | None,
          as_role: str | None) -> None:
    """Vouch for the events written before the signing key was set: append a signed checkpoint (audit.sign) to
    every case with unsigned events.

    Needs EIGHTSTEP_SIGNING_KEY. Refused while a history is broken, a signature does not match or (with
    --anchor) a history differs from the anchor. Each event's hash covers the one before it, so the signed
    checkpoint fixes the whole history before it: `audit verify` then counts those events as covered. The
    checkpoint is an event of its own, dated now: the history shows that it was signed afterwards.
    """
    from eightstep.audit.signatures import sign_unsigned

    done = sign_unsigned(settings.workspace(), anchor=anchor_file, actor=actor, as_role=as_role, note=note)
    if done.cases == 0:
        click.echo(_("Every event is signed or covered by a checkpoint: nothing to sign."))
    else:
        click.echo(ngettext("Signed a checkpoint in {cases} case, covering {events} unsigned events.",
                            "Signed a checkpoint in {cases} cases, covering {events} unsigned events.",
                            done.cases).format(cases=done.cases, events=done.events))


@audit.command("verify")
@click.option("--anchor", "anchor_file", type=click.Path(path_type=Path, dir_okay=False, exists=True), default=None,
              help="Also compare with an anchor written earlier by `audit anchor` (a rewritten, cut or deleted "
                   "history since then).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.pass_obj
def verify_(settings: Settings, anchor_file: Path | None, as_json: bool) -> None:
    """Recompute every case's event hash chain, re-hash every stored file, and rebuild every case's rows from
    its history.

    Reports, per case, the first altered, inserted or deleted event (with its seq); every stored file (a
    document, a scheme's proposal, a meeting's minutes) that changed or went missing, with its case and record;
    every row that differs from what the case's history recorded (case, table, row, field), a cached guards'
    answer that a fresh check does not give, and a workflow snapshot whose rules were edited. Files in the store
    that no record refers to are listed. With --anchor, also every case deleted, cut short or rewritten since the
    anchor. With EIGHTSTEP_SIGNING_KEY set, also every event unsigned or signed for other content. Exit 0 when all
    is intact, 1 otherwise.
    """
    from eightstep.audit.verify import verify
    from eightstep.cli.progress import progress_bars

    ws = settings.workspace()
    with progress_bars({"events": _("Checking histories"), "files": _("Checking stored files")}) as bars:
        report = verify(ws, anchor=anchor_file, progress=bars)
    if as_json:
        emit_json(report.as_dict())
    else:
        if report.signatures is not None:
            for sp in report.signatures.problems:
                click.echo(_("BROKEN  case {case} event {seq}: {kind}: {message}").format(
                    case=sp.case_id, seq=sp.seq, kind=sp.kind, message=sp.message))
        if report.anchor is not None:
            for ap in report.anchor.problems:
                where = _("case {case}").format(case=ap.case_id) if ap.case_id else _("anchor")
                click.echo(_("BROKEN  {where}: {kind}: {message}").format(where=where, kind=ap.kind,
                                                                          message=ap.message))
        for p in report.chain_problems:
            click.echo(_("BROKEN  case {case} event {seq}: {kind}: {message}").format(
                case=p.case_id, seq=p.seq, kind=p.kind, message=p.message))
        for fp in report.file_problems:
            click.echo(_("BROKEN  case {case} {what} ({file}, {sha}): file {problem}").format(
                case=fp.case_id, what=fp.what, file=fp.original_name, sha=fp.sha256[:12], problem=fp.problem))
        for rp in report.record_problems:
            click.echo(_("BROKEN  case {case} {message}").format(case=rp.case_id or "-", message=rp.message))
        for u in report.unreferenced_files:
            click.echo(_("UNREFERENCED  {path} ({size} bytes): no record refers to it").format(path=u.path,
                                                                                             size=u.size))
        rows = (_("{rows} rows ({differing} differing from their history)") if report.record_problems
                else _("{rows} rows")).format(rows=report.rows, differing=len(report.record_problems))
        summary = _("{cases} cases, {events} events, {rows}, {documents} documents ({files} stored files) "
                    "checked").format(cases=report.cases, events=report.events, rows=rows,
                                      documents=report.documents, files=report.files)
        if report.signatures is not None:
            sc = report.signatures
            summary += "; " + _("{signed} of {events} events signed with the signing key").format(
                signed=sc.signed, events=sc.events)
            if sc.covered:
                summary += " " + _("({count} more covered by a signed checkpoint)").format(count=sc.covered)
        if report.anchor is not None:
            a = report.anchor
            summary += "; " + _("anchor of {created} ({cases} cases{signed}, {new} cases opened since): "
                                "{verdict}").format(
                created=a.created_at, cases=a.cases, signed=_(", signed") if a.signed else "", new=a.new_cases,
                verdict=_("matches") if a.ok else _("DOES NOT MATCH"))
        if report.ok:
            click.echo(_("OK: {summary}; every hash chain, row and stored file is intact.").format(summary=summary))
        else:
            broken = len({p.case_id for p in report.chain_problems})
            click.echo(_("FAILED: {summary}; {broken} case histories broken, {files} files changed or missing.")
                       .format(summary=summary, broken=broken, files=len(report.file_problems)))
    if not report.ok:
        click.get_current_context().exit(1)
