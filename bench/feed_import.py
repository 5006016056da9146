"""Benchmark: stage a county's month of medical claims (5,000,000 CSV rows in GB18030).

    .venv/bin/python bench/feed_import.py                  # 5,000,000 rows, fresh SQLite
    .venv/bin/python bench/feed_import.py --rows 500000    # smaller
    .venv/bin/python bench/feed_import.py --keep           # keep the CSV, Parquet and rejects

Writes a deterministic medical feed in the layout departments send (a title line above the
header, GB18030, 500,000 people with about ten claims each, dates in the three usual spellings,
amounts with ``¥`` and thousands separators, villages as codes, short names or township +
village, and one row in a thousand with a damaged ID number), migrates a fresh SQLite database,
loads the divisions of 500156, then times ``stage_feed_file`` end to end (encoding detection,
reading, checking every row, blind indexes, Parquet) and prints rows/s and peak RSS.
The target on the 2-core reference machine is under 90 s for 5,000,000 rows.
"""

from __future__ import annotations

import argparse
import datetime as dt
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))

TARGET_SECONDS = 90


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--rows", type=int, default=5_000_000)
    parser.add_argument("--people", type=int, default=500_000)
    parser.add_argument("--seed", type=int, default=500156)
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary directory (CSV, Parquet, rejects)"
    )
    return parser.parse_args()


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def generate(
    path: Path, *, rows: int, people: int, villages: list[tuple[str, str, str]], seed: int
) -> int:
    """Write the CSV; returns the number of rows with a damaged ID (they must be rejected)."""
    import numpy as np

    from shouwang.core.idnumber import check_character, make_id_number

    rng = np.random.default_rng(seed)
    epoch = dt.date(1940, 1, 1)
    births = rng.integers(0, (dt.date(2020, 12, 31) - epoch).days, size=people)
    sequences = rng.integers(0, 1000, size=people)
    ids = [
        make_id_number("500156", epoch + dt.timedelta(days=int(b)), int(s))
        for b, s in zip(births, sequences, strict=True)
    ]
    surnames = list("冉刘陈王李张黄杨何罗周吴徐孙马朱胡郭")
    given = ["光", "秀", "明", "芳", "强", "丽", "军", "华", "勇", "艳", "英", "荣", "平", "德兰"]
    names = [
        surnames[int(a)] + given[int(b)] + given[int(c)]
        for a, b, c in zip(
            rng.integers(0, len(surnames), people),
            rng.integers(0, len(given), people),
            rng.integers(0, len(given), people),
            strict=True,
        )
    ]
    homes = rng.integers(0, len(villages), size=people)
    village_texts = []
    for code, township, village in villages:
        village_texts.append((code, village, f"{township}{village}", f"{township} {village}"))
    visit_types = ["住院", "普通门诊", "门诊特殊疾病", "门特", "门诊慢特病"]
    diagnoses = ["脑梗死", "高血压", "2型糖尿病", "慢性阻塞性肺疾病", "肺恶性肿瘤", "骨折", "肺炎"]
    month_start = dt.date(2025, 11, 1)
    damaged = 0
    chunk = 200_000
    with path.open("w", encoding="gb18030", newline="") as handle:
        handle.write("重庆市武隆区医疗保障局 2026 年 10 月医疗费用结算明细\r\n")
        handle.write(
            "序号,身份证号码,姓名,结算日期,就诊类别,医疗总费用,统筹支付金额,个人自付金额,"
            "主要诊断,所在村（社区）\r\n"
        )
        for offset in range(0, rows, chunk):
            n = min(chunk, rows - offset)
            who = rng.integers(0, people, size=n)
            days = rng.integers(0, 365, size=n)
            spelling = rng.integers(0, 10, size=n)
            totals = rng.integers(5_000, 8_000_000, size=n)  # cents
            shares = rng.integers(30, 90, size=n)
            visits = rng.integers(0, len(visit_types), size=n)
            diagnosis = rng.integers(0, len(diagnoses), size=n)
            place = rng.integers(0, 5, size=n)
            bad = rng.random(size=n) < 0.001
            lines = []
            for i in range(n):
                person = int(who[i])
                day = month_start + dt.timedelta(days=int(days[i]))
                if spelling[i] < 7:
                    date_text = day.isoformat()
                elif spelling[i] < 9:
                    date_text = f"{day.year}/{day.month}/{day.day}"
                else:
                    date_text = f"{day:%Y%m%d}"
                total = int(totals[i])
                reimbursed = total * int(shares[i]) // 100
                own = total - reimbursed
                id_text = ids[person]
                # What Excel leaves of a number column (one in eleven is valid by chance).
                if bad[i] and check_character(id_text[:15] + "00") != "0":
                    id_text = id_text[:15] + "000"
                    damaged += 1
                texts = village_texts[int(homes[person])]
                village = texts[int(place[i])] if place[i] < 4 else ""
                lines.append(
                    f"{offset + i + 1},{id_text},{names[person]},{date_text},"
                    f"{visit_types[int(visits[i])]},{total / 100:.2f},{reimbursed / 100:.2f},"
                    f'"¥{own / 100:,.2f}",{diagnoses[int(diagnosis[i])]},{village}\r\n'
                )
            handle.write("".join(lines))
    return damaged


