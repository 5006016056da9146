"""Coverage and consistency of assistance: the per-area figures, the problem lists, the
Excel export, area scoping and the pages (including the home page's card)."""

from __future__ import annotations

import io

import pytest
from django.db import connection
from django.urls import reverse
from openpyxl import load_workbook

from shouwang.assistance import coverage
from shouwang.assistance.choices import MeasureStatus
from shouwang.assistance.models import Measure, MeasureGroup
from shouwang.assistance.services import plan_accept, plan_measure_progress
from shouwang.core.choices import Role
from shouwang.core.models import AuditEvent, Division
from shouwang.registry import choices as rc
from tests import factories as f

pytestmark = pytest.mark.django_db

TOWNSHIP_FENGSHAN = "500156001000"  # 凤山街道, the township of VILLAGE_OTHER_TOWNSHIP
L = rc.LabourSkill
R = rc.RiskType


def _monitored(village: str, risks: tuple[str, ...], labour: tuple[str, ...], **data):
    """A monitored household with one member per labour skill in ``labour``."""
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": "202601",
        **{f"risk_type_{i}": risk for i, risk in enumerate(risks, start=1)},
        **data,
    }
    household = f.make_household(village, members=0, **fields)
    for index, skill in enumerate(labour):
        f.make_member(
            household,
            relation=rc.Relation.HEAD if index == 0 else rc.Relation.SPOUSE,
            name=f"成员{index}",
            labour_skill=skill,
        )
    household.refresh_from_db()
    return household


def _plan(household, *measures: str, delivered=(), stopped=()):
    """Accept ``measures`` into the household's plan; deliver or stop the ones named."""
    items = [{"measure": Measure.objects.get(name=name)} for name in measures]
    plan = plan_accept(actor=None, household=household, items=items)
    for pm in plan.measures.select_related("measure"):
        if pm.measure.name in delivered:
            plan_measure_progress(actor=None, plan_measure=pm, status=MeasureStatus.DELIVERED)
        elif pm.measure.name in stopped:
            plan_measure_progress(
                actor=None,
                plan_measure=pm,
                status=MeasureStatus.STOPPED,
                data={"status_note": "户主已外出务工"},
            )
    return plan


@pytest.fixture
def area():
    """Eight monitored households over three villages of two townships, one not monitored.

    向前村 (火炉镇):
      a1 因病, can work: 医疗救助 delivered + 技能培训 (development)        — all fine
      a2 因学 + 因安全住房, can work: 低保 only                  — uncovered ×2, backstop only
      a3 因务工就业不稳, nobody can work, no plan           — unstable without labour, no plan
      a4 风险已消除, 因残, weak labour: 残疾人两项补贴 delivered — fine (综合保障 answers 因残)
      a5 因病, can work: 医疗救助 stopped                       — no plan (all stopped)
      a6 因病 + 因安全住房, lost labour: 医疗救助                  — uncovered: 因安全住房
      not monitored: one ordinary household
    火炉社区 (火炉镇):
      b1 因安全饮水, can work: 供水工程 in progress + 公益性岗位      — fine, development
    芋荷村 (凤山街道):
      o1 因病, can work, no plan                               — no plan
    """
    hh = {}
    hh["a1"] = _monitored(f.VILLAGE_A, (R.ILLNESS,), (L.ORDINARY, L.LOST))
    _plan(hh["a1"], "医疗救助", "技能培训", delivered=("医疗救助",))
    hh["a2"] = _monitored(f.VILLAGE_A, (R.SCHOOLING, R.HOUSING), (L.SKILLED,))
    _plan(hh["a2"], "低保")
    hh["a3"] = _monitored(f.VILLAGE_A, (R.UNSTABLE_EMPLOYMENT,), (L.LOST, L.NONE))
    hh["a4"] = _monitored(
        f.VILLAGE_A,
        (R.DISABILITY,),
        (L.WEAK,),
        monitoring_status=rc.MonitoringStatus.RISK_ELIMINATED,
        eliminated_month="202606",
        elimination_method=rc.EliminationMethod.ASSISTED,
    )
    _plan(hh["a4"], "残疾人两项补贴", delivered=("残疾人两项补贴",))
    hh["a5"] = _monitored(f.VILLAGE_A, (R.ILLNESS,), (L.ORDINARY,))
    _plan(hh["a5"], "医疗救助", stopped=("医疗救助",))
    hh["a6"] = _monitored(f.VILLAGE_A, (R.ILLNESS, R.HOUSING), (L.LOST,))
    _plan(hh["a6"], "医疗救助")
    f.make_household(f.VILLAGE_A)
    hh["b1"] = _monitored(f.VILLAGE_B, (R.DRINKING_WATER,), (L.ORDINARY,))
    plan = _plan(hh["b1"], "农村供水工程改造", "公益性岗位")
    plan_measure_progress(
        actor=None,
        plan_measure=plan.measures.get(measure__name="农村供水工程改造"),
        status=MeasureStatus.IN_PROGRESS,
    )
    hh["o1"] = _monitored(f.VILLAGE_OTHER_TOWNSHIP, (R.ILLNESS,), (L.ORDINARY,))
    return hh


