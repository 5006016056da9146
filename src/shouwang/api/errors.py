"""One error shape for the API: ``{"message", "code", "extra"}``.

Validation errors (from serializers, filters or the services' ``full_clean``) list their reasons
under ``extra.fields``. A view may set ``service_error_fields`` to report model field names from
the services (``risk_type_1``) under the names its API uses (``risk_types``).
"""

from __future__ import annotations

from django.core.exceptions import NON_FIELD_ERRORS
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.utils.translation import gettext
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from shouwang.core.exceptions import ApplicationError, PermissionDenied


def _field_errors(exc: DjangoValidationError, renames: dict[str, str]) -> dict[str, list[str]]:
    if not hasattr(exc, "error_dict"):
        return {api_settings.NON_FIELD_ERRORS_KEY: exc.messages}
    fields: dict[str, list[str]] = {}
    for name, messages in exc.message_dict.items():
        key = (
            api_settings.NON_FIELD_ERRORS_KEY
            if name == NON_FIELD_ERRORS
            else renames.get(name, name)
        )
        fields.setdefault(key, []).extend(messages)
    return fields


def exception_handler(exc, context):
    view = context.get("view")
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            detail=_field_errors(exc, getattr(view, "service_error_fields", {}))
        )
    elif isinstance(exc, Http404):
        # DRF would keep Django's English "No Household matches the given query."
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if isinstance(exc, ApplicationError):
        set_rollback()
        code = (
            status.HTTP_403_FORBIDDEN
            if isinstance(exc, PermissionDenied)
            else status.HTTP_400_BAD_REQUEST
        )
        return Response({"message": exc.message, "code": exc.code, "extra": exc.extra}, status=code)
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, exceptions.ValidationError):
        fields = response.data
        if not isinstance(fields, dict):
            fields = {api_settings.NON_FIELD_ERRORS_KEY: fields}
        response.data = {
            "message": _validation_message(fields),
            "code": "invalid",
            "extra": {"fields": fields},
        }
    elif isinstance(exc, exceptions.APIException):
        response.data = {"message": str(exc.detail), "code": exc.default_code, "extra": {}}
    return response


def _validation_message(fields: dict) -> str:
    """An error that concerns no single field (wrong password, say) is the message itself."""
    if (
        set(fields) == {api_settings.NON_FIELD_ERRORS_KEY}
        and fields[api_settings.NON_FIELD_ERRORS_KEY]
    ):
        return str(fields[api_settings.NON_FIELD_ERRORS_KEY][0])
    return gettext("输入有误")
