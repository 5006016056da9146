"""Django admin for users (role and area), divisions (reference data) and the audit log."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpRequest
from django.utils.translation import gettext_lazy as _

from shouwang.core.models import AuditEvent, Division, User


class ReadOnlyAdmin(admin.ModelAdmin):
    """Visible in the admin, changed only by the services and loaders that audit their writes."""

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    list_display = ("username", "display_name", "role", "department", "is_active", "last_login")
    list_filter = ("role", "department", "is_active", "is_staff")
    search_fields = ("username", "display_name")
    autocomplete_fields = ("divisions",)
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("身份与管辖范围"), {"fields": ("display_name", "role", "department", "divisions")}),
        (
            _("账号状态"),
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "password1", "password2")}),
        (_("身份与管辖范围"), {"fields": ("display_name", "role", "department", "divisions")}),
    )


@admin.register(Division)
class DivisionAdmin(ReadOnlyAdmin):
    list_display = ("code", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("code", "name")
    list_select_related = ("parent",)


@admin.register(AuditEvent)
class AuditEventAdmin(ReadOnlyAdmin):
    list_display = ("created_at", "actor", "action", "target_type", "target_repr")
    list_filter = ("action", "target_type")
    search_fields = ("target_repr", "target_id", "subject")
    list_select_related = ("actor",)
    date_hierarchy = "created_at"
