"""Writes of social help (社会帮扶): offers, proposed matches, and their confirmation.

Organisations do not log in: district and township staff register their offers (jobs,
produce purchases, donations, training places). Shouwang proposes households whose plan has
an open need of the offer's kind, nearest first in the division tree; a planner in the
household's area confirms, and the confirmed match becomes a measure of the household's plan
(through ``services.plan_accept``, source 社会帮扶对接), or declines with a reason.

Every function takes an explicit ``actor`` (None for commands), runs in one transaction,
checks role and area, validates, and writes audit rows; a match's rows are filed under its
household so they show in the household's history.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.db.models import Exists, OuterRef, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from shouwang.assistance import permissions as perms
from shouwang.assistance import services
from shouwang.assistance.choices import (
    OPEN_MEASURE_STATUSES,
    MatchStatus,
    MeasureSource,
    MeasureStatus,
    OfferKind,
    OfferStatus,
)
from shouwang.assistance.models import Measure, MeasureGroup, PlanMeasure, SocialMatch, SocialOffer
from shouwang.assistance.social_selectors import can_edit_offer, offer_in_area, offer_is_live
from shouwang.cases.selectors import green_channel_identifications
from shouwang.core.audit import (
    audit_event,
    audit_record,
    household_subject,
    model_snapshot,
    stored_actor,
)
from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError, PermissionDenied, full_clean_or_refuse
from shouwang.core.jurisdiction import area_q, division_in_area
from shouwang.core.models import AuditEvent, User
from shouwang.registry.choices import MonitoringStatus

#: The measure groups (``MeasureGroup.code``, seeded from ``defaults.GROUPS``) whose planned
#: measures an offer of each kind can answer. The offer's own catalogue measure must belong
#: to one of them too, so what a match becomes fits the need it answers.
OFFER_KIND_GROUPS: dict[str, tuple[str, ...]] = {
    OfferKind.JOB: ("employment", "public_welfare_job", "social"),
    OfferKind.TRAINING: ("employment", "education", "motivation"),
    OfferKind.PURCHASE: ("industry", "social"),
    OfferKind.DONATION: ("social", "comprehensive", "health", "education"),
}

#: How many proposals an offer may have waiting per place still free. Proposing every fitting
#: household would bury a 5-place offer under hundreds of proposals; proposing exactly the
#: free places would leave the cadres nothing to fall back on when a household declines. Two
#: per place gives a spare for each; running the proposal again after declines tops it up.
PROPOSALS_PER_PLACE = 2

#: Steps apart in the division tree, by how many leading code digits two divisions share.
#: The 12-digit code nests: 2 province, 4 city, 6 county, 9 township, 12 village.
DISTANCE_BY_SHARED_PREFIX = ((12, 0), (9, 1), (6, 2), (4, 3), (2, 4))
#: Different provinces, or an offer without a place (e.g. 鲁渝协作 jobs in Shandong).
FARTHEST = 5

OFFER_FIELDS = (
    "organisation",
    "organisation_kind",
    "programme",
    "kind",
    "measure",
    "title",
    "description",
    "division",
    "place_note",
    "capacity",
    "amount_per_household",
    "valid_until",
    "contact",
)
#: Fields that decide which households fit and what a confirmation becomes.
_FIT_FIELDS = ("kind", "measure")


def division_distance(offer_code: str | None, village_code: str) -> int:
    """0 same village, 1 same township, 2 same county, 3 same city, 4 same province, 5 farther
    (or no place given). An offer placed at a township counts 1 for its villages, and so on."""
    if not offer_code:
        return FARTHEST
    for length, distance in DISTANCE_BY_SHARED_PREFIX:
        if offer_code[:length] == village_code[:length]:
            return distance
    return FARTHEST


def fitting_groups(kind: str) -> tuple[str, ...]:
    return OFFER_KIND_GROUPS.get(kind, ())


def fitting_group_names(kind: str) -> list[str]:
    """The names of the measure groups an offer of ``kind`` answers, in catalogue order."""
    return list(
        MeasureGroup.objects.filter(code__in=fitting_groups(kind))
        .order_by("sort_order", "code")
        .values_list("name", flat=True)
    )


def _require(check: bool, message: str) -> None:
    if not check:
        raise PermissionDenied(message)


def _check_measure_fits(kind: str, measure: Measure | None) -> None:
    if measure is None or kind not in OfferKind.values:
        return  # full_clean reports the missing or unknown value
    groups = fitting_groups(kind)
    if measure.group.code not in groups:
        message = _("%(kind)s对应的措施应属于：%(groups)s") % {
            "kind": OfferKind(kind).label,
            "groups": "、".join(fitting_group_names(kind)) or "—",
        }
        raise ApplicationError(message, extra={"fields": {"measure": [message]}})


def _confirmed_count(offer: SocialOffer) -> int:
    return offer.matches.filter(status=MatchStatus.CONFIRMED).count()


# ---------------------------------------------------------------------------------------------
# Offers


@transaction.atomic
def offer_save(
    *, actor: User | None, data: dict[str, Any], offer: SocialOffer | None = None
) -> SocialOffer:
    """Register an offer, or change one. Township staff keep offers inside their area (or
    without a place); kind and measure are fixed once the offer has matches, and capacity
    cannot drop below the matches already confirmed."""
    _require(perms.can_edit_offers(actor), _("只有区县和乡镇（街道）工作人员可以登记社会帮扶资源"))
    before = None
    if offer is not None:
        offer = SocialOffer.objects.select_for_update().get(pk=offer.pk)
        _require(can_edit_offer(actor, offer), _("该帮扶资源不在您的管辖范围内"))
        if offer.status == OfferStatus.CLOSED:
            raise ApplicationError(_("帮扶资源已结束，不能再修改"))
        before = model_snapshot(offer)
    else:
        offer = SocialOffer(registered_by=stored_actor(actor))
    old_division_id = offer.division_id
    old_fit = {
        name: getattr(offer, f"{name}_id" if name == "measure" else name) for name in _FIT_FIELDS
    }

    unknown = set(data) - set(OFFER_FIELDS)
    if unknown:
        raise ApplicationError(
            _("不能修改的字段：%(fields)s") % {"fields": "、".join(sorted(unknown))}
        )
    for name, value in data.items():
        setattr(offer, name, value.strip() if isinstance(value, str) else value)

    if offer.division_id is not None:
        _require(
            division_in_area(actor, offer.division_id),
            _("帮扶地点不在您的管辖范围内；区外的帮扶资源请不选地点，在“地点说明”中注明"),
        )
    if offer.pk is not None:
        new_fit = {
            name: getattr(offer, f"{name}_id" if name == "measure" else name)
            for name in _FIT_FIELDS
        }
        if new_fit != old_fit and offer.matches.exists():
            raise ApplicationError(_("已有对接记录，不能再修改帮扶类型或对应措施"))
        confirmed = _confirmed_count(offer)
        if offer.capacity is not None and offer.capacity < confirmed:
            message = _("已确认对接 %(n)d 户，可帮扶户数不能少于此数") % {"n": confirmed}
            raise ApplicationError(message, extra={"fields": {"capacity": [message]}})
    measure = offer.measure if offer.measure_id else None
    if measure is not None and not measure.active and "measure" in data:
        raise ApplicationError(_("措施“%(name)s”已停用") % {"name": measure.name})
    _check_measure_fits(offer.kind, measure)
    full_clean_or_refuse(offer)
    offer.save()
    after = model_snapshot(offer)
    if before != after:
        audit_record(
            actor=actor,
            action=AuditAction.CREATE if before is None else AuditAction.UPDATE,
            target=offer,
            before=before,
            after=after,
        )
    if before is not None and offer.division_id != old_division_id:
        # Distance is derived from the places; keep the proposals' order true.
        matches = list(offer.matches.select_related("household"))
        for match in matches:
            match.distance = division_distance(offer.division_id, match.household.village_id)
        SocialMatch.objects.bulk_update(matches, ["distance"])
    return offer


@transaction.atomic
def offer_close(*, actor: User | None, offer: SocialOffer, note: str = "") -> SocialOffer:
    """End an offer (places used up, the organisation withdrew). Proposals still waiting are
    declined with the reason, so they leave the cadres' list."""
    _require(perms.can_edit_offers(actor), _("只有区县和乡镇（街道）工作人员可以登记社会帮扶资源"))
    offer = SocialOffer.objects.select_for_update().get(pk=offer.pk)
    _require(can_edit_offer(actor, offer), _("该帮扶资源不在您的管辖范围内"))
    if offer.status == OfferStatus.CLOSED:
        raise ApplicationError(_("帮扶资源已结束"))
    before = model_snapshot(offer)
    offer.status = OfferStatus.CLOSED
    full_clean_or_refuse(offer)
    offer.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=offer,
        before=before,
        after=model_snapshot(offer),
        extra={"note": note.strip()} if note.strip() else None,
    )
    reason = (
        (_("帮扶资源已结束：%(note)s") % {"note": note.strip()})
        if note.strip()
        else _("帮扶资源已结束")
    )
    pending = offer.matches.select_for_update().filter(status=MatchStatus.PROPOSED)
    for match in pending:
        _decide(actor, match, MatchStatus.DECLINED, reason)
    return offer


