"""Benchmark: screening at county and province scale, beside a bare DuckDB query.

    .venv/bin/python bench/screening.py                       # county, then province
    .venv/bin/python bench/screening.py --scale county        # fresh SQLite in a temp dir
    DATABASE_URL=postgres://postgres@127.0.0.1:5432/shouwang_bench_screening \\
        .venv/bin/python bench/screening.py --scale county    # scratch PostgreSQL, dropped and made again
    .venv/bin/python bench/screening.py --scale province --memory-limit 4GB

County: 500,000 persons in 150,000 households of Wulong's 214 villages, 60,000 more people with
Wulong ID numbers who are not registered, and 5,000,000 feed rows in the ten default sources
(one batch per source and month, twelve months ending with ``--period``). The registry goes
into a fresh database (migrated, divisions of 500156 loaded) with raw INSERT/COPY, real ID
ciphertexts and blind indexes; the feeds are staged Parquet files as the importer writes them,
with their FeedBatch rows. Then ``screening_run`` (snapshot, every default rule, alerts
written) is timed twice: the second run raises no new alerts.

Province: 20,000,000 persons in 6,000,000 households of Chongqing's 11,270 villages, 2,400,000
unregistered people, 100,000,000 feed rows. No database holds the registry: the rules are
compiled as in a run and the DuckDB engine runs them on the snapshot's Parquet files
(``ParquetTable``; ``--snapshot arrow`` reads them into Arrow first, as a county run hands
over its snapshot). ``--memory-limit`` sets DuckDB's memory_limit here (default: DuckDB's).

Beside each, a bare DuckDB query over the same Parquet files does what a hand-written script
would: feed rows joined to persons, summed per household, compared to a threshold, once over
every person feed and once over the medical feed alone (best of ``--repeat``).

Generated data is cached under ``--data-dir`` (default var/bench/screening; the province takes
about 6 GB of disk and 4 minutes to make), so reruns skip generation. Each measurement runs in
a fresh process, so its peak RSS (getrusage, DuckDB's memory included) is its own; CPU time
(all threads) is printed beside wall time because the figures move with other load. Targets:
county end to end under 5 s and within 3x of the bare query; province under 60 s and 6 GB.
"""

from __future__ import annotations

import argparse
import calendar
import concurrent.futures
import csv
import datetime as dt
import gzip
import hashlib
import json
import multiprocessing
import os
import resource
import shutil
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "src"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from common import setup_django  # noqa: E402

#: Bump when the generator changes, so cached data is made again.
GENERATOR_VERSION = 2
DIVISIONS = REPO / "src" / "shouwang" / "core" / "data" / "divisions"
DEFAULT_PERIOD = "2026-10"
MONTHS = 12
TARGET_COUNTY_SECONDS = 5.0
TARGET_COUNTY_RATIO = 3.0
TARGET_PROVINCE_SECONDS = 60.0
TARGET_PROVINCE_GIB = 6.0


@dataclass(frozen=True)
class Scale:
    name: str
    persons: int
    households: int
    #: People in the feeds who are not in the registry (the "possible new monitoring objects").
    unregistered: int
    feed_rows: int
    #: Address-code prefix of the villages households live in.
    area: str
    #: County: the registry goes into the database (from population.parquet); province: the
    #: snapshot is read from Parquet only.
    registry_in_database: bool

    def shrunk(self, factor: int) -> Scale:
        if factor <= 1:
            return self
        return replace(
            self,
            persons=self.persons // factor,
            households=self.households // factor,
            unregistered=self.unregistered // factor,
            feed_rows=self.feed_rows // factor,
        )


COUNTY = Scale("county", 500_000, 150_000, 60_000, 5_000_000, "500156", True)
PROVINCE = Scale("province", 20_000_000, 6_000_000, 2_400_000, 100_000_000, "50", False)

#: Share of the feed rows per source: medical claims dominate, as in practice.
SOURCE_SHARES = {
    "medical": 0.70,
    "education": 0.09,
    "employment": 0.08,
    "social-assistance": 0.05,
    "civil-registration": 0.024,
    "housing": 0.022,
    "disability": 0.018,
    "disaster": 0.014,
    "illness": 0.0016,
    "water": 0.0004,
}
#: What a hand-written script would sum per source (None: count the rows).
BARE_MEASURES = {
    "medical": "out_of_pocket",
    "social-assistance": "amount",
    "education": "out_of_pocket",
    "disaster": "loss_amount",
}

SURNAMES = "冉刘陈王李张黄杨何罗谭周吴徐孙马朱胡郭林"
GIVEN = "光秀明芳强丽军华勇艳英荣平兰辉志红春桂琴"
DIAGNOSES = [
    "高血压",
    "2型糖尿病",
    "慢性阻塞性肺疾病",
    "冠心病",
    "脑梗死",
    "肺炎",
    "骨折",
    "肺癌",
    "胃癌",
    "尿毒症",
]
DISEASES = ["恶性肿瘤", "尿毒症", "白血病", "重性精神病", "耐多药肺结核", "先天性心脏病", "血友病"]
HOSPITALS = [
    "武隆区人民医院",
    "武隆区中医院",
    "重庆医科大学附属第一医院",
    "陆军军医大学第一附属医院",
]
DISABILITY_TYPES = ["视力", "听力", "言语", "肢体", "智力", "精神", "多重"]
EMPLOYERS = [
    "武隆区建筑公司",
    "仙女山旅游公司",
    "江苏昆山电子厂",
    "广东东莞制衣厂",
    "本地农业合作社",
]
SCHOOLS = ["武隆区实验小学", "巷口中学", "火炉镇中心校", "武隆中学", "武隆职教中心"]
WATER_CAUSES = ["管网维修", "水源干涸", "停电", "管道冻裂", "水毁"]


def _rss_gib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20  # kilobytes on Linux


