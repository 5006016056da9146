"""Alerts for the screening page tests, raised the real way.

Households come from the factories; a medical feed is staged as Parquet with
``feed_arrow_schema`` into a batch marked staged (``staging.stage_rows``, the way the importer
leaves it), then a synchronous ``screening_run`` writes the alerts. The tests therefore do
not depend on the importer.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from shouwang.registry import choices as rc
from shouwang.registry.models import Household
from shouwang.screening.models import Alert, FeedBatch, ScreeningRun
from shouwang.screening.services import screening_run
from tests import factories as f
from tests.screening.staging import stage_rows

#: A past month; the default thresholds for it come from 2024's national figures.
PERIOD = "2025-09"
#: One alert per person with an inpatient stay costing ≥ 5,000 (registered) / ≥ 20,000 (others).
INPATIENT = "inpatient-out-of-pocket-month"
#: The 12-month household sum: ≥ 11,559.50 (50 % of 23,119) registered, ≥ 23,119 others.
MEDICAL_12M = "medical-out-of-pocket-12m"

ELIMINATED = {
    "household_type": rc.HouseholdType.MONITORED,
    "monitoring_category": rc.MonitoringCategory.MARGINAL,
    "monitoring_status": rc.MonitoringStatus.RISK_ELIMINATED,
    "identified_month": "202403",
    "eliminated_month": "202412",
    "elimination_method": rc.EliminationMethod.ASSISTED,
    "risk_type_1": rc.RiskType.ILLNESS,
}


def patient(household: Household, *, name: str = "李四") -> str:
    """Add a member to ``household`` and return the ID number a department would report."""
    id_number = f.next_id_number()
    f.make_member(household, id_number=id_number, name=name, relation=rc.Relation.SPOUSE)
    return id_number


def inpatient(
    id_number: str | None,
    *,
    amount: int | str,
    name: str = "李四",
    village: str | None = None,
    on: dt.date = dt.date(2025, 9, 3),
    diagnosis: str = "脑梗死",
) -> dict[str, Any]:
    """One medical claim row: an inpatient stay with ``amount`` paid out of pocket."""
    amount = Decimal(str(amount))
    return {
        "id_number": id_number,
        "name": name,
        "settled_on": on,
        "visit_type": "inpatient",
        "total_cost": amount * 3,
        "reimbursed": amount * 2,
        "out_of_pocket": amount,
        "diagnosis": diagnosis,
        "village": village,
    }


def stage_medical(rows: list[dict[str, Any]], *, period: str = PERIOD) -> FeedBatch:
    return stage_rows("medical", rows, period=period)


def run(*rules: str, period: str = PERIOD) -> ScreeningRun:
    """A synchronous run of ``rules`` (the inpatient rule by default) over what is staged."""
    return screening_run(actor=None, period=period, rule_slugs=list(rules or (INPATIENT,)))


def alerts_for(*households: Household, amount: int = 8000) -> dict[int, Alert]:
    """One inpatient alert per household (a new member's stay); alerts keyed by household id."""
    stage_medical([inpatient(patient(h), amount=amount, village=h.village_id) for h in households])
    run()
    return {
        a.household_id: a
        for a in Alert.objects.filter(household__in=households).select_related("rule")
    }
