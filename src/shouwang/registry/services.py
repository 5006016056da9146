"""Writes to the registry. Each service takes an explicit actor and writes its audit rows."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import ProtectedError
from django.utils.translation import gettext as _

from shouwang.core import crypto
from shouwang.core.audit import audit_record, model_snapshot, subject_key
from shouwang.core.choices import AuditAction
from shouwang.core.exceptions import ApplicationError, PermissionDenied
from shouwang.core.idnumber import IdNumberError, parse_id_number
from shouwang.core.jurisdiction import can_edit_registry, can_reveal_personal_data, division_in_area
from shouwang.core.models import User
from shouwang.registry.choices import Relation
from shouwang.registry.models import Household, Member


def _editable(model: type, excluded: set[str]) -> frozenset[str]:
    """Field names (and ``<fk>_id`` names) that services accept in ``data``."""
    fields = [f for f in model._meta.concrete_fields if f.name not in excluded]
    return frozenset([f.name for f in fields] + [f.attname for f in fields])


HOUSEHOLD_EDITABLE = _editable(
    Household,
    {
        "id",
        "created_at",
        "updated_at",
        "phone_encrypted",
        "phone_index",
        "phone_masked",
        "per_capita_net_income",
        "member_count",
        "head_name",
        "grid",  # set by grid_services, which checks the village
    },
)
MEMBER_EDITABLE = _editable(
    Member,
    {
        "id",
        "created_at",
        "updated_at",
        "household",
        "id_number_encrypted",
        "id_number_index",
        "id_number_masked",
        "sex",
        "birth_date",
    },
)


def _require_editor(actor: User | None) -> None:
    if not can_edit_registry(actor):
        raise PermissionDenied(_("您的角色不能修改农户档案"))


def _require_area(actor: User | None, village_code: str) -> None:
    if not division_in_area(actor, village_code):
        raise PermissionDenied(_("该行政村不在您的管辖范围内"))


def _set_fields(obj: Any, data: dict[str, Any], allowed: frozenset[str]) -> None:
    unknown = set(data) - allowed
    if unknown:
        raise ApplicationError(
            _("不能修改字段：%(fields)s") % {"fields": ", ".join(sorted(unknown))}
        )
    for name, value in data.items():
        setattr(obj, name, value)


def _require_grid_member_in_area(household: Household) -> None:
    """A grid member must be a user whose area covers the household's village."""
    if household.grid_member_id is None:
        return
    if not division_in_area(household.grid_member, household.village_id):
        raise ValidationError({"grid_member": _("网格员的管辖范围不包括该行政村")})


def set_phone(household: Household, phone: str) -> None:
    phone = (phone or "").strip()
    if phone and not (phone.isdigit() and 7 <= len(phone) <= 12):
        raise ValidationError({"phone": _("联系电话应为 7 到 12 位数字")})
    household.phone_encrypted = crypto.encrypt(phone) if phone else ""
    household.phone_index = crypto.blind_index(phone) if phone else ""
    household.phone_masked = crypto.mask_phone(phone) if phone else ""


def set_id_number(member: Member, raw: object) -> None:
    """Validate and store an ID number: ciphertext, blind index, masked copy, sex, birth date."""
    try:
        parsed = parse_id_number(raw)
    except IdNumberError as exc:
        raise ValidationError({"id_number": str(exc)}) from None
    member.id_number_encrypted = crypto.encrypt(parsed.value)
    member.id_number_index = crypto.blind_index(parsed.value)
    member.id_number_masked = crypto.mask_id_number(parsed.value)
    member.sex = parsed.sex
    member.birth_date = parsed.birth_date


def household_refresh_derived(household: Household) -> None:
    """Recompute member count, head name and per-capita net income from the members."""
    members = list(household.members.values_list("name", "relation"))
    household.member_count = len(members)
    household.head_name = next(
        (name for name, relation in members if relation == Relation.HEAD), ""
    )
    household.per_capita_net_income = household.compute_per_capita_net_income(
        household.member_count
    )
    Household.objects.filter(pk=household.pk).update(
        member_count=household.member_count,
        head_name=household.head_name,
        per_capita_net_income=household.per_capita_net_income,
    )


@transaction.atomic
def household_create(*, actor: User | None, data: dict[str, Any], phone: str = "") -> Household:
    _require_editor(actor)
    household = Household()
    _set_fields(household, data, HOUSEHOLD_EDITABLE)
    if household.village_id:
        _require_area(actor, household.village_id)
    set_phone(household, phone)
    household.full_clean()
    _require_grid_member_in_area(household)
    household.save()
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=household,
        after=model_snapshot(household),
        subject=subject_key(household),
    )
    return household


@transaction.atomic
def household_update(
    *, actor: User | None, household: Household, data: dict[str, Any], phone: str | None = None
) -> Household:
    """Change a household; ``phone=None`` leaves the phone number as it is."""
    _require_editor(actor)
    household = Household.objects.select_for_update().get(pk=household.pk)
    _require_area(actor, household.village_id)
    before = model_snapshot(household)
    _set_fields(household, data, HOUSEHOLD_EDITABLE)
    _require_area(actor, household.village_id)
    if household.grid_id and household.village_id != before["village_id"]:
        household.grid = None  # a grid belongs to one village; a moved household leaves it
    if phone is not None:
        set_phone(household, phone)
    household.full_clean()
    _require_grid_member_in_area(household)
    household.per_capita_net_income = household.compute_per_capita_net_income(
        household.member_count
    )
    household.save()
    after = model_snapshot(household)
    if before != after:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=household,
            before=before,
            after=after,
            subject=subject_key(household),
        )
    return household


