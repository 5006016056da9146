"""The monthly village meeting (月工作会议): the agenda Shouwang fills in, one meeting per
village and month, the missing list, role and area refusals, and the pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError
from django.urls import reverse

from shouwang.cases import routine_selectors as sel
from shouwang.cases.choices import LeadChannel
from shouwang.cases.models import MeetingItem, VillageMeeting
from shouwang.cases.routine_services import meeting_create, meeting_update
from shouwang.cases.services import case_open, lead_create
from shouwang.core.choices import Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent, Division
from shouwang.policy.models import PolicyValue
from tests import factories as f
from tests.cases.routine_helpers import ALL_DECISIONS, alert_for, day, monitored

pytestmark = pytest.mark.django_db

MONTH = "202611"
HELD = day("2026-11-06")
TODAY = day("2026-11-20")


@pytest.fixture
def village_a():
    return Division.objects.get(code=f.VILLAGE_A)


def _meeting(actor, village, *, month=MONTH, held_on=HELD, decisions=None, today=TODAY):
    return meeting_create(
        actor=actor,
        village=village,
        month=month,
        held_on=held_on,
        attendees="村支书、村主任、驻村第一书记、监测员",
        decisions=ALL_DECISIONS if decisions is None else decisions,
        today=today,
    )


def _items(meeting) -> dict[str, MeetingItem]:
    return {item.kind: item for item in meeting.items.all()}


# -- agenda -----------------------------------------------------------------------------


def test_agenda_lists_new_leads_open_cases_alerts_and_eliminations_due(village_cadre, village_a):
    due = monitored(identified="202603")  # 8 months before November: may be nominated
    f.deliver_measure(due)
    alerted = monitored(identified="202603")  # as long, but an alert is open: not yet
    f.deliver_measure(alerted)
    monitored(identified="202603")  # as long, but no measure delivered: not yet
    monitored(identified="202609")  # 2 months: not yet (default minimum 6 months)
    f.make_household(f.VILLAGE_B)  # another village: never on village A's agenda
    ordinary = f.make_household()
    lead_create(
        actor=village_cadre,
        channel=LeadChannel.WHISTLEBLOWER,
        division=village_a,
        household=ordinary,
        description="户主摔伤，住院两周",
        received_on=day("2026-11-02"),
    )
    old = lead_create(
        actor=village_cadre,
        channel=LeadChannel.HOME_VISIT,
        division=village_a,
        household=f.make_household(),
        description="务工收入中断",
        received_on=day("2026-09-15"),  # before October: an earlier meeting's business
    )
    case_open(actor=village_cadre, lead=old, today=day("2026-09-16"))
    alert_for(alerted)
    alert_for(due, status="dismissed")

    meeting = _meeting(village_cadre, village_a)

    items = _items(meeting)
    assert [i.kind for i in meeting.items.order_by("position")] == [
        "new_leads",
        "open_cases",
        "alerts",
        "eliminations_due",
        "overdue_measures",
        "monitor_report",
    ]
    assert items["new_leads"].count == 1
    assert "户主摔伤" in items["new_leads"].details[0]["text"]
    assert items["open_cases"].count == 1
    assert "已超期" in items["open_cases"].details[0]["text"]  # due 15 days from 9-15
    assert items["alerts"].count == 1
    assert items["eliminations_due"].count == 1
    assert items["eliminations_due"].details[0]["household_id"] == due.pk
    assert items["overdue_measures"].count == 0 and items["overdue_measures"].decision == "无"
    assert items["monitor_report"].decision == ALL_DECISIONS["monitor_report"]


def _plan(household, *measures: tuple[str, dt.date]):
    """Accept (measure name, planned end) pairs into ``household``'s plan."""
    from shouwang.assistance.models import Measure
    from shouwang.assistance.services import plan_accept

    items = [
        {
            "measure": Measure.objects.get(name=name),
            "planned_start": day("2026-09-01"),
            "planned_end": end,
        }
        for name, end in measures
    ]
    plan = plan_accept(actor=None, household=household, items=items, today=day("2026-09-01"))
    return {pm.measure.name: pm for pm in plan.measures.select_related("measure")}


