"""Seeding the shipped feed sources and rules; run by a data migration and by ``shouwang demo``.

Functions take the model classes so the migration can pass its historical models. Existing
rows are left alone: once shipped, a source or rule belongs to the district.
"""

from __future__ import annotations

from shouwang.screening.default_rules import DEFAULT_RULES
from shouwang.screening.sources import DEFAULT_SOURCES


def seed_feed_sources(FeedSource) -> int:  # noqa: N803 (a model class)
    existing = set(FeedSource.objects.values_list("slug", flat=True))
    created = [
        FeedSource(
            slug=source.slug,
            name=source.name,
            department=source.department,
            kind=source.kind,
            description=source.description,
            columns=[column.as_dict() for column in source.columns],
            builtin=True,
        )
        for source in DEFAULT_SOURCES
        if source.slug not in existing
    ]
    FeedSource.objects.bulk_create(created)
    return len(created)


def seed_rules(Rule, RuleVersion) -> int:  # noqa: N803
    existing = set(Rule.objects.values_list("slug", flat=True))
    count = 0
    for default in DEFAULT_RULES:
        if default.slug in existing:
            continue
        rule = Rule.objects.create(
            slug=default.slug,
            name=default.name,
            description=default.description,
            spec=default.spec,
            version=1,
            builtin=True,
            risk_type=default.spec["risk_type"],
            severity=default.spec["severity"],
        )
        RuleVersion.objects.create(
            rule=rule,
            version=1,
            name=rule.name,
            description=rule.description,
            spec=rule.spec,
            active=True,
            note="系统预置",
        )
        count += 1
    return count
