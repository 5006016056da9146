"""The demo's assistance: plans from the rules for monitored households, delivery under way,
offers with proposed matches; built through the services and only once."""

from __future__ import annotations

import datetime as dt

import pytest

from shouwang.assistance.choices import MatchStatus, MeasureSource, MeasureStatus
from shouwang.assistance.demo import DEMO_OFFERS, demo_assistance_build
from shouwang.assistance.models import Plan, PlanMeasure, SocialMatch, SocialOffer
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as rc
from tests import factories as f

pytestmark = pytest.mark.django_db

TODAY = dt.date(2026, 11, 29)


def _monitored(risk: str, **member):
    household = f.make_household(
        f.VILLAGE_A,
        members=0,
        household_type=rc.HouseholdType.MONITORED,
        monitoring_category=rc.MonitoringCategory.MARGINAL,
        monitoring_status=rc.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202603",
        risk_type_1=risk,
    )
    f.make_member(household, name="户主", **member)
    return household


def test_the_demo_plans_monitored_households_and_registers_offers():
    households = [
        _monitored(rc.RiskType.ILLNESS, health_status=rc.HealthStatus.SERIOUS_ILLNESS)
        for _ in range(12)
    ] + [_monitored(rc.RiskType.UNSTABLE_EMPLOYMENT) for _ in range(12)]
    ordinary = f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY)

    result = demo_assistance_build(today=TODAY)

    plans = Plan.objects.all()
    assert result.plans == plans.count() > len(households) // 2
    assert not plans.filter(household=ordinary).exists()
    measures = PlanMeasure.objects.all()
    assert result.measures == measures.count()
    assert measures.filter(source=MeasureSource.RECOMMENDED, rule__isnull=False).count() == (
        result.measures
    )
    assert result.delivered == measures.filter(status=MeasureStatus.DELIVERED).count()
    late = measures.filter(
        status__in=[MeasureStatus.PLANNED, MeasureStatus.IN_PROGRESS], planned_end__lt=TODAY
    )
    assert result.overdue == late.count()
    # Written through the services: every plan measure has its audit row.
    assert (
        AuditEvent.objects.filter(target_type="assistance.planmeasure", action="create").count()
        == result.measures
    )
    assert SocialOffer.objects.count() == result.offers == len(DEMO_OFFERS)
    proposed = SocialMatch.objects.filter(status=MatchStatus.PROPOSED)
    assert proposed.count() == result.proposed_matches > 0

    again = demo_assistance_build(today=TODAY)
    assert again.skipped
    assert Plan.objects.count() == result.plans
