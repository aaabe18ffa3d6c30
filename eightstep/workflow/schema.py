"""The strict schema of a workflow file. Unknown keys are errors; every reference is checked in ``checks``."""

from __future__ import annotations

from datetime import date
from fractions import Fraction
from functools import cached_property
from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, model_validator

from eightstep.i18n import _
from eightstep.workflow.values import PERMISSION_KEY, WORKFLOW_ID_PATTERN, Calendar, Coefficient, Fen, Id, Ratio, RoleId
from eightstep.workflow.values import Above as Above  # the schema's, where a ratio rule is read


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, arbitrary_types_allowed=True)


class Authority(Strict):
    """A party that issues documents or approvals, or is responsible for a stage."""

    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)


class DocumentKind(Strict):
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    issuer: Id


class ApprovalKind(Strict):
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    authority: Id


class Period(Strict):
    """A length of time in calendar days or in working days (Chinese statutory calendar)."""

    days: int = Field(gt=0, le=3650)
    calendar: Calendar = "calendar"


class Threshold(Strict):
    area: Ratio
    headcount: Ratio


class AffectedOwners(Strict):
    """Owners directly affected by the elevator whose own agreement is needed besides the vote (some cities):
    the owners of flats on ``floors``, and, with ``marked: true``, of flats marked affected in the household
    list (e.g. the flats the shaft faces or occupies). Every one of them must agree."""

    description: str = Field(min_length=1)
    floors: list[int] = []
    marked: bool = False


class ConsentRule(Strict):
    """Owner consent (Civil Code art. 278 by default): who must take part, and who must agree.

    ``participation`` is a share of the unit's total area and headcount (omit it
    for rules that only count agreement). ``agreement`` is a share of the participants (``agreement_base:
    participants``) or of the unit's total (``agreement_base: total``). Abstainers take part but do not agree
    unless ``abstain: excluded`` removes them from participation too. Boundaries are inclusive ("以上"); a ratio
    written ">1/2" must be exceeded. Owners count once with all their flats. ``co_owners``: a ballot signed by
    ``any`` co-owner of a co-owned flat counts, or only one signed by ``all`` of them. ``also_required``: owners
    directly affected who must agree as well.
    """

    description: str = Field(min_length=1)
    participation: Threshold | None = None
    agreement: Threshold
    agreement_base: Literal["participants", "total"] = "participants"
    abstain: Literal["participates", "excluded"] = "participates"
    co_owners: Literal["any", "all"] = "any"
    also_required: AffectedOwners | None = None


class NoticeRule(Strict):
    """A public notice: posted on the date of ``document``; runs ``days`` after that day (not counted)."""

    document: Id
    days: int = Field(gt=0, le=365)
    calendar: Calendar = "working"


MeetingKind = Literal["brand", "budget", "cost_shares", "objection_remedy", "other"]


class OrderRule(Strict):
    """Two records whose order and distance in time the law sets, checked before the stage is left.

    ``earlier`` and ``later`` are document or approval kinds (an approval counts once granted). With ``ordered``
    (the default) ``later`` may not be dated on a day before ``earlier``, nor be on record without it; with
    ``within``, ``later`` is due within that period after ``earlier`` (the day of ``earlier`` not counted): once
    it has passed without ``later`` on record, the stage is blocked as overdue, and a ``later`` dated after it is
    shown as late. ``basis`` names the law, e.g. 《中华人民共和国特种设备安全法》第二十三条."""

    earlier: Id
    later: Id
    ordered: bool = True
    within: Period | None = None
    basis: str = Field(min_length=1)


class PaymentRule(Strict):
    """Before the stage is left, every household has paid at least ``share`` of what it owes (its share of the
    cost after subsidy, with its part of the agreed extras and compensation): ``1`` full payment, ``1/2`` half."""

    share: Ratio = Fraction(1)


class Requirements(Strict):
    """What a stage needs before it is left. ``chosen_scheme``: the owners chose an elevator scheme (联);
    ``meetings``: a meeting on record that decided each of these kinds (e.g. the negotiation group's
    cost_shares), held by the time the stage is left; ``order``: records that must come in the order, and within
    the time, the law sets; ``no_open_objections``: no open objection lodged up to the notice stage;
    ``no_open_complaints``: no open objection lodged after it (a complaint about the works); ``payments``: the
    owners have paid their shares (or a part of them)."""

    documents: list[Id] = []
    approvals: list[Id] = []
    consent: ConsentRule | None = None
    notice: NoticeRule | None = None
    no_open_objections: bool = False
    no_open_complaints: bool = False
    chosen_scheme: bool = False
    meetings: list[MeetingKind] = []
    order: list[OrderRule] = []
    payments: PaymentRule | None = None


