"""Case pages: the list and a case's page limited to the area, step forms that post and move the
case, refusals shown on the form with the input kept, attachments, starting elimination, and
the village notice that shows names and reasons only."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone

from shouwang.cases.choices import CaseKind, CaseState, CaseVerb, LeadChannel
from shouwang.cases.models import Case, CaseAttachment
from shouwang.cases.services import case_open, elimination_open, lead_create
from shouwang.core.choices import Role
from shouwang.core.models import AuditEvent
from shouwang.registry import choices as rc
from tests import factories as f
from tests.cases.steps import DAY0, HOME_VISIT, IDENTIFICATION_PATH, attach_required, walk

pytestmark = pytest.mark.django_db

LIST_URL = reverse("cases:case_list")
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture
def users(village_cadre, township_staff, district_staff):
    return {
        "village_cadre": village_cadre,
        "township_staff": township_staff,
        "district_staff": district_staff,
    }


def _case(village: str = f.VILLAGE_A, *, actor=None, **household_data) -> Case:
    household = f.make_household(
        village, household_type=rc.HouseholdType.ORDINARY, **household_data
    )
    lead = lead_create(
        actor=actor,
        channel=LeadChannel.HOME_VISIT,
        division=household.village,
        household=household,
        description="户主住院，花费较大",
        received_on=DAY0,
    )
    return case_open(actor=actor, lead=lead, today=DAY0)


def _at(case: Case, users, verb: str) -> Case:
    """The case walked up to (not including) ``verb``."""
    return walk(case, IDENTIFICATION_PATH, users, until=verb)


def prefixed(verb: str, data: dict) -> dict:
    """Step data as the page posts it: each field under the step's prefix."""
    posted = {}
    for name, value in data.items():
        if value is True:
            value = "on"
        posted[f"{verb}-{name}"] = value
    return posted


def detail_url(case: Case) -> str:
    return reverse("cases:case_detail", args=[case.pk])


def act_url(case: Case, verb: str) -> str:
    return reverse("cases:case_act", args=[case.pk, verb])


def listed(response) -> set[int]:
    return {case.pk for case in response.context["page"].object_list}


# -- jurisdiction --------------------------------------------------------------------------


def test_list_holds_only_the_actors_area(client, village_cadre, township_staff, district_staff):
    mine = _case(f.VILLAGE_A)
    neighbour = _case(f.VILLAGE_B)
    elsewhere = _case(f.VILLAGE_OTHER_TOWNSHIP)

    client.force_login(village_cadre)
    assert listed(client.get(LIST_URL)) == {mine.pk}
    client.force_login(township_staff)
    assert listed(client.get(LIST_URL)) == {mine.pk, neighbour.pk}
    client.force_login(district_staff)
    assert listed(client.get(LIST_URL)) == {mine.pk, neighbour.pk, elsewhere.pk}


