"""Page forms of the cases app: the step forms of records.py as a page shows them, the
attachment upload and the list's filter dropdowns. Services decide; these only parse."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.http import QueryDict
from django.utils.translation import gettext_lazy as _

from shouwang.cases import workflow
from shouwang.cases.attachment_services import ALLOWED_TYPES, MAX_ATTACHMENT_BYTES
from shouwang.cases.choices import AttachmentKind, CaseKind
from shouwang.cases.models import Case
from shouwang.cases.records import (
    INCOME_PARTS,
    VISIT_FLAGS,
    HouseholdSource,
    StepRecordForm,
    record_form_class,
    record_form_options,
)
from shouwang.cases.selectors import latest_meeting_attendees, lead_risk_types
from shouwang.core.models import User
from shouwang.registry.choices import Ethnicity
from shouwang.registry.forms import FilterSelect, area_dropdowns, with_all_label

#: Text fields this long get a text area.
LONG_TEXT = 1000
#: The date field of each record that defaults to the day the step is taken.
TODAY_FIELDS = ("applied_on", "visited_on", "met_on", "received_on", "decided_on")


def _page_widgets(form: forms.Form) -> None:
    """Date pickers, text areas and check boxes where a phone user needs them."""
    for field in form.fields.values():
        if isinstance(field, forms.DateField):
            field.widget = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
        elif isinstance(field, forms.MultipleChoiceField):
            field.widget = forms.CheckboxSelectMultiple(choices=field.choices)
        elif isinstance(field, forms.DecimalField):
            field.widget.attrs.update({"inputmode": "decimal", "step": "0.01"})
        elif isinstance(field, forms.CharField) and (field.max_length or 0) >= LONG_TEXT:
            field.widget = forms.Textarea(attrs={"rows": 3, "maxlength": field.max_length})


def _user_name(user: User | None) -> str:
    if user is None or not user.is_authenticated:
        return ""
    return user.display_name or user.username


def step_initial(
    case: Case, transition: workflow.Transition, *, actor: User | None, today: dt.date
) -> dict[str, Any]:
    """What a step's form starts with: what Shouwang already holds, so the cadre confirms it
    rather than typing it again: today's date, the registry's incomes and flags, the
    logged-in user as the visitor, and the village meeting's attendees for the review."""
    initial: dict[str, Any] = {name: today for name in TODAY_FIELDS}
    household = case.household
    if household is not None:
        initial["applicant_name"] = household.head_name
        initial.update({name: getattr(household, name) for name in INCOME_PARTS})
        initial.update({name: "yes" if getattr(household, name) else "no" for name in VISIT_FLAGS})
    else:
        # A household not yet in the registry is registered at the home visit, its head
        # named as on the lead (the lead's ID and phone numbers show masked, as placeholders).
        initial["applicant_name"] = initial["head_name"] = case.person_name
        initial["household_source"] = HouseholdSource.NEW
        initial["head_ethnicity"] = Ethnicity.HAN
    if transition.record == workflow.Record.HOME_VISIT:
        initial["visitors"] = _user_name(actor)
        if case.kind == CaseKind.IDENTIFICATION and case.lead is not None:
            initial["proposed_risk_types"] = lead_risk_types(case.lead)
    elif transition.record == workflow.Record.VILLAGE_REVIEW:
        initial["attendees"] = latest_meeting_attendees(village=case.village, before=today)
    return initial


def step_form(
    case: Case,
    transition: workflow.Transition,
    *,
    data: QueryDict | None = None,
    today: dt.date,
    actor: User | None = None,
) -> StepRecordForm:
    """The record form of ``transition`` for ``case``, prefixed by its verb so that several
    steps' forms live on one page."""
    form = record_form_class(case.kind, transition)(
        data,
        prefix=transition.verb,
        initial=step_initial(case, transition, actor=actor, today=today),
        **record_form_options(case, transition),
    )
    _page_widgets(form)
    return form


def unprefixed(form: forms.Form, data: QueryDict) -> QueryDict:
    """The posted values of a prefixed form under the field names services expect."""
    plain = QueryDict(mutable=True)
    for name in form.fields:
        key = form.add_prefix(name)
        if key in data:
            plain.setlist(name, data.getlist(key))
    return plain


class AttachmentForm(forms.Form):
    kind = forms.ChoiceField(label=_("材料类型"), choices=AttachmentKind.choices)
    title = forms.CharField(
        label=_("附件说明"),
        max_length=100,
        required=False,
        help_text=_("可不填，默认为材料类型"),
    )
    file = forms.FileField(
        label=_("文件"),
        help_text=_("JPG、PNG 图片或 PDF，不超过 %(mb)d MB")
        % {"mb": MAX_ATTACHMENT_BYTES // (1024 * 1024)},
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(ALLOWED_TYPES)}),
        error_messages={"required": _("请选择要上传的文件")},
    )


def case_filter_form(form: forms.Form, *, actor: User | None) -> forms.Form:
    """Adapt a CaseFilterSet form for the page; call before the filterset's ``qs``.

    As on the household list: the township and village dropdowns hold the actor's area, a
    county's villages are offered once a township is chosen, and a dropdown with a single
    possible division is left out.
    """
    area_dropdowns(form, actor=actor)
    form.fields["kind"].widget.choices = with_all_label(form.fields["kind"].choices, _("全部"))
    form.fields["state"].widget.choices = [
        (v, t) for v, t in form.fields["state"].choices if v != ""
    ]
    form.fields["deadline"].widget.choices = with_all_label(
        form.fields["deadline"].choices, _("全部")
    )
    form.fields["green_channel"].widget = FilterSelect(
        choices=[("", _("全部")), ("true", _("是")), ("false", _("否"))]
    )
    form.fields["household"].widget = forms.HiddenInput()
    return form
