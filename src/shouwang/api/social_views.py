"""API of social help (社会帮扶): offers organisations make, and their matches with households.

Reads come from ``assistance.social_selectors`` (an offer placed in another township, or a
match of another area's household, is a 404); writes call one ``social_services`` function
with ``actor=request.user``, which checks role and area and answers in Chinese.
"""

from __future__ import annotations

from django.utils.text import format_lazy
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from shouwang.api import social_serializers as s
from shouwang.api.service_writes import ServicePutMixin
from shouwang.assistance import social_selectors as selectors
from shouwang.assistance import social_services as services
from shouwang.assistance.models import SocialMatch, SocialOffer
from shouwang.assistance.social_filters import MatchFilterSet, OfferFilterSet


class CanViewSocial(BasePermission):
    message = _("只有区县、乡镇（街道）工作人员和村干部可以查看社会帮扶")

    def has_permission(self, request, view) -> bool:
        return selectors.can_view_social(request.user)


_OFFER_EDIT_NOTE = _(
    "区县工作人员和乡镇（街道）工作人员代帮扶主体登记；乡镇工作人员只能登记本辖区内或不限地点的"
    "资源。对应措施的类别须与帮扶类型相符；已有对接后不能再改帮扶类型和对应措施，可帮扶户数"
    "不能少于已确认户数。每次修改记入审计日志。"
)


@extend_schema_view(
    list=extend_schema(
        summary=_("社会帮扶资源"),
        description=_(
            "帮扶地点在本人管辖范围内、为其上级区划（如全区）或不限地点的资源，新登记的在前。"
            "remaining 为剩余名额。state=live 只看对接中且在有效期内的资源。"
        ),
    ),
    retrieve=extend_schema(summary=_("社会帮扶资源详情")),
    create=extend_schema(
        summary=_("登记社会帮扶资源"),
        description=_OFFER_EDIT_NOTE,
        request=s.SocialOfferWriteSerializer,
        responses={201: s.SocialOfferSerializer},
    ),
    update=extend_schema(
        summary=_("修改社会帮扶资源"),
        description=_OFFER_EDIT_NOTE,
        request=s.SocialOfferWriteSerializer,
        responses={200: s.SocialOfferSerializer},
    ),
    partial_update=extend_schema(
        summary=_("修改社会帮扶资源（部分字段）"),
        description=_OFFER_EDIT_NOTE,
        request=s.SocialOfferWriteSerializer,
        responses={200: s.SocialOfferSerializer},
    ),
)
class SocialOfferViewSet(
    ServicePutMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = SocialOffer.objects.none()  # names the model for the schema
    serializer_class = s.SocialOfferSerializer
    write_serializer_class = s.SocialOfferWriteSerializer
    permission_classes = [IsAuthenticated, CanViewSocial]
    filterset_class = OfferFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.offer_list(actor=self.request.user)

    def perform_save(self, data, instance=None):
        return services.offer_save(actor=self.request.user, offer=instance, data=data)

    @extend_schema(
        summary=_("生成对接建议"),
        description=format_lazy(
            _(
                "为本人管辖范围内帮扶计划有相应未落实措施的监测户生成对接建议：同村优先，其次同乡镇、"
                "同区县……同等距离按需求的计划完成日期先后；每个剩余名额最多 {n} 条待确认建议。"
                "已与该资源对接过（含已放弃）的农户不再推荐。返回新生成的建议。"
            ),
            n=services.PROPOSALS_PER_PLACE,
        ),
        request=None,
        responses={201: s.SocialMatchSerializer(many=True)},
    )
    @action(detail=True, methods=["post"], filter_backends=[], pagination_class=None)
    def propose(self, request, pk=None):
        offer = self.get_object()
        matches = services.matches_propose(actor=request.user, offer=offer)
        rows = selectors.match_list(actor=request.user).filter(pk__in=[m.pk for m in matches])
        data = s.SocialMatchSerializer(rows, many=True, context={"request": request}).data
        return Response(data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("结束社会帮扶资源"),
        description=_("名额用完或帮扶主体撤回时结束；待确认的对接建议一并放弃。"),
        request=s.SocialOfferCloseSerializer,
        responses={200: s.SocialOfferSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def close(self, request, pk=None):
        offer = self.get_object()
        serializer = s.SocialOfferCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        offer = services.offer_close(
            actor=request.user, offer=offer, note=serializer.validated_data["note"]
        )
        return self.render(offer)


_DECIDE_NOTE = _("由农户所在辖区的区县、乡镇（街道）工作人员或村干部确认；记入审计日志。")


@extend_schema_view(
    list=extend_schema(
        summary=_("社会帮扶对接（仅本人管辖范围的农户）"),
        description=_("按距离排列。status=proposed 为待确认的对接建议。"),
    ),
    retrieve=extend_schema(summary=_("社会帮扶对接详情")),
)
class SocialMatchViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = SocialMatch.objects.none()  # names the model for the schema
    serializer_class = s.SocialMatchSerializer
    permission_classes = [IsAuthenticated, CanViewSocial]
    filterset_class = MatchFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.match_list(actor=self.request.user)

    def _render(self, match: SocialMatch) -> Response:
        match = self.get_queryset().get(pk=match.pk)
        return Response(s.SocialMatchSerializer(match, context={"request": self.request}).data)

    @extend_schema(
        summary=_("确认对接"),
        description=_(
            "对接建议写入农户的帮扶计划：资源的对应措施，来源为社会帮扶对接，责任人默认为帮扶主体，"
            "金额为每户金额。名额已满、资源已结束或已过有效期时拒绝。"
        )
        + _DECIDE_NOTE,
        request=s.SocialMatchConfirmSerializer,
        responses={200: s.SocialMatchSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def confirm(self, request, pk=None):
        match = self.get_object()
        serializer = s.SocialMatchConfirmSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        match = services.match_confirm(actor=request.user, match=match, **serializer.validated_data)
        return self._render(match)

    @extend_schema(
        summary=_("放弃对接"),
        description=_("须说明原因（农户不愿意、已就业……）。") + _DECIDE_NOTE,
        request=s.SocialMatchDeclineSerializer,
        responses={200: s.SocialMatchSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def decline(self, request, pk=None):
        match = self.get_object()
        serializer = s.SocialMatchDeclineSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        match = services.match_decline(
            actor=request.user, match=match, note=serializer.validated_data["note"]
        )
        return self._render(match)
