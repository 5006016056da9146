"""Months as the registry keeps them (``YYYYMM``) and as people read them (2026年12月)."""

from __future__ import annotations

from django.utils.translation import gettext as _


def is_month(value: str) -> bool:
    return len(value) == 6 and value.isdigit() and 1 <= int(value[4:]) <= 12 and value[:2] == "20"


def month_label(month: str) -> str:
    """``202612`` as 2026年12月; anything that is not such a month as it is."""
    if not is_month(month or ""):
        return month or ""
    return _("%(y)s年%(m)d月") % {"y": month[:4], "m": int(month[4:])}