def _cpu_seconds() -> float:
    """CPU time of this process, all threads: steadier than wall time on a shared machine."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


# --- where things are --------------------------------------------------------------------


@dataclass(frozen=True)
class Layout:
    root: Path

    @property
    def manifest(self) -> Path:
        return self.root / "manifest.json"

    @property
    def population(self) -> Path:
        return self.root / "population.parquet"

    @property
    def persons(self) -> Path:
        return self.root / "registry" / "persons.parquet"

    @property
    def households(self) -> Path:
        return self.root / "registry" / "households.parquet"

    def feed(self, slug: str, batch_id: int) -> Path:
        return self.root / "feeds" / slug / f"{batch_id:04d}.parquet"


def period_months(period: str) -> list[tuple[int, int]]:
    """The ``MONTHS`` calendar months ending with ``period``, oldest first."""
    year, month = (int(part) for part in period.split("-"))
    last = year * 12 + month - 1
    return [(index // 12, index % 12 + 1) for index in range(last - MONTHS + 1, last + 1)]


def villages_of(area: str) -> list[str]:
    """12-digit village codes under an address-code prefix, from the divisions Shouwang ships."""
    with gzip.open(DIVISIONS / "villages.csv.gz", "rt", encoding="utf-8") as handle:
        return sorted(row["code"] for row in csv.DictReader(handle) if row["code"].startswith(area))


# --- ID numbers and blind indexes ---------------------------------------------------------


def id_numbers(regions, births, sequences):
    """Valid ID numbers as a numpy ``S18`` array: what ``make_id_number`` builds, vectorised
    (a million at a time: the digit matrix of 20 million would take 3 GB)."""
    import numpy as np

    step = 1 << 20
    return np.concatenate(
        [
            _id_numbers(regions[i : i + step], births[i : i + step], sequences[i : i + step])
            for i in range(0, len(births), step)
        ]
        or [np.empty(0, dtype="S18")]
    )


def _id_numbers(regions, births, sequences):
    import numpy as np

    from shouwang.core.idnumber import CHECK_CHARS, WEIGHTS

    n = len(births)
    digits = np.empty((n, 17), dtype=np.int64)
    digits[:, :6] = np.frombuffer(np.asarray(regions, dtype="S6").tobytes(), np.uint8).reshape(
        n, 6
    ) - ord("0")
    years = births.astype("datetime64[Y]").astype(np.int64) + 1970
    months = births.astype("datetime64[M]").astype(np.int64) % 12 + 1
    days = (births - births.astype("datetime64[M]")).astype(np.int64) + 1
    stamp = years * 10000 + months * 100 + days
    for i in range(8):
        digits[:, 6 + i] = stamp // 10 ** (7 - i) % 10
    for i in range(3):
        digits[:, 14 + i] = sequences // 10 ** (2 - i) % 10
    checks = np.frombuffer(CHECK_CHARS.encode(), np.uint8)[(digits @ np.array(WEIGHTS)) % 11]
    chars = np.empty((n, 18), dtype=np.uint8)
    chars[:, :17] = digits + ord("0")
    chars[:, 17] = checks
    return chars.view("S18").ravel()


def _blind_index_chunk(raw: bytes) -> list[str]:
    from shouwang.core.crypto import blind_index

    return [blind_index(raw[i : i + 18].decode()) for i in range(0, len(raw), 18)]


def _worker_setup(var_dir: str) -> None:
    setup_django(var_dir=Path(var_dir))


def blind_indexes(ids, *, var_dir: Path) -> Any:
    """``crypto.blind_index`` of every ID, on every core when there are millions."""
    import pyarrow as pa

    chunk = 500_000
    pieces = [ids[start : start + chunk].tobytes() for start in range(0, len(ids), chunk)]
    if len(ids) <= 2_000_000:
        return pa.array([v for piece in pieces for v in _blind_index_chunk(piece)], pa.string())
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(
        max_workers=os.cpu_count() or 2,
        mp_context=context,
        initializer=_worker_setup,
        initargs=(str(var_dir),),
    ) as pool:
        return pa.chunked_array(
            [pa.array(values, pa.string()) for values in pool.map(_blind_index_chunk, pieces)]
        ).combine_chunks()


def id_sequences(keys, male):
    """The 3-digit sequence of each ID: unique per (address code, birth date), odd for men."""
    import numpy as np

    n = len(keys)
    order = np.argsort(keys, kind="stable")
    ordered = keys[order]
    starts = np.r_[True, ordered[1:] != ordered[:-1]]
    group_start = np.maximum.accumulate(np.where(starts, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - group_start
    if rank.max() >= 500:
        raise RuntimeError("too many people born on one day in one county for 3-digit sequences")
    return rank * 2 + male.astype(np.int64)


# --- the population ------------------------------------------------------------------------


def _days(date: dt.date) -> int:
    return (date - dt.date(1970, 1, 1)).days


def make_population(scale: Scale, *, seed: int, period: str, var_dir: Path) -> dict[str, Any]:
    """Households and people, registered and not; arrays in person order (registered first)."""
    import numpy as np
    import pyarrow as pa

    from shouwang.core.idnumber import make_id_number

    rng = np.random.default_rng(seed)
    villages = np.array(villages_of(scale.area), dtype="S12")
    regions, village_region = np.unique(villages.astype("S6"), return_inverse=True)
    h, p, u = scale.households, scale.persons, scale.unregistered
    n = p + u
    year, month = (int(part) for part in period.split("-"))
    as_of = _days(dt.date(year, month, calendar.monthrange(year, month)[1]))

    # Every household has a head; the other members are spread at random (3.3 a household).
    household_of = np.concatenate([np.arange(h), rng.integers(0, h, p - h)])
    order = np.argsort(household_of, kind="stable")
    household_of = household_of[order]
    is_head = np.zeros(p, dtype=bool)
    is_head[:h] = True
    is_head = is_head[order]
    household_village = rng.integers(0, len(villages), h)

    age_days = np.where(
        np.concatenate([is_head, np.zeros(u, dtype=bool)]),
        rng.integers(25 * 365, 85 * 365, n),
        rng.integers(0, 88 * 365, n),
    )
    birth_days = as_of - age_days
    births = birth_days.astype("datetime64[D]")
    male = np.where(
        np.concatenate([is_head, np.zeros(u, dtype=bool)]),
        rng.random(n) < 0.85,
        rng.random(n) < 0.5,
    )
    village = np.concatenate([household_village[household_of], rng.integers(0, len(villages), u)])
    region = village_region[village]
    sequences = id_sequences(region * 100_000 + (birth_days + 40_000), male)
    ids = id_numbers(regions[region], births, sequences)
    for i in range(0, n, max(1, n // 7)):  # the vectorised IDs are make_id_number's
        expected = make_id_number(
            regions[region[i]].decode(), births[i].astype(dt.date), int(sequences[i])
        )
        assert ids[i].decode() == expected, (ids[i], expected)
    person_index = blind_indexes(ids, var_dir=var_dir)

    age_years = age_days // 365
    registered = np.arange(n) < p
    labour = registered & (age_years >= 16) & (age_years <= 60) & (rng.random(n) < 0.8)
    names = [s + g1 + g2 for s in SURNAMES for g1 in GIVEN for g2 in ("", "英", "荣", "平", "华")]

    household_id = np.full(n, -1, dtype=np.int64)
    household_id[:p] = household_of + 1
    member_id = np.full(n, -1, dtype=np.int64)
    member_id[:p] = np.arange(1, p + 1)

    def pick(values, index):  # strings by position, without a numpy array of n strings
        return pa.array(values).take(pa.array(index))

    population = pa.table(
        {
            "person_index": person_index,
            "birth_date": pa.array(births),
            "sex": pick(["female", "male"], male.astype(np.int8)),
            "id_region": pick(regions.astype(str), region),
            "id_seq": pa.array(sequences.astype(np.int16)),
            "household_id": pa.array(household_id, mask=~registered),
            "member_id": pa.array(member_id, mask=~registered),
            "head": pa.array(np.concatenate([is_head, np.zeros(u, dtype=bool)])),
            "labour_capable": pa.array(labour),
            "village_code": pick(villages.astype(str), village),
            "name": pick(names, rng.integers(0, len(names), n)),
        }
    )

    # Households: 60 % poverty-exited, 6 % monitored; risk unresolved or eliminated for those
    # monitored; per-capita incomes around 16,000 yuan, so about 2 % fall under the line.
    kind = rng.random(h)
    household_type = np.where(kind < 0.06, 0, np.where(kind < 0.66, 1, 2))
    monitored = kind < 0.075  # the monitored type, and unstable poverty-exited households
    status = np.where(monitored, np.where(rng.random(h) < 0.5, 1, 2), 0)
    income = np.where(
        monitored,
        rng.lognormal(np.log(10_500), 0.25, h),
        rng.lognormal(np.log(16_000), 0.27, h),
    )
    member_count = np.bincount(household_of, minlength=h)
    labour_count = np.bincount(household_of, weights=labour[:p], minlength=h).astype(np.int64)
    households = pa.table(
        {
            "household_id": pa.array(np.arange(1, h + 1)),
            "village_code": pick(villages.astype(str), household_village),
            "household_type": pick(["monitored", "poverty_exited", "ordinary"], household_type),
            "monitoring_status": pick(
                ["not_monitored", "risk_unresolved", "risk_eliminated"], status
            ),
            "labour_count": pa.array(labour_count),
            "member_count": pa.array(member_count.astype(np.int64)),
            "per_capita_net_income": decimal_array(np.round(income * 100).astype(np.int64), 14),
            "income_year": pa.array(np.full(h, year - 1, dtype=np.int64)),
        }
    )
    return {"population": population, "households": households, "age_years": age_years}


def decimal_array(cents, precision: int = 18):
    """A decimal128(precision, 2) array from int64 cents, without Python objects."""
    import numpy as np
    import pyarrow as pa

    words = np.empty((len(cents), 2), dtype=np.int64)
    words[:, 0] = cents
    words[:, 1] = cents >> 63  # two's complement sign extension
    return pa.Array.from_buffers(
        pa.decimal128(precision, 2), len(cents), [None, pa.py_buffer(words)]
    )


# --- the feeds -----------------------------------------------------------------------------

#: Rows generated at a time; staged files are written as the importer writes them: zstd, and
#: a row group per chunk it reads (about 150,000 rows of CSV).
CHUNK_ROWS = 1 << 20
ROW_GROUP_ROWS = 1 << 17
COMPRESSION = "zstd"


@dataclass
class Picker:
    """Who appears in a feed row: positions in the population (registered people first)."""

    rng: Any
    registered: int
    everyone: int
    frequent: Any  # a quarter of the people, with chronic conditions: most claims are theirs
    students: Any  # aged 6 to 22
    workers: Any  # aged 16 to 60
    heads: Any  # household heads, and unregistered adults

    @classmethod
    def build(cls, rng, *, registered: int, age_years, heads) -> Picker:
        import numpy as np

        everyone = len(age_years)
        return cls(
            rng=rng,
            registered=registered,
            everyone=everyone,
            frequent=np.flatnonzero(rng.random(everyone) < 0.25),
            students=np.flatnonzero((age_years >= 6) & (age_years <= 22)),
            workers=np.flatnonzero((age_years >= 16) & (age_years <= 60)),
            heads=np.flatnonzero(heads | ((np.arange(everyone) >= registered) & (age_years >= 18))),
        )

    def pick(self, kind: str, n: int):
        import numpy as np

        rng = self.rng
        if kind == "medical":
            return np.where(
                rng.random(n) < 0.6,
                self.frequent[rng.integers(0, len(self.frequent), n)],
                rng.integers(0, self.everyone, n),
            )
        pool = {"students": self.students, "workers": self.workers, "heads": self.heads}.get(kind)
        if pool is None:
            return rng.integers(0, self.everyone, n)
        return pool[rng.integers(0, len(pool), n)]


def _choice(rng, values: list[str], weights: list[float], n: int):
    import numpy as np
    import pyarrow as pa

    index = rng.choice(len(values), size=n, p=np.array(weights) / sum(weights))
    return pa.array(values).take(pa.array(index))


def _cents(values):
    import numpy as np

    return np.round(values * 100).astype(np.int64)


def _with_nulls(array, null_mask):
    import pyarrow as pa
    import pyarrow.compute as pc

    return pc.if_else(pa.array(null_mask), pa.scalar(None, array.type), array)


def _medical(rng, n: int, ages) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    kind = rng.choice(3, size=n, p=[0.85, 0.12, 0.03])
    total = np.choose(
        kind,
        [
            rng.lognormal(5.0, 0.8, n),  # outpatient: around 150 yuan
            rng.lognormal(7.0, 0.6, n),  # special outpatient (chronic): around 1,100
            rng.lognormal(8.8, 0.9, n),  # inpatient: around 6,600
        ],
    )
    share = np.choose(
        kind, [rng.uniform(0.3, 0.6, n), rng.uniform(0.15, 0.35, n), rng.uniform(0.1, 0.35, n)]
    )
    total_cents = _cents(total)
    out_of_pocket = _cents(total * share)
    return {
        "visit_type": pa.array(np.array(["outpatient", "special_outpatient", "inpatient"])[kind]),
        "total_cost": decimal_array(total_cents),
        "reimbursed": decimal_array(total_cents - out_of_pocket),
        "out_of_pocket": decimal_array(out_of_pocket),
        "diagnosis": _choice(rng, DIAGNOSES, [1] * len(DIAGNOSES), n),
    }


def _social_assistance(rng, n: int, ages) -> dict[str, Any]:
    return {
        "assistance_type": _choice(rng, ["dibao", "tekun", "temporary"], [0.5, 0.1, 0.4], n),
        "change_type": _choice(rng, ["adjusted", "granted", "revoked"], [0.95, 0.03, 0.02], n),
        "amount": decimal_array(_cents(rng.uniform(300, 3000, n))),
    }


def _disability(rng, n: int, ages) -> dict[str, Any]:
    return {
        "disability_grade": _choice(rng, ["1", "2", "3", "4"], [0.007, 0.013, 0.38, 0.6], n),
        "disability_type": _choice(rng, DISABILITY_TYPES, [1] * len(DISABILITY_TYPES), n),
    }


def _education(rng, n: int, ages) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    stage = np.select(
        [ages < 12, ages < 15, ages < 18], ["primary", "junior", "senior"], "higher_vocational"
    )
    return {
        "school": _choice(rng, SCHOOLS, [1] * len(SCHOOLS), n),
        "stage": pa.array(stage),
        "status": _choice(
            rng,
            ["enrolled", "dropped_out", "suspended", "graduated", "transferred"],
            [0.968, 0.003, 0.004, 0.015, 0.01],
            n,
        ),
        "out_of_pocket": _with_nulls(
            decimal_array(_cents(rng.uniform(200, 3000, n))), rng.random(n) >= 0.3
        ),
    }


def _housing(rng, n: int, ages) -> dict[str, Any]:
    import numpy as np
    import pyarrow as pa

    return {
        "grade": _choice(rng, ["A", "B", "C", "D"], [0.70, 0.295, 0.004, 0.001], n),
        "address": pa.array(np.char.add(rng.integers(1, 13, n).astype(str), "组")),
    }


def _employment(rng, n: int, ages) -> dict[str, Any]:
    return {
        "change_type": _choice(rng, ["employed", "unemployed"], [0.88, 0.12], n),
        "employer": _choice(rng, EMPLOYERS, [1] * len(EMPLOYERS), n),
    }


def _disaster(rng, n: int, ages) -> dict[str, Any]:
    return {
        "disaster_type": _choice(
            rng, ["flood", "geological", "drought", "hail", "frost"], [0.4, 0.25, 0.2, 0.1, 0.05], n
        ),
        "loss_amount": decimal_array(_cents(rng.lognormal(6.5, 1.1, n))),
        "house_damage": _choice(
            rng, ["none", "damaged", "severe", "collapsed"], [0.8, 0.15, 0.04, 0.01], n
        ),
    }


def _civil_registration(rng, n: int, ages) -> dict[str, Any]:
    return {
        "change_type": _choice(
            rng, ["death", "birth", "move_in", "move_out"], [0.02, 0.08, 0.45, 0.45], n
        )
    }


def _illness(rng, n: int, ages) -> dict[str, Any]:
    return {
        "disease": _choice(rng, DISEASES, [1] * len(DISEASES), n),
        "hospital": _choice(rng, HOSPITALS, [1] * len(HOSPITALS), n),
    }


#: Per person feed: who appears in its rows, and the values of its own columns.
FEED_BUILDERS: dict[str, tuple[str, Callable[..., dict[str, Any]]]] = {
    "medical": ("medical", _medical),
    "social-assistance": ("everyone", _social_assistance),
    "disability": ("everyone", _disability),
    "education": ("students", _education),
    "housing": ("heads", _housing),
    "employment": ("workers", _employment),
    "disaster": ("heads", _disaster),
    "civil-registration": ("everyone", _civil_registration),
    "illness": ("everyone", _illness),
}


def _month_dates(rng, year: int, month: int, n: int):
    import numpy as np
    import pyarrow as pa

    first = np.datetime64(dt.date(year, month, 1), "D")
    return pa.array(first + rng.integers(0, calendar.monthrange(year, month)[1], n))


def person_feed_chunk(
    slug: str,
    *,
    columns: list,
    population,
    age_years,
    picker: Picker,
    n: int,
    year: int,
    month: int,
) -> dict[str, Any]:
    """``n`` rows of a person feed: the blind index and what the ID tells, the feed's village
    for most registered people and half of the others, and the source's own values."""
    import numpy as np
    import pyarrow as pa

    from shouwang.screening.sources import event_date_field

    rng = picker.rng
    kind, build = FEED_BUILDERS[slug]
    who = picker.pick(kind, n)
    take = pa.array(who)
    values = build(rng, n, age_years[who])
    values[event_date_field(columns)] = _month_dates(rng, year, month, n)
    village_shown = np.where(who < picker.registered, rng.random(n) < 0.7, rng.random(n) < 0.5)
    values["village"] = _with_nulls(population["village_code"].take(take), ~village_shown)
    values["name"] = population["name"].take(take)
    for name in ("person_index", "birth_date", "id_region", "sex"):
        values[name] = population[name].take(take)
    return values


