"""`eightstep subsidy ...`: the city's subsidy of a case, applied for after acceptance, decided, paid."""

from __future__ import annotations

from datetime import date, datetime

import click

from eightstep.cli import Settings
from eightstep.cli.audit import as_of_option
from eightstep.cli.base import Group
from eightstep.cli.corrections import void_command
from eightstep.cli.output import emit_json, table
from eightstep.cli.params import YUAN, case_argument, json_option, recording_options
from eightstep.i18n import N_, _


@click.group(cls=Group)
def subsidy() -> None:
    """The subsidy (补贴): applied for by the workflow's rule, approved or rejected, paid; the audit flags one
    unpaid too long."""


# A subsidy step or state, as shown (rules.subsidy's values).
STEPS = {"none": N_("not applied for"), "applied": N_("applied for"), "approved": N_("approved"),
         "rejected": N_("rejected"), "partly_paid": N_("partly paid"), "paid": N_("paid out")}


def _said(case_id: str, step: str, amount: int) -> None:
    from eightstep.rules.money import yuan

    click.echo(_("{case}: subsidy {step}, {amount} yuan").format(case=case_id, step=_(STEPS.get(step, step)),
                                                                 amount=yuan(amount)))


@subsidy.command("apply")
@case_argument
@click.option("--to", "office", default=None, help="The office applied to (it pays), e.g. 江夏区住房和城市更新局.")
@click.option("--number", default=None, help="The application's number.")
@click.option("--account", default=None, help="The payee's account it is to be paid into (printed on the form).")
@click.option("--amount", type=YUAN, default=None,
              help="Only to apply for less than the workflow's rule gives, or where it has no rule.")
@recording_options
@click.pass_obj
def apply_(settings: Settings, case_id: str, office: str | None, number: str | None, account: str | None,
           amount: int | None, at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Record the application, for the amount the workflow's subsidy rule gives (after the inspection passed)."""
    from eightstep.records.subsidy import apply_for_subsidy

    step = apply_for_subsidy(settings.workspace(), case_id, to=office, number=number, account=account,
                             amount=amount, at=at, actor=actor, as_role=as_role)
    _said(case_id, "applied", step.amount_fen)
    if step.basis:
        click.echo(_("  by the rule: {basis}").format(basis=step.basis))


@subsidy.command("approve")
@case_argument
@click.option("--amount", type=YUAN, default=None, help="The amount approved (default: as applied for).")
@click.option("--number", default=None, help="The approval's number.")
@recording_options
@click.pass_obj
def approve(settings: Settings, case_id: str, amount: int | None, number: str | None, at: datetime | None,
            actor: str | None, as_role: str | None) -> None:
    """Record the approval of the open application."""
    from eightstep.records.subsidy import decide_subsidy

    step = decide_subsidy(settings.workspace(), case_id, approved=True, amount=amount, number=number, at=at,
                          actor=actor, as_role=as_role)
    _said(case_id, "approved", step.amount_fen)


@subsidy.command("reject")
@case_argument
@click.option("--note", required=True, help="Why it was rejected.")
@click.option("--number", default=None, help="The decision's number.")
@recording_options
@click.pass_obj
def reject(settings: Settings, case_id: str, note: str, number: str | None, at: datetime | None, actor: str | None,
           as_role: str | None) -> None:
    """Record the rejection of the open application (a new application may follow)."""
    from eightstep.records.subsidy import decide_subsidy

    decide_subsidy(settings.workspace(), case_id, approved=False, number=number, note=note, at=at, actor=actor,
                   as_role=as_role)
    _said(case_id, "rejected", 0)


@subsidy.command("pay")
@case_argument
@click.argument("amount", type=YUAN)
@click.option("--payer", required=True, help="Who paid it.")
@click.option("--account", required=True, help="The account it was paid into.")
@click.option("--number", default=None, help="The payment's reference.")
@recording_options
@click.pass_obj
def pay(settings: Settings, case_id: str, amount: int, payer: str, account: str, number: str | None,
        at: datetime | None, actor: str | None, as_role: str | None) -> None:
    """Record a payment of the subsidy (all or part of what is due)."""
    from eightstep.records.subsidy import pay_subsidy

    pay_subsidy(settings.workspace(), case_id, amount, payer=payer, account=account, number=number, at=at,
                actor=actor, as_role=as_role)
    _said(case_id, "paid", amount)


void_command(subsidy, "subsidy_step",
             summary="Void a step of the subsidy of CASE (its id in `subsidy show`): the later steps first.")


@subsidy.command("show")
@case_argument
@as_of_option
@json_option
@click.pass_obj
def show(settings: Settings, case_id: str, as_of: date | None, as_json: bool) -> None:
    """Where the case's subsidy stands, with every step."""
    from eightstep.records.subsidy import subsidy_view
    from eightstep.rules.money import yuan

    view = subsidy_view(settings.workspace(), case_id, as_of)
    if as_json:
        emit_json(view.as_dict())
        return
    s = view.status
    rule = view.rule.description if view.rule else _("(the workflow has no subsidy rule)")
    click.echo(_("{case}: {state}; applied {applied}, approved {approved}, paid {paid}, unpaid {unpaid} yuan; "
                 "rule: {rule}").format(case=case_id, state=_(STEPS.get(s.state, s.state)), applied=yuan(s.applied),
                                        approved="—" if s.approved is None else yuan(s.approved), paid=yuan(s.paid),
                                        unpaid=yuan(s.unpaid), rule=rule))
    if view.steps:
        table(["#", _("date"), _("step"), _("amount"), _("number"), _("payer / office"), _("account"),
               _("basis")],
              [[st.id, st.on, _(STEPS.get(st.step, st.step)), yuan(st.amount_fen), st.number or "", st.payer or "",
                st.account or "",
                st.basis or st.note or ""] for st in view.steps])