FIGURES = (
    "monitored",
    "with_plan",
    "delivered",
    "labour_capable",
    "with_development",
    "uncovered",
    "backstop_only",
    "unstable_without_labour",
    "without_plan",
)


def _figures(row) -> tuple[int, ...]:
    return tuple(getattr(row, name) for name in FIGURES)


def _by_code(report) -> dict[str, tuple[int, ...]]:
    return {row.division.code: _figures(row) for row in report.rows}


# -- figures ----------------------------------------------------------------------------------


def test_district_staff_see_one_row_per_township_and_the_total(area, district_staff):
    report = coverage.coverage_report(actor=district_staff)

    assert report.level == 4
    rows = _by_code(report)
    #                              mon plan del lab dev unc bso unst none
    assert rows[f.TOWNSHIP_HUOLU] == (7, 5, 2, 4, 2, 2, 1, 1, 2)
    assert rows[TOWNSHIP_FENGSHAN] == (1, 0, 0, 1, 0, 0, 0, 0, 1)
    # Every township of Wulong has its row, most of them empty.
    assert len(rows) == Division.objects.filter(level=4, code__startswith="500156").count()
    assert sum(row[0] for row in rows.values()) == 8
    assert _figures(report.total) == (8, 5, 2, 5, 2, 2, 1, 1, 3)


def test_shares_are_percentages_of_their_own_base(area, district_staff):
    total = coverage.coverage_report(actor=district_staff).total

    assert total.plan_share == 62.5  # 5 of 8
    assert total.delivered_share == 25.0  # 2 of 8
    assert total.development_share == 40.0  # 2 of the 5 labour-capable
    empty = coverage.coverage_report(actor=district_staff).rows[-1]
    assert empty.monitored == 0 and empty.plan_share is None


def test_township_staff_see_their_villages(area, township_staff):
    report = coverage.coverage_report(actor=township_staff)

    assert report.level == 5
    rows = _by_code(report)
    assert rows[f.VILLAGE_A] == (6, 4, 2, 3, 1, 2, 1, 1, 2)
    assert rows[f.VILLAGE_B] == (1, 1, 0, 1, 1, 0, 0, 0, 0)
    assert f.VILLAGE_OTHER_TOWNSHIP not in rows
    assert all(code.startswith(f.TOWNSHIP_HUOLU[:9]) for code in rows)
    assert _figures(report.total) == (7, 5, 2, 4, 2, 2, 1, 1, 2)


def test_a_village_cadre_sees_their_village_only(area, village_cadre):
    report = coverage.coverage_report(actor=village_cadre)

    assert [row.division.code for row in report.rows] == [f.VILLAGE_A]
    assert _figures(report.total) == (6, 4, 2, 3, 1, 2, 1, 1, 2)


def test_district_staff_drill_down_into_a_township(area, district_staff):
    township = coverage.coverage_township(actor=district_staff, code=f.TOWNSHIP_HUOLU)
    report = coverage.coverage_report(actor=district_staff, township=township)

    assert report.level == 5
    assert _by_code(report)[f.VILLAGE_A] == (6, 4, 2, 3, 1, 2, 1, 1, 2)
    assert _figures(report.total) == (7, 5, 2, 4, 2, 2, 1, 1, 2)


