import datetime as dt
from decimal import Decimal

import pytest
from django.contrib.auth.models import Permission
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from shouwang.core import crypto
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as c
from shouwang.registry.models import Household, Member
from tests import factories as f

pytestmark = pytest.mark.django_db

LIST_URL = reverse("registry:household_list")

MONITORED = {
    "household_type": c.HouseholdType.MONITORED,
    "monitoring_category": c.MonitoringCategory.MARGINAL,
    "monitoring_status": c.MonitoringStatus.RISK_UNRESOLVED,
    "identified_month": "202403",
    "risk_type_1": c.RiskType.ILLNESS,
}


def listed(response) -> set[str]:
    return {h.household_number for h in response.context["page"].object_list}


def household_post(**overrides) -> dict:
    data = {
        "household_number": "500156104200-0099",
        "village": f.VILLAGE_A,
        "household_type": c.HouseholdType.POVERTY_EXITED,
        "phone": "13800001111",
        "monitoring_category": "",
        "monitoring_status": c.MonitoringStatus.NOT_MONITORED,
        "income_year": "2025",
        "wage_income": "24000",
        "operating_income": "3000",
        "property_income": "0",
        "transfer_income": "1200",
        "productive_expenses": "1000",
        "compliant_out_of_pocket": "0",
        "housing_secure": "on",
        "drinking_water_secure": "on",
    }
    data.update(overrides)
    return data


def member_post(**overrides) -> dict:
    data = {
        "name": "王小梅",
        "id_number": f.next_id_number(birth=dt.date(1988, 3, 9), male=False),
        "relation": c.Relation.HEAD,
        "ethnicity": c.Ethnicity.TUJIA,
        "education": c.Education.SENIOR,
        "school_status": c.SchoolStatus.NOT_IN_SCHOOL,
        "health_status": c.HealthStatus.HEALTHY,
        "labour_skill": c.LabourSkill.ORDINARY,
        "employment_status": c.EmploymentStatus.INSIDE_COUNTY,
        "months_employed": "8",
        "has_basic_medical_insurance": "on",
        "social_assistance": c.SocialAssistance.NONE,
    }
    data.update(overrides)
    return data


# Jurisdiction


def test_list_shows_only_the_actors_village(client, village_cadre):
    mine = f.make_household(members=1)
    f.make_household(f.VILLAGE_B, members=1)
    f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1)
    client.force_login(village_cadre)

    response = client.get(LIST_URL)

    assert response.status_code == 200
    assert listed(response) == {mine.household_number}


def test_other_villages_records_answer_404(client, village_cadre):
    other = f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1)
    other_member = other.members.get()
    client.force_login(village_cadre)

    assert client.get(reverse("registry:household_detail", args=[other.pk])).status_code == 404
    assert client.get(reverse("registry:household_edit", args=[other.pk])).status_code == 404
    assert client.get(reverse("registry:household_delete", args=[other.pk])).status_code == 404
    assert client.get(reverse("registry:member_create", args=[other.pk])).status_code == 404
    assert client.get(reverse("registry:member_edit", args=[other_member.pk])).status_code == 404
    assert (
        client.post(
            reverse("registry:member_edit", args=[other_member.pk]), member_post()
        ).status_code
        == 404
    )
    assert client.post(reverse("registry:member_delete", args=[other_member.pk])).status_code == 404
    assert client.post(reverse("registry:member_reveal", args=[other_member.pk])).status_code == 404
    assert (
        client.post(reverse("registry:household_reveal_phone", args=[other.pk])).status_code == 404
    )
    assert Member.objects.filter(pk=other_member.pk).exists()