def main() -> None:
    args = _parse_args()
    work = Path(tempfile.mkdtemp(prefix="shouwang-bench-feed-"))
    os.environ["SHOUWANG_VAR_DIR"] = str(work / "var")
    os.environ["DJANGO_SETTINGS_MODULE"] = "shouwang.settings.base"
    os.environ.pop("DATABASE_URL", None)

    import django

    django.setup()
    from django.db import connection

    try:
        run(args, work)
    finally:
        if args.keep:
            print(f"kept {work}")
        else:
            connection.close()
            shutil.rmtree(work, ignore_errors=True)


def run(args: argparse.Namespace, work: Path) -> None:
    from django.core.management import call_command
    from django.db import connection

    from shouwang.core.choices import DivisionLevel
    from shouwang.core.models import Division
    from shouwang.registry.io.columns import division_short_name
    from shouwang.screening.feeds.ingest import DivisionResolver, stage_feed_file
    from shouwang.screening.sources import DEFAULT_SOURCES

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("divisions", "load", "500156", stdout=open(os.devnull, "w"))
    print(f"database ready in {time.perf_counter() - started:.1f} s")

    villages = [
        (d.code, division_short_name(d.parent.name), division_short_name(d.name))
        for d in Division.objects.filter(
            level=DivisionLevel.VILLAGE, code__startswith="500156"
        ).select_related("parent")
    ]
    path = work / f"medical-{args.rows}.csv"
    started = time.perf_counter()
    # A child process writes the file, so the peak RSS below is the import's alone.
    connection.close()
    with multiprocessing.get_context("fork").Pool(1) as pool:
        damaged = pool.apply(
            generate,
            (path,),
            {"rows": args.rows, "people": args.people, "villages": villages, "seed": args.seed},
        )
    print(
        f"generated {args.rows:,} rows, {args.people:,} people ({path.stat().st_size / 2**20:,.0f} MiB, "
        f"GB18030) in {time.perf_counter() - started:.1f} s"
    )

    columns = list(next(s for s in DEFAULT_SOURCES if s.slug == "medical").columns)
    divisions = DivisionResolver.for_home_division()
    rss_before = _rss_mib()
    started = time.perf_counter()
    result = stage_feed_file(
        path=path,
        columns=columns,
        batch_id=1,
        period="2026-10",
        out_path=work / "1.parquet",
        rejects_path=work / "1.rejects.csv",
        divisions=divisions,
    )
    seconds = time.perf_counter() - started
    if result.file_error:
        sys.exit(f"file refused: {result.file_error}")
    verdict = "ok" if seconds < TARGET_SECONDS else f"OVER {TARGET_SECONDS} s"
    print(
        f"stage_feed_file: {result.rows_read:,} rows in {seconds:.1f} s = "
        f"{result.rows_read / seconds:,.0f} rows/s ({verdict}); accepted {result.rows_accepted:,}, "
        f"rejected {result.rows_rejected:,} (damaged IDs written: {damaged:,})"
    )
    print("phases: " + ", ".join(f"{name} {value:.1f} s" for name, value in result.timings.items()))
    print(
        f"peak RSS: {_rss_mib():,.0f} MiB (before staging {rss_before:,.0f} MiB); "
        f"Parquet {(work / '1.parquet').stat().st_size / 2**20:,.0f} MiB"
    )
    if result.rows_rejected != damaged or result.rows_accepted + damaged != args.rows:
        sys.exit("unexpected counts: " + repr(result.error_counts))


if __name__ == "__main__":
    main()
