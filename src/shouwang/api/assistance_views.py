"""API of assistance: the measure catalogue and recommendation rules (district administrators
write, everyone who plans or delivers reads), households' plans, and their measures' delivery.

As elsewhere, reads come from the assistance selectors (plans and plan measures scoped to the
user's area, and a department officer's to their department's measures, so anything else is
a 404) and writes call one assistance service with ``actor=request.user``; the services check
roles and areas and answer in Chinese.
"""

from __future__ import annotations

import django_filters
from django.http import Http404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import BasePermission, IsAuthenticated
from rest_framework.response import Response

from shouwang.api import assistance_serializers as s
from shouwang.api.schema import NOT_IN_AREA
from shouwang.api.serializers import query_id
from shouwang.api.service_writes import ServicePutMixin, ServiceWriteMixin
from shouwang.assistance import permissions as perms
from shouwang.assistance import selectors, services
from shouwang.assistance.filters import PlanMeasureFilterSet
from shouwang.assistance.models import (
    Measure,
    MeasureGroup,
    Plan,
    PlanMeasure,
    RecommendationRule,
)
from shouwang.core.exceptions import PermissionDenied
from shouwang.core.filters import IdFilter
from shouwang.registry.models import Household
from shouwang.registry.selectors import household_get


class CanViewCatalogue(BasePermission):
    """The catalogue and the rules are read by everyone who plans or delivers measures."""

    message = _("您的角色不能查看帮扶措施目录")

    def has_permission(self, request, view) -> bool:
        return perms.can_view_catalogue(request.user)


_CATALOGUE_EDIT_NOTE = _("仅区县管理员；每次修改记入审计日志。")


def _household(request, pk: int) -> Household:
    """A household of the actor's area; any other is a 404."""
    try:
        return household_get(actor=request.user, pk=pk)
    except Household.DoesNotExist:
        raise Http404 from None


