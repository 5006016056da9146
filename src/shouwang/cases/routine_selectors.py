"""Reads of the routine work (monthly meeting, quarterly review, yearly campaign), always
limited to the actor's area, plus the month and quarter arithmetic both sides share.

Who sees: the registry's editors (village, township, district) in their area. Department
officers see none of it: these are the villages' own working records.
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils.translation import gettext as _

from shouwang.assistance.choices import OPEN_MEASURE_STATUSES
from shouwang.assistance.models import PlanMeasure
from shouwang.cases import workflow
from shouwang.cases.choices import CaseKind, LeadStatus
from shouwang.cases.criteria import elimination_criteria_many
from shouwang.cases.models import (
    Campaign,
    CampaignCheck,
    Case,
    Lead,
    QuarterlyReview,
    VillageMeeting,
)
from shouwang.cases.routine_choices import AgendaKind
from shouwang.core.choices import LEVEL_PREFIX_LENGTH, DivisionLevel, Role
from shouwang.core.jurisdiction import (
    REGISTRY_EDITORS,
    actor_prefixes,
    area_q,
    has_role,
    visible_divisions,
)
from shouwang.core.models import Division, User
from shouwang.core.months import month_label
from shouwang.policy.models import PolicyValue
from shouwang.policy.selectors import MissingPolicyValue, policy_value
from shouwang.registry.choices import MonitoringStatus
from shouwang.registry.models import Household
from shouwang.screening.models import Alert
from shouwang.screening.services import UNRESOLVED

#: See meetings, reviews and campaigns in their area.
ROUTINE_VIEWERS = REGISTRY_EDITORS
#: Record their village's meeting, reviews and campaign checks.
ROUTINE_RECORDERS = frozenset({Role.VILLAGE_CADRE})
#: Open a campaign.
CAMPAIGN_OPENERS = frozenset({Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF})
#: When no policy row sets ``monthly_meeting_day`` (the plan says "每月初").
DEFAULT_MEETING_DAY = 10


def can_view_routines(actor: User | None) -> bool:
    return has_role(actor, ROUTINE_VIEWERS)


def can_record_routines(actor: User | None) -> bool:
    return has_role(actor, ROUTINE_RECORDERS)


def can_open_campaigns(actor: User | None) -> bool:
    return has_role(actor, CAMPAIGN_OPENERS)


# --- months and quarters -----------------------------------------------------------------


def month_of(day: dt.date) -> str:
    return day.strftime("%Y%m")


def month_first_day(month: str) -> dt.date:
    return dt.date(int(month[:4]), int(month[4:]), 1)


def month_last_day(month: str) -> dt.date:
    year, number = int(month[:4]), int(month[4:])
    return dt.date(year, number, calendar.monthrange(year, number)[1])


def month_shift(month: str, months: int) -> str:
    index = int(month[:4]) * 12 + int(month[4:]) - 1 + months
    return f"{index // 12:04d}{index % 12 + 1:02d}"


def quarter_of(day: dt.date) -> str:
    return f"{day.year}Q{(day.month - 1) // 3 + 1}"


def is_quarter(value: str) -> bool:
    return (
        len(value) == 6
        and value[:4].isdigit()
        and value[:2] == "20"
        and value[4:]
        in (
            "Q1",
            "Q2",
            "Q3",
            "Q4",
        )
    )


def quarter_bounds(quarter: str) -> tuple[dt.date, dt.date]:
    year, number = int(quarter[:4]), int(quarter[5])
    first = dt.date(year, 3 * number - 2, 1)
    return first, month_last_day(f"{year}{3 * number:02d}")


def quarter_last_month(quarter: str) -> str:
    return f"{quarter[:4]}{3 * int(quarter[5]):02d}"


def quarter_label(quarter: str) -> str:
    return _("%(y)s年第%(q)s季度") % {"y": quarter[:4], "q": "一二三四"[int(quarter[5]) - 1]}


# --- meeting day -------------------------------------------------------------------------


class MeetingDays:
    """``monthly_meeting_day`` per village, read once: a township may set its own day."""

    def __init__(self) -> None:
        self._rows: dict[str | None, int] = {
            row.division_id: int(row.value)
            for row in PolicyValue.objects.filter(parameter="monthly_meeting_day").order_by("year")
        }

    def day_for(self, village_code: str) -> int:
        for length in sorted(LEVEL_PREFIX_LENGTH.values(), reverse=True):
            code = village_code[:length].ljust(12, "0")
            if code in self._rows:
                return self._rows[code]
        return self._rows.get(None, DEFAULT_MEETING_DAY)

    def due_on(self, month: str, village_code: str) -> dt.date:
        last = month_last_day(month)
        return last.replace(day=max(1, min(self.day_for(village_code), last.day)))


def meeting_due_on(month: str, village_code: str) -> dt.date:
    return MeetingDays().due_on(month, village_code)


# --- monthly meeting ---------------------------------------------------------------------


def _villages(actor: User | None) -> QuerySet[Division]:
    if not can_view_routines(actor):
        return Division.objects.none()
    return visible_divisions(actor).filter(level=DivisionLevel.VILLAGE)


def village_get(*, actor: User | None, code: str) -> Division:
    """A village in the actor's area; Division.DoesNotExist (a 404) otherwise."""
    return _villages(actor).select_related("parent").get(code=code)