def test_only_unresolved_leaves_eliminated_households_out(area, township_staff):
    report = coverage.coverage_report(actor=township_staff, unresolved_only=True)

    assert _by_code(report)[f.VILLAGE_A] == (5, 3, 1, 3, 1, 2, 1, 1, 2)


def test_matching_is_read_from_the_measure_groups(area, township_staff):
    """Once 健康帮扶 is said to answer 因安全住房 too, a6 (医疗救助 for 因病 + 因安全住房) is
    covered; and 因学 answered by nothing leaves a2 uncovered for 因安全住房 alone."""
    health = MeasureGroup.objects.get(code="health")
    health.covers_risk_types = [*health.covers_risk_types, R.HOUSING]
    health.save()
    uncovered = coverage.coverage_problem_households(
        actor=township_staff, problem=coverage.Problem.UNCOVERED
    )
    assert list(uncovered) == [area["a2"]]

    for code in ("education", "compulsory_education", "social"):
        group = MeasureGroup.objects.get(code=code)
        group.covers_risk_types = [r for r in group.covers_risk_types if r != R.SCHOOLING]
        group.save()
    catalogue = coverage.measure_catalogue()
    assert R.SCHOOLING not in catalogue.covers
    [row] = coverage.problem_rows([area["a2"]], catalogue)
    assert row.missing == ["因安全住房"]  # 因学 has no group: it cannot be checked


def test_backstop_only_needs_labour_and_only_comprehensive_measures(area, district_staff):
    households = coverage.coverage_problem_households(
        actor=district_staff, problem=coverage.Problem.BACKSTOP_ONLY
    )
    assert list(households) == [area["a2"]]
    # A development-type measure added to a2's plan ends it.
    _plan(area["a2"], "外出务工补贴")
    assert not households.all().exists()


# -- problem lists ----------------------------------------------------------------------------


def test_problem_lists_say_what_is_wrong(area, township_staff):
    def listed(problem):
        page, rows = coverage.coverage_problem_page(actor=township_staff, problem=problem)
        return {row.household.pk: row.detail(problem) for row in rows}

    assert listed(coverage.Problem.UNCOVERED) == {
        area["a2"].pk: "缺少对应措施的风险：因学、因安全住房",
        area["a6"].pk: "缺少对应措施的风险：因安全住房",
    }
    assert listed(coverage.Problem.BACKSTOP_ONLY) == {
        area["a2"].pk: "现有措施均为综合保障：低保",
    }
    assert set(listed(coverage.Problem.UNSTABLE_WITHOUT_LABOUR)) == {area["a3"].pk}
    assert listed(coverage.Problem.WITHOUT_PLAN) == {
        area["a3"].pk: "尚无帮扶计划",
        area["a5"].pk: "计划中的措施均已终止",
    }


def test_problem_lists_are_scoped_to_the_area_and_the_chosen_division(
    area, village_cadre, district_staff
):
    without_plan = coverage.Problem.WITHOUT_PLAN
    mine = coverage.coverage_problem_households(actor=village_cadre, problem=without_plan)
    assert {h.pk for h in mine} == {area["a3"].pk, area["a5"].pk}
    everywhere = coverage.coverage_problem_households(actor=district_staff, problem=without_plan)
    assert {h.pk for h in everywhere} == {area["a3"].pk, area["a5"].pk, area["o1"].pk}
    fengshan = coverage.coverage_area(actor=district_staff, code=TOWNSHIP_FENGSHAN)
    there = coverage.coverage_problem_households(
        actor=district_staff, problem=without_plan, area=fengshan
    )
    assert [h.pk for h in there] == [area["o1"].pk]
    with pytest.raises(Division.DoesNotExist):
        coverage.coverage_area(actor=village_cadre, code=TOWNSHIP_FENGSHAN)


def test_department_officers_see_nothing(area, department_officer):
    report = coverage.coverage_report(actor=department_officer)
    assert report.rows == [] and report.total.monitored == 0


# -- export -----------------------------------------------------------------------------------


