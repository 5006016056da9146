"""Alerts of one household resting on the same feed rows are one item to triage."""

from __future__ import annotations

import datetime as dt
import re
from collections import Counter

import pytest
from django.urls import reverse

from shouwang.core.models import AuditEvent
from shouwang.screening.choices import AlertStatus
from shouwang.screening.models import Alert
from shouwang.screening.services import alert_dismiss, alerts_regroup
from shouwang.screening.triage import GroupCandidate, triage_groups
from tests import factories as f
from tests.screening.helpers import INPATIENT, MEDICAL_12M, inpatient, patient, run, stage_medical

pytestmark = pytest.mark.django_db

LIST_URL = reverse("screening:alert_list")


@pytest.fixture(autouse=True)
def feeds_dir(settings, tmp_path):
    settings.SHOUWANG_FEEDS_DIR = tmp_path / "feeds"
    settings.SHOUWANG_SCREENING_DIR = tmp_path / "screening"


def visible_text(response) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def one_stay():
    """One hospital stay of 15,000 out of pocket: over the monthly in-patient line (5,000)
    and the 12-month household line (11,559.50), so both rules fire on the same row."""
    household = f.make_household(f.VILLAGE_A, members=1)
    stage_medical([inpatient(patient(household, name="李丹英"), amount=15000, village=f.VILLAGE_A)])
    run(INPATIENT, MEDICAL_12M)
    alerts = list(Alert.objects.filter(household=household).order_by("pk"))
    assert sorted(a.rule.slug for a in alerts) == sorted([INPATIENT, MEDICAL_12M])
    return household, alerts


def test_one_stay_is_one_item_with_both_rules_inside(client, village_cadre, one_stay):
    household, (first, second) = one_stay
    assert first.subject_key != second.subject_key  # a person rule and a household rule
    assert first.triage_group == second.triage_group == first.fingerprint
    client.force_login(village_cadre)

    response = client.get(LIST_URL)

    assert [a.pk for a in response.context["page"].object_list] == [first.pk]
    text = visible_text(response)
    assert "共 1 项预警" in text
    assert f"同一依据另有： {second.rule.name}" in text

    detail = visible_text(client.get(reverse("screening:alert_detail", args=[first.pk])))
    assert "同一对象、同一依据还有 1 条预警" in detail
    assert "同一依据的其他预警" in detail and second.rule.name in detail


def test_a_filter_on_the_second_rule_still_lists_its_alert(client, village_cadre, one_stay):
    _, (_, second) = one_stay
    client.force_login(village_cadre)

    response = client.get(LIST_URL, {"rule": second.rule.slug})

    assert [a.pk for a in response.context["page"].object_list] == [second.pk]


def test_dismissing_the_item_dismisses_both_each_audited(village_cadre, one_stay):
    _, (first, second) = one_stay

    alert_dismiss(actor=village_cadre, alert=second, reason="已报销，家庭收入稳定")

    statuses = dict(Alert.objects.values_list("pk", "status"))
    assert statuses == {first.pk: AlertStatus.DISMISSED, second.pk: AlertStatus.DISMISSED}
    events = AuditEvent.objects.filter(target_type="screening.alert").order_by("target_id")
    assert sorted(e.target_id for e in events) == sorted([str(first.pk), str(second.pk)])
    assert all(e.extra == {"verb": "dismiss", "item": [second.pk, first.pk]} for e in events)
    assert all(e.actor == village_cadre for e in events)


def test_a_rerun_changes_no_item(one_stay):
    _, alerts = one_stay
    groups = {a.pk: a.triage_group for a in alerts}

    run(INPATIENT, MEDICAL_12M)

    assert dict(Alert.objects.values_list("pk", "triage_group")) == groups
    assert alerts_regroup() == 0


def test_stays_on_different_rows_are_different_items(client, village_cadre):
    household = f.make_household(f.VILLAGE_A, members=2)
    first, second = household.members.order_by("pk")
    stage_medical(
        [
            inpatient(patient(household, name="张一"), amount=8000, village=f.VILLAGE_A),
            inpatient(
                patient(household, name="张二"),
                amount=9000,
                village=f.VILLAGE_A,
                on=dt.date(2025, 9, 20),
            ),
        ]
    )
    run(INPATIENT)

    alerts = Alert.objects.filter(household=household)
    assert alerts.count() == 2
    assert len(set(alerts.values_list("triage_group", flat=True))) == 2
    client.force_login(village_cadre)
    assert "共 2 项预警" in visible_text(client.get(LIST_URL))


def test_groups_join_through_shared_rows_and_keep_the_oldest_key():
    def candidate(pk, subject, rows):
        return GroupCandidate(pk, subject, f"fp{pk}", frozenset(rows))

    groups = triage_groups(
        [
            candidate(3, "h:1", [(1, 3), (1, 4)]),
            candidate(1, "h:1", [(1, 1)]),
            candidate(2, "h:1", [(1, 1), (1, 3)]),  # joins 1 and 3
            candidate(4, "h:1", [(1, 9)]),
            candidate(5, "h:2", [(1, 1)]),  # same row number, another household
            candidate(6, "h:1", []),  # a registry-only rule: its own item
        ]
    )

    assert groups == {1: "fp1", 2: "fp1", 3: "fp1", 4: "fp4", 5: "fp5", 6: "fp6"}


def test_the_triage_forms_have_ids_of_their_own(client, village_cadre, one_stay):
    _, (first, _) = one_stay
    client.force_login(village_cadre)

    html = client.get(reverse("screening:alert_detail", args=[first.pk])).content.decode()

    ids = Counter(re.findall(r'\sid="([^"]+)"', html))
    assert [name for name, n in ids.items() if n > 1] == []
    # Each label points at its own field.
    for target in re.findall(r'<label[^>]*for="([^"]+)"', html):
        assert ids[target] == 1, target


def test_count_rules_say_what_they_count(client, district_staff):
    from shouwang.screening.models import Rule

    rule = Rule.objects.get(slug=INPATIENT)
    rule.spec = {**rule.spec, "aggregate": {"function": "count", "field": None}}
    rule.spec["threshold"] = rule.spec["threshold_unregistered"] = {"value": "1"}
    rule.save()
    household = f.make_household(f.VILLAGE_A, members=1)
    stage_medical([inpatient(patient(household), amount=100, village=f.VILLAGE_A)])
    run(INPATIENT)
    alert = Alert.objects.get()
    client.force_login(district_staff)

    listing = visible_text(client.get(LIST_URL))
    detail = visible_text(client.get(reverse("screening:alert_detail", args=[alert.pk])))

    assert "记录 1 条（阈值 ≥ 1 条）" in listing
    assert "记录 1 条（阈值 ≥ 1 条）" in detail
    assert "1 ≥ 1" not in listing


def test_rule_codes_are_not_shown_beside_names(client, district_admin):
    client.force_login(district_admin)

    rules = visible_text(client.get(reverse("screening:rule_list")))
    detail = visible_text(client.get(reverse("screening:rule_detail", args=[MEDICAL_12M])))

    assert MEDICAL_12M not in rules and MEDICAL_12M not in detail
