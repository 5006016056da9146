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
from shouwang.screening.sources import ColumnSpec

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


def staged_feed_inputs(
    sources: dict[str, list[ColumnSpec]],
) -> tuple[dict[str, FeedInput], list[int], int]:
    """Every source of ``sources`` as an engine table (``feed_<slug>``) with its staged
    batches' Parquet files, and the ids and accepted row count of those batches.

    Only active sources contribute files; an inactive one is still a table, empty, so rules
    that read it compile and raise nothing. A staged file that has gone missing is logged
    and skipped rather than failing the run.
    """
    batch_ids: list[int] = []
    rows = 0
    paths: dict[str, list[Path]] = {}
    staged = FeedBatch.objects.filter(status=BatchStatus.STAGED, source__active=True)
    for batch_id, slug, parquet_path, accepted in staged.order_by("id").values_list(
        "id", "source__slug", "parquet_path", "rows_accepted"
    ):
        path = Path(parquet_path)
        if not parquet_path or not path.exists():
            logger.warning("staged file of feed batch %s is missing: %s", batch_id, parquet_path)
            continue
        paths.setdefault(slug, []).append(path)
        batch_ids.append(batch_id)
        rows += accepted
    feeds = {
        feed_table_name(slug): FeedInput(
            paths=tuple(paths.get(slug, ())), schema=feed_arrow_schema(columns)
        )
        for slug, columns in sorted(sources.items())
    }
    return feeds, batch_ids, rows