def test_cases_outside_the_area_answer_404(client, village_cadre, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    elsewhere = _case(f.VILLAGE_OTHER_TOWNSHIP)
    attachment = CaseAttachment.objects.create(
        case=elsewhere, file=SimpleUploadedFile("a.png", PNG), title="签字表"
    )
    client.force_login(village_cadre)

    assert client.get(detail_url(elsewhere)).status_code == 404
    response = client.post(act_url(elsewhere, CaseVerb.APPLY), prefixed("apply", {}))
    assert response.status_code == 404
    upload = reverse("cases:attachment_upload", args=[elsewhere.pk])
    assert client.post(upload, {"title": "x"}).status_code == 404
    download = reverse("cases:attachment_download", args=[elsewhere.pk, attachment.pk])
    assert client.get(download).status_code == 404
    notice = reverse("cases:notice", args=[f.VILLAGE_OTHER_TOWNSHIP])
    assert client.get(notice).status_code == 404
    eliminate = reverse("cases:elimination_start", args=[elsewhere.household_id])
    assert client.get(eliminate).status_code == 404
    assert Case.objects.get(pk=elsewhere.pk).state == CaseState.APPLICATION


def test_department_officers_are_refused_and_see_no_menu_entry(
    client, department_officer, village_cadre
):
    case = _case()
    client.force_login(department_officer)
    assert client.get(LIST_URL).status_code == 403
    assert client.get(detail_url(case)).status_code == 403
    assert client.get(reverse("cases:notice", args=[f.VILLAGE_A])).status_code == 403
    assert "识别消除" not in client.get(reverse("home")).content.decode()

    client.force_login(village_cadre)
    assert "识别消除" in client.get(reverse("home")).content.decode()


# -- the list ------------------------------------------------------------------------------


def test_list_shows_open_cases_nearest_limit_first_with_urgency_in_words(client, users):
    today = timezone.localdate()
    relaxed, near, overdue = (_case() for _ in range(3))
    Case.objects.filter(pk=relaxed.pk).update(
        due_on=today + dt.timedelta(days=10), next_due_on=today + dt.timedelta(days=10)
    )
    Case.objects.filter(pk=near.pk).update(
        due_on=today + dt.timedelta(days=2),
        next_due_on=today + dt.timedelta(days=2),
        green_channel=True,
    )
    Case.objects.filter(pk=overdue.pk).update(
        due_on=today - dt.timedelta(days=3), next_due_on=today - dt.timedelta(days=3)
    )
    finished = walk(_case(), IDENTIFICATION_PATH, users)
    assert finished.state == CaseState.APPROVED
    client.force_login(users["township_staff"])

    response = client.get(LIST_URL)

    rows = list(response.context["page"].object_list)
    assert [c.pk for c in rows] == [overdue.pk, near.pk, relaxed.pk]
    html = response.content.decode()
    assert "已超时限 3 天" in html
    assert "临近时限：剩 2 天" in html
    assert "第 2 步/共 6 步" in html
    assert "绿色通道" in html
    # The per-village count of cases near or past their limit links to the filtered list.
    assert f"?village={f.VILLAGE_A}&amp;deadline=overdue" in html

    closed = client.get(LIST_URL, {"state": "closed"})
    assert listed(closed) == {finished.pk}
    assert listed(client.get(LIST_URL, {"deadline": "overdue"})) == {overdue.pk}
    assert listed(client.get(LIST_URL, {"deadline": "near"})) == {near.pk}
    assert listed(client.get(LIST_URL, {"deadline": "due"})) == {near.pk, overdue.pk}
    assert listed(client.get(LIST_URL, {"green_channel": "true"})) == {near.pk}
    assert listed(client.get(LIST_URL, {"kind": CaseKind.ELIMINATION})) == set()
    assert listed(client.get(LIST_URL, {"state": "all"})) == {
        relaxed.pk,
        near.pk,
        overdue.pk,
        finished.pk,
    }


def test_htmx_request_gets_only_the_results(client, village_cadre):
    _case()
    client.force_login(village_cadre)
    response = client.get(LIST_URL, {"state": "open"}, headers={"HX-Request": "true"})
    html = response.content.decode()
    assert 'id="results"' in html and "<html" not in html


def test_list_query_count_is_pinned(client, township_staff, django_assert_num_queries):
    for village in (f.VILLAGE_A, f.VILLAGE_B):
        _case(village)
    client.force_login(township_staff)
    client.get(LIST_URL)  # warm the session
    with django_assert_num_queries(LIST_QUERIES):
        assert len(listed(client.get(LIST_URL))) == 2
    for _ in range(6):
        _case(f.VILLAGE_B)
    with django_assert_num_queries(LIST_QUERIES):
        assert len(listed(client.get(LIST_URL))) == 8


#: session, user, the actor's divisions, townships, villages, count, page, deadline counts,
#: their villages, villages under notice.
LIST_QUERIES = 10


# -- a case's page and its steps -----------------------------------------------------------


def test_detail_shows_the_subject_steps_and_the_form_open_to_the_user(client, users):
    case = _case()
    client.force_login(users["village_cadre"])

    response = client.get(detail_url(case))

    html = response.content.decode()
    assert response.status_code == 200
    assert reverse("registry:household_detail", args=[case.household_id]) in html
    assert 'aria-current="step"' in html and "农户申请" in html
    actions = response.context["actions"]
    assert [a.transition.verb for a in actions] == [CaseVerb.APPLY, CaseVerb.WITHDRAW]
    assert f'action="{act_url(case, CaseVerb.APPLY)}"' in html
    assert 'name="apply-pledge_signed"' in html


def test_step_forms_post_and_move_the_case(client, users):
    case = _case()
    client.force_login(users["village_cadre"])

    response = client.post(
        act_url(case, CaseVerb.APPLY),
        prefixed(
            "apply",
            {
                "applicant_name": "成员0",
                "applied_on": "2026-11-02",
                "pledge_signed": True,
                "asset_check_consent": True,
            },
        ),
    )
    assert response.status_code == 302 and response["Location"] == detail_url(case)
    attach_required(case, CaseVerb.VERIFY, users["village_cadre"])
    response = client.post(act_url(case, CaseVerb.VERIFY), prefixed("verify", HOME_VISIT))
    assert response.status_code == 302

    case.refresh_from_db()
    assert case.state == CaseState.VILLAGE_REVIEW
    assert case.proposed_risk_types == ["illness"]
    page = client.get(detail_url(case))
    html = page.content.decode()
    # The timeline reads with the record forms' labels, computed figures included.
    assert "核实人员" in html and "网格员甲、驻村工作队乙" in html
    assert "扣除合规自付支出后人均纯收入（元）" in html and "3200.00" in html
    assert "突发严重困难户" in html and "因病" in html
    # In the form's order on either database (jsonb does not keep the keys' order).
    timeline = html.split('id="timeline-head"')[1]
    labels = ("核实日期", "核实人员", "工资性收入（元）", "核实情况", "人均纯收入（元）")
    positions = [timeline.index(label) for label in labels]
    assert positions == sorted(positions)
    assert "村干部甲" in html
    assert AuditEvent.objects.filter(target_type="cases.case", target_id=str(case.pk)).count() == 3


def test_the_wrong_level_sees_no_form_and_a_post_is_403(client, users):
    case = _case()
    client.force_login(users["township_staff"])

    response = client.get(detail_url(case))

    assert response.status_code == 200
    assert [a.transition.verb for a in response.context["actions"]] == [CaseVerb.WITHDRAW]
    html = response.content.decode()
    assert "等待村（社区）工作人员办理：登记农户申请" in html
    assert f'action="{act_url(case, CaseVerb.APPLY)}"' not in html
    posted = client.post(
        act_url(case, CaseVerb.APPLY),
        prefixed(
            "apply",
            {
                "applicant_name": "成员0",
                "applied_on": "2026-11-02",
                "pledge_signed": True,
                "asset_check_consent": True,
            },
        ),
    )
    assert posted.status_code == 403
    assert Case.objects.get(pk=case.pk).state == CaseState.APPLICATION


def test_errors_show_on_the_form_and_the_input_stays(client, users):
    case = _at(_case(), users, CaseVerb.VERIFY)
    client.force_login(users["village_cadre"])
    data = {**HOME_VISIT, "proposed_category": "", "visitors": "网格员王某", "wage_income": "abc"}

    response = client.post(act_url(case, CaseVerb.VERIFY), prefixed("verify", data))

    assert response.status_code == 200
    form = response.context["actions"][0].form
    assert form.prefix == "verify"
    assert "请选择拟定的监测类别" in form.errors["proposed_category"]
    assert "wage_income" in form.errors
    html = response.content.decode()
    assert 'value="网格员王某"' in html
    assert 'value="abc"' in html
    assert "户主脑梗住院，家庭收入骤减" in html  # the findings text area keeps its text
    assert re.search(r'<details id="action-verify" open', html)
    assert Case.objects.get(pk=case.pk).state == CaseState.VERIFICATION


def test_a_running_notice_says_when_it_ends_and_refuses_to_close(client, users):
    case = _at(_case(), users, CaseVerb.CLOSE_NOTICE)
    ends = timezone.localdate() + dt.timedelta(days=2)
    Case.objects.filter(pk=case.pk).update(notice_ends_on=ends)
    client.force_login(users["village_cadre"])

    page = client.get(detail_url(case))

    close = next(a for a in page.context["actions"] if a.transition.verb == CaseVerb.CLOSE_NOTICE)
    assert f"公示期至 {ends} 结束" in close.blocked
    assert "暂不能办理" in page.content.decode()
    response = client.post(act_url(case, CaseVerb.CLOSE_NOTICE), prefixed("close_notice", {}))
    assert response.status_code == 200
    assert f"公示期至 {ends} 结束" in response.content.decode()
    assert Case.objects.get(pk=case.pk).state == CaseState.NOTICE

    Case.objects.filter(pk=case.pk).update(notice_ends_on=timezone.localdate() - dt.timedelta(1))
    response = client.post(act_url(case, CaseVerb.CLOSE_NOTICE), prefixed("close_notice", {}))
    assert "请先在本页“附件”中上传：公示照片" in response.content.decode()
    attach_required(case, CaseVerb.CLOSE_NOTICE, users["village_cadre"])
    response = client.post(act_url(case, CaseVerb.CLOSE_NOTICE), prefixed("close_notice", {}))
    assert response.status_code == 302
    assert Case.objects.get(pk=case.pk).state == CaseState.TOWNSHIP_REVIEW


def test_a_step_taken_meanwhile_redirects_with_a_message(client, users):
    case = _at(_case(), users, CaseVerb.VERIFY)
    client.force_login(users["village_cadre"])
    response = client.post(act_url(case, CaseVerb.APPLY), prefixed("apply", {}), follow=True)
    assert "不能执行此操作" in response.content.decode()


def test_detail_query_count_is_pinned(client, users, django_assert_num_queries):
    case = _at(_case(), users, CaseVerb.TOWNSHIP_APPROVE)
    client.force_login(users["township_staff"])
    client.get(detail_url(case))
    with django_assert_num_queries(DETAIL_QUERIES):
        assert client.get(detail_url(case)).status_code == 200


#: session, user, the actor's divisions, the case, its steps, their attachments, the case's
#: attachments.
DETAIL_QUERIES = 7


# -- attachments ---------------------------------------------------------------------------


def test_attachments_upload_and_download(client, users, tmp_path, settings):
    settings.MEDIA_ROOT = tmp_path
    case = _case()
    client.force_login(users["village_cadre"])
    upload = reverse("cases:attachment_upload", args=[case.pk])

    response = client.post(
        upload,
        {
            "kind": "visit_record",
            "title": "入户核实签字表",
            "file": SimpleUploadedFile("签字表.png", PNG),
        },
    )

    assert response.status_code == 302
    attachment = CaseAttachment.objects.get(case=case)
    assert attachment.uploaded_by == users["village_cadre"]
    assert AuditEvent.objects.filter(target_type="cases.caseattachment").count() == 1
    download = client.get(reverse("cases:attachment_download", args=[case.pk, attachment.pk]))
    assert download["Content-Type"] == "image/png"
    assert b"".join(download.streaming_content) == PNG
    assert "入户核实签字表" in client.get(detail_url(case)).content.decode()


def test_a_failed_attachment_write_leaves_no_file_behind(users, tmp_path, settings, monkeypatch):
    from shouwang.cases import attachment_services

    settings.MEDIA_ROOT = tmp_path
    case = _case()

    def refuse(**fields):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(attachment_services, "audit_record", refuse)
    with pytest.raises(RuntimeError):
        attachment_services.case_attachment_add(
            actor=users["village_cadre"],
            case=case,
            file=SimpleUploadedFile("签字表.png", PNG),
            title="入户核实签字表",
        )
    assert not CaseAttachment.objects.filter(case=case).exists()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("说明.docx", b"PK\x03\x04", "只能上传 JPG、PNG 图片或 PDF 文件"),
        ("假的.pdf", b"PK\x03\x04 not a pdf", "文件内容与扩展名不符"),
        ("大.pdf", b"%PDF-1.7" + b"0" * (10 * 1024 * 1024), "文件不能超过 10 MB"),
    ],
)
def test_attachments_of_other_types_or_too_large_are_refused(
    client, users, tmp_path, settings, name, content, message
):
    settings.MEDIA_ROOT = tmp_path
    case = _case()
    client.force_login(users["village_cadre"])
    response = client.post(
        reverse("cases:attachment_upload", args=[case.pk]),
        {"kind": "visit_record", "title": "签字表", "file": SimpleUploadedFile(name, content)},
    )
    assert response.status_code == 200
    assert message in response.context["attachment_form"].errors["file"][0]
    assert 'value="签字表"' in response.content.decode()
    assert not CaseAttachment.objects.exists()


