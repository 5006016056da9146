"""Filters of social offers and matches, shared by the pages and the API."""

from __future__ import annotations

import datetime as dt

import django_filters
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from shouwang.assistance.choices import MatchStatus, OfferKind, OfferStatus, Programme
from shouwang.assistance.models import SocialMatch, SocialOffer
from shouwang.core.filters import IdFilter

#: "open" offers that are still live, beside the stored statuses.
LIVE, EXPIRED = "live", "expired"
ALL_LABEL = _("全部")
OFFER_STATE_CHOICES = [
    (LIVE, _("对接中")),
    (EXPIRED, _("已过有效期")),
    (OfferStatus.CLOSED, _("已结束")),
]


class OfferFilterSet(django_filters.FilterSet):
    q = django_filters.CharFilter(label=_("帮扶主体或内容"), method="filter_q")
    kind = django_filters.ChoiceFilter(
        label=_("帮扶类型"), choices=OfferKind.choices, empty_label=ALL_LABEL
    )
    programme = django_filters.ChoiceFilter(
        label=_("帮扶行动"), choices=Programme.choices, empty_label=ALL_LABEL
    )
    state = django_filters.ChoiceFilter(
        label=_("状态"),
        choices=OFFER_STATE_CHOICES,
        method="filter_state",
        empty_label=ALL_LABEL,
    )

    class Meta:
        model = SocialOffer
        fields = ["kind", "programme"]

    def filter_q(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        value = value.strip()
        if not value:
            return queryset
        return queryset.filter(Q(organisation__contains=value) | Q(title__contains=value))

    def filter_state(self, queryset: QuerySet, name: str, value: str) -> QuerySet:
        today: dt.date = timezone.localdate()
        if value == LIVE:
            return queryset.filter(status=OfferStatus.OPEN).filter(
                Q(valid_until__isnull=True) | Q(valid_until__gte=today)
            )
        if value == EXPIRED:
            return queryset.filter(status=OfferStatus.OPEN, valid_until__lt=today)
        if value == OfferStatus.CLOSED:
            return queryset.filter(status=OfferStatus.CLOSED)
        return queryset


class MatchFilterSet(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(
        label=_("状态"), choices=MatchStatus.choices, empty_label=ALL_LABEL
    )
    offer = IdFilter(label=_("帮扶资源"), field_name="offer_id")
    household = IdFilter(label=_("农户"), field_name="household_id")
    kind = django_filters.ChoiceFilter(
        label=_("帮扶类型"),
        field_name="offer__kind",
        choices=OfferKind.choices,
        empty_label=ALL_LABEL,
    )

    class Meta:
        model = SocialMatch
        fields = ["status"]
