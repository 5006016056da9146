"""The data the API fuzz runs against: a small demo district, read back as example ids."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass, field

from django.utils import timezone
from rest_framework.authtoken.models import Token

from shouwang.assistance.demo import demo_assistance_build
from shouwang.assistance.models import (
    Measure,
    MeasureGroup,
    Plan,
    PlanMeasure,
    RecommendationRule,
    SocialMatch,
    SocialOffer,
)
from shouwang.cases.demo import demo_cases_build
from shouwang.cases.models import Campaign, Case, Lead, QuarterlyReview, VillageMeeting
from shouwang.cases.routine_choices import AgendaKind
from shouwang.cases.routine_selectors import quarter_of, review_due_q
from shouwang.cases.routine_services import campaign_open, meeting_create, review_record
from shouwang.core.models import Division, User
from shouwang.policy.models import PolicyValue
from shouwang.registry.choices import (
    HealthStatus,
    HouseholdType,
    MonitoringCategory,
    MonitoringStatus,
    RiskType,
)
from shouwang.registry.demo import DEMO_VILLAGE, demo_build
from shouwang.registry.models import Household, Member
from shouwang.screening.demo import demo_feeds_build
from shouwang.screening.models import Alert, FeedBatch, FeedSource, Rule, ScreeningRun
from tests import factories as f

#: The demo village (向前村) gets one household in twenty, with alerts, leads and a case; the
#: whole district builds in a few seconds.
FUZZ_HOUSEHOLDS = 600
DISTRICT_USER = "demo-district"
VILLAGE_USER = "demo-village"


@dataclass
class FuzzStats:
    """Per user: cases sent and seconds spent answering them, per operation
    ("GET /api/households/"), and the wall time of the user's tests (generation included)."""

    rows: dict[tuple[str, str], list[float]] = field(default_factory=dict)
    wall: dict[str, float] = field(default_factory=dict)
    #: Operations left out once the user's time budget was spent.
    skipped: dict[str, int] = field(default_factory=dict)

    def record(self, user: str, operation: str, started: float) -> None:
        row = self.rows.setdefault((user, operation), [0, 0.0])
        row[0] += 1
        row[1] += time.monotonic() - started

    def summary(self) -> list[str]:
        lines = []
        for user in sorted(self.wall):
            rows = [row for (u, _), row in self.rows.items() if u == user]
            lines.append(
                f"API fuzz as {user}: {len(rows)} operations, "
                f"{int(sum(r[0] for r in rows))} cases answered in {sum(r[1] for r in rows):.1f} s, "
                f"{self.wall[user]:.1f} s in all"
                + (f", {self.skipped[user]} skipped (time budget)" if user in self.skipped else "")
            )
        return lines


FUZZ_STATS = FuzzStats()


@dataclass
class FuzzWorld:
    tokens: dict[str, str]
    #: Path prefix (as the schema names it) → one existing record's key, in the village
    #: cadre's area where records belong to an area.
    path_examples: dict[str, dict[str, object]] = field(default_factory=dict)

    def known_key(self, path: str, name: str) -> str:
        for prefix, values in self.path_examples.items():
            if path.startswith(prefix) and name in values:
                return str(values[name])
        return "0"


def _first_pk(queryset) -> int | None:
    return queryset.order_by("pk").values_list("pk", flat=True).first()


def fuzz_world_build() -> FuzzWorld:
    demo_build(actor=None, households=FUZZ_HOUSEHOLDS)
    # The small demo has no unresolved monitored household in 向前村: two, for its plans and
    # quarterly reviews.
    for risk, health in (
        (RiskType.ILLNESS, HealthStatus.SERIOUS_ILLNESS),
        (RiskType.UNSTABLE_EMPLOYMENT, HealthStatus.HEALTHY),
    ):
        household = f.make_household(
            DEMO_VILLAGE,
            members=0,
            household_type=HouseholdType.MONITORED,
            monitoring_category=MonitoringCategory.MARGINAL,
            monitoring_status=MonitoringStatus.RISK_UNRESOLVED,
            identified_month="202603",
            risk_type_1=risk,
        )
        f.make_member(
            household,
            name="户主",
            health_status=health,
            id_number=f.next_id_number(birth=dt.date(1961, 2, 3)),
        )
    demo_feeds_build(actor=None)
    demo_cases_build()
    demo_assistance_build()
    district = User.objects.get(username=DISTRICT_USER)
    village_user = User.objects.get(username=VILLAGE_USER)
    village = Division.objects.get(code=DEMO_VILLAGE)
    today = timezone.localdate()
    in_village = Household.objects.filter(village=village)
    household = in_village.order_by("pk").first()
    meeting_create(
        actor=village_user,
        village=village,
        month=today.strftime("%Y%m"),
        held_on=today,
        attendees="冉光明、刘晓燕",
        decisions={kind: "已研究" for kind in AgendaKind.values},
    )
    review_record(
        actor=village_user,
        household=in_village.filter(review_due_q(quarter_of(today))).order_by("pk").first(),
        reviewed_on=today,
        risk_present=False,
        plan_needs_change=False,
        reviewers="冉光明",
    )
    campaign_open(
        actor=district,
        name="集中排查",
        scope=Division.objects.get(code="500156000000"),
        starts_on=today,
        ends_on=today + dt.timedelta(days=30),
    )
    tokens = {
        user.username: Token.objects.get_or_create(user=user)[0].key
        for user in (district, village_user)
    }
    ids = {
        "/api/households/{id}/": household.pk,
        "/api/members/{id}/": _first_pk(Member.objects.filter(household__village=village)),
        "/api/alerts/{id}/": _first_pk(Alert.objects.filter(division=village)),
        "/api/leads/{id}/": _first_pk(Lead.objects.filter(division=village)),
        "/api/cases/{id}/": _first_pk(Case.objects.filter(household__village=village)),
        "/api/feed-batches/{id}/": _first_pk(FeedBatch.objects.all()),
        "/api/screening-runs/{id}/": _first_pk(ScreeningRun.objects.all()),
        "/api/policy-values/{id}/": _first_pk(PolicyValue.objects.all()),
        "/api/meetings/{id}/": _first_pk(VillageMeeting.objects.all()),
        "/api/reviews/{id}/": _first_pk(QuarterlyReview.objects.all()),
        "/api/campaigns/{id}/": _first_pk(Campaign.objects.all()),
        "/api/measure-groups/{id}/": _first_pk(MeasureGroup.objects.all()),
        "/api/measures/{id}/": _first_pk(Measure.objects.all()),
        "/api/recommendation-rules/{id}/": _first_pk(RecommendationRule.objects.all()),
        "/api/plans/{id}/": _first_pk(Plan.objects.filter(household__village=village)),
        "/api/plan-measures/{id}/": _first_pk(
            PlanMeasure.objects.filter(plan__household__village=village)
        ),
        "/api/social-offers/{id}/": _first_pk(SocialOffer.objects.all()),
        "/api/social-matches/{id}/": _first_pk(
            SocialMatch.objects.filter(household__village=village)
        ),
    }
    examples: dict[str, dict[str, object]] = {
        prefix: {"id": pk} for prefix, pk in ids.items() if pk is not None
    }
    examples["/api/divisions/{code}/"] = {"code": DEMO_VILLAGE}
    examples["/api/feed-sources/{slug}/"] = {
        "slug": FeedSource.objects.order_by("slug").values_list("slug", flat=True).first()
    }
    examples["/api/rules/{slug}/"] = {
        "slug": Rule.objects.order_by("slug").values_list("slug", flat=True).first()
    }
    return FuzzWorld(tokens=tokens, path_examples=examples)