def test_division_dropdowns_offer_only_the_actors_area(
    client, township_staff, village_cadre, district_admin
):
    client.force_login(township_staff)
    form = client.get(LIST_URL).context["filter_form"]
    assert "township" not in form.fields  # a single township: nothing to choose
    villages = [code for code, _ in form.fields["village"].widget.choices if code]
    assert f.VILLAGE_A in villages and f.VILLAGE_B in villages
    assert all(code.startswith("500156104") for code in villages)

    client.force_login(village_cadre)
    form = client.get(LIST_URL).context["filter_form"]
    assert "township" not in form.fields and "village" not in form.fields

    client.force_login(district_admin)
    form = client.get(LIST_URL).context["filter_form"]
    # A county's villages are offered only once a township is chosen.
    assert "township" in form.fields and "village" not in form.fields
    html = client.get(LIST_URL, {"village": f.VILLAGE_A}).content.decode()
    assert f'value="{f.VILLAGE_A}" selected' in html  # a village in the address stays shown

    form = client.get(LIST_URL, {"township": f.TOWNSHIP_HUOLU}).context["filter_form"]
    townships = [code for code, _ in form.fields["township"].widget.choices if code]
    assert len(townships) == 26
    villages = [code for code, _ in form.fields["village"].widget.choices if code]
    assert villages and all(code.startswith("500156104") for code in villages)


# Filters and search


@pytest.fixture
def district_households():
    """Households across two townships with one distinguishing value each."""
    return {
        "plain": f.make_household(members=1),
        "village_b": f.make_household(
            f.VILLAGE_B, members=1, household_type=c.HouseholdType.ORDINARY
        ),
        "other_township": f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1),
        "monitored": f.make_household(members=1, **MONITORED),
        "eliminated": f.make_household(
            members=1,
            **{
                **MONITORED,
                "monitoring_category": c.MonitoringCategory.UNSTABLE_EXITED,
                "household_type": c.HouseholdType.POVERTY_EXITED,
                "monitoring_status": c.MonitoringStatus.RISK_ELIMINATED,
                "risk_type_1": c.RiskType.HOUSING,
                "eliminated_month": "202410",
                "elimination_method": c.EliminationMethod.ASSISTED,
            },
        ),
    }


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"township": f.TOWNSHIP_HUOLU}, {"plain", "village_b", "monitored", "eliminated"}),
        ({"township": "500156001000"}, {"other_township"}),
        ({"village": f.VILLAGE_B}, {"village_b"}),
        ({"household_type": c.HouseholdType.ORDINARY}, {"village_b"}),
        ({"household_type": c.HouseholdType.MONITORED}, {"monitored"}),
        ({"monitoring_category": c.MonitoringCategory.UNSTABLE_EXITED}, {"eliminated"}),
        ({"monitoring_status": c.MonitoringStatus.RISK_UNRESOLVED}, {"monitored"}),
        ({"risk_type": c.RiskType.HOUSING}, {"eliminated"}),
        (
            {"risk_type": c.RiskType.ILLNESS, "household_type": c.HouseholdType.POVERTY_EXITED},
            set(),
        ),
    ],
)
def test_each_filter_narrows_the_list(
    client, district_admin, district_households, params, expected
):
    client.force_login(district_admin)
    response = client.get(LIST_URL, params)
    assert listed(response) == {district_households[key].household_number for key in expected}


def test_labour_filter_matches_any_member(client, district_admin):
    weak = f.make_household(members=1)
    f.make_member(weak, name="老李", relation=c.Relation.FATHER, labour_skill=c.LabourSkill.WEAK)
    f.make_household(members=2)
    client.force_login(district_admin)

    response = client.get(LIST_URL, {"labour": c.LabourSkill.WEAK})

    assert listed(response) == {weak.household_number}


def test_search_by_member_name_and_by_full_id_number(client, village_cadre):
    target = f.make_household(members=1)
    id_number = f.next_id_number(birth=dt.date(1999, 1, 2), male=False)
    f.make_member(target, name="冉春燕", relation=c.Relation.DAUGHTER, id_number=id_number)
    f.make_household(members=2)
    client.force_login(village_cadre)

    assert listed(client.get(LIST_URL, {"q": "春燕"})) == {target.household_number}
    assert listed(client.get(LIST_URL, {"q": id_number[:10]})) == set()
    # An ID number is never searched from the URL: the page says where to look it up.
    response = client.get(LIST_URL, {"q": id_number})
    assert "不能放在网址中" in response.content.decode()
    # It is POSTed instead, and opens the household.
    found = client.post(reverse("registry:household_find"), {"id_number": id_number})
    assert found["Location"] == reverse("registry:household_detail", args=[target.pk])
    missing = client.post(
        reverse("registry:household_find"), {"id_number": f.next_id_number()}, follow=True
    )
    assert "您的管辖范围内没有登记该身份证号码的人员" in missing.content.decode()