# ---------------------------------------------------------------------------------------------
# Proposals


@dataclass(frozen=True)
class _Candidate:
    household_id: int
    village_id: str
    need_id: int
    due: dt.date
    distance: int


def _needs(offer: SocialOffer, actor: User | None):
    """Open plan measures of households in the actor's area that an offer of this kind can
    answer: planned or in progress, in a fitting group, not themselves from a social match
    (that need is already being met), of households not yet matched to the offer."""
    household = OuterRef("plan__household_id")
    green_channel = green_channel_identifications().filter(household_id=household)
    already_matched = SocialMatch.objects.filter(offer=offer, household_id=household)
    # plan_accept keeps one household-level entry per measure. A planned entry of the
    # offer's own measure is taken over on confirmation; anything further along, or another
    # social match of the same measure, would make the confirmation fail.
    blocking = PlanMeasure.objects.filter(
        plan__household_id=household, measure_id=offer.measure_id, member__isnull=True
    ).filter(
        Q(status__in=[MeasureStatus.IN_PROGRESS, MeasureStatus.DELIVERED])
        | Q(status=MeasureStatus.PLANNED, source=MeasureSource.SOCIAL_MATCH)
    )
    return (
        PlanMeasure.objects.filter(
            area_q(actor, "plan__household__village__code"),
            status__in=OPEN_MEASURE_STATUSES,
            measure__group__code__in=fitting_groups(offer.kind),
        )
        .exclude(source=MeasureSource.SOCIAL_MATCH)
        .filter(
            ~Q(plan__household__monitoring_status=MonitoringStatus.NOT_MONITORED)
            | Exists(green_channel)
        )
        .exclude(Exists(already_matched))
        .exclude(Exists(blocking))
        .order_by("planned_end", "id")
        .values_list("id", "plan__household_id", "plan__household__village_id", "planned_end")
    )


