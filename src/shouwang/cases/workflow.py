"""The identification and risk-elimination procedures as one table of transitions.

Pure Python, no database: services look a transition up here, check the actor's level and
area and the guards, record the step and move the case. Nothing else changes a case's state.

Identification (six steps, plan ch.4): 对象筛查 (the lead) → 农户申请 → 入户核实 →
村级评议（公示） → 乡镇（街道）联合审核 → 区县审定. Risk elimination (five steps, "out the way
it came in"): 村（社区）提名 → 入户核实 → 村级评议（公示） → 乡镇（街道）联合审核 → 区级审定.
"""

from __future__ import annotations

from dataclasses import dataclass

from shouwang.cases.choices import ActingLevel, AttachmentKind, CaseKind, CaseState, CaseVerb
from shouwang.core.choices import Role

S = CaseState
V = CaseVerb
ID = CaseKind.IDENTIFICATION
EL = CaseKind.ELIMINATION

#: The roles that act for each level; superusers and system jobs act for all.
LEVEL_ROLES: dict[str, frozenset[str]] = {
    ActingLevel.VILLAGE: frozenset({Role.VILLAGE_CADRE}),
    ActingLevel.TOWNSHIP: frozenset({Role.TOWNSHIP_STAFF}),
    ActingLevel.DISTRICT: frozenset({Role.DISTRICT_ADMIN, Role.DISTRICT_STAFF}),
}

FINAL_STATES = frozenset({S.APPROVED, S.REJECTED, S.WITHDRAWN})
OPEN_STATES = frozenset(set(S) - FINAL_STATES)


class Guard:
    """Conditions a transition needs beyond role and area; services evaluate them."""

    #: The public notice has run its configured number of days.
    NOTICE_OVER = "notice_over"
    #: Every risk-elimination criterion is met (income, 三保障, months, measures, labour).
    CRITERIA_MET = "criteria_met"


class Record:
    """What a step records; services validate the data under these names."""

    APPLICATION = "application"
    NOMINATION = "nomination"
    HOME_VISIT = "home_visit"
    VILLAGE_REVIEW = "village_review"
    OBJECTION = "objection"
    OPINION = "opinion"
    DECISION = "decision"
    REASON = "reason"
    REQUIRED_REASON = "required_reason"


@dataclass(frozen=True)
class Transition:
    kinds: frozenset[str]
    sources: frozenset[str]
    verb: str
    target: str
    level: str | None  # None: any of the three levels (withdrawal)
    record: str
    guards: tuple[str, ...] = ()


def _t(
    kinds: tuple[str, ...],
    sources: tuple[str, ...],
    verb: str,
    target: str,
    level: str | None,
    record: str,
    guards: tuple[str, ...] = (),
) -> Transition:
    return Transition(frozenset(kinds), frozenset(sources), verb, target, level, record, guards)


BOTH = (ID, EL)
VILLAGE, TOWNSHIP, DISTRICT = ActingLevel.VILLAGE, ActingLevel.TOWNSHIP, ActingLevel.DISTRICT

TRANSITIONS: tuple[Transition, ...] = (
    _t((ID,), (S.APPLICATION,), V.APPLY, S.VERIFICATION, VILLAGE, Record.APPLICATION),
    _t(
        (EL,),
        (S.NOMINATION,),
        V.NOMINATE,
        S.VERIFICATION,
        VILLAGE,
        Record.NOMINATION,
        (Guard.CRITERIA_MET,),
    ),
    _t((ID,), (S.VERIFICATION,), V.VERIFY, S.VILLAGE_REVIEW, VILLAGE, Record.HOME_VISIT),
    # An elimination's visit is judged on the figures it records.
    _t(
        (EL,),
        (S.VERIFICATION,),
        V.VERIFY,
        S.VILLAGE_REVIEW,
        VILLAGE,
        Record.HOME_VISIT,
        (Guard.CRITERIA_MET,),
    ),
    _t(BOTH, (S.VILLAGE_REVIEW,), V.REVIEW, S.NOTICE, VILLAGE, Record.VILLAGE_REVIEW),
    _t(BOTH, (S.VILLAGE_REVIEW,), V.REVIEW_REJECT, S.REJECTED, VILLAGE, Record.VILLAGE_REVIEW),
    # An objection sends the case back to the home visit; the notice then runs again in full.
    _t(BOTH, (S.NOTICE,), V.OBJECT, S.VERIFICATION, VILLAGE, Record.OBJECTION),
    _t(
        BOTH,
        (S.NOTICE,),
        V.CLOSE_NOTICE,
        S.TOWNSHIP_REVIEW,
        VILLAGE,
        Record.REASON,
        (Guard.NOTICE_OVER,),
    ),
    _t(
        (ID,),
        (S.TOWNSHIP_REVIEW,),
        V.TOWNSHIP_APPROVE,
        S.DISTRICT_DECISION,
        TOWNSHIP,
        Record.OPINION,
    ),
    _t(
        (EL,),
        (S.TOWNSHIP_REVIEW,),
        V.TOWNSHIP_APPROVE,
        S.DISTRICT_DECISION,
        TOWNSHIP,
        Record.OPINION,
        (Guard.CRITERIA_MET,),
    ),
    _t(BOTH, (S.TOWNSHIP_REVIEW,), V.TOWNSHIP_RETURN, S.VERIFICATION, TOWNSHIP, Record.OPINION),
    _t(BOTH, (S.TOWNSHIP_REVIEW,), V.TOWNSHIP_REJECT, S.REJECTED, TOWNSHIP, Record.OPINION),
    # Elimination passes the township and the district only while the criteria still hold.
    _t((ID,), (S.DISTRICT_DECISION,), V.APPROVE, S.APPROVED, DISTRICT, Record.DECISION),
    _t(
        (EL,),
        (S.DISTRICT_DECISION,),
        V.APPROVE,
        S.APPROVED,
        DISTRICT,
        Record.DECISION,
        (Guard.CRITERIA_MET,),
    ),
    _t(
        BOTH, (S.DISTRICT_DECISION,), V.DISTRICT_RETURN, S.TOWNSHIP_REVIEW, DISTRICT, Record.OPINION
    ),
    _t(BOTH, (S.DISTRICT_DECISION,), V.REJECT, S.REJECTED, DISTRICT, Record.DECISION),
    _t(BOTH, tuple(OPEN_STATES), V.WITHDRAW, S.WITHDRAWN, None, Record.REQUIRED_REASON),
)

