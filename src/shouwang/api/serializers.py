"""API serializers. They check types and shapes only; business rules live in the services.

Write serializers also translate their validated data into the keyword arguments of the
registry services (``service_input``), so the viewsets stay one call long.
"""

from __future__ import annotations

import re
from typing import Any

from django.utils.translation import gettext_lazy as _
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from shouwang.core.choices import DivisionLevel
from shouwang.core.filters import MAX_ID
from shouwang.core.models import Division, User
from shouwang.registry import selectors
from shouwang.registry.choices import RiskType
from shouwang.registry.models import RISK_FIELDS, Household, Member


class IdField(serializers.IntegerField):
    """A record's id in a request: a whole number a database can hold (1 to 2⁶³ − 1); a larger
    one is bad input, not a lookup the database cannot make."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(**kwargs)


def query_id(request, name: str, *, required: bool = False) -> int | None:
    """An id from the query string (``?household=12``), bounded as ``IdField``; a 400 naming
    the parameter otherwise."""
    raw = request.query_params.get(name, "")
    if raw == "" and not required:
        return None
    try:
        return IdField().run_validation(raw)
    except serializers.ValidationError as exc:
        raise serializers.ValidationError({name: exc.detail}) from None


#: A division's code: 12 ASCII digits (NBS 2023).
DIVISION_CODE = re.compile(r"\d{12}", re.ASCII)


def _division_code(value: Any) -> str | None:
    if isinstance(value, int) and not isinstance(value, bool):
        value = str(value)
    return value if isinstance(value, str) and DIVISION_CODE.fullmatch(value) else None


class DivisionField(serializers.PrimaryKeyRelatedField):
    """A division by its 12-digit code, among ``queryset``. Text of any other shape does not
    exist, and is never looked up (PostgreSQL refuses a NUL byte in a query outright)."""

    def to_internal_value(self, data: Any) -> Division:
        code = _division_code(data)
        if code is None:
            self.fail("does_not_exist", pk_value=data)
        return super().to_internal_value(code)


def query_division_code(request, name: str, *, required: bool = False) -> str | None:
    """A division code from the query string (``?village=500156104200``); a 400 naming the
    parameter if it is not 12 digits (or missing, when required)."""
    raw = request.query_params.get(name, "")
    if raw == "" and required:
        raise serializers.ValidationError({name: [_("请填写区划代码")]})
    if raw == "":
        return None
    code = _division_code(raw)
    if code is None:
        raise serializers.ValidationError({name: [_("区划代码应为 12 位数字")]})
    return code


class ErrorSerializer(serializers.Serializer):
    """The one error body of the API (see ``shouwang.api.errors``)."""

    message = serializers.CharField(help_text=_("给用户看的中文说明"))
    code = serializers.CharField(help_text=_("机器可读的错误代码"))
    extra = serializers.DictField(help_text=_("附加信息；输入有误时 fields 按字段列出原因"))


class DivisionSerializer(serializers.ModelSerializer):
    level_display = serializers.CharField(source="get_level_display", read_only=True)

    class Meta:
        model = Division
        fields = ["code", "name", "level", "level_display", "parent"]
        read_only_fields = fields


class MemberBriefSerializer(serializers.ModelSerializer):
    """A member as listed inside a household's detail."""

    relation_display = serializers.CharField(source="get_relation_display", read_only=True)

    class Meta:
        model = Member
        fields = [
            "id",
            "name",
            "relation",
            "relation_display",
            "sex",
            "birth_date",
            "id_number_masked",
            "health_status",
            "labour_skill",
        ]
        read_only_fields = fields