def recordable_villages(*, actor: User | None) -> QuerySet[Division]:
    """The villages the actor records meetings for (a cadre's own village or villages)."""
    if not can_record_routines(actor):
        return Division.objects.none()
    return _villages(actor).select_related("parent").order_by("code")


def meeting_queryset(*, actor: User | None) -> QuerySet[VillageMeeting]:
    if not can_view_routines(actor):
        return VillageMeeting.objects.none()
    return VillageMeeting.objects.filter(area_q(actor, "village__code"))


def meeting_list(*, actor: User | None, month: str = "") -> QuerySet[VillageMeeting]:
    meetings = meeting_queryset(actor=actor).select_related(
        "village", "village__parent", "recorded_by"
    )
    if month:
        meetings = meetings.filter(month=month)
    return meetings.order_by("-month", "village_id")


def meeting_get(*, actor: User | None, pk: int) -> VillageMeeting:
    return meeting_list(actor=actor).prefetch_related("items").get(pk=pk)


@dataclass(frozen=True)
class OutstandingMeeting:
    village: Division
    due_on: dt.date
    overdue: bool


def meeting_outstanding(
    *, actor: User | None, month: str, today: dt.date
) -> list[OutstandingMeeting]:
    """Villages in the actor's area with no meeting recorded for ``month``, each with its due
    day and whether that day has passed."""
    held = VillageMeeting.objects.filter(month=month, village=OuterRef("pk"))
    villages = (
        _villages(actor)
        .annotate(has_meeting=Exists(held))
        .filter(has_meeting=False)
        .select_related("parent")
        .order_by("code")
    )
    days = MeetingDays()
    rows = []
    for village in villages:
        due = days.due_on(month, village.code)
        rows.append(OutstandingMeeting(village, due, today > due))
    return rows


def meeting_missing(*, actor: User | None, month: str, today: dt.date) -> list[Division]:
    """Villages in the actor's area without a meeting for ``month`` after its due day."""
    return [
        r.village for r in meeting_outstanding(actor=actor, month=month, today=today) if r.overdue
    ]


@dataclass
class AgendaEntry:
    kind: str
    count: int = 0
    details: list[dict[str, Any]] = field(default_factory=list)

    @property
    def label(self) -> str:
        return str(AgendaKind(self.kind).label)


def _who(household: Household | None, person_name: str = "") -> str:
    if household is None:
        return _("%(name)s（未建档）") % {"name": person_name or "—"}
    return f"{household.household_number} {household.head_name}".strip()


def _since(village: Division, month: str) -> dt.date:
    """New leads count from the day after the village's previous meeting, or from the first
    day of the previous month when it has none, so nothing falls between two meetings."""
    previous = (
        VillageMeeting.objects.filter(village=village, month__lt=month)
        .order_by("-month")
        .values_list("held_on", flat=True)
        .first()
    )
    if previous is not None:
        return previous + dt.timedelta(days=1)
    return month_first_day(month_shift(month, -1))


def elimination_min_months(village_code: str) -> int:
    try:
        return int(policy_value("elimination_min_months", division_code=village_code))
    except MissingPolicyValue:
        return 0


