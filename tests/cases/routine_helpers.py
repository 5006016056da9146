"""Builders shared by the meeting, review and campaign tests (services and API)."""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

from shouwang.registry import choices as rc
from shouwang.registry.models import Household
from shouwang.screening.models import Alert, Rule, ScreeningRun
from tests import factories as f

_fingerprints = itertools.count(1)

#: The decisions a meeting form sends when every item has something in it.
ALL_DECISIONS = {
    "new_leads": "安排网格员入户核实",
    "open_cases": "按时限推进",
    "alerts": "逐条核实",
    "eliminations_due": "下月提名风险消除",
    "monitor_report": "监测员汇报本月走访 32 户，无异常",
}


def monitored(village: str = f.VILLAGE_A, *, identified: str = "202601", **data: Any) -> Household:
    """A monitoring object with unresolved risk, identified in ``identified`` (YYYYMM)."""
    fields = {
        "household_type": rc.HouseholdType.MONITORED,
        "monitoring_category": rc.MonitoringCategory.MARGINAL,
        "monitoring_status": rc.MonitoringStatus.RISK_UNRESOLVED,
        "identified_month": identified,
        "risk_type_1": rc.RiskType.ILLNESS,
    }
    fields.update(data)
    return f.make_household(village, **fields)


def eliminated(village: str = f.VILLAGE_A, *, identified: str, eliminated_in: str) -> Household:
    return monitored(
        village,
        identified=identified,
        monitoring_status=rc.MonitoringStatus.RISK_ELIMINATED,
        eliminated_month=eliminated_in,
        elimination_method=rc.EliminationMethod.ASSISTED,
    )


def alert_for(household: Household | None, *, village: str = f.VILLAGE_A, status="open") -> Alert:
    """An alert as a screening run leaves it (rule and run seeded, no engine involved)."""
    rule = Rule.objects.order_by("slug").first()
    run = ScreeningRun.objects.create(engine="duckdb", period="2026-10", trigger="page")
    return Alert.objects.create(
        rule=rule,
        rule_version=1,
        run=run,
        subject_key=f"h:{household.pk}" if household else "p:x",
        fingerprint=f"fp{next(_fingerprints)}",
        household=household,
        person_name="" if household else "王五",
        division_id=household.village_id if household else village,
        risk_type=rc.RiskType.ILLNESS,
        severity="high",
        period="2026-10",
        comparison="ge",
        status=status,
    )


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)