# -- starting risk elimination -------------------------------------------------------------


def _monitored(**data):
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": "202601",
        "risk_type_1": rc.RiskType.ILLNESS,
    }
    household = f.make_household(f.VILLAGE_A, **{**fields, **data})
    f.deliver_measure(household)
    return household


def test_elimination_starts_after_the_criteria_are_shown(client, village_cadre):
    household = _monitored()
    client.force_login(village_cadre)
    candidates = client.get(reverse("cases:elimination_candidates"))
    assert household in [row.household for row in candidates.context["page"].object_list]
    url = reverse("cases:elimination_start", args=[household.pk])

    page = client.get(url)

    assert all(c.met for c in page.context["criteria"])
    assert "纳入监测已满 6 个月" in page.content.decode()
    response = client.post(url)
    case = Case.objects.get(household=household)
    assert response.status_code == 302 and response["Location"] == detail_url(case)
    assert (case.kind, case.state) == (CaseKind.ELIMINATION, CaseState.NOMINATION)
    rows = client.get(reverse("cases:elimination_candidates")).context["page"].object_list
    assert household not in [row.household for row in rows]


def test_unmet_criteria_are_listed_and_offer_no_start(client, village_cadre):
    recent = timezone.localdate().strftime("%Y%m")
    household = _monitored(identified_month=recent)
    client.force_login(village_cadre)
    page = client.get(reverse("cases:elimination_start", args=[household.pk]))
    html = page.content.decode()
    assert "未满足" in html and "暂不能启动风险消除" in html
    assert 'type="submit"' not in html.split('id="criteria-head"')[1].split("</main>")[0]