def test_agenda_lists_the_measures_overdue_on_the_meeting_day(village_cadre, village_a):
    from shouwang.assistance.services import plan_measure_progress

    household = monitored()
    measures = _plan(
        household,
        ("医疗救助", day("2026-11-03")),  # 3 days overdue on the 6th
        ("家庭医生签约服务", day("2026-11-06")),  # due on the day: not yet overdue
        ("参保资助", day("2026-10-20")),  # delivered below: done
        ("农村危房改造", day("2026-10-31")),  # stopped below: no longer owed
    )
    plan_measure_progress(
        actor=None, plan_measure=measures["参保资助"], status="delivered", today=TODAY
    )
    plan_measure_progress(
        actor=None,
        plan_measure=measures["农村危房改造"],
        status="stopped",
        data={"status_note": "已搬迁，改为搬迁安置"},
        today=TODAY,
    )
    _plan(monitored(f.VILLAGE_B), ("医疗救助", day("2026-10-01")))  # another village

    agenda = sel.meeting_agenda(village=village_a, month=MONTH, held_on=HELD)
    entry = {e.kind: e for e in agenda}["overdue_measures"]
    assert entry.label == "逾期帮扶措施"
    assert entry.count == 1
    [detail] = entry.details
    assert detail["type"] == "measure" and detail["id"] == measures["医疗救助"].pk
    assert detail["household_id"] == household.pk
    assert "医疗救助" in detail["text"] and "医保局" in detail["text"]
    assert "已逾期 3 天" in detail["text"] and "2026-11-03" in detail["text"]
    assert not sel.agenda_is_quiet(agenda)

    # The item has something in it: the meeting must say what it decided.
    with pytest.raises(ApplicationError) as refused:
        _meeting(village_cadre, village_a)
    assert "overdue_measures" in refused.value.extra["errors"]
    meeting = _meeting(
        village_cadre, village_a, decisions={**ALL_DECISIONS, "overdue_measures": "督促医保局落实"}
    )
    assert _items(meeting)["overdue_measures"].count == 1


def test_meeting_pages_link_overdue_measures(client, village_cadre, village_a):
    measures = _plan(monitored(), ("医疗救助", day("2026-11-01")))
    meeting = _meeting(
        village_cadre, village_a, decisions={**ALL_DECISIONS, "overdue_measures": "限期落实"}
    )
    client.force_login(village_cadre)

    html = client.get(reverse("routines:meeting_detail", args=[meeting.pk])).content.decode()

    assert "逾期帮扶措施" in html and "限期落实" in html
    assert reverse("assistance:measure_detail", args=[measures["医疗救助"].pk]) in html


def test_the_meeting_form_shows_overdue_measures(client, village_cadre, village_a):
    today = dt.date.today()
    _plan(monitored(), ("医疗救助", today - dt.timedelta(days=1)))
    client.force_login(village_cadre)
    url = reverse("routines:meeting_create") + f"?village={f.VILLAGE_A}&month={sel.month_of(today)}"

    html = client.get(url).content.decode()

    assert "逾期帮扶措施" in html and "已逾期 1 天" in html
    assert "decision_overdue_measures" in html


def test_new_leads_count_from_the_previous_meeting(village_cadre, village_a):
    _meeting(village_cadre, village_a, month="202610", held_on=day("2026-10-08"))
    for received in ("2026-10-08", "2026-10-09"):
        lead_create(
            actor=village_cadre,
            channel=LeadChannel.HOME_VISIT,
            division=village_a,
            household=f.make_household(),
            description=f"线索 {received}",
            received_on=day(received),
        )
    meeting = _meeting(village_cadre, village_a)
    texts = [d["text"] for d in _items(meeting)["new_leads"].details]
    assert len(texts) == 1 and "2026-10-09" in texts[0]


def test_a_quiet_month_still_has_a_meeting_and_says_so(village_cadre, village_a):
    agenda = sel.meeting_agenda(village=village_a, month=MONTH, held_on=HELD)
    assert sel.agenda_is_quiet(agenda)
    meeting = _meeting(village_cadre, village_a, decisions={"monitor_report": "监测员汇报：无异常"})
    items = _items(meeting)
    assert all(
        items[k].count == 0 and items[k].decision == "无"
        for k in ALL_DECISIONS
        if k != "monitor_report"
    )
    assert items["monitor_report"].decision == "监测员汇报：无异常"


