"""Reads of leads (线索), always limited to the actor's area, and the public status lookup.

A lead sits at its household's village, at the village an applicant chose, or (a person a
department feed surfaced, not yet placed) at the county of their ID's address code: such a lead
is seen by the district until someone places it in a village. Department officers see no leads:
their alerts reach the villages as leads.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.conf import settings
from django.db.models import Prefetch, QuerySet

from shouwang.cases import workflow
from shouwang.cases.choices import CaseKind, CaseState, LeadStatus
from shouwang.cases.models import Case, Lead
from shouwang.core.choices import DivisionLevel
from shouwang.core.jurisdiction import REGISTRY_EDITORS, area_q, has_role
from shouwang.core.models import Division, User

#: Who reads leads: the roles that record them and open cases from them.
LEAD_VIEWERS = REGISTRY_EDITORS
#: A merge chain is short (a lead merges into an open, unmerged one); this only stops a loop.
MAX_MERGE_DEPTH = 10


def lead_queryset(*, actor: User | None) -> QuerySet[Lead]:
    """Every lead the actor may see."""
    if not has_role(actor, LEAD_VIEWERS):
        return Lead.objects.none()
    return Lead.objects.filter(area_q(actor, "division__code"))


def lead_list(*, actor: User | None) -> QuerySet[Lead]:
    """Leads for the inbox and the API, newest first, with what a row shows joined in; the
    leads merged into each come along (those in the actor's area)."""
    merged = lead_queryset(actor=actor).select_related("household").order_by("received_on", "id")
    return (
        lead_queryset(actor=actor)
        .select_related("division", "division__parent", "household", "merged_into")
        .prefetch_related(
            Prefetch("merged", queryset=merged),
            Prefetch("cases", queryset=Case.objects.order_by("id")),
        )
        .order_by("-received_on", "-id")
    )


def lead_get(*, actor: User | None, pk: int) -> Lead:
    """One lead in the actor's area; Lead.DoesNotExist (a 404) otherwise."""
    return (
        lead_list(actor=actor).select_related("alert__rule", "reported_by", "handled_by").get(pk=pk)
    )


def lead_villages(*, actor: User | None, lead: Lead) -> QuerySet[Division]:
    """The villages an unplaced lead may be placed in: those of its county in the actor's area."""
    return (
        Division.objects.filter(
            area_q(actor, "code"),
            level=DivisionLevel.VILLAGE,
            code__startswith=lead.division_id[:6],
        )
        .select_related("parent")
        .order_by("code")
    )


# --- the public self-application ---------------------------------------------------------


def _home_prefix() -> str:
    home = Division.objects.filter(code=settings.SHOUWANG_HOME_DIVISION).first()
    return home.prefix if home is not None else settings.SHOUWANG_HOME_DIVISION[:6]


def public_townships() -> QuerySet[Division]:
    """The townships of the district this installation serves, for the application page."""
    return Division.objects.filter(
        level=DivisionLevel.TOWNSHIP, code__startswith=_home_prefix()
    ).order_by("code")


def public_villages(*, township: str = "") -> QuerySet[Division]:
    """The district's villages, or one township's when ``township`` is a township code."""
    villages = Division.objects.filter(level=DivisionLevel.VILLAGE, code__startswith=_home_prefix())
    if township:
        villages = villages.filter(parent_id=township)
    return villages.select_related("parent").order_by("code")


class PublicStage:
    """Where an application stands, as the household may be told."""

    RECEIVED = "received"
    IN_PROGRESS = "in_progress"
    APPROVED = "approved"
    NOT_APPROVED = "not_approved"
    CLOSED = "closed"


@dataclass(frozen=True)
class ApplicationStatus:
    """What the status page shows: no name, ID, village, reason or opinion, only the stage."""

    received_on: dt.date
    stage: str
    step_number: int | None = None
    step_count: int = len(workflow.STEPS[CaseKind.IDENTIFICATION])
    step_label: str = ""


def application_status(*, tracking_code: str) -> ApplicationStatus | None:
    """The status behind a tracking code, or None for an unknown code.

    A merged application follows the lead it was merged into, since that lead's case decides it.
    """
    code = "".join(tracking_code.split()).upper()
    if not code:
        return None
    lead = (
        Lead.objects.filter(tracking_code=code).only("received_on", "status", "merged_into").first()
    )
    if lead is None:
        return None
    received_on = lead.received_on
    for _depth in range(MAX_MERGE_DEPTH):
        if lead.merged_into_id is None:
            break
        lead = Lead.objects.only("status", "merged_into").get(pk=lead.merged_into_id)
    case = (
        Case.objects.filter(lead=lead, kind=CaseKind.IDENTIFICATION)
        .only("kind", "state")
        .order_by("-id")
        .first()
    )
    if case is None:
        if lead.status == LeadStatus.CLOSED:
            return ApplicationStatus(received_on=received_on, stage=PublicStage.CLOSED)
        # The household has applied (with its pledge): screening and the application are
        # behind it, and its case will start at the home visit (see services.case_open).
        return _at_step(received_on, PublicStage.RECEIVED, CaseState.VERIFICATION)
    if case.state == CaseState.APPROVED:
        return ApplicationStatus(received_on=received_on, stage=PublicStage.APPROVED)
    if case.state in (CaseState.REJECTED, CaseState.WITHDRAWN):
        return ApplicationStatus(received_on=received_on, stage=PublicStage.NOT_APPROVED)
    return _at_step(received_on, PublicStage.IN_PROGRESS, case.state)


def _at_step(received_on: dt.date, stage: str, state: str) -> ApplicationStatus:
    index = workflow.step_index(CaseKind.IDENTIFICATION, state)
    steps = workflow.STEPS[CaseKind.IDENTIFICATION]
    return ApplicationStatus(
        received_on=received_on,
        stage=stage,
        step_number=None if index is None else index + 1,
        step_count=len(steps),
        step_label="" if index is None else steps[index][0],
    )
