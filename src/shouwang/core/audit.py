"""Writing audit rows. Called by services inside their transaction, never by views."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django.db import models

from shouwang.core.models import AuditEvent, User

SNAPSHOT_EXCLUDE = {"created_at", "updated_at"}


def model_snapshot(obj: models.Model, *, exclude: Iterable[str] = ()) -> dict[str, Any]:
    """A JSON-safe dict of the concrete fields of ``obj``; encrypted fields are left out."""
    skip = SNAPSHOT_EXCLUDE | set(exclude)
    data: dict[str, Any] = {}
    for field in obj._meta.concrete_fields:
        # Ciphertexts and blind indexes never go into the log; the masked copy does.
        if field.name in skip or field.name.endswith(("_encrypted", "_index")):
            continue
        value = field.value_from_object(obj)
        if isinstance(value, Decimal):
            # Same text for 20000 and 20000.00, so a no-op import logs nothing.
            value = str(value.quantize(Decimal(1).scaleb(-field.decimal_places)))
        elif isinstance(value, str):
            value = str(value)  # TextChoices members compare and serialise as plain text
        if value is not None and not isinstance(value, (str, int, float, bool, list, dict)):
            value = str(value)
        data[field.attname if field.is_relation else field.name] = value
    return data


def audit_event(
    *,
    actor: User | None,
    action: str,
    target: models.Model | None = None,
    target_type: str = "",
    target_id: str = "",
    target_repr: str = "",
    subject: str = "",
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> AuditEvent:
    """One unsaved audit row; bulk writers build many and insert them together.

    ``subject`` (what the row is shown under) defaults to the target itself.
    """
    if target is not None:
        target_type = target_type or target._meta.label_lower
        target_id = target_id or str(target.pk)
        target_repr = target_repr or str(target)[:200]
    return AuditEvent(
        actor=stored_actor(actor),
        action=action,
        target_type=target_type,
        target_id=target_id,
        target_repr=target_repr[:200],
        subject=subject or (f"{target_type}:{target_id}" if target_type else ""),
        before=before,
        after=after,
        extra=extra or {},
    )


def audit_record(**fields: Any) -> AuditEvent:
    """Write one audit row now; takes the keyword arguments of ``audit_event``."""
    event = audit_event(**fields)
    event.save()
    return event


def stored_actor(actor: User | None) -> User | None:
    """The actor to keep on a row: None for commands and system jobs (no actor, or the
    command-line FullAccess, which is no database user)."""
    return actor if actor is not None and actor.pk else None


def subject_key(obj: models.Model) -> str:
    return f"{obj._meta.label_lower}:{obj.pk}"


def household_subject(household_id: int | None, otherwise: models.Model) -> str:
    """The subject of an event about a household's affairs (an alert, a lead, a case): the
    household, so it shows in its history; ``otherwise`` itself while none is known."""
    return f"registry.household:{household_id}" if household_id else subject_key(otherwise)
