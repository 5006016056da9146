"""The transition table itself: every state reachable, every open state can end, the six and
five steps in order."""

from __future__ import annotations

from shouwang.cases import workflow as w
from shouwang.cases.choices import CaseKind, CaseState, CaseVerb


def _reachable(kind: str) -> set[str]:
    seen, todo = set(), [w.INITIAL_STATE[kind]]
    while todo:
        state = todo.pop()
        if state in seen:
            continue
        seen.add(state)
        todo.extend(t.target for t in w.transitions_from(kind, state))
    return seen


def test_identification_reaches_every_step_and_every_end():
    reachable = _reachable(CaseKind.IDENTIFICATION)
    assert reachable == set(CaseState) - {CaseState.NOMINATION}


def test_elimination_starts_with_nomination_and_never_asks_for_an_application():
    reachable = _reachable(CaseKind.ELIMINATION)
    assert CaseState.APPLICATION not in reachable
    assert {CaseState.NOMINATION, CaseState.APPROVED, CaseState.REJECTED} <= reachable


def test_each_verb_leads_to_one_place_from_each_state():
    for kind in CaseKind.values:
        for state in CaseState.values:
            verbs = [t.verb for t in w.transitions_from(kind, state)]
            assert len(verbs) == len(set(verbs)), (kind, state, verbs)


def test_finished_cases_take_no_step_and_open_ones_can_be_withdrawn():
    for kind in CaseKind.values:
        for state in w.FINAL_STATES:
            assert w.transitions_from(kind, state) == []
        for state in _reachable(kind) - w.FINAL_STATES:
            assert w.transition_for(kind, state, CaseVerb.WITHDRAW) is not None


def test_steps_follow_the_plan_and_each_open_state_belongs_to_one():
    assert [label for label, _states in w.STEPS[CaseKind.IDENTIFICATION]] == [
        "对象筛查",
        "农户申请",
        "入户核实",
        "村级评议（公示）",
        "乡镇（街道）联合审核",
        "区县审定",
    ]
    assert len(w.STEPS[CaseKind.ELIMINATION]) == 5
    for kind in CaseKind.values:
        for state in _reachable(kind) - w.FINAL_STATES:
            assert w.step_index(kind, state) is not None


def test_levels_act_in_order_village_then_township_then_district():
    levels = {t.verb: t.level for t in w.TRANSITIONS}
    assert levels[CaseVerb.VERIFY] == "village"
    assert levels[CaseVerb.TOWNSHIP_APPROVE] == "township"
    assert levels[CaseVerb.APPROVE] == "district"


def test_withdrawal_belongs_to_the_level_holding_the_case_and_those_above():
    kind = CaseKind.IDENTIFICATION
    withdraw = w.transition_for(kind, CaseState.VERIFICATION, CaseVerb.WITHDRAW)
    everyone = frozenset().union(*w.LEVEL_ROLES.values())
    assert w.acting_roles(kind, CaseState.VERIFICATION, withdraw) == everyone
    at_district = w.acting_roles(kind, CaseState.DISTRICT_DECISION, withdraw)
    assert at_district == w.LEVEL_ROLES["district"]
    at_township = w.acting_roles(kind, CaseState.TOWNSHIP_REVIEW, withdraw)
    assert "village_cadre" not in at_township and "township_staff" in at_township


def test_closing_the_notice_and_elimination_need_their_guards():
    close = w.transition_for(CaseKind.IDENTIFICATION, CaseState.NOTICE, CaseVerb.CLOSE_NOTICE)
    assert close.guards == (w.Guard.NOTICE_OVER,)
    nominate = w.transition_for(CaseKind.ELIMINATION, CaseState.NOMINATION, CaseVerb.NOMINATE)
    approve = w.transition_for(CaseKind.ELIMINATION, CaseState.DISTRICT_DECISION, CaseVerb.APPROVE)
    assert w.Guard.CRITERIA_MET in nominate.guards and w.Guard.CRITERIA_MET in approve.guards
    plain = w.transition_for(CaseKind.IDENTIFICATION, CaseState.DISTRICT_DECISION, CaseVerb.APPROVE)
    assert plain.guards == ()
