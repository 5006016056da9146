"""What the procedures ask of the floors above them, answered by whoever registers.

Elimination requires "a measure delivered" (domain.md §5), but the measures belong to
assistance, one floor up. Rather than cases importing assistance, assistance registers its
answer here when the app is ready (assistance/apps.py). With no source registered no
household has a delivered measure, so the criterion stays unmet, never silently met.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

#: household ids → {household id: names of its delivered measures}
DeliveredMeasures = Callable[[list[int]], dict[int, set[str]]]

_delivered_sources: list[DeliveredMeasures] = []


def register_delivered_measures(source: DeliveredMeasures) -> None:
    if source not in _delivered_sources:
        _delivered_sources.append(source)


def delivered_measure_names(household_ids: Iterable[int]) -> dict[int, set[str]]:
    ids = list(household_ids)
    names: dict[int, set[str]] = {}
    for source in _delivered_sources:
        for household_id, found in source(ids).items():
            names.setdefault(household_id, set()).update(found)
    return names