# --- catalogue ------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("帮扶措施类别，含其下措施"),
        description=_("国家系统的措施类别（产业帮扶、健康帮扶……）和各自对应的风险类型。"),
    ),
    retrieve=extend_schema(summary=_("帮扶措施类别详情")),
    create=extend_schema(
        summary=_("新增帮扶措施类别"),
        description=_CATALOGUE_EDIT_NOTE,
        request=s.MeasureGroupWriteSerializer,
        responses={201: s.MeasureGroupSerializer},
    ),
    partial_update=extend_schema(
        summary=_("修改帮扶措施类别"),
        description=_CATALOGUE_EDIT_NOTE,
        request=s.MeasureGroupWriteSerializer,
        responses={200: s.MeasureGroupSerializer},
    ),
)
class MeasureGroupViewSet(
    ServiceWriteMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = MeasureGroup.objects.none()  # names the model for the schema
    serializer_class = s.MeasureGroupSerializer
    write_serializer_class = s.MeasureGroupWriteSerializer
    permission_classes = [IsAuthenticated, CanViewCatalogue]
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.measure_groups()

    def perform_save(self, data, instance=None):
        return services.measure_group_save(actor=self.request.user, data=data, group=instance)


@extend_schema_view(
    list=extend_schema(
        summary=_("帮扶措施目录"),
        description=_("含已停用的措施（active 为 false）；按类别、部门、启用状态筛选。"),
    ),
    retrieve=extend_schema(summary=_("帮扶措施详情")),
    create=extend_schema(
        summary=_("新增帮扶措施"),
        description=_CATALOGUE_EDIT_NOTE,
        request=s.MeasureWriteSerializer,
        responses={201: s.MeasureSerializer},
    ),
    partial_update=extend_schema(
        summary=_("修改帮扶措施"),
        description=_("措施不能删除（计划引用它）：不再使用的措施改为停用（active: false）。")
        + _CATALOGUE_EDIT_NOTE,
        request=s.MeasureWriteSerializer,
        responses={200: s.MeasureSerializer},
    ),
)
class MeasureViewSet(
    ServiceWriteMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    queryset = Measure.objects.none()  # names the model for the schema
    serializer_class = s.MeasureSerializer
    write_serializer_class = s.MeasureWriteSerializer
    permission_classes = [IsAuthenticated, CanViewCatalogue]
    filterset_fields = ["group", "department", "active", "development", "backstop"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.measure_list()

    def perform_save(self, data, instance=None):
        return services.measure_save(actor=self.request.user, data=data, measure=instance)


_RULE_EDIT_NOTE = _(
    "仅区县管理员；每次修改记入审计日志。已按规则确认的计划措施保留规则名称和推荐理由。"
)


@extend_schema_view(
    list=extend_schema(
        summary=_("帮扶措施推荐规则"),
        description=_(
            "按优先级排列。规则的条件（风险类型、家庭劳动能力、成员年龄、在校生状况、健康状况、"
            "劳动技能）都满足时推荐其措施。"
        ),
    ),
    retrieve=extend_schema(summary=_("推荐规则详情")),
    create=extend_schema(
        summary=_("新增推荐规则"),
        description=_RULE_EDIT_NOTE,
        request=s.RecommendationRuleWriteSerializer,
        responses={201: s.RecommendationRuleSerializer},
    ),
    update=extend_schema(
        summary=_("修改推荐规则"),
        description=_RULE_EDIT_NOTE,
        request=s.RecommendationRuleWriteSerializer,
        responses={200: s.RecommendationRuleSerializer},
    ),
    partial_update=extend_schema(
        summary=_("修改推荐规则（部分字段）"),
        description=_RULE_EDIT_NOTE,
        request=s.RecommendationRuleWriteSerializer,
        responses={200: s.RecommendationRuleSerializer},
    ),
    destroy=extend_schema(summary=_("删除推荐规则"), description=_RULE_EDIT_NOTE),
)
class RecommendationRuleViewSet(
    ServicePutMixin,
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = RecommendationRule.objects.none()  # names the model for the schema
    serializer_class = s.RecommendationRuleSerializer
    write_serializer_class = s.RecommendationRuleWriteSerializer
    permission_classes = [IsAuthenticated, CanViewCatalogue]
    filterset_fields = ["active", "measure", "household_labour"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.rule_list()

    def perform_save(self, data, instance=None):
        return services.rule_save(actor=self.request.user, data=data, rule=instance)

    def perform_destroy(self, instance):
        services.rule_delete(actor=self.request.user, rule=instance)


# --- plans ----------------------------------------------------------------------------------


def _prefix(length: int):
    def apply(queryset, name: str, value: str):
        value = (value or "").strip()
        return queryset.filter(**{f"{name}__startswith": value[:length]}) if value else queryset

    return apply


class PlanFilterSet(django_filters.FilterSet):
    household = IdFilter(label=_("农户"), field_name="household_id")
    township = django_filters.CharFilter(
        label=_("乡镇（街道）"), field_name="household__village__code", method=_prefix(9)
    )
    village = django_filters.CharFilter(
        label=_("行政村（社区）"), field_name="household__village_id"
    )

    class Meta:
        model = Plan
        fields: list[str] = []


_PLAN_NOTE = _(
    "区县、乡镇工作人员和村干部为本人管辖范围内的监测对象（或走绿色通道的农户）制定；"
    "每项措施记入审计日志。"
)


@extend_schema_view(
    list=extend_schema(
        summary=_("帮扶计划（仅本人管辖范围）"),
        description=_(
            "最近确认的在前。行业部门工作人员只看到含本部门措施的计划，计数也只计本部门的措施。"
        ),
    ),
    retrieve=extend_schema(summary=_("帮扶计划详情，含计划措施")),
)
class PlanViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = Plan.objects.none()  # names the model for the schema
    filterset_class = PlanFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.plan_list(actor=self.request.user)

    def get_serializer_class(self):
        return s.PlanSerializer if self.action == "list" else s.PlanDetailSerializer

    @extend_schema(
        summary=_("按推荐规则为农户推荐的措施"),
        description=_(
            "启用的规则按优先级逐条比对农户的风险和成员情况；计划中已有的措施不再推荐。"
            "每项推荐注明规则和理由，确认时原样提交到 POST /api/plans/accept/。"
        )
        + _PLAN_NOTE,
        parameters=[OpenApiParameter("household", int, required=True, description=_("农户编号"))],
        responses={200: s.HouseholdProposalsSerializer, 404: NOT_IN_AREA},
    )
    @action(detail=False, methods=["get"], filter_backends=[], pagination_class=None)
    def proposals(self, request):
        household = _household(request, query_id(request, "household", required=True))
        if not perms.can_plan(request.user):
            raise PermissionDenied(str(_("您的角色不能制定帮扶计划")))
        proposals = selectors.household_proposals(household=household, today=timezone.localdate())
        body = {
            "household": household.pk,
            "problem": services.plannable_problem(household),
            "proposals": proposals,
        }
        return Response(s.HouseholdProposalsSerializer(body).data)

    @extend_schema(
        summary=_("确认帮扶措施（首次确认即建立计划）"),
        description=_(
            "items 为确认的推荐（带 rule 和 reason）或干部添加的措施，可同时指定责任部门、责任人、"
            "计划日期和金额。同一措施对同一成员不能重复（已终止的除外）；任一项被拒绝则全部不保存。"
        )
        + _PLAN_NOTE,
        request=s.PlanAcceptSerializer,
        responses={201: s.PlanDetailSerializer, 404: NOT_IN_AREA},
    )
    @action(detail=False, methods=["post"], filter_backends=[])
    def accept(self, request):
        serializer = s.PlanAcceptSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        household = _household(request, data["household"])
        plan = services.plan_accept(
            actor=request.user, household=household, items=data["items"], note=data["note"]
        )
        plan = selectors.plan_get(actor=request.user, pk=plan.pk)
        return Response(
            s.PlanDetailSerializer(plan, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


# --- plan measures --------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(
        summary=_("计划措施（仅本人管辖范围）"),
        description=_(
            "按计划完成日期排列。行业部门工作人员只看到本部门负责的措施。overdue=true 只看逾期"
            "（未落实且已过计划完成日期）的措施。"
        ),
    ),
    retrieve=extend_schema(summary=_("计划措施详情")),
    partial_update=extend_schema(
        summary=_("修改计划措施"),
        description=_(
            "本人管辖范围内的区县、乡镇工作人员和村干部可改责任部门、责任人、计划日期、金额、数量和"
            "说明；已落实或已终止的不能再改。状态通过 …/progress/ 更新。每次修改记入审计日志。"
        ),
        request=s.PlanMeasureUpdateSerializer,
        responses={200: s.PlanMeasureSerializer},
    ),
)
class PlanMeasureViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    queryset = PlanMeasure.objects.none()  # names the model for the schema
    serializer_class = s.PlanMeasureSerializer
    filterset_class = PlanMeasureFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.plan_measure_list(actor=self.request.user)

    def get_object(self) -> PlanMeasure:
        try:
            pm = selectors.plan_measure_get(actor=self.request.user, pk=int(self.kwargs["pk"]))
        except PlanMeasure.DoesNotExist:
            raise Http404 from None
        self.check_object_permissions(self.request, pm)
        return pm

    def partial_update(self, request, pk=None):
        pm = self.get_object()
        serializer = s.PlanMeasureUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        pm = services.plan_measure_update(
            actor=request.user, plan_measure=pm, data=serializer.validated_data
        )
        return self._render(pm)

    @extend_schema(
        summary=_("更新落实情况"),
        description=_(
            "状态：计划中 → 实施中 → 已落实，或终止（须在 status_note 说明原因）；已落实和已终止"
            "不能再改。实际日期不能晚于今天。本人管辖范围内的区县、乡镇工作人员和村干部，或负责该"
            "措施的行业部门工作人员可以更新；每次更新记入审计日志。标记已落实时，可在"
            " registry_flags 中确认该措施涉及的农户档案保障情况（见措施的 registry_flags_to_confirm），"
            "改变的项目在同一事务中更新农户档案。"
        ),
        request=s.PlanMeasureProgressSerializer,
        responses={200: s.PlanMeasureSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def progress(self, request, pk=None):
        pm = self.get_object()
        serializer = s.PlanMeasureProgressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        target = data.pop("status")
        flags = data.pop("registry_flags", None)
        pm = services.plan_measure_progress(
            actor=request.user, plan_measure=pm, status=target, data=data, registry_flags=flags
        )
        return self._render(pm)

    @extend_schema(
        summary=_("批量更新落实情况"),
        description=_(
            "一次将多项措施标记为实施中或已落实，共用一个日期（已落实为实际完成日期，实施中为"
            "实际开始日期；不填为今天）和一条说明。每项措施按 …/progress/ 的规则逐项检查（管辖"
            "范围、行业部门、状态、日期）；任一项不能更新则全部不保存，400 的 extra.rows 列出每项"
            "被拒的措施（id、label、reasons）。农户档案“住房安全有保障”“饮水安全有保障”现为“否”"
            "且落实时须确认的措施（registry_flags_to_confirm），请逐项用 …/progress/ 确认。每项措施"
            "记入审计日志。"
        ),
        request=s.PlanMeasureBulkProgressSerializer,
        responses={200: s.PlanMeasureBulkResultSerializer},
    )
    @action(
        detail=False,
        methods=["post"],
        url_path="bulk-progress",
        filter_backends=[],
        pagination_class=None,
    )
    def bulk_progress(self, request):
        serializer = s.PlanMeasureBulkProgressSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        saved = services.plan_measures_bulk_progress(
            actor=request.user,
            plan_measure_ids=serializer.validated_data["ids"],
            status=serializer.validated_data["status"],
            data=serializer.service_data(),
        )
        rows = selectors.plan_measure_list(actor=request.user).filter(
            pk__in=[pm.pk for pm in saved]
        )
        body = {"count": len(saved), "results": rows}
        return Response(s.PlanMeasureBulkResultSerializer(body, context={"request": request}).data)

    def _render(self, pm: PlanMeasure) -> Response:
        pm = selectors.plan_measure_get(actor=self.request.user, pk=pm.pk)
        return Response(s.PlanMeasureSerializer(pm, context={"request": self.request}).data)
