"""One application exception hierarchy; the API error handler maps it to JSON."""

from __future__ import annotations

from typing import Any


class ApplicationError(Exception):
    """A business rule refused the request. ``message`` is user-facing Chinese text."""

    code = "application_error"

    def __init__(self, message: str, *, extra: dict[str, Any] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.extra = extra or {}


class PermissionDenied(ApplicationError):
    code = "permission_denied"
