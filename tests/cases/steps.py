"""Step data that passes validation, and a walker that takes a case through its steps."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile

from shouwang.cases.attachment_services import case_attachment_add
from shouwang.cases.choices import CaseVerb
from shouwang.cases.models import Case
from shouwang.cases.services import case_act
from shouwang.cases.workflow import REQUIRED_ATTACHMENTS

DAY0 = dt.date(2026, 11, 2)

APPLICATION = {
    "applicant_name": "成员0",
    "applied_on": "2026-11-02",
    "pledge_signed": True,
    "asset_check_consent": True,
}
HOME_VISIT = {
    "visited_on": "2026-11-03",
    "visitors": "网格员甲、驻村工作队乙",
    "member_count": 2,
    "wage_income": "6000",
    "operating_income": "3000",
    "property_income": "0",
    "transfer_income": "2400",
    "productive_expenses": "1000",
    "compliant_out_of_pocket": "4000",
    "findings": "户主脑梗住院，家庭收入骤减",
    "proposed_category": "sudden_hardship",
    "proposed_risk_types": ["illness"],
}
REVIEW = {
    "met_on": "2026-11-04",
    "attendees": "张村支书、李村主任、王第一书记、赵代表、钱代表",
    "note": "同意纳入监测",
}
OPINION = {"opinion": "经联合审核，情况属实"}
DECISION = {"decided_on": "2026-11-16", "note": "同意"}
#: An elimination's visit: wages back, 22,000 less 2,000 compliant spending for two people,
#: 10,000 each, above the line.
ELIMINATION_VISIT = {
    **{k: v for k, v in HOME_VISIT.items() if not k.startswith("proposed_")},
    "wage_income": "18000",
    "operating_income": "3000",
    "transfer_income": "2000",
    "productive_expenses": "1000",
    "compliant_out_of_pocket": "2000",
    "findings": "户主已康复返岗务工，收入稳定",
}
NOMINATION = {"method": "assisted", "note": "务工收入稳定，医疗费用已报销"}

#: (verb, actor fixture name, data, day offset from DAY0) for the identification path.
IDENTIFICATION_PATH: list[tuple[str, str, dict[str, Any], int]] = [
    (CaseVerb.APPLY, "village_cadre", APPLICATION, 0),
    (CaseVerb.VERIFY, "village_cadre", HOME_VISIT, 1),
    (CaseVerb.REVIEW, "village_cadre", REVIEW, 2),
    (CaseVerb.CLOSE_NOTICE, "village_cadre", {}, 7),
    (CaseVerb.TOWNSHIP_APPROVE, "township_staff", OPINION, 8),
    (CaseVerb.APPROVE, "district_staff", DECISION, 9),
]

ELIMINATION_PATH: list[tuple[str, str, dict[str, Any], int]] = [
    (CaseVerb.NOMINATE, "village_cadre", NOMINATION, 0),
    (CaseVerb.VERIFY, "village_cadre", ELIMINATION_VISIT, 1),
    (CaseVerb.REVIEW, "village_cadre", {**REVIEW, "note": "同意风险消除"}, 2),
    (CaseVerb.CLOSE_NOTICE, "village_cadre", {}, 7),
    (CaseVerb.TOWNSHIP_APPROVE, "township_staff", OPINION, 8),
    (CaseVerb.APPROVE, "district_staff", DECISION, 9),
]


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def attach_required(case: Case, verb: str, actor: Any) -> None:
    """Upload what ``verb`` requires (the signed visit record, the notice photo)."""
    for step, kind, _parameter in REQUIRED_ATTACHMENTS:
        if step == verb:
            case_attachment_add(
                actor=actor, case=case, file=SimpleUploadedFile(f"{kind}.png", PNG), kind=kind
            )


def act(*, actor: Any, case: Case, verb: str, **kwargs: Any) -> Case:
    """``case_act`` after uploading what the step requires, as a cadre would."""
    attach_required(case, verb, actor)
    return case_act(actor=actor, case=case, verb=verb, **kwargs)


def walk(case: Case, path, users: dict[str, Any], *, until: str | None = None, start=DAY0) -> Case:
    """Take ``path``'s steps in order, stopping before ``until`` (a verb) if given; the
    required attachments are uploaded before the steps that need them."""
    for verb, who, data, offset in path:
        if verb == until:
            break
        attach_required(case, verb, users[who])
        case = case_act(
            actor=users[who], case=case, verb=verb, data=data, today=start + dt.timedelta(offset)
        )
    return case
