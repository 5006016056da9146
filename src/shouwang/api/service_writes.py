"""Create and change through a service: one pattern for the viewsets whose writes are a
single ``*_save`` call (the assistance catalogue, recommendation rules, social offers)."""

from __future__ import annotations

from typing import Any

from rest_framework import status
from rest_framework.response import Response


class ServiceWriteMixin:
    """POST and PATCH: ``write_serializer_class`` checks the input, ``perform_save`` hands
    it to the service, and the answer is the read serializer on the row as selected again
    (so what a client gets back is what a GET would show). No PUT: see ``ServicePutMixin``."""

    write_serializer_class: Any = None

    def perform_save(self, data: dict[str, Any], instance: Any = None) -> Any:
        raise NotImplementedError

    def render(self, instance: Any, code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=instance.pk)
        return Response(self.get_serializer(fresh).data, status=code)

    def create(self, request, *args, **kwargs) -> Response:
        serializer = self.write_serializer_class(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self.render(self.perform_save(serializer.validated_data), status.HTTP_201_CREATED)

    def partial_update(self, request, *args, **kwargs) -> Response:
        return self._change(request, partial=True)

    def _change(self, request, *, partial: bool) -> Response:
        instance = self.get_object()
        serializer = self.write_serializer_class(data=request.data, partial=partial)
        serializer.is_valid(raise_exception=True)
        return self.render(self.perform_save(serializer.validated_data, instance))


class ServicePutMixin(ServiceWriteMixin):
    """Adds PUT, where fields left out go back to their defaults."""

    def update(self, request, *args, **kwargs) -> Response:
        return self._change(request, partial=False)