class Material(Strict):
    """One line of the checklist a stage's window application carries (``Stage.materials``), in order: a document
    kind (its stored scan goes into the pack), an approval kind (a copy of the decision) or a form of the case,
    printed from the records (``form: objection_register``). Exactly one of the three."""

    document: Id | None = None
    approval: Id | None = None
    form: str | None = None

    @model_validator(mode="after")
    def _one(self) -> Material:
        given = [k for k in ("document", "approval", "form") if getattr(self, k) is not None]
        if len(given) != 1:
            raise ValueError("name exactly one of document, approval or form")
        return self

    @property
    def type(self) -> str:
        return "document" if self.document else "approval" if self.approval else "form"

    @property
    def ref(self) -> str:
        return self.document or self.approval or self.form or ""


class Stage(Strict):
    id: Id
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    responsible: Id
    stall_limit: Period | None = None
    requires: Requirements = Requirements()
    next: Id | None = None
    final: bool = False
    returns_to: list[Id] | None = None
    forms: list[str] = []
    materials: list[Material] = []  # what the applicant hands in at this stage's window, in checklist order


class CostSharing(Strict):
    """How the construction cost (after subsidy) is shared among the unit's households (Civil Code art. 283).

    ``floor_coefficient``: share ∝ coefficient(floor) × exclusive area, floors in ``exempt_floors`` pay nothing;
    ``area``: share ∝ exclusive area; ``agreed_table``: the owners' own table of shares. Maintenance is shared
    by the same weights unless ``maintenance`` says ``equal`` (per household) or ``area``.
    """

    method: Literal["floor_coefficient", "area", "agreed_table"] = "floor_coefficient"
    exempt_floors: list[int] = []
    coefficients: dict[int, Coefficient] = {}
    maintenance: Literal["same", "equal", "area"] = "same"
    # Repairs after acceptance (the usage convention's rule): by the maintenance weights, equally, or by area.
    repairs: Literal["maintenance", "equal", "area"] = "maintenance"


SubsidyMethod = Literal["per_unit", "per_floor", "per_stop", "share_of_cost"]


class SubsidyRule(Strict):
    """The city's subsidy for one elevator, applied for after acceptance (with the inspection certificate).

    ``per_unit``: ``amount`` per elevator; ``per_floor``: ``amount`` × the floors of the unit's households;
    ``per_stop``: ``amount`` × the elevator's stops; ``share_of_cost``: ``share`` × the cost (final cost once
    settled, else the contract price), rounded down to the fen. Never more than ``cap`` (when given) nor than the
    cost. ``payee``: who receives it (the owners' agent, the use-management unit, or the owners). The audit flags
    an application not paid ``paid_within`` after it was filed.
    """

    description: str = Field(min_length=1)
    method: SubsidyMethod
    amount: Fen | None = None
    share: Ratio | None = None
    cap: Fen | None = None
    payee: Literal["agent", "use_unit", "owners"] = "agent"
    paid_within: Period = Period(days=180)


class Upkeep(Strict):
    """Operation-stage duties the audit watches: maintenance interval, the periodic inspection, the installation's
    warranty (at least ``warranty_min``) and the safety-liability insurance (warned ``warn_before`` they end;
    ``insurance_required``: an elevator in operation without a policy in force is flagged). ``emergency_number``:
    the local elevator emergency line printed on the usage convention (96333 in many cities)."""

    maintenance_document: Id
    maintenance_every: Period = Period(days=15)
    inspection_document: Id
    inspection_valid: Period = Period(days=365)
    request_before: Period = Period(days=30)
    emergency_number: str | None = Field(default=None, pattern=r"^[0-9][0-9-]{2,19}$")
    warranty_min: Period = Period(days=730)
    warn_before: Period = Period(days=30)
    insurance_required: bool = False


MediationStepName = Literal["negotiation", "coordination", "mediation", "hearing", "litigation"]
MEDIATION_ORDER: tuple[MediationStepName, ...] = ("negotiation", "coordination", "mediation", "hearing", "litigation")


class ObjectionPolicy(Strict):
    """How the procedure handles objections (异议).

    ``late``: whether an objection lodged after the public notice period ended blocks (``block``) or is only
    recorded (``record``). An objection lodged after the notice stage (a complaint about the works) blocks the
    stages that say ``requires.no_open_complaints``. ``steps``: the steps of the route, in their order
    (negotiation → coordination → mediation → hearing → litigation); a step may be skipped, never gone back to.
    A litigation step suspends the case, and it resumes only with a document of a ``litigation_ends`` kind (the
    judgment, a withdrawal) on record after it. ``resolution_requires``: document kinds one of which a resolution
    must name as its basis (withdrawal letter, mediation agreement, hearing decision, judgment)."""

    only_written_real_name: bool = False
    mediation_within: Period = Period(days=15)
    late: Literal["block", "record"] = "block"
    steps: list[MediationStepName] = list(MEDIATION_ORDER)
    resolution_requires: list[Id] = []
    litigation_ends: list[Id] = []