def test_export_writes_the_table_and_the_lists_and_an_audit_row(area, township_staff, tmp_path):
    path = tmp_path / "coverage.xlsx"

    counts = coverage.coverage_export(actor=township_staff, path=path)

    assert counts == {
        "areas": len(coverage.coverage_report(actor=township_staff).rows),
        "uncovered": 2,
        "backstop_only": 1,
        "unstable_without_labour": 1,
        "without_plan": 2,
    }
    book = load_workbook(path, read_only=True)
    assert book.sheetnames == [
        "分区统计",
        "风险无对应措施",
        "有劳动力仅兜底保障",
        "因务工就业不稳但无劳动力",
        "未制定帮扶计划",
    ]
    table = list(book["分区统计"].iter_rows(values_only=True))
    assert table[0][:4] == ("区域", "区划代码", "监测户数", "有帮扶计划户数")
    by_name = {row[0]: row for row in table[1:] if row[0]}
    assert by_name["向前村"][1:] == (f.VILLAGE_A, 6, 4, 66.7, 2, 33.3, 3, 1, 33.3, 2, 1, 1, 2)
    assert by_name["合计"][2:4] == (7, 5)
    uncovered = list(book["风险无对应措施"].iter_rows(values_only=True))
    assert uncovered[0][-1] == "问题说明"
    assert [(r[2], r[-1]) for r in uncovered[1:]] == [
        (area["a2"].household_number, "缺少对应措施的风险：因学、因安全住房"),
        (area["a6"].household_number, "缺少对应措施的风险：因安全住房"),
    ]
    assert uncovered[1][:2] == ("火炉镇", "向前村")
    event = AuditEvent.objects.get(action="export", target_type="assistance.coverage")
    assert event.actor == township_staff
    assert event.extra["rows"]["uncovered"] == 2 and event.extra["file"] == "coverage.xlsx"


def test_export_is_refused_to_department_officers(department_officer, tmp_path):
    from shouwang.core.exceptions import PermissionDenied

    with pytest.raises(PermissionDenied):
        coverage.coverage_export(actor=department_officer, path=tmp_path / "x.xlsx")
    assert not (tmp_path / "x.xlsx").exists()
    assert not AuditEvent.objects.filter(action="export").exists()


# -- pages ------------------------------------------------------------------------------------


def test_overview_page_and_drill_down(client, area, district_staff):
    client.force_login(district_staff)
    response = client.get(reverse("coverage:overview"))
    assert response.status_code == 200
    html = response.content.decode()
    assert "帮扶覆盖与一致性" in html and "火炉镇" in html and "62.5%" in html
    assert f"?township={f.TOWNSHIP_HUOLU}" in html

    response = client.get(reverse("coverage:overview"), {"township": f.TOWNSHIP_HUOLU})
    assert response.status_code == 200
    codes = [r.division.code for r in response.context["report"].rows]
    assert f.VILLAGE_A in codes and f.VILLAGE_B in codes and codes == sorted(codes)
    assert all(code.startswith(f.TOWNSHIP_HUOLU[:9]) for code in codes)
    assert f"area={f.VILLAGE_A}" in response.content.decode()
    assert client.get(reverse("coverage:overview"), {"township": "500156999000"}).status_code == 404


def test_overview_outside_the_area_is_404_and_departments_get_403(
    client, area, village_cadre, department_officer
):
    client.force_login(village_cadre)
    url = reverse("coverage:overview")
    assert client.get(url, {"township": TOWNSHIP_FENGSHAN}).status_code == 404
    problems = reverse("coverage:problems", args=["without_plan"])
    assert client.get(problems, {"area": f.VILLAGE_OTHER_TOWNSHIP}).status_code == 404
    assert client.get(reverse("coverage:problems", args=["nonsense"])).status_code == 404
    client.force_login(department_officer)
    assert client.get(url).status_code == 403
    assert client.post(reverse("coverage:export")).status_code == 403


def test_problem_page_lists_and_paginates(client, area, township_staff, settings):
    settings.SHOUWANG_PAGE_SIZE = 1
    client.force_login(township_staff)
    url = reverse("coverage:problems", args=["uncovered"])

    first = client.get(url)
    second = client.get(url, {"page": 2})

    assert first.status_code == second.status_code == 200
    assert first.context["page"].paginator.count == 2
    assert area["a2"].household_number in first.content.decode()
    assert "缺少对应措施的风险：因安全住房" in second.content.decode()
    assert reverse("assistance:household_plan", args=[area["a6"].pk]) in second.content.decode()
    assert "下一页" in first.content.decode()


