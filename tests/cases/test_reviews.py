"""The quarterly risk review (季度研判): one per household and quarter, who owes one, the
missing list, role and area refusals, and the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError
from django.urls import reverse

from shouwang.cases import routine_selectors as sel
from shouwang.cases.models import QuarterlyReview
from shouwang.cases.routine_services import review_record
from shouwang.core.choices import Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent
from tests import factories as f
from tests.cases.routine_helpers import day, eliminated, monitored

pytestmark = pytest.mark.django_db

QUARTER = "2026Q4"
TODAY = day("2026-12-20")


def _review(actor, household, *, on="2026-11-15", **kwargs):
    fields = {
        "risk_present": True,
        "plan_needs_change": False,
        "reviewers": "村支书、驻村第一书记",
        "note": "",
    }
    fields.update(kwargs)
    return review_record(
        actor=actor, household=household, reviewed_on=day(on), today=TODAY, **fields
    )


def test_quarter_helpers():
    assert sel.quarter_of(day("2026-11-15")) == "2026Q4"
    assert sel.quarter_of(day("2026-03-31")) == "2026Q1"
    assert sel.quarter_bounds("2026Q2") == (day("2026-04-01"), day("2026-06-30"))
    assert sel.quarter_last_month("2026Q3") == "202609"
    assert sel.is_quarter("2026Q4") and not sel.is_quarter("2026Q5")


def test_review_is_recorded_for_the_quarter_of_its_day_with_an_audit_row(village_cadre):
    household = monitored()
    review = _review(village_cadre, household, risk_present=False)
    assert review.quarter == QUARTER
    event = AuditEvent.objects.get(target_type="cases.quarterlyreview")
    assert event.actor == village_cadre
    assert event.subject == f"registry.household:{household.pk}"  # shows in its history


def test_one_review_per_household_and_quarter(village_cadre):
    household = monitored()
    _review(village_cadre, household)
    with pytest.raises(ApplicationError, match="已经研判过"):
        _review(village_cadre, household, on="2026-12-01")
    _review(village_cadre, household, on="2026-09-30")  # the previous quarter is its own
    assert set(QuarterlyReview.objects.values_list("quarter", flat=True)) == {"2026Q3", "2026Q4"}


def test_the_database_refuses_a_second_review_for_the_quarter(village_cadre):
    household = monitored()
    _review(village_cadre, household)
    with pytest.raises(IntegrityError):
        QuarterlyReview.objects.create(
            household=household,
            quarter=QUARTER,
            reviewed_on=day("2026-12-01"),
            risk_present=True,
            plan_needs_change=False,
            reviewers="x",
        )


def test_only_unresolved_monitoring_objects_are_reviewed(village_cadre):
    with pytest.raises(ApplicationError, match="无需季度研判"):
        _review(village_cadre, f.make_household())
    with pytest.raises(ApplicationError, match="无需季度研判"):
        _review(village_cadre, eliminated(identified="202501", eliminated_in="202606"))
    with pytest.raises(ApplicationError, match="无需季度研判"):
        _review(village_cadre, monitored(identified="202701"), on="2026-11-15")


def test_plan_change_needs_a_note_and_dates_cannot_be_in_the_future(village_cadre):
    household = monitored()
    with pytest.raises(ApplicationError) as refused:
        _review(village_cadre, household, plan_needs_change=True)
    assert "note" in refused.value.extra["errors"]
    with pytest.raises(ApplicationError, match="不能晚于今天"):
        _review(village_cadre, household, on="2026-12-21")


def test_only_the_villages_cadre_records(village_cadre, township_staff, district_staff):
    other_village = monitored(f.VILLAGE_B)
    with pytest.raises(PermissionDenied, match="管辖范围"):
        _review(village_cadre, other_village)
    for actor in (township_staff, district_staff):
        with pytest.raises(PermissionDenied, match="村（社区）干部"):
            _review(actor, monitored())
    assert not QuarterlyReview.objects.exists()


def test_missing_reviews_per_area_and_quarter(village_cadre, township_staff):
    reviewed = monitored(identified="202601")
    owing = monitored(identified="202610")
    later = monitored(identified="202701")  # identified after the quarter: owes nothing yet
    eliminated_after = eliminated(identified="202601", eliminated_in="202702")
    eliminated_before = eliminated(identified="202601", eliminated_in="202609")
    elsewhere = monitored(f.VILLAGE_OTHER_TOWNSHIP)
    _review(village_cadre, reviewed)

    missing = set(sel.review_missing(actor=township_staff, quarter=QUARTER))
    assert owing in missing and eliminated_after in missing
    assert not missing & {reviewed, later, eliminated_before, elsewhere}
    district = f.make_user("district-x", Role.DISTRICT_STAFF, [f.COUNTY_WULONG])
    assert elsewhere in set(sel.review_missing(actor=district, quarter=QUARTER))
    cadre_b = f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    assert not sel.review_missing(actor=cadre_b, quarter=QUARTER).exists()


# -- pages --------------------------------------------------------------------------------


def test_review_list_shows_missing_and_done(client, village_cadre, township_staff):
    owing = monitored()
    done = monitored()
    today = dt.date.today()
    review_record(
        actor=village_cadre,
        household=done,
        reviewed_on=today,
        risk_present=True,
        plan_needs_change=False,
        reviewers="村支书",
    )
    client.force_login(township_staff)
    body = client.get(reverse("routines:review_list")).content.decode()
    assert owing.household_number in body and done.household_number not in body
    body = client.get(reverse("routines:review_list"), {"show": "done"}).content.decode()
    assert done.household_number in body
    assert reverse("routines:review_create", args=[owing.pk]) not in body


def test_review_form_records(client, village_cadre):
    household = monitored()
    client.force_login(village_cadre)
    url = reverse("routines:review_create", args=[household.pk])
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        {
            "reviewed_on": dt.date.today().isoformat(),
            "risk_present": "yes",
            "plan": "change",
            "reviewers": "村支书、驻村工作队",
            "note": "增加公益性岗位",
        },
    )
    assert response.status_code == 302
    review = QuarterlyReview.objects.get()
    assert review.plan_needs_change and review.risk_present


def test_review_form_shows_the_refusal_under_the_field(client, village_cadre):
    household = monitored()
    client.force_login(village_cadre)
    response = client.post(
        reverse("routines:review_create", args=[household.pk]),
        {
            "reviewed_on": dt.date.today().isoformat(),
            "risk_present": "yes",
            "plan": "change",
            "reviewers": "村支书",
        },
    )
    assert response.status_code == 200
    assert "写明如何调整" in response.content.decode()


def test_other_villages_household_is_404_for_the_review_form(client, village_cadre):
    client.force_login(village_cadre)
    other = monitored(f.VILLAGE_B)
    assert client.get(reverse("routines:review_create", args=[other.pk])).status_code == 404