def water_chunk(rng, *, villages, n: int, year: int, month: int, long_outages) -> dict[str, Any]:
    """Village outages of a day, and in the period's month a few long ones."""
    import numpy as np
    import pyarrow as pa

    codes = villages[rng.integers(0, len(villages), n)]
    days = np.ones(n, dtype=np.int64)
    if long_outages is not None:
        k = min(n, len(long_outages))
        codes[:k] = long_outages[:k]
        days[:k] = rng.integers(7, 16, k)
    return {
        "village": pa.array(codes.astype(str)),
        "started_on": _month_dates(rng, year, month, n),
        "outage_days": pa.array(days),
        "households_affected": pa.array(rng.integers(20, 400, n)),
        "cause": _choice(rng, WATER_CAUSES, [1] * len(WATER_CAUSES), n),
    }


def write_feeds(
    scale: Scale, layout: Layout, *, population, age_years, heads, period: str, seed: int
) -> list[dict[str, Any]]:
    """One staged Parquet file per source and month, batch ids in source order from 1."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shouwang.screening.feeds.schema import feed_arrow_schema
    from shouwang.screening.sources import DEFAULT_SOURCES

    rng = np.random.default_rng(seed + 1)
    picker = Picker.build(rng, registered=scale.persons, age_years=age_years, heads=heads)
    villages = np.array(villages_of(scale.area), dtype="S12")
    long_outages = villages[rng.choice(len(villages), max(2, len(villages) // 100), replace=False)]
    totals = {slug: round(scale.feed_rows * share) for slug, share in SOURCE_SHARES.items()}
    totals["medical"] += scale.feed_rows - sum(totals.values())
    months = period_months(period)
    batches: list[dict[str, Any]] = []
    for source in DEFAULT_SOURCES:
        columns = list(source.columns)
        schema = feed_arrow_schema(columns)
        per_month = [totals[source.slug] // MONTHS] * MONTHS
        per_month[-1] += totals[source.slug] - sum(per_month)
        for (year, month), rows in zip(months, per_month, strict=True):
            if not rows:  # only when shrunk: a department sends no empty file
                continue
            batch_id = len(batches) + 1
            path = layout.feed(source.slug, batch_id)
            path.parent.mkdir(parents=True, exist_ok=True)
            with pq.ParquetWriter(path, schema, compression=COMPRESSION) as writer:
                for start in range(0, rows, CHUNK_ROWS):
                    n = min(CHUNK_ROWS, rows - start)
                    if source.slug == "water":
                        last = (year, month) == months[-1]
                        values = water_chunk(
                            rng,
                            villages=villages,
                            n=n,
                            year=year,
                            month=month,
                            long_outages=long_outages if last and start == 0 else None,
                        )
                    else:
                        values = person_feed_chunk(
                            source.slug,
                            columns=columns,
                            population=population,
                            age_years=age_years,
                            picker=picker,
                            n=n,
                            year=year,
                            month=month,
                        )
                    values["batch_id"] = pa.array(np.full(n, batch_id, dtype=np.int64))
                    values["row_number"] = pa.array(np.arange(start + 1, start + n + 1))
                    arrays = [
                        values[f.name] if f.name in values else pa.nulls(n, f.type) for f in schema
                    ]
                    writer.write_table(
                        pa.table(arrays, schema=schema), row_group_size=ROW_GROUP_ROWS
                    )
            batches.append(
                {
                    "id": batch_id,
                    "source": source.slug,
                    "period": f"{year:04d}-{month:02d}",
                    "rows": rows,
                    "path": str(path.relative_to(layout.root)),
                }
            )
    return batches


# --- generating (once) ---------------------------------------------------------------------


def ensure_data(
    scale: Scale, layout: Layout, *, seed: int, period: str, var_dir: Path, regenerate: bool
) -> dict[str, Any]:
    """The cached data of ``scale``, generated first (in a child process, whose memory goes
    back to the system when it ends) when missing or made differently."""
    from shouwang.core.crypto import blind_index

    wanted = {
        "generator": GENERATOR_VERSION,
        "scale": asdict(scale),
        "seed": seed,
        "period": period,
        # Blind indexes depend on the key and algorithm: data made under others is useless.
        "blind_index_check": blind_index("500156199001011234"),
    }
    if layout.manifest.exists() and not regenerate:
        manifest = json.loads(layout.manifest.read_text())
        if all(manifest.get(key) == value for key, value in wanted.items()):
            print(
                f"{scale.name}: cached data in {layout.root} "
                f"({manifest['bytes'] / 2**30:.2f} GiB, generated in {manifest['seconds']:.0f} s)"
            )
            return manifest
    return in_fresh_process(generate, scale, str(layout.root), str(var_dir), wanted)


def generate(scale: Scale, root: str, var_dir: str, wanted: dict[str, Any]) -> dict[str, Any]:
    """Write the population, the registry snapshot and the staged feeds; returns the manifest."""
    setup_django(var_dir=Path(var_dir))
    import numpy as np
    import pyarrow as pa
    import pyarrow.parquet as pq

    from shouwang.screening.engines.base import PERSONS_SCHEMA

    layout, seed, period = Layout(Path(root)), wanted["seed"], wanted["period"]
    shutil.rmtree(layout.root, ignore_errors=True)
    layout.persons.parent.mkdir(parents=True)
    started = time.perf_counter()
    made = make_population(scale, seed=seed, period=period, var_dir=Path(var_dir))
    population, age_years = made["population"], made["age_years"]
    if scale.registry_in_database:
        pq.write_table(population, layout.population, compression=COMPRESSION)
    registered = population.slice(0, scale.persons)
    persons = pa.Table.from_arrays(
        [registered[name].combine_chunks() for name in PERSONS_SCHEMA.names], schema=PERSONS_SCHEMA
    )
    pq.write_table(persons, layout.persons, compression=COMPRESSION)
    pq.write_table(made["households"], layout.households, compression=COMPRESSION)
    people_seconds = time.perf_counter() - started
    print(
        f"{scale.name}: {scale.persons:,} persons in {scale.households:,} households "
        f"and {scale.unregistered:,} unregistered people in {people_seconds:.1f} s"
    )
    heads = np.asarray(population["head"].combine_chunks().to_numpy(zero_copy_only=False))
    batches = write_feeds(
        scale,
        layout,
        population=population,
        age_years=age_years,
        heads=heads,
        period=period,
        seed=seed,
    )
    seconds = time.perf_counter() - started
    size = sum(p.stat().st_size for p in layout.root.rglob("*.parquet"))
    print(
        f"{scale.name}: {scale.feed_rows:,} feed rows in {len(batches)} batches "
        f"in {seconds - people_seconds:.1f} s; {size / 2**30:.2f} GiB of Parquet"
    )
    manifest = {**wanted, "batches": batches, "seconds": seconds, "bytes": size}
    layout.manifest.write_text(json.dumps(manifest, indent=1))
    return manifest


def warm_page_cache(layout: Layout) -> None:
    """Read every file once, so no measurement pays for the disk and none is favoured."""
    for path in layout.root.rglob("*.parquet"):
        with path.open("rb") as handle:
            while handle.read(1 << 24):
                pass


# --- the registry database (county) --------------------------------------------------------


def _recreate_postgres(url: str, *, create: bool = True) -> None:
    """Drop the scratch database (and make it again); only names containing "bench"."""
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    if "bench" not in name:
        sys.exit(f"refusing to drop database {name!r}: use a scratch name containing 'bench'")
    admin = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        if create:
            conn.execute(f'CREATE DATABASE "{name}"')


def _insert_rows(model, columns: dict[str, list], count: int) -> None:
    """Raw INSERT (SQLite, prepared executemany) or COPY (PostgreSQL) of ``count`` rows:
    ``columns`` by attribute name; other fields get their default, timestamps now."""
    import itertools

    from django.db import connection
    from django.utils import timezone

    now = timezone.now()
    fields = model._meta.concrete_fields
    values: list[Any] = []
    for f in fields:
        if f.attname in columns:
            assert len(columns[f.attname]) == count, f.attname
            values.append(columns[f.attname])
            continue
        if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False):
            default = now
        else:
            default = f.get_default()
            if default is None and not f.null:
                raise ValueError(f"{model.__name__}.{f.attname} needs values")
        values.append(itertools.repeat(f.get_db_prep_save(default, connection), count))
    quote = connection.ops.quote_name
    names = ", ".join(quote(f.column) for f in fields)
    rows = zip(*values, strict=True)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(
                f"COPY {quote(model._meta.db_table)} ({names}) FROM STDIN"
            ) as copy:
                for row in rows:
                    copy.write_row(row)
            return
        sql = (
            f"INSERT INTO {quote(model._meta.db_table)} ({names}) "
            f"VALUES ({', '.join(['%s'] * len(fields))})"
        )
        while chunk := list(itertools.islice(rows, 20_000)):
            cursor.executemany(sql, chunk)


def load_registry(layout: Layout, manifest: dict[str, Any]) -> None:
    """Migrate, load Wulong's divisions, write households, members and the staged batches."""
    import numpy as np
    import pyarrow.parquet as pq
    from django.core.management import call_command
    from django.core.management.color import no_style
    from django.db import connection, transaction
    from django.utils import timezone

    from shouwang.core.crypto import encrypt, mask_id_number
    from shouwang.registry.models import Household, Member
    from shouwang.screening.choices import BatchStatus
    from shouwang.screening.models import FeedBatch, FeedSource

    started = time.perf_counter()
    call_command("migrate", verbosity=0)
    call_command("divisions", "load", "500156", stdout=open(os.devnull, "w"))  # noqa: SIM115
    migrated = time.perf_counter() - started

    persons = manifest["scale"]["persons"]
    population = pq.read_table(layout.population).slice(0, persons)
    households = pq.read_table(layout.households)
    h = households.num_rows

    ids = id_numbers(
        population["id_region"].to_numpy(zero_copy_only=False).astype("S6"),
        population["birth_date"].to_numpy(),
        population["id_seq"].to_numpy().astype(np.int64),
    ).astype(str)
    # Real ciphertexts (AES-GCM takes ~2.5 µs an ID, ~1.3 s for the county), so member rows
    # are as wide as in production and the snapshot scans what it would scan there.
    encrypted = [encrypt(value) for value in ids]
    masked = [mask_id_number(value) for value in ids]
    household_ids = population["household_id"].to_numpy()
    member_ids = population["member_id"].to_numpy()
    is_head = population["head"].to_numpy(zero_copy_only=False)
    sex = population["sex"].to_numpy(zero_copy_only=False)
    births = population["birth_date"].to_numpy()
    age = (np.datetime64(dt.date.today()) - births).astype(np.int64) // 365
    first_member = np.r_[0, np.flatnonzero(np.diff(household_ids)) + 1]
    position = np.arange(persons) - np.repeat(first_member, np.diff(np.r_[first_member, persons]))
    relation = np.where(
        is_head,
        "head",
        np.where(
            (position == 1) & (age >= 20), "spouse", np.where(sex == "male", "son", "daughter")
        ),
    )
    labour = population["labour_capable"].to_numpy(zero_copy_only=False)
    names = population["name"].to_pylist()

    household_type = households["household_type"].to_pylist()
    status = households["monitoring_status"].to_pylist()
    monitored = [s != "not_monitored" for s in status]
    eliminated = [s == "risk_eliminated" for s in status]
    per_capita = households["per_capita_net_income"].to_pylist()
    member_count = households["member_count"].to_pylist()
    head_name = dict(
        zip(household_ids[is_head].tolist(), np.array(names, dtype=object)[is_head], strict=True)
    )
    village = households["village_code"].to_pylist()
    hid = households["household_id"].to_pylist()

    with transaction.atomic():
        _insert_rows(
            Household,
            {
                "id": hid,
                "household_number": [f"{v}{i:07d}" for v, i in zip(village, hid, strict=True)],
                "village_id": village,
                "household_type": household_type,
                "monitoring_status": status,
                "monitoring_category": [
                    ("marginal" if t == "monitored" else "unstable_exited") if m else ""
                    for t, m in zip(household_type, monitored, strict=True)
                ],
                "identified_month": ["202403" if m else "" for m in monitored],
                "eliminated_month": ["202506" if e else "" for e in eliminated],
                "elimination_method": ["assisted" if e else "" for e in eliminated],
                "risk_type_1": ["illness" if m else "" for m in monitored],
                "income_year": households["income_year"].to_pylist(),
                "wage_income": [p * c for p, c in zip(per_capita, member_count, strict=True)],
                "per_capita_net_income": per_capita,
                "member_count": member_count,
                "head_name": [head_name[i] for i in hid],
            },
            h,
        )
        _insert_rows(
            Member,
            {
                "id": member_ids.tolist(),
                "household_id": household_ids.tolist(),
                "name": names,
                "id_number_encrypted": encrypted,
                "id_number_index": population["person_index"].to_pylist(),
                "id_number_masked": masked,
                "sex": sex.tolist(),
                "birth_date": np.datetime_as_string(births).tolist(),
                "relation": relation.tolist(),
                "education": np.where(age < 6, "preschool", "junior").tolist(),
                "labour_skill": np.where(
                    labour, "ordinary", np.where(age < 16, "none", "weak")
                ).tolist(),
            },
            persons,
        )
        sources = {s.slug: s for s in FeedSource.objects.all()}
        now = timezone.now()
        batches = []
        for batch in manifest["batches"]:
            path = layout.root / batch["path"]
            data = path.read_bytes()
            batches.append(
                FeedBatch(
                    id=batch["id"],
                    source=sources[batch["source"]],
                    period=batch["period"],
                    file_name=f"{batch['source']}-{batch['period']}.csv",
                    file_sha256=hashlib.sha256(data).hexdigest(),
                    file_size=len(data),
                    status=BatchStatus.STAGED,
                    rows_estimated=batch["rows"],
                    rows_read=batch["rows"],
                    rows_accepted=batch["rows"],
                    parquet_path=str(path),
                    started_at=now,
                    finished_at=now,
                )
            )
        FeedBatch.objects.bulk_create(batches)
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                for sql in connection.ops.sequence_reset_sql(
                    no_style(), [Household, Member, FeedBatch]
                ):
                    cursor.execute(sql)
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(
        f"county: database {connection.vendor} ready (migrate and divisions {migrated:.1f} s, "
        f"{h:,} households, {persons:,} members and {len(batches)} batches written in "
        f"{time.perf_counter() - started - migrated:.1f} s)"
    )