def test_an_elimination_case_shows_its_criteria(client, village_cadre):
    household = _monitored()
    case = elimination_open(actor=village_cadre, household=household)
    client.force_login(village_cadre)
    page = client.get(detail_url(case))
    assert [c.key for c in page.context["criteria"]] == [
        "income",
        "secure",
        "risks",
        "months",
        "measures",
        "labour",
    ]
    assert "第 1 步/共 5 步" in page.content.decode()


# -- the public notice ---------------------------------------------------------------------


def test_the_notice_shows_name_and_reason_only(client, users):
    phone = "13987654321"
    household = f.make_household(
        f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY, phone=phone, members=0
    )
    head_id = f.next_id_number()
    f.make_member(
        household,
        id_number=head_id,
        name="冉光明",
        relation=rc.Relation.HEAD,
        health_status=rc.HealthStatus.SERIOUS_ILLNESS,
    )
    lead = lead_create(
        actor=users["village_cadre"],
        channel=LeadChannel.HOME_VISIT,
        division=household.village,
        household=household,
        description="户主患尿毒症，需长期透析",
        phone=phone,
        id_number=head_id,
        received_on=DAY0,
    )
    case = case_open(actor=users["village_cadre"], lead=lead, today=DAY0)
    case = walk(case, IDENTIFICATION_PATH, users, until=CaseVerb.CLOSE_NOTICE)
    assert case.state == CaseState.NOTICE
    household.refresh_from_db()
    member = household.members.get()
    url = reverse("cases:notice", args=[f.VILLAGE_A])

    for who in ("village_cadre", "township_staff", "district_staff"):
        client.force_login(users[who])
        response = client.get(url)
        assert response.status_code == 200
    html = response.content.decode()

    assert "冉光明" in html
    assert "突发严重困难户" in html
    assert "火炉镇向前村" in html and "向前村村民委员会" in html and "火炉镇人民政府" in html
    assert "委员会村民委员会" not in html and "委员会人民政府" not in html
    assert "2026-11-04" in html and "2026-11-08" in html
    # Nowhere on the page: the numbers, whole or masked.
    for number in (head_id, member.id_number_masked, phone, household.phone_masked):
        assert number and number not in html, number
    assert lead.phone_masked == household.phone_masked
    # On the sheet that is printed and posted: no health details, no bank account.
    sheet = html.split("<article")[1].split("</article>")[0]
    for text in (
        "尿毒症",
        "透析",
        "脑梗",  # the home visit's findings
        "患有大病",
        "健康",
        "因病",  # a risk type of illness would post a health status
        "银行",
        "账号",
        "身份证",
        "电话：",
    ):
        assert text not in sheet, text
    # No run of digits that could be an ID, phone or bank account number.
    assert not re.search(r"\d{11,}", re.sub(r"<[^>]+>", " ", html))


