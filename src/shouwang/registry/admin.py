"""Read-only admin views of the registry: edits go through the pages, which audit them."""

from __future__ import annotations

from django.contrib import admin

from shouwang.core.admin import ReadOnlyAdmin
from shouwang.registry import selectors
from shouwang.registry.models import Household, Member


class MemberInline(admin.TabularInline):
    model = Member
    fields = (
        "name",
        "id_number_masked",
        "sex",
        "birth_date",
        "relation",
        "health_status",
        "labour_skill",
    )
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = (
        "household_number",
        "head_name",
        "village",
        "household_type",
        "monitoring_category",
        "monitoring_status",
        "member_count",
        "per_capita_net_income",
    )
    list_filter = ("household_type", "monitoring_category", "monitoring_status")
    search_fields = ("household_number", "head_name")
    list_select_related = ("village",)
    exclude = ("phone_encrypted", "phone_index")
    inlines = [MemberInline]

    def get_queryset(self, request):
        # Staff who are not superusers see their own area here too.
        return selectors.household_queryset(actor=request.user)


@admin.register(Member)
class MemberAdmin(ReadOnlyAdmin):
    list_display = (
        "name",
        "id_number_masked",
        "household",
        "relation",
        "sex",
        "birth_date",
        "labour_skill",
    )
    list_filter = ("sex", "relation", "labour_skill", "health_status")
    search_fields = ("name", "household__household_number")
    list_select_related = ("household",)
    exclude = ("id_number_encrypted", "id_number_index")

    def get_queryset(self, request):
        return selectors.member_queryset(actor=request.user)