# --- measurements (each in a fresh process) ------------------------------------------------


def in_fresh_process(function: Callable[..., dict[str, Any]], *args: Any) -> dict[str, Any]:
    """Run ``function`` in a new interpreter, so its peak RSS is its own."""
    context = multiprocessing.get_context("spawn")
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        return pool.submit(function, *args).result()


def _medical_threshold(period: str) -> str:
    """The registered threshold of the shipped medical rule for ``period`` (from policy values)."""
    from shouwang.screening.models import Rule
    from shouwang.screening.rules import resolve_thresholds, rule_spec_parse

    rule = Rule.objects.get(slug="medical-out-of-pocket-12m")
    return str(resolve_thresholds(rule_spec_parse(rule.spec), period).registered)


def _per_rule_seconds(inputs, compiled, engine) -> dict[str, float]:
    """Each rule alone on the engine (a diagnosis: the engine runs them in one connection)."""
    seconds = {}
    for item in compiled:
        started = time.perf_counter()
        engine.run(inputs, {item.slug: item.query})
        seconds[item.slug] = time.perf_counter() - started
    return seconds


def measure_county(var_dir: str, database_url: str, period: str, per_rule: bool) -> dict[str, Any]:
    """``screening_run`` twice on the county database: the first writes the alerts."""
    setup_django(var_dir=Path(var_dir), database_url=database_url)
    from django.db.models import Count

    import shouwang.screening.engines.duckdb  # noqa: F401  (a worker has it imported)
    from shouwang.screening.models import Alert
    from shouwang.screening.services import screening_run

    runs = []
    for _ in range(2):
        started, cpu = time.perf_counter(), _cpu_seconds()
        run = screening_run(actor=None, period=period)
        seconds = time.perf_counter() - started
        runs.append(
            {
                "seconds": seconds,
                "cpu": _cpu_seconds() - cpu,
                "duration_ms": run.duration_ms,
                "timings": run.timings,
                "matches": run.matches,
                "alerts_new": run.alerts_new,
                "alerts_existing": run.alerts_existing,
                "per_rule": run.counts,
                "persons": run.persons,
                "households": run.households,
                "feed_rows": run.feed_rows,
            }
        )
    alerts = Alert.objects.all()
    result: dict[str, Any] = {
        "runs": runs,
        "alerts": alerts.count(),
        "unregistered": alerts.filter(unregistered=True).count(),
        "after_elimination": alerts.filter(after_elimination=True).count(),
        "placed_by": dict(alerts.values_list("placed_by").annotate(n=Count("id")).order_by()),
        "threshold": _medical_threshold(period),
    }
    if per_rule:
        from shouwang.screening.engines.base import ScreeningInputs
        from shouwang.screening.engines.duckdb import DuckDBEngine
        from shouwang.screening.feeds.selectors import staged_feed_inputs
        from shouwang.screening.models import Rule
        from shouwang.screening.rules import source_columns
        from shouwang.screening.services import _compile_active
        from shouwang.screening.snapshot import registry_snapshot

        sources = source_columns()
        compiled, _problems = _compile_active(
            Rule.objects.filter(active=True).order_by("slug"), period, sources
        )
        feeds, _ids, _rows = staged_feed_inputs(sources)
        started = time.perf_counter()
        snapshot = registry_snapshot()
        result["snapshot_seconds"] = time.perf_counter() - started
        inputs = ScreeningInputs(
            persons=snapshot.persons, households=snapshot.households, feeds=feeds
        )
        result["rule_seconds"] = _per_rule_seconds(inputs, compiled, DuckDBEngine())
    result["peak_rss_gib"] = _rss_gib()
    return result


