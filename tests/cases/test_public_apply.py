"""The public self-application: no login, the township → village choice, validation in Chinese
with nothing typed lost, the tracking code, the status page that shows no personal data, CSRF
and the per-address rate limits."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.test import Client
from django.urls import reverse

from shouwang.cases.choices import CaseState, LeadChannel, LeadStatus
from shouwang.cases.models import Case, Lead
from shouwang.cases.services import case_act, case_open, lead_close, lead_create
from shouwang.core.models import Division
from shouwang.registry import choices as rc
from tests import factories as f
from tests.cases.steps import IDENTIFICATION_PATH, walk

pytestmark = pytest.mark.django_db

APPLY_URL = reverse("apply:apply")
DONE_URL = reverse("apply:done")
STATUS_URL = reverse("apply:status")
VILLAGES_URL = reverse("apply:villages")


@pytest.fixture(autouse=True)
def fresh_rate_limits():
    """The test cache is per process: each test starts with no counted requests."""
    cache.clear()
    yield
    cache.clear()


def text_of(response) -> str:
    html = re.sub(r"<(script|style)[^>]*>.*?</\1>", " ", response.content.decode(), flags=re.S)
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def form_data(**overrides) -> dict:
    data = {
        "township": f.TOWNSHIP_HUOLU,
        "village": f.VILLAGE_A,
        "applicant_name": "李秀兰",
        "id_number": f.next_id_number(male=False),
        "phone": "13812345678",
        "description": "丈夫 10 月车祸住院，花了 6 万多，家里没有了收入",
        "pledge_signed": "on",
        "asset_check_consent": "on",
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not None}


def apply(client, **overrides):
    return client.post(APPLY_URL, form_data(**overrides))


@pytest.fixture
def users(village_cadre, township_staff, district_staff):
    return {
        "village_cadre": village_cadre,
        "township_staff": township_staff,
        "district_staff": district_staff,
    }


# The application page


def test_the_page_opens_without_login_and_shows_no_staff_navigation(client):
    response = client.get(APPLY_URL)

    assert response.status_code == 200
    html = response.content.decode()
    assert "site-nav" not in html and "退出" not in html
    assert f'class="brand" href="{APPLY_URL}"' in html
    assert "csrfmiddlewaretoken" in html
    text = text_of(response)
    assert "承诺如实申报家庭收入、财产等情况，如有虚假愿承担相应责任" in text
    assert "同意授权核查家庭存款、车辆、住房等资产" in text
    # The township list holds the district's townships only.
    townships = response.context["form"].fields["township"].queryset
    assert townships.filter(code=f.TOWNSHIP_HUOLU).exists()
    assert not townships.exclude(code__startswith="500156").exists()


def test_the_village_list_follows_the_township(client):
    response = client.get(VILLAGES_URL, {"township": f.TOWNSHIP_HUOLU})

    html = response.content.decode()
    assert response.status_code == 200
    assert 'id="village-field"' in html
    assert f'value="{f.VILLAGE_A}"' in html and f'value="{f.VILLAGE_B}"' in html
    assert f'value="{f.VILLAGE_OTHER_TOWNSHIP}"' not in html


def test_an_application_gives_a_tracking_code_and_reaches_the_village_inbox(
    client, village_cadre, township_staff
):
    response = apply(client)

    assert response.status_code == 302 and response["Location"] == DONE_URL
    lead = Lead.objects.get()
    assert (lead.channel, lead.division_id, lead.status) == (
        LeadChannel.SELF_APPLICATION,
        f.VILLAGE_A,
        LeadStatus.OPEN,
    )
    assert lead.pledge_signed and lead.asset_check_consent and lead.reported_by is None
    assert lead.person_name == "李秀兰" and lead.phone_masked == "138****5678"
    done = client.get(DONE_URL)
    assert lead.tracking_code in text_of(done)
    assert "请把查询码抄在纸上或截图保存" in text_of(done)

    # The village cadre (and the township) find it in the inbox.
    staff = Client()
    staff.force_login(village_cadre)
    inbox = staff.get(reverse("leads:lead_list"))
    assert [row.pk for row in inbox.context["leads"]] == [lead.pk]
    assert "农户自主申报" in text_of(inbox)


def test_the_result_page_needs_an_application(client):
    assert client.get(DONE_URL)["Location"] == APPLY_URL


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"township": ""}, "township", "请选择所在乡镇（街道）"),
        ({"village": ""}, "village", "请选择所在村（社区）"),
        ({"village": f.VILLAGE_OTHER_TOWNSHIP}, "village", "不属于"),
        ({"applicant_name": ""}, "applicant_name", "请填写申请人姓名"),
        ({"id_number": ""}, "id_number", "请填写申请人身份证号码"),
        ({"id_number": "50015619800517123X"}, "id_number", "校验位"),
        ({"phone": ""}, "phone", "请填写联系电话"),
        ({"phone": "12345"}, "phone", "请填写 11 位手机号码"),
        ({"description": ""}, "description", "请简要说明家庭遇到的困难"),
        ({"pledge_signed": None}, "pledge_signed", "请阅读并勾选承诺"),
        ({"asset_check_consent": None}, "asset_check_consent", "请勾选同意授权核查家庭资产"),
    ],
)
def test_validation_says_what_to_fix_and_keeps_the_input(client, overrides, field, message):
    response = apply(client, **overrides)

    assert response.status_code == 200
    form = response.context["form"]
    assert any(message in error for error in form.errors[field])
    assert "请按提示修改标红的项目后再提交" in text_of(response)
    assert form["description"].value() == form_data(**overrides).get("description")
    if field != "applicant_name":
        assert form["applicant_name"].value() == "李秀兰"
    assert not Lead.objects.exists()


def test_a_chosen_township_keeps_its_villages_after_an_error(client):
    response = apply(client, phone="12345")
    choices = [value for value, _label in response.context["form"].fields["village"].widget.choices]
    assert f.VILLAGE_A in choices and f.VILLAGE_OTHER_TOWNSHIP not in choices


def test_csrf_is_checked():
    client = Client(enforce_csrf_checks=True)
    assert client.post(APPLY_URL, form_data()).status_code == 403
    assert not Lead.objects.exists()


def test_five_applications_an_hour_per_address(client):
    for _ in range(5):
        assert apply(client).status_code == 302
    # Corrections do not count; the sixth complete application is refused.
    assert apply(client, phone="123").status_code == 200
    response = apply(client)

    assert response.status_code == 429
    assert int(response["Retry-After"]) > 0
    assert "提交申请次数过多，请" in text_of(response) and "分钟后再试" in text_of(response)
    assert Lead.objects.count() == 5
    # Another address is not held up.
    other = Client(REMOTE_ADDR="10.1.2.3")
    assert other.post(APPLY_URL, form_data()).status_code == 302


def test_a_forged_forwarded_for_header_does_not_dodge_the_limit(client):
    for n in range(5):
        client.post(APPLY_URL, form_data(), headers={"X-Forwarded-For": f"1.2.3.{n}"})
    response = client.post(APPLY_URL, form_data(), headers={"X-Forwarded-For": "9.9.9.9"})
    assert response.status_code == 429


# The status page


def _code_of(client) -> str:
    apply(client)
    return Lead.objects.latest("id").tracking_code


def status_text(client, code: str) -> str:
    response = client.post(STATUS_URL, {"tracking_code": code})
    assert response.status_code == 200
    return text_of(response)


def test_the_status_of_a_new_application_and_no_personal_data(client):
    data = form_data()
    client.post(APPLY_URL, data)
    lead = Lead.objects.get()

    assert client.get(STATUS_URL).status_code == 200
    # Lower case and spaces are forgiven.
    code = lead.tracking_code.lower()
    text = status_text(client, f"{code[:5]} {code[5:]}")

    assert "已收到申请，等待村（社区）入户核实" in text
    assert f"申请日期：{lead.received_on:%Y-%m-%d}" in text
    for private in (
        data["applicant_name"],
        data["id_number"],
        data["id_number"][-4:],
        data["phone"][-4:],
        "向前村",
        "火炉镇",
        "车祸",
    ):
        assert private not in text


def test_an_unknown_code_is_refused(client):
    text = status_text(client, "ABCDEFGHJK")
    assert "没有找到这个查询码" in text
    assert "已收到申请" not in text


def test_the_status_follows_the_case_through_its_steps(client, users):
    member_id = f.next_id_number()
    household = f.make_household(f.VILLAGE_A, members=0, household_type=rc.HouseholdType.ORDINARY)
    f.make_member(household, id_number=member_id, name="成员0")
    code = _code_of_person(client, member_id)
    lead = Lead.objects.get(tracking_code=code)
    assert lead.household == household  # a registered person's application is about the household

    case = case_open(actor=users["village_cadre"], lead=lead)
    text = status_text(client, code)
    assert "识别认定办理中：第 3 步（共 6 步），入户核实" in text
    assert "成员0" not in text

    case = walk(case, IDENTIFICATION_PATH[1:], users, until="township_approve")
    assert "第 5 步（共 6 步），乡镇（街道）联合审核" in status_text(client, code)

    case = walk(case, IDENTIFICATION_PATH[4:], users)
    assert case.state == CaseState.APPROVED
    text = status_text(client, code)
    assert "已审定纳入防止返贫监测对象" in text
    assert "经情况属实" not in text and "情况属实" not in text  # opinions stay internal


def _code_of_person(client, id_number: str) -> str:
    apply(client, id_number=id_number)
    return Lead.objects.latest("id").tracking_code


def test_a_rejected_case_reads_not_approved_without_the_reason(client, users):
    lead_code = _code_of(client)
    lead = Lead.objects.get(tracking_code=lead_code)
    case = case_open(actor=users["village_cadre"], lead=lead)
    case_act(
        actor=users["village_cadre"],
        case=case,
        verb="withdraw",
        data={"reason": "申请人家中已有稳定务工收入"},
    )
    text = status_text(client, lead_code)
    assert "经审核，未纳入监测对象" in text
    assert "务工收入" not in text


def test_a_closed_lead_reads_not_taken_up(client, village_cadre):
    code = _code_of(client)
    lead_close(
        actor=village_cadre,
        lead=Lead.objects.get(tracking_code=code),
        reason="经核实，其子女均有稳定工作",
    )
    text = status_text(client, code)
    assert "未启动识别认定" in text and "稳定工作" not in text


def test_a_merged_application_follows_the_lead_it_joined(client, village_cadre):
    household = f.make_household(f.VILLAGE_A, members=0, household_type=rc.HouseholdType.ORDINARY)
    member_id = f.next_id_number()
    f.make_member(household, id_number=member_id)
    first = lead_create(
        actor=village_cadre,
        channel=LeadChannel.HOME_VISIT,
        division=Division.objects.get(code=f.VILLAGE_A),
        household=household,
        description="走访发现",
    )
    code = _code_of_person(client, member_id)
    assert Lead.objects.get(tracking_code=code).merged_into == first

    case_open(actor=village_cadre, lead=first)
    assert "第 2 步（共 6 步），农户申请" in status_text(client, code)
    assert Case.objects.count() == 1


def test_thirty_status_lookups_an_hour_per_address(client):
    for _ in range(30):
        client.post(STATUS_URL, {"tracking_code": "ABCDEFGHJK"})
    response = client.post(STATUS_URL, {"tracking_code": "ABCDEFGHJK"})
    assert response.status_code == 429
    assert "查询办理进度次数过多" in text_of(response)
