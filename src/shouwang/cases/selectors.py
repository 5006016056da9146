"""Reads of identification and risk-elimination cases, always limited to the actor's area.

Department officers see no cases: the procedures belong to villages, townships and the
district (their alerts reach cases as leads).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet

from shouwang.cases import workflow
from shouwang.cases.choices import CaseKind, CaseState
from shouwang.cases.criteria import Criterion, elimination_criteria_many
from shouwang.cases.deadlines import NEAR_DAYS
from shouwang.cases.models import Case, CaseAttachment, CaseTransition, Lead, VillageMeeting
from shouwang.core.choices import DivisionLevel
from shouwang.core.jurisdiction import REGISTRY_EDITORS, area_q, division_in_area, has_role
from shouwang.core.models import Division, User
from shouwang.registry.choices import MonitoringStatus
from shouwang.registry.models import Household
from shouwang.registry.selectors import household_queryset

#: Who reads cases: the roles that act in them.
CASE_VIEWERS = REGISTRY_EDITORS


def case_queryset(*, actor: User | None) -> QuerySet[Case]:
    """Every case the actor may see."""
    if not has_role(actor, CASE_VIEWERS):
        return Case.objects.none()
    return Case.objects.filter(area_q(actor, "village__code"))


def case_list(*, actor: User | None) -> QuerySet[Case]:
    """Cases for the list page and the API, nearest time limit first, with what a row shows."""
    return (
        case_queryset(actor=actor)
        .select_related("village", "village__parent", "household")
        .order_by("next_due_on", "id")
    )


def case_get(*, actor: User | None, pk: int) -> Case:
    """One case in the actor's area; Case.DoesNotExist (a 404) otherwise."""
    return case_list(actor=actor).select_related("lead").get(pk=pk)


def case_transitions(*, case: Case) -> list[CaseTransition]:
    """The case's steps, oldest first, with actors and the attachments filed with each."""
    return list(
        case.transitions.select_related("actor").prefetch_related(
            Prefetch("attachments", queryset=CaseAttachment.objects.order_by("created_at", "id"))
        )
    )


def case_attachments(*, case: Case) -> list[CaseAttachment]:
    return list(case.attachments.select_related("uploaded_by").order_by("created_at", "id"))


def case_attachment_get(*, case: Case, pk: int) -> CaseAttachment:
    """An attachment of a case the caller already fetched through case_get."""
    return case.attachments.get(pk=pk)


def open_cases(*, actor: User | None) -> QuerySet[Case]:
    return case_queryset(actor=actor).filter(state__in=workflow.OPEN_STATES)


def cases_near_or_overdue(*, actor: User | None, today: dt.date) -> QuerySet[Case]:
    """Open cases due within NEAR_DAYS of ``today`` or already past their limit."""
    return open_cases(actor=actor).filter(next_due_on__lte=today + dt.timedelta(days=NEAR_DAYS))


@dataclass(frozen=True)
class DeadlineCount:
    village: Division
    near: int
    overdue: int


def deadline_counts_by_village(*, actor: User | None, today: dt.date) -> list[DeadlineCount]:
    """Per village of the area: open cases near their limit and past it (one query, plus the
    villages' names)."""
    rows = (
        cases_near_or_overdue(actor=actor, today=today)
        .values("village_id")
        .annotate(
            overdue=Count("id", filter=Q(next_due_on__lt=today)),
            near=Count("id", filter=Q(next_due_on__gte=today)),
        )
        .order_by("village_id")
    )
    counts = {row["village_id"]: row for row in rows}
    if not counts:
        return []
    villages = Division.objects.filter(code__in=counts).select_related("parent").order_by("code")
    return [DeadlineCount(v, counts[v.code]["near"], counts[v.code]["overdue"]) for v in villages]


def notice_villages(*, actor: User | None) -> QuerySet[Division]:
    """Villages of the area with at least one case under public notice."""
    codes = open_cases(actor=actor).filter(state=CaseState.NOTICE).values("village_id")
    return Division.objects.filter(code__in=codes).select_related("parent").order_by("code")