def measure_province(
    var_dir: str,
    root: str,
    manifest: dict[str, Any],
    period: str,
    per_rule: bool,
    snapshot: str,
    memory_limit: str,
) -> dict[str, Any]:
    """Every default rule on DuckDB over the Parquet snapshot and feeds, no database rows.

    ``snapshot``: "parquet" hands the engine the files (``ParquetTable``), "arrow" reads them
    into Arrow first, as ``registry_snapshot`` hands over a county's registry."""
    setup_django(var_dir=Path(var_dir))
    from django.core.management import call_command

    # Sources, rules and policy values as shipped (seeded by the migrations), untimed.
    call_command("migrate", verbosity=0)
    import pyarrow.parquet as pq

    from shouwang.screening.compiler import feed_table_name
    from shouwang.screening.engines.base import FeedInput, ParquetTable, ScreeningInputs
    from shouwang.screening.engines.duckdb import DuckDBEngine
    from shouwang.screening.feeds.schema import feed_arrow_schema
    from shouwang.screening.models import Rule
    from shouwang.screening.rules import compile_spec, rule_spec_parse, source_columns

    layout = Layout(Path(root))
    engine = DuckDBEngine(memory_limit=memory_limit or None)
    rss_before = _rss_gib()
    timings: dict[str, float] = {}
    started, cpu = time.perf_counter(), _cpu_seconds()
    mark = started
    sources = source_columns()
    compiled = [
        compile_spec(
            spec=rule_spec_parse(rule.spec, sources=sources),
            period=period,
            sources=sources,
            rule=rule,
        )
        for rule in Rule.objects.filter(active=True).order_by("slug")
    ]
    feeds = {
        feed_table_name(slug): FeedInput(
            paths=tuple(
                layout.root / b["path"] for b in manifest["batches"] if b["source"] == slug
            ),
            schema=feed_arrow_schema(columns),
        )
        for slug, columns in sources.items()
    }
    timings["compile"] = time.perf_counter() - mark
    mark = time.perf_counter()
    if snapshot == "parquet":
        persons, households = ParquetTable((layout.persons,)), ParquetTable((layout.households,))
    else:
        persons, households = pq.read_table(layout.persons), pq.read_table(layout.households)
    inputs = ScreeningInputs(persons=persons, households=households, feeds=feeds)
    timings["snapshot"] = time.perf_counter() - mark
    mark = time.perf_counter()
    results = engine.run(inputs, {item.slug: item.query for item in compiled})
    timings["engine"] = time.perf_counter() - mark
    result: dict[str, Any] = {
        "seconds": time.perf_counter() - started,
        "cpu": _cpu_seconds() - cpu,
        "timings": timings,
        "matches": {slug: table.num_rows for slug, table in results.items()},
        "peak_rss_gib": _rss_gib(),
        "rss_before_gib": rss_before,
        "threshold": _medical_threshold(period),
    }
    if per_rule:
        result["rule_seconds"] = _per_rule_seconds(inputs, compiled, engine)
    return result


