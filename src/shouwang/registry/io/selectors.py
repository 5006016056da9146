"""Reads of import jobs: a user sees the jobs they submitted."""

from __future__ import annotations

from django.db.models import QuerySet

from shouwang.core.models import User
from shouwang.registry.models import ImportJob


def import_job_list(*, actor: User) -> QuerySet[ImportJob]:
    return ImportJob.objects.filter(actor=actor).order_by("-created_at", "-id")


def import_job_get(*, actor: User, pk: int) -> ImportJob:
    """One of the actor's jobs; ImportJob.DoesNotExist (a 404) for anyone else's."""
    return import_job_list(actor=actor).get(pk=pk)
