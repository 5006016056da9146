"""Triage items: alerts of one subject that rest on the same feed rows are handled as one.

A hospital stay seen by the monthly in-patient rule and by the 12-month out-of-pocket rule is
one fact; a cadre who dismissed one alert would otherwise meet the same stay again in the
other. Grouping is by shared evidence rows, per household (or, for a person not in the registry, per
person: a person rule's subject is the person, a household rule's the household), among
unresolved alerts only: a decided alert keeps the group it was decided in.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass


def triage_subject(household_id: int | None, person_index: str) -> str:
    """Who an item is about: the household when the person is registered, else the person."""
    return f"h:{household_id}" if household_id is not None else f"p:{person_index}"


@dataclass(frozen=True)
class GroupCandidate:
    pk: int
    #: ``triage_subject`` of the alert.
    subject: str
    fingerprint: str
    #: ``(batch id, row number)`` pairs the alert rests on (empty for registry-only rules).
    rows: frozenset[tuple[int, int]]


def evidence_rows(evidence: dict | None) -> frozenset[tuple[int, int]]:
    """The (batch, row) pairs of an alert's stored evidence."""
    pairs = (evidence or {}).get("rows") or []
    return frozenset((int(batch), int(row)) for batch, row in pairs)


def triage_groups(candidates: Iterable[GroupCandidate]) -> dict[int, str]:
    """Alert pk → group key; alerts sharing a row (directly or through another) share a key.

    The key is the fingerprint of the group's oldest alert (lowest pk), so a group keeps its
    key when a later run adds an alert to it.
    """
    by_subject: dict[str, list[GroupCandidate]] = defaultdict(list)
    for candidate in candidates:
        by_subject[candidate.subject].append(candidate)
    groups: dict[int, str] = {}
    for members in by_subject.values():
        members.sort(key=lambda c: c.pk)
        parent = list(range(len(members)))
        first_with_row: dict[tuple[int, int], int] = {}
        for index, member in enumerate(members):
            for row in member.rows:
                other = first_with_row.setdefault(row, index)
                if other != index:
                    a, b = _root(parent, index), _root(parent, other)
                    # The older alert's root wins, so the key is the oldest member's.
                    parent[max(a, b)] = min(a, b)
        for index, member in enumerate(members):
            groups[member.pk] = members[_root(parent, index)].fingerprint
    return groups


def _root(parent: list[int], i: int) -> int:
    """Union-find: the representative of ``i``, halving the path on the way."""
    while parent[i] != i:
        parent[i] = parent[parent[i]]
        i = parent[i]
    return i
