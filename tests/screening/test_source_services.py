"""feed_source_update: district administrators edit a source's mapping; what staged data and
rules depend on is guarded, every problem is reported, changes are audited."""

from __future__ import annotations

import copy

import pytest

from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import AuditEvent
from shouwang.screening.feeds.source_services import feed_source_update
from shouwang.screening.models import FeedSource
from tests.screening.staging import stage_rows

pytestmark = pytest.mark.django_db


@pytest.fixture
def water():
    return FeedSource.objects.get(slug="water")


def _update(actor, source, **changes):
    fields = {
        "name": source.name,
        "description": source.description,
        "columns": copy.deepcopy(source.columns),
        "active": source.active,
    }
    fields.update(changes)
    return feed_source_update(actor=actor, source=source, **fields)


def test_only_district_admins_edit(water, district_staff, department_officer):
    for user in (district_staff, department_officer):
        with pytest.raises(PermissionDenied):
            _update(user, water, name="改名")
    assert FeedSource.objects.get(slug="water").name == "水利局农村供水中断"


def test_header_change_is_saved_and_audited(water, district_admin):
    columns = copy.deepcopy(water.columns)
    columns[2]["header"] = "停水天数（天）"
    columns[2]["aliases"] = ["停水天数"]
    saved = _update(district_admin, water, columns=columns, description=" 按村上报 ")
    assert saved.columns[2]["header"] == "停水天数（天）" and saved.description == "按村上报"
    event = AuditEvent.objects.get(target_type="screening.feedsource", action=AuditAction.UPDATE)
    assert event.before["columns"][2]["header"] == "停水天数"
    assert event.after["columns"][2]["aliases"] == ["停水天数"]


def test_unchanged_save_writes_nothing(water, district_admin):
    _update(district_admin, water)
    assert not AuditEvent.objects.filter(target_type="screening.feedsource").exists()


def test_every_problem_is_listed(water, district_admin):
    columns = copy.deepcopy(water.columns)
    columns[1]["header"] = ""
    columns[3]["type"] = "money"
    with pytest.raises(ApplicationError) as info:
        _update(district_admin, water, name=" ", columns=columns)
    errors = info.value.extra["errors"]
    assert "请填写数据源名称" in errors
    assert any("started_on" in e and "缺少表头" in e for e in errors)
    assert any("money" in e for e in errors)


def test_fields_with_staged_data_keep_their_name_and_type(water, district_admin):
    stage_rows("water", [{"village": "500156104200", "started_on": "2026-10-01", "outage_days": 9}])
    columns = copy.deepcopy(water.columns)
    columns[3]["type"] = "decimal"  # households_affected
    columns[4]["field"] = "reason"  # cause renamed
    with pytest.raises(ApplicationError) as info:
        _update(district_admin, water, columns=columns)
    errors = info.value.extra["errors"]
    assert any("households_affected" in e and "整数" in e and "金额/数值" in e for e in errors)
    assert any("cause" in e and "不能删除" in e for e in errors)
    assert any("reason" in e and "不能新增" in e for e in errors)


def test_without_staged_data_fields_may_change(water, district_admin):
    columns = copy.deepcopy(water.columns)
    columns[4]["field"] = "reason"
    assert _update(district_admin, water, columns=columns).columns[4]["field"] == "reason"


def test_a_change_breaking_a_rule_names_the_rule(water, district_admin):
    columns = [c for c in copy.deepcopy(water.columns) if c["field"] != "outage_days"]
    with pytest.raises(ApplicationError) as info:
        _update(district_admin, water, columns=columns)
    assert any(e.startswith("规则“") and "outage_days" in e for e in info.value.extra["errors"])


def test_deactivating_is_allowed(water, district_admin):
    assert _update(district_admin, water, active=False).active is False
