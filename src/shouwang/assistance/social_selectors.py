"""Reads of social help (社会帮扶): offers and their matches, limited to the actor's area.

An offer is seen by those who register offers and by planners. Its place decides who sees
it: an offer placed in the actor's area, at a division above it (a county-wide offer is seen
in every village of the county), or without a place (鲁渝协作 jobs in Shandong) is visible;
an offer placed in another township is not. A match belongs to its household, so matches are
seen where the household is, whoever registered the offer.
"""

from __future__ import annotations

import datetime as dt

from django.db.models import Count, F, Q, QuerySet, Value
from django.db.models.functions import Greatest
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.assistance import permissions as perms
from shouwang.assistance.choices import MatchStatus, OfferStatus
from shouwang.assistance.models import SocialMatch, SocialOffer
from shouwang.core.choices import LEVEL_PREFIX_LENGTH
from shouwang.core.jurisdiction import actor_prefixes, area_q, division_in_area, has_role
from shouwang.core.models import User

#: See offers and matches: who registers offers and who plans for households.
SOCIAL_VIEWERS = perms.OFFER_EDITORS | perms.PLANNERS

#: Prefix lengths above the village, from the province down.
_ANCESTOR_LENGTHS = sorted(n for n in LEVEL_PREFIX_LENGTH.values() if n < 12)


#: How a match's distance reads (see ``social_services.division_distance``).
DISTANCE_LABELS = {
    0: _("同村"),
    1: _("同乡镇（街道）"),
    2: _("同区县"),
    3: _("同市"),
    4: _("同省"),
    5: _("区外或不限地点"),
}


def distance_label(distance: int) -> str:
    return str(DISTANCE_LABELS.get(distance, DISTANCE_LABELS[5]))


def can_view_social(actor: User | None) -> bool:
    return has_role(actor, SOCIAL_VIEWERS)


def ancestor_codes(prefix: str) -> set[str]:
    """The 12-digit codes of the divisions above the one whose code starts with ``prefix``."""
    return {prefix[:n].ljust(12, "0") for n in _ANCESTOR_LENGTHS if n < len(prefix)}


def offer_area_q(actor: User | None) -> Q:
    """Offers placed in the actor's area, above it, or nowhere in particular."""
    if actor is None or actor.is_superuser:
        return Q()
    prefixes = actor_prefixes(actor)
    q = Q(division__isnull=True)
    if prefixes:
        q |= area_q(actor, "division__code")
        above = set().union(*(ancestor_codes(p) for p in prefixes))
        if above:
            q |= Q(division_id__in=sorted(above))
    return q


def offer_in_area(actor: User | None, offer: SocialOffer) -> bool:
    """The same test as ``offer_area_q`` for one offer already loaded."""
    if actor is None or actor.is_superuser or offer.division_id is None:
        return True
    prefixes = actor_prefixes(actor)
    return division_in_area(actor, offer.division_id) or any(
        offer.division_id in ancestor_codes(p) for p in prefixes
    )


def with_capacity(qs: QuerySet[SocialOffer]) -> QuerySet[SocialOffer]:
    """Annotate ``confirmed_count``, ``proposed_count`` and ``remaining`` (capacity minus
    confirmed matches, never below zero)."""
    return qs.annotate(
        confirmed_count=Count("matches", filter=Q(matches__status=MatchStatus.CONFIRMED)),
        proposed_count=Count("matches", filter=Q(matches__status=MatchStatus.PROPOSED)),
    ).annotate(remaining=Greatest(F("capacity") - F("confirmed_count"), Value(0)))


def offer_queryset(*, actor: User | None) -> QuerySet[SocialOffer]:
    if not can_view_social(actor):
        return SocialOffer.objects.none()
    return SocialOffer.objects.filter(offer_area_q(actor))


def offer_list(*, actor: User | None) -> QuerySet[SocialOffer]:
    """Offers for the list page and the API, newest first, with their capacity figures."""
    return with_capacity(
        offer_queryset(actor=actor).select_related(
            "measure", "measure__group", "division", "division__parent", "registered_by"
        )
    ).order_by("-created_at", "-id")


def offer_get(*, actor: User | None, pk: int) -> SocialOffer:
    """One offer the actor may see; SocialOffer.DoesNotExist (a 404) otherwise."""
    return offer_list(actor=actor).get(pk=pk)


def offer_is_live(offer: SocialOffer, today: dt.date) -> bool:
    """Open and not past its validity: matches may still be proposed and confirmed."""
    return offer.status == OfferStatus.OPEN and (
        offer.valid_until is None or offer.valid_until >= today
    )


def match_queryset(*, actor: User | None) -> QuerySet[SocialMatch]:
    if not can_view_social(actor):
        return SocialMatch.objects.none()
    return SocialMatch.objects.filter(area_q(actor, "household__village__code"))


def match_list(*, actor: User | None) -> QuerySet[SocialMatch]:
    """Matches of households in the actor's area, nearest first, with what a row shows."""
    return (
        match_queryset(actor=actor)
        .select_related(
            "offer",
            "offer__measure",
            "offer__division",
            "household",
            "household__village",
            "household__village__parent",
            "need",
            "need__measure",
            "plan_measure",
            "decided_by",
        )
        .order_by("distance", "id")
    )


def match_get(*, actor: User | None, pk: int) -> SocialMatch:
    """One match of a household in the actor's area; SocialMatch.DoesNotExist otherwise."""
    return match_list(actor=actor).get(pk=pk)


def match_pending(*, actor: User | None, today: dt.date | None = None) -> QuerySet[SocialMatch]:
    """Proposed matches a planner can still decide (待确认对接): their offer is live."""
    if not perms.can_plan(actor):
        return SocialMatch.objects.none()
    today = today or timezone.localdate()
    return match_list(actor=actor).filter(
        Q(offer__valid_until__isnull=True) | Q(offer__valid_until__gte=today),
        status=MatchStatus.PROPOSED,
        offer__status=OfferStatus.OPEN,
    )


def can_decide_match(actor: User | None, match: SocialMatch) -> bool:
    """Planners in the household's area decide proposed matches."""
    return (
        match.status == MatchStatus.PROPOSED
        and perms.can_plan(actor)
        and division_in_area(actor, match.household.village_id)
    )


def can_edit_offer(actor: User | None, offer: SocialOffer | None = None) -> bool:
    """Offer editors; township staff only for offers placed in their area or nowhere."""
    if not perms.can_edit_offers(actor):
        return False
    if offer is None or offer.division_id is None:
        return True
    return division_in_area(actor, offer.division_id)