class HouseholdSerializer(serializers.ModelSerializer):
    village = DivisionField(
        queryset=Division.objects.filter(level=DivisionLevel.VILLAGE),
        label=_("行政村（社区）"),
        help_text=_("12 位行政村代码"),
    )
    village_name = serializers.CharField(source="village.name", read_only=True)
    township_name = serializers.CharField(source="village.parent.name", read_only=True, default="")
    household_type_display = serializers.CharField(
        source="get_household_type_display", read_only=True
    )
    monitoring_category_display = serializers.CharField(
        source="get_monitoring_category_display", read_only=True
    )
    monitoring_status_display = serializers.CharField(
        source="get_monitoring_status_display", read_only=True
    )
    risk_types = serializers.ListField(
        child=serializers.ChoiceField(choices=RiskType.choices),
        max_length=len(RISK_FIELDS),
        required=False,
        label=_("致贫/返贫风险"),
        help_text=_("至多 5 项，按顺序对应风险 1 至 5"),
    )
    phone = serializers.CharField(
        write_only=True,
        required=False,
        allow_blank=True,
        max_length=20,
        label=_("联系电话"),
        help_text=_("完整号码只写不读；读取时见 phone_masked"),
    )
    grid_member = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        required=False,
        allow_null=True,
        label=_("网格员"),
    )

    class Meta:
        model = Household
        fields = [
            "id",
            "household_number",
            "village",
            "village_name",
            "township_name",
            "household_type",
            "household_type_display",
            "monitoring_category",
            "monitoring_category_display",
            "monitoring_status",
            "monitoring_status_display",
            "identified_month",
            "eliminated_month",
            "elimination_method",
            "risk_types",
            "phone",
            "phone_masked",
            "income_year",
            "wage_income",
            "operating_income",
            "property_income",
            "transfer_income",
            "productive_expenses",
            "compliant_out_of_pocket",
            "per_capita_net_income",
            "housing_secure",
            "drinking_water_secure",
            "relocated",
            "relocation_site",
            "relocation_mode",
            "grid_member",
            "member_count",
            "head_name",
            "created_at",
            "updated_at",
        ]
        read_only_fields = [
            "id",
            "phone_masked",
            "per_capita_net_income",
            "member_count",
            "head_name",
            "created_at",
            "updated_at",
        ]
        # Uniqueness of the household number is checked by the service (full_clean), not twice.
        extra_kwargs = {"household_number": {"validators": []}}

    def service_input(self) -> tuple[dict[str, Any], str | None]:
        """``(data, phone)`` for household_create/household_update; ``phone`` is None when absent."""
        data = dict(self.validated_data)
        phone = data.pop("phone", None)
        risk_types = data.pop("risk_types", None)
        if risk_types is not None:
            padded = list(risk_types) + [""] * (len(RISK_FIELDS) - len(risk_types))
            data.update(zip(RISK_FIELDS, padded, strict=True))
        return data, phone


class HouseholdDetailSerializer(HouseholdSerializer):
    members = serializers.SerializerMethodField(label=_("家庭成员"))

    class Meta(HouseholdSerializer.Meta):
        fields = [*HouseholdSerializer.Meta.fields, "members"]

    @extend_schema_field(MemberBriefSerializer(many=True))
    def get_members(self, household: Household) -> list[dict[str, Any]]:
        return MemberBriefSerializer(
            selectors.household_members(household=household), many=True
        ).data


class AreaHouseholdField(serializers.PrimaryKeyRelatedField):
    """A household id, accepted only for households in the requesting user's area."""

    def get_queryset(self):
        return selectors.household_queryset(actor=self.context["request"].user)


class MemberSerializer(serializers.ModelSerializer):
    household = AreaHouseholdField(queryset=Household.objects.all(), label=_("所属农户"))
    id_number = serializers.CharField(
        write_only=True,
        max_length=32,
        label=_("身份证号码"),
        help_text=_("完整号码只写不读；读取时见 id_number_masked"),
    )

    class Meta:
        model = Member
        fields = [
            "id",
            "household",
            "name",
            "id_number",
            "id_number_masked",
            "sex",
            "birth_date",
            "relation",
            "ethnicity",
            "education",
            "school_status",
            "health_status",
            "disability_grade",
            "disability_type",
            "labour_skill",
            "employment_status",
            "months_employed",
            "has_basic_medical_insurance",
            "has_critical_illness_insurance",
            "has_pension_insurance",
            "social_assistance",
        ]
        read_only_fields = ["id", "id_number_masked", "sex", "birth_date"]
        # Constraints (one head per household, unique ID) are checked by the service.
        validators: list = []

    def service_input(self) -> tuple[dict[str, Any], str | None]:
        """``(data, id_number)`` for member_create/member_update; the household is passed apart."""
        data = dict(self.validated_data)
        data.pop("household", None)
        id_number = data.pop("id_number", None)
        return data, id_number


class MemberUpdateSerializer(MemberSerializer):
    """Updates keep the member in its household and may leave the ID number out."""

    household = serializers.PrimaryKeyRelatedField(read_only=True, label=_("所属农户"))
    id_number = serializers.CharField(
        write_only=True,
        required=False,
        max_length=32,
        label=_("身份证号码"),
        help_text=_("不填则保留原号码"),
    )


class RevealedIdNumberSerializer(serializers.Serializer):
    id_number = serializers.CharField(label=_("身份证号码"))


class IdNumberLookupSerializer(serializers.Serializer):
    id_number = serializers.CharField(
        max_length=32,
        label=_("身份证号码"),
        help_text=_("在请求体中发送，不放在网址中（网址会进入日志和浏览记录）"),
    )


class RevealedPhoneSerializer(serializers.Serializer):
    phone = serializers.CharField(label=_("联系电话"))
