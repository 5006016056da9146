"""Assistance plans for the Wulong demo district, made through the real services from what
the recommendation rules propose, so the plan pages, the department lists, the overdue list
and the coverage figures have something to show on a fresh ``make run``.

The spread is deliberately imperfect, as in a real district: some households have no plan
yet, a few labour-capable ones were given only the backstop, and some measures are late.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from shouwang.assistance.choices import MeasureStatus
from shouwang.assistance.models import Plan
from shouwang.assistance.selectors import household_proposals
from shouwang.assistance.services import plan_accept, plan_measure_progress
from shouwang.registry.choices import MonitoringStatus
from shouwang.registry.demo import DEMO_SEED
from shouwang.registry.models import Household

#: Shares of monitored households left without a plan, and planned without development help.
WITHOUT_PLAN = 0.08
WITHOUT_DEVELOPMENT = 0.04


@dataclass
class DemoAssistanceResult:
    plans: int = 0
    measures: int = 0
    delivered: int = 0
    overdue: int = 0
    skipped: bool = False


@transaction.atomic
def demo_assistance_build(
    *,
    today: dt.date | None = None,
    seed: int = DEMO_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> DemoAssistanceResult:
    """Plans for the demo's monitored households whose risk is not yet eliminated, with
    delivery under way. Does nothing when plans exist already."""
    if Plan.objects.exists():
        return DemoAssistanceResult(skipped=True)
    today = today or timezone.localdate()
    households = list(
        Household.objects.filter(monitoring_status=MonitoringStatus.RISK_UNRESOLVED)
        .select_related("village")
        .order_by("household_number")
    )
    result = DemoAssistanceResult()
    for done, household in enumerate(households, start=1):
        rng = random.Random(f"{seed}:{household.household_number}")
        if rng.random() < WITHOUT_PLAN:
            continue
        proposals = household_proposals(household=household, today=today)
        if rng.random() < WITHOUT_DEVELOPMENT:
            proposals = [p for p in proposals if not p.measure.development] or proposals
        if not proposals:
            continue
        started = today - dt.timedelta(days=rng.randint(10, 200))
        items = [
            {
                "measure": p.measure,
                "member": p.member,
                "rule": p.rule,
                "reason": p.reason,
                "planned_start": started,
                "planned_end": started + dt.timedelta(days=rng.choice((30, 60, 90, 180))),
            }
            for p in proposals
        ]
        plan = plan_accept(actor=None, household=household, items=items, today=started)
        result.plans += 1
        for pm in plan.measures.all():
            result.measures += 1
            roll = rng.random()
            if pm.planned_end < today:
                if roll < 0.7:
                    finished = min(today, pm.planned_end - dt.timedelta(days=rng.randint(0, 20)))
                    finished = max(finished, pm.planned_start)
                    plan_measure_progress(
                        actor=None,
                        plan_measure=pm,
                        status=MeasureStatus.DELIVERED,
                        data={"actual_start": pm.planned_start, "actual_end": finished},
                        today=today,
                    )
                    result.delivered += 1
                    continue
                result.overdue += 1
                if roll < 0.85:
                    plan_measure_progress(
                        actor=None,
                        plan_measure=pm,
                        status=MeasureStatus.IN_PROGRESS,
                        data={"actual_start": pm.planned_start},
                        today=today,
                    )
            elif roll < 0.3:
                plan_measure_progress(
                    actor=None,
                    plan_measure=pm,
                    status=MeasureStatus.IN_PROGRESS,
                    data={"actual_start": pm.planned_start},
                    today=today,
                )
        if progress is not None:
            progress(done, len(households))
    return result
