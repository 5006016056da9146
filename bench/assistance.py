"""Assistance at county scale: planning throughput, the measure lists and the coverage report.

    .venv/bin/python bench/assistance.py                       # SQLite in a new temporary folder
    .venv/bin/python bench/assistance.py --monitor 20000       # a county with 20,000 more monitored
    .venv/bin/python bench/assistance.py --database-url postgres://postgres@127.0.0.1:5432/shouwang_bench_assist

Builds the demo district when the database has no households (its monitored households get
plans from the rules), then with ``--monitor N`` turns N more households into monitoring
objects (risk types rotated through the list, as a bulk update) and plans them through
``plan_households`` (the rules' proposals accepted by the real services, delivery moved
along), timing that as plans per second. Then it requests the pages in-process, logged in
as the district administrator, the township and the 医保局 officer, and prints p50/p95/max
with the queries one request makes; and times the coverage export.

Targets: plan-measure lists p95 under 150 ms; the coverage overview under 1 s.
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import itertools
import resource
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import measure, setup_django  # noqa: E402

LIST_TARGET_MS = 150.0
COVERAGE_TARGET_MS = 1000.0


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--var-dir", type=Path, help="SQLite folder (default: a new temporary one)")
    parser.add_argument("--database-url", default="", help="PostgreSQL URL instead of SQLite")
    parser.add_argument(
        "--monitor", type=int, default=0, help="more households to monitor and plan"
    )
    parser.add_argument("-n", "--requests", type=int, default=50, help="timed requests per page")
    args = parser.parse_args()

    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="shouwang-bench-"))
    setup_django(var_dir=var_dir, database_url=args.database_url)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client
    from django.urls import reverse
    from django.utils import timezone

    from shouwang.assistance.coverage import coverage_export
    from shouwang.assistance.demo import plan_households
    from shouwang.assistance.models import Plan, PlanMeasure
    from shouwang.assistance.selectors import household_proposals
    from shouwang.core.models import User
    from shouwang.registry.choices import (
        HouseholdType,
        MonitoringCategory,
        MonitoringStatus,
        RiskType,
    )
    from shouwang.registry.models import Household

    print(f"database: {connection.vendor} {settings.DATABASES['default']['NAME']}")
    call_command("migrate", verbosity=0)
    started = time.monotonic()
    call_command("demo", if_empty=True, stdout=io.StringIO(), verbosity=0)
    print(f"demo district ready in {time.monotonic() - started:.1f} s")
    today = timezone.localdate()

    if args.monitor:
        candidates = list(
            Household.objects.filter(
                monitoring_status=MonitoringStatus.NOT_MONITORED, member_count__gt=0
            )
            .order_by("household_number")
            .values_list("pk", flat=True)[: args.monitor]
        )
        risks = itertools.cycle([r for r in RiskType.values if r != RiskType.OTHER])
        with transaction.atomic():
            for pk in candidates:
                Household.objects.filter(pk=pk).update(
                    household_type=HouseholdType.MONITORED,
                    monitoring_category=MonitoringCategory.MARGINAL,
                    monitoring_status=MonitoringStatus.RISK_UNRESOLVED,
                    identified_month=(today - dt.timedelta(days=200)).strftime("%Y%m"),
                    risk_type_1=next(risks),
                )
        households = Household.objects.filter(pk__in=candidates).order_by("household_number")
        started = time.monotonic()
        with transaction.atomic():
            result = plan_households(households, today=today, seed=7)
        seconds = time.monotonic() - started
        print(
            f"planned {result.plans} more households ({result.measures} measures, "
            f"{result.delivered} delivered) in {seconds:.1f} s: {result.plans / seconds:.0f} plans/s"
        )

    monitored = Household.objects.exclude(monitoring_status=MonitoringStatus.NOT_MONITORED).count()
    print(
        f"households {Household.objects.count()}, monitored {monitored}, plans "
        f"{Plan.objects.count()}, plan measures {PlanMeasure.objects.count()}\n"
    )

    sample = list(
        Household.objects.filter(monitoring_status=MonitoringStatus.RISK_UNRESOLVED).order_by("?")[
            :200
        ]
    )
    started = time.perf_counter()
    for household in sample:
        household_proposals(household=household, today=today)
    per = (time.perf_counter() - started) * 1000 / max(1, len(sample))
    print(
        f"{'household_proposals (one household, rules from the database)':<64} {per:7.1f} ms each\n"
    )

    pages = [
        ("demo-district", "plan measures, first page", reverse("assistance:index"), LIST_TARGET_MS),
        ("demo-district", "overdue measures", reverse("assistance:overdue"), LIST_TARGET_MS),
        ("demo-dept", "医保局 measures, first page", reverse("assistance:index"), LIST_TARGET_MS),
        ("demo-township", "plan measures, township", reverse("assistance:index"), LIST_TARGET_MS),
        (
            "demo-district",
            "coverage overview (per township)",
            reverse("coverage:overview"),
            COVERAGE_TARGET_MS,
        ),
        (
            "demo-township",
            "coverage overview (per village)",
            reverse("coverage:overview"),
            COVERAGE_TARGET_MS,
        ),
        ("demo-district", "home page with the coverage card", reverse("home"), COVERAGE_TARGET_MS),
        (
            "demo-district",
            "coverage problems: uncovered risks",
            reverse("coverage:problems", args=["uncovered"]),
            COVERAGE_TARGET_MS,
        ),
    ]
    over = []
    for username, label, url, target in pages:
        client = Client()
        client.force_login(User.objects.get(username=username))

        def get(url: str = url, client: Client = client) -> None:
            response = client.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")

        timing = measure(f"{username:<13} {label}", get, n=args.requests, warmup=2)
        print(timing.line(target_p95_ms=target), flush=True)
        if timing.p95 >= target:
            over.append(timing.label)

    admin = User.objects.get(username="demo-district")
    target = var_dir / "coverage.xlsx"
    started = time.monotonic()
    rows = coverage_export(actor=admin, path=target)
    print(
        f"\ncoverage export (xlsx, district): {time.monotonic() - started:.2f} s, "
        f"{target.stat().st_size / 1024:.0f} KiB, rows {rows}"
    )
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak RSS {peak:.0f} MiB")
    print(f"pages over their p95 target: {', '.join(over) if over else 'none'}")
    print(f"data kept in {var_dir}" if not args.database_url else "")


if __name__ == "__main__":
    main()
