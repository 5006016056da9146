"""Background work of the screening app, run by ``shouwang worker`` (django-tasks, database queue)."""

from __future__ import annotations

import logging

from django.db import transaction
from django.utils import timezone
from django_tasks import task

from shouwang.core.models import User
from shouwang.screening.choices import Engine, RunStatus, RunTrigger
from shouwang.screening.models import ScreeningRun
from shouwang.screening.services import screening_run_create, screening_run_execute

logger = logging.getLogger(__name__)


@task()
def screening_run_task(run_id: int) -> int:
    run = ScreeningRun.objects.get(pk=run_id)
    if run.status != RunStatus.QUEUED:
        return run.pk  # already taken by another worker or cancelled
    screening_run_execute(run=run)
    return run.pk


def screening_run_submit(
    *,
    actor: User | None,
    engine: str = Engine.DUCKDB,
    period: str | None = None,
    rule_slugs: list[str] | None = None,
    trigger: str = RunTrigger.PAGE,
) -> ScreeningRun:
    """Record a run and queue it for the worker once the request's transaction commits."""
    run = screening_run_create(
        actor=actor, engine=engine, period=period, rule_slugs=rule_slugs, trigger=trigger
    )
    transaction.on_commit(lambda: screening_run_task.enqueue(run.pk))
    return run


def monthly_screening_due(today=None) -> bool:
    """True on or after the configured day when no scheduled run exists for this month yet."""
    from shouwang.policy.selectors import MissingPolicyValue, policy_value

    today = today or timezone.localdate()
    try:
        day = int(policy_value("screening_day"))
    except MissingPolicyValue:
        return False
    if today.day < max(1, min(day, 28)):
        return False
    month_start = today.replace(day=1)
    return not ScreeningRun.objects.filter(
        trigger=RunTrigger.SCHEDULE, created_at__date__gte=month_start
    ).exists()


def monthly_screening_enqueue(today=None) -> ScreeningRun | None:
    """The scheduler's tick: queue this month's run of all active rules when it is due."""
    if not monthly_screening_due(today):
        return None
    with transaction.atomic():
        run = screening_run_submit(actor=None, trigger=RunTrigger.SCHEDULE)
    logger.info("queued monthly screening run %s for %s", run.pk, run.period)
    return run
