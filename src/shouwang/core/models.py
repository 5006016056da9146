"""Core models: divisions, users bound to divisions, the audit log."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.utils.translation import gettext_lazy as _

from shouwang.core.choices import LEVEL_PREFIX_LENGTH, AuditAction, Department, DivisionLevel, Role


class BaseModel(models.Model):
    """Every domain row knows when it was created and last changed."""

    created_at = models.DateTimeField(_("创建时间"), auto_now_add=True, db_index=True)
    updated_at = models.DateTimeField(_("更新时间"), auto_now=True)

    class Meta:
        abstract = True


class Division(models.Model):
    """A statistical division (NBS 2023), keyed by its full 12-digit code."""

    code = models.CharField(_("区划代码"), max_length=12, primary_key=True)
    name = models.CharField(_("名称"), max_length=100)
    level = models.PositiveSmallIntegerField(
        _("级别"), choices=DivisionLevel.choices, db_index=True
    )
    parent = models.ForeignKey(
        "self",
        verbose_name=_("上级"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
    )

    class Meta:
        verbose_name = _("行政区划")
        verbose_name_plural = _("行政区划")
        ordering = ["code"]

    def __str__(self) -> str:
        return self.name

    @property
    def prefix(self) -> str:
        """The leading digits every division below this one shares."""
        return self.code[: LEVEL_PREFIX_LENGTH[DivisionLevel(self.level)]]


class User(AbstractUser):
    """A Shouwang user: one role, bound to one or more divisions that make up their area."""

    role = models.CharField(
        _("角色"), max_length=32, choices=Role.choices, default=Role.VILLAGE_CADRE
    )
    department = models.CharField(
        _("所属部门"), max_length=32, choices=Department.choices, blank=True
    )
    divisions = models.ManyToManyField(
        Division, verbose_name=_("管辖区划"), blank=True, related_name="users"
    )
    display_name = models.CharField(_("姓名"), max_length=50, blank=True)

    class Meta:
        verbose_name = _("用户")
        verbose_name_plural = _("用户")
        permissions = [
            ("reveal_personal_data", _("可查看完整身份证号码和电话号码")),
        ]

    def __str__(self) -> str:
        return self.display_name or self.username


class AuditEvent(models.Model):
    """One write or sensitive read, with who did it and the data before and after.

    ``actor`` is null only for system jobs. ``subject`` groups events for display: a member's
    change carries its household's subject so the household page shows both.
    """

    created_at = models.DateTimeField(_("时间"), auto_now_add=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("操作人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
    )
    action = models.CharField(_("操作"), max_length=16, choices=AuditAction.choices)
    target_type = models.CharField(_("对象类型"), max_length=64)
    target_id = models.CharField(_("对象编号"), max_length=64, blank=True)
    target_repr = models.CharField(_("对象"), max_length=200, blank=True)
    subject = models.CharField(_("归属"), max_length=96, blank=True, db_index=True)
    before = models.JSONField(_("修改前"), null=True, blank=True)
    after = models.JSONField(_("修改后"), null=True, blank=True)
    extra = models.JSONField(_("附加信息"), default=dict, blank=True)

    class Meta:
        verbose_name = _("审计日志")
        verbose_name_plural = _("审计日志")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["target_type", "target_id"], name="core_audit_target_idx")]

    def __str__(self) -> str:
        return f"{self.get_action_display()} {self.target_repr}"

    def changed_fields(self) -> list[tuple[str, object, object]]:
        """(field, before, after) for every field whose value differs."""
        before, after = self.before or {}, self.after or {}
        keys = sorted(set(before) | set(after))
        return [(k, before.get(k), after.get(k)) for k in keys if before.get(k) != after.get(k)]
