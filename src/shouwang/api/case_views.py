"""API of leads and identification / risk-elimination cases.

Reads come from the cases selectors (scoped to the user's area, so another area's lead or case
is a 404); writes call one cases service with ``actor=request.user``. Each workflow verb is an
action (``POST /api/cases/{id}/approve/``) whose body is the step's record, validated by the
step's form inside ``services.case_act``; a refusal answers 400 (or 403 for the wrong role or
area) with the reasons per field under ``extra.errors``.
"""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema, extend_schema_view
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.parsers import FormParser, MultiPartParser
from rest_framework.response import Response

from shouwang.api import case_serializers as s
from shouwang.cases import lead_selectors, selectors, services, workflow
from shouwang.cases.attachment_services import case_attachment_add
from shouwang.cases.choices import ActingLevel, CaseState, CaseVerb
from shouwang.cases.filters import CaseFilterSet
from shouwang.cases.lead_filters import LeadFilterSet
from shouwang.cases.models import Case, Lead

_LEAD_NOTE = _("村、乡镇（街道）和区县工作人员，仅本人管辖范围；每次处理记入审计日志。")


@extend_schema_view(
    list=extend_schema(
        summary=_("线索列表（仅本人管辖范围）"),
        description=_(
            "含已合并的线索（merged_into 指向其合并到的线索）。行业部门工作人员看不到线索。"
        ),
    ),
    retrieve=extend_schema(summary=_("线索详情")),
    create=extend_schema(
        summary=_("登记线索"),
        description=_(
            "干部走访排查、吹哨人报告、媒体报道或信访。已建档农户传 household；未建档的传姓名、"
            "身份证号码和所在村。同一农户已有待处理线索时，新线索合并到其下（status 为 merged）。"
        ),
        request=s.LeadCreateSerializer,
        responses={201: s.LeadSerializer},
    ),
)
class LeadViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Lead.objects.none()  # names the model for the schema; rows come from get_queryset
    serializer_class = s.LeadSerializer
    filterset_class = LeadFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return lead_selectors.lead_list(actor=self.request.user)

    def _render(self, lead: Lead) -> dict:
        return s.LeadSerializer(self.get_queryset().get(pk=lead.pk)).data

    def create(self, request):
        serializer = s.LeadCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        household = data.get("household")
        lead = services.lead_create(
            actor=request.user,
            channel=data["channel"],
            division=household.village if household else data["village"],
            household=household,
            description=data["description"],
            received_on=data["received_on"],
            person_name="" if household else data["person_name"],
            id_number="" if household else data["id_number"],
            phone=data["phone"],
            address=data["address"],
            reporter_name=data["reporter_name"],
        )
        return Response(self._render(lead), status=status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("关闭线索"),
        description=_LEAD_NOTE,
        request=s.LeadCloseSerializer,
        responses={200: s.LeadSerializer},
    )
    @action(detail=True, methods=["post"], filter_backends=[])
    def close(self, request, pk=None):
        lead = self.get_object()
        serializer = s.LeadCloseSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        lead = services.lead_close(
            actor=request.user, lead=lead, reason=serializer.validated_data["reason"]
        )
        return Response(self._render(lead))

    @extend_schema(
        summary=_("启动监测对象识别"),
        description=_(
            "由待处理的线索启动识别流程。农户自主申报已含申请、承诺和资产核查授权，流程直接进入入户核实。"
        ),
        request=s.LeadOpenCaseSerializer,
        responses={201: s.CaseSerializer},
    )
    @action(detail=True, methods=["post"], url_path="open-case", filter_backends=[])
    def open_case(self, request, pk=None):
        lead = self.get_object()
        serializer = s.LeadOpenCaseSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        case = services.case_open(actor=request.user, lead=lead, **serializer.validated_data)
        case = selectors.case_get(actor=request.user, pk=case.pk)
        return Response(
            s.CaseSerializer(case, context={"request": request}).data,
            status=status.HTTP_201_CREATED,
        )


