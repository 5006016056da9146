"""What a staged department file keeps of a person (decision 0013): the blind index, the ID's
address code, an age reference date instead of the birth date, free text sealed; files for
the service user alone. Alerts and their evidence still show names and diagnoses in clear,
and rules that compare free text or ages compute as before, on DuckDB and on Spark."""

from __future__ import annotations

import base64
import csv
import datetime as dt
import stat
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlglot import exp

from shouwang.core import crypto
from shouwang.core.idnumber import parse_id_number
from shouwang.registry import choices as rc
from shouwang.screening.choices import BatchStatus, Engine, RunStatus
from shouwang.screening.compiler import _age as compiled_age
from shouwang.screening.engines.base import EngineUnavailable
from shouwang.screening.evidence import alert_evidence
from shouwang.screening.feeds import ingest
from shouwang.screening.feeds.schema import age_reference_date, feed_arrow_schema
from shouwang.screening.feeds.sealing import is_sealed, read_staged, sealed_field_names
from shouwang.screening.feeds.services import (
    feed_batch_execute,
    feed_batch_import,
    feed_batch_submit,
    feed_upload_path,
)
from shouwang.screening.models import Alert, FeedSource
from shouwang.screening.services import rule_create, screening_run
from shouwang.screening.sources import DEFAULT_SOURCES
from tests import factories as f
from tests.screening.staging import stage_rows

pytestmark = pytest.mark.django_db

PERIOD = "2026-10"
MEDICAL_HEADER = [
    "身份证号码",
    "姓名",
    "结算日期",
    "就诊类别",
    "个人自付金额",
    "主要诊断",
    "所在村（社区）",
]
ALL = ["monitored", "risk_eliminated", "poverty_exited", "ordinary", "unregistered"]
INPATIENT = "inpatient-out-of-pocket-month"
DROPOUT = "compulsory-school-dropout"


