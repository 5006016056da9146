"""``shouwang worker``: work a stopped worker left half done is failed on start, then the
queue is worked off."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from shouwang.screening.choices import BatchStatus, RunStatus
from shouwang.screening.models import FeedBatch, FeedSource, ScreeningRun
from shouwang.screening.tasks import screening_run_submit

pytestmark = pytest.mark.django_db(transaction=True)


def test_worker_fails_interrupted_runs_and_imports_then_works_the_queue(
    settings, committed_divisions
):
    settings.TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend"}}
    run = ScreeningRun.objects.create(period="2026-10", status=RunStatus.RUNNING)
    batch = FeedBatch.objects.create(
        source=FeedSource.objects.get(slug="medical"),
        period="2026-10",
        file_name="医保.csv",
        file_sha256="c" * 64,
        status=BatchStatus.RUNNING,
    )
    queued = screening_run_submit(actor=None, period="2026-10")
    assert queued.status == RunStatus.QUEUED
    out = io.StringIO()
    call_command("worker", "--batch", stdout=out)
    queued.refresh_from_db()
    assert queued.status == RunStatus.SUCCEEDED  # worked off by the same command
    run.refresh_from_db()
    batch.refresh_from_db()
    assert run.status == RunStatus.FAILED
    assert batch.status == BatchStatus.FAILED and "重新上传" in batch.message
    assert "1 个比对运行因上次停止而中断" in out.getvalue()
    assert "1 个部门数据导入因上次停止而中断" in out.getvalue()