def bare_queries(
    layout: Layout, manifest: dict[str, Any], period: str, threshold: str
) -> dict[str, str]:
    """What a hand-written script runs: feed rows joined to persons, summed per household,
    compared to a threshold; over every person feed, and over the medical feed alone."""
    from shouwang.screening.compiler import period_window
    from shouwang.screening.sources import DEFAULT_SOURCES, event_date_field

    window = period_window(period, MONTHS)

    def files(slug: str) -> str:
        paths = [str(layout.root / b["path"]) for b in manifest["batches"] if b["source"] == slug]
        return "[" + ", ".join("'" + p.replace("'", "''") + "'" for p in paths) + "]"

    selects = {}
    for source in DEFAULT_SOURCES:
        if source.slug == "water":  # by village: no person to join
            continue
        measure = BARE_MEASURES.get(source.slug)
        amount = f"CAST({measure} AS DECIMAL(20, 2))" if measure else "CAST(1 AS DECIMAL(20, 2))"
        selects[source.slug] = (
            f"SELECT person_index, {amount} AS amount FROM read_parquet({files(source.slug)}) "
            f"WHERE {event_date_field(list(source.columns))} "
            f"BETWEEN DATE '{window.start}' AND DATE '{window.end}'"
        )
    persons = str(layout.persons).replace("'", "''")

    def query(feeds: str) -> str:
        return (
            "SELECT p.household_id, SUM(f.amount) AS total, COUNT(*) AS row_count "
            f"FROM ({feeds}) AS f JOIN read_parquet('{persons}') AS p "
            "ON p.person_index = f.person_index "
            f"GROUP BY p.household_id HAVING SUM(f.amount) >= {threshold}"
        )

    return {
        "all person feeds": query(" UNION ALL ".join(selects.values())),
        "medical only": query(selects["medical"]),
    }


