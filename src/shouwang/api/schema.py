"""OpenAPI generation: every operation also documents the shared error body."""

from __future__ import annotations

from django.utils.translation import gettext_lazy as _
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse

from shouwang.api.serializers import ErrorSerializer

_NOT_IN_AREA = _("不存在，或不在您的管辖范围内")

#: For operations that look up a record named in the body or the query (a household, a
#: village) in the user's area: one outside it answers 404 as a path id would.
NOT_IN_AREA = OpenApiResponse(ErrorSerializer, description=_NOT_IN_AREA)


class ErrorDocumentingAutoSchema(AutoSchema):
    """drf-spectacular's AutoSchema plus the 4xx responses the error handler produces.

    Clients and schema-driven testers (schemathesis) then know every status code an operation
    can answer with, and that the body is ``{"message", "code", "extra"}``.
    """

    def get_operation(self, path, path_regex, path_prefix, method, registry):
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        error_body = {
            "application/json": {"schema": self.resolve_serializer(ErrorSerializer, "response").ref}
        }
        responses = operation.setdefault("responses", {})
        for code, description in self._error_codes(path, method, operation):
            responses.setdefault(code, {"description": description, "content": error_body})
        return operation

    def _error_codes(self, path: str, method: str, operation: dict) -> list[tuple[str, object]]:
        # Bodies and query filters are validated on every operation.
        codes: list[tuple[str, object]] = [("400", _("输入有误"))]
        if self.view.authentication_classes:
            codes += [("401", _("未登录或令牌无效")), ("403", _("没有权限"))]
        if "{" in path:
            codes.append(("404", _NOT_IN_AREA))
        if "requestBody" in operation:
            # A body in a format the operation does not read (or one that cannot be parsed as
            # the format it claims).
            codes.append(("415", _("不支持的请求格式")))
        return codes
