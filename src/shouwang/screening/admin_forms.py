"""Forms of the administration pages: feed sources and uploads, screening rules, policy values.

They parse what was typed into the shapes the services take (a column mapping, a rule spec,
a policy value); the services validate and write. Rule fields are lenient text so that one
submission reports every problem in the rule at once, from the spec parser.
"""

from __future__ import annotations

import datetime as dt
import re
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import Any

from django import forms
from django.db.models import QuerySet
from django.http import QueryDict
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from shouwang.core.exceptions import ApplicationError
from shouwang.policy.parameters import PARAMETERS
from shouwang.registry.choices import RiskType
from shouwang.screening import services
from shouwang.screening.choices import (
    AggregateFunction,
    ColumnType,
    Comparison,
    ConditionOp,
    Per,
    Population,
    Severity,
)
from shouwang.screening.models import FeedSource
from shouwang.screening.sources import ColumnSpec
from shouwang.screening.spec import (
    HOUSEHOLD_ATTRIBUTES,
    MAX_CONDITIONS,
    MAX_WINDOW_MONTHS,
    PERSON_ATTRIBUTES,
    REGISTRY_MEASURES,
)
from shouwang.screening.spec_text import attribute_labels

#: Separators accepted between several values (aliases, "belongs to" lists).
LIST_SEPARATORS = re.compile(r"[,，、;；\n\r]+")
#: Separators between a stored choice value and its labels ("inpatient = 住院、入院").
CHOICE_LINE = re.compile(r"^\s*([^=＝:：]+?)\s*[=＝:：]\s*(.*)$")
#: Feed files the upload takes.
UPLOAD_SUFFIXES = (".xlsx", ".xls", ".csv")
TRUE_WORDS = {"是", "true", "1", "yes", "有"}
FALSE_WORDS = {"否", "false", "0", "no", "无"}


def split_list(text: str) -> list[str]:
    return [item.strip() for item in LIST_SEPARATORS.split(text or "") if item.strip()]


def previous_month(today: dt.date | None = None) -> str:
    first = (today or timezone.localdate()).replace(day=1)
    last = first - dt.timedelta(days=1)
    return f"{last.year:04d}-{last.month:02d}"


def initial_from_data(form: forms.BaseForm, data: QueryDict) -> dict[str, Any]:
    """The values a submitted form holds, as ``initial`` for an unbound copy of it.

    Used to redraw a form after a change that is not a save (another feed chosen, a row
    added) without reporting errors the user has not asked to check yet.
    """
    return {
        name: field.widget.value_from_datadict(data, {}, form.add_prefix(name))
        for name, field in form.fields.items()
    }


def _period_clean(value: str) -> str:
    try:
        return services.period_validate(value)
    except ApplicationError as exc:
        raise forms.ValidationError(exc.message) from None


# --- feed sources ------------------------------------------------------------------------


def choices_as_text(column: ColumnSpec) -> str:
    """``{"住院": "inpatient", "入院": "inpatient"}`` → ``inpatient = 入院、住院`` (one line a value)."""
    return "\n".join(
        f"{value} = {'、'.join(labels)}" for value, labels in column.labels_by_value().items()
    )


def choices_from_text(text: str) -> tuple[dict[str, str], list[str]]:
    """Parse the lines of ``choices_as_text``; returns the mapping and the lines it could not read."""
    mapping: dict[str, str] = {}
    bad: list[str] = []
    for line in (text or "").splitlines():
        if not line.strip():
            continue
        match = CHOICE_LINE.match(line)
        labels = split_list(match.group(2)) if match else []
        if match is None or not labels:
            bad.append(line.strip())
            continue
        for label in labels:
            mapping[label] = match.group(1).strip()
    return mapping, bad