class SuspensionPolicy(Strict):
    """A suspended case suspended without a review date is flagged by the audit after ``review_within``."""

    review_within: Period = Period(days=90)


def _bare_title(value: object) -> object:
    if isinstance(value, str) and ("《" in value or "》" in value):
        raise ValueError(_("{value!r}: write the title without 《》; they are added when it is cited").format(
                             value=value))
    return value


class Citation(Strict):
    """A law, regulation or policy document the rules rest on, cited as a citation is written:
    《title》（number）articles, e.g. 《武汉市人民政府关于既有住宅加装电梯的指导意见》（武政规〔2018〕27号）.

    A plain text item (files written before citations) is kept as ``written`` and printed as it is."""

    title: Annotated[str | None, BeforeValidator(_bare_title), Field(default=None, min_length=1)]
    number: str | None = Field(default=None, min_length=1)  # 文号, where the document has one
    articles: str | None = Field(default=None, min_length=1)  # 第二百七十八条
    note: str | None = Field(default=None, min_length=1)  # e.g. 2026年1月1日起施行; not part of the citation
    written: str | None = Field(default=None, min_length=1)

    @model_validator(mode="before")
    @classmethod
    def _plain_text(cls, value: object) -> object:
        if isinstance(value, str):
            return {"written": value}
        if not isinstance(value, dict):
            raise ValueError(_("{value!r}: a basis item is a citation such as {{title: 中华人民共和国民法典, "
                               "articles: 第二百七十八条}}, or text").format(value=value))
        return value

    @model_validator(mode="after")
    def _title_or_text(self) -> Citation:
        if (self.title is None) == (self.written is None):
            raise ValueError(_("a citation needs its title (without 《》), e.g. {title: 中华人民共和国民法典, "
                               "articles: 第二百七十八条}"))
        return self

    def text(self) -> str:
        if self.title is None:
            return self.written or ""
        return f"《{self.title}》" + (f"（{self.number}）" if self.number else "") + (self.articles or "")


class Workflow(Strict):
    """A procedure, one version of it. ``effective_from`` / ``effective_until`` (both days included) is the
    period its rules are in force: a case is opened under the version in force on its opening day. Without
    ``effective_until`` a version is in force until the next version of the same id takes effect."""

    id: Annotated[str, Field(pattern=WORKFLOW_ID_PATTERN)]
    version: str = Field(min_length=1)
    title: str = Field(min_length=1)
    title_en: str = Field(min_length=1)
    region: str = Field(min_length=1)
    effective_from: date | None = None
    effective_until: date | None = None
    basis: list[Citation] = []
    authorities: dict[Id, Authority]
    documents: dict[Id, DocumentKind] = {}
    approvals: dict[Id, ApprovalKind] = {}
    objections: ObjectionPolicy = ObjectionPolicy()
    suspension: SuspensionPolicy = SuspensionPolicy()
    cost_sharing: CostSharing = CostSharing(method="area")
    upkeep: Upkeep | None = None
    # Who may record what: action id (vote.cast, approval.add, ...; "vote.*" for a group, "*" for any other) ->
    # the roles that may record it. Empty (the default): anybody may record anything (a single-user set-up).
    permissions: dict[Annotated[str, Field(pattern=PERMISSION_KEY)], list[RoleId]] = {}
    subsidy: SubsidyRule | None = None
    stages: list[Stage] = Field(min_length=1)

    # Derived views, computed once per loaded workflow (the model is frozen; a cached_property is kept in the
    # instance's __dict__, outside the fields).
    @cached_property
    def stage_positions(self) -> dict[str, int]:
        """Stage id -> its index in ``stages``."""
        return {s.id: i for i, s in enumerate(self.stages)}

    @cached_property
    def next_stages(self) -> dict[str, str | None]:
        """Stage id -> the stage an ``advance`` leads to (None from a final stage)."""
        ids = self.stage_ids()
        out: dict[str, str | None] = {}
        for index, stage in enumerate(self.stages):
            if stage.final:
                out[stage.id] = None
            elif stage.next:
                out[stage.id] = stage.next
            else:
                out[stage.id] = ids[index + 1] if index + 1 < len(ids) else None
        return out

    def stage(self, stage_id: str) -> Stage:
        return self.stages[self.stage_positions[stage_id]]

    def stage_ids(self) -> list[str]:
        return [s.id for s in self.stages]

    def next_of(self, stage_id: str) -> str | None:
        """The stage an ``advance`` leads to, or None from a final stage."""
        return self.next_stages[stage_id]

    def return_targets(self, stage_id: str) -> list[str]:
        """The earlier stages a case in ``stage_id`` may be returned to."""
        stage = self.stage(stage_id)
        ids = self.stage_ids()
        earlier = ids[: ids.index(stage_id)]
        if stage.returns_to is None:
            return earlier
        return [s for s in stage.returns_to if s in earlier]

    @property
    def initial(self) -> str:
        return self.stages[0].id
