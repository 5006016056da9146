"""API of department data comparison: feed sources and import batches, rules, runs, alerts and
policy values.

As in ``views``, reads come from selectors (alerts scoped to the user's area, so another area's
alert is a 404) and writes call one service with ``actor=request.user``; the services check
roles and answer in Chinese. Work that takes long (imports, screening runs) is queued and
answered with 202 and the URL to poll.
"""

from __future__ import annotations

import shutil
import tempfile
from pathlib import Path

from django.http import FileResponse, Http404
from django.urls import reverse
from django.utils.translation import gettext_lazy as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from shouwang.api import screening_serializers as s
from shouwang.api.case_serializers import AlertLeadSerializer
from shouwang.cases.services import lead_from_alert
from shouwang.policy import selectors as policy_selectors
from shouwang.policy import services as policy_services
from shouwang.policy.models import PolicyValue
from shouwang.screening import evidence, selectors, services, tasks
from shouwang.screening.choices import RunTrigger
from shouwang.screening.feeds import selectors as feed_selectors
from shouwang.screening.feeds import services as feed_services
from shouwang.screening.feeds import source_services
from shouwang.screening.filters import AlertFilterSet, FeedBatchFilterSet
from shouwang.screening.models import Alert, FeedBatch, FeedSource, Rule, ScreeningRun


def _accepted(request, url_name: str, pk: int, body: dict) -> Response:
    """202 Accepted: the work is queued; ``Location`` is where to follow it."""
    location = request.build_absolute_uri(reverse(url_name, args=[pk]))
    return Response(body, status=status.HTTP_202_ACCEPTED, headers={"Location": location})


# --- feed sources and import batches -------------------------------------------------------


def _file_response(build, file_name: str) -> FileResponse:
    """Build a file in a private temporary directory and stream it; the directory is removed
    once the file is open (POSIX keeps an open file readable)."""
    directory = Path(tempfile.mkdtemp(prefix="shouwang-api-"))
    try:
        path = directory / ("download" + Path(file_name).suffix)
        build(path)
        handle = path.open("rb")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return FileResponse(handle, as_attachment=True, filename=file_name)


_TEMPLATE_TYPE = OpenApiParameter(
    "file_type",
    str,
    enum=["xlsx", "csv"],
    default="xlsx",
    description=_(
        "模板格式：xlsx（身份证号码列为文本格式，选项列带下拉列表）或 csv（带 BOM 的 UTF-8）"
    ),
)