@transaction.atomic
def matches_propose(
    *, actor: User | None, offer: SocialOffer, today: dt.date | None = None
) -> list[SocialMatch]:
    """Propose households of the actor's area for ``offer``: nearest in the division tree
    first, then the need due soonest; at most ``PROPOSALS_PER_PLACE`` waiting proposals per
    free place (see there). Returns the new matches, nearest first."""
    today = today or timezone.localdate()
    _require(perms.can_plan(actor), _("您的角色不能进行社会帮扶对接"))
    offer = SocialOffer.objects.select_for_update().get(pk=offer.pk)
    _require(offer_in_area(actor, offer), _("该帮扶资源不在您的管辖范围内"))
    if not offer_is_live(offer, today):
        raise ApplicationError(_("帮扶资源已结束或已过有效期，不能再生成对接建议"))
    remaining = offer.capacity - _confirmed_count(offer)
    if remaining <= 0:
        raise ApplicationError(_("帮扶资源名额已满"))
    waiting = offer.matches.filter(status=MatchStatus.PROPOSED).count()
    room = remaining * PROPOSALS_PER_PLACE - waiting
    if room <= 0:
        raise ApplicationError(
            _("已有 %(n)d 条对接建议待确认，请先确认或放弃后再生成") % {"n": waiting}
        )

    # The earliest-due fitting need of each household stands for it.
    first_need: dict[int, _Candidate] = {}
    for need_id, household_id, village_id, due in _needs(offer, actor):
        if household_id not in first_need:
            first_need[household_id] = _Candidate(
                household_id,
                village_id,
                need_id,
                due,
                division_distance(offer.division_id, village_id),
            )
    chosen = sorted(first_need.values(), key=lambda c: (c.distance, c.due, c.household_id))[:room]

    matches = [
        SocialMatch(
            offer=offer,
            household_id=c.household_id,
            need_id=c.need_id,
            distance=c.distance,
            status=MatchStatus.PROPOSED,
        )
        for c in chosen
    ]
    for match in matches:
        # Uniqueness per offer and household holds by construction under the offer's lock
        # (and the database constraint stands behind it).
        full_clean_or_refuse(match, constraints=False)
    SocialMatch.objects.bulk_create(matches)
    AuditEvent.objects.bulk_create(
        audit_event(
            actor=actor,
            action=AuditAction.CREATE,
            target=match,
            target_repr=f"{offer} → #{match.household_id}",
            after=model_snapshot(match),
            subject=household_subject(match.household_id, match),
        )
        for match in matches
    )
    return matches


# ---------------------------------------------------------------------------------------------
# Decisions


def _lock_match(match: SocialMatch) -> SocialMatch:
    return (
        SocialMatch.objects.select_for_update(of=("self",))
        .select_related("household", "need", "need__measure")
        .get(pk=match.pk)
    )