def measure_bare(
    root: str,
    manifest: dict[str, Any],
    period: str,
    threshold: str,
    repeat: int,
    memory_limit: str = "",
) -> dict[str, Any]:
    import statistics

    import duckdb

    result: dict[str, Any] = {}
    for name, sql in bare_queries(Layout(Path(root)), manifest, period, threshold).items():
        samples, cpus = [], []
        rows = 0
        for _ in range(repeat):
            started, cpu = time.perf_counter(), _cpu_seconds()
            connection = duckdb.connect(
                config={"memory_limit": memory_limit} if memory_limit else {}
            )
            rows = connection.sql(sql).to_arrow_table().num_rows
            connection.close()
            samples.append(time.perf_counter() - started)
            cpus.append(_cpu_seconds() - cpu)
        result[name] = {
            "best": min(samples),
            "median": statistics.median(samples),
            "cpu": min(cpus),
            "rows": rows,
        }
    result["peak_rss_gib"] = _rss_gib()
    return result


# --- the run -------------------------------------------------------------------------------


def _parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--scale", choices=["county", "province", "both"], default="both")
    parser.add_argument(
        "--data-dir",
        type=Path,
        default=REPO / "var" / "bench" / "screening",
        help="where generated data is cached (default: var/bench/screening)",
    )
    parser.add_argument(
        "--keep", action="store_true", help="keep the temporary folder (database, var/)"
    )
    parser.add_argument(
        "--database-url",
        default=os.environ.get("DATABASE_URL", ""),
        help="county registry in this scratch PostgreSQL database (name must contain 'bench'; "
        "dropped and created again); default $DATABASE_URL, else SQLite",
    )
    parser.add_argument("--period", default=DEFAULT_PERIOD, help="period screened (YYYY-MM)")
    parser.add_argument("--seed", type=int, default=500156)
    parser.add_argument("--repeat", type=int, default=3, help="runs of each bare query (best kept)")
    parser.add_argument(
        "--per-rule", action="store_true", help="also time each rule alone (diagnosis)"
    )
    parser.add_argument(
        "--snapshot",
        choices=["parquet", "arrow"],
        default="parquet",
        help="province: hand the registry snapshot to DuckDB as Parquet files (default) or read "
        "it into Arrow first",
    )
    parser.add_argument(
        "--memory-limit",
        default="",
        help="province: DuckDB memory_limit for Shouwang's run and the bare queries, e.g. 4GB "
        "(default: DuckDB's own, 80%% of RAM)",
    )
    parser.add_argument("--regenerate", action="store_true", help="ignore cached data")
    parser.add_argument(
        "--shrink", type=int, default=1, help="divide every size by this (a quick look)"
    )
    return parser.parse_args()


