"""Background import of uploaded department files, run by ``shouwang worker`` (django-tasks)."""

from __future__ import annotations

from django_tasks import task

from shouwang.screening.feeds.services import feed_batch_execute


@task()
def feed_batch_import_task(batch_id: int) -> int:
    feed_batch_execute(batch_id)
    return batch_id
