"""API of the routine work: monthly village meetings, quarterly reviews, yearly campaigns and
their household checks.

As elsewhere, reads come from selectors scoped to the user's area (another area's record is a
404) and writes call one service with ``actor=request.user``; the services check roles (village
cadres record, district staff open campaigns) and answer in Chinese.
"""

from __future__ import annotations

from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.response import Response

from shouwang.api import routine_serializers as s
from shouwang.api.schema import NOT_IN_AREA
from shouwang.api.serializers import query_division_code, query_id
from shouwang.cases import routine_selectors as sel
from shouwang.cases import routine_services as services
from shouwang.cases.models import Campaign, QuarterlyReview, VillageMeeting
from shouwang.core.models import Division
from shouwang.core.months import is_month
from shouwang.registry.models import Household

_MONTH = OpenApiParameter(
    "month", str, description=_("会议月份 YYYYMM；不填为本月"), pattern=r"^20\d{2}(0[1-9]|1[0-2])$"
)
_VILLAGE = OpenApiParameter("village", str, description=_("村（社区）12 位区划代码"))
_QUARTER = OpenApiParameter(
    "quarter", str, description=_("季度，如 2026Q4；不填为本季度"), pattern=r"^20\d{2}Q[1-4]$"
)
_RECORD_NOTE = _("由该村（社区）的村干部登记；每次登记记入审计日志。")


def _month_param(request, *, default_current: bool) -> str:
    value = request.query_params.get("month", "")
    if value and not is_month(value):
        raise ValidationError({"month": [_("会议月份格式为 YYYYMM，例如 202611")]})
    return value or (sel.month_of(timezone.localdate()) if default_current else "")


def _quarter_param(request, *, default_current: bool) -> str:
    value = request.query_params.get("quarter", "")
    if value and not sel.is_quarter(value):
        raise ValidationError({"quarter": [_("季度格式为 2026Q4")]})
    return value or (sel.quarter_of(timezone.localdate()) if default_current else "")


