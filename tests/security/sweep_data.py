"""The records the route sweep requests: one of every kind a route can name, in 向前村 (area A),
built through the services as real writes are; and what tells them apart in a response.

Area A's records carry marker texts (household numbers, names, notes) that appear nowhere
else, so a response that shows one of them has leaked a record of area A. The sweep's users
come from two other areas: a cadre of 火炉社区 (another village of the same township) and a
township user of 凤山街道 (another township). The cadre of 火炉社区 also has records of
their own (households, a grid, a case, an alert, a plan, a meeting, a review), so that a
route naming two objects is tried with the first one theirs and the second one area A's,
and a request on their own record can aim its body at area A.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from django.apps import apps
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection

from shouwang.assistance.choices import OfferKind, OrganisationKind, Programme
from shouwang.assistance.models import Measure, MeasureGroup, RecommendationRule
from shouwang.assistance.services import plan_accept
from shouwang.assistance.social_services import matches_propose, offer_save
from shouwang.cases.attachment_services import case_attachment_add
from shouwang.cases.choices import AttachmentKind, LeadChannel
from shouwang.cases.routine_choices import AgendaKind
from shouwang.cases.routine_services import (
    campaign_check_record,
    campaign_open,
    meeting_create,
    review_record,
)
from shouwang.cases.services import case_open, lead_create
from shouwang.core.choices import Department, Role
from shouwang.core.jurisdiction import actor_prefixes
from shouwang.core.models import Division, User
from shouwang.policy.services import policy_value_create
from shouwang.registry import choices as rc
from shouwang.registry.grid_services import grid_create, households_assign_to_grid
from shouwang.registry.io.services import registry_import
from shouwang.registry.models import Household
from shouwang.screening.feeds.services import feed_batch_import
from shouwang.screening.models import Alert, FeedSource, Rule
from shouwang.screening.services import screening_run
from tests import factories as f

TOWNSHIP_FENGSHAN = "500156001000"
#: The department's data month, and the rule that turns an inpatient stay into an alert.
FEED_PERIOD = "2025-09"
INPATIENT_RULE = "inpatient-out-of-pocket-month"
TODAY = dt.date(2026, 11, 20)
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64

#: Texts that exist only in area A's records: none may appear in a response to the sweep.
HEAD_NAME = "蔺奉先"
PATIENT_NAME = "蔺秋月"
APPLICANT_HEAD = "郗望舒"
LEAD_PERSON = "晏紫苏"
CADRE_NAME = "蔺守田"
UNPLANNED_HEAD = "蔺无计"
MARKER_TEXTS = (
    CADRE_NAME,
    UNPLANNED_HEAD,
    HEAD_NAME,
    PATIENT_NAME,
    APPLICANT_HEAD,
    LEAD_PERSON,
    "蔺家网格",
    "蔺家线索说明",
    "郗家申请说明",
    "蔺家入户照片",
    "蔺家研判意见",
    "蔺家排查说明",
    "蔺家会议纪要",
    "蔺家纺织车间",
    "蔺家导入.csv",
)


@dataclass(frozen=True)
class Ref:
    """A value that fills a route parameter, and whose it is.

    ``area`` is the code prefix of the division the record belongs to (a village's 12 digits,
    a township's 9, the county's 6), ``None`` for a value of no area (a workflow verb).
    ``owner`` is set when the record is one user's own (an import job), whatever the area.
    """

    value: Any
    label: str
    area: str | None = None
    owner: int | None = None

    def foreign_to(self, user: User) -> bool:
        """Neither in the user's area nor above it (a township's campaign is also its
        villages'), or another user's own."""
        if self.owner is not None:
            return self.owner != user.pk
        if self.area is None:
            return False
        return not any(
            self.area.startswith(mine) or mine.startswith(self.area)
            for mine in actor_prefixes(user)
        )

    def own_of(self, user: User) -> bool:
        """In the user's area (not merely above it), or the user's own."""
        if self.owner is not None:
            return self.owner == user.pk
        return self.area is not None and any(
            self.area.startswith(mine) for mine in actor_prefixes(user)
        )


@dataclass
class SweepWorld:
    """What the sweep fills routes with, and what must never show in its responses."""

    users: dict[str, User]
    refs: dict[str, list[Ref]]
    markers: list[str] = field(default_factory=list)
    #: Full ID and phone numbers of area A's people: never in a response. (Masked ones are
    #: not checked: another village's masks can read the same.)
    secrets: list[str] = field(default_factory=list)
    #: Ids the hostile request bodies and queries point at.
    targets: dict[str, Any] = field(default_factory=dict)
    #: ``database_digest()`` once the records are built, and per user leaving their area out.
    baseline: dict[str, tuple[int, str]] = field(default_factory=dict)
    baselines_elsewhere: dict[str, dict[str, tuple[int, str]]] = field(default_factory=dict)


def _phone(n: int) -> str:
    return f"137{n:08d}"


def _temporary_file(suffix: str, rows: list[list[str]], encoding: str = "utf-8") -> Path:
    handle = tempfile.NamedTemporaryFile("w", suffix=suffix, delete=False, encoding=encoding)
    with handle:
        csv.writer(handle).writerows(rows)
    return Path(handle.name)


def _monitored_household(village: str, number: str, head: str, **extra: Any) -> Household:
    household = f.make_household(
        village,
        members=0,
        household_number=number,
        household_type=rc.HouseholdType.MONITORED,
        monitoring_category=rc.MonitoringCategory.MARGINAL,
        monitoring_status=rc.MonitoringStatus.RISK_UNRESOLVED,
        identified_month="202601",
        risk_type_1=rc.RiskType.ILLNESS,
        risk_type_2=rc.RiskType.UNSTABLE_EMPLOYMENT,
        **extra,
    )
    f.make_member(household, name=head, relation=rc.Relation.HEAD)
    return household


def build_sweep_world() -> SweepWorld:
    village_a = Division.objects.get(code=f.VILLAGE_A)
    village_b = Division.objects.get(code=f.VILLAGE_B)
    township_huolu = Division.objects.get(code=f.TOWNSHIP_HUOLU)
    county = Division.objects.get(code=f.COUNTY_WULONG)

    cadre_a = f.make_user(
        "sweep-cadre-a", Role.VILLAGE_CADRE, [f.VILLAGE_A], display_name=CADRE_NAME
    )
    district = f.make_user("sweep-district", Role.DISTRICT_ADMIN, [f.COUNTY_WULONG])
    cadre_b = f.make_user("sweep-cadre-b", Role.VILLAGE_CADRE, [f.VILLAGE_B])
    township_other = f.make_user("sweep-fengshan", Role.TOWNSHIP_STAFF, [TOWNSHIP_FENGSHAN])

    # --- registry ---------------------------------------------------------------------------
    monitored = _monitored_household(
        f.VILLAGE_A, f"{f.VILLAGE_A}9901", HEAD_NAME, phone=_phone(90001)
    )
    patient_id = f.next_id_number(male=False)
    patient = f.make_member(
        monitored, id_number=patient_id, name=PATIENT_NAME, relation=rc.Relation.SPOUSE
    )
    applicant = f.make_household(
        f.VILLAGE_A, members=0, household_number=f"{f.VILLAGE_A}9902", phone=_phone(90002)
    )
    applicant_head_id = f.next_id_number()
    f.make_member(applicant, id_number=applicant_head_id, name=APPLICANT_HEAD)
    # Monitored, without a plan or a review: on the coverage problem lists, the reviews
    # still due and the elimination candidates.
    _monitored_household(f.VILLAGE_A, f"{f.VILLAGE_A}9903", UNPLANNED_HEAD, phone=_phone(90005))
    monitored.refresh_from_db()
    applicant.refresh_from_db()

    grid_a = grid_create(actor=cadre_a, name="蔺家网格", village=village_a, members=[cadre_a])
    households_assign_to_grid(actor=cadre_a, grid=grid_a, household_ids=[monitored.pk])

    registry_file = _temporary_file(
        ".csv", [["户编号", "姓名"], [monitored.household_number, HEAD_NAME]]
    )
    try:
        import_job = registry_import(actor=cadre_a, path=registry_file).job
    finally:
        registry_file.unlink()
    import_job.file_name = "蔺家导入.csv"
    import_job.save(update_fields=["file_name"])

    own_monitored = _monitored_household(
        f.VILLAGE_B, f"{f.VILLAGE_B}9901", "柏本村", phone=_phone(90011)
    )
    own_patient_id = f.next_id_number(male=False)
    own_patient = f.make_member(
        own_monitored, id_number=own_patient_id, name="柏二妹", relation=rc.Relation.SPOUSE
    )
    own_household = f.make_household(
        f.VILLAGE_B, members=1, household_number=f"{f.VILLAGE_B}9902", phone=_phone(90012)
    )
    own_grid = grid_create(actor=cadre_b, name="火炉社区一组", village=village_b)
    own_lead = lead_create(
        actor=cadre_b,
        channel=LeadChannel.HOME_VISIT,
        division=village_b,
        household=own_household,
        description="本村走访",
        received_on=TODAY - dt.timedelta(days=5),
    )

    # --- screening: a department file with one good and one bad row, a run, an alert ------
    medical = FeedSource.objects.get(slug="medical")
    feed_file = _temporary_file(
        ".csv",
        [
            ["身份证号码", "姓名", "结算日期", "就诊类别", "个人自付金额", "所在村（社区）"],
            [patient_id, PATIENT_NAME, "2025-09-03", "住院", "8000", "向前村"],
            [own_patient_id, "柏二妹", "2025-09-05", "住院", "8000", "火炉社区"],
            ["12345", HEAD_NAME, "2025-09-04", "住院", "9000", "向前村"],
        ],
        encoding="gb18030",
    )
    try:
        batch = feed_batch_import(
            actor=district, source=medical, path=feed_file, period=FEED_PERIOD
        )
    finally:
        feed_file.unlink()
    assert batch.rows_rejected == 1 and batch.rejects_path, batch.message
    run = screening_run(actor=district, period=FEED_PERIOD, rule_slugs=[INPATIENT_RULE])
    alert = Alert.objects.get(household=monitored)
    own_alert = Alert.objects.get(household=own_monitored)

    # --- cases: an open lead on a person not in the registry, a case with an attachment ----
    lead_open = lead_create(
        actor=cadre_a,
        channel=LeadChannel.WHISTLEBLOWER,
        division=village_a,
        person_name=LEAD_PERSON,
        phone=_phone(90003),
        description="蔺家线索说明",
        received_on=TODAY - dt.timedelta(days=3),
    )
    case_lead = lead_create(
        actor=cadre_a,
        channel=LeadChannel.HOME_VISIT,
        division=village_a,
        household=applicant,
        description="郗家申请说明",
        received_on=TODAY - dt.timedelta(days=5),
    )
    case_a = case_open(actor=cadre_a, lead=case_lead, today=TODAY - dt.timedelta(days=4))
    attachment = case_attachment_add(
        actor=cadre_a,
        case=case_a,
        file=SimpleUploadedFile("visit.png", PNG),
        kind=AttachmentKind.OTHER,
        title="蔺家入户照片",
    )

    # --- assistance: a plan with two measures, social offers matched to the household --------
    plan = plan_accept(
        actor=cadre_a,
        household=monitored,
        items=[
            # Due before the sweep runs: on the overdue list.
            {"measure": Measure.objects.get(name="医疗救助"), "planned_end": TODAY},
            {
                "measure": Measure.objects.get(name="劳务输出（转移就业）"),
                "planned_end": TODAY + dt.timedelta(days=60),
            },
        ],
        today=TODAY,
    )
    plan_measure = plan.measures.get(measure__name="医疗救助")
    job_measure = Measure.objects.get(name="鲁渝协作就业岗位")
    offer_fields = {
        "organisation": "淄博某纺织有限公司",
        "organisation_kind": OrganisationKind.PAIRED_REGION,
        "programme": Programme.LUYU,
        "kind": OfferKind.JOB,
        "measure": job_measure,
        "capacity": 5,
    }
    offer_a = offer_save(
        actor=district, data={**offer_fields, "title": "蔺家纺织车间", "division": village_a}
    )
    offer_county = offer_save(
        actor=district, data={**offer_fields, "title": "纺织车间普工", "division": county}
    )
    (match_a,) = matches_propose(actor=district, offer=offer_a, today=TODAY)
    (match_county,) = matches_propose(actor=district, offer=offer_county, today=TODAY)

    # --- routines: the village's meeting, a quarterly review, campaigns and a check ---------
    meeting = meeting_create(
        actor=cadre_a,
        village=village_a,
        month="202611",
        held_on=TODAY - dt.timedelta(days=2),
        attendees="村支书、村主任、驻村第一书记、监测员",
        decisions={kind: "蔺家会议纪要" for kind in AgendaKind.values},
        summary="蔺家会议纪要",
        today=TODAY,
    )
    review = review_record(
        actor=cadre_a,
        household=monitored,
        reviewed_on=TODAY - dt.timedelta(days=1),
        risk_present=True,
        plan_needs_change=False,
        reviewers="网格员、驻村工作队",
        note="蔺家研判意见",
        today=TODAY,
    )
    campaign_county = campaign_open(
        actor=district,
        name="2026年集中排查",
        scope=county,
        starts_on=dt.date(2026, 11, 1),
        ends_on=dt.date(2026, 12, 31),
    )
    campaign_huolu = campaign_open(
        actor=district,
        name="火炉镇春季排查",
        scope=township_huolu,
        starts_on=dt.date(2027, 3, 1),
        ends_on=dt.date(2027, 3, 31),
    )
    campaign_check_record(
        actor=cadre_a,
        campaign=campaign_county,
        household=monitored,
        checked_on=TODAY - dt.timedelta(days=1),
        checker="网格员甲",
        result="no_change",
        note="蔺家排查说明",
        today=TODAY,
    )
    policy_value = policy_value_create(
        actor=district,
        parameter="notice_days",
        division=county,
        year=None,
        value="7",
        source="武隆区实施细则",
    )

    # --- the other village's own records, for routes naming two objects or aimed at A ------
    own_case = case_open(actor=cadre_b, lead=own_lead, today=TODAY - dt.timedelta(days=4))
    own_plan = plan_accept(
        actor=cadre_b,
        household=own_monitored,
        items=[{"measure": Measure.objects.get(name="医疗救助")}],
        today=TODAY,
    )
    own_meeting = meeting_create(
        actor=cadre_b,
        village=village_b,
        month="202611",
        held_on=TODAY - dt.timedelta(days=2),
        attendees="村支书、村主任、监测员",
        decisions={kind: "按时办理" for kind in AgendaKind.values},
        today=TODAY,
    )
    own_review = review_record(
        actor=cadre_b,
        household=own_monitored,
        reviewed_on=TODAY - dt.timedelta(days=1),
        risk_present=True,
        plan_needs_change=False,
        reviewers="网格员",
        today=TODAY,
    )

    a, b, huolu, everyone = village_a.prefix, village_b.prefix, township_huolu.prefix, county.prefix
    screening_rule = Rule.objects.get(slug=INPATIENT_RULE)
    refs: dict[str, list[Ref]] = {
        "household": [
            Ref(monitored.pk, "household of 向前村", a),
            Ref(own_monitored.pk, "household of 火炉社区", b),
        ],
        "member": [
            Ref(patient.pk, "member of 向前村", a),
            Ref(own_patient.pk, "member of 火炉社区", b),
        ],
        "grid": [Ref(grid_a.pk, "grid of 向前村", a), Ref(own_grid.pk, "grid of 火炉社区", b)],
        "import_job": [Ref(import_job.pk, "import job of 向前村's cadre", owner=cadre_a.pk)],
        "alert": [Ref(alert.pk, "alert of 向前村", a), Ref(own_alert.pk, "alert of 火炉社区", b)],
        "run": [Ref(run.pk, "screening run", everyone)],
        "batch": [Ref(batch.pk, "feed batch", everyone)],
        "feed_source": [Ref(medical.slug, "feed source", everyone)],
        "screening_rule": [Ref(screening_rule.slug, "screening rule", everyone)],
        "policy_value": [Ref(policy_value.pk, "policy value of the county", everyone)],
        "case": [Ref(case_a.pk, "case of 向前村", a), Ref(own_case.pk, "case of 火炉社区", b)],
        "attachment": [Ref(attachment.pk, "case attachment of 向前村", a)],
        "lead": [Ref(lead_open.pk, "lead of 向前村", a), Ref(own_lead.pk, "lead of 火炉社区", b)],
        "meeting": [
            Ref(meeting.pk, "meeting of 向前村", a),
            Ref(own_meeting.pk, "meeting of 火炉社区", b),
        ],
        "review": [
            Ref(review.pk, "quarterly review of 向前村", a),
            Ref(own_review.pk, "review of 火炉社区", b),
        ],
        "campaign": [
            Ref(campaign_county.pk, "county campaign", everyone),
            Ref(campaign_huolu.pk, "campaign of 火炉镇", huolu),
        ],
        "plan": [Ref(plan.pk, "plan of 向前村", a), Ref(own_plan.pk, "plan of 火炉社区", b)],
        "plan_measure": [
            Ref(plan_measure.pk, "plan measure of 向前村", a),
            Ref(own_plan.measures.get().pk, "plan measure of 火炉社区", b),
        ],
        "measure_group": [Ref(job_measure.group_id, "measure group", everyone)],
        "measure": [Ref(job_measure.pk, "catalogue measure", everyone)],
        "recommendation_rule": [
            Ref(
                RecommendationRule.objects.order_by("pk").first().pk,
                "recommendation rule",
                everyone,
            )
        ],
        "offer": [
            Ref(offer_a.pk, "social offer in 向前村", a),
            Ref(offer_county.pk, "county-wide social offer", everyone),
        ],
        "match": [
            Ref(match_a.pk, "social match of 向前村", a),
            Ref(match_county.pk, "social match of 向前村 on the county-wide offer", a),
        ],
        "village": [Ref(f.VILLAGE_A, "向前村", a), Ref(f.VILLAGE_B, "火炉社区", b)],
    }
    return SweepWorld(
        users={"village_b": cadre_b, "township_other": township_other},
        refs=refs,
        markers=[
            *MARKER_TEXTS,
            monitored.household_number,
            applicant.household_number,
            f"{f.VILLAGE_A}9903",
        ],
        secrets=[
            patient_id,
            applicant_head_id,
            *(_phone(n) for n in (90001, 90002, 90003, 90005)),
        ],
        targets={
            "household": monitored.pk,
            "applicant_household": applicant.pk,
            "member": patient.pk,
            "case": case_a.pk,
            "lead": lead_open.pk,
            "alert": alert.pk,
            "plan": plan.pk,
            "plan_measure": plan_measure.pk,
            "meeting": meeting.pk,
            "offer": offer_a.pk,
            "match": match_a.pk,
            "grid": grid_a.pk,
            "campaign": campaign_county.pk,
            "measure": job_measure.pk,
            "measure_group": MeasureGroup.objects.get(pk=job_measure.group_id).pk,
            "village": f.VILLAGE_A,
            "patient_id_number": patient_id,
            "cadre": cadre_a.pk,
            "department": Department.MEDICAL_INSURANCE,
        },
    )


# --- what "changes nothing" compares ---------------------------------------------------------

#: Rows a refused request may add: the audit trail (refusals and denied reveals are audited),
#: sessions and API tokens.
UNCOMPARED_MODELS = frozenset({"core.AuditEvent", "sessions.Session", "authtoken.Token"})
#: Fields that change on signing in, which the sweep's users do.
UNCOMPARED_FIELDS = {"core.User": frozenset({"last_login"})}


#: Relations followed first when looking for the division a row belongs to.
_AREA_FIELDS = ("village", "division", "household", "case", "plan", "meeting", "grid", "scope")


def area_path(model: type) -> str | None:
    """The shortest chain of foreign keys from ``model`` to a division (``household__village``
    for a member), ``None`` for rows of no area (the catalogue, users)."""
    from shouwang.core.models import Division

    if model is Division:
        return "code"
    queue: list[tuple[type, str, int]] = [(model, "", 0)]
    while queue:
        current, path, depth = queue.pop(0)
        relations = [fd for fd in current._meta.concrete_fields if fd.many_to_one or fd.one_to_one]
        relations.sort(
            key=lambda fd: (
                fd.name not in _AREA_FIELDS,
                _AREA_FIELDS.index(fd.name) if fd.name in _AREA_FIELDS else 0,
            )
        )
        for fd in relations:
            step = f"{path}__{fd.name}" if path else fd.name
            if fd.related_model is Division:
                return step
            if depth < 3 and fd.related_model is not current:
                queue.append((fd.related_model, step, depth + 1))
    return None


def _compared_queries() -> list[tuple[str, bool, str, tuple[Any, ...]]]:
    """(model label, whether the first column is the row's division, SQL, parameters) reading
    every compared row, built once: building ORM queries would cost more than reading them,
    and the sweep digests often."""
    queries = []
    for model in apps.get_models(include_auto_created=True):
        meta = model._meta
        if meta.proxy or not meta.managed or meta.label in UNCOMPARED_MODELS:
            continue
        skipped = UNCOMPARED_FIELDS.get(meta.label, frozenset())
        columns = [fd.attname for fd in meta.concrete_fields if fd.name not in skipped]
        area = area_path(model)
        rows = model._base_manager.order_by("pk").values_list(*([area] if area else []), *columns)
        sql, params = rows.query.sql_with_params()
        queries.append((meta.label, area is not None, sql, tuple(params)))
    return queries


_queries: list[tuple[str, bool, str, tuple[Any, ...]]] = []


def database_digest(*, leaving_out: tuple[str, ...] = ()) -> dict[str, tuple[int, str]]:
    """Row count and SHA-256 of the rows of every table but the audit trail and sessions;
    rows placed under one of the division prefixes ``leaving_out`` are not counted (a user's
    own area, where their own writes may land)."""
    if not _queries:
        _queries.extend(_compared_queries())
    digest: dict[str, tuple[int, str]] = {}
    with connection.cursor() as cursor:
        for label, placed, sql, params in _queries:
            cursor.execute(sql, params)
            rows = cursor.fetchall()
            if placed and leaving_out:
                rows = [r for r in rows if not (r[0] or "").startswith(leaving_out)]
            digest[label] = (len(rows), hashlib.sha256(repr(rows).encode()).hexdigest())
    return digest


def writes_so_far() -> int:
    """Rows written by this connection so far, a cheap sign that a request wrote something
    (audit rows included); the digest then says whether it was anything compared."""
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)"
                " FROM pg_stat_xact_user_tables"
            )
        else:
            cursor.execute("SELECT total_changes()")
        return int(cursor.fetchone()[0])


def digest_changes(
    before: dict[str, tuple[int, str]], after: dict[str, tuple[int, str]]
) -> list[str]:
    changes = []
    for label in sorted(before.keys() | after.keys()):
        old, new = before.get(label), after.get(label)
        if old != new:
            old_rows = old[0] if old else 0
            new_rows = new[0] if new else 0
            what = "rows changed" if old_rows == new_rows else f"{old_rows} → {new_rows} rows"
            changes.append(f"{label}: {what}")
    return changes


def files_under(*folders: Path) -> dict[str, str]:
    """Every file under ``folders`` with its SHA-256."""
    found: dict[str, str] = {}
    for folder in folders:
        if folder.exists():
            for path in sorted(p for p in folder.rglob("*") if p.is_file()):
                found[str(path)] = hashlib.sha256(path.read_bytes()).hexdigest()
    return found
