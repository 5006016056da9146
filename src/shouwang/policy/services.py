"""Writes of policy values: district administrators add, change and remove the numbers rules use.

Every problem with a value is reported at once: ``ApplicationError.extra`` holds ``errors``
(every message) and ``fields`` (field name → message) so a form can mark its fields.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shouwang.core.audit import audit_record, model_snapshot, stored_actor
from shouwang.core.choices import AuditAction, DivisionLevel
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.models import Division, User
from shouwang.policy.models import PolicyValue
from shouwang.policy.parameters import PARAMETERS
from shouwang.policy.permissions import can_edit_policy

#: A value applies nationally (no division) or to a province or county overriding it.
DIVISION_LEVELS = frozenset({DivisionLevel.PROVINCE, DivisionLevel.COUNTY})
YEAR_RANGE = (2000, 2100)
#: PolicyValue.value holds 14 digits, 4 after the point.
VALUE_LIMIT = Decimal("1e10")


def _require_editor(actor: User | None) -> None:
    if not can_edit_policy(actor):
        raise PermissionDenied(_("只有区县管理员可以修改政策参数"))


def _validate(
    *,
    parameter: str,
    division: Division | None,
    year: int | None,
    value: Any,
    source: str,
    note: str,
    instance: PolicyValue | None,
) -> Decimal:
    """Check every input; raise one ApplicationError listing all problems."""
    fields: dict[str, str] = {}
    known = PARAMETERS.get(parameter)
    if known is None:
        fields["parameter"] = _("参数“%(name)s”不存在") % {"name": parameter}
    if division is not None and division.level not in DIVISION_LEVELS:
        fields["division"] = _("适用区划只能是省级或区县级（%(name)s 是%(level)s）") % {
            "name": division.name,
            "level": division.get_level_display(),
        }
    if year is not None:
        if known is not None and not known.per_year:
            fields["year"] = _("“%(label)s”不分年度，年度请留空") % {"label": known.label}
        elif not YEAR_RANGE[0] <= year <= YEAR_RANGE[1]:
            fields["year"] = _("年度应在 %(low)d 到 %(high)d 之间") % {
                "low": YEAR_RANGE[0],
                "high": YEAR_RANGE[1],
            }
    number: Decimal | None
    try:
        number = Decimal(str(value).strip()) if value is not None else None
    except (InvalidOperation, ValueError):
        number = None
    if number is None or not number.is_finite():
        fields["value"] = _("数值无效")
    elif number < 0:
        fields["value"] = _("数值不能为负数")
    elif number >= VALUE_LIMIT or number != number.quantize(Decimal("0.0001")):
        fields["value"] = _("数值最多 10 位整数、4 位小数")
    if len(source) > 500:
        fields["source"] = _("依据或来源最多 500 字")
    if len(note) > 500:
        fields["note"] = _("说明最多 500 字")
    if "parameter" not in fields and "division" not in fields and "year" not in fields:
        # The database constraint treats NULLs as distinct; "national, every year" is one row too.
        clash = PolicyValue.objects.filter(
            parameter=parameter,
            division=division,
            **({"year": year} if year is not None else {"year__isnull": True}),
        )
        if instance is not None:
            clash = clash.exclude(pk=instance.pk)
        if clash.exists():
            fields["__all__"] = _("“%(label)s”在%(where)s%(when)s已有数值，请修改那一条") % {
                "label": known.label if known else parameter,
                "where": division.name if division else _("全国"),
                "when": _(" %(year)d 年") % {"year": year}
                if year is not None
                else _("（不分年度）"),
            }
    if fields:
        errors = list(fields.values())
        raise ApplicationError("；".join(errors), extra={"errors": errors, "fields": fields})
    assert number is not None
    return number


@transaction.atomic
def policy_value_create(
    *,
    actor: User | None,
    parameter: str,
    division: Division | None,
    year: int | None,
    value: Any,
    source: str = "",
    note: str = "",
) -> PolicyValue:
    _require_editor(actor)
    source, note = source.strip(), note.strip()
    number = _validate(
        parameter=parameter,
        division=division,
        year=year,
        value=value,
        source=source,
        note=note,
        instance=None,
    )
    row = PolicyValue(
        parameter=parameter,
        division=division,
        year=year,
        value=number,
        source=source,
        note=note,
        updated_by=stored_actor(actor),
    )
    row.full_clean()
    row.save()
    audit_record(actor=actor, action=AuditAction.CREATE, target=row, after=model_snapshot(row))
    return row


@transaction.atomic
def policy_value_update(
    *,
    actor: User | None,
    policy_value: PolicyValue,
    parameter: str,
    division: Division | None,
    year: int | None,
    value: Any,
    source: str = "",
    note: str = "",
) -> PolicyValue:
    """Change a value; an unchanged save writes nothing."""
    _require_editor(actor)
    row = PolicyValue.objects.select_for_update().get(pk=policy_value.pk)
    source, note = source.strip(), note.strip()
    number = _validate(
        parameter=parameter,
        division=division,
        year=year,
        value=value,
        source=source,
        note=note,
        instance=row,
    )
    before = model_snapshot(row, exclude={"updated_by"})
    row.parameter = parameter
    row.division = division
    row.year = year
    row.value = number
    row.source = source
    row.note = note
    if model_snapshot(row, exclude={"updated_by"}) == before:
        return row
    row.updated_by = stored_actor(actor)
    row.full_clean()
    row.save()
    audit_record(
        actor=actor,
        action=AuditAction.UPDATE,
        target=row,
        before=before,
        after=model_snapshot(row, exclude={"updated_by"}),
    )
    return row


@transaction.atomic
def policy_value_delete(*, actor: User | None, policy_value: PolicyValue) -> None:
    _require_editor(actor)
    row = PolicyValue.objects.select_for_update().get(pk=policy_value.pk)
    before = model_snapshot(row)
    target_id, target_repr = str(row.pk), str(row)
    row.delete()
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        target_type=PolicyValue._meta.label_lower,
        target_id=target_id,
        target_repr=target_repr,
        before=before,
    )
