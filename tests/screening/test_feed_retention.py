"""Staged department batches are kept for the configured months only: the purge deletes
older batches with their files (audited), and the staged files are the service user's."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from shouwang.core.models import AuditEvent
from shouwang.screening.feeds.services import feed_batches_purge, retention_cutoff
from shouwang.screening.models import FeedBatch
from tests import factories as f
from tests.screening.helpers import inpatient, patient, stage_medical

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("today", "months", "cutoff"),
    [
        (dt.date(2026, 12, 7), 24, "2024-12"),
        (dt.date(2026, 1, 31), 12, "2025-01"),
        (dt.date(2026, 3, 1), 3, "2025-12"),
    ],
)
def test_the_cutoff_is_the_oldest_period_kept(today, months, cutoff):
    assert retention_cutoff(today, months) == cutoff


def test_batches_older_than_the_retention_are_purged_with_their_files(settings):
    settings.SHOUWANG_FEED_RETENTION_MONTHS = 12
    household = f.make_household()
    old = stage_medical(
        [inpatient(patient(household), amount=8000, village=household.village_id)], period="2025-10"
    )
    recent = stage_medical(
        [inpatient(patient(household), amount=8000, village=household.village_id)], period="2026-10"
    )

    purged = feed_batches_purge(today=dt.date(2026, 12, 7))

    assert purged == 1
    assert list(FeedBatch.objects.values_list("pk", flat=True)) == [recent.pk]
    assert Path(recent.parquet_path).exists()
    assert AuditEvent.objects.filter(
        target_type="screening.feedbatch", target_id=str(old.pk), action="delete"
    ).exists()
