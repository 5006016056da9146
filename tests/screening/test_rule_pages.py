"""Rule pages: list and detail in readable Chinese, the structured edit form with its
validation and preview, versions and their differences, and who may do what."""

from __future__ import annotations

import re
from decimal import Decimal

import pytest
from django.urls import reverse

from shouwang.core.choices import AuditAction
from shouwang.core.models import AuditEvent
from shouwang.screening.models import Alert, Rule, RuleVersion
from shouwang.screening.services import screening_run
from tests import factories as f
from tests.screening.staging import stage_rows

pytestmark = pytest.mark.django_db

MEDICAL = "medical-out-of-pocket-12m"
PERIOD = "2026-10"


def _text(response) -> str:
    """The page as a reader sees it: tags removed, white space collapsed."""
    html = response.content.decode()
    html = re.sub(r"<(script|style)\b.*?</\1>", " ", html, flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def medical_form(**changes) -> dict[str, object]:
    """What the edit page of the shipped 12-month medical rule submits, with ``changes``."""
    data: dict[str, object] = {
        "name": "近12个月医疗自付费用较高",
        "description": "",
        "active": "on",
        "feed": "medical",
        "function": "sum",
        "measure": "out_of_pocket",
        "window_months": "12",
        "per": "household",
        "comparison": "ge",
        "threshold_kind": "parameter",
        "threshold_value": "",
        "threshold_parameter": "rural_disposable_income",
        "threshold_factor": "0.5",
        "threshold_year_offset": "-1",
        "unregistered_kind": "parameter",
        "unregistered_value": "",
        "unregistered_parameter": "rural_disposable_income",
        "unregistered_factor": "1",
        "unregistered_year_offset": "-1",
        "population": [
            "monitored",
            "risk_eliminated",
            "poverty_exited",
            "ordinary",
            "unregistered",
        ],
        "risk_type": "illness",
        "severity": "high",
        "note": "按县里要求调整",
        "preview_period": "",
        "conditions-TOTAL_FORMS": "2",
        "conditions-INITIAL_FORMS": "0",
        "conditions-MIN_NUM_FORMS": "0",
        "conditions-MAX_NUM_FORMS": "12",
        "conditions-0-field": "",
        "conditions-0-op": "eq",
        "conditions-0-value": "",
        "conditions-1-field": "",
        "conditions-1-op": "eq",
        "conditions-1-value": "",
    }
    if changes.pop("active", True) is False:
        del data["active"]
    data.update(changes)
    return data


def _claim(id_number: str, amount: str, *, on: str = "2026-10-05") -> dict[str, object]:
    return {
        "id_number": id_number,
        "name": "李四",
        "settled_on": on,
        "visit_type": "inpatient",
        "out_of_pocket": amount,
    }


def _first_member_id(household) -> str:
    from shouwang.registry.services import member_reveal_id_number

    return member_reveal_id_number(actor=None, member=household.members.order_by("id").first())


# --- who may see and change rules --------------------------------------------------------


def test_grid_and_township_users_get_403(client, village_cadre, township_staff):
    for user in (village_cadre, township_staff):
        client.force_login(user)
        assert client.get(reverse("screening:rule_list")).status_code == 403
        assert client.get(reverse("screening:rule_detail", args=[MEDICAL])).status_code == 403


def test_staff_and_department_officers_read_but_cannot_edit(
    client, district_staff, department_officer
):
    for user in (district_staff, department_officer):
        client.force_login(user)
        listing = client.get(reverse("screening:rule_list"))
        assert listing.status_code == 200
        assert "近12个月医疗自付费用较高" in _text(listing)
        assert "新建规则" not in _text(listing)
        assert client.get(reverse("screening:rule_detail", args=[MEDICAL])).status_code == 200
        edit = reverse("screening:rule_edit", args=[MEDICAL])
        assert client.get(edit).status_code == 403
        response = client.post(edit, medical_form(threshold_factor="0.4"))
        assert response.status_code == 403
        assert client.get(reverse("screening:rule_create")).status_code == 403
    assert Rule.objects.get(slug=MEDICAL).version == 1


def test_unknown_rule_is_404(client, district_admin):
    client.force_login(district_admin)
    assert client.get(reverse("screening:rule_detail", args=["no-such-rule"])).status_code == 404
    assert client.get(reverse("screening:rule_edit", args=["no-such-rule"])).status_code == 404


# --- list and detail ---------------------------------------------------------------------


def test_list_shows_feed_risk_severity_version_and_open_alerts(client, district_admin):
    household = f.make_household(f.VILLAGE_A)
    stage_rows("medical", [_claim(_first_member_id(household), "20000")], period=PERIOD)
    screening_run(actor=None, period=PERIOD, rule_slugs=[MEDICAL])
    client.force_login(district_admin)
    response = client.get(reverse("screening:rule_list"))
    html = response.content.decode()
    row = re.search(r"<tr>\s*<td[^>]*>.{0,300}?" + MEDICAL + r".*?</tr>", html, re.S).group(0)
    cells = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", row))
    assert "医保局医疗费用结算数据" in cells
    assert "因病" in cells and "高" in cells and "启用" in cells
    assert (
        f'href="{reverse("screening:alert_list")}?rule={MEDICAL}&amp;status=unresolved">1<' in row
    )


def test_detail_reads_the_rule_in_chinese_with_current_thresholds(client, district_admin):
    client.force_login(district_admin)
    text = _text(client.get(reverse("screening:rule_detail", args=[MEDICAL])))
    assert (
        "近12个月 医保局医疗费用结算数据 中 个人自付金额 按户合计 ≥ "
        "上年农村居民人均可支配收入×50%（未在册人员 ×100%）"
    ) in text
    assert "第 1 版" in text and "系统预置" in text
    # 2024's national figure (23,119) is the "last year" of any period from 2025 on.
    assert "11559.50" in text and "23119.00" in text


def test_detail_lists_conditions_with_department_labels(client, district_admin):
    client.force_login(district_admin)
    text = _text(client.get(reverse("screening:rule_detail", args=["compulsory-school-dropout"])))
    # A choice shows every way departments write it (shorter first, the same on every database).
    assert "学籍状态为失学/辍学/疑似辍学，且年龄（周岁） ≥ 6，且年龄（周岁） ≤ 16" in text


# --- editing -----------------------------------------------------------------------------


def test_edit_form_is_structured_and_filled_from_the_rule(client, district_admin):
    client.force_login(district_admin)
    response = client.get(reverse("screening:rule_edit", args=["inpatient-out-of-pocket-month"]))
    html = response.content.decode()
    assert "&quot;aggregate&quot;" not in html and '"aggregate"' not in html  # no raw JSON
    assert re.search(r'<option value="medical" selected>', html)
    assert re.search(
        r'name="conditions-0-field".*?<option value="visit_type" selected>', html, re.S
    )
    assert 'name="conditions-0-value" value="住院"' in html  # choices by their label
    assert re.search(r'<option value="person.age">年龄（周岁）</option>', html)
    assert 'name="threshold_value" value="5000"' in html
    assert 'name="unregistered_value" value="20000"' in html
    assert "就诊类别 住院、门特/门诊慢特病/门诊特殊疾病、门诊/普通门诊" in _text(response)


def test_save_makes_a_version_with_note_audit_and_diff(client, district_admin):
    client.force_login(district_admin)
    url = reverse("screening:rule_edit", args=[MEDICAL])
    response = client.post(url, medical_form(threshold_factor="0.4", note="县里下调到40%"))
    assert response.status_code == 302
    assert response["Location"] == reverse("screening:rule_detail", args=[MEDICAL])
    rule = Rule.objects.get(slug=MEDICAL)
    assert rule.version == 2
    assert rule.spec["threshold"] == {
        "parameter": "rural_disposable_income",
        "factor": "0.4",
        "year_offset": -1,
    }
    version = RuleVersion.objects.get(rule=rule, version=2)
    assert version.note == "县里下调到40%" and version.actor == district_admin
    event = AuditEvent.objects.get(target_type="screening.rule", action=AuditAction.UPDATE)
    assert event.actor == district_admin and event.extra["version"] == 2

    text = _text(client.get(response["Location"]))
    assert "已保存为第 2 版" in text
    assert "县里下调到40%" in text
    assert (
        "比较与阈值： 大于等于 上年农村居民人均可支配收入×50% → "
        "大于等于 上年农村居民人均可支配收入×40%"
    ) in text


def test_unchanged_save_makes_no_version(client, district_admin):
    client.force_login(district_admin)
    description = Rule.objects.get(slug=MEDICAL).description
    response = client.post(
        reverse("screening:rule_edit", args=[MEDICAL]), medical_form(description=description)
    )
    assert response.status_code == 302
    assert Rule.objects.get(slug=MEDICAL).version == 1
    assert not AuditEvent.objects.filter(target_type="screening.rule").exists()
    assert "规则没有变化，未生成新版本" in _text(client.get(response["Location"]))


def test_every_problem_is_listed_and_the_input_kept(client, district_admin):
    client.force_login(district_admin)
    response = client.post(
        reverse("screening:rule_edit", args=[MEDICAL]),
        medical_form(
            name="改过的名字",
            note="",
            window_months="0",
            measure="diagnosis",
            threshold_kind="value",
            threshold_value="很多",
            population=[],
        ),
    )
    assert response.status_code == 200
    text = _text(response)
    assert "请填写修改说明" in text
    for message in (
        "时间窗口应为 1 到 60 个月",
        "不是数值列",
        "阈值不是有效数值",
        "请至少选择一类适用人群",
    ):
        assert message in text, message
    html = response.content.decode()
    assert 'value="改过的名字"' in html and 'name="threshold_value" value="很多"' in html
    assert 'name="window_months" value="0"' in html
    assert Rule.objects.get(slug=MEDICAL).version == 1


def test_service_errors_after_a_valid_form_are_all_shown(client, district_admin):
    client.force_login(district_admin)
    response = client.post(
        reverse("screening:rule_edit", args=[MEDICAL]),
        medical_form(
            **{
                "conditions-0-field": "visit_type",
                "conditions-0-op": "eq",
                "conditions-0-value": "急诊",
                "conditions-1-field": "household.labour_count",
                "conditions-1-op": "le",
                "conditions-1-value": "1",
            }
        ),
    )
    text = _text(response)
    assert "规则有 2 处问题" in text
    assert "“急诊”不在选项中" in text
    assert "使用家庭条件的规则不能适用于未在册人员" in text
    assert 'value="急诊"' in response.content.decode()


def test_condition_values_are_parsed_lists_labels_and_yes_no(client, district_admin):
    client.force_login(district_admin)
    response = client.post(
        reverse("screening:rule_edit", args=["earner-death"]),
        {
            **medical_form(
                name="劳动力死亡",
                feed="civil-registration",
                function="count",
                measure="",
                window_months="1",
                per="person",
                threshold_kind="value",
                threshold_value="1",
                unregistered_kind="same",
                risk_type="lack_of_labour",
                severity="high",
                note="加入迁出",
            ),
            "conditions-0-field": "change_type",
            "conditions-0-op": "in",
            "conditions-0-value": "死亡、迁出",
            "conditions-1-field": "person.labour_capable",
            "conditions-1-op": "eq",
            "conditions-1-value": "是",
        },
    )
    assert response.status_code == 302, _text(response)
    spec = Rule.objects.get(slug="earner-death").spec
    assert spec["conditions"] == [
        {"field": "change_type", "op": "in", "value": ["death", "move_out"]},
        {"field": "person.labour_capable", "op": "eq", "value": True},
    ]
    assert spec["threshold_unregistered"] is None
    assert spec["aggregate"] == {"function": "count", "field": None}


def test_choosing_another_feed_redraws_its_fields_and_keeps_the_input(client, district_admin):
    client.force_login(district_admin)
    url = reverse("screening:rule_edit", args=[MEDICAL])
    data = medical_form(name="正在改", feed="disability", action="refresh")
    full = client.post(url, data)
    assert full.status_code == 200
    html = full.content.decode()
    assert '<option value="disability_grade">残疾等级</option>' in html
    assert '<option value="visit_type">' not in html
    assert 'value="正在改"' in html
    assert "请填写" not in _text(full)  # a redraw reports no errors
    partial = client.post(url, data, headers={"HX-Request": "true"})
    body = partial.content.decode()
    assert body.lstrip().startswith('<div id="rule-form-feed"') and "<html" not in body
    assert Rule.objects.get(slug=MEDICAL).version == 1


def test_add_condition_row(client, district_admin):
    client.force_login(district_admin)
    url = reverse("screening:rule_edit", args=[MEDICAL])
    data = medical_form(
        action="add_condition",
        **{"conditions-0-field": "visit_type", "conditions-0-value": "住院"},
    )
    html = client.post(url, data).content.decode()
    assert 'name="conditions-TOTAL_FORMS" value="4"' in html
    assert 'name="conditions-0-value" value="住院"' in html


def test_new_rule_page_creates_version_one(client, district_admin):
    client.force_login(district_admin)
    assert client.get(reverse("screening:rule_create")).status_code == 200
    data = medical_form(slug="medical-outpatient-6m", name="近半年门诊自付较高", window_months="6")
    del data["note"]
    response = client.post(reverse("screening:rule_create"), data)
    assert response.status_code == 302
    rule = Rule.objects.get(slug="medical-outpatient-6m")
    assert rule.version == 1 and rule.spec["window_months"] == 6
    assert RuleVersion.objects.get(rule=rule).actor == district_admin
    again = client.post(reverse("screening:rule_create"), data)
    assert "规则代码“medical-outpatient-6m”已存在" in _text(again)


# --- preview -----------------------------------------------------------------------------


@pytest.fixture
def staged_claims():
    """One registered household over the 50 % line and one unregistered person over 100 %."""
    household = f.make_household(f.VILLAGE_A)
    stage_rows(
        "medical",
        [
            _claim(_first_member_id(household), "9000"),
            _claim(f.next_id_number(), "30000"),
            _claim(f.next_id_number(), "15000"),  # unregistered, under their line
        ],
        period=PERIOD,
    )
    return household


def test_htmx_preview_counts_and_saving_then_running_raises_as_many(
    client, district_admin, staged_claims
):
    client.force_login(district_admin)
    data = medical_form(
        slug="medical-high-30pct",
        name="医疗自付超过三成",
        threshold_factor="0.3",
        preview_period=PERIOD,
        action="preview",
    )
    del data["note"]
    url = reverse("screening:rule_create")
    response = client.post(url, data, headers={"HX-Request": "true"})
    body = response.content.decode()
    assert body.lstrip().startswith('<div id="rule-preview"')
    text = _text(response)
    # 30 % of 23,119 is 6,935.70: the registered household (9,000) and the 30,000 one count.
    assert "这条规则现在会命中 2 个对象" in text
    assert re.search(r"在册对象（户或人，按规则统计口径） 1 ", text) and re.search(
        r"未在册人员（疑似新增监测对象） 1 ", text
    )
    assert "6935.70" in text and "23119.00" in text
    assert not Rule.objects.filter(slug="medical-high-30pct").exists()
    assert not Alert.objects.exists()

    data["action"] = "save"
    assert client.post(url, data).status_code == 302
    run = screening_run(actor=None, period=PERIOD, rule_slugs=["medical-high-30pct"])
    assert run.alerts_new == 2 == Alert.objects.count()
    assert {a.threshold for a in Alert.objects.all()} == {Decimal("6935.70"), Decimal("23119.00")}

    edit = reverse("screening:rule_edit", args=["medical-high-30pct"])
    again = _text(client.post(edit, {**data, "action": "preview"}, headers={"HX-Request": "true"}))
    assert "其中已有未处理预警 2" in again


def test_preview_without_javascript_renders_the_whole_page(client, district_admin, staged_claims):
    client.force_login(district_admin)
    response = client.post(
        reverse("screening:rule_edit", args=[MEDICAL]),
        medical_form(name="名字不变", note="", preview_period=PERIOD, action="preview"),
    )
    assert response.status_code == 200
    text = _text(response)
    assert "这条规则现在会命中 1 个对象" in text  # 9,000 < 11,559.50; only the 30,000 person
    assert "请填写修改说明" not in text  # previewing is not saving
    assert 'value="名字不变"' in response.content.decode()
    assert Rule.objects.get(slug=MEDICAL).version == 1


def test_preview_reports_every_problem(client, district_admin):
    client.force_login(district_admin)
    response = client.post(
        reverse("screening:rule_edit", args=[MEDICAL]),
        medical_form(window_months="99", threshold_factor="-1", action="preview"),
        headers={"HX-Request": "true"},
    )
    text = _text(response)
    assert "无法预览" in text
    assert "时间窗口应为 1 到 60 个月" in text and "阈值的倍数应为大于 0、不超过 100 的数" in text


def test_preview_period_is_checked(client, district_admin):
    client.force_login(district_admin)
    response = client.post(
        reverse("screening:rule_edit", args=[MEDICAL]),
        medical_form(preview_period="2026/13", action="preview"),
        headers={"HX-Request": "true"},
    )
    assert "格式不对" in _text(response)


def test_list_queries_do_not_grow_with_rules(client, district_admin, django_assert_num_queries):
    client.force_login(district_admin)
    url = reverse("screening:rule_list")
    with django_assert_num_queries(6):
        client.get(url)
    for number in range(3):
        rule = Rule.objects.get(slug=MEDICAL)
        rule.pk, rule.slug = None, f"copy-{number}"
        rule.save()
    with django_assert_num_queries(6):
        assert "copy-2" in client.get(url).content.decode()
