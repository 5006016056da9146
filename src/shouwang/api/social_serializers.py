"""Serializers of the social-help API: offers and their matches with households.

They check types and shapes only; ``assistance.social_services`` decides (roles, area, kind
and measure, capacity, whether an offer is still live) and answers in Chinese.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shouwang.api.serializers import DivisionField
from shouwang.assistance.choices import OfferKind, OrganisationKind, Programme
from shouwang.assistance.models import Measure, SocialMatch, SocialOffer
from shouwang.assistance.social_selectors import (
    can_decide_match,
    can_edit_offer,
    distance_label,
    offer_is_live,
)
from shouwang.core.models import Division


def _user(serializer: serializers.Field):
    request = serializer.context.get("request")
    return getattr(request, "user", None)


class SocialOfferSerializer(serializers.ModelSerializer):
    organisation_kind_display = serializers.CharField(
        source="get_organisation_kind_display", read_only=True
    )
    programme_display = serializers.CharField(source="get_programme_display", read_only=True)
    kind_display = serializers.CharField(source="get_kind_display", read_only=True)
    measure_name = serializers.CharField(source="measure.name", read_only=True, label=_("对应措施"))
    group_name = serializers.CharField(
        source="measure.group.name", read_only=True, label=_("措施类别")
    )
    division_name = serializers.CharField(
        source="division.name", read_only=True, default="", label=_("帮扶地点")
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    confirmed_count = serializers.IntegerField(read_only=True, label=_("已确认户数"))
    proposed_count = serializers.IntegerField(read_only=True, label=_("待确认户数"))
    remaining = serializers.IntegerField(
        read_only=True, label=_("剩余名额"), help_text=_("可帮扶户数减去已确认户数")
    )
    live = serializers.SerializerMethodField(
        label=_("可对接"), help_text=_("对接中且未过有效期：可生成对接建议和确认对接")
    )
    registered_by_name = serializers.SerializerMethodField(label=_("登记人"))
    can_edit = serializers.SerializerMethodField(
        label=_("您可修改"), help_text=_("PATCH /api/social-offers/{id}/、POST …/close/")
    )

    class Meta:
        model = SocialOffer
        fields = [
            "id",
            "organisation",
            "organisation_kind",
            "organisation_kind_display",
            "programme",
            "programme_display",
            "kind",
            "kind_display",
            "measure",
            "measure_name",
            "group_name",
            "title",
            "description",
            "division",
            "division_name",
            "place_note",
            "capacity",
            "confirmed_count",
            "proposed_count",
            "remaining",
            "amount_per_household",
            "valid_until",
            "contact",
            "status",
            "status_display",
            "live",
            "registered_by_name",
            "can_edit",
            "created_at",
            "updated_at",
        ]
        read_only_fields = fields

    def get_live(self, offer: SocialOffer) -> bool:
        return offer_is_live(offer, timezone.localdate())

    def get_registered_by_name(self, offer: SocialOffer) -> str:
        return str(offer.registered_by) if offer.registered_by_id else ""

    def get_can_edit(self, offer: SocialOffer) -> bool:
        return offer.status == "open" and can_edit_offer(_user(self), offer)


class SocialOfferWriteSerializer(serializers.Serializer):
    """POST sends every required field; PUT the same; PATCH only what changes. Status changes
    through POST …/close/, not here."""

    organisation = serializers.CharField(max_length=100, label=_("帮扶主体"))
    organisation_kind = serializers.ChoiceField(
        choices=OrganisationKind.choices, label=_("主体类型")
    )
    programme = serializers.ChoiceField(
        choices=Programme.choices, required=False, default=Programme.OTHER, label=_("帮扶行动")
    )
    kind = serializers.ChoiceField(choices=OfferKind.choices, label=_("帮扶类型"))
    measure = serializers.PrimaryKeyRelatedField(
        queryset=Measure.objects.all(),
        label=_("对应措施"),
        help_text=_("确认对接后写入帮扶计划的措施；其类别须与帮扶类型相符"),
    )
    title = serializers.CharField(max_length=100, label=_("帮扶内容"))
    description = serializers.CharField(
        required=False, allow_blank=True, default="", label=_("详细说明")
    )
    division = DivisionField(
        queryset=Division.objects.all(),
        required=False,
        allow_null=True,
        default=None,
        label=_("帮扶地点"),
        help_text=_("12 位区划代码，须在您的管辖范围内；区外或不限地点时为 null"),
    )
    place_note = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", label=_("地点说明")
    )
    capacity = serializers.IntegerField(min_value=1, label=_("可帮扶户数"))
    amount_per_household = serializers.DecimalField(
        max_digits=12,
        decimal_places=2,
        min_value=0,
        required=False,
        allow_null=True,
        default=None,
        label=_("每户金额（元）"),
    )
    valid_until = serializers.DateField(
        required=False, allow_null=True, default=None, label=_("有效期至")
    )
    contact = serializers.CharField(
        max_length=100, required=False, allow_blank=True, default="", label=_("联系人及电话")
    )


class SocialOfferCloseSerializer(serializers.Serializer):
    note = serializers.CharField(
        max_length=200,
        required=False,
        allow_blank=True,
        default="",
        label=_("结束原因"),
        help_text=_("待确认的对接建议将一并放弃"),
    )


class SocialMatchSerializer(serializers.ModelSerializer):
    offer_title = serializers.CharField(source="offer.title", read_only=True, label=_("帮扶内容"))
    organisation = serializers.CharField(
        source="offer.organisation", read_only=True, label=_("帮扶主体")
    )
    offer_kind = serializers.ChoiceField(
        source="offer.kind", choices=OfferKind.choices, read_only=True, label=_("帮扶类型")
    )
    household_number = serializers.CharField(
        source="household.household_number", read_only=True, label=_("户编号")
    )
    head_name = serializers.CharField(source="household.head_name", read_only=True, label=_("户主"))
    village = serializers.CharField(
        source="household.village_id", read_only=True, label=_("行政村（社区）代码")
    )
    village_name = serializers.CharField(
        source="household.village.name", read_only=True, label=_("行政村（社区）")
    )
    township_name = serializers.CharField(
        source="household.village.parent.name", read_only=True, default="", label=_("乡镇（街道）")
    )
    distance_display = serializers.SerializerMethodField(label=_("距离"))
    need_measure_name = serializers.CharField(
        source="need.measure.name", read_only=True, default="", label=_("对应需求")
    )
    need_planned_end = serializers.DateField(
        source="need.planned_end", read_only=True, default=None, label=_("需求计划完成日期")
    )
    status_display = serializers.CharField(source="get_status_display", read_only=True)
    decided_by_name = serializers.SerializerMethodField(label=_("确认人"))
    can_decide = serializers.SerializerMethodField(
        label=_("您可确认或放弃"), help_text=_("POST …/confirm/ 或 …/decline/")
    )

    class Meta:
        model = SocialMatch
        fields = [
            "id",
            "offer",
            "offer_title",
            "organisation",
            "offer_kind",
            "household",
            "household_number",
            "head_name",
            "village",
            "village_name",
            "township_name",
            "distance",
            "distance_display",
            "need",
            "need_measure_name",
            "need_planned_end",
            "status",
            "status_display",
            "decided_by_name",
            "decided_at",
            "note",
            "plan_measure",
            "can_decide",
            "created_at",
        ]
        read_only_fields = fields

    @extend_schema_field(serializers.CharField())
    def get_distance_display(self, match: SocialMatch) -> str:
        return distance_label(match.distance)

    def get_decided_by_name(self, match: SocialMatch) -> str:
        return str(match.decided_by) if match.decided_by_id else ""

    def get_can_decide(self, match: SocialMatch) -> bool:
        return can_decide_match(_user(self), match)


class SocialMatchConfirmSerializer(serializers.Serializer):
    responsible_person = serializers.CharField(
        max_length=50,
        required=False,
        allow_blank=True,
        default="",
        label=_("责任人"),
        help_text=_("不填则为帮扶主体"),
    )
    planned_end = serializers.DateField(
        required=False, allow_null=True, default=None, label=_("计划完成日期")
    )
    note = serializers.CharField(
        max_length=200, required=False, allow_blank=True, default="", label=_("说明")
    )


class SocialMatchDeclineSerializer(serializers.Serializer):
    note = serializers.CharField(max_length=200, label=_("放弃原因"))
