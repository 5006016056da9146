"""Household list and detail pages on the demo district (~15,000 households, ~50,000 members).

    .venv/bin/python bench/bench_list_page.py                  # SQLite in a new temporary folder
    .venv/bin/python bench/bench_list_page.py --var-dir var/bench   # build once, reuse afterwards
    .venv/bin/python bench/bench_list_page.py --database-url postgres://postgres@127.0.0.1:5432/shouwang_bench

Builds the demo district when the database has no households (``shouwang demo --if-empty``),
then requests the pages in-process with Django's test client, logged in (force_login) as the
district administrator and as the village cadre. For each case it prints p50/p95/max over N
requests and the number of queries one request makes. Target: list p95 under 150 ms.
"""

from __future__ import annotations

import argparse
import io
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import Timing, measure, setup_django  # noqa: E402

LIST_TARGET_MS = 150.0

#: (label, query string, extra headers) for the district administrator.
DISTRICT_CASES = [
    ("first page", "", {}),
    ("page 200", "page=200", {}),
    ("last page", "page=last", {}),
    ("monitoring_status=risk_unresolved", "monitoring_status=risk_unresolved", {}),
    ("township 火炉镇 + 脱贫户", "township=500156104&household_type=poverty_exited", {}),
    ("risk_type=illness, page 3", "risk_type=illness&page=3", {}),
    ("labour=lost (member EXISTS)", "labour=lost", {}),
    ("q=王 (name search)", "q=%E7%8E%8B", {}),
    (
        "htmx partial, monitoring_category=marginal",
        "monitoring_category=marginal",
        {"HTTP_HX_REQUEST": "true"},
    ),
]
VILLAGE_CASES = [
    ("first page", "", {}),
    ("page 3", "page=3", {}),
    ("monitoring_status=risk_eliminated", "monitoring_status=risk_eliminated", {}),
    ("q=李 (name search)", "q=%E6%9D%8E", {}),
]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--var-dir",
        type=Path,
        help="folder for the SQLite database and keys (default: a new temporary one)",
    )
    parser.add_argument("--database-url", default="", help="PostgreSQL URL instead of SQLite")
    parser.add_argument("--households", type=int, default=15_000)
    parser.add_argument("-n", "--requests", type=int, default=200, help="timed requests per case")
    args = parser.parse_args()

    var_dir = args.var_dir or Path(tempfile.mkdtemp(prefix="shouwang-bench-"))
    setup_django(var_dir=var_dir, database_url=args.database_url)

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.urls import reverse

    from shouwang.core.models import User
    from shouwang.registry.models import Household, Member

    print(f"database: {connection.vendor} {settings.DATABASES['default']['NAME']}")
    call_command("migrate", verbosity=0)
    started = time.monotonic()
    out = io.StringIO()
    call_command("demo", households=args.households, if_empty=True, stdout=out, verbosity=0)
    if "--if-empty" not in out.getvalue():
        print(f"demo district built in {time.monotonic() - started:.1f} s")
    print(
        f"households {Household.objects.count()}, members {Member.objects.count()}, "
        f"page size {settings.SHOUWANG_PAGE_SIZE}, {args.requests} requests per case\n"
    )

    list_url = reverse("registry:household_list")
    results: list[tuple[str, Timing]] = []
    for username, cases in (("demo-district", DISTRICT_CASES), ("demo-village", VILLAGE_CASES)):
        user = User.objects.get(username=username)
        client = Client()
        client.force_login(user)
        for label, query, headers in cases:
            url = f"{list_url}?{query}" if query else list_url

            def get(url: str = url, headers: dict = headers, client: Client = client) -> None:
                response = client.get(url, **headers)
                if response.status_code != 200:
                    raise SystemExit(f"{url} answered {response.status_code}")

            timing = measure(f"list   {username:<13} {label}", get, n=args.requests)
            results.append((timing.label, timing))
            print(timing.line(target_p95_ms=LIST_TARGET_MS), flush=True)

    print()
    district = Client()
    district.force_login(User.objects.get(username="demo-district"))
    for size in (1, 6):
        household = Household.objects.filter(member_count=size).order_by("household_number").first()
        if household is None:
            print(f"no household of {size} member(s)")
            continue
        url = reverse("registry:household_detail", args=[household.pk])

        def get_detail(url: str = url) -> None:
            response = district.get(url)
            if response.status_code != 200:
                raise SystemExit(f"{url} answered {response.status_code}")

        label = f"detail demo-district  {size}-member household {household.household_number}"
        print(measure(label, get_detail, n=max(20, args.requests // 4)).line(), flush=True)

    over = [label for label, timing in results if timing.p95 >= LIST_TARGET_MS]
    print(
        f"\nlist pages over the {LIST_TARGET_MS:.0f} ms p95 target: {', '.join(over) if over else 'none'}"
    )
    print(f"data kept in {var_dir}" if not args.database_url else "")


if __name__ == "__main__":
    main()
