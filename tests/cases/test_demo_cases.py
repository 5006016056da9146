"""The demo's leads and cases, made from the demo screening's alerts."""

from __future__ import annotations

import pytest

from shouwang.cases.choices import CaseState, LeadChannel
from shouwang.cases.demo import DEMO_CASES, demo_cases_build
from shouwang.cases.models import Case, Lead
from shouwang.registry.demo import DEMO_VILLAGE, demo_build
from shouwang.screening.choices import AlertStatus
from shouwang.screening.demo import demo_feeds_build

pytestmark = pytest.mark.django_db


def test_demo_alerts_become_leads_and_cases_once():
    demo_build(actor=None, households=300)
    demo_feeds_build(actor=None)
    result = demo_cases_build()
    assert result.leads >= DEMO_CASES and result.cases == DEMO_CASES
    leads = Lead.objects.all()
    assert {lead.channel for lead in leads} == {LeadChannel.DEPARTMENT_ALERT}
    assert {lead.division_id for lead in leads} == {DEMO_VILLAGE}
    assert all(lead.alert.status == AlertStatus.LEAD_OPENED for lead in leads)
    states = sorted(Case.objects.values_list("state", flat=True))
    assert states == sorted([CaseState.APPLICATION, CaseState.VERIFICATION])
    assert demo_cases_build().skipped  # a rerun adds nothing
    assert Lead.objects.count() == result.leads
