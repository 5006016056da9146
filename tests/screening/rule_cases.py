"""The rule-case table: rule specs, inputs and the alerts they must raise, on every engine.

Each case is a spec as an administrator writes it (shipped defaults by slug, and edge cases),
feed rows as plain dicts, the period and the resolved thresholds, and the expected alerts:
subject key, value, threshold and evidence as sorted (batch, row) pairs. Cases share one small
registry (``HOUSEHOLDS``, ``PERSONS``); unregistered people are ``u1``–``u3``.

Feed rows carry the person's blind index (here a readable key such as ``p1a``), the birth date
the ID number gives, and the source's fields; the date is given as ``on`` and lands in the
source's event date column. Rows are staged as one Parquet file per batch, as the importer does.
"""

from __future__ import annotations

import copy
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from shouwang.screening.compiler import ResolvedThresholds, feed_table_name
from shouwang.screening.default_rules import ALL, DEFAULT_RULES, REGISTERED
from shouwang.screening.engines.base import (
    HOUSEHOLDS_SCHEMA,
    PERSONS_SCHEMA,
    FeedInput,
    ScreeningInputs,
)
from shouwang.screening.feeds.schema import feed_arrow_schema
from shouwang.screening.sources import DEFAULT_SOURCES, ColumnSpec, event_date_field

D = dt.date
VILLAGE_A = "500156104200"
VILLAGE_B = "500156104001"
VILLAGE_C = "500156001200"
VILLAGE_UNKNOWN = "500156999999"  # not in the registry

SOURCES: dict[str, list[ColumnSpec]] = {s.slug: list(s.columns) for s in DEFAULT_SOURCES}


def _household(hid, village, kind, status, labour, members, income=None, year=None):
    return {
        "household_id": hid,
        "village_code": village,
        "household_type": kind,
        "monitoring_status": status,
        "labour_count": labour,
        "member_count": members,
        "per_capita_net_income": None if income is None else Decimal(income),
        "income_year": year,
    }


#: One household of each population, two monitored ones in village A.
HOUSEHOLDS = (
    _household(1, VILLAGE_A, "monitored", "risk_unresolved", 1, 3, "6500.00", 2025),
    _household(2, VILLAGE_A, "poverty_exited", "risk_eliminated", 2, 4, "6800.00", 2025),
    _household(3, VILLAGE_B, "poverty_exited", "not_monitored", 1, 2, "7000.00", 2025),
    _household(4, VILLAGE_B, "ordinary", "not_monitored", 0, 1, "6999.99", 2025),
    _household(5, VILLAGE_C, "poverty_exited", "not_monitored", 1, 1),
    _household(6, VILLAGE_A, "monitored", "risk_unresolved", 1, 2, "12000.00", 2025),
)

#: person key → (household, member id, labour capable)
MEMBERS = {
    "p1a": (1, 101, True),
    "p1b": (1, 102, False),
    "p1c": (1, 103, False),
    "p2a": (2, 201, True),
    "p2b": (2, 202, True),
    "p2c": (2, 203, False),
    "p2d": (2, 204, False),
    "p3a": (3, 301, True),
    "p3b": (3, 302, False),
    "p4a": (4, 401, False),
    "p5a": (5, 501, True),
    "p6a": (6, 601, True),
    "p6b": (6, 602, False),
}
PERSONS = tuple(
    {"person_index": key, "household_id": hid, "member_id": mid, "labour_capable": capable}
    for key, (hid, mid, capable) in MEMBERS.items()
)
_VILLAGE_OF = {h["household_id"]: h["village_code"] for h in HOUSEHOLDS}
ADULT_BIRTH = D(1980, 6, 15)


def row(batch: int, number: int, person: str | None, on: dt.date | None, **fields: Any) -> dict:
    """A staged row of a person's ID; ``birth`` overrides the adult birth date."""
    member = MEMBERS.get(person or "")
    data = {
        "batch_id": batch,
        "row_number": number,
        "person_index": person,
        "birth_date": fields.pop("birth", ADULT_BIRTH if person else None),
        "id_region": "500156",
        "sex": "female",
        "name": person,
        "village": _VILLAGE_OF[member[0]] if member else None,
        "_on": on,
    }
    data.update(fields)
    return data


def village_row(batch: int, number: int, village: str | None, on: dt.date, **fields: Any) -> dict:
    """A staged row reported per village (no ID number)."""
    return {"batch_id": batch, "row_number": number, "village": village, "_on": on, **fields}


def default_spec(slug: str, **changes: Any) -> dict[str, Any]:
    spec = copy.deepcopy(next(r.spec for r in DEFAULT_RULES if r.slug == slug))
    spec.update(changes)
    return spec


