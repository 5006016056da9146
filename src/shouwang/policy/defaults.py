"""Seeding the sourced default policy values (``parameters.DEFAULT_VALUES``)."""

from __future__ import annotations

from shouwang.policy.parameters import DEFAULT_VALUES


def seed_policy_values(PolicyValue, Division) -> int:  # noqa: N803 (model classes)
    known_divisions = set(
        Division.objects.filter(
            code__in={d.division for d in DEFAULT_VALUES if d.division}
        ).values_list("code", flat=True)
    )
    count = 0
    for default in DEFAULT_VALUES:
        if default.division and default.division not in known_divisions:
            continue
        _, created = PolicyValue.objects.get_or_create(
            parameter=default.parameter,
            division_id=default.division,
            year=default.year,
            defaults={"value": default.value, "source": default.source, "note": str(default.note)},
        )
        count += created
    return count
