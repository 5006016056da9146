"""Leads and cases for the Wulong demo district, made from the demo screening's alerts
through the real services, so the leads inbox, the case pages and the to-do lists have
something to show on a fresh ``make run``."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from shouwang.cases.choices import CaseVerb
from shouwang.cases.models import CampaignCheck, Case, Lead, QuarterlyReview
from shouwang.cases.services import case_act, case_open, lead_from_alert
from shouwang.core.audit import audit_event, household_subject, model_snapshot
from shouwang.core.choices import AuditAction
from shouwang.core.models import AuditEvent, User
from shouwang.registry.choices import MonitoringStatus
from shouwang.registry.demo import DEMO_VILLAGE
from shouwang.screening.choices import AlertStatus
from shouwang.screening.models import Alert
from shouwang.screening.selectors import SEVERITY_RANK

#: Leads opened from the demo village's high-severity alerts; the first ones become cases.
DEMO_LEADS = 4
DEMO_CASES = 2


@dataclass
class DemoCasesResult:
    leads: int = 0
    cases: int = 0
    skipped: bool = False


@transaction.atomic
def demo_cases_build(*, today: dt.date | None = None) -> DemoCasesResult:
    """Turn a few of 向前村's open high-severity alerts on registered households into leads,
    open identification for two and take the first through its application. Does nothing
    when leads exist already (a rerun, or a district using the demo)."""
    if Lead.objects.exists():
        return DemoCasesResult(skipped=True)
    today = today or timezone.localdate()
    alerts = (
        Alert.objects.filter(
            division_id=DEMO_VILLAGE,
            status=AlertStatus.OPEN,
            household__isnull=False,
            household__monitoring_status=MonitoringStatus.NOT_MONITORED,
        )
        .select_related("rule", "household", "division")
        .order_by(SEVERITY_RANK, "-value", "id")
    )
    result = DemoCasesResult()
    households: set[int] = set()
    for alert in alerts:
        if alert.household_id in households:
            continue
        households.add(alert.household_id)
        lead = lead_from_alert(actor=None, alert=alert, note=f"{alert.rule.name}：请入户核实")
        result.leads += 1
        if result.cases < DEMO_CASES:
            case = case_open(actor=None, lead=lead, today=today)
            if result.cases == 0:
                case_act(
                    actor=None,
                    case=case,
                    verb=CaseVerb.APPLY,
                    data={
                        "applicant_name": alert.household.head_name or alert.person_name,
                        "applied_on": today.isoformat(),
                        "pledge_signed": True,
                        "asset_check_consent": True,
                    },
                    today=today,
                )
            result.cases += 1
        if result.leads >= DEMO_LEADS:
            break
    return result


@transaction.atomic
def demo_records_delete(*, actor: User | None, household_ids: list[int]) -> int:
    """Remove the procedural records of demo households a ``--force`` rebuild replaces
    (cases, their leads, reviews, campaign checks, assistance plans with their measures), with
    an audit row each; the households
    themselves are deleted by the registry right after. Returns how many records went."""
    from shouwang.assistance.models import Plan

    groups = (
        Plan.objects.filter(household_id__in=household_ids),
        CampaignCheck.objects.filter(household_id__in=household_ids),
        QuarterlyReview.objects.filter(household_id__in=household_ids),
        Case.objects.filter(household_id__in=household_ids),
        Lead.objects.filter(household_id__in=household_ids),
    )
    events, deleted = [], 0
    for records in groups:
        for record in records:
            events.append(
                audit_event(
                    actor=actor,
                    action=AuditAction.DELETE,
                    target=record,
                    before=model_snapshot(record),
                    subject=household_subject(record.household_id, record),
                    extra={"source": "demo"},
                )
            )
        deleted += records.delete()[0]
    AuditEvent.objects.bulk_create(events)
    return deleted