def write_csv(path: Path, header: list[str], rows: list[list[str]]) -> Path:
    with path.open("w", encoding="gb18030", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def people():
    """A registered member, two people outside the registry; birth dates not on 1 January."""
    household = f.make_household(members=1)
    member_id = f.next_id_number(birth=dt.date(1961, 7, 23), male=False)
    f.make_member(household, id_number=member_id, name="冉秀英", relation=rc.Relation.SPOUSE)
    return {
        "member": (member_id, "冉秀英", household),
        "stranger": (f.next_id_number(birth=dt.date(1975, 3, 14)), "陈大文", None),
        "other": (f.next_id_number(birth=dt.date(1990, 11, 2)), "王䶮", None),
    }


def medical_file(path: Path, people, *, diagnoses=("脑梗死", "感冒", "脑梗死")) -> Path:
    rows = []
    for key, diagnosis in zip(("member", "stranger", "other"), diagnoses, strict=True):
        id_number, name, household = people[key]
        village = household.village_id if household is not None else ""
        rows.append([id_number, name, "2026-10-05", "住院", "25000", diagnosis, village])
    rows.append(["12345", "错号", "2026-10-06", "住院", "1", "骨折", ""])  # rejected
    return write_csv(path, MEDICAL_HEADER, rows)


def diagnosis_rule(op: str, values: list[str]) -> str:
    slug = f"diagnosis-{op.replace('_', '-')}"
    rule_create(
        actor=None,
        slug=slug,
        name="按诊断",
        spec={
            "feed": "medical",
            "conditions": [{"field": "diagnosis", "op": op, "value": values}],
            "aggregate": {"function": "count", "field": None},
            "window_months": 1,
            "per": "person",
            "comparison": "ge",
            "threshold": {"value": "1"},
            "population": ALL,
            "risk_type": "illness",
            "severity": "medium",
        },
    )
    return slug


# -- the staged file ------------------------------------------------------------------------


def test_a_staged_file_holds_no_clear_name_id_birth_date_or_diagnosis(tmp_path, people):
    medical = FeedSource.objects.get(slug="medical")
    path = medical_file(tmp_path / "医保.csv", people)
    batch = feed_batch_import(actor=None, source=medical, path=path, period=PERIOD)
    assert batch.status == BatchStatus.STAGED and batch.rows_accepted == 3
    staged = Path(batch.parquet_path)

    table = pq.read_table(staged)
    assert "sex" not in table.column_names and "id_number" not in table.column_names
    assert sealed_field_names(table.schema) == ["name", "diagnosis"]
    values = {value for column in table.columns for value in column.to_pylist()}
    raw = staged.read_bytes()
    for id_number, name, _household in people.values():
        assert id_number not in values and name not in values
        assert id_number.encode() not in raw and name.encode() not in raw
        assert name.encode("gb18030") not in raw
        assert id_number[6:14].encode() not in raw  # the birth date as digits
    for diagnosis in ("脑梗死", "感冒"):
        assert diagnosis not in values and diagnosis.encode() not in raw
    assert all(is_sealed(v) for v in table["name"].to_pylist() + table["diagnosis"].to_pylist())
    # The same value is sealed once per file: the two 脑梗死 rows share a ciphertext.
    diagnoses = table["diagnosis"].to_pylist()
    assert len(set(diagnoses)) == 2

    # Birth dates are not kept: the date that gives the age on the row's day is.
    births = {crypto.blind_index(i): parse_id_number(i).birth_date for i, _n, _h in people.values()}
    for row in table.to_pylist():
        birth = births[row["person_index"]]
        assert row["birth_date"] != birth
        assert row["birth_date"] == age_reference_date(birth, row["settled_on"])
        assert row["birth_date"].month == 1 and row["birth_date"].day == 1

    # Opened where read: the same rows as the department wrote them.
    opened = read_staged(staged)
    assert sorted(opened["name"].to_pylist()) == sorted(n for _i, n, _h in people.values())
    assert sorted(opened["diagnosis"].to_pylist()) == ["感冒", "脑梗死", "脑梗死"]

    rejects = Path(batch.rejects_path)
    assert "12345" not in rejects.read_text(encoding="utf-8-sig")
    assert mode(staged) == 0o600 and mode(rejects) == 0o600
    assert mode(staged.parent) == 0o700 and mode(staged.parent.parent) == 0o700


def test_an_upload_waits_for_the_worker_readable_by_the_service_only(
    tmp_path, people, district_staff
):
    medical = FeedSource.objects.get(slug="medical")
    data = medical_file(tmp_path / "医保.csv", people).read_bytes()
    batch = feed_batch_submit(
        actor=district_staff, source=medical, file_name="医保.csv", chunks=[data], period=PERIOD
    )
    upload = feed_upload_path(batch)
    assert upload.read_bytes() == data
    assert mode(upload) == 0o600 and mode(upload.parent) == 0o700
    feed_batch_execute(batch.pk)
    batch.refresh_from_db()
    assert batch.status == BatchStatus.STAGED and not upload.exists()
    assert mode(Path(batch.parquet_path)) == 0o600


def test_the_age_reference_gives_every_age_the_birth_date_gives():
    """The importer's vectorised reference date and ``age_reference_date`` agree, and the
    compiler's age from either equals the age from the birth date (leap days included)."""
    births = [dt.date(2009, 9, 2), dt.date(2009, 9, 1), dt.date(2012, 2, 29), dt.date(1950, 12, 31)]
    ons = [dt.date(2026, 9, 1), dt.date(2028, 2, 28), dt.date(2028, 2, 29), dt.date(2026, 1, 1)]
    pairs = [(b, o) for b in births for o in ons] + [(dt.date(2020, 6, 1), dt.date(2020, 1, 1))]
    epoch = dt.date(1970, 1, 1)
    days = ingest._age_reference_days(
        np.array([(b - epoch).days for b, _o in pairs]),
        np.array([(o - epoch).days for _b, o in pairs]),
    )
    references = [epoch + dt.timedelta(days=int(d)) for d in days]
    assert references == [age_reference_date(b, o) for b, o in pairs]
    table = pa.table(
        {
            "birth": [b for b, _o in pairs],
            "reference": references,
            "on_day": [o for _b, o in pairs],
        }
    )
    connection = duckdb.connect()
    connection.register("t", table)
    age_of = {
        column: compiled_age(exp.column(column), exp.column("on_day")).sql(dialect="duckdb")
        for column in ("birth", "reference")
    }
    rows = connection.sql(f"SELECT {age_of['birth']}, {age_of['reference']} FROM t").fetchall()
    assert all(by_birth == by_reference for by_birth, by_reference in rows)
    assert rows[0][0] == 16  # 17th birthday tomorrow


@given(
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2026, 12, 31)),
    on=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31)),
)
def test_the_age_reference_keeps_the_age_whatever_the_dates(birth, on):
    def age(born: dt.date) -> int:
        stamp = on.year * 10000 + on.month * 100 + on.day
        return (stamp - (born.year * 10000 + born.month * 100 + born.day)) // 10000

    reference = age_reference_date(birth, on)
    assert age(reference) == age(birth) and (reference.month, reference.day) == (1, 1)


def test_the_schema_marks_free_text_sealed_and_stages_no_sex():
    for source in DEFAULT_SOURCES:
        schema = feed_arrow_schema(list(source.columns))
        texts = [c.field for c in source.columns if c.type == "text"]
        assert sealed_field_names(schema) == texts
        assert "sex" not in schema.names


# -- alerts and evidence --------------------------------------------------------------------


def stage_medical_file(directory: Path, people) -> None:
    medical = FeedSource.objects.get(slug="medical")
    path = medical_file(directory / "医保.csv", people)
    assert feed_batch_import(actor=None, source=medical, path=path, period=PERIOD).rows_accepted
    path.unlink()