@extend_schema_view(
    list=extend_schema(
        summary=_("数据源列表"), description=_("行业部门工作人员只看到本部门的数据源。")
    ),
    retrieve=extend_schema(summary=_("数据源详情，含列定义")),
    partial_update=extend_schema(
        summary=_("修改数据源"),
        description=_(
            "仅区县管理员。可改名称、说明、列定义（整体替换）和启用状态；已有入库数据的字段不能删除或改类型，"
            "使引用该数据源的规则失效的修改会被拒绝。问题在 extra.errors 中逐条列出。"
        ),
        request=s.FeedSourceUpdateSerializer,
        responses={200: s.FeedSourceSerializer},
    ),
)
class FeedSourceViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = FeedSource.objects.none()
    serializer_class = s.FeedSourceSerializer
    filter_backends: list = []
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return feed_selectors.feed_source_list(actor=self.request.user)

    def partial_update(self, request, slug=None):
        source = self.get_object()
        serializer = s.FeedSourceUpdateSerializer(data=request.data, partial=True)
        serializer.is_valid(raise_exception=True)
        current = {
            "name": source.name,
            "description": source.description,
            "columns": source.columns,
            "active": source.active,
        }
        source = source_services.feed_source_update(
            actor=request.user, source=source, **{**current, **serializer.validated_data}
        )
        return Response(s.FeedSourceSerializer(source).data)

    @extend_schema(
        summary=_("下载导入模板"),
        description=_("空白文件，表头为部门习惯的中文表头。"),
        parameters=[_TEMPLATE_TYPE],
        responses={
            (
                200,
                "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            ): OpenApiTypes.BINARY,
            (200, "text/csv"): OpenApiTypes.BINARY,
        },
    )
    @action(detail=True, methods=["get"])
    def template(self, request, slug=None):
        source = self.get_object()
        suffix = request.query_params.get("file_type", "xlsx")
        if suffix not in ("xlsx", "csv"):
            raise ValidationError({"file_type": [_("模板格式只能是 xlsx 或 csv")]})
        file_name = _("%(name)s导入模板") % {"name": source.name} + f".{suffix}"
        return _file_response(
            lambda path: feed_services.feed_template_write(source=source, path=path), file_name
        )


@extend_schema_view(
    list=extend_schema(
        summary=_("导入批次列表"),
        description=_("区县工作人员看到全部批次，行业部门工作人员看到本部门数据源的批次。"),
    ),
    retrieve=extend_schema(summary=_("导入批次详情（进度、计数、拒收原因）")),
    create=extend_schema(
        summary=_("上传部门数据文件"),
        description=_(
            "multipart/form-data：数据源、期别和文件（.xlsx 或 .csv，UTF-8、带 BOM 的 UTF-8 或 GB18030）。"
            "文件在后台逐行校验并入库，立即返回 202 和导入批次，Location 为批次详情地址，可轮询其 status "
            "和 progress_percent。同一文件不会重复入库。"
        ),
        request={"multipart/form-data": s.FeedBatchUploadSerializer},
        responses={202: s.FeedBatchSerializer},
    ),
    destroy=extend_schema(
        summary=_("删除导入批次"),
        description=_("连同暂存文件一起删除；之后的比对不再使用其数据，已产生的预警保留依据。"),
    ),
)
class FeedBatchViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    queryset = FeedBatch.objects.none()
    serializer_class = s.FeedBatchSerializer
    filterset_class = FeedBatchFilterSet
    parser_classes = [MultiPartParser, FormParser]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return feed_selectors.feed_batch_list(actor=self.request.user)

    def create(self, request):
        serializer = s.FeedBatchUploadSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        upload = data["file"]
        batch = feed_services.feed_batch_submit(
            actor=request.user,
            source=data["source"],
            file_name=upload.name,
            chunks=upload.chunks(),
            period=data["period"],
        )
        # Read back: without a worker queue (tests, small setups) the import may be done already.
        batch = feed_selectors.feed_batch_get(actor=request.user, pk=batch.pk)
        return _accepted(
            request, "api:feed-batch-detail", batch.pk, s.FeedBatchSerializer(batch).data
        )

    def perform_destroy(self, instance):
        feed_services.feed_batch_delete(actor=self.request.user, batch=instance)

    @extend_schema(
        summary=_("下载拒收明细"),
        description=_("CSV：行号、列、原因和打码的身份证号码。批次没有拒收行时为 404。"),
        responses={(200, "text/csv"): OpenApiTypes.BINARY},
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def rejects(self, request, pk=None):
        batch = self.get_object()
        path = Path(batch.rejects_path) if batch.rejects_path else None
        if path is None or not path.exists():
            raise Http404
        name = _("%(source)s-%(period)s-拒收明细-批次%(id)d.csv") % {
            "source": batch.source.name,
            "period": batch.period,
            "id": batch.pk,
        }
        return FileResponse(
            path.open("rb"), as_attachment=True, filename=name, content_type="text/csv"
        )


# --- rules ----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary=_("预警规则列表")),
    retrieve=extend_schema(summary=_("预警规则详情")),
    create=extend_schema(
        summary=_("新增预警规则"),
        description=_("仅区县管理员。规则定义逐项校验，错误在 extra.errors 中列出。"),
        request=s.RuleCreateSerializer,
        responses={201: s.RuleSerializer},
    ),
    update=extend_schema(
        summary=_("修改预警规则"),
        description=_("仅区县管理员。每次修改保存为新版本并记入审计日志；内容未变则不产生新版本。"),
        request=s.RuleUpdateSerializer,
        responses={200: s.RuleSerializer},
    ),
    partial_update=extend_schema(
        summary=_("修改预警规则（部分字段）"),
        description=_("仅区县管理员。每次修改保存为新版本并记入审计日志；内容未变则不产生新版本。"),
        request=s.RuleUpdateSerializer,
        responses={200: s.RuleSerializer},
    ),
)
class RuleViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Rule.objects.none()  # names the model for the schema; rows come from get_queryset
    serializer_class = s.RuleSerializer
    filter_backends: list = []
    lookup_field = "slug"
    lookup_value_regex = r"[-a-zA-Z0-9_]+"

    def get_queryset(self):
        return selectors.rule_list()

    def create(self, request):
        serializer = s.RuleCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rule = services.rule_create(actor=request.user, **serializer.validated_data)
        return Response(self._render(rule), status=status.HTTP_201_CREATED)

    def update(self, request, slug=None, partial=False):
        rule = self.get_object()
        serializer = s.RuleUpdateSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        rule = services.rule_update(actor=request.user, rule=rule, **serializer.validated_data)
        return Response(self._render(rule))

    def partial_update(self, request, slug=None):
        return self.update(request, slug=slug, partial=True)

    def _render(self, rule: Rule) -> dict:
        # Read back through the selector, which adds the open alert count.
        return s.RuleSerializer(self.get_queryset().get(pk=rule.pk)).data

    @extend_schema(
        summary=_("预览规则：按当前数据会产生多少条预警"),
        description=_(
            "只计算不保存。可提交修改中的规则定义；不提交则预览规则当前的定义。仅区县管理员。"
        ),
        request=s.SavedRulePreviewRequestSerializer,
        responses={200: s.RulePreviewSerializer},
    )
    @action(detail=True, methods=["post"])
    def preview(self, request, slug=None):
        rule = self.get_object()
        serializer = s.SavedRulePreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.rule_preview(
            actor=request.user,
            spec=data.get("spec", rule.spec),
            period=data.get("period"),
            rule=rule,
            engine=data["engine"],
        )
        return Response(s.RulePreviewSerializer(result).data)

    @extend_schema(
        operation_id="rules_preview_unsaved",
        summary=_("预览尚未保存的规则"),
        description=_("新建规则前试算：按当前数据会产生多少条预警。只计算不保存。仅区县管理员。"),
        request=s.RulePreviewRequestSerializer,
        responses={200: s.RulePreviewSerializer},
    )
    @action(detail=False, methods=["post"], url_path="preview", url_name="preview-new")
    def preview_new(self, request):
        serializer = s.RulePreviewRequestSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        result = services.rule_preview(
            actor=request.user, spec=data["spec"], period=data.get("period"), engine=data["engine"]
        )
        return Response(s.RulePreviewSerializer(result).data)

    @extend_schema(summary=_("规则的版本历史"), responses={200: s.RuleVersionSerializer(many=True)})
    @action(detail=True, methods=["get"], pagination_class=None)
    def versions(self, request, slug=None):
        rule = self.get_object()
        return Response(s.RuleVersionSerializer(selectors.rule_versions(rule=rule), many=True).data)


# --- runs -----------------------------------------------------------------------------------


@extend_schema_view(
    list=extend_schema(summary=_("比对运行记录")),
    retrieve=extend_schema(summary=_("比对运行详情（进度、计数、耗时）")),
    create=extend_schema(
        summary=_("发起数据比对"),
        description=_(
            "区县工作人员。运行在后台进行，立即返回 202 和运行记录，Location 为运行详情地址，"
            "可轮询其 status。"
        ),
        request=s.ScreeningRunCreateSerializer,
        responses={202: s.ScreeningRunSerializer},
    ),
)
class ScreeningRunViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = ScreeningRun.objects.none()
    serializer_class = s.ScreeningRunSerializer
    filter_backends: list = []
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.run_list()

    def create(self, request):
        serializer = s.ScreeningRunCreateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        run = tasks.screening_run_submit(
            actor=request.user,
            engine=data["engine"],
            period=data.get("period") or None,
            rule_slugs=data.get("rules") or None,
            trigger=RunTrigger.API,
        )
        return _accepted(
            request, "api:screening-run-detail", run.pk, s.ScreeningRunSerializer(run).data
        )


# --- alerts ---------------------------------------------------------------------------------

_TRIAGE_NOTE = _("区县、乡镇工作人员和村干部可处理本辖区的预警；每次处理记入审计日志。")


@extend_schema_view(
    list=extend_schema(summary=_("预警列表（仅本人管辖范围）")),
    retrieve=extend_schema(summary=_("预警详情，含比对依据")),
)
class AlertViewSet(viewsets.ReadOnlyModelViewSet):
    queryset = Alert.objects.none()
    filterset_class = AlertFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.alert_list(actor=self.request.user)

    def get_serializer_class(self):
        return s.AlertSerializer if self.action == "list" else s.AlertDetailSerializer

    def get_object(self) -> Alert:
        try:
            alert = selectors.alert_get(actor=self.request.user, pk=int(self.kwargs["pk"]))
        except Alert.DoesNotExist:
            raise Http404 from None
        self.check_object_permissions(self.request, alert)
        return alert

    @extend_schema(
        summary=_("排除预警"),
        description=_TRIAGE_NOTE,
        request=s.AlertDismissSerializer,
        responses={200: s.AlertDetailSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def dismiss(self, request, pk=None):
        alert = self.get_object()
        serializer = s.AlertDismissSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        alert = services.alert_dismiss(
            actor=request.user, alert=alert, reason=serializer.validated_data["reason"]
        )
        return Response(s.AlertDetailSerializer(alert).data)

    @extend_schema(
        summary=_("交办入户核实"),
        description=_TRIAGE_NOTE,
        request=s.AlertAssignSerializer,
        responses={200: s.AlertDetailSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def assign(self, request, pk=None):
        alert = self.get_object()
        serializer = s.AlertAssignSerializer(
            data=request.data,
            context={"assignees": selectors.alert_assignees(actor=request.user, alert=alert)},
        )
        serializer.is_valid(raise_exception=True)
        alert = services.alert_assign(actor=request.user, alert=alert, **serializer.validated_data)
        return Response(s.AlertDetailSerializer(alert).data)

    @extend_schema(
        summary=_("转为线索"),
        description=_(
            "区县、乡镇工作人员和村干部可处理本辖区的预警；每次处理记入审计日志。"
            "应答中的 lead 为新建线索的编号（见 /api/leads/{id}/）。"
        ),
        request=s.AlertOpenLeadSerializer,
        responses={200: AlertLeadSerializer},
    )
    @action(detail=True, methods=["post"], url_path="open-lead", filter_backends=[])
    def open_lead(self, request, pk=None):
        alert = self.get_object()
        serializer = s.AlertOpenLeadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = lead_from_alert(
            actor=request.user, alert=alert, note=serializer.validated_data["note"]
        )
        alert = selectors.alert_get(actor=request.user, pk=alert.pk)
        alert.opened_lead_id = lead.pk
        return Response(AlertLeadSerializer(alert).data)

    @extend_schema(
        summary=_("可交办的人员"),
        description=_(
            "您管辖范围内可处理该预警的用户（村干部和网格员在前）；"
            "尚未定位到村的预警不能交办，返回空列表。"
        ),
        responses={200: s.AssigneeSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def assignees(self, request, pk=None):
        alert = self.get_object()
        return Response(
            s.AssigneeSerializer(
                selectors.alert_assignees(actor=request.user, alert=alert), many=True
            ).data
        )

    @extend_schema(
        summary=_("预警依据的部门数据行"),
        description=_(
            "按导入批次列出预警所依据的原始数据行（表头为部门文件的中文表头）；不含身份证号码。"
        ),
        responses={200: s.AlertEvidenceRowsSerializer},
    )
    @action(
        detail=True, methods=["get"], url_path="evidence", filter_backends=[], pagination_class=None
    )
    def evidence_rows(self, request, pk=None):
        alert = self.get_object()
        return Response(s.AlertEvidenceRowsSerializer(evidence.alert_evidence(alert)).data)


# --- policy values --------------------------------------------------------------------------


_POLICY_EDIT_NOTE = _("仅区县管理员；每次修改记入审计日志。")


@extend_schema_view(
    list=extend_schema(
        summary=_("政策参数值"),
        description=_(
            "监测范围、农村居民人均可支配收入等；规则的阈值可以引用这些参数。所有登录用户可读。"
        ),
    ),
    retrieve=extend_schema(summary=_("政策参数值详情")),
    create=extend_schema(
        summary=_("新增政策参数值"),
        description=_POLICY_EDIT_NOTE,
        request=s.PolicyValueWriteSerializer,
        responses={201: s.PolicyValueSerializer},
    ),
    update=extend_schema(
        summary=_("修改政策参数值"),
        description=_POLICY_EDIT_NOTE,
        request=s.PolicyValueWriteSerializer,
        responses={200: s.PolicyValueSerializer},
    ),
    partial_update=extend_schema(
        summary=_("修改政策参数值（部分字段）"),
        description=_POLICY_EDIT_NOTE,
        request=s.PolicyValueWriteSerializer,
        responses={200: s.PolicyValueSerializer},
    ),
    destroy=extend_schema(summary=_("删除政策参数值"), description=_POLICY_EDIT_NOTE),
)
class PolicyValueViewSet(viewsets.ModelViewSet):
    queryset = PolicyValue.objects.none()
    serializer_class = s.PolicyValueSerializer
    filterset_fields = ["parameter", "year"]
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return policy_selectors.policy_value_list()

    def create(self, request):
        serializer = s.PolicyValueWriteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        row = policy_services.policy_value_create(actor=request.user, **serializer.validated_data)
        return Response(self._render(row), status=status.HTTP_201_CREATED)

    def update(self, request, pk=None, partial=False):
        row = self.get_object()
        serializer = s.PolicyValueWriteSerializer(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        current = {
            "parameter": row.parameter,
            "division": row.division,
            "year": row.year,
            "value": row.value,
            "source": row.source,
            "note": row.note,
        }
        row = policy_services.policy_value_update(
            actor=request.user, policy_value=row, **{**current, **serializer.validated_data}
        )
        return Response(self._render(row))

    def partial_update(self, request, pk=None):
        return self.update(request, pk=pk, partial=True)

    def perform_destroy(self, instance):
        policy_services.policy_value_delete(actor=self.request.user, policy_value=instance)

    def _render(self, row: PolicyValue) -> dict:
        return s.PolicyValueSerializer(self.get_queryset().get(pk=row.pk)).data