def test_decisions_are_required_for_items_with_something_in_them(village_cadre, village_a):
    alert_for(monitored())
    with pytest.raises(ApplicationError) as refused:
        _meeting(village_cadre, village_a, decisions={"monitor_report": "无异常"})
    assert "alerts" in refused.value.extra["errors"]
    with pytest.raises(ApplicationError) as refused:
        _meeting(village_cadre, village_a, decisions={"alerts": "核实"})
    assert "monitor_report" in refused.value.extra["errors"]
    assert not VillageMeeting.objects.exists()


def test_the_agenda_is_a_snapshot(village_cadre, village_a):
    alert = alert_for(monitored())
    meeting = _meeting(village_cadre, village_a)
    alert.status = "dismissed"
    alert.save()
    assert _items(meeting)["alerts"].count == 1


# -- one per village and month ------------------------------------------------------------


def test_one_meeting_per_village_and_month(village_cadre, village_a):
    _meeting(village_cadre, village_a)
    with pytest.raises(ApplicationError, match="已登记"):
        _meeting(village_cadre, village_a, held_on=day("2026-11-09"))
    other = f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    _meeting(other, Division.objects.get(code=f.VILLAGE_B))
    _meeting(village_cadre, village_a, month="202610", held_on=day("2026-10-09"))
    assert VillageMeeting.objects.count() == 3


def test_the_database_refuses_a_second_meeting_for_the_month(village_cadre, village_a):
    _meeting(village_cadre, village_a)
    with pytest.raises(IntegrityError):
        VillageMeeting.objects.create(
            village=village_a, month=MONTH, held_on=HELD, attendees="x", attendee_count=1
        )


def test_held_on_must_fall_in_the_month_and_not_in_the_future(village_cadre, village_a):
    with pytest.raises(ApplicationError, match="2026年11月内"):
        _meeting(village_cadre, village_a, held_on=day("2026-10-30"))
    with pytest.raises(ApplicationError, match="不能晚于今天"):
        _meeting(village_cadre, village_a, held_on=day("2026-11-25"))


# -- roles and area -----------------------------------------------------------------------


def test_only_the_villages_cadre_records(village_cadre, township_staff, district_staff, village_a):
    village_b = Division.objects.get(code=f.VILLAGE_B)
    with pytest.raises(PermissionDenied, match="管辖范围"):
        _meeting(village_cadre, village_b)
    for actor in (township_staff, district_staff):
        with pytest.raises(PermissionDenied, match="村（社区）干部"):
            _meeting(actor, village_a)
    assert not VillageMeeting.objects.exists()


def test_recording_writes_an_audit_row(village_cadre, village_a):
    meeting = _meeting(village_cadre, village_a)
    event = AuditEvent.objects.get(target_type="cases.villagemeeting", target_id=str(meeting.pk))
    assert event.actor == village_cadre
    assert event.action == "create"
    assert [i["kind"] for i in event.extra["items"]][-1] == "monitor_report"


def test_update_changes_decisions_and_logs_them(village_cadre, village_a):
    meeting = _meeting(village_cadre, village_a, decisions={"monitor_report": "无异常"})
    meeting_update(
        actor=village_cadre,
        meeting=meeting,
        held_on=day("2026-11-07"),
        attendees="村支书、监测员",
        decisions={"monitor_report": "监测员补充汇报：1 户务工返乡"},
        today=TODAY,
    )
    meeting.refresh_from_db()
    assert meeting.held_on == day("2026-11-07")
    assert _items(meeting)["monitor_report"].decision.startswith("监测员补充")
    event = AuditEvent.objects.filter(target_type="cases.villagemeeting", action="update").get()
    assert event.before["items"][-1]["decision"] == "无异常"


# -- missing meetings ---------------------------------------------------------------------


