"""Reading policy values: most specific division first, then the latest year not after ``year``."""

from __future__ import annotations

from decimal import Decimal

from django.db.models import Q
from django.utils.translation import gettext as _

from shouwang.core.choices import LEVEL_PREFIX_LENGTH
from shouwang.policy.models import PolicyValue
from shouwang.policy.parameters import PARAMETERS


class MissingPolicyValue(LookupError):
    def __init__(self, parameter: str, year: int | None) -> None:
        label = PARAMETERS[parameter].label if parameter in PARAMETERS else parameter
        message = (
            _("政策参数“%(label)s”没有 %(year)s 年或更早年度的数值，请在“政策参数”中补充")
            % {"label": label, "year": year}
            if year
            else _("政策参数“%(label)s”尚未设置") % {"label": label}
        )
        super().__init__(message)
        self.message = message


def _ancestor_codes(code: str) -> list[str]:
    """The division and its ancestors as 12-digit codes, most specific first."""
    codes = []
    for length in sorted(LEVEL_PREFIX_LENGTH.values(), reverse=True):
        prefix = code[:length]
        full = prefix.ljust(12, "0")
        if full not in codes:
            codes.append(full)
    return codes


def policy_value_find(
    parameter: str, *, year: int | None = None, division_code: str | None = None
) -> PolicyValue:
    """The row that applies; raises MissingPolicyValue."""
    codes = _ancestor_codes(division_code) if division_code else []
    rows = PolicyValue.objects.filter(parameter=parameter).filter(
        Q(division__isnull=True) | Q(division_id__in=codes)
    )
    if year is not None:
        rows = rows.filter(Q(year__isnull=True) | Q(year__lte=year))
    best: PolicyValue | None = None
    best_rank: tuple[int, int] | None = None
    for row in rows:
        specificity = len(codes) - codes.index(row.division_id) if row.division_id else 0
        rank = (specificity, row.year or 0)
        if best_rank is None or rank > best_rank:
            best, best_rank = row, rank
    if best is None:
        raise MissingPolicyValue(parameter, year)
    return best


def policy_value(
    parameter: str, *, year: int | None = None, division_code: str | None = None
) -> Decimal:
    return policy_value_find(parameter, year=year, division_code=division_code).value


def policy_value_list():
    return PolicyValue.objects.select_related("division", "updated_by").order_by(
        "parameter", "division_id", "-year"
    )