def rule(
    feed: str,
    function: str,
    measure: str | None = None,
    *,
    per: str = "person",
    comparison: str = "ge",
    threshold: str = "1",
    unregistered: str | None = None,
    conditions: tuple[dict, ...] = (),
    window: int = 1,
    population: list[str] = ALL,
) -> dict[str, Any]:
    return {
        "feed": feed,
        "conditions": list(conditions),
        "aggregate": {"function": function, "field": measure},
        "window_months": window,
        "per": per,
        "comparison": comparison,
        "threshold": {"value": threshold},
        "threshold_unregistered": {"value": unregistered} if unregistered else None,
        "population": list(population),
        "risk_type": "other",
        "severity": "medium",
    }


def cond(field_name: str, op: str, value: Any) -> dict[str, Any]:
    return {"field": field_name, "op": op, "value": value}


@dataclass(frozen=True)
class Expected:
    subject_key: str
    value: Decimal
    threshold: Decimal
    evidence: tuple[tuple[int, int], ...]


def alert(subject: str, value: str, threshold: str, *evidence: tuple[int, int]) -> Expected:
    return Expected(subject, Decimal(value), Decimal(threshold), tuple(sorted(evidence)))


@dataclass(frozen=True)
class RuleCase:
    name: str
    spec: dict[str, Any]
    rows: tuple[dict, ...]
    expected: tuple[Expected, ...]
    period: str = "2026-10"
    #: (registered, unregistered) for specs that refer to policy parameters.
    thresholds: tuple[str, str] | None = None
    households: tuple[dict, ...] = HOUSEHOLDS
    persons: tuple[dict, ...] = PERSONS
    #: batch → columns its file lacks (staged before the source's mapping gained them).
    missing_columns: Mapping[int, tuple[str, ...]] = field(default_factory=dict)

    def resolved_thresholds(self) -> ResolvedThresholds:
        if self.thresholds is not None:
            registered, unregistered = (Decimal(t) for t in self.thresholds)
            return ResolvedThresholds(registered=registered, unregistered=unregistered)
        registered = Decimal(self.spec["threshold"]["value"])
        other = self.spec.get("threshold_unregistered")
        unregistered = Decimal(other["value"]) if other else registered
        return ResolvedThresholds(registered=registered, unregistered=unregistered)


def case_inputs(case: RuleCase, directory: Path, *, work_dir: Path | None) -> ScreeningInputs:
    """Stage the case's rows as Parquet batches under ``directory``; the registry as Arrow."""
    feeds: dict[str, FeedInput] = {}
    slug = case.spec["feed"]
    if slug is not None:
        columns = SOURCES[slug]
        schema = feed_arrow_schema(columns)
        date_field = event_date_field(columns)
        batches: dict[int, list[dict]] = {}
        for item in case.rows:
            data = {k: v for k, v in item.items() if k != "_on"}
            data[date_field] = item["_on"]
            batches.setdefault(item["batch_id"], []).append(data)
        folder = directory / slug
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for batch, rows in sorted(batches.items()):
            missing = set(case.missing_columns.get(batch, ()))
            batch_schema = pa.schema([f for f in schema if f.name not in missing])
            path = folder / f"{batch}.parquet"
            pq.write_table(pa.Table.from_pylist(rows, schema=batch_schema), path)
            paths.append(path)
        feeds[feed_table_name(slug)] = FeedInput(paths=tuple(paths), schema=schema)
    return ScreeningInputs(
        persons=pa.Table.from_pylist(list(case.persons), schema=PERSONS_SCHEMA),
        households=pa.Table.from_pylist(list(case.households), schema=HOUSEHOLDS_SCHEMA),
        feeds=feeds,
        work_dir=work_dir,
    )


MEDICAL_INCOME_SHARES = ("11000.00", "22000.00")  # 50 % and 100 % of 22,000 a year