def run_county(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    from django.db import connection

    scale = COUNTY.shrunk(args.shrink)
    layout = Layout(
        args.data_dir / (scale.name + (f"-1in{args.shrink}" if args.shrink > 1 else ""))
    )
    manifest = ensure_data(
        scale,
        layout,
        seed=args.seed,
        period=args.period,
        var_dir=work / "var",
        regenerate=args.regenerate,
    )
    load_registry(layout, manifest)
    connection.close()
    warm_page_cache(layout)
    shouwang = in_fresh_process(
        measure_county, str(work / "var"), args.database_url, args.period, args.per_rule
    )
    bare = in_fresh_process(
        measure_bare, str(layout.root), manifest, args.period, shouwang["threshold"], args.repeat
    )
    return {
        "scale": scale,
        "manifest": manifest,
        "shouwang": shouwang,
        "bare": bare,
        "vendor": connection.vendor,
    }


def run_province(args: argparse.Namespace, work: Path) -> dict[str, Any]:
    scale = PROVINCE.shrunk(args.shrink)
    layout = Layout(
        args.data_dir / (scale.name + (f"-1in{args.shrink}" if args.shrink > 1 else ""))
    )
    manifest = ensure_data(
        scale,
        layout,
        seed=args.seed,
        period=args.period,
        var_dir=work / "var",
        regenerate=args.regenerate,
    )
    warm_page_cache(layout)
    shouwang = in_fresh_process(
        measure_province,
        str(work / "province-var"),
        str(layout.root),
        manifest,
        args.period,
        args.per_rule,
        args.snapshot,
        args.memory_limit,
    )
    bare = in_fresh_process(
        measure_bare,
        str(layout.root),
        manifest,
        args.period,
        shouwang["threshold"],
        args.repeat,
        args.memory_limit,
    )
    return {
        "scale": scale,
        "manifest": manifest,
        "shouwang": shouwang,
        "bare": bare,
        "snapshot": args.snapshot,
        "memory_limit": args.memory_limit or "DuckDB default (80 % of RAM)",
    }


def _verdict(ok: bool) -> str:
    return "ok" if ok else "**missed**"


def _phases(timings: dict[str, float], scale: float = 1.0) -> str:
    return ", ".join(f"{name} {value * scale:.2f}" for name, value in timings.items())


def _bare_lines(bare: dict[str, Any]) -> list[str]:
    return [
        f"| bare DuckDB join-and-aggregate, {name} ({figures['rows']:,} households over the "
        f"threshold; best of runs, median {figures['median']:.2f} s) "
        f"| {figures['best']:.2f} | {figures['cpu']:.2f} | |"
        for name, figures in bare.items()
        if isinstance(figures, dict)
    ]


def report_county(result: dict[str, Any]) -> None:
    scale: Scale = result["scale"]
    s, bare = result["shouwang"], result["bare"]
    first, again = s["runs"]
    all_feeds, medical = bare["all person feeds"]["best"], bare["medical only"]["best"]
    ratio = first["seconds"] / all_feeds
    print(
        f"\n### County: {scale.persons:,} persons, {scale.households:,} households, "
        f"{scale.feed_rows:,} feed rows ({result['vendor']})\n"
    )
    print("| figure | wall s | CPU s | target |")
    print("| --- | --- | --- | --- |")
    print(
        f"| Shouwang `screening_run`, first run, end to end "
        f"({_phases(first['timings'], 1 / 1000)}) | **{first['seconds']:.2f}** "
        f"| {first['cpu']:.2f} | < {TARGET_COUNTY_SECONDS:.0f} s: "
        f"{_verdict(first['seconds'] < TARGET_COUNTY_SECONDS)} |"
    )
    print(
        f"| Shouwang `screening_run`, second run, no new alerts "
        f"({_phases(again['timings'], 1 / 1000)}) | {again['seconds']:.2f} | {again['cpu']:.2f} | |"
    )
    for line in _bare_lines(bare):
        print(line)
    print(
        f"| ratio first run / bare, every person feed | {ratio:.1f}x | "
        f"{first['cpu'] / bare['all person feeds']['cpu']:.1f}x | "
        f"≤ {TARGET_COUNTY_RATIO:.0f}x: {_verdict(ratio <= TARGET_COUNTY_RATIO)} |"
    )
    print(
        f"| ratio first run / bare, medical only | {first['seconds'] / medical:.1f}x | "
        f"{first['cpu'] / bare['medical only']['cpu']:.1f}x | |"
    )
    print(
        f"| ratio second run / bare, every person feed | {again['seconds'] / all_feeds:.1f}x | "
        f"{again['cpu'] / bare['all person feeds']['cpu']:.1f}x | |"
    )
    print(
        f"\nAlerts: {first['alerts_new']:,} new on the first run from {first['matches']:,} matches "
        f"({s['unregistered']:,} possible new monitoring objects, {s['after_elimination']:,} after "
        f"risk elimination; placed by {s['placed_by']}); second run: {again['alerts_new']} new, "
        f"{again['alerts_existing']:,} already raised."
    )
    print(
        "Per rule (matches/new): "
        + ", ".join(
            f"{slug} {c.get('matches', 0):,}/{c.get('new', 0):,}"
            for slug, c in first["per_rule"].items()
        )
    )
    print(
        f"Peak RSS: Shouwang {s['peak_rss_gib']:.2f} GiB, bare queries {bare['peak_rss_gib']:.2f} GiB."
    )
    if "rule_seconds" in s:
        print(
            f"Snapshot alone {s['snapshot_seconds']:.2f} s; each rule alone on DuckDB: "
            + ", ".join(f"{slug} {sec:.2f}" for slug, sec in s["rule_seconds"].items())
        )


def report_province(result: dict[str, Any]) -> None:
    scale: Scale = result["scale"]
    s, bare = result["shouwang"], result["bare"]
    gib = result["manifest"]["bytes"] / 2**30
    ok = s["seconds"] < TARGET_PROVINCE_SECONDS and s["peak_rss_gib"] < TARGET_PROVINCE_GIB
    print(
        f"\n### Province: {scale.persons:,} persons, {scale.households:,} households, "
        f"{scale.feed_rows:,} feed rows ({gib:.1f} GiB of Parquet), DuckDB; snapshot as "
        f"{result['snapshot']}, memory limit {result['memory_limit']}\n"
    )
    print("| figure | wall s | CPU s | target |")
    print("| --- | --- | --- | --- |")
    print(
        f"| Shouwang, every default rule ({_phases(s['timings'])}); "
        f"peak RSS **{s['peak_rss_gib']:.2f} GiB** | **{s['seconds']:.1f}** | {s['cpu']:.1f} "
        f"| < {TARGET_PROVINCE_SECONDS:.0f} s, < {TARGET_PROVINCE_GIB:.0f} GB: {_verdict(ok)} |"
    )
    for line in _bare_lines(bare):
        print(line)
    for name in ("all person feeds", "medical only"):
        print(
            f"| ratio Shouwang / bare, {name} | {s['seconds'] / bare[name]['best']:.1f}x "
            f"| {s['cpu'] / bare[name]['cpu']:.1f}x | |"
        )
    print(f"\nPeak RSS of the bare queries: {bare['peak_rss_gib']:.2f} GiB.")
    print("Matches per rule: " + ", ".join(f"{k} {v:,}" for k, v in s["matches"].items()))
    if "rule_seconds" in s:
        print(
            "Each rule alone on DuckDB: "
            + ", ".join(f"{slug} {sec:.2f}" for slug, sec in s["rule_seconds"].items())
        )


def main() -> None:
    args = _parse_args()
    args.data_dir = args.data_dir.resolve()
    work = Path(tempfile.mkdtemp(prefix="shouwang-bench-screening-"))
    if args.database_url and args.scale != "province":
        _recreate_postgres(args.database_url)
    setup_django(var_dir=work / "var", database_url=args.database_url)
    print(f"work folder {work}; data cached in {args.data_dir}; {os.cpu_count()} cores")
    results: dict[str, dict[str, Any]] = {}
    try:
        if args.scale in ("county", "both"):
            results["county"] = run_county(args, work)
        if args.scale in ("province", "both"):
            results["province"] = run_province(args, work)
    finally:
        if args.keep:
            print(f"kept {work}" + (f" and {args.database_url}" if args.database_url else ""))
        else:
            from django.db import connection

            connection.close()
            shutil.rmtree(work, ignore_errors=True)
            if args.database_url and args.scale != "province":
                _recreate_postgres(args.database_url, create=False)
    print(f"\n## Screening benchmark, period {args.period}, {dt.date.today()}")
    if "county" in results:
        report_county(results["county"])
    if "province" in results:
        report_province(results["province"])


if __name__ == "__main__":
    main()