def _require_decider(actor: User | None, match: SocialMatch) -> None:
    _require(perms.can_plan(actor), _("您的角色不能确认社会帮扶对接"))
    _require(division_in_area(actor, match.household.village_id), _("该农户不在您的管辖范围内"))
    if match.status != MatchStatus.PROPOSED:
        raise ApplicationError(
            _("该对接的状态为“%(status)s”，不能再处理") % {"status": match.get_status_display()}
        )


def _decide(
    actor: User | None,
    match: SocialMatch,
    status: str,
    note: str,
    plan_measure: PlanMeasure | None = None,
) -> SocialMatch:
    before = model_snapshot(match)
    match.status = status
    match.decided_by = stored_actor(actor)
    match.decided_at = timezone.now()
    match.note = note[:200]
    match.plan_measure = plan_measure
    full_clean_or_refuse(match)
    match.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=match,
        before=before,
        after=model_snapshot(match),
        subject=household_subject(match.household_id, match),
    )
    return match


def _reason(offer: SocialOffer, need: PlanMeasure | None) -> str:
    reason = _("社会帮扶对接：%(organisation)s“%(title)s”（%(kind)s）") % {
        "organisation": offer.organisation,
        "title": offer.title,
        "kind": offer.get_kind_display(),
    }
    if need is not None:
        reason += _("；对应需求：%(measure)s，计划%(due)s前完成") % {
            "measure": need.measure.name,
            "due": need.planned_end.isoformat(),
        }
    return reason[:200]


@transaction.atomic
def match_confirm(
    *,
    actor: User | None,
    match: SocialMatch,
    responsible_person: str = "",
    planned_end: dt.date | None = None,
    note: str = "",
    today: dt.date | None = None,
) -> SocialMatch:
    """A planner in the household's area confirms a proposed match: it becomes a measure of
    the household's plan (the offer's catalogue measure, delivered by the organisation, for
    the offer's amount per household). The offer is locked first, so two confirmations at
    once cannot pass its capacity.

    When the plan already holds the offer's measure for the household, still planned, the
    organisation takes it over: that entry is stopped with a note and the new one replaces
    it (a plan keeps one household-level entry per measure).
    """
    today = today or timezone.localdate()
    offer = (
        SocialOffer.objects.select_for_update(of=("self",))
        .select_related("measure")
        .get(pk=match.offer_id)
    )
    match = _lock_match(match)
    _require_decider(actor, match)
    if not offer_is_live(offer, today):
        raise ApplicationError(_("帮扶资源已结束或已过有效期，不能再确认对接"))
    if _confirmed_count(offer) >= offer.capacity:
        raise ApplicationError(
            _("帮扶资源名额已满（%(n)d 户），不能再确认对接") % {"n": offer.capacity}
        )
    household = match.household
    taken_over = (
        PlanMeasure.objects.filter(
            plan__household=household,
            measure=offer.measure,
            member__isnull=True,
            status=MeasureStatus.PLANNED,
        )
        .exclude(source=MeasureSource.SOCIAL_MATCH)
        .first()
    )
    if taken_over is not None:
        services.plan_measure_progress(
            actor=actor,
            plan_measure=taken_over,
            status=MeasureStatus.STOPPED,
            data={
                "status_note": (_("改由社会帮扶对接落实：%(offer)s") % {"offer": str(offer)})[:200]
            },
            today=today,
        )
    plan = services.plan_accept(
        actor=actor,
        household=household,
        items=[
            {
                "measure": offer.measure,
                "source": MeasureSource.SOCIAL_MATCH,
                "department": offer.measure.department,
                "responsible_person": (responsible_person.strip() or offer.organisation)[:50],
                "reason": _reason(offer, match.need),
                "amount": offer.amount_per_household,
                "planned_start": today,
                "planned_end": planned_end,
            }
        ],
        today=today,
    )
    plan_measure = (
        plan.measures.filter(
            measure=offer.measure, member__isnull=True, source=MeasureSource.SOCIAL_MATCH
        )
        .exclude(status=MeasureStatus.STOPPED)
        .order_by("-id")
        .first()
    )
    return _decide(actor, match, MatchStatus.CONFIRMED, note.strip(), plan_measure)


@transaction.atomic
def match_decline(*, actor: User | None, match: SocialMatch, note: str) -> SocialMatch:
    """A planner declines a proposed match, saying why (the household declined, moved, …)."""
    match = _lock_match(match)
    _require_decider(actor, match)
    if not note.strip():
        raise ApplicationError(
            _("请说明放弃对接的原因"), extra={"fields": {"note": [_("请说明放弃对接的原因")]}}
        )
    return _decide(actor, match, MatchStatus.DECLINED, note.strip())
