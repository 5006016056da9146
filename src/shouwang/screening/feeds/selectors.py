"""Reads of feed sources and import batches.

Import batches are the district's business: district administrators and staff see them all, a
department officer those of the department's sources, township and village users none (they
see what the feeds raise, as alerts in their area).
"""

from __future__ import annotations

import logging
from pathlib import Path

from django.db.models import QuerySet

from shouwang.core.choices import Role
from shouwang.core.models import User
from shouwang.screening.choices import BatchStatus
from shouwang.screening.compiler import feed_table_name
from shouwang.screening.engines.base import FeedInput
from shouwang.screening.feeds.schema import feed_arrow_schema
from shouwang.screening.models import FeedBatch, FeedSource
from shouwang.screening.sources import ColumnsInvalid, parse_columns

logger = logging.getLogger(__name__)

#: Roles that see every source's import batches.
BATCH_VIEWERS = frozenset({Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF})


def _department_only(actor: User | None) -> str | None:
    """The department an officer is limited to; None when the actor is not limited to one."""
    if actor is None or actor.is_superuser or actor.role != Role.DEPARTMENT_OFFICER:
        return None
    return actor.department


def feed_source_list(*, actor: User | None, active: bool | None = None) -> QuerySet[FeedSource]:
    """Sources by slug; a department officer sees the department's own."""
    sources = FeedSource.objects.all()
    department = _department_only(actor)
    if department is not None:
        sources = sources.filter(department=department)
    if active is not None:
        sources = sources.filter(active=active)
    return sources.order_by("slug")


def feed_source_get(
    *, actor: User | None, slug: str | None = None, pk: int | None = None
) -> FeedSource:
    """One source by slug or id (FeedSource.DoesNotExist when missing or not visible)."""
    sources = feed_source_list(actor=actor)
    return sources.get(pk=pk) if pk is not None else sources.get(slug=slug)


def feed_batch_list(*, actor: User | None) -> QuerySet[FeedBatch]:
    """Import batches the actor may see, newest first."""
    batches = FeedBatch.objects.select_related("source", "actor").order_by("-created_at", "-id")
    if actor is None or actor.is_superuser or actor.role in BATCH_VIEWERS:
        return batches
    department = _department_only(actor)
    if department:
        return batches.filter(source__department=department)
    return batches.none()


def feed_batch_get(*, actor: User | None, pk: int) -> FeedBatch:
    """One batch (FeedBatch.DoesNotExist when missing or not visible)."""
    return feed_batch_list(actor=actor).get(pk=pk)


def feed_batch_latest(*, actor: User | None) -> dict[int, FeedBatch]:
    """The latest batch of each source the actor may see, by source id."""
    latest: dict[int, FeedBatch] = {}
    for batch in feed_batch_list(actor=actor).order_by("source_id", "-created_at", "-id"):
        latest.setdefault(batch.source_id, batch)
    return latest


def staged_feed_inputs() -> dict[str, FeedInput]:
    """Every active source as an engine table (``feed_<slug>``): its staged batches' Parquet
    files, maybe none, and the schema they share. Sources with an unusable column mapping are
    left out; a staged file that has gone missing is logged and skipped."""
    inputs: dict[str, FeedInput] = {}
    paths: dict[int, list[Path]] = {}
    staged = FeedBatch.objects.filter(status=BatchStatus.STAGED, source__active=True).order_by("id")
    for batch_id, source_id, parquet_path in staged.values_list("id", "source_id", "parquet_path"):
        path = Path(parquet_path)
        if not parquet_path or not path.exists():
            logger.warning("staged file of feed batch %s is missing: %s", batch_id, parquet_path)
            continue
        paths.setdefault(source_id, []).append(path)
    for source in FeedSource.objects.filter(active=True).order_by("slug"):
        try:
            columns = parse_columns(source.columns)
        except ColumnsInvalid:
            logger.warning("feed source %s has an invalid column mapping", source.slug)
            continue
        inputs[feed_table_name(source.slug)] = FeedInput(
            paths=tuple(paths.get(source.pk, ())), schema=feed_arrow_schema(columns)
        )
    return inputs
