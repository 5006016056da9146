"""Feed sources: what each department hands over and how its columns are named.

A source's ``columns`` (stored as JSON on ``FeedSource``) map the department's Chinese headers
to field names that rules refer to. The ten defaults follow the exports departments send to
county rural-revitalisation bureaus (domain.md §5); administrators edit headers and aliases
when a department names a column differently.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from django.utils.translation import gettext as _

from shouwang.core.choices import Department
from shouwang.screening.choices import ColumnType, FeedKind

#: Columns every staged Parquet file has besides the source's own fields.
SYSTEM_FIELDS = frozenset(
    {"batch_id", "row_number", "period", "person_index", "birth_date", "id_region", "sex"}
)
_FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]{0,39}$")


class ColumnsInvalid(ValueError):
    """The column mapping is unusable; ``errors`` lists every problem in Chinese."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("；".join(errors))
        self.errors = errors


@dataclass(frozen=True)
class ColumnSpec:
    field: str
    header: str
    type: str
    required: bool = False
    aliases: tuple[str, ...] = ()
    #: For choice columns: the label a department writes → the stored value.
    choices: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "field": self.field,
            "header": self.header,
            "type": self.type,
            "required": self.required,
        }
        if self.aliases:
            data["aliases"] = list(self.aliases)
        if self.choices:
            data["choices"] = dict(self.choices)
        return data

    @property
    def headers(self) -> tuple[str, ...]:
        return (self.header, *self.aliases)

    def labels_by_value(self) -> dict[str, list[str]]:
        """A choice column's stored values with the labels departments write for each.

        Ordered by label (shorter first, then by code point) rather than as stored:
        PostgreSQL's jsonb keeps object keys in that order, SQLite as written, and pages
        should read the same on both.
        """
        grouped: dict[str, list[str]] = {}
        for label in sorted(self.choices, key=lambda text: (len(text.encode()), text.encode())):
            grouped.setdefault(self.choices[label], []).append(label)
        return grouped


def parse_columns(raw: Any) -> list[ColumnSpec]:
    """Validate a JSON column mapping; raises ColumnsInvalid with every problem found."""
    errors: list[str] = []
    if not isinstance(raw, list) or not raw:
        raise ColumnsInvalid([_("列定义应为非空列表")])
    columns: list[ColumnSpec] = []
    fields_seen: set[str] = set()
    headers_seen: dict[str, str] = {}
    valid_types = set(ColumnType.values)
    for position, item in enumerate(raw, start=1):
        if not isinstance(item, dict):
            errors.append(_("第 %(n)d 列的定义应为对象") % {"n": position})
            continue
        name = str(item.get("field", "")).strip()
        header = str(item.get("header", "")).strip()
        kind = str(item.get("type", "")).strip()
        if not _FIELD_NAME.match(name):
            errors.append(
                _("第 %(n)d 列的字段名“%(name)s”无效：应以小写字母开头，只含小写字母、数字和下划线")
                % {"n": position, "name": name}
            )
            continue
        if name in SYSTEM_FIELDS:
            errors.append(_("字段名“%(name)s”为系统保留字段") % {"name": name})
            continue
        if name in fields_seen:
            errors.append(_("字段名“%(name)s”重复") % {"name": name})
            continue
        fields_seen.add(name)
        if not header:
            errors.append(_("字段“%(name)s”缺少表头名称") % {"name": name})
            continue
        if kind not in valid_types:
            errors.append(_("字段“%(name)s”的类型“%(type)s”无效") % {"name": name, "type": kind})
            continue
        aliases = item.get("aliases") or []
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            errors.append(_("字段“%(name)s”的别名应为文本列表") % {"name": name})
            continue
        choices = item.get("choices") or {}
        if kind == ColumnType.CHOICE:
            if (
                not isinstance(choices, dict)
                or not choices
                or not all(
                    isinstance(k, str) and isinstance(v, str) and k and v
                    for k, v in choices.items()
                )
            ):
                errors.append(_("选项字段“%(name)s”需要“表中写法 → 取值”的对照表") % {"name": name})
                continue
        elif choices:
            errors.append(_("只有选项字段才能设置选项对照表（%(name)s）") % {"name": name})
            continue
        column = ColumnSpec(
            field=name,
            header=header,
            type=kind,
            required=bool(item.get("required", False)),
            aliases=tuple(a.strip() for a in aliases if a.strip()),
            choices={k.strip(): v.strip() for k, v in choices.items()},
        )
        for text in column.headers:
            if text in headers_seen and headers_seen[text] != name:
                errors.append(
                    _("表头“%(header)s”同时指向字段“%(a)s”和“%(b)s”")
                    % {"header": text, "a": headers_seen[text], "b": name}
                )
            headers_seen[text] = name
        columns.append(column)
    if not errors:
        kinds = [c.type for c in columns]
        if kinds.count(ColumnType.ID_NUMBER) > 1:
            errors.append(_("每个数据源最多一个身份证号码列"))
        if kinds.count(ColumnType.DATE) == 0:
            errors.append(_("至少需要一个日期列（用于按时间窗口统计）"))
        if ColumnType.ID_NUMBER not in kinds and ColumnType.DIVISION not in kinds:
            errors.append(_("需要身份证号码列，或（按村上报的数据）村（社区）列"))
    if errors:
        raise ColumnsInvalid(errors)
    return columns