CASES: tuple[RuleCase, ...] = (
    # --- the shipped defaults -------------------------------------------------------------
    RuleCase(
        "default medical out-of-pocket: household sum, own threshold for unregistered",
        default_spec("medical-out-of-pocket-12m"),
        thresholds=MEDICAL_INCOME_SHARES,
        rows=(
            row(7, 1, "p1a", D(2025, 11, 1), out_of_pocket=Decimal("6000.00")),  # first day
            row(7, 2, "p1b", D(2026, 10, 31), out_of_pocket=Decimal("5000.00")),  # last day
            row(7, 3, "p2a", D(2025, 10, 31), out_of_pocket=Decimal("9000.00")),  # day before
            row(8, 1, "p2b", D(2026, 11, 1), out_of_pocket=Decimal("9000.00")),  # day after
            row(8, 2, "p2c", D(2026, 5, 10), out_of_pocket=Decimal("4000.00")),
            row(8, 3, "u1", D(2026, 3, 1), out_of_pocket=Decimal("15000.00")),
            row(8, 4, "u1", D(2026, 4, 1), out_of_pocket=Decimal("6999.99")),
            row(8, 5, "u2", D(2026, 6, 30), out_of_pocket=Decimal("22000.00")),
            # Over the registered threshold, under the unregistered one.
            row(8, 6, "u3", D(2026, 6, 30), out_of_pocket=Decimal("15000.00")),
            row(8, 7, None, D(2026, 6, 1), out_of_pocket=Decimal("50000.00")),  # no ID
            # A blank amount adds nothing but is still a row behind the alert.
            row(7, 4, "p3a", D(2026, 2, 2), out_of_pocket=None),
            row(7, 5, "p3b", D(2026, 2, 3), out_of_pocket=Decimal("11000.01")),
        ),
        expected=(
            alert("h:1", "11000.00", "11000.00", (7, 1), (7, 2)),
            alert("h:3", "11000.01", "11000.00", (7, 4), (7, 5)),
            alert("p:u2", "22000.00", "22000.00", (8, 5)),
        ),
    ),
    RuleCase(
        "default inpatient out-of-pocket: person max of matching rows, one-month window",
        default_spec("inpatient-out-of-pocket-month"),
        rows=(
            row(3, 1, "p1a", D(2026, 10, 5), visit_type="inpatient", out_of_pocket=Decimal(3000)),
            row(3, 2, "p1a", D(2026, 10, 20), visit_type="inpatient", out_of_pocket=Decimal(5200)),
            row(3, 3, "p1a", D(2026, 10, 21), visit_type="outpatient", out_of_pocket=Decimal(9000)),
            row(3, 4, "p3a", D(2026, 9, 30), visit_type="inpatient", out_of_pocket=Decimal(8000)),
            row(3, 5, "p3a", D(2026, 10, 1), visit_type="inpatient", out_of_pocket=Decimal(5000)),
            row(
                3,
                6,
                "p2a",
                D(2026, 10, 31),
                visit_type="inpatient",
                out_of_pocket=Decimal("4999.99"),
            ),
            row(
                3,
                7,
                "u1",
                D(2026, 10, 15),
                visit_type="inpatient",
                out_of_pocket=Decimal("19999.99"),
            ),
            row(3, 8, "u2", D(2026, 10, 15), visit_type="inpatient", out_of_pocket=Decimal(20000)),
            row(3, 9, "p3b", D(2026, 10, 10), visit_type=None, out_of_pocket=Decimal(9000)),
        ),
        expected=(
            alert("p:p1a", "5200.00", "5000.00", (3, 1), (3, 2)),
            alert("p:p3a", "5000.00", "5000.00", (3, 5)),
            alert("p:u2", "20000.00", "20000.00", (3, 8)),
        ),
    ),
    RuleCase(
        "default severe disability: count of grade 1-2 certificates, across batches",
        default_spec("severe-disability-new"),
        rows=(
            row(1, 1, "p2b", D(2026, 10, 31), disability_grade="2"),
            row(1, 2, "p3a", D(2026, 10, 15), disability_grade="3"),
            row(1, 3, "u1", D(2026, 10, 1), disability_grade="1"),
            row(1, 4, "p4a", D(2026, 11, 1), disability_grade="1"),
            row(1, 5, "p1a", D(2026, 10, 2), disability_grade="1"),
            row(2, 1, "p1a", D(2026, 10, 3), disability_grade="2"),
        ),
        expected=(
            alert("p:p1a", "2", "1", (1, 5), (2, 1)),
            alert("p:p2b", "1", "1", (1, 1)),
            alert("p:u1", "1", "1", (1, 3)),
        ),
    ),
    RuleCase(
        "default school dropout: age 6 to 16 on the row's date, birthdays at the edges",
        default_spec("compulsory-school-dropout"),
        rows=(
            # 17th birthday tomorrow: still 16.
            row(4, 1, "u1", D(2026, 9, 1), birth=D(2009, 9, 2), status="dropped_out"),
            # 17 today.
            row(4, 2, "u2", D(2026, 9, 1), birth=D(2009, 9, 1), status="dropped_out"),
            # 6 today.
            row(4, 3, "u3", D(2026, 9, 1), birth=D(2020, 9, 1), status="dropped_out"),
            # 6 tomorrow.
            row(4, 4, "p1b", D(2026, 9, 1), birth=D(2020, 9, 2), status="dropped_out"),
            row(4, 5, "p1c", D(2026, 9, 1), birth=D(2012, 5, 5), status="enrolled"),
            row(4, 6, "p2c", D(2026, 8, 1), birth=D(2013, 2, 28), status="dropped_out"),
            row(4, 7, "p2d", D(2026, 7, 31), birth=D(2013, 2, 28), status="dropped_out"),
            row(4, 8, "p3b", D(2026, 9, 1), birth=None, status="dropped_out"),  # age unknown
        ),
        expected=(
            alert("p:p2c", "1", "1", (4, 6)),
            alert("p:u1", "1", "1", (4, 1)),
            alert("p:u3", "1", "1", (4, 3)),
        ),
    ),
    RuleCase(
        "default unsafe housing: C/D appraisals counted per household",
        default_spec("housing-unsafe"),
        rows=(
            row(5, 1, "p3a", D(2026, 1, 10), grade="C"),
            row(5, 2, "p3b", D(2026, 1, 10), grade="D"),
            row(5, 3, "p1a", D(2026, 4, 1), grade="B"),
            row(5, 4, "u1", D(2026, 10, 31), grade="D"),
            row(5, 5, "p2a", D(2025, 10, 31), grade="D"),
        ),
        expected=(
            alert("h:3", "2", "1", (5, 1), (5, 2)),
            alert("p:u1", "1", "1", (5, 4)),
        ),
    ),
    RuleCase(
        "default only earner unemployed: labour capacity and household labour count",
        default_spec("only-earner-unemployed"),
        rows=(
            row(6, 1, "p1a", D(2026, 10, 8), change_type="unemployed"),
            row(6, 2, "p2a", D(2026, 10, 8), change_type="unemployed"),  # two earners
            row(6, 3, "p1b", D(2026, 10, 8), change_type="unemployed"),  # not labour capable
            row(6, 4, "u1", D(2026, 10, 8), change_type="unemployed"),  # not registered
            row(6, 5, "p3a", D(2026, 10, 8), change_type="employed"),
            row(6, 6, "p5a", D(2026, 10, 31), change_type="unemployed"),
            row(6, 7, "p4a", D(2026, 10, 8), change_type="unemployed"),
        ),
        expected=(
            alert("p:p1a", "1", "1", (6, 1)),
            alert("p:p5a", "1", "1", (6, 6)),
        ),
    ),
    RuleCase(
        "default disaster loss: household sum against a share of income",
        default_spec("disaster-loss"),
        thresholds=MEDICAL_INCOME_SHARES,
        rows=(
            row(9, 1, "p2a", D(2026, 7, 1), disaster_type="flood", loss_amount=Decimal(8000)),
            row(9, 2, "p2b", D(2026, 7, 1), disaster_type="flood", loss_amount=Decimal(3000)),
            row(9, 3, "u1", D(2026, 7, 1), disaster_type="flood", loss_amount=Decimal(12000)),
            row(9, 4, "p4a", D(2026, 7, 1), disaster_type="hail", loss_amount=Decimal("10999.99")),
        ),
        expected=(alert("h:2", "11000.00", "11000.00", (9, 1), (9, 2)),),
    ),
    RuleCase(
        "default earner death: only labour-capable registered members",
        default_spec("earner-death"),
        rows=(
            row(10, 1, "p2a", D(2026, 10, 9), change_type="death"),
            row(10, 2, "p4a", D(2026, 10, 9), change_type="death"),
            row(10, 3, "u1", D(2026, 10, 9), change_type="death"),
            row(10, 4, "p3a", D(2026, 10, 9), change_type="move_out"),
        ),
        expected=(alert("p:p2a", "1", "1", (10, 1)),),
    ),
    RuleCase(
        "default income below the line: registry only, monitored households left out",
        default_spec("income-below-line"),
        thresholds=("7000.00", "7000.00"),
        rows=(),
        expected=(
            alert("h:2", "6800.00", "7000.00"),
            alert("h:4", "6999.99", "7000.00"),
        ),
    ),
    RuleCase(
        "default water outage: a village's sum reaches its listed households",
        default_spec("water-outage"),
        rows=(
            village_row(11, 1, VILLAGE_A, D(2026, 8, 1), outage_days=3),
            village_row(11, 2, VILLAGE_A, D(2026, 10, 31), outage_days=4),
            village_row(11, 3, VILLAGE_B, D(2026, 9, 10), outage_days=8),
            village_row(11, 4, VILLAGE_C, D(2026, 7, 31), outage_days=30),
            village_row(11, 5, VILLAGE_C, D(2026, 9, 1), outage_days=6),
            village_row(11, 6, None, D(2026, 9, 1), outage_days=50),
            village_row(11, 7, VILLAGE_UNKNOWN, D(2026, 9, 1), outage_days=50),
        ),
        expected=(
            alert("h:1", "7", "7", (11, 1), (11, 2)),
            alert("h:2", "7", "7", (11, 1), (11, 2)),
            alert("h:6", "7", "7", (11, 1), (11, 2)),
            alert("h:3", "8", "7", (11, 3)),
        ),
    ),
    RuleCase(
        "default social assistance granted: dibao or tekun, registered or not",
        default_spec("social-assistance-granted"),
        rows=(
            row(12, 1, "p3a", D(2026, 10, 12), assistance_type="dibao", change_type="granted"),
            row(12, 2, "u2", D(2026, 10, 12), assistance_type="tekun", change_type="granted"),
            row(12, 3, "p4a", D(2026, 10, 12), assistance_type="temporary", change_type="granted"),
            row(12, 4, "p1a", D(2026, 10, 12), assistance_type="dibao", change_type="revoked"),
        ),
        expected=(
            alert("p:p3a", "1", "1", (12, 1)),
            alert("p:u2", "1", "1", (12, 2)),
        ),
    ),
    RuleCase(
        "default social assistance revoked: ordinary households and the unregistered left out",
        default_spec("social-assistance-revoked"),
        rows=(
            row(12, 4, "p1a", D(2026, 10, 12), assistance_type="dibao", change_type="revoked"),
            row(12, 5, "p4a", D(2026, 10, 12), assistance_type="dibao", change_type="revoked"),
            row(12, 6, "u1", D(2026, 10, 12), assistance_type="tekun", change_type="revoked"),
            row(12, 7, "p2b", D(2026, 10, 12), assistance_type="temporary", change_type="revoked"),
        ),
        expected=(alert("p:p1a", "1", "1", (12, 4)),),
    ),
    RuleCase(
        "default major illness: every new diagnosis this month",
        default_spec("major-illness-new"),
        rows=(
            row(13, 1, "p6a", D(2026, 10, 30), disease="尿毒症"),
            row(13, 2, "u3", D(2026, 10, 1), disease="白血病"),
            row(13, 3, "p6b", D(2026, 9, 30), disease="白血病"),
        ),
        expected=(
            alert("p:p6a", "1", "1", (13, 1)),
            alert("p:u3", "1", "1", (13, 2)),
        ),
    ),
    # --- aggregation -----------------------------------------------------------------------
    RuleCase(
        "latest per person: newest row decides; same day: later batch and row; blanks skipped",
        rule("medical", "latest", "total_cost", threshold="1000", window=12),
        rows=(
            row(20, 1, "p1a", D(2026, 3, 1), total_cost=Decimal(5000)),
            row(20, 2, "p1a", D(2026, 9, 1), total_cost=Decimal(500)),
            row(20, 3, "p2a", D(2026, 1, 1), total_cost=Decimal(100)),
            row(21, 1, "p2a", D(2026, 10, 31), total_cost=Decimal(1500)),
            row(20, 4, "p3a", D(2026, 6, 1), total_cost=Decimal(2000)),
            row(21, 2, "p3a", D(2026, 6, 1), total_cost=Decimal(1200)),
            row(20, 5, "p3a", D(2026, 6, 1), total_cost=Decimal(900)),
            row(20, 7, "p6a", D(2026, 5, 1), total_cost=Decimal(3000)),
            row(20, 8, "p6a", D(2026, 8, 1), total_cost=None),
            row(20, 9, "u1", D(2025, 10, 31), total_cost=Decimal(9000)),
            row(20, 10, "u1", D(2025, 11, 1), total_cost=Decimal("999.99")),
        ),
        expected=(
            alert("p:p2a", "1500.00", "1000", (20, 3), (21, 1)),
            alert("p:p3a", "1200.00", "1000", (20, 4), (20, 5), (21, 2)),
            alert("p:p6a", "3000.00", "1000", (20, 7), (20, 8)),
        ),
    ),
    RuleCase(
        "latest per village with 'le': population poverty-exited only",
        rule(
            "water",
            "latest",
            "outage_days",
            per="village",
            comparison="le",
            threshold="2",
            window=3,
            population=["poverty_exited"],
        ),
        rows=(
            village_row(31, 1, VILLAGE_A, D(2026, 8, 5), outage_days=10),
            village_row(31, 2, VILLAGE_A, D(2026, 10, 2), outage_days=1),
            village_row(31, 3, VILLAGE_B, D(2026, 10, 30), outage_days=2),
            village_row(31, 4, VILLAGE_B, D(2026, 9, 1), outage_days=0),
            village_row(31, 5, VILLAGE_C, D(2026, 10, 2), outage_days=3),
        ),
        expected=(alert("h:3", "2", "2", (31, 3), (31, 4)),),
    ),
    RuleCase(
        "max per village: every registered household of the village",
        rule("water", "max", "outage_days", per="village", threshold="5", population=REGISTERED),
        rows=(
            village_row(30, 1, VILLAGE_A, D(2026, 10, 3), outage_days=2),
            village_row(30, 2, VILLAGE_A, D(2026, 10, 4), outage_days=5),
            village_row(30, 3, VILLAGE_B, D(2026, 10, 4), outage_days=4),
        ),
        expected=(
            alert("h:1", "5", "5", (30, 1), (30, 2)),
            alert("h:2", "5", "5", (30, 1), (30, 2)),
            alert("h:6", "5", "5", (30, 1), (30, 2)),
        ),
    ),
    RuleCase(
        "min per household with 'lt': registered and unregistered thresholds",
        rule(
            "medical",
            "min",
            "out_of_pocket",
            per="household",
            comparison="lt",
            threshold="10",
            unregistered="1",
            window=12,
        ),
        rows=(
            row(32, 1, "p1a", D(2026, 2, 1), out_of_pocket=Decimal(5)),
            row(32, 2, "p1b", D(2026, 3, 1), out_of_pocket=Decimal(300)),
            row(32, 3, "p2a", D(2026, 3, 1), out_of_pocket=Decimal(10)),
            row(32, 4, "u1", D(2026, 3, 1), out_of_pocket=Decimal(0)),
            row(32, 5, "u2", D(2026, 3, 1), out_of_pocket=Decimal(5)),
        ),
        expected=(
            alert("h:1", "5.00", "10", (32, 1), (32, 2)),
            alert("p:u1", "0.00", "1", (32, 4)),
        ),
    ),
    RuleCase(
        "count per household with 'gt': equal to the threshold is not enough",
        rule("illness", "count", per="household", comparison="gt", threshold="2"),
        rows=(
            row(33, 1, "p2a", D(2026, 10, 1), disease="A"),
            row(33, 2, "p2b", D(2026, 10, 2), disease="B"),
            row(33, 3, "p2c", D(2026, 10, 3), disease="C"),
            row(33, 4, "p1a", D(2026, 10, 1), disease="A"),
            row(33, 5, "p1b", D(2026, 10, 1), disease="B"),
        ),
        expected=(alert("h:2", "3", "2", (33, 1), (33, 2), (33, 3)),),
    ),
    RuleCase(
        "count per person with 'eq'",
        rule("illness", "count", comparison="eq", threshold="2"),
        rows=(
            row(34, 1, "p1a", D(2026, 10, 1), disease="A"),
            row(34, 2, "p1a", D(2026, 10, 2), disease="B"),
            row(34, 3, "p2a", D(2026, 10, 1), disease="A"),
            row(34, 4, "p2a", D(2026, 10, 2), disease="B"),
            row(34, 5, "p2a", D(2026, 10, 3), disease="C"),
            row(34, 6, "p3a", D(2026, 10, 1), disease="A"),
        ),
        expected=(alert("p:p1a", "2", "2", (34, 1), (34, 2)),),
    ),
    RuleCase(
        "exact decimal sums: 0.10 + 0.20 equals 0.30",
        rule("medical", "sum", "out_of_pocket", comparison="eq", threshold="0.30"),
        rows=(
            row(35, 1, "p1a", D(2026, 10, 1), out_of_pocket=Decimal("0.10")),
            row(35, 2, "p1a", D(2026, 10, 2), out_of_pocket=Decimal("0.20")),
            row(35, 3, "p2a", D(2026, 10, 2), out_of_pocket=Decimal("0.31")),
        ),
        expected=(alert("p:p1a", "0.30", "0.30", (35, 1), (35, 2)),),
    ),
    # --- windows ---------------------------------------------------------------------------
    RuleCase(
        "three-month window across a year end, ending in February",
        rule("illness", "count", window=3),
        period="2027-02",
        rows=(
            row(36, 1, "p1a", D(2026, 11, 30), disease="A"),  # day before
            row(36, 2, "p2a", D(2026, 12, 1), disease="A"),  # first day
            row(36, 3, "p3a", D(2027, 2, 28), disease="A"),  # last day
            row(36, 4, "p6a", D(2027, 3, 1), disease="A"),  # day after
        ),
        expected=(
            alert("p:p2a", "1", "1", (36, 2)),
            alert("p:p3a", "1", "1", (36, 3)),
        ),
    ),
    # --- conditions ------------------------------------------------------------------------
    RuleCase(
        "'ne' and 'not_in': rows with the field blank match neither",
        rule(
            "medical",
            "count",
            window=1,
            conditions=(
                cond("visit_type", "ne", "outpatient"),
                cond("diagnosis", "not_in", ["感冒"]),
            ),
        ),
        rows=(
            row(40, 1, "p1a", D(2026, 10, 1), visit_type="inpatient", diagnosis="肺炎"),
            row(40, 2, "p1a", D(2026, 10, 2), visit_type="special_outpatient", diagnosis=None),
            row(40, 3, "p2a", D(2026, 10, 2), visit_type="outpatient", diagnosis="肺炎"),
            row(40, 4, "p3a", D(2026, 10, 2), visit_type="inpatient", diagnosis="感冒"),
            row(40, 5, "u1", D(2026, 10, 2), visit_type=None, diagnosis="骨折"),
        ),
        expected=(alert("p:p1a", "1", "1", (40, 1)),),
    ),
    RuleCase(
        "decimal 'gt' and choice 'in' conditions",
        rule(
            "disaster",
            "count",
            conditions=(
                cond("loss_amount", "gt", "1000.50"),
                cond("house_damage", "in", ["severe", "collapsed"]),
            ),
        ),
        rows=(
            row(
                41, 1, "p1a", D(2026, 10, 1), loss_amount=Decimal("1000.51"), house_damage="severe"
            ),
            row(
                41, 2, "p2a", D(2026, 10, 1), loss_amount=Decimal("1000.50"), house_damage="severe"
            ),
            row(41, 3, "p3a", D(2026, 10, 1), loss_amount=Decimal(5000), house_damage="damaged"),
            row(41, 4, "u1", D(2026, 10, 1), loss_amount=Decimal(2000), house_damage="collapsed"),
        ),
        expected=(
            alert("p:p1a", "1", "1", (41, 1)),
            alert("p:u1", "1", "1", (41, 4)),
        ),
    ),
    RuleCase(
        "integer condition on a village feed",
        rule(
            "water",
            "count",
            per="village",
            threshold="2",
            population=REGISTERED,
            conditions=(cond("outage_days", "ge", "3"),),
        ),
        rows=(
            village_row(42, 1, VILLAGE_A, D(2026, 10, 1), outage_days=3),
            village_row(42, 2, VILLAGE_A, D(2026, 10, 2), outage_days=5),
            village_row(42, 3, VILLAGE_A, D(2026, 10, 3), outage_days=2),
            village_row(42, 4, VILLAGE_B, D(2026, 10, 3), outage_days=3),
        ),
        expected=(
            alert("h:1", "2", "2", (42, 1), (42, 2)),
            alert("h:2", "2", "2", (42, 1), (42, 2)),
            alert("h:6", "2", "2", (42, 1), (42, 2)),
        ),
    ),
    RuleCase(
        "person.age 'gt' with person.labour_capable false, registered only",
        rule(
            "illness",
            "count",
            population=REGISTERED,
            conditions=(
                cond("person.age", "gt", "59"),
                cond("person.labour_capable", "eq", False),
            ),
        ),
        rows=(
            row(43, 1, "p1c", D(2026, 10, 15), birth=D(1960, 1, 1), disease="A"),
            row(43, 2, "p4a", D(2026, 10, 15), birth=D(1966, 10, 16), disease="A"),  # 59
            row(43, 3, "p3b", D(2026, 10, 15), birth=D(1950, 5, 5), disease="A"),
            row(43, 4, "p1a", D(2026, 10, 15), birth=D(1950, 5, 5), disease="A"),  # capable
            row(43, 5, "u1", D(2026, 10, 15), birth=D(1940, 5, 5), disease="A"),
        ),
        expected=(
            alert("p:p1c", "1", "1", (43, 1)),
            alert("p:p3b", "1", "1", (43, 3)),
        ),
    ),
    RuleCase(
        "person.age across a 29 February birthday",
        rule("illness", "count", window=2, conditions=(cond("person.age", "ge", "14"),)),
        period="2026-03",
        rows=(
            row(44, 1, "u1", D(2026, 2, 28), birth=D(2012, 2, 29), disease="A"),  # 13
            row(44, 2, "u2", D(2026, 3, 1), birth=D(2012, 2, 29), disease="A"),  # 14
        ),
        expected=(alert("p:u2", "1", "1", (44, 2)),),
    ),
    RuleCase(
        "household.member_count and person.labour_capable 'ne', per household",
        rule(
            "employment",
            "count",
            per="household",
            population=REGISTERED,
            conditions=(
                cond("household.member_count", "ge", "4"),
                cond("person.labour_capable", "ne", True),
            ),
        ),
        rows=(
            row(45, 1, "p2c", D(2026, 10, 5), change_type="unemployed"),
            row(45, 2, "p1b", D(2026, 10, 5), change_type="unemployed"),
            row(45, 3, "p2a", D(2026, 10, 5), change_type="unemployed"),
        ),
        expected=(alert("h:2", "1", "1", (45, 1)),),
    ),
    # --- populations -----------------------------------------------------------------------
    RuleCase(
        "population: risk-eliminated households only",
        rule("illness", "count", population=["risk_eliminated"]),
        rows=(
            row(50, 1, "p1a", D(2026, 10, 5), disease="A"),
            row(50, 2, "p2a", D(2026, 10, 5), disease="A"),
            row(50, 3, "p3a", D(2026, 10, 5), disease="A"),
            row(50, 4, "u1", D(2026, 10, 5), disease="A"),
        ),
        expected=(alert("p:p2a", "1", "1", (50, 2)),),
    ),
    RuleCase(
        "population: unregistered only, per household (each person alone)",
        rule("illness", "count", per="household", population=["unregistered"]),
        rows=(
            row(51, 1, "p1a", D(2026, 10, 5), disease="A"),
            row(51, 2, "u1", D(2026, 10, 5), disease="A"),
            row(51, 3, "u1", D(2026, 10, 6), disease="B"),
            row(51, 4, "u2", D(2026, 10, 6), disease="B"),
        ),
        expected=(
            alert("p:u1", "2", "1", (51, 2), (51, 3)),
            alert("p:u2", "1", "1", (51, 4)),
        ),
    ),
    RuleCase(
        "population: monitored and ordinary",
        rule("illness", "count", population=["monitored", "ordinary"]),
        rows=(
            row(52, 1, "p1a", D(2026, 10, 5), disease="A"),
            row(52, 2, "p2a", D(2026, 10, 5), disease="A"),
            row(52, 3, "p3a", D(2026, 10, 5), disease="A"),
            row(52, 4, "p4a", D(2026, 10, 5), disease="A"),
            row(52, 5, "p6a", D(2026, 10, 5), disease="A"),
            row(52, 6, "u1", D(2026, 10, 5), disease="A"),
        ),
        expected=(
            alert("p:p1a", "1", "1", (52, 1)),
            alert("p:p4a", "1", "1", (52, 4)),
            alert("p:p6a", "1", "1", (52, 5)),
        ),
    ),
    # --- inputs ----------------------------------------------------------------------------
    RuleCase(
        "no batches staged for the feed",
        default_spec("medical-out-of-pocket-12m"),
        thresholds=MEDICAL_INCOME_SHARES,
        rows=(),
        expected=(),
    ),
    RuleCase(
        "an older batch staged without the source's optional columns",
        default_spec("major-illness-new"),
        missing_columns={60: ("name", "hospital", "village")},
        rows=(
            row(60, 1, "p1a", D(2026, 10, 5), disease="A"),
            row(61, 1, "p2a", D(2026, 10, 5), disease="A", hospital="县人民医院"),
        ),
        expected=(
            alert("p:p1a", "1", "1", (60, 1)),
            alert("p:p2a", "1", "1", (61, 1)),
        ),
    ),
    RuleCase(
        "no staged batch has the optional columns the rule reads (name, village)",
        default_spec("major-illness-new"),
        missing_columns={62: ("name", "hospital", "village"), 63: ("name", "hospital", "village")},
        rows=(
            row(62, 1, "p1a", D(2026, 10, 5), disease="A"),
            row(63, 1, "u1", D(2026, 10, 6), disease="B"),
        ),
        expected=(
            alert("p:p1a", "1", "1", (62, 1)),
            alert("p:u1", "1", "1", (63, 1)),
        ),
    ),
    RuleCase(
        "a condition on an optional column no staged batch has matches nothing",
        rule("illness", "count", conditions=(cond("hospital", "eq", "县人民医院"),)),
        missing_columns={64: ("name", "hospital", "village")},
        rows=(row(64, 1, "p1a", D(2026, 10, 5), disease="A"),),
        expected=(),
    ),
)
