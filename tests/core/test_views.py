import re

import pytest
from django.urls import reverse

from shouwang.registry import choices as c
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_login_page_is_chinese(client):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    html = response.content.decode()
    assert '<html lang="zh-Hans">' in html
    assert 'name="viewport"' in html
    assert "登录守望" in html
    assert "用户名" in html and "密码" in html


def test_login_with_password_lands_on_home(client, village_cadre):
    response = client.post(reverse("login"), {"username": "cadre-a", "password": "pw-for-tests"})
    assert response.status_code == 302
    assert response.url == reverse("home")
    home = client.get(response.url)
    assert home.status_code == 200
    assert "村干部甲" in home.content.decode()


def test_wrong_password_is_refused_in_chinese(client, village_cadre):
    response = client.post(reverse("login"), {"username": "cadre-a", "password": "wrong-password"})
    assert response.status_code == 200
    assert "请输入一个正确的" in response.content.decode()


def test_logout_is_a_post(client, village_cadre):
    client.force_login(village_cadre)
    response = client.post(reverse("logout"))
    assert response.status_code == 302
    assert client.get(reverse("home")).status_code == 302


def test_home_shows_the_actors_area_in_figures(client, village_cadre):
    f.make_household(members=2)
    f.make_household(
        members=3,
        household_type=c.HouseholdType.MONITORED,
        monitoring_category=c.MonitoringCategory.MARGINAL,
        monitoring_status=c.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202403",
        risk_type_1=c.RiskType.ILLNESS,
    )
    f.make_household(f.VILLAGE_OTHER_TOWNSHIP, members=4)  # outside the cadre's village
    client.force_login(village_cadre)

    response = client.get(reverse("home"))

    assert response.status_code == 200
    summary = response.context["summary"]
    assert (summary.households, summary.members, summary.monitored) == (2, 5, 1)
    assert dict(summary.by_category)["边缘易致贫户"] == 1
    assert dict(summary.by_status)["风险未消除"] == 1
    html = response.content.decode()
    assert "村干部甲" in html
    assert "村干部/网格员" in html
    assert "火炉镇向前村" in html
    assert "?monitoring_category=marginal" in html


def test_anonymous_user_is_sent_to_login(client):
    response = client.get(reverse("home"))
    assert response.status_code == 302
    assert response.url == f"{reverse('login')}?next=/"


def test_admin_shows_users_divisions_registry_and_audit_read_only(client, village_cadre):
    from shouwang.core.models import User

    household = f.make_household(members=1)
    superuser = User.objects.create_superuser("root", password="pw-for-tests")
    client.force_login(superuser)

    for name in (
        "core_user",
        "core_division",
        "core_auditevent",
        "registry_household",
        "registry_member",
    ):
        assert client.get(reverse(f"admin:{name}_changelist")).status_code == 200
    user_page = client.get(
        reverse("admin:core_user_change", args=[village_cadre.pk])
    ).content.decode()
    assert "管辖区划" in user_page and "角色" in user_page
    household_page = client.get(reverse("admin:registry_household_change", args=[household.pk]))
    assert household_page.status_code == 200
    assert household.phone_encrypted not in household_page.content.decode()
    assert client.get(reverse("admin:core_division_add")).status_code == 403
    assert client.get(reverse("admin:registry_household_add")).status_code == 403


@pytest.mark.parametrize(
    ("role_fixture", "shown", "hidden"),
    [
        ("village_cadre", ["预警"], ["数据比对"]),
        ("department_officer", ["预警", "数据比对"], []),
        ("district_staff", ["预警", "数据比对"], []),
    ],
)
def test_navigation_shows_the_pages_the_role_may_open(client, request, role_fixture, shown, hidden):
    user = request.getfixturevalue(role_fixture)
    client.force_login(user)
    nav = _nav_labels(client.get("/").content.decode())
    assert all(label in nav for label in shown), nav
    assert not any(label in nav for label in hidden), nav
    # Every link shown opens for the role (no link to a 403).
    for href in re.findall(r'<a href="([^"]+)"', _nav_html(client.get("/").content.decode())):
        assert client.get(href).status_code == 200, href


@pytest.mark.parametrize(
    ("role_fixture", "tabs"),
    [
        ("department_officer", ["比对运行", "部门数据", "预警规则"]),
        ("district_staff", ["比对运行", "部门数据", "预警规则", "政策参数"]),
    ],
)
def test_the_comparison_section_shows_the_tabs_the_role_may_open(
    client, request, role_fixture, tabs
):
    """One navigation entry for department data comparison; its pages are tabs."""
    client.force_login(request.getfixturevalue(role_fixture))
    for url_name in ("run_list", "feed_list", "rule_list"):
        html = client.get(reverse(f"screening:{url_name}")).content.decode()
        bar = html[html.index('<nav class="section-tabs"') :]
        bar = bar[: bar.index("</nav>")]
        assert re.findall(r">([^<>]+)</a>", bar) == tabs
        for href in re.findall(r'<a href="([^"]+)"', bar):
            assert client.get(href).status_code == 200, href


def _nav_html(html: str) -> str:
    return html[html.index('<nav class="site-nav"') : html.index("</nav>")]


def _nav_labels(html: str) -> list[str]:
    return re.findall(r">([^<>]+)</a>", _nav_html(html))