#: The procedure's steps as shown to users: (label, the states that belong to the step).
STEPS: dict[str, tuple[tuple[str, frozenset[str]], ...]] = {
    ID: (
        ("对象筛查", frozenset()),
        ("农户申请", frozenset({S.APPLICATION})),
        ("入户核实", frozenset({S.VERIFICATION})),
        ("村级评议（公示）", frozenset({S.VILLAGE_REVIEW, S.NOTICE})),
        ("乡镇（街道）联合审核", frozenset({S.TOWNSHIP_REVIEW})),
        ("区县审定", frozenset({S.DISTRICT_DECISION})),
    ),
    EL: (
        ("村（社区）提名", frozenset({S.NOMINATION})),
        ("入户核实", frozenset({S.VERIFICATION})),
        ("村级评议（公示）", frozenset({S.VILLAGE_REVIEW, S.NOTICE})),
        ("乡镇（街道）联合审核", frozenset({S.TOWNSHIP_REVIEW})),
        ("区级审定", frozenset({S.DISTRICT_DECISION})),
    ),
}

INITIAL_STATE = {ID: S.APPLICATION, EL: S.NOMINATION}

#: Attachments a step needs, uploaded while the case is at that step: (the step's verb, the
#: kind of attachment, the policy parameter that says whether the province requires it).
REQUIRED_ATTACHMENTS: tuple[tuple[str, str, str], ...] = (
    (V.VERIFY, AttachmentKind.VISIT_RECORD, "visit_record_required"),
    (V.CLOSE_NOTICE, AttachmentKind.NOTICE_PHOTO, "notice_photo_required"),
)

#: Steps a province may limit in working days, from the day the case reaches them: the
#: policy parameter holding the number (unset: only the whole procedure's limit applies).
STEP_LIMITS = {
    S.VERIFICATION: "home_visit_working_days",
    S.TOWNSHIP_REVIEW: "township_review_working_days",
    S.DISTRICT_DECISION: "district_decision_working_days",
}


def transition_for(kind: str, state: str, verb: str) -> Transition | None:
    """The transition ``verb`` makes from ``state`` in a case of ``kind``, or None."""
    for transition in TRANSITIONS:
        if kind in transition.kinds and state in transition.sources and transition.verb == verb:
            return transition
    return None


def transitions_from(kind: str, state: str) -> list[Transition]:
    """Every transition open from ``state``, in table order."""
    return [t for t in TRANSITIONS if kind in t.kinds and state in t.sources]


LEVEL_ORDER = (ActingLevel.VILLAGE, ActingLevel.TOWNSHIP, ActingLevel.DISTRICT)


def acting_roles(kind: str, state: str, transition: Transition) -> frozenset[str]:
    """Roles that may take ``transition`` from ``state``.

    A step without a level of its own (withdrawal) belongs to whoever holds the case now
    and the levels above: a village cannot withdraw a case the district is deciding.
    """
    if transition.level is not None:
        return LEVEL_ROLES[transition.level]
    holders = [t.level for t in transitions_from(kind, state) if t.level is not None]
    lowest = min((LEVEL_ORDER.index(level) for level in holders), default=0)
    return frozenset().union(*(LEVEL_ROLES[level] for level in LEVEL_ORDER[lowest:]))


def step_index(kind: str, state: str) -> int | None:
    """The 0-based step ``state`` belongs to; None for a finished case."""
    for index, (_label, states) in enumerate(STEPS[kind]):
        if state in states:
            return index
    return None
