"""Screening runs end to end on the real database and DuckDB: alerts, dedupe, placement, triage."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.management import call_command

from shouwang.core.choices import AuditAction, Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent
from shouwang.policy.models import PolicyValue
from shouwang.registry import choices as rc
from shouwang.screening.choices import AlertStatus, RunStatus, RunTrigger
from shouwang.screening.models import Alert, Rule, RuleVersion, ScreeningRun
from shouwang.screening.services import (
    alert_assign,
    alert_dismiss,
    alert_open_lead,
    rule_create,
    rule_preview,
    rule_update,
    screening_run,
)
from shouwang.screening.tasks import monthly_screening_due
from tests import factories as f
from tests.screening.staging import stage_rows

pytestmark = pytest.mark.django_db

MEDICAL = "medical-out-of-pocket-12m"
#: 50 % and 100 % of the 2024 national rural disposable income (23,119), the default for 2025.
REGISTERED_LINE = Decimal("11559.50")
UNREGISTERED_LINE = Decimal("23119.00")


def _claim(
    id_number: str,
    amount: str,
    *,
    on: str = "2026-10-05",
    village: str | None = None,
    name: str = "李四",
):
    return {
        "id_number": id_number,
        "name": name,
        "settled_on": on,
        "visit_type": "outpatient",
        "out_of_pocket": amount,
        "village": village,
    }


def _member_id(household) -> str:
    """A household's first member's ID number, as the factories made it."""
    from shouwang.registry.services import member_reveal_id_number

    member = household.members.order_by("id").first()
    return member_reveal_id_number(actor=None, member=member)


@pytest.fixture
def household():
    return f.make_household(f.VILLAGE_A)


def test_medical_spending_over_half_the_rural_income_raises_one_alert(household):
    person = _member_id(household)
    stage_rows("medical", [_claim(person, "6000"), _claim(person, "6000", on="2026-01-10")])
    run = screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])

    assert run.status == RunStatus.SUCCEEDED
    alert = Alert.objects.get(rule__slug=MEDICAL)
    assert alert.household == household
    assert alert.value == Decimal("12000.00")
    assert alert.threshold == REGISTERED_LINE
    assert alert.division_id == f.VILLAGE_A
    assert alert.placed_by == "registry"
    assert not alert.unregistered and not alert.after_elimination
    assert sorted(alert.evidence["rows"]) == [[run.batches[0], 2], [run.batches[0], 3]]
    assert alert.evidence["threshold_rule"]["parameter"] == "rural_disposable_income"
    assert alert.evidence["window"] == ["2025-11-01", "2026-10-31"]
    assert run.counts[MEDICAL] == {"matches": 1, "new": 1, "existing": 0, "updated": 0}


def test_below_threshold_and_outside_window_raise_nothing(household):
    person = _member_id(household)
    stage_rows("medical", [_claim(person, "11559.49"), _claim(person, "9000", on="2025-10-31")])
    run = screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])
    assert run.matches == 0
    assert not Alert.objects.exists()


def test_rerun_over_the_same_data_raises_no_duplicates(household):
    stage_rows("medical", [_claim(_member_id(household), "20000")])
    first = screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])
    second = screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])
    assert (first.alerts_new, second.alerts_new, second.alerts_existing) == (1, 0, 1)
    assert Alert.objects.count() == 1


def test_new_evidence_updates_the_open_alert_and_comes_back_after_dismissal(
    household, district_staff
):
    person = _member_id(household)
    stage_rows("medical", [_claim(person, "20000")])
    screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])
    stage_rows("medical", [_claim(person, "500", on="2026-10-20")], period="2026-10")
    run = screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])
    assert run.counts[MEDICAL]["updated"] == 1
    alert = Alert.objects.get()
    assert alert.value == Decimal("20500.00") and alert.run == run

    alert_dismiss(actor=district_staff, alert=alert, reason="已入户核实，医保报销后自付不高")
    stage_rows("medical", [_claim(person, "800", on="2026-10-25")], period="2026-10")
    screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])
    assert Alert.objects.filter(status=AlertStatus.OPEN).count() == 1
    assert Alert.objects.count() == 2


def test_unregistered_people_are_placed_by_feed_village_then_id_address():
    in_village = f.next_id_number()
    by_id = f.next_id_number()
    elsewhere = f.next_id_number(address="110101")
    stage_rows(
        "medical",
        [
            _claim(in_village, "25000", village=f.VILLAGE_B, name="王五"),
            _claim(by_id, "25000"),
            _claim(elsewhere, "25000"),
            _claim(f.next_id_number(), "20000"),  # under the unregistered line
        ],
    )
    screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])
    alerts = {a.person_name: a for a in Alert.objects.all()}
    assert len(Alert.objects.all()) == 3
    assert all(a.unregistered and a.household is None for a in alerts.values())
    assert alerts["王五"].division_id == f.VILLAGE_B and alerts["王五"].placed_by == "feed"
    placed = {a.division_id for a in Alert.objects.exclude(person_name="王五")}
    assert placed == {f.COUNTY_WULONG}
    assert all(a.threshold == UNREGISTERED_LINE for a in Alert.objects.all())


def test_eliminated_households_are_still_screened_and_say_so():
    household = f.make_household(
        f.VILLAGE_A,
        monitoring_status=rc.MonitoringStatus.RISK_ELIMINATED,
        monitoring_category=rc.MonitoringCategory.UNSTABLE_EXITED,
        identified_month="202401",
        eliminated_month="202503",
        elimination_method=rc.EliminationMethod.ASSISTED,
        risk_type_1=rc.RiskType.ILLNESS,
    )
    stage_rows("medical", [_claim(_member_id(household), "15000")])
    screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])
    alert = Alert.objects.get()
    assert alert.after_elimination
    assert alert.evidence["population"] == "risk_eliminated"


def test_person_rule_with_labour_conditions():
    household = f.make_household(f.VILLAGE_A, members=0)
    earner = f.make_member(
        household, relation=rc.Relation.HEAD, labour_skill=rc.LabourSkill.ORDINARY
    )
    f.make_member(household, relation=rc.Relation.MOTHER, labour_skill=rc.LabourSkill.LOST)
    from shouwang.registry.services import member_reveal_id_number

    stage_rows(
        "employment",
        [
            {
                "id_number": member_reveal_id_number(actor=None, member=earner),
                "registered_on": "2026-10-08",
                "change_type": "unemployed",
            }
        ],
    )
    screening_run(actor=None, period="2026-10", rule_slugs=["only-earner-unemployed"])
    alert = Alert.objects.get()
    assert alert.member == earner and alert.household == household
    assert alert.risk_type == rc.RiskType.UNSTABLE_EMPLOYMENT


def test_village_water_outage_flags_the_villages_monitored_households():
    exited = f.make_household(f.VILLAGE_A)
    ordinary = f.make_household(f.VILLAGE_A, household_type=rc.HouseholdType.ORDINARY)
    stage_rows(
        "water",
        [
            {"village": f.VILLAGE_A, "started_on": "2026-09-01", "outage_days": 4},
            {"village": f.VILLAGE_A, "started_on": "2026-10-03", "outage_days": 3},
            {"village": f.VILLAGE_B, "started_on": "2026-10-03", "outage_days": 30},
        ],
    )
    screening_run(actor=None, period="2026-10", rule_slugs=["water-outage"])
    assert list(Alert.objects.values_list("household", flat=True)) == [exited.pk]
    assert ordinary.alerts.count() == 0


def test_income_rule_reads_the_monitoring_line_of_the_year():
    poor = f.make_household(
        f.VILLAGE_A, wage_income=Decimal("10000"), operating_income=0, transfer_income=0
    )
    f.make_household(f.VILLAGE_A)  # comfortably above the line
    run = screening_run(actor=None, period="2026-10", rule_slugs=["income-below-line"])
    alert = Alert.objects.get()
    assert alert.household == poor
    assert alert.value == Decimal("5000.00") and alert.threshold == Decimal("8700.00")
    assert run.counts["income-below-line"]["matches"] == 1


def test_a_rule_whose_parameter_has_no_value_is_reported_not_run(household):
    PolicyValue.objects.filter(parameter="monitoring_line").delete()
    run = screening_run(actor=None, period="2026-10", rule_slugs=["income-below-line", MEDICAL])
    assert run.status == RunStatus.SUCCEEDED
    assert "error" in run.counts["income-below-line"]
    assert "防止返贫监测范围" in run.message


def test_run_records_counts_engine_and_audit(household, district_staff):
    run = screening_run(actor=district_staff, period="2026-10")
    assert run.engine == "duckdb" and run.trigger == RunTrigger.COMMAND
    assert run.households >= 1 and run.persons >= 2
    assert set(run.rules) == set(Rule.objects.filter(active=True).values_list("slug", flat=True))
    assert {"compile", "snapshot", "engine", "alerts"} <= set(run.timings)
    assert (
        AuditEvent.objects.filter(
            target_type="screening.screeningrun", target_id=str(run.pk)
        ).count()
        == 2
    )


def test_only_district_staff_start_runs(village_cadre):
    with pytest.raises(PermissionDenied):
        screening_run(actor=village_cadre, period="2026-10")


def test_period_is_validated():
    with pytest.raises(ApplicationError, match="格式不对"):
        screening_run(actor=None, period="2026/10")
    future = dt.date.today() + dt.timedelta(days=62)
    with pytest.raises(ApplicationError, match="合理范围"):
        screening_run(actor=None, period=f"{future:%Y-%m}")


# --- triage ------------------------------------------------------------------------------


@pytest.fixture
def alert(household):
    stage_rows("medical", [_claim(_member_id(household), "20000")])
    screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])
    return Alert.objects.get()


def test_dismiss_needs_a_reason_and_is_audited(alert, village_cadre):
    with pytest.raises(ApplicationError, match="排除理由"):
        alert_dismiss(actor=village_cadre, alert=alert, reason="  ")
    alert = alert_dismiss(actor=village_cadre, alert=alert, reason="已核实，为一次性门诊费用")
    assert alert.status == AlertStatus.DISMISSED and alert.decided_by == village_cadre
    event = AuditEvent.objects.get(target_type="screening.alert", extra__verb="dismiss")
    assert (
        event.actor == village_cadre and event.subject == f"registry.household:{alert.household_id}"
    )
    with pytest.raises(ApplicationError, match="已处理"):
        alert_open_lead(actor=village_cadre, alert=alert)


def test_triage_outside_the_area_or_role_is_refused(alert, department_officer):
    other = f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    with pytest.raises(PermissionDenied):
        alert_dismiss(actor=other, alert=alert, reason="不是我们村的人")
    with pytest.raises(PermissionDenied):
        alert_dismiss(actor=department_officer, alert=alert, reason="部门不能处理预警")


def test_assign_only_to_a_user_who_may_take_it(
    alert, township_staff, village_cadre, department_officer
):
    other = f.make_user("cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B], display_name="外村干部")
    refusal = "^只能指派给您管辖范围内可处理该预警的用户$"
    # Neither the next village's cadre (and the refusal does not name them) nor a department
    # officer, who does not triage alerts.
    for assignee in (other, department_officer):
        with pytest.raises(ApplicationError, match=refusal):
            alert_assign(actor=township_staff, alert=alert, assignee=assignee)
    # A village cadre may hand it only to users of the village, not up to the township.
    with pytest.raises(ApplicationError, match=refusal):
        alert_assign(actor=village_cadre, alert=alert, assignee=township_staff)
    alert = alert_assign(
        actor=township_staff, alert=alert, assignee=village_cadre, note="请本周入户"
    )
    assert alert.status == AlertStatus.ASSIGNED and alert.assigned_to == village_cadre
    alert = alert_open_lead(actor=village_cadre, alert=alert, note="入户发现确有困难")
    assert alert.status == AlertStatus.LEAD_OPENED


# --- rules -------------------------------------------------------------------------------


def test_rule_update_versions_and_audits(district_admin):
    rule = Rule.objects.get(slug=MEDICAL)
    spec = dict(rule.spec, window_months=6)
    rule = rule_update(actor=district_admin, rule=rule, spec=spec, note="改为半年")
    assert rule.version == 2 and rule.spec["window_months"] == 6
    assert RuleVersion.objects.filter(rule=rule).count() == 2
    assert RuleVersion.objects.get(rule=rule, version=2).note == "改为半年"
    assert (
        AuditEvent.objects.filter(target_type="screening.rule", action=AuditAction.UPDATE).count()
        == 1
    )
    unchanged = rule_update(actor=district_admin, rule=rule, spec=spec, note="再存一次")
    assert unchanged.version == 2


def test_invalid_rule_spec_lists_every_problem(district_admin):
    rule = Rule.objects.get(slug=MEDICAL)
    bad = dict(
        rule.spec,
        window_months=0,
        aggregate={"function": "sum", "field": "diagnosis"},
        risk_type="bad",
    )
    with pytest.raises(ApplicationError) as info:
        rule_update(actor=district_admin, rule=rule, spec=bad)
    errors = info.value.extra["errors"]
    assert any("时间窗口" in e for e in errors)
    assert any("不是数值列" in e for e in errors)
    assert any("风险类型" in e for e in errors)
    assert Rule.objects.get(slug=MEDICAL).version == 1


@pytest.mark.parametrize(
    ("slug", "message"),
    [
        ("new", "系统保留"),
        ("preview", "系统保留"),
        ("医保", "小写字母"),
        ("Big-Rule", "小写字母"),
        ("", "小写字母"),
    ],
)
def test_rule_codes_that_pages_or_api_could_not_address_are_refused(district_admin, slug, message):
    spec = Rule.objects.get(slug=MEDICAL).spec
    with pytest.raises(ApplicationError, match=message):
        rule_create(actor=district_admin, slug=slug, name="新规则", spec=spec)
    created = rule_create(actor=district_admin, slug="medical_6m-copy", name="新规则", spec=spec)
    assert created.version == 1


def test_only_district_admins_edit_rules(district_staff):
    with pytest.raises(PermissionDenied):
        rule_update(actor=district_staff, rule=Rule.objects.get(slug=MEDICAL), active=False)


def test_preview_counts_what_a_run_would_raise(household, district_admin):
    stage_rows(
        "medical", [_claim(_member_id(household), "20000"), _claim(f.next_id_number(), "30000")]
    )
    spec = Rule.objects.get(slug=MEDICAL).spec
    preview = rule_preview(actor=district_admin, spec=spec, period="2026-10")
    assert (preview.matches, preview.registered, preview.unregistered) == (2, 1, 1)
    assert preview.thresholds == (REGISTERED_LINE, UNREGISTERED_LINE)
    assert not Alert.objects.exists()
    run = screening_run(actor=None, period="2026-10", rule_slugs=[MEDICAL])
    assert run.matches == preview.matches
    again = rule_preview(
        actor=district_admin, spec=spec, period="2026-10", rule=Rule.objects.get(slug=MEDICAL)
    )
    assert again.already_alerted == 2


# --- schedule and command ----------------------------------------------------------------


def test_monthly_screening_is_due_once_per_month_after_the_configured_day():
    assert not monthly_screening_due(dt.date(2026, 11, 5))
    assert monthly_screening_due(dt.date(2026, 11, 6))
    ScreeningRun.objects.create(engine="duckdb", period="2026-10", trigger=RunTrigger.SCHEDULE)
    today = dt.date.today()
    assert not monthly_screening_due(today.replace(day=28))


def test_screen_command_prints_the_run(household, capsys):
    stage_rows("medical", [_claim(_member_id(household), "20000")])
    call_command("screen", "--rules", MEDICAL, "--period", "2026-10")
    out = capsys.readouterr().out
    assert MEDICAL in out and "新增预警 1 条" in out
