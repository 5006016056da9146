"""Enumerations of the screening app; labels are what county staff read."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class FeedKind(models.TextChoices):
    MEDICAL = "medical", _("医疗费用结算")
    SOCIAL_ASSISTANCE = "social_assistance", _("低保、特困、临时救助变动")
    DISABILITY = "disability", _("残疾人证办理")
    EDUCATION = "education", _("学生学籍及辍学")
    HOUSING = "housing", _("农村住房安全鉴定")
    EMPLOYMENT = "employment", _("就业失业登记")
    DISASTER = "disaster", _("受灾人员及损失")
    CIVIL_REGISTRATION = "civil_registration", _("户籍变动（死亡、出生、迁移）")
    ILLNESS = "illness", _("重大疾病诊断")
    WATER = "water", _("农村供水中断")
    OTHER = "other", _("其他")


class ColumnType(models.TextChoices):
    ID_NUMBER = "id_number", _("身份证号码")
    TEXT = "text", _("文本")
    DATE = "date", _("日期")
    DECIMAL = "decimal", _("金额/数值")
    INTEGER = "integer", _("整数")
    CHOICE = "choice", _("选项")
    DIVISION = "division", _("村（社区）")


class BatchStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("导入中")
    STAGED = "staged", _("已入库")
    FAILED = "failed", _("失败")


class AggregateFunction(models.TextChoices):
    SUM = "sum", _("合计")
    COUNT = "count", _("条数")
    MAX = "max", _("最大值")
    MIN = "min", _("最小值")
    LATEST = "latest", _("最新值")


class Per(models.TextChoices):
    PERSON = "person", _("按人")
    HOUSEHOLD = "household", _("按户")
    VILLAGE = "village", _("按村（村内各户）")


class Comparison(models.TextChoices):
    GT = "gt", _("大于")
    GE = "ge", _("大于等于")
    LT = "lt", _("小于")
    LE = "le", _("小于等于")
    EQ = "eq", _("等于")


class ConditionOp(models.TextChoices):
    EQ = "eq", _("等于")
    NE = "ne", _("不等于")
    IN = "in", _("属于")
    NOT_IN = "not_in", _("不属于")
    GT = "gt", _("大于")
    GE = "ge", _("大于等于")
    LT = "lt", _("小于")
    LE = "le", _("小于等于")


class Population(models.TextChoices):
    MONITORED = "monitored", _("监测对象（风险未消除）")
    RISK_ELIMINATED = "risk_eliminated", _("风险已消除的监测对象")
    POVERTY_EXITED = "poverty_exited", _("脱贫户（未纳入监测）")
    ORDINARY = "ordinary", _("在册一般农户")
    UNREGISTERED = "unregistered", _("未在册的农村居民")


#: Populations that live in the registry (the threshold for "registered" applies to them).
REGISTERED_POPULATIONS = frozenset(
    {
        Population.MONITORED,
        Population.RISK_ELIMINATED,
        Population.POVERTY_EXITED,
        Population.ORDINARY,
    }
)


class Severity(models.TextChoices):
    HIGH = "high", _("高")
    MEDIUM = "medium", _("中")
    LOW = "low", _("低")


class Engine(models.TextChoices):
    DUCKDB = "duckdb", _("DuckDB（内嵌）")
    SPARK = "spark", _("Spark")


class RunStatus(models.TextChoices):
    QUEUED = "queued", _("排队中")
    RUNNING = "running", _("运行中")
    SUCCEEDED = "succeeded", _("已完成")
    FAILED = "failed", _("失败")


class RunTrigger(models.TextChoices):
    PAGE = "page", _("页面")
    COMMAND = "command", _("命令行")
    SCHEDULE = "schedule", _("每月定时")
    API = "api", _("接口")
    PREVIEW = "preview", _("规则预览")


class AlertStatus(models.TextChoices):
    OPEN = "open", _("待处理")
    ASSIGNED = "assigned", _("已交办入户核实")
    LEAD_OPENED = "lead_opened", _("已转为线索")
    DISMISSED = "dismissed", _("已排除")
