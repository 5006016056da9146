"""Policy parameter pages: the list grouped by parameter, and the add/edit/delete forms of
district administrators."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from shouwang.core.choices import AuditAction
from shouwang.core.models import AuditEvent
from shouwang.policy.models import PolicyValue
from tests import factories as f

pytestmark = pytest.mark.django_db


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def test_list_groups_values_by_parameter(client, district_staff):
    client.force_login(district_staff)
    response = client.get(reverse("policy:policy_list"))
    assert response.status_code == 200
    html = response.content.decode()
    section = re.search(
        r'<section class="panel" id="parameter-rural_disposable_income".*?</section>', html, re.S
    ).group(0)
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", section))
    assert "农村居民人均可支配收入" in text and "元/人·年" in text
    assert "全国" in text and "2024" in text and "23119" in text
    assert 'href="https://www.stats.gov.cn/' in section  # sources are links
    assert "不分年度" in _text(response)  # the screening day
    assert "修改" not in text and "新增" not in text  # staff read only


def test_roles_outside_the_district_get_403(
    client, village_cadre, township_staff, department_officer
):
    for user in (village_cadre, township_staff, department_officer):
        client.force_login(user)
        assert client.get(reverse("policy:policy_list")).status_code == 403


def test_staff_cannot_change_values(client, district_staff):
    row = PolicyValue.objects.get(parameter="monitoring_line", year=2024, division=None)
    client.force_login(district_staff)
    assert client.get(reverse("policy:policy_create")).status_code == 403
    edit = reverse("policy:policy_edit", args=[row.pk])
    assert client.post(edit, {"parameter": "monitoring_line", "value": "1"}).status_code == 403
    assert client.post(reverse("policy:policy_delete", args=[row.pk])).status_code == 403
    assert PolicyValue.objects.get(pk=row.pk).value == Decimal("8800")


def test_admin_adds_a_county_value(client, district_admin):
    client.force_login(district_admin)
    form = client.get(reverse("policy:policy_create") + "?parameter=monitoring_line")
    assert '<option value="monitoring_line" selected>' in form.content.decode()
    # Only provinces and counties are offered as divisions.
    assert "重庆市（省）" in _text(form) and "武隆区（区县）" in _text(form)
    assert "火炉镇" not in _text(form)
    response = client.post(
        reverse("policy:policy_create"),
        {
            "parameter": "monitoring_line",
            "division": f.COUNTY_WULONG,
            "year": "2026",
            "value": "9100",
            "source": "武隆区乡村振兴局文件",
            "note": "",
        },
    )
    assert response.status_code == 302
    assert response["Location"].endswith("#parameter-monitoring_line")
    row = PolicyValue.objects.get(parameter="monitoring_line", division_id=f.COUNTY_WULONG)
    assert row.year == 2026 and row.value == Decimal("9100")
    assert AuditEvent.objects.filter(
        target_type="policy.policyvalue", action=AuditAction.CREATE
    ).exists()
    listing = _text(client.get(reverse("policy:policy_list")))
    assert "武隆区" in listing and "9100" in listing and "district-admin 修改" in listing


def test_bad_input_is_reported_on_its_fields_and_kept(client, district_admin):
    client.force_login(district_admin)
    response = client.post(
        reverse("policy:policy_create"),
        {
            "parameter": "screening_day",
            "division": "",
            "year": "2026",
            "value": "-1",
            "source": "文件",
            "note": "说明文字",
        },
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "不分年度，年度请留空" in html and "数值不能为负数" in html
    assert 'value="-1"' in html and 'value="说明文字"' in html and 'value="2026"' in html


def test_duplicate_is_refused_above_the_form(client, district_admin):
    client.force_login(district_admin)
    response = client.post(
        reverse("policy:policy_create"),
        {"parameter": "monitoring_line", "division": "", "year": "2024", "value": "9000"},
    )
    assert "在全国 2024 年已有数值" in _text(response)
    assert PolicyValue.objects.filter(parameter="monitoring_line", year=2024).count() == 1


def test_edit_and_delete(client, district_admin):
    row = PolicyValue.objects.get(parameter="rural_disposable_income", year=2024, division=None)
    client.force_login(district_admin)
    edit = reverse("policy:policy_edit", args=[row.pk])
    page = client.get(edit).content.decode()
    assert 'name="value" value="23119"' in page
    response = client.post(
        edit,
        {
            "parameter": "rural_disposable_income",
            "division": "",
            "year": "2024",
            "value": "23119.5",
            "source": row.source,
            "note": "更正",
        },
    )
    assert response.status_code == 302
    row.refresh_from_db()
    assert row.value == Decimal("23119.5") and row.note == "更正"

    delete = reverse("policy:policy_delete", args=[row.pk])
    confirm = _text(client.get(delete))
    assert "确定删除“农村居民人均可支配收入”的全国数值 23119.5" in confirm
    assert client.post(delete).status_code == 302
    assert not PolicyValue.objects.filter(pk=row.pk).exists()
    assert AuditEvent.objects.filter(
        target_type="policy.policyvalue", action=AuditAction.DELETE
    ).exists()
    assert client.get(edit).status_code == 404


def test_list_queries_do_not_grow_with_values(client, district_admin, django_assert_num_queries):
    client.force_login(district_admin)
    url = reverse("policy:policy_list")
    with django_assert_num_queries(4):
        client.get(url)
    for year in range(2030, 2036):
        PolicyValue.objects.create(
            parameter="monitoring_line", year=year, value=9000, updated_by=district_admin
        )
    with django_assert_num_queries(4):
        assert "2035" in client.get(url).content.decode()