# --- monthly meeting ---------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("村月工作会议列表（仅本人管辖范围）"), parameters=[_MONTH, _VILLAGE]
    ),
    retrieve=extend_schema(summary=_("村月工作会议详情，含议题和研究意见")),
)
class MeetingViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = VillageMeeting.objects.none()
    serializer_class = s.VillageMeetingSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        meetings = sel.meeting_list(actor=self.request.user).prefetch_related("items")
        if self.action == "list":
            month = _month_param(self.request, default_current=False)
            if month:
                meetings = meetings.filter(month=month)
            village = query_division_code(self.request, "village")
            if village:
                meetings = meetings.filter(village_id=village)
        return meetings

    @extend_schema(
        summary=_("登记村月工作会议"),
        description=_(
            "议题（新发现线索、在办流程、未处理预警、可研究风险消除的对象、监测员汇报）由系统在登记时"
            "按当前数据生成并保存。每村每月一次。"
        )
        + _RECORD_NOTE,
        request=s.MeetingCreateSerializer,
        responses={201: s.VillageMeetingSerializer},
    )
    def create(self, request):
        serializer = s.MeetingCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        meeting = services.meeting_create(actor=request.user, **serializer.validated_data)
        return Response(self._render(meeting), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("修改村月工作会议"),
        description=_("可改召开日期、参会人员、纪要和研究意见；议题保持登记时的内容。")
        + _RECORD_NOTE,
        request=s.MeetingUpdateSerializer,
        responses={200: s.VillageMeetingSerializer},
    )
    def partial_update(self, request, pk=None):
        meeting = self.get_object()
        serializer = s.MeetingUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        decisions = {item.kind: item.decision for item in meeting.items.all()}
        decisions.update(data.get("decisions", {}))
        meeting = services.meeting_update(
            actor=request.user,
            meeting=meeting,
            held_on=data.get("held_on", meeting.held_on),
            attendees=data.get("attendees", meeting.attendees),
            summary=data.get("summary", meeting.summary),
            decisions=decisions,
        )
        return Response(self._render(meeting))

    def _render(self, meeting: VillageMeeting) -> dict:
        return s.VillageMeetingSerializer(
            sel.meeting_get(actor=self.request.user, pk=meeting.pk)
        ).data

    @extend_schema(
        summary=_("未召开月工作会议的村"),
        description=_(
            "本人管辖范围内该月尚未登记工作会议的村（社区），含截止日期；overdue 为已过截止日。"
        ),
        parameters=[_MONTH],
        responses={200: s.OutstandingMeetingSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def missing(self, request):
        month = _month_param(request, default_current=True)
        rows = sel.meeting_outstanding(actor=request.user, month=month, today=timezone.localdate())
        return Response(s.OutstandingMeetingSerializer(rows, many=True).data)

    @extend_schema(
        summary=_("预览月工作会议议题"),
        description=_("按当前数据生成某村某月会议的议题，不保存。"),
        parameters=[
            OpenApiParameter(
                "village", str, required=True, description=_("村（社区）12 位区划代码")
            ),
            _MONTH,
            OpenApiParameter("held_on", str, description=_("召开日期 YYYY-MM-DD；不填为今天")),
        ],
        responses={200: s.AgendaEntrySerializer(many=True), 404: NOT_IN_AREA},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def agenda(self, request):
        try:
            village = sel.village_get(
                actor=request.user, code=query_division_code(request, "village", required=True)
            )
        except Division.DoesNotExist:
            raise Http404 from None
        month = _month_param(request, default_current=True)
        held_on = timezone.localdate()
        if request.query_params.get("held_on"):
            field = s.serializers.DateField()
            held_on = field.run_validation(request.query_params["held_on"])
        agenda = sel.meeting_agenda(village=village, month=month, held_on=held_on)
        return Response(s.AgendaEntrySerializer(agenda, many=True).data)


# --- quarterly review --------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("季度研判列表（仅本人管辖范围）"),
        parameters=[_QUARTER, OpenApiParameter("household", int, description=_("农户编号"))],
    ),
    retrieve=extend_schema(summary=_("季度研判详情")),
)
class ReviewViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = QuarterlyReview.objects.none()
    serializer_class = s.QuarterlyReviewSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        reviews = sel.review_list(actor=self.request.user)
        if self.action == "list":
            quarter = _quarter_param(self.request, default_current=False)
            if quarter:
                reviews = reviews.filter(quarter=quarter)
            household = query_id(self.request, "household")
            if household is not None:
                reviews = reviews.filter(household_id=household)
        return reviews

    @extend_schema(
        summary=_("登记季度研判"),
        description=_("风险未消除的监测对象每季度一次；季度按研判日期确定。") + _RECORD_NOTE,
        request=s.ReviewCreateSerializer,
        responses={201: s.QuarterlyReviewSerializer, 404: NOT_IN_AREA},
    )
    def create(self, request):
        serializer = s.ReviewCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        try:
            household = sel.review_household_get(actor=request.user, pk=data.pop("household"))
        except Household.DoesNotExist:
            raise Http404 from None
        review = services.review_record(actor=request.user, household=household, **data)
        review = sel.review_get(actor=request.user, pk=review.pk)
        return Response(s.QuarterlyReviewSerializer(review).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("本季度尚未研判的监测对象"),
        description=_("季度末前已识别、该季度内风险未消除、尚无研判记录的农户（仅本人管辖范围）。"),
        parameters=[_QUARTER],
        responses={200: s.ReviewDueHouseholdSerializer(many=True)},
    )
    @action(detail=False, methods=["get"], filter_backends=[])
    def missing(self, request):
        quarter = _quarter_param(request, default_current=True)
        households = sel.review_missing(actor=request.user, quarter=quarter)
        page = self.paginate_queryset(households)
        return self.get_paginated_response(s.ReviewDueHouseholdSerializer(page, many=True).data)


# --- yearly campaign ---------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("集中排查列表"), description=_("排查范围与本人管辖范围有交集的。")
    ),
    retrieve=extend_schema(summary=_("集中排查详情")),
)
class CampaignViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Campaign.objects.none()
    serializer_class = s.CampaignSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return sel.campaign_list(actor=self.request.user)

    @extend_schema(
        summary=_("发起集中排查"),
        description=_(
            "仅区县管理员和区县工作人员；范围为区县或乡镇（街道），同一范围的排查时间不能重叠。"
        ),
        request=s.CampaignCreateSerializer,
        responses={201: s.CampaignSerializer},
    )
    def create(self, request):
        serializer = s.CampaignCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        campaign = services.campaign_open(actor=request.user, **serializer.validated_data)
        campaign = sel.campaign_get(actor=request.user, pk=campaign.pk)
        return Response(s.CampaignSerializer(campaign).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        methods=["GET"],
        summary=_("排查记录（仅本人管辖范围）"),
        parameters=[_VILLAGE],
        responses={200: s.CampaignCheckSerializer(many=True)},
    )
    @extend_schema(
        methods=["POST"],
        summary=_("登记一户的排查结果"),
        description=_(
            "人口自然变动（出生、婚入、迁入、死亡、迁出、婚出）通过农户档案的服务直接更新成员，"
            "家庭人口、户主和人均纯收入随之更新，均记入审计日志；发现新风险时生成一条线索。"
        )
        + _RECORD_NOTE,
        request=s.CampaignCheckCreateSerializer,
        responses={201: s.CampaignCheckSerializer},
    )
    @action(detail=True, methods=["get", "post"], filter_backends=[])
    def checks(self, request, pk=None):
        campaign = self.get_object()
        if request.method == "GET":
            checks = sel.campaign_check_list(actor=request.user, campaign=campaign)
            village = query_division_code(request, "village")
            if village:
                checks = checks.filter(village_id=village)
            page = self.paginate_queryset(checks)
            return self.get_paginated_response(s.CampaignCheckSerializer(page, many=True).data)
        serializer = s.CampaignCheckCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        try:
            household = sel.campaign_household_get(
                actor=request.user, campaign=campaign, pk=data["household"]
            )
        except Household.DoesNotExist:
            raise Http404 from None
        check = services.campaign_check_record(
            actor=request.user,
            campaign=campaign,
            household=household,
            checked_on=data["checked_on"],
            checker=data["checker"],
            result=data["result"],
            note=data["note"],
            removals=[services.MemberRemoval(**r) for r in data["removals"]],
            additions=[services.MemberAddition(**a) for a in data["additions"]],
            new_head_id=data["new_head"],
        )
        check = sel.campaign_check_get(actor=request.user, campaign=campaign, pk=check.pk)
        return Response(s.CampaignCheckSerializer(check).data, status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("排查进度（按村）"),
        description=_("本人管辖范围内各村已排查户数与在册户数。"),
        responses={200: s.CampaignProgressSerializer},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def progress(self, request, pk=None):
        campaign = self.get_object()
        return Response(
            s.CampaignProgressSerializer(
                sel.campaign_progress(actor=request.user, campaign=campaign)
            ).data
        )