def test_the_notice_of_a_village_without_cases_says_so(client, village_cadre):
    client.force_login(village_cadre)
    response = client.get(reverse("cases:notice", args=[f.VILLAGE_A]))
    assert "目前没有正在公示的农户" in response.content.decode()


def test_a_case_under_notice_links_to_the_printable_notice(client, users):
    case = _at(_case(), users, CaseVerb.CLOSE_NOTICE)
    client.force_login(users["village_cadre"])
    notice = reverse("cases:notice", args=[case.village_id])
    assert notice in client.get(detail_url(case)).content.decode()
    assert notice in client.get(LIST_URL).content.decode()


def test_other_village_cadre_cannot_open_the_notice(client):
    cadre = f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    client.force_login(cadre)
    assert client.get(reverse("cases:notice", args=[f.VILLAGE_A])).status_code == 404


def test_a_person_not_yet_registered_is_named_until_the_home_visit(client, users):
    from shouwang.core.models import Division

    id_number = f.next_id_number()
    lead = lead_create(
        actor=users["village_cadre"],
        channel=LeadChannel.WHISTLEBLOWER,
        division=Division.objects.get(code=f.VILLAGE_A),
        person_name="王五",
        id_number=id_number,
        phone="13700001234",
        description="外出务工受伤，无收入",
        received_on=DAY0,
    )
    case = case_open(actor=users["village_cadre"], lead=lead, today=DAY0)
    case = walk(case, IDENTIFICATION_PATH, users, until=CaseVerb.VERIFY)
    client.force_login(users["village_cadre"])

    html = client.get(detail_url(case)).content.decode()
    assert "王五" in html and "尚未建档" in html and "入户核实时登记" in html
    assert "王五" in client.get(LIST_URL).content.decode()
    # The visit's form registers the household: its head named as on the lead, the lead's
    # numbers shown masked only (left blank, the service takes them).
    assert "农户档案（该户尚未建档）" in html and "户主信息" in html
    assert 'name="verify-household_source" value="new"' in html
    assert re.search(r'name="verify-household_source" value="new"[^>]*checked', html)
    assert re.search(r'name="verify-head_name" value="王五"', html)
    assert '<option value="01" selected>汉族</option>' in html
    assert f'placeholder="{lead.id_number_masked}"' in html
    assert f'placeholder="{lead.phone_masked}"' in html
    assert id_number not in html and "13700001234" not in html
    assert "其他家庭成员请到农户档案页面添加" in html

    # Incomplete: each problem under its field, what was typed kept.
    posted = prefixed(
        "verify",
        {**HOME_VISIT, "household_source": "new", "head_name": "王五", "head_ethnicity": "01"},
    )
    attach_required(case, CaseVerb.VERIFY, users["village_cadre"])
    response = client.post(act_url(case, CaseVerb.VERIFY), posted)
    assert response.status_code == 200
    form = response.context["actions"][0].form
    assert form.errors["household_number"] == ["请填写户编号"]
    assert form.errors["head_education"] == ["请选择户主文化程度"]
    assert "head_id_number" not in form.errors  # the lead's number will do
    body = response.content.decode()
    assert 'value="网格员甲、驻村工作队乙"' in body and re.search(r'value="王五"', body)

    posted.update(
        prefixed(
            "verify",
            {
                "household_number": "5001561042000901",
                "head_education": rc.Education.PRIMARY,
                "head_health_status": rc.HealthStatus.SERIOUS_ILLNESS,
                "head_labour_skill": rc.LabourSkill.WEAK,
            },
        )
    )
    response = client.post(act_url(case, CaseVerb.VERIFY), posted, follow=True)

    case.refresh_from_db()
    household = case.household
    assert case.state == CaseState.VILLAGE_REVIEW
    assert household.household_number == "5001561042000901" and household.head_name == "王五"
    html = response.content.decode()
    assert "已在农户档案中登记户 5001561042000901（户主 王五）" in html
    assert "其他家庭成员请到农户档案页面添加" in html
    # The visit counted two people; the registry holds the head: the page points there.
    assert "农户档案中已登记 1 人，入户核实的家庭人口为 2 人" in html
    assert reverse("registry:household_detail", args=[household.pk]) in html
    timeline = html.split('id="timeline-head"')[1]
    assert "入户核实时新登记" in timeline and "户主身份证号码" in timeline
    assert lead.id_number_masked in timeline and id_number not in html