def meeting_agenda(*, village: Division, month: str, held_on: dt.date) -> list[AgendaEntry]:
    """The agenda Shouwang fills in for ``village``'s meeting: new leads since the last
    meeting, open cases, unresolved alerts, households that may be nominated for risk
    elimination, assistance measures overdue on the meeting day (still planned or in
    progress, planned completion before ``held_on``), and the monitor's report.
    """
    since = _since(village, month)
    leads = (
        Lead.objects.filter(division=village, received_on__gte=since, received_on__lte=held_on)
        .exclude(status=LeadStatus.MERGED)
        # A lead whose case runs is on the agenda once, under the open cases.
        .exclude(cases__state__in=workflow.OPEN_STATES)
        .select_related("household")
        .order_by("received_on", "id")
    )
    new_leads = AgendaEntry(AgendaKind.NEW_LEADS)
    for lead in leads:
        new_leads.details.append(
            {
                "type": "lead",
                "id": lead.pk,
                "household_id": lead.household_id,
                "text": _("%(day)s %(channel)s：%(who)s，%(what)s")
                % {
                    "day": lead.received_on.isoformat(),
                    "channel": lead.get_channel_display(),
                    "who": _who(lead.household, lead.person_name),
                    "what": lead.description[:60],
                },
            }
        )

    cases = (
        Case.objects.filter(village=village, state__in=workflow.OPEN_STATES)
        .select_related("household")
        .order_by("due_on", "id")
    )
    open_cases = AgendaEntry(AgendaKind.OPEN_CASES)
    for case in cases:
        late = _("，已超期") if case.due_on < held_on else ""
        open_cases.details.append(
            {
                "type": "case",
                "id": case.pk,
                "household_id": case.household_id,
                "text": _("%(kind)s · %(state)s：%(who)s，办结时限 %(due)s%(late)s")
                % {
                    "kind": case.get_kind_display(),
                    "state": case.get_state_display(),
                    "who": _who(case.household, case.person_name),
                    "due": case.due_on.isoformat(),
                    "late": late,
                },
            }
        )

    alerts = (
        Alert.objects.filter(division=village, status__in=UNRESOLVED)
        .select_related("rule", "household")
        .order_by("-period", "id")
    )
    open_alerts = AgendaEntry(AgendaKind.ALERTS)
    for alert in alerts:
        open_alerts.details.append(
            {
                "type": "alert",
                "id": alert.pk,
                "household_id": alert.household_id,
                "text": _("%(rule)s：%(who)s（%(period)s，%(status)s）")
                % {
                    "rule": alert.rule.name,
                    "who": _who(alert.household, alert.person_name),
                    "period": alert.period,
                    "status": alert.get_status_display(),
                },
            }
        )

    minimum = elimination_min_months(village.code)
    eliminating = Case.objects.filter(
        household=OuterRef("pk"), kind=CaseKind.ELIMINATION, state__in=workflow.OPEN_STATES
    )
    due = (
        Household.objects.filter(
            village=village,
            monitoring_status=MonitoringStatus.RISK_UNRESOLVED,
            identified_month__lte=month_shift(month, -minimum),
        )
        .exclude(identified_month="")
        .annotate(eliminating=Exists(eliminating))
        .filter(eliminating=False)
        .order_by("identified_month", "household_number")
    )
    eliminations = AgendaEntry(AgendaKind.ELIMINATIONS_DUE)
    due = list(due.select_related("village"))
    criteria = elimination_criteria_many(due, today=held_on)
    # Only those meeting every criterion: the meeting studies whom it may nominate.
    for household in (h for h in due if all(c.met for c in criteria[h.pk])):
        eliminations.details.append(
            {
                "type": "household",
                "id": household.pk,
                "household_id": household.pk,
                "text": _(
                    "%(who)s：%(category)s，%(month)s纳入监测，"
                    "人均纯收入（扣除合规自付支出）%(income)s 元"
                )
                % {
                    "who": _who(household),
                    "category": household.get_monitoring_category_display(),
                    "month": month_label(household.identified_month),
                    "income": household.per_capita_after_spending,
                },
            }
        )

    measures = (
        PlanMeasure.objects.filter(
            plan__household__village=village,
            status__in=OPEN_MEASURE_STATUSES,
            planned_end__lt=held_on,
        )
        .select_related("measure", "plan__household")
        .order_by("planned_end", "id")
    )
    overdue = AgendaEntry(AgendaKind.OVERDUE_MEASURES)
    for pm in measures:
        overdue.details.append(
            {
                "type": "measure",
                "id": pm.pk,
                "household_id": pm.plan.household_id,
                "text": _(
                    "%(who)s：%(measure)s（%(department)s，%(status)s），"
                    "计划 %(due)s 完成，已逾期 %(days)d 天"
                )
                % {
                    "who": _who(pm.plan.household),
                    "measure": pm.measure.name,
                    "department": pm.get_department_display(),
                    "status": pm.get_status_display(),
                    "due": pm.planned_end.isoformat(),
                    "days": (held_on - pm.planned_end).days,
                },
            }
        )

    entries = [new_leads, open_cases, open_alerts, eliminations, overdue]
    for entry in entries:
        entry.count = len(entry.details)
    return [*entries, AgendaEntry(AgendaKind.MONITOR_REPORT)]