@extend_schema_view(
    list=extend_schema(
        summary=_("识别和风险消除流程（仅本人管辖范围）"),
        description=_("按办结时限排序；allowed_verbs 列出您现在可执行的操作。"),
    ),
    retrieve=extend_schema(summary=_("流程详情")),
    create=extend_schema(
        summary=_("启动风险消除"),
        description=_(
            "kind 为 elimination，household 为风险未消除的监测对象；流程从村（社区）提名开始。"
            "监测对象识别由线索启动：POST /api/leads/{id}/open-case/。"
        ),
        request=s.CaseCreateSerializer,
        responses={201: s.CaseSerializer},
    ),
)
class CaseViewSet(
    mixins.ListModelMixin,
    mixins.RetrieveModelMixin,
    viewsets.GenericViewSet,
):
    queryset = Case.objects.none()  # names the model for the schema; rows come from get_queryset
    serializer_class = s.CaseSerializer
    filterset_class = CaseFilterSet
    lookup_value_regex = r"\d+"

    def get_queryset(self):
        return selectors.case_list(actor=self.request.user)

    def _render(self, case: Case, code: int = status.HTTP_200_OK) -> Response:
        case = self.get_queryset().get(pk=case.pk)
        return Response(s.CaseSerializer(case, context={"request": self.request}).data, status=code)

    def create(self, request):
        serializer = s.CaseCreateSerializer(data=request.data, context={"request": request})
        serializer.is_valid(raise_exception=True)
        case = services.elimination_open(
            actor=request.user, household=serializer.validated_data["household"]
        )
        return self._render(case, status.HTTP_201_CREATED)

    @extend_schema(
        summary=_("流程记录"),
        description=_("每一步的操作人、时间和登记内容，按时间先后。"),
        responses={200: s.CaseTransitionSerializer(many=True)},
    )
    @action(detail=True, methods=["get"], filter_backends=[], pagination_class=None)
    def transitions(self, request, pk=None):
        case = self.get_object()
        return Response(
            s.CaseTransitionSerializer(selectors.case_transitions(case=case), many=True).data
        )

    @extend_schema(
        methods=["get"],
        summary=_("流程附件"),
        responses={200: s.CaseAttachmentSerializer(many=True)},
    )
    @extend_schema(
        methods=["post"],
        summary=_("上传流程附件"),
        description=_(
            "multipart 上传签字的入户核实记录、评议会议记录或公示照片（JPG、PNG、PDF，"
            "不超过 10 MB）。入户核实和结束公示前须上传的材料由政策参数决定。"
        ),
        request={"multipart/form-data": s.CaseAttachmentUploadSerializer},
        responses={201: s.CaseAttachmentSerializer},
    )
    @action(
        detail=True,
        methods=["get", "post"],
        filter_backends=[],
        pagination_class=None,
        parser_classes=[MultiPartParser, FormParser],
    )
    def attachments(self, request, pk=None):
        case = self.get_object()
        if request.method == "GET":
            rows = selectors.case_attachments(case=case)
            return Response(s.CaseAttachmentSerializer(rows, many=True).data)
        serializer = s.CaseAttachmentUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        attachment = case_attachment_add(actor=request.user, case=case, **serializer.validated_data)
        return Response(s.CaseAttachmentSerializer(attachment).data, status=status.HTTP_201_CREATED)

    def act(self, request, verb: str) -> Response:
        case = self.get_object()
        data = s.record_body(request.data, _verb_record(verb))
        case = services.case_act(actor=request.user, case=case, verb=verb, data=data)
        return self._render(case)


def _verb_record(verb: str) -> str:
    return next(t.record for t in workflow.TRANSITIONS if t.verb == verb)


def _verb_description(verb: str) -> str:
    moves = [
        f"{'、'.join(sorted(str(CaseState(src).label) for src in t.sources))} → "
        f"{CaseState(t.target).label}"
        for t in workflow.TRANSITIONS
        if t.verb == verb
    ]
    levels = {t.level for t in workflow.TRANSITIONS if t.verb == verb}
    who = (
        _("当前办理层级或其上级的工作人员")
        if None in levels
        else "、".join(str(ActingLevel(level).label) for level in sorted(levels)) + "工作人员"
    )
    return str(
        _("办理人：%(who)s（本人管辖范围）。步骤：%(moves)s。请求体为本步骤的登记内容。")
        % {"who": who, "moves": "；".join(moves)}
    )


def _verb_action(verb: CaseVerb):
    """``POST /api/cases/{id}/<verb>/``: take the step through ``services.case_act``."""

    def view(self, request, pk=None):
        return self.act(request, verb.value)

    view.__name__ = f"act_{verb.value}"
    view = action(
        detail=True,
        methods=["post"],
        url_path=verb.value.replace("_", "-"),
        url_name=verb.value.replace("_", "-"),
        filter_backends=[],
    )(view)
    return extend_schema(
        summary=str(verb.label),
        description=_verb_description(verb.value),
        request=s.record_serializer(_verb_record(verb.value)),
        responses={200: s.CaseSerializer},
    )(view)


# One action per workflow verb, so every verb has its own documented path.
for _verb in CaseVerb:
    setattr(CaseViewSet, f"act_{_verb.value}", _verb_action(_verb))