@transaction.atomic
def household_delete(*, actor: User | None, household: Household) -> None:
    _require_editor(actor)
    _require_area(actor, household.village_id)
    subject = subject_key(household)
    for member in household.members.all():
        audit_record(
            actor=actor,
            action=AuditAction.DELETE,
            target=member,
            before=model_snapshot(member),
            subject=subject,
        )
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        target=household,
        before=model_snapshot(household),
        subject=subject,
    )
    try:
        household.delete()
    except ProtectedError:
        # Cases, reviews, campaign checks and the assistance plan keep the household's record.
        raise ApplicationError(
            _("该户已有识别/风险消除流程、帮扶计划或研判、排查记录，不能删除；如已迁出请修改其档案")
        ) from None


def _check_id_free(actor: User | None, member: Member) -> None:
    """Refuse an ID number registered in another member; name the household only when the
    actor may see it (a refusal tells nothing about records outside the area)."""
    clash = (
        Member.objects.filter(id_number_index=member.id_number_index)
        .exclude(pk=member.pk)
        .select_related("household")
        .first()
    )
    if clash is None:
        return
    if division_in_area(actor, clash.household.village_id):
        message = _("该身份证号码已登记在户 %(number)s 的成员中") % {
            "number": clash.household.household_number
        }
    else:
        message = _("该身份证号码已登记在您管辖范围以外的农户中，请与上级核实")
    raise ValidationError({"id_number": message})


@transaction.atomic
def member_create(
    *, actor: User | None, household: Household, id_number: str, data: dict[str, Any]
) -> Member:
    _require_editor(actor)
    _require_area(actor, household.village_id)
    member = Member(household=household)
    _set_fields(member, data, MEMBER_EDITABLE)
    set_id_number(member, id_number)
    _check_id_free(actor, member)
    member.full_clean(exclude=["id_number_index"])
    member.save()
    household_refresh_derived(household)
    audit_record(
        actor=actor,
        action=AuditAction.CREATE,
        target=member,
        after=model_snapshot(member),
        subject=subject_key(household),
    )
    return member


@transaction.atomic
def member_update(
    *, actor: User | None, member: Member, data: dict[str, Any], id_number: str | None = None
) -> Member:
    """Change a member; ``id_number=None`` keeps the stored number."""
    _require_editor(actor)
    member = Member.objects.select_for_update().select_related("household").get(pk=member.pk)
    _require_area(actor, member.household.village_id)
    before = model_snapshot(member)
    _set_fields(member, data, MEMBER_EDITABLE)
    if id_number:
        set_id_number(member, id_number)
        _check_id_free(actor, member)
    member.full_clean(exclude=["id_number_index"])
    member.save()
    household_refresh_derived(member.household)
    after = model_snapshot(member)
    if before != after:
        audit_record(
            actor=actor,
            action=AuditAction.UPDATE,
            target=member,
            before=before,
            after=after,
            subject=subject_key(member.household),
        )
    return member


@transaction.atomic
def member_delete(*, actor: User | None, member: Member) -> None:
    _require_editor(actor)
    household = member.household
    _require_area(actor, household.village_id)
    audit_record(
        actor=actor,
        action=AuditAction.DELETE,
        target=member,
        before=model_snapshot(member),
        subject=subject_key(household),
    )
    member.delete()
    household_refresh_derived(household)


def _refuse_reveal(actor: User, target: Any, subject: str, field: str, message: str) -> None:
    """A denied reveal is audited too (in its own transaction, kept when the refusal
    propagates), then refused."""
    with transaction.atomic():
        audit_record(
            actor=actor,
            action=AuditAction.REVEAL_DENIED,
            target=target,
            subject=subject,
            extra={"field": field},
        )
    raise PermissionDenied(message)


def member_reveal_id_number(*, actor: User, member: Member) -> str:
    """The full ID number, for those allowed; every reveal, and every refused one, is logged."""
    _require_area(actor, member.household.village_id)
    if not can_reveal_personal_data(actor):
        _refuse_reveal(
            actor,
            member,
            subject_key(member.household),
            "id_number",
            _("您没有查看完整身份证号码的权限"),
        )
    return _reveal_id_number(actor, member)


@transaction.atomic
def _reveal_id_number(actor: User, member: Member) -> str:
    audit_record(
        actor=actor,
        action=AuditAction.REVEAL,
        target=member,
        subject=subject_key(member.household),
        extra={"field": "id_number"},
    )
    return crypto.decrypt(member.id_number_encrypted)


def household_reveal_phone(*, actor: User, household: Household) -> str:
    _require_area(actor, household.village_id)
    if not can_reveal_personal_data(actor):
        _refuse_reveal(
            actor, household, subject_key(household), "phone", _("您没有查看完整电话号码的权限")
        )
    return _reveal_phone(actor, household)


@transaction.atomic
def _reveal_phone(actor: User, household: Household) -> str:
    audit_record(
        actor=actor,
        action=AuditAction.REVEAL,
        target=household,
        subject=subject_key(household),
        extra={"field": "phone"},
    )
    return crypto.decrypt(household.phone_encrypted) if household.phone_encrypted else ""