def test_missing_lists_villages_after_their_due_day(village_cadre, township_staff, village_a):
    _meeting(village_cadre, village_a)
    before_due = sel.meeting_missing(actor=township_staff, month=MONTH, today=day("2026-11-10"))
    assert before_due == []
    after_due = sel.meeting_missing(actor=township_staff, month=MONTH, today=day("2026-11-11"))
    codes = {v.code for v in after_due}
    assert f.VILLAGE_B in codes and f.VILLAGE_A not in codes
    assert all(code.startswith(f.TOWNSHIP_HUOLU[:9]) for code in codes)
    assert f.VILLAGE_OTHER_TOWNSHIP not in codes


def test_a_township_may_set_its_own_meeting_day(township_staff):
    PolicyValue.objects.create(
        parameter="monthly_meeting_day", value=5, division_id=f.TOWNSHIP_HUOLU
    )
    assert sel.meeting_due_on(MONTH, f.VILLAGE_A) == day("2026-11-05")
    assert sel.meeting_due_on(MONTH, f.VILLAGE_OTHER_TOWNSHIP) == day("2026-11-10")
    missing = sel.meeting_missing(actor=township_staff, month=MONTH, today=day("2026-11-06"))
    assert f.VILLAGE_A in {v.code for v in missing}


def test_missing_is_scoped_and_hidden_from_department_officers(village_cadre, department_officer):
    missing = sel.meeting_missing(actor=village_cadre, month=MONTH, today=TODAY)
    assert [v.code for v in missing] == [f.VILLAGE_A]
    assert sel.meeting_missing(actor=department_officer, month=MONTH, today=TODAY) == []


# -- pages --------------------------------------------------------------------------------


def test_meeting_list_shows_meetings_and_missing_villages(
    client, village_cadre, township_staff, village_a
):
    meeting = _meeting(village_cadre, village_a)
    client.force_login(township_staff)
    response = client.get(reverse("routines:meeting_list"), {"month": MONTH})
    assert response.status_code == 200
    body = response.content.decode()
    assert "向前村" in body and "火炉社区" in body
    assert reverse("routines:meeting_detail", args=[meeting.pk]) in body


def test_meeting_form_shows_the_generated_agenda_and_records(client, village_cadre, village_a):
    alert_for(monitored())
    client.force_login(village_cadre)
    today = dt.date.today()
    month = sel.month_of(today)
    url = reverse("routines:meeting_create") + f"?village={f.VILLAGE_A}&month={month}"
    response = client.get(url)
    assert response.status_code == 200
    body = response.content.decode()
    assert "未处理的部门比对预警" in body and "监测员监测工作汇报" in body
    response = client.post(
        url,
        {
            "held_on": today.isoformat(),
            "attendees": "村支书、监测员",
            **{f"decision_{k}": v for k, v in ALL_DECISIONS.items()},
        },
    )
    meeting = VillageMeeting.objects.get()
    assert response.status_code == 302
    assert response.url == reverse("routines:meeting_detail", args=[meeting.pk])
    assert _items(meeting)["alerts"].count == 1


def test_other_villages_meeting_is_404_and_township_cannot_record(
    client, village_cadre, township_staff, village_a
):
    other = f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    meeting = _meeting(other, Division.objects.get(code=f.VILLAGE_B))
    client.force_login(village_cadre)
    assert client.get(reverse("routines:meeting_detail", args=[meeting.pk])).status_code == 404
    client.force_login(township_staff)
    assert client.get(reverse("routines:meeting_detail", args=[meeting.pk])).status_code == 200
    url = reverse("routines:meeting_create") + f"?village={f.VILLAGE_A}&month={MONTH}"
    assert client.get(url).status_code == 403


def test_department_officers_get_403(client, department_officer):
    client.force_login(department_officer)
    assert client.get(reverse("routines:meeting_list")).status_code == 403


def test_meeting_list_queries_do_not_grow_with_villages(
    client, village_cadre, township_staff, village_a, django_assert_max_num_queries
):
    _meeting(village_cadre, village_a)
    client.force_login(township_staff)
    client.get(reverse("routines:meeting_list"), {"month": MONTH})  # warm the session
    # Session, user, area, meetings, villages without one, meeting-day policy rows.
    with django_assert_max_num_queries(9):
        response = client.get(reverse("routines:meeting_list"), {"month": MONTH})
    assert response.status_code == 200