def agenda_is_quiet(agenda: list[AgendaEntry]) -> bool:
    """Nothing new, nothing open: the meeting is still required (plan ch.4)."""
    return not any(entry.count for entry in agenda)


# --- quarterly review --------------------------------------------------------------------


def review_queryset(*, actor: User | None) -> QuerySet[QuarterlyReview]:
    if not can_view_routines(actor):
        return QuarterlyReview.objects.none()
    return QuarterlyReview.objects.filter(area_q(actor, "household__village__code"))


def review_list(*, actor: User | None, quarter: str = "") -> QuerySet[QuarterlyReview]:
    reviews = review_queryset(actor=actor).select_related(
        "household", "household__village", "household__village__parent", "recorded_by"
    )
    if quarter:
        reviews = reviews.filter(quarter=quarter)
    return reviews.order_by("-quarter", "household__village_id", "household__household_number")


def review_get(*, actor: User | None, pk: int) -> QuarterlyReview:
    return review_list(actor=actor).get(pk=pk)


def review_due_q(quarter: str) -> Q:
    """Households that owe ``quarter`` a review: identified by the quarter's end and still
    unresolved through it (unresolved now, or eliminated only after the quarter)."""
    last = quarter_last_month(quarter)
    return (
        Q(identified_month__lte=last)
        & ~Q(identified_month="")
        & (
            Q(monitoring_status=MonitoringStatus.RISK_UNRESOLVED)
            | Q(monitoring_status=MonitoringStatus.RISK_ELIMINATED, eliminated_month__gt=last)
        )
    )


def review_due(*, actor: User | None, quarter: str) -> QuerySet[Household]:
    if not can_view_routines(actor):
        return Household.objects.none()
    reviewed = QuarterlyReview.objects.filter(household=OuterRef("pk"), quarter=quarter)
    return (
        Household.objects.filter(area_q(actor, "village__code"))
        .filter(review_due_q(quarter))
        .annotate(reviewed=Exists(reviewed))
        .select_related("village", "village__parent")
        .order_by("village_id", "household_number")
    )


def review_missing(*, actor: User | None, quarter: str) -> QuerySet[Household]:
    """Households in the actor's area that owe ``quarter`` a review and have none."""
    if not can_view_routines(actor):
        return Household.objects.none()  # unannotated: filtering it on ``reviewed`` fails
    return review_due(actor=actor, quarter=quarter).filter(reviewed=False)


def review_household_get(*, actor: User | None, pk: int) -> Household:
    """A household in the actor's area (the review form's subject); 404 otherwise."""
    if not can_view_routines(actor):
        raise Household.DoesNotExist
    return (
        Household.objects.filter(area_q(actor, "village__code"))
        .select_related("village", "village__parent")
        .get(pk=pk)
    )


def household_reviews(*, household: Household, limit: int = 8) -> QuerySet[QuarterlyReview]:
    return household.quarterly_reviews.order_by("-quarter")[:limit]


# --- yearly campaign ---------------------------------------------------------------------


def _ancestor_codes(actor: User) -> list[str]:
    """The 12-digit codes of the divisions above the actor's: a township's campaign covers a
    village cadre of that township."""
    codes = set()
    for prefix in actor_prefixes(actor):
        for length in LEVEL_PREFIX_LENGTH.values():
            if length < len(prefix):
                codes.add(prefix[:length].ljust(12, "0"))
    return sorted(codes)


def campaign_queryset(*, actor: User | None) -> QuerySet[Campaign]:
    """Campaigns whose scope overlaps the actor's area."""
    if not can_view_routines(actor):
        return Campaign.objects.none()
    campaigns = Campaign.objects.all()
    if actor is None or actor.is_superuser:
        return campaigns
    return campaigns.filter(
        area_q(actor, "scope__code") | Q(scope__code__in=_ancestor_codes(actor))
    )


