"""``{{ household.identified_month|month_label }}``: 202612 reads 2026年12月."""

from django import template

from shouwang.core import months

register = template.Library()


@register.filter
def month_label(value: str) -> str:
    return months.month_label(str(value or ""))
