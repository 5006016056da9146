"""The leads inbox: the list in the user's area with its filters, merged leads under the lead
they joined, a lead's page and its actions (open identification, close), and the form cadres
record a lead with."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.urls import reverse

from shouwang.cases.choices import CaseState, LeadChannel, LeadStatus
from shouwang.cases.models import Case, Lead
from shouwang.cases.services import lead_create, lead_from_alert, lead_self_apply
from shouwang.core.choices import Role
from shouwang.core.models import Division
from shouwang.registry import choices as rc
from tests import factories as f
from tests.screening.helpers import alerts_for

pytestmark = pytest.mark.django_db

LIST_URL = reverse("leads:lead_list")
CREATE_URL = reverse("leads:lead_create")


def text_of(response) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def listed(response) -> list[int]:
    return [lead.pk for lead in response.context["leads"]]


def detail_url(lead: Lead) -> str:
    return reverse("leads:lead_detail", args=[lead.pk])


def village(code: str) -> Division:
    return Division.objects.get(code=code)


def visit_lead(household, *, day=dt.date(2026, 11, 2), channel=LeadChannel.HOME_VISIT, **kw):
    return lead_create(
        actor=None,
        channel=channel,
        division=household.village,
        household=household,
        description=kw.pop("description", "户主住院，花费较大"),
        received_on=day,
        **kw,
    )


def person_lead(code: str, *, name="王五", id_number=None, day=dt.date(2026, 11, 3)):
    return lead_create(
        actor=None,
        channel=LeadChannel.WHISTLEBLOWER,
        division=village(code),
        person_name=name,
        id_number=id_number or f.next_id_number(),
        phone="13987654321",
        description="听说他家房子被水冲了",
        received_on=day,
        reporter_name="邻居",
    )


@pytest.fixture
def households():
    return {
        "mine": f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY),
        "neighbour": f.make_household(f.VILLAGE_B, household_type=rc.HouseholdType.ORDINARY),
        "far": f.make_household(f.VILLAGE_OTHER_TOWNSHIP),
    }


@pytest.fixture
def leads(households):
    return {name: visit_lead(h) for name, h in households.items()}


# Jurisdiction


def test_each_level_lists_the_leads_of_its_area(
    client, village_cadre, township_staff, district_staff, leads
):
    client.force_login(village_cadre)
    response = client.get(LIST_URL)
    assert response.status_code == 200
    assert listed(response) == [leads["mine"].pk]
    # One village: no township or village dropdown.
    assert "township" not in response.context["filter_form"].fields

    client.force_login(township_staff)
    assert set(listed(client.get(LIST_URL))) == {leads["mine"].pk, leads["neighbour"].pk}

    client.force_login(district_staff)
    assert set(listed(client.get(LIST_URL))) == {lead.pk for lead in leads.values()}


def test_an_unplaced_lead_is_seen_by_the_district_only(
    client, village_cadre, township_staff, district_staff
):
    lead = lead_create(
        actor=None,
        channel=LeadChannel.MEDIA,
        division=village(f.COUNTY_WULONG),
        person_name="赵六",
        description="报道称其家中失火",
    )
    for user in (village_cadre, township_staff):
        client.force_login(user)
        assert listed(client.get(LIST_URL)) == []
        assert client.get(detail_url(lead)).status_code == 404
    client.force_login(district_staff)
    assert listed(client.get(LIST_URL)) == [lead.pk]


def test_another_villages_lead_answers_404_to_pages_and_actions(client, village_cadre, leads):
    other = leads["neighbour"]
    client.force_login(village_cadre)

    assert client.get(detail_url(other)).status_code == 404
    assert (
        client.post(reverse("leads:lead_close", args=[other.pk]), {"reason": "无风险"}).status_code
        == 404
    )
    assert client.post(reverse("leads:lead_open_case", args=[other.pk]), {}).status_code == 404
    other.refresh_from_db()
    assert other.status == LeadStatus.OPEN


def test_department_officers_get_the_403_page_and_no_nav_entry(
    client, department_officer, village_cadre, leads
):
    client.force_login(department_officer)
    response = client.get(LIST_URL)
    assert response.status_code == 403
    assert "只有村、乡镇（街道）和区县工作人员可以查看线索" in text_of(response)
    assert f'href="{LIST_URL}"' not in client.get(reverse("home")).content.decode()

    client.force_login(village_cadre)
    assert f'href="{LIST_URL}"' in client.get(reverse("home")).content.decode()


def test_anonymous_visitors_are_sent_to_the_login(client, leads):
    response = client.get(LIST_URL)
    assert response.status_code == 302 and "/login/" in response["Location"]


# The list


def test_merged_leads_show_under_the_lead_they_joined(client, village_cadre, households, leads):
    applied = visit_lead(
        households["mine"], channel=LeadChannel.SELF_APPLICATION, description="自己申请"
    )
    assert applied.merged_into == leads["mine"]
    client.force_login(village_cadre)

    response = client.get(LIST_URL)
    assert listed(response) == [leads["mine"].pk]
    assert f'href="{detail_url(applied)}"' in response.content.decode()  # in the merged row

    # Looking for self-applications finds the lead that took one in.
    assert listed(client.get(LIST_URL, {"channel": LeadChannel.SELF_APPLICATION})) == [
        leads["mine"].pk
    ]
    assert listed(client.get(LIST_URL, {"status": LeadStatus.MERGED})) == [applied.pk]


def test_filters_by_status_village_and_date(client, township_staff, households, leads):
    late = person_lead(f.VILLAGE_B, day=dt.date(2026, 11, 20))
    client.force_login(township_staff)

    assert listed(client.get(LIST_URL, {"village": f.VILLAGE_B})) == [
        late.pk,
        leads["neighbour"].pk,
    ]
    assert listed(client.get(LIST_URL, {"received_after": "2026-11-10"})) == [late.pk]
    assert listed(client.get(LIST_URL, {"received_before": "2026-11-10"})) == [
        leads["neighbour"].pk,
        leads["mine"].pk,
    ]
    assert listed(client.get(LIST_URL, {"channel": LeadChannel.WHISTLEBLOWER})) == [late.pk]
    assert listed(client.get(LIST_URL, {"q": "王五"})) == [late.pk]
    assert listed(client.get(LIST_URL, {"status": LeadStatus.CLOSED})) == []


def test_htmx_requests_get_the_results_only(client, village_cadre, leads):
    client.force_login(village_cadre)
    response = client.get(LIST_URL, headers={"HX-Request": "true"})
    assert [t.name for t in response.templates][0] == "cases/lead_results.html"
    assert "<html" not in response.content.decode()


def test_the_list_pages_with_a_constant_number_of_queries(
    client, district_staff, settings, django_assert_max_num_queries
):
    settings.SHOUWANG_PAGE_SIZE = 3
    for code in (f.VILLAGE_A, f.VILLAGE_B, f.VILLAGE_OTHER_TOWNSHIP, f.VILLAGE_A):
        household = f.make_household(code, members=1)
        visit_lead(household)
        visit_lead(household, channel=LeadChannel.WHISTLEBLOWER)  # merged
    client.force_login(district_staff)

    with django_assert_max_num_queries(14):
        response = client.get(LIST_URL)
    assert len(listed(response)) == 3
    assert response.context["page"].paginator.num_pages == 2
    assert len(listed(client.get(LIST_URL, {"page": 2}))) == 1


# A lead's page


def test_a_leads_page_shows_its_source_and_masked_numbers_only(client, district_staff):
    id_number = f.next_id_number()
    lead = person_lead(f.VILLAGE_A, id_number=id_number)
    client.force_login(district_staff)

    text = text_of(client.get(detail_url(lead)))
    assert "吹哨人报告" in text and "邻居" in text and "听说他家房子被水冲了" in text
    assert id_number not in text and "13987654321" not in text
    assert lead.id_number_masked in text and "139****4321" in text
    assert "该对象尚未建档" in text


def test_a_lead_from_an_alert_links_to_it(client, village_cadre, households):
    alert = alerts_for(households["mine"])[households["mine"].pk]
    lead = lead_from_alert(actor=village_cadre, alert=alert, note="请入户核实")
    client.force_login(village_cadre)

    response = client.get(detail_url(lead))
    assert (
        f'href="{reverse("screening:alert_detail", args=[alert.pk])}"' in response.content.decode()
    )
    assert "部门筛查预警" in text_of(response)


def test_open_identification_from_a_lead(client, village_cadre, leads):
    lead = leads["mine"]
    client.force_login(village_cadre)

    response = client.post(reverse("leads:lead_open_case", args=[lead.pk]), {})

    case = Case.objects.get(lead=lead)
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:case_detail", args=[case.pk])
    assert case.state == CaseState.APPLICATION and not case.green_channel
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CASE_OPENED
    page = client.get(detail_url(lead))
    assert f'href="{reverse("cases:case_detail", args=[case.pk])}"' in page.content.decode()
    assert "启动识别" not in text_of(page).replace("已启动识别", "")


def test_a_self_application_starts_at_the_home_visit(client, village_cadre):
    lead = lead_self_apply(
        village=village(f.VILLAGE_A),
        applicant_name="李四",
        id_number=f.next_id_number(),
        phone="13912340000",
        description="丈夫车祸住院",
        pledge_signed=True,
        asset_check_consent=True,
    )
    client.force_login(village_cadre)
    assert "启动后直接进入入户核实" in text_of(client.get(detail_url(lead)))

    client.post(reverse("leads:lead_open_case", args=[lead.pk]), {})

    assert Case.objects.get(lead=lead).state == CaseState.VERIFICATION


def test_the_green_channel_needs_a_reason_and_keeps_what_was_typed(client, village_cadre, leads):
    lead = leads["mine"]
    client.force_login(village_cadre)
    url = reverse("leads:lead_open_case", args=[lead.pk])

    response = client.post(url, {"green_channel": "on", "green_channel_reason": ""})
    assert response.status_code == 200
    assert "启用绿色通道须说明事由" in text_of(response)
    assert response.context["open_form"]["green_channel"].value() is True
    assert not Case.objects.exists()

    client.post(url, {"green_channel": "on", "green_channel_reason": "7 月洪灾房屋倒塌"})
    case = Case.objects.get()
    assert case.green_channel and case.green_channel_reason == "7 月洪灾房屋倒塌"


def test_an_unplaced_lead_is_placed_in_a_village_when_the_case_opens(client, district_staff):
    lead = lead_create(
        actor=None,
        channel=LeadChannel.MEDIA,
        division=village(f.COUNTY_WULONG),
        person_name="赵六",
        description="报道称其家中失火",
    )
    client.force_login(district_staff)
    url = reverse("leads:lead_open_case", args=[lead.pk])
    page = client.get(detail_url(lead))
    assert "village" in page.context["open_form"].fields

    response = client.post(url, {})
    assert "请选择所在村（社区）" in text_of(response)

    client.post(url, {"village": f.VILLAGE_B})
    case = Case.objects.get(lead=lead)
    assert case.village_id == f.VILLAGE_B and case.person_name == "赵六"
    lead.refresh_from_db()
    assert lead.division_id == f.VILLAGE_B


def test_close_a_lead_with_a_reason(client, village_cadre, leads):
    lead = leads["mine"]
    client.force_login(village_cadre)
    url = reverse("leads:lead_close", args=[lead.pk])

    response = client.post(url, {"reason": ""})
    assert response.status_code == 200 and "请填写关闭原因" in text_of(response)

    response = client.post(url, {"reason": "经入户核实，医疗费用已报销，收入稳定"})
    assert response.status_code == 302
    lead.refresh_from_db()
    assert lead.status == LeadStatus.CLOSED and lead.handled_by == village_cadre
    page = text_of(client.get(detail_url(lead)))
    assert "医疗费用已报销" in page and "已关闭该线索" in page

    # A second tab: the refusal shows, the lead stays closed.
    response = client.post(reverse("leads:lead_open_case", args=[lead.pk]), {})
    assert "该线索已处理（已关闭），不能再启动识别" in text_of(response)


# Recording a lead


def test_a_cadre_records_a_lead_on_a_registered_household(client, village_cadre, households):
    client.force_login(village_cadre)
    assert client.get(CREATE_URL).status_code == 200

    response = client.post(
        CREATE_URL,
        {
            "channel": LeadChannel.HOME_VISIT,
            "received_on": "2026-11-05",
            "household_number": households["mine"].household_number,
            "description": "走访发现户主患重病",
        },
    )

    lead = Lead.objects.get()
    assert response["Location"] == detail_url(lead)
    assert (lead.household, lead.division_id, lead.reported_by) == (
        households["mine"],
        f.VILLAGE_A,
        village_cadre,
    )
    assert lead.received_on == dt.date(2026, 11, 5)


def test_a_cadre_records_a_person_not_in_the_registry(client, village_cadre):
    id_number = f.next_id_number()
    client.force_login(village_cadre)

    client.post(
        CREATE_URL,
        {
            "channel": LeadChannel.PETITION,
            "received_on": "2026-11-05",
            "person_name": "孙七",
            "id_number": id_number,
            "village": f.VILLAGE_A,
            "phone": "13700001111",
            "reporter_name": "区信访办",
            "description": "来信反映家中无劳动力",
        },
    )

    lead = Lead.objects.get()
    assert lead.household is None and lead.person_name == "孙七"
    assert lead.id_number_masked.endswith(id_number[-4:]) and lead.phone_masked == "137****1111"


def test_the_form_explains_what_is_missing_and_keeps_the_input(client, village_cadre, households):
    client.force_login(village_cadre)

    response = client.post(
        CREATE_URL,
        {
            "channel": LeadChannel.WHISTLEBLOWER,
            "received_on": "2026-11-05",
            "person_name": "周八",
            "id_number": "500156198005171234",
            "description": "邻居反映其家中困难",
        },
    )
    text = text_of(response)
    assert response.status_code == 200
    assert "请选择所在村（社区）" in text
    assert "校验码" in text or "身份证" in text  # the ID check names the problem
    form = response.context["form"]
    assert (
        form["person_name"].value() == "周八"
        and form["description"].value() == "邻居反映其家中困难"
    )

    response = client.post(
        CREATE_URL,
        {
            "channel": LeadChannel.HOME_VISIT,
            "received_on": "2026-11-05",
            "household_number": households["neighbour"].household_number,
            "description": "走访",
        },
    )
    assert "您的管辖范围内没有户编号为" in text_of(response)
    assert not Lead.objects.exists()


def test_a_second_lead_on_the_same_household_is_merged(client, village_cadre, households, leads):
    client.force_login(village_cadre)
    response = client.post(
        CREATE_URL,
        {
            "channel": LeadChannel.WHISTLEBLOWER,
            "received_on": "2026-11-06",
            "household_number": households["mine"].household_number,
            "description": "又有人反映",
        },
        follow=True,
    )
    new = Lead.objects.latest("id")
    assert new.merged_into == leads["mine"]
    assert "已合并到其下" in text_of(response)


def test_department_officers_cannot_record_leads(client, department_officer):
    client.force_login(department_officer)
    assert client.get(CREATE_URL).status_code == 403


def test_nav_entry_is_current_on_the_inbox(client):
    client.force_login(f.make_user("cadre-nav", Role.VILLAGE_CADRE, [f.VILLAGE_A]))
    html = client.get(LIST_URL).content.decode()
    assert f'<a href="{LIST_URL}" aria-current="page">线索</a>' in html