def test_pages_keep_the_filters(client, village_cadre, settings):
    settings.SHOUWANG_PAGE_SIZE = 3
    numbers = sorted(f.make_household(members=1).household_number for _ in range(5))
    f.make_household(members=1, household_type=c.HouseholdType.ORDINARY)
    client.force_login(village_cadre)

    first = client.get(LIST_URL, {"household_type": c.HouseholdType.POVERTY_EXITED})
    second = client.get(LIST_URL, {"household_type": c.HouseholdType.POVERTY_EXITED, "page": "2"})

    assert sorted(listed(first)) == numbers[:3]
    assert sorted(listed(second)) == numbers[3:]
    assert "?household_type=poverty_exited&amp;page=2" in first.content.decode()
    assert "?household_type=poverty_exited&amp;page=1" in second.content.decode()


def test_htmx_request_gets_only_the_results(client, village_cadre):
    household = f.make_household(members=1)
    client.force_login(village_cadre)

    response = client.get(LIST_URL, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert response.status_code == 200
    assert html.lstrip().startswith('<section id="results"')
    assert "<html" not in html and "<form" not in html
    assert household.household_number in html
    assert "HX-Request" in response["Vary"]


def test_htmx_results_carry_the_village_choices_of_the_chosen_township(client, district_admin):
    client.force_login(district_admin)

    response = client.get(LIST_URL, {"township": "500156001000"}, headers={"HX-Request": "true"})

    html = response.content.decode()
    assert '<div id="village-filter" hx-swap-oob="true">' in html
    assert 'value="500156001200"' in html  # a village of 凤山街道
    assert f'value="{f.VILLAGE_A}"' not in html

    restore = client.get(
        LIST_URL,
        {"township": "500156001000"},
        headers={"HX-Request": "true", "HX-History-Restore-Request": "true"},
    )
    assert "<html" in restore.content.decode()
    assert "hx-swap-oob" not in restore.content.decode()


def test_list_query_count_does_not_grow_with_rows(client, township_staff):
    client.force_login(township_staff)
    for _ in range(5):
        f.make_household(members=1)
    with CaptureQueriesContext(connection) as five:
        assert len(listed(client.get(LIST_URL))) == 5
    for _ in range(20):
        f.make_household(f.VILLAGE_B, members=1)
    with CaptureQueriesContext(connection) as twenty_five:
        assert len(listed(client.get(LIST_URL))) == 25
    assert len(twenty_five) == len(five)


# Household page


def test_household_page_shows_sections_members_and_masked_numbers(client, village_cadre):
    household = f.make_household(members=0, **MONITORED)
    member = f.make_member(household, name="冉光明", id_number="50015619800517001X")
    client.force_login(village_cadre)

    response = client.get(reverse("registry:household_detail", args=[household.pk]))

    html = response.content.decode()
    for heading in ("基本信息", "监测信息", "收入", "保障情况", "搬迁", "家庭成员", "变更记录"):
        assert heading in html
    assert "冉光明" in html and member.id_number_masked in html
    assert "50015619800517001X" not in html
    assert "139****5678" in html and "13912345678" not in html
    assert "因病" in html and "边缘易致贫户" in html
    assert "显示完整号码" not in html  # a village cadre may not reveal
    assert reverse("registry:household_edit", args=[household.pk]) in html


def test_history_names_changed_fields_with_labels(client, village_cadre):
    household = f.make_household(members=1)
    client.force_login(village_cadre)
    client.post(
        reverse("registry:household_edit", args=[household.pk]),
        household_post(
            household_number=household.household_number,
            wage_income="12000",
            household_type=c.HouseholdType.ORDINARY,
            phone="",
        ),
    )

    html = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()

    assert "工资性收入（元）" in html
    assert "<del>30000.00</del> → <ins>12000.00</ins>" in html
    assert "<del>脱贫户</del> → <ins>一般农户</ins>" in html
    assert "村干部甲" in html


def test_department_officer_sees_no_edit_buttons_and_gets_403_on_edit_pages(
    client, department_officer
):
    household = f.make_household(members=1)
    member = household.members.get()
    client.force_login(department_officer)

    page = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert reverse("registry:household_edit", args=[household.pk]) not in page
    assert reverse("registry:member_create", args=[household.pk]) not in page

    assert client.get(reverse("registry:household_create")).status_code == 403
    response = client.post(reverse("registry:household_create"), household_post())
    assert response.status_code == 403
    assert "不能修改农户档案" in response.content.decode()
    assert client.get(reverse("registry:household_edit", args=[household.pk])).status_code == 403
    assert client.post(reverse("registry:member_delete", args=[member.pk])).status_code == 403
    assert not Household.objects.filter(household_number="500156104200-0099").exists()
    assert Member.objects.filter(pk=member.pk).exists()


def test_detail_query_count_does_not_grow_with_members(client, district_admin):
    small = f.make_household(members=1)
    large = f.make_household(members=6)
    client.force_login(district_admin)
    client.get(reverse("registry:household_detail", args=[small.pk]))  # warm the session

    with CaptureQueriesContext(connection) as one:
        assert (
            len(
                client.get(reverse("registry:household_detail", args=[small.pk])).context["members"]
            )
            == 1
        )
    with CaptureQueriesContext(connection) as six:
        assert (
            len(
                client.get(reverse("registry:household_detail", args=[large.pk])).context["members"]
            )
            == 6
        )
    assert len(six) == len(one)


# Creating and editing


def test_create_household_then_add_member(client, village_cadre):
    client.force_login(village_cadre)

    response = client.post(reverse("registry:household_create"), household_post())

    household = Household.objects.get(household_number="500156104200-0099")
    assert response.status_code == 302
    assert response.url == reverse("registry:household_detail", args=[household.pk])
    assert household.phone_masked == "138****1111"
    assert AuditEvent.objects.filter(
        action="create", target_type="registry.household", actor=village_cadre
    ).exists()

    post = member_post()
    response = client.post(reverse("registry:member_create", args=[household.pk]), post)

    assert response.status_code == 302
    member = household.members.get()
    assert crypto.decrypt(member.id_number_encrypted) == post["id_number"]
    assert member.sex == c.Sex.FEMALE and member.birth_date == dt.date(1988, 3, 9)
    household.refresh_from_db()
    assert (household.member_count, household.head_name) == (1, "王小梅")
    assert household.per_capita_net_income == Decimal("27200.00")
    event = AuditEvent.objects.get(action="create", target_type="registry.member")
    assert event.actor == village_cadre
    assert event.subject == f"registry.household:{household.pk}"
    assert "已添加家庭成员" in client.get(response.url).content.decode()


def test_excel_damaged_id_number_is_shown_next_to_the_field(client, village_cadre):
    household = f.make_household(members=0)
    client.force_login(village_cadre)

    response = client.post(
        reverse("registry:member_create", args=[household.pk]), member_post(id_number="5.00156E+17")
    )

    assert response.status_code == 200
    errors = response.context["form"].errors
    assert "科学计数法" in errors["id_number"][0]
    assert 'id="id_id_number_error"' in response.content.decode()
    assert not household.members.exists()


def test_missing_required_field_is_reported_in_chinese(client, village_cadre):
    client.force_login(village_cadre)

    response = client.post(reverse("registry:household_create"), household_post(household_type=""))

    assert response.status_code == 200
    assert response.context["form"].errors["household_type"] == ["该字段是必填项。"]
    assert "该字段是必填项。" in response.content.decode()
    assert not Household.objects.exists()


def test_service_rule_errors_land_on_their_fields(client, village_cadre):
    household = f.make_household(members=0)
    f.make_member(household, id_number="11010519491231002X")
    client.force_login(village_cadre)

    response = client.post(
        reverse("registry:member_create", args=[household.pk]),
        member_post(id_number="11010519491231002X", relation=c.Relation.SON),
    )

    assert response.status_code == 200
    assert "已登记" in response.context["form"].errors["id_number"][0]


def test_phone_rule_of_the_service_lands_on_the_phone_field(client, village_cadre):
    client.force_login(village_cadre)

    response = client.post(reverse("registry:household_create"), household_post(phone="12ab"))

    assert response.status_code == 200
    assert response.context["form"].errors["phone"] == ["联系电话应为 7 到 12 位数字"]
    assert not Household.objects.exists()


def test_village_choices_on_the_household_form_are_the_actors(client, village_cadre):
    client.force_login(village_cadre)
    form = client.get(reverse("registry:household_create")).context["form"]
    assert [v.code for v in form.fields["village"].queryset] == [f.VILLAGE_A]

    response = client.post(
        reverse("registry:household_create"), household_post(village=f.VILLAGE_B)
    )
    assert "village" in response.context["form"].errors
    assert not Household.objects.exists()


def test_edit_member_keeps_id_number_when_left_blank(client, village_cadre):
    household = f.make_household(members=1)
    member = household.members.get()
    stored = member.id_number_encrypted
    client.force_login(village_cadre)

    response = client.post(
        reverse("registry:member_edit", args=[member.pk]),
        member_post(id_number="", name=member.name, labour_skill=c.LabourSkill.WEAK),
    )

    assert response.status_code == 302
    member.refresh_from_db()
    assert member.id_number_encrypted == stored
    assert member.labour_skill == c.LabourSkill.WEAK


def test_delete_member_and_household_after_confirmation(client, village_cadre):
    household = f.make_household(members=2)
    member = household.members.last()
    client.force_login(village_cadre)

    confirm = client.get(reverse("registry:member_delete", args=[member.pk]))
    assert confirm.status_code == 200 and "确认删除" in confirm.content.decode()
    assert Member.objects.filter(pk=member.pk).exists()
    client.post(reverse("registry:member_delete", args=[member.pk]))
    household.refresh_from_db()
    assert household.member_count == 1

    confirm = client.get(reverse("registry:household_delete", args=[household.pk]))
    assert confirm.status_code == 200 and "确认删除" in confirm.content.decode()
    response = client.post(reverse("registry:household_delete", args=[household.pk]))
    assert response.status_code == 302 and response.url == LIST_URL
    assert not Household.objects.filter(pk=household.pk).exists()
    assert AuditEvent.objects.filter(
        action="delete", target_type="registry.household", actor=village_cadre
    ).exists()


# Revealing personal data


def test_village_cadre_cannot_reveal(client, village_cadre):
    household = f.make_household(members=1)
    member = household.members.get()
    client.force_login(village_cadre)

    assert client.post(reverse("registry:member_reveal", args=[member.pk])).status_code == 403
    assert (
        client.post(reverse("registry:household_reveal_phone", args=[household.pk])).status_code
        == 403
    )
    assert not AuditEvent.objects.filter(action="reveal").exists()


def test_district_admin_reveals_and_the_reveal_is_audited(client, district_admin):
    household = f.make_household(members=0)
    member = f.make_member(household, id_number="50015619800517001X")
    client.force_login(district_admin)

    page = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert reverse("registry:member_reveal", args=[member.pk]) in page
    assert client.get(reverse("registry:member_reveal", args=[member.pk])).status_code == 405

    response = client.post(
        reverse("registry:member_reveal", args=[member.pk]), headers={"HX-Request": "true"}
    )
    assert response.status_code == 200
    assert "50015619800517001X" in response.content.decode()
    event = AuditEvent.objects.get(action="reveal")
    assert (event.actor, event.target_id, event.extra) == (
        district_admin,
        str(member.pk),
        {"field": "id_number"},
    )

    response = client.post(reverse("registry:household_reveal_phone", args=[household.pk]))
    assert "13912345678" in response.content.decode()
    assert AuditEvent.objects.filter(action="reveal", target_type="registry.household").count() == 1

    history = client.get(reverse("registry:household_detail", args=[household.pk])).content.decode()
    assert "查看完整敏感信息" in history and "身份证号码" in history


def test_admin_lists_only_the_staff_members_area(client, village_cadre):
    mine = f.make_household(f.VILLAGE_A, members=1)
    other = f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=1)
    village_cadre.is_staff = True
    village_cadre.save()
    village_cadre.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_household", "view_member"])
    )
    client.force_login(village_cadre)
    html = client.get("/admin/registry/household/").content.decode()
    assert mine.household_number in html and other.household_number not in html
    assert client.get(f"/admin/registry/household/{other.pk}/change/").status_code in (302, 404)