class FeedSourceForm(forms.Form):
    name = forms.CharField(
        label=gettext_lazy("名称"),
        max_length=100,
        error_messages={"required": gettext_lazy("请填写名称")},
    )
    description = forms.CharField(
        label=gettext_lazy("说明"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )
    active = forms.BooleanField(
        label=gettext_lazy("启用"),
        required=False,
        help_text=gettext_lazy("停用后不再接收上传，比对也不再读取该数据源的数据"),
    )


class ColumnForm(forms.Form):
    """One column of a source: what the department calls it. Field name and type are fixed
    (staged files and rules depend on them), so they are shown, not edited."""

    header = forms.CharField(
        label=gettext_lazy("表头"),
        max_length=60,
        error_messages={"required": gettext_lazy("请填写表头")},
    )
    aliases = forms.CharField(
        label=gettext_lazy("其他写法"),
        required=False,
        max_length=500,
        help_text=gettext_lazy("部门表格中的其他列名，用顿号或逗号分隔"),
    )
    required = forms.BooleanField(label=gettext_lazy("必填"), required=False)
    choices = forms.CharField(
        label=gettext_lazy("选项对照"),
        required=False,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=gettext_lazy("每行一个取值：取值 = 表中写法1、写法2"),
    )

    def __init__(self, *args: Any, column: ColumnSpec, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.column = column
        if column.type != ColumnType.CHOICE:
            del self.fields["choices"]

    def clean_choices(self) -> dict[str, str]:
        mapping, bad = choices_from_text(self.cleaned_data.get("choices", ""))
        if bad:
            raise forms.ValidationError(
                _("无法识别：%(lines)s（应写成“取值 = 写法1、写法2”）") % {"lines": "；".join(bad)}
            )
        return mapping

    def column_dict(self) -> dict[str, Any]:
        """The column as ``parse_columns`` takes it; field and type come from the source."""
        data = self.cleaned_data
        column: dict[str, Any] = {
            "field": self.column.field,
            "header": data["header"].strip(),
            "type": self.column.type,
            "required": data["required"],
        }
        aliases = split_list(data["aliases"])
        if aliases:
            column["aliases"] = aliases
        if self.column.type == ColumnType.CHOICE:
            column["choices"] = data["choices"]
        return column


def column_forms(columns: list[ColumnSpec], data: QueryDict | None = None) -> list[ColumnForm]:
    forms_: list[ColumnForm] = []
    for position, column in enumerate(columns):
        initial = {
            "header": column.header,
            "aliases": "、".join(column.aliases),
            "required": column.required,
            "choices": choices_as_text(column),
        }
        forms_.append(ColumnForm(data, prefix=f"col{position}", column=column, initial=initial))
    return forms_


class FeedUploadForm(forms.Form):
    source = forms.ModelChoiceField(
        label=gettext_lazy("数据源"),
        queryset=FeedSource.objects.none(),
        to_field_name="slug",
        empty_label=gettext_lazy("请选择"),
        error_messages={"invalid_choice": gettext_lazy("不能向所选数据源上传，请重新选择")},
    )
    period = forms.CharField(
        label=gettext_lazy("数据期别"),
        max_length=7,
        help_text=gettext_lazy("年-月，例如 2026-10；默认为上月"),
    )
    file = forms.FileField(
        label=gettext_lazy("文件"),
        help_text=gettext_lazy(".xlsx、.xls 或 .csv（UTF-8 或 GB18030 编码），第一行为表头"),
        widget=forms.ClearableFileInput(attrs={"accept": ",".join(UPLOAD_SUFFIXES)}),
    )

    def __init__(self, *args: Any, sources: QuerySet[FeedSource], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["source"].queryset = sources
        self.fields["period"].widget.attrs.update(
            {"inputmode": "numeric", "placeholder": "2026-10", "pattern": r"\d{4}-\d{2}"}
        )

    def clean_period(self) -> str:
        return _period_clean(self.cleaned_data["period"])

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        if Path(upload.name).suffix.lower() not in UPLOAD_SUFFIXES:
            raise forms.ValidationError(_("请上传 .xlsx、.xls 或 .csv 文件"))
        return upload


# --- rules -------------------------------------------------------------------------------

NO_FEED = ""
YEAR_OFFSETS = [(0, gettext_lazy("当年")), (-1, gettext_lazy("上年"))] + [
    (-n, gettext_lazy("%(n)d 年前") % {"n": n}) for n in range(2, 6)
]


def _blank_first(choices: Any, label: Any) -> list[tuple[Any, Any]]:
    return [("", label), *choices]


def parameter_choices() -> list[tuple[str, str]]:
    return [(key, str(p.label)) for key, p in PARAMETERS.items()]


def condition_field_choices(columns: list[ColumnSpec] | None) -> list[tuple[Any, Any]]:
    """Fields a condition may test: the feed's own columns, then the person and household."""
    if columns is None:
        return [("", _("（无）"))]
    own = [
        (c.field, c.header)
        for c in columns
        if c.type not in (ColumnType.DATE, ColumnType.ID_NUMBER)
    ]
    labels = attribute_labels()
    people = [(name, labels[name]) for name in (*PERSON_ATTRIBUTES, *HOUSEHOLD_ATTRIBUTES)]
    has_person = any(c.type == ColumnType.ID_NUMBER for c in columns)
    choices: list[tuple[Any, Any]] = [("", _("（不用）")), (_("数据源字段"), own)]
    if has_person:
        choices.append((_("人员和家庭"), people))
    return choices


def measure_choices(columns: list[ColumnSpec] | None) -> list[tuple[str, str]]:
    """What may be summed or compared: the feed's numeric columns, or the registry's measures."""
    if columns is None:
        labels = attribute_labels()
        return [(name, labels.get(name, name)) for name in REGISTRY_MEASURES]
    return [
        (c.field, c.header) for c in columns if c.type in (ColumnType.DECIMAL, ColumnType.INTEGER)
    ]


def _with_current(choices: list[tuple[Any, Any]], current: Any) -> list[tuple[Any, Any]]:
    """Keep a submitted value that the chosen feed does not offer, so it is not silently lost."""
    if not current:
        return choices
    flat = set()
    for value, label in choices:
        if isinstance(label, (list, tuple)):
            flat.update(v for v, _label in label)
        else:
            flat.add(value)
    if current in flat:
        return choices
    return [*choices, (current, _("%(name)s（所选数据源中没有）") % {"name": current})]


class ConditionForm(forms.Form):
    field = forms.CharField(
        label=gettext_lazy("字段"),
        required=False,
        widget=forms.Select(attrs={"aria-label": gettext_lazy("条件字段")}),
    )
    op = forms.ChoiceField(
        label=gettext_lazy("条件"),
        required=False,
        choices=ConditionOp.choices,
        initial=ConditionOp.EQ,
        widget=forms.Select(attrs={"aria-label": gettext_lazy("条件运算")}),
    )
    value = forms.CharField(
        label=gettext_lazy("值"),
        required=False,
        max_length=1000,
        widget=forms.TextInput(
            attrs={"aria-label": gettext_lazy("条件的值"), "placeholder": gettext_lazy("值")}
        ),
    )

    def __init__(self, *args: Any, field_choices: list[tuple[Any, Any]], **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        current = self.data.get(self.add_prefix("field")) if self.is_bound else None
        current = current or self.initial.get("field")
        self.fields["field"].widget.choices = _with_current(field_choices, current)

    def is_blank(self) -> bool:
        return not (self.cleaned_data.get("field") or self.cleaned_data.get("value", "").strip())

    def condition(self) -> dict[str, Any]:
        """The row as a spec condition; values typed for lists are split, yes/no made booleans."""
        name = self.cleaned_data.get("field", "")
        op = self.cleaned_data.get("op") or ConditionOp.EQ
        text = self.cleaned_data.get("value", "").strip()
        value: Any
        if op in (ConditionOp.IN, ConditionOp.NOT_IN):
            value = split_list(text)
        elif PERSON_ATTRIBUTES.get(name) == "boolean":
            lowered = text.lower()
            value = True if lowered in TRUE_WORDS else False if lowered in FALSE_WORDS else text
        else:
            value = text
        return {"field": name, "op": op, "value": value}


class BaseConditionFormSet(forms.BaseFormSet):
    def __init__(self, *args: Any, field_choices: list[tuple[Any, Any]], **kwargs: Any) -> None:
        self.field_choices = field_choices
        super().__init__(*args, **kwargs)

    def get_form_kwargs(self, index: int | None) -> dict[str, Any]:
        return {"field_choices": self.field_choices}

    def conditions(self) -> list[dict[str, Any]]:
        return [form.condition() for form in self.forms if form.is_valid() and not form.is_blank()]


#: Blank condition rows offered below the rule's own.
BLANK_CONDITION_ROWS = 2
ConditionFormSet = forms.formset_factory(
    ConditionForm,
    formset=BaseConditionFormSet,
    extra=0,
    max_num=MAX_CONDITIONS + BLANK_CONDITION_ROWS,
    absolute_max=MAX_CONDITIONS + BLANK_CONDITION_ROWS,
)


def condition_initial(value: Any, column: ColumnSpec | None = None) -> str:
    """A stored condition value as the form shows it: choice values by their first label."""
    labels = (
        column.labels_by_value() if column is not None and column.type == ColumnType.CHOICE else {}
    )

    def one(item: Any) -> str:
        if isinstance(item, bool):
            return _("是") if item else _("否")
        if str(item) in labels:
            return labels[str(item)][0]
        return "" if item is None else str(item)

    if isinstance(value, list):
        return "、".join(one(v) for v in value)
    return one(value)


class ThresholdFields:
    """Names of one threshold's inputs: kind (value/parameter), number, parameter, factor, year."""

    def __init__(self, prefix: str) -> None:
        self.kind = f"{prefix}_kind"
        self.value = f"{prefix}_value"
        self.parameter = f"{prefix}_parameter"
        self.factor = f"{prefix}_factor"
        self.year_offset = f"{prefix}_year_offset"


MAIN = ThresholdFields("threshold")
UNREGISTERED = ThresholdFields("unregistered")
SAME_AS_REGISTERED = "same"


def _threshold_fields(prefix: str, *, optional: bool) -> dict[str, forms.Field]:
    kinds = [("value", gettext_lazy("固定数值")), ("parameter", gettext_lazy("政策参数 × 倍数"))]
    if optional:
        kinds = [(SAME_AS_REGISTERED, gettext_lazy("与在册人员相同")), *kinds]
    return {
        f"{prefix}_kind": forms.ChoiceField(
            label=gettext_lazy("阈值类型"),
            choices=kinds,
            widget=forms.RadioSelect,
            initial=SAME_AS_REGISTERED if optional else "value",
        ),
        f"{prefix}_value": forms.CharField(
            label=gettext_lazy("数值"),
            required=False,
            max_length=30,
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        ),
        f"{prefix}_parameter": forms.ChoiceField(
            label=gettext_lazy("政策参数"), required=False, choices=()
        ),
        f"{prefix}_factor": forms.CharField(
            label=gettext_lazy("倍数"),
            required=False,
            max_length=12,
            initial="1",
            help_text=gettext_lazy("参数值乘以该倍数，例如 0.5 表示参数的 50%"),
            widget=forms.TextInput(attrs={"inputmode": "decimal"}),
        ),
        f"{prefix}_year_offset": forms.TypedChoiceField(
            label=gettext_lazy("取哪一年的值"),
            required=False,
            choices=YEAR_OFFSETS,
            coerce=int,
            initial=0,
        ),
    }


def _integer_or_text(text: str) -> Any:
    text = (text or "").strip()
    return int(text) if re.fullmatch(r"-?\d{1,6}", text) else text


class RuleForm(forms.Form):
    """A rule's fields; ``spec()`` assembles what was entered into a spec dict."""

    slug = forms.SlugField(
        label=gettext_lazy("规则代码"),
        max_length=60,
        help_text=gettext_lazy("小写字母、数字和连字符，例如 medical-high-cost；保存后不能修改"),
    )
    name = forms.CharField(label=gettext_lazy("规则名称"), max_length=100)
    description = forms.CharField(
        label=gettext_lazy("说明"), required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    feed = forms.ChoiceField(label=gettext_lazy("数据源"), required=False, choices=())
    function = forms.ChoiceField(label=gettext_lazy("统计方式"), choices=AggregateFunction.choices)
    measure = forms.CharField(
        label=gettext_lazy("统计字段"),
        required=False,
        widget=forms.Select,
        help_text=gettext_lazy("统计条数时不用选"),
    )
    window_months = forms.CharField(
        label=gettext_lazy("时间窗口（月）"),
        required=False,
        max_length=6,
        initial="12",
        help_text=gettext_lazy("1 到 %(n)d 个月，截至比对期别当月") % {"n": MAX_WINDOW_MONTHS},
        widget=forms.TextInput(attrs={"inputmode": "numeric"}),
    )
    per = forms.ChoiceField(label=gettext_lazy("统计口径"), choices=Per.choices)
    comparison = forms.ChoiceField(label=gettext_lazy("比较"), choices=Comparison.choices)
    population = forms.MultipleChoiceField(
        label=gettext_lazy("适用人群"),
        required=False,
        choices=Population.choices,
        widget=forms.CheckboxSelectMultiple,
    )
    risk_type = forms.ChoiceField(label=gettext_lazy("风险类型"), choices=RiskType.choices)
    severity = forms.ChoiceField(
        label=gettext_lazy("严重程度"), choices=Severity.choices, initial=Severity.MEDIUM
    )
    active = forms.BooleanField(label=gettext_lazy("启用"), required=False, initial=True)
    note = forms.CharField(
        label=gettext_lazy("修改说明"),
        max_length=500,
        help_text=gettext_lazy("写明为什么修改，会记入版本历史"),
        error_messages={"required": gettext_lazy("请填写修改说明")},
    )
    preview_period = forms.CharField(
        label=gettext_lazy("预览期别"),
        required=False,
        max_length=7,
        help_text=gettext_lazy("按哪一期数据预览；默认为最近一期已导入的数据"),
        widget=forms.TextInput(attrs={"inputmode": "numeric", "placeholder": "2026-10"}),
    )

    def __init__(
        self,
        *args: Any,
        sources: dict[str, tuple[str, list[ColumnSpec] | None]],
        creating: bool,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        for prefix, optional in (("threshold", False), ("unregistered", True)):
            for name, field in _threshold_fields(prefix, optional=optional).items():
                self.fields[name] = field
            self.fields[f"{prefix}_parameter"].choices = parameter_choices()
        self.creating = creating
        if creating:
            del self.fields["note"]
        else:
            del self.fields["slug"]
        self.sources = sources
        self.fields["feed"].choices = [
            (NO_FEED, _("农户档案（不使用部门数据）")),
            *[(slug, name) for slug, (name, _columns) in sources.items()],
        ]
        self.columns = self.feed_columns()
        self.fields["measure"].widget.choices = _with_current(
            _blank_first(measure_choices(self.columns), _("（统计条数时不用选）")),
            self._value("measure"),
        )

    def _value(self, name: str) -> Any:
        if self.is_bound:
            return self.data.get(self.add_prefix(name))
        return self.initial.get(name, self.fields[name].initial)

    def feed_slug(self) -> str:
        return self._value("feed") or NO_FEED

    def feed_columns(self) -> list[ColumnSpec] | None:
        """The chosen feed's columns; None for a registry-only rule (or a feed not known)."""
        slug = self.feed_slug()
        if not slug or slug not in self.sources:
            return None
        return self.sources[slug][1] or []

    def choice_hints(self) -> list[tuple[str, str]]:
        """For the chosen feed's choice columns: header and the values a condition may use."""
        return [
            (
                column.header,
                "、".join("/".join(labels) for labels in column.labels_by_value().values()),
            )
            for column in self.columns or []
            if column.type == ColumnType.CHOICE
        ]

    def clean_slug(self) -> str:
        slug = self.cleaned_data["slug"]
        if slug in {"new", "preview"}:
            raise forms.ValidationError(_("“%(slug)s”不能用作规则代码") % {"slug": slug})
        return slug

    def clean_preview_period(self) -> str:
        text = self.cleaned_data.get("preview_period", "").strip()
        return _period_clean(text) if text else ""

    def _threshold(self, names: ThresholdFields) -> dict[str, Any] | None:
        data = self.cleaned_data
        kind = data.get(names.kind) or "value"
        if kind == SAME_AS_REGISTERED:
            return None
        if kind == "parameter":
            factor = (data.get(names.factor) or "").strip() or "1"
            try:
                factor = str(Decimal(factor))
            except InvalidOperation:
                pass  # the spec parser reports it
            return {
                "parameter": data.get(names.parameter) or "",
                "factor": factor,
                "year_offset": data.get(names.year_offset) or 0,
            }
        return {"value": (data.get(names.value) or "").strip()}

    def spec(self, conditions: list[dict[str, Any]]) -> dict[str, Any]:
        """The spec as entered; call after ``is_valid()`` (fields that failed are left out)."""
        data = self.cleaned_data
        function = data.get("function") or ""
        return {
            "feed": data.get("feed") or None,
            "conditions": conditions,
            "aggregate": {
                "function": function,
                "field": None
                if function == AggregateFunction.COUNT
                else (data.get("measure") or None),
            },
            # A registry-only rule has no window; the spec still wants a valid one.
            "window_months": _integer_or_text(data.get("window_months", ""))
            if data.get("feed") or (data.get("window_months") or "").strip()
            else 12,
            "per": data.get("per") or "",
            "comparison": data.get("comparison") or "",
            "threshold": self._threshold(MAIN),
            "threshold_unregistered": self._threshold(UNREGISTERED),
            "population": list(data.get("population") or []),
            "risk_type": data.get("risk_type") or "",
            "severity": data.get("severity") or "",
        }


def rule_initial(
    rule_fields: dict[str, Any], columns: list[ColumnSpec] | None = None
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Form initial values from a rule (``name``, ``description``, ``active``, ``spec``);
    ``columns`` are its feed's, to show choice values by their labels."""
    spec = rule_fields.get("spec") or {}
    by_field = {c.field: c for c in columns or []}
    aggregate = spec.get("aggregate") or {}
    initial: dict[str, Any] = {
        "name": rule_fields.get("name", ""),
        "description": rule_fields.get("description", ""),
        "active": rule_fields.get("active", True),
        "feed": spec.get("feed") or NO_FEED,
        "function": aggregate.get("function", AggregateFunction.SUM),
        "measure": aggregate.get("field") or "",
        "window_months": str(spec.get("window_months", 12)),
        "per": spec.get("per", Per.HOUSEHOLD),
        "comparison": spec.get("comparison", Comparison.GE),
        "population": list(spec.get("population") or []),
        "risk_type": spec.get("risk_type", ""),
        "severity": spec.get("severity", Severity.MEDIUM),
    }
    for names, raw in (
        (MAIN, spec.get("threshold")),
        (UNREGISTERED, spec.get("threshold_unregistered")),
    ):
        if not raw:
            initial[names.kind] = SAME_AS_REGISTERED if names is UNREGISTERED else "value"
        elif raw.get("parameter"):
            initial.update(
                {
                    names.kind: "parameter",
                    names.parameter: raw["parameter"],
                    names.factor: str(raw.get("factor", "1")),
                    names.year_offset: int(raw.get("year_offset") or 0),
                }
            )
        else:
            initial.update({names.kind: "value", names.value: str(raw.get("value", ""))})
    conditions = [
        {
            "field": c.get("field", ""),
            "op": c.get("op", ConditionOp.EQ),
            "value": condition_initial(c.get("value"), by_field.get(c.get("field", ""))),
        }
        for c in spec.get("conditions") or []
    ]
    return initial, conditions
