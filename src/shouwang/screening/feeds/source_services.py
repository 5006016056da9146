"""Changing a feed source: its name, description, whether it is in use, and its column mapping.

Departments rename columns from one export to the next; administrators follow by editing the
headers, aliases, required flags and choice labels. What staged files and rules depend on is
guarded: once a source has staged data its field names and types stay as they are, and a
change that would leave a rule reading this source invalid is refused, naming the rule.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from shouwang.core.audit import audit_record, model_snapshot
from shouwang.core.choices import AuditAction, Role
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.jurisdiction import has_role
from shouwang.core.models import User
from shouwang.screening.choices import BatchStatus, ColumnType
from shouwang.screening.models import FeedBatch, FeedSource, Rule
from shouwang.screening.rules import rule_spec_parse, source_columns
from shouwang.screening.sources import ColumnsInvalid, ColumnSpec, parse_columns
from shouwang.screening.spec import SpecInvalid

SOURCE_EDITORS = frozenset({Role.DISTRICT_ADMIN})


def can_edit_feed_source(actor: User | None) -> bool:
    return has_role(actor, SOURCE_EDITORS)


def _fields_and_types(raw: Any) -> dict[str, str]:
    """Field → type of a stored mapping, read leniently (an old mapping may be invalid)."""
    if not isinstance(raw, list):
        return {}
    return {
        str(item.get("field")): str(item.get("type"))
        for item in raw
        if isinstance(item, dict) and item.get("field")
    }


def _staged_shape_errors(source: FeedSource, columns: list[ColumnSpec]) -> list[str]:
    """Staged Parquet files are read with the current mapping: their fields must stay."""
    if not FeedBatch.objects.filter(source=source, status=BatchStatus.STAGED).exists():
        return []
    labels = dict(ColumnType.choices)
    old = _fields_and_types(source.columns)
    new = {c.field: c.type for c in columns}
    errors = []
    for name in old.keys() - new.keys():
        errors.append(_("字段“%(name)s”已有入库数据，不能删除") % {"name": name})
    for name in new.keys() - old.keys():
        errors.append(_("已有入库数据的数据源不能新增字段（%(name)s）") % {"name": name})
    for name in old.keys() & new.keys():
        if old[name] != new[name]:
            errors.append(
                _("字段“%(name)s”已有入库数据，类型不能从“%(old)s”改为“%(new)s”")
                % {
                    "name": name,
                    "old": labels.get(old[name], old[name]),
                    "new": labels.get(new[name], new[name]),
                }
            )
    return sorted(errors)


def _rule_errors(source: FeedSource, columns: list[ColumnSpec]) -> list[str]:
    """Every rule reading this source must still validate against the new mapping."""
    sources = source_columns()
    sources[source.slug] = columns
    errors = []
    for rule in Rule.objects.filter(spec__feed=source.slug).order_by("slug"):
        try:
            rule_spec_parse(rule.spec, sources=sources)
        except SpecInvalid as exc:
            errors.append(
                _("规则“%(name)s”将无法使用：%(errors)s")
                % {"name": rule.name, "errors": "；".join(exc.errors)}
            )
    return errors


@transaction.atomic
def feed_source_update(
    *,
    actor: User | None,
    source: FeedSource,
    name: str,
    description: str,
    columns: Any,
    active: bool,
) -> FeedSource:
    """Save a source's edited fields; raises ApplicationError with ``extra["errors"]`` listing
    every problem. An unchanged save writes nothing."""
    if not can_edit_feed_source(actor):
        raise PermissionDenied(_("只有区县管理员可以修改数据源"))
    source = FeedSource.objects.select_for_update().get(pk=source.pk)
    errors: list[str] = []
    name = (name or "").strip()
    if not name:
        errors.append(_("请填写数据源名称"))
    elif len(name) > 100:
        errors.append(_("数据源名称最多 100 字"))
    try:
        parsed = parse_columns(columns)
    except ColumnsInvalid as exc:
        errors.extend(exc.errors)
    else:
        errors.extend(_staged_shape_errors(source, parsed))
        errors.extend(_rule_errors(source, parsed))
    if errors:
        raise ApplicationError(
            _("数据源未保存：%(errors)s") % {"errors": "；".join(errors)}, extra={"errors": errors}
        )
    before = model_snapshot(source)
    source.name = name
    source.description = (description or "").strip()
    source.columns = [column.as_dict() for column in parsed]
    source.active = bool(active)
    after = model_snapshot(source)
    if after == before:
        return source
    source.full_clean()
    source.save()
    audit_record(actor=actor, action=AuditAction.UPDATE, target=source, before=before, after=after)
    return source
