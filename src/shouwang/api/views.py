"""API viewsets. Reads come from registry selectors (scoped to the user's area, so another
area's record is a 404); writes call one registry service with ``actor=request.user``."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import filters, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response

from shouwang.api import serializers as s
from shouwang.core.models import Division
from shouwang.registry import selectors, services
from shouwang.registry.filters import HouseholdFilterSet, MemberFilterSet
from shouwang.registry.models import RISK_FIELDS, Household, Member


@extend_schema_view(
    list=extend_schema(summary=_("行政区划列表（仅本人管辖范围）")),
    retrieve=extend_schema(summary=_("行政区划详情")),
)
class DivisionViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = (
        Division.objects.none()
    )  # names the model for the schema; rows come from get_queryset
    serializer_class = s.DivisionSerializer
    filter_backends = [DjangoFilterBackend, filters.SearchFilter]
    filterset_fields = ["level", "parent"]
    search_fields = ["^name"]  # name prefix
    lookup_value_regex = r"\d{12}"

    def get_queryset(self):
        return selectors.division_list(actor=self.request.user)


@extend_schema_view(
    list=extend_schema(summary=_("农户列表（仅本人管辖范围）")),
    retrieve=extend_schema(summary=_("农户详情，含家庭成员")),
    create=extend_schema(summary=_("新增农户")),
    update=extend_schema(summary=_("修改农户")),
    partial_update=extend_schema(summary=_("修改农户（部分字段）")),
    destroy=extend_schema(summary=_("删除农户及其成员")),
)
class HouseholdViewSet(viewsets.ModelViewSet):
    queryset = (
        Household.objects.none()
    )  # names the model for the schema; rows come from get_queryset
    filterset_class = HouseholdFilterSet
    lookup_value_regex = r"\d+"
    # Service errors name model fields; the error handler reports them under the API's names.
    service_error_fields = dict.fromkeys(RISK_FIELDS, "risk_types")

    def get_queryset(self):
        return selectors.household_list(actor=self.request.user)

    def get_serializer_class(self):
        return s.HouseholdDetailSerializer if self.action == "retrieve" else s.HouseholdSerializer

    def perform_create(self, serializer):
        data, phone = serializer.service_input()
        serializer.instance = services.household_create(
            actor=self.request.user, data=data, phone=phone or ""
        )

    def perform_update(self, serializer):
        data, phone = serializer.service_input()
        serializer.instance = services.household_update(
            actor=self.request.user, household=serializer.instance, data=data, phone=phone
        )

    def perform_destroy(self, instance):
        services.household_delete(actor=self.request.user, household=instance)

    @extend_schema(
        summary=_("按身份证号码查找农户"),
        description=_(
            "号码在请求体中，不在网址中。只查本人管辖范围；范围外登记的号码与未登记的号码一样查不到。"
        ),
        request=s.IdNumberLookupSerializer,
        responses={200: s.HouseholdSerializer(many=True)},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def find(self, request):
        lookup = s.IdNumberLookupSerializer(data=request.data)
        lookup.is_valid(raise_exception=True)
        members = selectors.members_with_id_number(
            actor=request.user, id_number=lookup.validated_data["id_number"]
        )
        households = self.get_queryset().filter(pk__in=members.values("household_id"))
        return Response(s.HouseholdSerializer(households, many=True).data)

    @extend_schema(
        summary=_("查看完整联系电话"),
        description=_("需要查看完整敏感信息的权限；每次查看都记入审计日志。"),
        request=None,
        responses={200: s.RevealedPhoneSerializer},
    )
    @action(detail=True, methods=["post"], url_path="reveal-phone", filter_backends=[])
    def reveal_phone(self, request, pk=None):
        phone = services.household_reveal_phone(actor=request.user, household=self.get_object())
        return Response({"phone": phone})


@extend_schema_view(
    list=extend_schema(summary=_("家庭成员列表（仅本人管辖范围）")),
    retrieve=extend_schema(summary=_("家庭成员详情")),
    create=extend_schema(summary=_("新增家庭成员")),
    update=extend_schema(summary=_("修改家庭成员")),
    partial_update=extend_schema(summary=_("修改家庭成员（部分字段）")),
    destroy=extend_schema(summary=_("删除家庭成员")),
)
class MemberViewSet(viewsets.ModelViewSet):
    queryset = Member.objects.none()  # names the model for the schema; rows come from get_queryset
    filterset_class = MemberFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.member_list(actor=self.request.user)

    def get_serializer_class(self):
        if self.action in ("update", "partial_update"):
            return s.MemberUpdateSerializer
        return s.MemberSerializer

    def perform_create(self, serializer):
        data, id_number = serializer.service_input()
        serializer.instance = services.member_create(
            actor=self.request.user,
            household=serializer.validated_data["household"],
            id_number=id_number,
            data=data,
        )

    def perform_update(self, serializer):
        data, id_number = serializer.service_input()
        serializer.instance = services.member_update(
            actor=self.request.user, member=serializer.instance, data=data, id_number=id_number
        )

    def perform_destroy(self, instance):
        services.member_delete(actor=self.request.user, member=instance)

    @extend_schema(
        summary=_("按身份证号码查找家庭成员"),
        description=_("号码在请求体中，不在网址中。只查本人管辖范围。"),
        request=s.IdNumberLookupSerializer,
        responses={200: s.MemberSerializer(many=True)},
    )
    @action(detail=False, methods=["post"], filter_backends=[], pagination_class=None)
    def find(self, request):
        lookup = s.IdNumberLookupSerializer(data=request.data)
        lookup.is_valid(raise_exception=True)
        members = selectors.members_with_id_number(
            actor=request.user, id_number=lookup.validated_data["id_number"]
        )
        return Response(s.MemberSerializer(members, many=True).data)

    @extend_schema(
        summary=_("查看完整身份证号码"),
        description=_("需要查看完整敏感信息的权限；每次查看都记入审计日志。"),
        request=None,
        responses={200: s.RevealedIdNumberSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def reveal(self, request, pk=None):
        id_number = services.member_reveal_id_number(actor=request.user, member=self.get_object())
        return Response({"id_number": id_number})