def event_date_field(columns: list[ColumnSpec]) -> str:
    """The date column windows are counted on: the first date column."""
    return next(c.field for c in columns if c.type == ColumnType.DATE)


def _c(
    field_name: str, header: str, kind: str, *, required: bool = False, aliases=(), choices=None
):
    return ColumnSpec(
        field=field_name,
        header=header,
        type=kind,
        required=required,
        aliases=tuple(aliases),
        choices=dict(choices or {}),
    )


_ID = _c(
    "id_number",
    "身份证号码",
    ColumnType.ID_NUMBER,
    required=True,
    aliases=("身份证号", "公民身份号码", "证件号码", "身份证件号码"),
)
_NAME = _c("name", "姓名", ColumnType.TEXT, aliases=("人员姓名", "参保人姓名"))
_VILLAGE = _c(
    "village",
    "所在村（社区）",
    ColumnType.DIVISION,
    aliases=("村（社区）", "所在村", "村社区", "行政村", "村社区代码", "行政区划代码"),
)


@dataclass(frozen=True)
class SourceDefinition:
    slug: str
    name: str
    department: str
    kind: str
    description: str
    columns: tuple[ColumnSpec, ...]


DEFAULT_SOURCES: tuple[SourceDefinition, ...] = (
    SourceDefinition(
        "medical",
        "医保局医疗费用结算数据",
        Department.MEDICAL_INSURANCE,
        FeedKind.MEDICAL,
        "医保局每月 5 日前推送的住院、门诊、门诊特殊疾病结算明细。",
        (
            _ID,
            _NAME,
            _c(
                "settled_on",
                "结算日期",
                ColumnType.DATE,
                required=True,
                aliases=("费用结算日期", "出院日期"),
            ),
            _c(
                "visit_type",
                "就诊类别",
                ColumnType.CHOICE,
                required=True,
                aliases=("医疗类别",),
                choices={
                    "住院": "inpatient",
                    "普通门诊": "outpatient",
                    "门诊": "outpatient",
                    "门诊特殊疾病": "special_outpatient",
                    "门特": "special_outpatient",
                    "门诊慢特病": "special_outpatient",
                },
            ),
            _c("total_cost", "医疗总费用", ColumnType.DECIMAL, aliases=("总费用", "医疗费用总额")),
            _c(
                "reimbursed",
                "报销金额",
                ColumnType.DECIMAL,
                aliases=("统筹支付金额", "基金支付金额"),
            ),
            _c(
                "out_of_pocket",
                "个人自付金额",
                ColumnType.DECIMAL,
                required=True,
                aliases=("个人自付", "自付金额", "个人负担金额"),
            ),
            _c("diagnosis", "主要诊断", ColumnType.TEXT, aliases=("诊断", "疾病名称")),
            _VILLAGE,
        ),
    ),
    SourceDefinition(
        "social-assistance",
        "民政局低保、特困、临时救助变动",
        Department.CIVIL_AFFAIRS,
        FeedKind.SOCIAL_ASSISTANCE,
        "民政局每月推送的低保、特困供养新增与退出及临时救助名单。",
        (
            _ID,
            _NAME,
            _c("changed_on", "变动日期", ColumnType.DATE, required=True, aliases=("审批日期",)),
            _c(
                "assistance_type",
                "救助类别",
                ColumnType.CHOICE,
                required=True,
                choices={
                    "低保": "dibao",
                    "最低生活保障": "dibao",
                    "特困": "tekun",
                    "特困供养": "tekun",
                    "特困人员": "tekun",
                    "临时救助": "temporary",
                },
            ),
            _c(
                "change_type",
                "变动类型",
                ColumnType.CHOICE,
                required=True,
                choices={
                    "新增": "granted",
                    "纳入": "granted",
                    "新纳入": "granted",
                    "退出": "revoked",
                    "停保": "revoked",
                    "取消": "revoked",
                    "调整": "adjusted",
                    "救助": "granted",
                },
            ),
            _c("amount", "救助金额", ColumnType.DECIMAL, aliases=("金额",)),
            _VILLAGE,
        ),
    ),
    SourceDefinition(
        "disability",
        "残联残疾人证办理数据",
        Department.DISABLED_FEDERATION,
        FeedKind.DISABILITY,
        "残联新办、换发的第二代残疾人证。",
        (
            _ID,
            _NAME,
            _c("issued_on", "发证日期", ColumnType.DATE, required=True, aliases=("办证日期",)),
            _c(
                "disability_grade",
                "残疾等级",
                ColumnType.CHOICE,
                required=True,
                choices={
                    "一级": "1",
                    "二级": "2",
                    "三级": "3",
                    "四级": "4",
                    "1级": "1",
                    "2级": "2",
                    "3级": "3",
                    "4级": "4",
                },
            ),
            _c("disability_type", "残疾类别", ColumnType.TEXT),
            _VILLAGE,
        ),
    ),
    SourceDefinition(
        "education",
        "教委学生学籍及辍学数据",
        Department.EDUCATION,
        FeedKind.EDUCATION,
        "教委推送的学籍变动、疑似辍学学生名单。",
        (
            _c(
                "id_number",
                "学生身份证号码",
                ColumnType.ID_NUMBER,
                required=True,
                aliases=("身份证号码", "身份证号", "证件号码"),
            ),
            _c("name", "学生姓名", ColumnType.TEXT, aliases=("姓名",)),
            _c("changed_on", "变动日期", ColumnType.DATE, required=True, aliases=("统计日期",)),
            _c("school", "学校名称", ColumnType.TEXT, aliases=("学校",)),
            _c(
                "stage",
                "学段",
                ColumnType.CHOICE,
                choices={
                    "学前": "preschool",
                    "小学": "primary",
                    "初中": "junior",
                    "高中": "senior",
                    "普通高中": "senior",
                    "中职": "secondary_vocational",
                    "高职": "higher_vocational",
                    "本科": "undergraduate",
                },
            ),
            _c(
                "status",
                "学籍状态",
                ColumnType.CHOICE,
                required=True,
                choices={
                    "在读": "enrolled",
                    "在校": "enrolled",
                    "辍学": "dropped_out",
                    "疑似辍学": "dropped_out",
                    "失学": "dropped_out",
                    "休学": "suspended",
                    "毕业": "graduated",
                    "转学": "transferred",
                },
            ),
            _c("out_of_pocket", "自付教育费用", ColumnType.DECIMAL),
            _VILLAGE,
        ),
    ),
    SourceDefinition(
        "housing",
        "住建委农村住房安全鉴定",
        Department.HOUSING,
        FeedKind.HOUSING,
        "住建委农村房屋安全性鉴定结果（A、B、C、D 级）。",
        (
            _c(
                "id_number",
                "户主身份证号码",
                ColumnType.ID_NUMBER,
                required=True,
                aliases=("身份证号码", "身份证号"),
            ),
            _c("name", "户主姓名", ColumnType.TEXT, aliases=("姓名",)),
            _c("appraised_on", "鉴定日期", ColumnType.DATE, required=True),
            _c(
                "grade",
                "鉴定等级",
                ColumnType.CHOICE,
                required=True,
                aliases=("安全等级",),
                choices={
                    "A": "A",
                    "A级": "A",
                    "B": "B",
                    "B级": "B",
                    "C": "C",
                    "C级": "C",
                    "D": "D",
                    "D级": "D",
                },
            ),
            _c("address", "房屋地址", ColumnType.TEXT),
            _VILLAGE,
        ),
    ),
    SourceDefinition(
        "employment",
        "人力社保局就业失业登记",
        Department.HUMAN_RESOURCES,
        FeedKind.EMPLOYMENT,
        "人力社保局就业登记、失业登记。",
        (
            _ID,
            _NAME,
            _c("registered_on", "登记日期", ColumnType.DATE, required=True),
            _c(
                "change_type",
                "登记类型",
                ColumnType.CHOICE,
                required=True,
                choices={
                    "就业登记": "employed",
                    "就业": "employed",
                    "失业登记": "unemployed",
                    "失业": "unemployed",
                },
            ),
            _c("employer", "用工单位", ColumnType.TEXT, aliases=("单位名称",)),
            _VILLAGE,
        ),
    ),
    SourceDefinition(
        "disaster",
        "应急局受灾人员及损失",
        Department.EMERGENCY,
        FeedKind.DISASTER,
        "应急局自然灾害受灾户核查数据。",
        (
            _c(
                "id_number",
                "户主身份证号码",
                ColumnType.ID_NUMBER,
                required=True,
                aliases=("身份证号码", "身份证号"),
            ),
            _c("name", "户主姓名", ColumnType.TEXT, aliases=("姓名",)),
            _c("occurred_on", "受灾日期", ColumnType.DATE, required=True),
            _c(
                "disaster_type",
                "灾种",
                ColumnType.CHOICE,
                required=True,
                choices={
                    "洪涝": "flood",
                    "地质灾害": "geological",
                    "干旱": "drought",
                    "风雹": "hail",
                    "地震": "earthquake",
                    "低温冷冻": "frost",
                    "其他": "other",
                },
            ),
            _c(
                "loss_amount",
                "直接经济损失（元）",
                ColumnType.DECIMAL,
                required=True,
                aliases=("直接经济损失", "损失金额"),
            ),
            _c(
                "house_damage",
                "房屋受损情况",
                ColumnType.CHOICE,
                choices={
                    "无": "none",
                    "一般损坏": "damaged",
                    "严重损坏": "severe",
                    "倒塌": "collapsed",
                },
            ),
            _VILLAGE,
        ),
    ),
    SourceDefinition(
        "civil-registration",
        "公安局户籍变动",
        Department.PUBLIC_SECURITY,
        FeedKind.CIVIL_REGISTRATION,
        "公安局户籍人口死亡、出生、迁入、迁出登记。",
        (
            _ID,
            _NAME,
            _c("changed_on", "变动日期", ColumnType.DATE, required=True, aliases=("登记日期",)),
            _c(
                "change_type",
                "变动类型",
                ColumnType.CHOICE,
                required=True,
                choices={
                    "死亡": "death",
                    "死亡注销": "death",
                    "出生": "birth",
                    "出生登记": "birth",
                    "迁入": "move_in",
                    "迁出": "move_out",
                },
            ),
            _VILLAGE,
        ),
    ),
    SourceDefinition(
        "illness",
        "卫健委重大疾病诊断",
        Department.HEALTH,
        FeedKind.ILLNESS,
        "卫健委推送的新确诊大病、重病患者。",
        (
            _ID,
            _NAME,
            _c("diagnosed_on", "确诊日期", ColumnType.DATE, required=True),
            _c("disease", "病种", ColumnType.TEXT, required=True, aliases=("疾病名称",)),
            _c("hospital", "确诊医院", ColumnType.TEXT),
            _VILLAGE,
        ),
    ),
    SourceDefinition(
        "water",
        "水利局农村供水中断",
        Department.WATER,
        FeedKind.WATER,
        "水利局按村上报的农村集中供水工程停水情况。",
        (
            _c(
                "village",
                "村（社区）",
                ColumnType.DIVISION,
                required=True,
                aliases=("所在村（社区）", "行政村", "村社区代码", "行政区划代码"),
            ),
            _c("started_on", "停水日期", ColumnType.DATE, required=True),
            _c("outage_days", "停水天数", ColumnType.INTEGER, required=True),
            _c("households_affected", "影响户数", ColumnType.INTEGER),
            _c("cause", "停水原因", ColumnType.TEXT),
        ),
    ),
)

DEFAULT_SOURCE_SLUGS = tuple(s.slug for s in DEFAULT_SOURCES)
