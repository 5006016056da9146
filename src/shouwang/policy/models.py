"""Policy numbers as configuration rows: income lines, thresholds, day counts.

A value belongs to a parameter, optionally to a division (a province or county overriding the
national default) and optionally to a year. Lookups take the most specific division and the
latest year not after the one asked for, so a figure carries forward until a new one is set.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from shouwang.core.models import BaseModel


class PolicyValue(BaseModel):
    parameter = models.CharField(_("参数"), max_length=64, db_index=True)
    division = models.ForeignKey(
        "core.Division",
        verbose_name=_("适用区划"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        help_text=_("留空表示全国默认值"),
    )
    year = models.PositiveSmallIntegerField(
        _("年度"), null=True, blank=True, help_text=_("留空表示不分年度")
    )
    value = models.DecimalField(_("数值"), max_digits=14, decimal_places=4)
    source = models.CharField(_("依据或来源"), max_length=500, blank=True)
    note = models.CharField(_("说明"), max_length=500, blank=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("修改人"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = _("政策参数值")
        verbose_name_plural = _("政策参数值")
        ordering = ["parameter", "division_id", "-year"]
        constraints = [
            models.UniqueConstraint(
                fields=["parameter", "division", "year"],
                name="policy_value_unique",
                violation_error_message=_("该参数在这一区划和年度已有数值"),
            )
        ]

    def __str__(self) -> str:
        return f"{self.parameter} {self.division_id or '全国'} {self.year or ''} = {self.value}"