def test_export_page_returns_a_workbook(client, area, district_staff):
    client.force_login(district_staff)
    response = client.post(
        reverse("coverage:export"), {"township": f.TOWNSHIP_HUOLU, "unresolved": "1"}
    )
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(b"".join(response.streaming_content)), read_only=True)
    names = [row[0] for row in book["分区统计"].iter_rows(min_row=2, values_only=True) if row[0]]
    assert "向前村" in names and "火炉社区" in names and "芋荷村" not in names
    event = AuditEvent.objects.get(action="export", target_type="assistance.coverage")
    assert event.extra["township"] == f.TOWNSHIP_HUOLU and event.extra["unresolved_only"] is True


def test_overview_queries_do_not_grow_with_households(
    client, area, district_staff, django_assert_max_num_queries
):
    client.force_login(district_staff)
    client.get(reverse("coverage:overview"))  # warm the session
    # Session, user, area, measure groups, per-household facts, townships; on PostgreSQL
    # also the savepoint, SET LOCAL jit and its release around the facts.
    expected = 6 + (3 if connection.vendor == "postgresql" else 0)
    with django_assert_max_num_queries(expected):
        assert client.get(reverse("coverage:overview")).status_code == 200
    for _ in range(3):
        _monitored(f.VILLAGE_B, (R.ILLNESS,), (L.ORDINARY,))
    with django_assert_max_num_queries(expected):
        assert client.get(reverse("coverage:overview")).status_code == 200


def test_home_card_shows_the_shares_to_planners_only(
    client, area, township_staff, department_officer, django_assert_max_num_queries
):
    client.force_login(township_staff)
    response = client.get(reverse("home"))
    html = response.content.decode()
    assert "帮扶覆盖" in html and reverse("coverage:overview") in html
    assert response.context["coverage"].monitored == 7
    assert "71.4%" in html  # 5 of 7 with a plan
    client.force_login(department_officer)
    response = client.get(reverse("home"))
    assert response.context["coverage"] is None
    assert reverse("coverage:overview") not in response.content.decode()


def test_home_page_queries_stay_bounded(client, area, village_cadre, django_assert_max_num_queries):
    client.force_login(village_cadre)
    client.get(reverse("home"))
    with django_assert_max_num_queries(30) as captured:
        client.get(reverse("home"))
    before = len(captured)
    for _ in range(3):
        household = _monitored(f.VILLAGE_A, (R.ILLNESS,), (L.ORDINARY,))
        _plan(household, "医疗救助")
    with django_assert_max_num_queries(before):
        client.get(reverse("home"))


def test_a_user_bound_to_two_villages_of_different_townships_sees_villages(area):
    cadre = f.make_user(
        "two-villages", Role.TOWNSHIP_STAFF, [f.VILLAGE_A, f.VILLAGE_OTHER_TOWNSHIP]
    )
    report = coverage.coverage_report(actor=cadre)
    assert report.level == 5
    assert {r.division.code for r in report.rows} == {f.VILLAGE_A, f.VILLAGE_OTHER_TOWNSHIP}
    assert report.total.monitored == 7


def test_problem_page_queries_do_not_grow_with_households(
    client, area, township_staff, django_assert_max_num_queries
):
    client.force_login(township_staff)
    url = reverse("coverage:problems", args=["without_plan"])
    client.get(url)  # warm the session
    # Session, user, area, measure groups, count, page, the page's plan measures; on
    # PostgreSQL also the savepoint, SET LOCAL jit and its release around count and page.
    expected = 7 + (3 if connection.vendor == "postgresql" else 0)
    with django_assert_max_num_queries(expected):
        assert client.get(url).status_code == 200
    for _ in range(3):
        _monitored(f.VILLAGE_B, (R.ILLNESS,), (L.ORDINARY,))
    with django_assert_max_num_queries(expected):
        response = client.get(url)
    assert response.context["page"].paginator.count == 5
