"""The screening runs pages: the list, the "run now" form, a run's progress and counts."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shouwang.policy.models import PolicyValue
from shouwang.screening.choices import RunStatus, RunTrigger
from shouwang.screening.models import Alert, ScreeningRun
from shouwang.screening.services import screening_run, screening_run_create
from tests import factories as f
from tests.screening.helpers import (
    INPATIENT,
    MEDICAL_12M,
    PERIOD,
    inpatient,
    patient,
    run,
    stage_medical,
)

pytestmark = pytest.mark.django_db

LIST_URL = reverse("screening:run_list")


@pytest.fixture(autouse=True)
def feeds_dir(settings, tmp_path):
    settings.SHOUWANG_FEEDS_DIR = tmp_path / "feeds"
    settings.SHOUWANG_SCREENING_DIR = tmp_path / "screening"


def text_of(response) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


@pytest.fixture
def staged_claims():
    """A registered patient in 向前村 and a person outside the registry, both over the line."""
    household = f.make_household(members=1)
    stage_medical(
        [
            inpatient(patient(household), amount=12000, village=f.VILLAGE_A),
            inpatient(f.next_id_number(), amount=30000, name="王五", village=f.VILLAGE_B),
        ]
    )
    return household


# Who sees what


def test_village_and_township_users_do_not_see_runs(client, village_cadre, township_staff):
    for user in (village_cadre, township_staff):
        client.force_login(user)
        response = client.get(LIST_URL)
        assert response.status_code == 403
        assert "只有区县工作人员和行业部门可以查看数据比对运行" in response.content.decode()


def test_department_officers_see_runs_but_no_run_button(client, department_officer):
    run()
    client.force_login(department_officer)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert response.context["form"] is None
    assert "运行数据比对" not in text_of(response)
    response = client.post(LIST_URL, {"period": PERIOD, "engine": "duckdb"})
    assert response.status_code == 403
    assert ScreeningRun.objects.count() == 1


def test_the_form_defaults_to_the_latest_staged_period(client, district_staff, staged_claims):
    client.force_login(district_staff)

    response = client.get(LIST_URL)

    form = response.context["form"]
    assert form["period"].value() == PERIOD
    assert form["engine"].value() == "duckdb"
    slugs = [value for value, _label in form.fields["rules"].choices]
    assert INPATIENT in slugs and MEDICAL_12M in slugs
    assert "运行数据比对" in text_of(response)


# Running


def test_the_button_creates_a_run_that_executes_and_raises_alerts(
    client, district_staff, staged_claims, django_capture_on_commit_callbacks
):
    client.force_login(district_staff)

    with django_capture_on_commit_callbacks(execute=True) as queued:
        response = client.post(LIST_URL, {"period": PERIOD, "engine": "duckdb"})

    screening = ScreeningRun.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("screening:run_detail", args=[screening.pk])
    assert len(queued) == 1  # queued for the worker once the request committed
    screening.refresh_from_db()
    assert screening.status == RunStatus.SUCCEEDED
    assert screening.trigger == RunTrigger.PAGE
    assert screening.actor == district_staff
    assert screening.alerts_new == Alert.objects.count() == 4  # two rules × two people

    page = client.get(response.url)
    text = text_of(page)
    assert "已发起 2025-09 期数据比对" in text
    assert "已完成" in text
    rules = {row.slug: row for row in page.context["rule_counts"]}
    assert rules[INPATIENT].matches == 2 and rules[INPATIENT].new == 2
    assert rules[MEDICAL_12M].new == 2
    assert f"{reverse('screening:alert_list')}?run={screening.pk}" in page.content.decode()
    assert page.context["running"] is False
    assert "hx-trigger" not in page.content.decode().split('id="run-status"')[1][:200]


def test_a_rule_subset_runs_only_those_rules(
    client, district_staff, staged_claims, django_capture_on_commit_callbacks
):
    client.force_login(district_staff)

    with django_capture_on_commit_callbacks(execute=True):
        client.post(LIST_URL, {"period": PERIOD, "engine": "duckdb", "rules": [INPATIENT]})

    screening = ScreeningRun.objects.get()
    assert list(screening.rules) == [INPATIENT]
    assert set(Alert.objects.values_list("rule__slug", flat=True)) == {INPATIENT}


def test_rerunning_the_same_data_raises_no_duplicates(
    client, district_staff, staged_claims, django_capture_on_commit_callbacks
):
    client.force_login(district_staff)
    for _ in range(2):
        with django_capture_on_commit_callbacks(execute=True):
            client.post(LIST_URL, {"period": PERIOD, "engine": "duckdb", "rules": [INPATIENT]})

    first, second = ScreeningRun.objects.order_by("id")
    assert (first.alerts_new, second.alerts_new, second.alerts_existing) == (2, 0, 2)
    assert Alert.objects.count() == 2
    rows = text_of(client.get(LIST_URL))
    assert f"#{second.pk} 2025-09 DuckDB（内嵌） 页面 已完成" in rows


@pytest.mark.parametrize(
    ("period", "message"),
    [
        ("2025-13", "期别“2025-13”格式不对，应为 年-月，例如 2026-10"),
        ("2099-01", "期别“2099-01”不在合理范围内"),
        ("", "请填写比对期别"),
    ],
)
def test_a_bad_period_is_refused_and_keeps_the_input(client, district_staff, period, message):
    client.force_login(district_staff)

    response = client.post(LIST_URL, {"period": period, "engine": "duckdb", "rules": [INPATIENT]})

    assert response.status_code == 200
    assert message in text_of(response)
    assert response.context["form"]["period"].value() == period
    assert response.context["form"]["rules"].value() == [INPATIENT]
    assert not ScreeningRun.objects.exists()


def test_an_unknown_rule_or_engine_is_refused(client, district_staff):
    client.force_login(district_staff)

    response = client.post(LIST_URL, {"period": PERIOD, "engine": "oracle", "rules": ["nope"]})

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert set(errors) == {"engine", "rules"}
    assert not ScreeningRun.objects.exists()


def test_a_service_refusal_shows_above_the_form(client, district_staff):
    from shouwang.screening.models import Rule

    Rule.objects.update(active=False)
    client.force_login(district_staff)

    response = client.post(LIST_URL, {"period": PERIOD, "engine": "duckdb"})

    assert response.status_code == 200
    assert "没有启用的规则可以运行" in text_of(response)
    assert not ScreeningRun.objects.exists()


# A run's page


def test_a_queued_run_is_polled_until_it_finishes(client, district_staff):
    queued = screening_run_create(actor=district_staff, period=PERIOD, rule_slugs=[INPATIENT])
    url = reverse("screening:run_detail", args=[queued.pk])
    client.force_login(district_staff)

    page = client.get(url)
    assert page.context["running"] is True
    assert f'hx-get="{url}" hx-trigger="every 1s"' in page.content.decode()
    assert "排队等待后台任务执行" in text_of(page)

    partial = client.get(url, HTTP_HX_REQUEST="true")
    assert partial.content.decode().lstrip().startswith('<div id="run-status"')
    assert "<html" not in partial.content.decode()

    # The list polls too while a run on it is unfinished.
    assert 'hx-trigger="every 2s"' in client.get(LIST_URL).content.decode()


def test_a_failed_run_shows_why(client, district_staff, staged_claims):
    # Without the income figures the 12-month rule has no threshold, and it is the only rule run.
    PolicyValue.objects.filter(parameter="rural_disposable_income").delete()
    with pytest.raises(Exception, match="没有可以运行的规则"):
        run(MEDICAL_12M)
    failed = ScreeningRun.objects.get()
    client.force_login(district_staff)

    text = text_of(client.get(reverse("screening:run_detail", args=[failed.pk])))

    assert "失败" in text
    assert "农村居民人均可支配收入" in text and "请在“政策参数”中补充" in text


def test_an_unknown_run_answers_404(client, district_staff):
    client.force_login(district_staff)
    assert client.get(reverse("screening:run_detail", args=[999999])).status_code == 404


def test_run_list_query_count_does_not_grow_with_runs(client, district_staff, staged_claims):
    client.force_login(district_staff)
    run()
    with CaptureQueriesContext(connection) as one:
        assert len(client.get(LIST_URL).context["runs"]) == 1
    for _ in range(4):
        run()
    with CaptureQueriesContext(connection) as five:
        assert len(client.get(LIST_URL).context["runs"]) == 5

    assert len(five) == len(one)


def test_run_detail_query_count_does_not_grow_with_rules(client, district_staff, staged_claims):
    client.force_login(district_staff)
    one_rule = run(INPATIENT)
    all_rules = screening_run(actor=None, period=PERIOD)
    with CaptureQueriesContext(connection) as one:
        client.get(reverse("screening:run_detail", args=[one_rule.pk]))
    with CaptureQueriesContext(connection) as all_:
        response = client.get(reverse("screening:run_detail", args=[all_rules.pk]))

    assert len(response.context["rule_counts"]) > 10
    assert len(all_) == len(one)