def _run_and_check(directory: Path, people, engine: str) -> None:
    stage_medical_file(directory, people)
    matched = diagnosis_rule("in", ["脑梗死"])
    other = diagnosis_rule("not_in", ["脑梗死"])
    run = screening_run(
        actor=None, engine=engine, period=PERIOD, rule_slugs=[INPATIENT, matched, other]
    )
    assert run.status == RunStatus.SUCCEEDED, run.message

    inpatient = {a.person_name: a for a in Alert.objects.filter(rule__slug=INPATIENT)}
    assert set(inpatient) == {"冉秀英", "陈大文", "王䶮"}  # names in clear on the alerts
    member_alert = inpatient["冉秀英"]
    assert member_alert.household_id == people["member"][2].pk
    # A rule on the sealed diagnosis compares clear text.
    assert {a.person_name for a in Alert.objects.filter(rule__slug=matched)} == {"冉秀英", "王䶮"}
    assert {a.person_name for a in Alert.objects.filter(rule__slug=other)} == {"陈大文"}

    evidence = alert_evidence(member_alert)
    (item,) = evidence.batches
    assert item.problem == ""
    assert "姓名" in item.headers and "主要诊断" in item.headers
    (row,) = item.rows
    shown = dict(row[1])
    assert shown["姓名"] == "冉秀英" and shown["主要诊断"] == "脑梗死"


def test_alerts_and_evidence_show_clear_text_on_duckdb(tmp_path, people):
    _run_and_check(tmp_path, people, Engine.DUCKDB)


def test_alerts_and_evidence_show_clear_text_on_spark(tmp_path, people, spark_engine):
    _run_and_check(tmp_path, people, Engine.SPARK)


def test_a_batch_staged_in_clear_before_sealing_still_screens_and_shows(people):
    """Batches staged before sealing hold clear text until purged: read as they are."""
    id_number, name, household = people["member"]
    stage_rows(
        "medical",
        [
            {
                "id_number": id_number,
                "name": name,
                "settled_on": dt.date(2026, 10, 3),
                "visit_type": "inpatient",
                "out_of_pocket": 9000,
                "diagnosis": "脑梗死",
                "village": household.village_id,
            }
        ],
        period=PERIOD,
    )
    matched = diagnosis_rule("in", ["脑梗死"])
    screening_run(actor=None, period=PERIOD, rule_slugs=[matched])
    alert = Alert.objects.get(rule__slug=matched)
    assert alert.person_name == name
    (item,) = alert_evidence(alert).batches
    assert dict(item.rows[0][1])["主要诊断"] == "脑梗死"


@pytest.fixture
def another_key(settings):
    """The data key replaced (a restore without the right key); the real one afterwards."""
    yield lambda: (
        setattr(settings, "SHOUWANG_DATA_KEY", base64.b64encode(b"k" * 32).decode()),
        crypto.reset_key_cache(),
    )
    crypto.reset_key_cache()


def test_sealed_text_under_another_key_is_refused_not_shown(tmp_path, people, another_key):
    stage_medical_file(tmp_path, people)
    screening_run(actor=None, period=PERIOD, rule_slugs=[INPATIENT])
    alert = Alert.objects.filter(rule__slug=INPATIENT).first()
    another_key()
    (item,) = alert_evidence(alert).batches
    assert "无法解密" in item.problem and item.rows == []
    matched = diagnosis_rule("in", ["脑梗死"])
    with pytest.raises(EngineUnavailable, match="无法解密"):
        screening_run(actor=None, period=PERIOD, rule_slugs=[matched])


@pytest.mark.parametrize("engine", [Engine.DUCKDB, Engine.SPARK])
def test_ages_at_the_edges_come_out_as_from_the_birth_date(tmp_path, request, engine):
    """The shipped dropout rule (6 to 16 on the row's date) over a file staged the real way:
    birthdays the day before and on the event date, at both ends."""
    if engine == Engine.SPARK:
        request.getfixturevalue("spark_engine")
    on = "2026-09-01"
    students = {
        "sixteen": f.next_id_number(birth=dt.date(2009, 9, 2)),  # 17 tomorrow: still 16
        "seventeen": f.next_id_number(birth=dt.date(2009, 9, 1)),
        "six": f.next_id_number(birth=dt.date(2020, 9, 1)),
        "five": f.next_id_number(birth=dt.date(2020, 9, 2)),
    }
    header = ["学生身份证号码", "学生姓名", "变动日期", "学校名称", "学段", "学籍状态"]
    rows = [[i, f"学生{k}", on, "火炉中学", "初中", "辍学"] for k, i in students.items()]
    path = write_csv(tmp_path / "教委.csv", header, rows)
    education = FeedSource.objects.get(slug="education")
    batch = feed_batch_import(actor=None, source=education, path=path, period="2026-09")
    assert batch.rows_accepted == 4
    staged = pq.read_table(batch.parquet_path)
    assert {d.month for d in staged["birth_date"].to_pylist()} == {1}
    run = screening_run(actor=None, engine=engine, period="2026-10", rule_slugs=[DROPOUT])
    assert run.status == RunStatus.SUCCEEDED, run.message
    flagged = set(Alert.objects.filter(rule__slug=DROPOUT).values_list("person_index", flat=True))
    expected = {crypto.blind_index(students["sixteen"]), crypto.blind_index(students["six"])}
    assert flagged == expected
    names = set(Alert.objects.filter(rule__slug=DROPOUT).values_list("person_name", flat=True))
    assert names == {"学生sixteen", "学生six"}
