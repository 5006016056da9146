"""``shouwang worker``: run queued background work and the monthly screening schedule.

The queue is django-tasks' database backend, so one machine needs no broker. A scheduler
thread checks once a minute whether this month's screening is due (policy parameter
``screening_day``) and queues it; the worker loop then runs it like any other task.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections
from django.utils.translation import gettext as _

from shouwang.screening.feeds.services import feed_batches_fail_interrupted, feed_batches_purge
from shouwang.screening.services import screening_runs_fail_interrupted
from shouwang.screening.tasks import monthly_screening_enqueue

logger = logging.getLogger(__name__)
SCHEDULE_INTERVAL_SECONDS = 60


def _schedule_loop(stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            monthly_screening_enqueue()
            feed_batches_purge()  # staged personal data is kept no longer than configured
        except Exception:  # the schedule must survive a bad tick; the next one retries
            logger.exception("monthly screening check failed")
        finally:
            close_old_connections()
        stop.wait(SCHEDULE_INTERVAL_SECONDS)


class Command(BaseCommand):
    help = _("后台任务：执行排队的导入和比对，并按月自动运行数据比对")

    def add_arguments(self, parser: Any) -> None:
        parser.add_argument("--no-schedule", action="store_true", help=_("不运行每月定时比对"))
        parser.add_argument(
            "--batch", action="store_true", help=_("执行完已排队的任务后退出（可用于定时任务）")
        )

    def handle(self, *args: Any, no_schedule: bool, batch: bool, **options: Any) -> None:
        interrupted = screening_runs_fail_interrupted()
        if interrupted:
            self.stdout.write(
                _("%(n)d 个比对运行因上次停止而中断，已标记为失败") % {"n": interrupted}
            )
        interrupted = feed_batches_fail_interrupted()
        if interrupted:
            self.stdout.write(
                _("%(n)d 个部门数据导入因上次停止而中断，已标记为失败，请重新上传")
                % {"n": interrupted}
            )
        stop = threading.Event()
        if not no_schedule and not batch:
            threading.Thread(
                target=_schedule_loop, args=(stop,), name="schedule", daemon=True
            ).start()
        try:
            call_command(
                "db_worker",
                queue_name="*",
                batch=batch,
                startup_delay=not batch,
                verbosity=options.get("verbosity", 1),
            )
        finally:
            stop.set()