def test_the_home_visit_can_link_a_household_registered_meanwhile(client, users):
    from shouwang.core.models import Division

    lead = lead_create(
        actor=users["village_cadre"],
        channel=LeadChannel.MEDIA,
        division=Division.objects.get(code=f.VILLAGE_A),
        person_name="赵六",
        description="媒体报道其家中房屋垮塌",
        received_on=DAY0,
    )
    case = walk(
        case_open(actor=users["village_cadre"], lead=lead, today=DAY0),
        IDENTIFICATION_PATH,
        users,
        until=CaseVerb.VERIFY,
    )
    household = f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY)
    client.force_login(users["village_cadre"])
    data = {**HOME_VISIT, "household_source": "existing", "household_number": "NO-SUCH"}
    attach_required(case, CaseVerb.VERIFY, users["village_cadre"])

    response = client.post(act_url(case, CaseVerb.VERIFY), prefixed("verify", data))
    form = response.context["actions"][0].form
    assert "没有户编号为“NO-SUCH”的农户" in form.errors["household_number"][0]
    assert re.search(r'value="existing"[^>]*checked', response.content.decode())

    data["household_number"] = household.household_number
    response = client.post(act_url(case, CaseVerb.VERIFY), prefixed("verify", data), follow=True)

    assert f"已关联农户 {household.household_number}" in response.content.decode()
    case.refresh_from_db()
    assert case.household == household