def campaign_list(*, actor: User | None) -> QuerySet[Campaign]:
    return (
        campaign_queryset(actor=actor)
        .select_related("scope", "opened_by")
        .annotate(checked=Count("checks"))
        .order_by("-starts_on", "-id")
    )


def campaign_get(*, actor: User | None, pk: int) -> Campaign:
    return campaign_list(actor=actor).get(pk=pk)


def campaign_households(*, actor: User | None, campaign: Campaign) -> QuerySet[Household]:
    """Registry households in the campaign's scope and the actor's area."""
    if not can_view_routines(actor):
        return Household.objects.none()
    return Household.objects.filter(area_q(actor, "village__code")).filter(
        village__code__startswith=campaign.scope.prefix
    )


@dataclass(frozen=True)
class VillageProgress:
    village: Division
    households: int
    checked: int
    changed: int
    new_risk: int

    @property
    def percent(self) -> int:
        return int(100 * self.checked / self.households) if self.households else 100


@dataclass(frozen=True)
class CampaignProgress:
    villages: list[VillageProgress]
    households: int
    checked: int

    @property
    def percent(self) -> int:
        return int(100 * self.checked / self.households) if self.households else 0


def campaign_progress(*, actor: User | None, campaign: Campaign) -> CampaignProgress:
    """Checked households against households in scope, per village of the actor's area."""
    totals = dict(
        campaign_households(actor=actor, campaign=campaign)
        .values_list("village_id")
        .annotate(n=Count("id"))
        .values_list("village_id", "n")
    )
    checks = {
        row["village_id"]: row
        for row in campaign_check_list(actor=actor, campaign=campaign)
        .values("village_id")
        .annotate(
            n=Count("id"),
            changed=Count("id", filter=Q(result="change_found")),
            new_risk=Count("id", filter=Q(result="new_risk")),
        )
        .order_by()
    }
    villages = (
        _villages(actor)
        .filter(code__startswith=campaign.scope.prefix)
        .filter(code__in=set(totals) | set(checks))
        .select_related("parent")
        .order_by("code")
    )
    rows = [
        VillageProgress(
            village=v,
            households=totals.get(v.code, 0),
            checked=checks.get(v.code, {}).get("n", 0),
            changed=checks.get(v.code, {}).get("changed", 0),
            new_risk=checks.get(v.code, {}).get("new_risk", 0),
        )
        for v in villages
    ]
    return CampaignProgress(
        villages=rows,
        households=sum(r.households for r in rows),
        checked=sum(r.checked for r in rows),
    )


def campaign_check_list(*, actor: User | None, campaign: Campaign) -> QuerySet[CampaignCheck]:
    if not can_view_routines(actor):
        return CampaignCheck.objects.none()
    return (
        CampaignCheck.objects.filter(campaign=campaign)
        .filter(area_q(actor, "village__code"))
        .select_related("household", "village", "recorded_by")
        .order_by("village_id", "household__household_number")
    )


def campaign_check_get(*, actor: User | None, campaign: Campaign, pk: int) -> CampaignCheck:
    return campaign_check_list(actor=actor, campaign=campaign).get(pk=pk)


def campaign_village_households(
    *, actor: User | None, campaign: Campaign, village_code: str
) -> QuerySet[Household]:
    """A village's households in the campaign, each with ``check_id`` when checked."""
    checks = CampaignCheck.objects.filter(campaign=campaign, household=OuterRef("pk"))
    return (
        campaign_households(actor=actor, campaign=campaign)
        .filter(village_id=village_code)
        .annotate(checked=Exists(checks))
        .order_by("checked", "household_number")
    )


def campaign_household_get(*, actor: User | None, campaign: Campaign, pk: int) -> Household:
    return (
        campaign_households(actor=actor, campaign=campaign)
        .select_related("village", "village__parent")
        .get(pk=pk)
    )


def campaign_scopes(*, actor: User | None) -> QuerySet[Division]:
    """The county and townships a campaign may cover, within the actor's area."""
    if not can_open_campaigns(actor):
        return Division.objects.none()
    return (
        visible_divisions(actor)
        .filter(level__in=(DivisionLevel.COUNTY, DivisionLevel.TOWNSHIP))
        .order_by("code")
    )
