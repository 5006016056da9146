"""One error shape for the API: ``{"message", "code", "extra"}``."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.views import exception_handler as drf_exception_handler

from shouwang.core.exceptions import ApplicationError, PermissionDenied


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        detail = (
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
        exc = exceptions.ValidationError(detail=detail)
    if isinstance(exc, ApplicationError):
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
        response.data = {
            "message": _("输入有误"),
            "code": "invalid",
            "extra": {"fields": response.data},
        }
    elif isinstance(exc, exceptions.APIException):
        response.data = {"message": str(exc.detail), "code": exc.default_code, "extra": {}}
    return response
