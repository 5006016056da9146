"""The to-do list (待办): what waits on one user now, with its deadline.

Gathered from the other apps' own selectors, so a to-do appears exactly where the user
can act on it: case steps at the user's level in their area, alerts handed to them for a
home visit, open leads, their village's monthly meeting and the quarter's reviews, and
assistance measures past or near their planned completion (planners in their area;
department officers their department's, which is all they see here).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.translation import gettext as _

from shouwang.assistance import permissions as assistance_perms
from shouwang.assistance.choices import OPEN_MEASURE_STATUSES
from shouwang.assistance.models import PlanMeasure
from shouwang.assistance.selectors import overdue_measures, plan_measure_list
from shouwang.cases import workflow
from shouwang.cases.choices import CaseState, CaseVerb, LeadStatus
from shouwang.cases.deadlines import urgency
from shouwang.cases.lead_selectors import lead_list
from shouwang.cases.routine_selectors import (
    can_record_routines,
    meeting_outstanding,
    month_last_day,
    month_of,
    quarter_bounds,
    quarter_label,
    quarter_of,
    review_missing,
)
from shouwang.cases.selectors import open_cases
from shouwang.cases.services import policy_days
from shouwang.core.choices import DivisionLevel, Role
from shouwang.core.jurisdiction import has_role
from shouwang.core.models import User
from shouwang.core.months import month_label
from shouwang.screening.choices import AlertStatus
from shouwang.screening.selectors import alert_list

#: Items shown per group; the group's link lists the rest.
SHOWN_PER_GROUP = 20


@dataclass(frozen=True)
class TodoItem:
    title: str
    detail: str
    url: str
    due_on: dt.date | None = None
    urgency: str = ""
    days_left: int = 0

    @property
    def days_over(self) -> int:
        return -self.days_left


def _item(title: str, detail: str, url: str, due_on: dt.date | None, today: dt.date) -> TodoItem:
    if due_on is None:
        return TodoItem(title, detail, url)
    return TodoItem(title, detail, url, due_on, urgency(due_on, today), (due_on - today).days)


@dataclass
class TodoGroup:
    key: str
    label: str
    total: int
    more_url: str
    items: list[TodoItem] = field(default_factory=list)


def _states_waiting_on(actor: User) -> set[str]:
    """States whose next step (other than withdrawal) the actor's role takes."""
    states = set()
    for transition in workflow.TRANSITIONS:
        if transition.verb == CaseVerb.WITHDRAW or transition.level is None:
            continue
        if has_role(actor, workflow.LEVEL_ROLES[transition.level]):
            states |= transition.sources
    return states


def _case_group(actor: User, today: dt.date, shown: int) -> TodoGroup | None:
    states = _states_waiting_on(actor)
    if not states:
        return None
    cases = (
        open_cases(actor=actor)
        .filter(state__in=states)
        .select_related("village", "village__parent", "household")
        .order_by("next_due_on", "id")
    )
    total = cases.count()
    items = []
    for case in cases[:shown]:
        who = case.household.head_name if case.household else case.person_name
        items.append(
            _item(
                f"{case.get_kind_display()}：{who or _('未具名')}",
                f"{case.village.parent.name if case.village.parent else ''}"
                f"{case.village.name} · {CaseState(case.state).label}",
                reverse("cases:case_detail", args=[case.pk]),
                case.next_due_on,
                today,
            )
        )
    return TodoGroup("cases", _("待办理的识别/消除步骤"), total, reverse("cases:case_list"), items)


def _alert_group(actor: User, today: dt.date, shown: int) -> TodoGroup:
    alerts = alert_list(actor=actor).filter(assigned_to=actor, status=AlertStatus.ASSIGNED)
    total = alerts.count()
    items = [
        _item(
            _("入户核实：%(rule)s") % {"rule": alert.rule.name},
            (alert.household.head_name if alert.household else alert.person_name) or _("未具名"),
            reverse("screening:alert_detail", args=[alert.pk]),
            None,
            today,
        )
        for alert in alerts[:shown]
    ]
    more = reverse("screening:alert_list") + "?status=assigned"
    return TodoGroup("alerts", _("交办给我的预警"), total, more, items)


