"""Filters shared by every app's FilterSets."""

from __future__ import annotations

import django_filters
from django import forms

#: The largest primary key the databases store (a signed 64-bit integer).
MAX_ID = 2**63 - 1


class IdField(forms.IntegerField):
    """A record id: a whole number a database can hold; anything else is invalid input
    (a 400 in the API, an ignored filter on a page), never a server error."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", MAX_ID)
        super().__init__(*args, **kwargs)


class IdFilter(django_filters.NumberFilter):
    """Filter by a related record's id (``household=12``)."""

    field_class = IdField
