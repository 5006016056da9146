"""One application exception hierarchy; the API error handler maps it to JSON."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError


class ApplicationError(Exception):
    """A business rule refused the request. ``message`` is user-facing Chinese text."""

    code = "application_error"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class PermissionDenied(ApplicationError):
    code = "permission_denied"


def full_clean_or_refuse(obj: Any, *, constraints: bool = True) -> None:
    """``obj.full_clean()``, with a refusal turned into one ApplicationError whose message
    joins the fields' Chinese messages (the per-field ones go along in ``extra``)."""
    try:
        obj.full_clean(validate_unique=constraints, validate_constraints=constraints)
    except ValidationError as error:
        messages = [
            str(m) for field_messages in error.message_dict.values() for m in field_messages
        ]
        raise ApplicationError("；".join(messages), extra={"fields": error.message_dict}) from error