def _lead_group(actor: User, today: dt.date, shown: int) -> TodoGroup:
    leads = lead_list(actor=actor).filter(status=LeadStatus.OPEN, merged_into__isnull=True)
    if has_role(actor, workflow.LEVEL_ROLES["district"]) and not actor.is_superuser:
        # The district places what no village has yet: leads still at county level.
        leads = leads.exclude(division__level=DivisionLevel.VILLAGE)
    limit = policy_days("identification_limit_days")
    total = leads.count()
    items = []
    for lead in leads.select_related("household").order_by("received_on", "id")[:shown]:
        due = lead.received_on + dt.timedelta(days=limit) if limit else None
        items.append(
            _item(
                _("线索：%(channel)s") % {"channel": lead.get_channel_display()},
                (lead.household.head_name if lead.household else lead.person_name) or _("未具名"),
                reverse("leads:lead_detail", args=[lead.pk]),
                due,
                today,
            )
        )
    return TodoGroup("leads", _("待处理的线索"), total, reverse("leads:lead_list"), items)


def _meeting_group(actor: User, today: dt.date, shown: int) -> TodoGroup:
    rows = meeting_outstanding(actor=actor, month=month_of(today), today=today)
    items = [
        _item(
            _("%(village)s %(month)s工作会议")
            % {"village": row.village.name, "month": month_label(month_of(today))},
            _("尚未登记"),
            reverse("routines:meeting_create")
            + f"?village={row.village.code}&month={month_of(today)}",
            row.due_on,
            today,
        )
        for row in rows[:shown]
    ]
    return TodoGroup(
        "meetings", _("本月工作会议"), len(rows), reverse("routines:meeting_list"), items
    )


def _review_group(actor: User, today: dt.date, shown: int) -> TodoGroup:
    quarter = quarter_of(today)
    due = quarter_bounds(quarter)[1]
    missing = review_missing(actor=actor, quarter=quarter)
    total = missing.count()
    items = [
        _item(
            _("%(quarter)s风险研判：%(head)s")
            % {"quarter": quarter_label(quarter), "head": household.head_name or "—"},
            f"{household.village.name} · {household.household_number}",
            reverse("routines:review_create", args=[household.pk]),
            due,
            today,
        )
        for household in missing[:shown]
    ]
    more = reverse("routines:review_list") + f"?quarter={quarter}"
    return TodoGroup("reviews", _("本季度风险研判"), total, more, items)


def _measure_item(pm: PlanMeasure, today: dt.date) -> TodoItem:
    household = pm.plan.household
    village = household.village
    return _item(
        _("%(measure)s：%(head)s")
        % {"measure": pm.measure.name, "head": household.head_name or household.household_number},
        f"{village.parent.name if village.parent else ''}{village.name}"
        f" · {pm.get_department_display()} · {pm.get_status_display()}",
        reverse("assistance:measure_detail", args=[pm.pk]),
        pm.planned_end,
        today,
    )


def _overdue_measure_group(actor: User, today: dt.date, shown: int) -> TodoGroup:
    measures = overdue_measures(actor=actor, today=today)
    total = measures.count()
    items = [_measure_item(pm, today) for pm in measures[:shown]]
    more = reverse("assistance:overdue")
    return TodoGroup("overdue_measures", _("逾期帮扶措施"), total, more, items)


def _due_measure_group(actor: User, today: dt.date, shown: int) -> TodoGroup:
    """Measures still owed whose planned completion falls between today and the month's end."""
    measures = plan_measure_list(actor=actor).filter(
        status__in=OPEN_MEASURE_STATUSES,
        planned_end__gte=today,
        planned_end__lte=month_last_day(month_of(today)),
    )
    total = measures.count()
    items = [_measure_item(pm, today) for pm in measures[:shown]]
    return TodoGroup("due_measures", _("本月到期措施"), total, reverse("assistance:index"), items)


def _measure_groups(actor: User, today: dt.date, shown: int) -> list[TodoGroup]:
    if not assistance_perms.can_deliver(actor):
        return []
    return [_overdue_measure_group(actor, today, shown), _due_measure_group(actor, today, shown)]


def todo_groups(*, actor: User, today: dt.date, shown: int = SHOWN_PER_GROUP) -> list[TodoGroup]:
    """The user's to-dos by kind, each with up to ``shown`` items (0: the counts only);
    kinds with nothing waiting are left out."""
    if actor.role == Role.DEPARTMENT_OFFICER and not actor.is_superuser:
        # Departments deliver measures; village procedures are not theirs.
        return [g for g in _measure_groups(actor, today, shown) if g.total]
    groups = [
        _case_group(actor, today, shown),
        _alert_group(actor, today, shown),
        _lead_group(actor, today, shown),
    ]
    if can_record_routines(actor) and not actor.is_superuser:
        groups += [_meeting_group(actor, today, shown), _review_group(actor, today, shown)]
    groups += _measure_groups(actor, today, shown)
    return [g for g in groups if g is not None and g.total]
