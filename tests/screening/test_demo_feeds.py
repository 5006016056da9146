"""The demo's department feeds: staged through the importer, screened, and idempotent."""

from __future__ import annotations

import hashlib
import io
from collections import Counter

import pytest
from django.core.management import call_command

from shouwang.registry.demo import demo_build
from shouwang.registry.models import Household, Member
from shouwang.screening.choices import BatchStatus, RunStatus
from shouwang.screening.demo import DEMO_FEED_PERIOD, demo_feeds_build, demo_feeds_files
from shouwang.screening.models import Alert, FeedBatch, FeedSource, ScreeningRun
from shouwang.screening.services import screening_run
from shouwang.screening.sources import DEFAULT_SOURCE_SLUGS

pytestmark = pytest.mark.django_db

SMALL = 300
#: Rules the small demo's feeds (or, for the income rule, its registry) make fire.
EXPECTED_RULES = {
    "compulsory-school-dropout",
    "disaster-loss",
    "earner-death",
    "housing-unsafe",
    "income-below-line",
    "inpatient-out-of-pocket-month",
    "major-illness-new",
    "medical-out-of-pocket-12m",
    "only-earner-unemployed",
    "severe-disability-new",
    "social-assistance-granted",
    "social-assistance-revoked",
    "water-outage",
}


@pytest.fixture
def registry():
    demo_build(actor=None, households=SMALL)


def _digests(directory) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(directory.iterdir())}


def test_feeds_are_staged_and_screened_into_alerts_across_the_rules(registry):
    result = demo_feeds_build()

    assert result.files and {f.outcome for f in result.files} == {"staged"}
    assert {f.source for f in result.files} == set(DEFAULT_SOURCE_SLUGS)
    batches = FeedBatch.objects.filter(status=BatchStatus.STAGED)
    assert batches.count() == len(result.files) == result.staged
    assert all(b.rows_accepted > 0 for b in batches)
    assert {b.period for b in batches} == {"2026-09", DEMO_FEED_PERIOD}
    assert {b.file_name.rsplit(".", 1)[1] for b in batches} == {"csv", "xlsx"}
    assert result.rows_accepted == sum(b.rows_accepted for b in batches)
    # A mistyped ID and the "合计" line are rejected as the importer rejects them in real files.
    october = batches.get(source__slug="medical", period=DEMO_FEED_PERIOD)
    assert october.error_counts == {"id_number": 1, "total_row": 1}

    run = result.run
    assert run is not None and run.status == RunStatus.SUCCEEDED
    assert run.period == DEMO_FEED_PERIOD
    assert sorted(run.batches) == sorted(batches.values_list("id", flat=True))
    per_rule = Counter(Alert.objects.values_list("rule__slug", flat=True))
    assert set(per_rule) == EXPECTED_RULES
    assert run.alerts_new == sum(per_rule.values())

    # People the registry does not know: placed by the feed's village, or by the ID number.
    unregistered = Alert.objects.filter(unregistered=True)
    assert unregistered.filter(placed_by="feed").exists()
    assert unregistered.filter(placed_by="id_number").exists()
    assert not unregistered.filter(household__isnull=False).exists()
    evidence = Alert.objects.filter(rule__slug="inpatient-out-of-pocket-month").first().evidence
    assert evidence["rows"] and evidence["feed"] == "medical"

    # Most department rows are routine: few of them raise an alert.
    feed_alerts = sum(n for slug, n in per_rule.items() if slug != "income-below-line")
    assert feed_alerts < result.rows_accepted * 0.2


def test_rerun_recognises_the_files_and_raises_nothing_twice(registry):
    first = demo_feeds_build()
    batches = FeedBatch.objects.count()
    alerts = Alert.objects.count()

    again = demo_feeds_build()
    assert again.staged == 0 and again.already == len(first.files)
    assert [f.batch_id for f in again.files] == [f.batch_id for f in first.files]
    assert again.run is None  # nothing new to screen, and the period was screened
    assert FeedBatch.objects.count() == batches
    assert Alert.objects.count() == alerts

    rerun = screening_run(actor=None, period=DEMO_FEED_PERIOD)
    assert rerun.alerts_new == 0 and rerun.alerts_existing == alerts
    assert Alert.objects.count() == alerts


def test_files_depend_only_on_seed_period_and_registry(registry, tmp_path):
    for name in ("a", "b", "c"):
        (tmp_path / name).mkdir()
    demo_feeds_files(directory=tmp_path / "a")
    demo_feeds_files(directory=tmp_path / "b")
    demo_feeds_files(seed=7, directory=tmp_path / "c")
    first = _digests(tmp_path / "a")
    assert first == _digests(tmp_path / "b")
    assert len(first) == 17
    other = _digests(tmp_path / "c")
    assert other.keys() == first.keys() and all(other[k] != first[k] for k in first)
    # Departments' encodings: GB18030 from the medical system, a spreadsheet from housing.
    medical = (tmp_path / "a" / "医保结算明细-202610.csv").read_bytes()
    assert medical.decode("gb18030").startswith("武隆区城乡居民医疗费用结算明细")
    assert (tmp_path / "a" / "住建农房安全鉴定-202610.xlsx").read_bytes()[:2] == b"PK"


def test_an_inactive_source_is_left_out(registry):
    FeedSource.objects.filter(slug="water").update(active=False)
    result = demo_feeds_build()
    assert "water" not in {f.source for f in result.files}
    assert not Alert.objects.filter(rule__slug="water-outage").exists()


def test_command_builds_feeds_unless_told_not_to():
    out = io.StringIO()
    call_command("demo", households=80, no_feeds=True, stdout=out)
    assert Household.objects.count() == 80
    assert not FeedBatch.objects.exists() and not ScreeningRun.objects.exists()
    assert "部门数据" not in out.getvalue()

    out = io.StringIO()
    call_command("demo", households=80, stdout=out)
    text = out.getvalue()
    assert "部门数据：新导入 17 个文件" in text and "比对运行 #" in text
    assert FeedBatch.objects.filter(status=BatchStatus.STAGED).count() == 17
    assert Alert.objects.exists()

    # --if-empty leaves a registry that has households alone, feeds included.
    batches, alerts = FeedBatch.objects.count(), Alert.objects.count()
    out = io.StringIO()
    call_command("demo", households=80, if_empty=True, stdout=out)
    assert "未生成演示数据" in out.getvalue()
    assert (FeedBatch.objects.count(), Alert.objects.count()) == (batches, alerts)


def test_a_month_already_holding_demo_files_is_not_stacked(registry):
    first = demo_feeds_build()
    # The registry changed since (renamed people): the files differ, but the month has its
    # demo files already and counting its rows twice would double every sum.
    Member.objects.update(name="某某")
    again = demo_feeds_build()
    assert again.staged == 0 and again.already == len(first.files)
    assert FeedBatch.objects.count() == len(first.files)