def notice_village_get(*, actor: User | None, code: str) -> Division:
    """A village in the actor's area; Division.DoesNotExist (a 404) otherwise."""
    if not has_role(actor, CASE_VIEWERS) or not division_in_area(actor, code):
        raise Division.DoesNotExist
    return Division.objects.select_related("parent").get(code=code, level=DivisionLevel.VILLAGE)


def notice_cases(*, village: Division) -> list[Case]:
    """The village's cases now under public notice, in the order they were proposed."""
    return list(
        Case.objects.filter(village=village, state=CaseState.NOTICE)
        .select_related("household")
        .order_by("notice_started_on", "id")
    )


def elimination_candidates(*, actor: User | None) -> QuerySet[Household]:
    """Monitored households of the area whose risk is not yet eliminated and which have no
    case in progress: those a village may nominate."""
    if not has_role(actor, CASE_VIEWERS):
        return Household.objects.none()
    # NOT IN over a NULL matches nothing: cases of unregistered people are left out.
    busy = Case.objects.filter(state__in=workflow.OPEN_STATES, household__isnull=False).values(
        "household_id"
    )
    return (
        household_queryset(actor=actor)
        .filter(monitoring_status=MonitoringStatus.RISK_UNRESOLVED)
        .exclude(pk__in=busy)
        .select_related("village", "village__parent")
        .order_by("identified_month", "household_number")
    )


def elimination_household_get(*, actor: User | None, pk: int) -> Household:
    """A household of the area for the elimination start page; Household.DoesNotExist
    otherwise."""
    if not has_role(actor, CASE_VIEWERS):
        raise Household.DoesNotExist
    return household_queryset(actor=actor).select_related("village", "village__parent").get(pk=pk)


def green_channel_identifications() -> QuerySet[Case]:
    """Identifications in progress through the green channel (disasters, accidents): help may
    start before the procedure ends. Assistance asks this before it lets a plan be made."""
    return Case.objects.filter(
        kind=CaseKind.IDENTIFICATION,
        state__in=workflow.OPEN_STATES,
        green_channel=True,
    )


def household_open_case(*, household: Household) -> Case | None:
    return (
        Case.objects.filter(household=household, state__in=workflow.OPEN_STATES)
        .order_by("id")
        .first()
    )


def latest_meeting_attendees(*, village: Division, before: dt.date) -> str:
    """Who attended the village's latest monthly meeting up to ``before``: a village review
    is usually held by the same people, so its form starts with them."""
    return (
        VillageMeeting.objects.filter(village=village, held_on__lte=before)
        .order_by("-held_on", "-id")
        .values_list("attendees", flat=True)
        .first()
        or ""
    )


def lead_risk_types(lead: Lead) -> list[str]:
    """The risk types the lead's alerts point at (its own and those of leads merged into
    it), as the identification's first proposal."""
    risks = Lead.objects.filter(
        Q(pk=lead.pk) | Q(merged_into_id=lead.pk), alert__isnull=False
    ).values_list("alert__risk_type", flat=True)
    return sorted({r for r in risks if r})


@dataclass(frozen=True)
class EliminationCandidate:
    household: Household
    criteria: list[Criterion]

    @property
    def ready(self) -> bool:
        return all(c.met for c in self.criteria)

    @property
    def unmet(self) -> list[Criterion]:
        return [c for c in self.criteria if not c.met]


def elimination_candidate_rows(
    *, actor: User | None, today: dt.date, ready_only: bool = False
) -> list[EliminationCandidate]:
    """The area's candidates with their criteria (a fixed number of queries for the whole
    list); ``ready_only`` keeps those meeting every criterion."""
    households = list(elimination_candidates(actor=actor))
    criteria = elimination_criteria_many(households, today=today)
    rows = [EliminationCandidate(h, criteria[h.pk]) for h in households]
    return [r for r in rows if r.ready] if ready_only else rows
