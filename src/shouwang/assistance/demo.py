"""Assistance plans for the Wulong demo district, made through the real services from what
the recommendation rules propose, so the plan pages, the department lists, the overdue list
and the coverage figures have something to show on a fresh ``make run``.

The spread is deliberately imperfect, as in a real district: some households have no plan
yet, a few labour-capable ones were given only the backstop, and some measures are late.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from shouwang.assistance.choices import MeasureStatus
from shouwang.assistance.models import Measure, Plan, PlanMeasure
from shouwang.assistance.selectors import household_proposals
from shouwang.assistance.services import plan_accept, plan_measure_progress
from shouwang.assistance.social_services import matches_propose, offer_save
from shouwang.core.models import Division
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
    offers: int = 0
    proposed_matches: int = 0
    skipped: bool = False


@dataclass(frozen=True)
class DemoOffer:
    organisation: str
    organisation_kind: str
    programme: str
    kind: str
    measure: tuple[str, str]  # (group code, measure name)
    title: str
    division: str | None
    place_note: str
    capacity: int
    amount_per_household: str | None = None


#: Offers of the kind the district's 万企兴万村 and 鲁渝协作 desks register; names invented.
DEMO_OFFERS = (
    DemoOffer(
        "武隆喀斯特旅游服务有限公司",
        "company",
        "wanqi_xingwancun",
        "job",
        ("employment", "帮扶车间就业"),
        "景区保洁、售票岗位，月薪 2800 元起",
        "500156000000",
        "仙女山景区",
        8,
    ),
    DemoOffer(
        "山东某纺织集团（鲁渝协作）",
        "paired_region",
        "luyu",
        "job",
        ("social", "鲁渝协作就业岗位"),
        "纺织车间操作工，包吃住，月薪 4500 元起",
        None,
        "山东省（鲁渝协作劳务输出）",
        20,
    ),
    DemoOffer(
        "火炉镇高山蔬菜专业合作社",
        "company",
        "wanqi_xingwancun",
        "purchase",
        ("social", "消费帮扶（农产品采购）"),
        "保底价收购高山蔬菜、土豆",
        "500156104000",
        "",
        15,
        "1500",
    ),
    DemoOffer(
        "武隆区慈善会",
        "social_organisation",
        "other",
        "donation",
        ("social", "社会捐赠"),
        "大病患者家庭慰问金",
        "500156000000",
        "",
        10,
        "2000",
    ),
)


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
    households = Household.objects.filter(
        monitoring_status=MonitoringStatus.RISK_UNRESOLVED
    ).order_by("household_number")
    result = plan_households(households, today=today, seed=seed, progress=progress)
    _offers(result, today)
    return result


def _offers(result: DemoAssistanceResult, today: dt.date) -> None:
    """Register the demo offers and let the district propose matches for each, left for the
    cadres to confirm."""
    for demo in DEMO_OFFERS:
        offer = offer_save(
            actor=None,
            data={
                "organisation": demo.organisation,
                "organisation_kind": demo.organisation_kind,
                "programme": demo.programme,
                "kind": demo.kind,
                "measure": Measure.objects.get(group__code=demo.measure[0], name=demo.measure[1]),
                "title": demo.title,
                "division": Division.objects.filter(code=demo.division).first()
                if demo.division
                else None,
                "place_note": demo.place_note,
                "capacity": demo.capacity,
                "amount_per_household": Decimal(demo.amount_per_household)
                if demo.amount_per_household
                else None,
                "valid_until": today + dt.timedelta(days=180),
                "contact": "",
            },
        )
        result.offers += 1
        result.proposed_matches += len(matches_propose(actor=None, offer=offer, today=today))


def plan_households(
    households: Iterable[Household],
    *,
    today: dt.date,
    seed: int = DEMO_SEED,
    progress: Callable[[int, int], None] | None = None,
) -> DemoAssistanceResult:
    """Accept what the rules propose for each household and move delivery along, with a
    spread decided by a random generator seeded per household (the same every run)."""
    households = list(households)
    result = DemoAssistanceResult()
    for done, household in enumerate(households, start=1):
        if progress is not None:
            progress(done, len(households))
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
            _move_along(pm, rng, today, result)
    return result


def _move_along(
    pm: PlanMeasure, rng: random.Random, today: dt.date, result: DemoAssistanceResult
) -> None:
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
            return
        result.overdue += 1
        if roll >= 0.85:
            return  # late and not even started
    elif roll >= 0.3:
        return  # planned, not due yet
    plan_measure_progress(
        actor=None,
        plan_measure=pm,
        status=MeasureStatus.IN_PROGRESS,
        data={"actual_start": pm.planned_start},
        today=today,
    )
